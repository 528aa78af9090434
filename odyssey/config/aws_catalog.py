"""The regions and EC2 instance types that exist, from the data botocore ships (no network, no account).

Regions are those of botocore's endpoint partitions (``endpoints.json``: aws,
aws-cn, aws-us-gov, the isolated ones); instance types are the ``InstanceType``
enum of the EC2 service model. A name outside them fails at deploy time, after
other resources were made, so it is refused here with the nearest real name.
Both lists are as new as the installed botocore (pinned in requirements.lock).
"""

from __future__ import annotations

import difflib
import gzip
import json
from collections.abc import Collection
from functools import cache
from pathlib import Path

import botocore
from botocore.loaders import Loader

EC2_MODEL_SHAPE = '"InstanceType":{'


@cache
def regions() -> frozenset[str]:
    endpoints = Loader().load_data("endpoints")
    return frozenset(region for partition in endpoints["partitions"] for region in partition["regions"])


@cache
def instance_types() -> frozenset[str]:
    """The EC2 model's ``InstanceType`` enum.

    The whole model takes about a second to load; the file is scanned for the
    shape and only that object is decoded (a quarter of the time).
    """
    loader = Loader()
    version = loader.determine_latest_version("ec2", "service-2")
    path = Path(botocore.__file__).parent / "data" / "ec2" / version / "service-2.json.gz"
    text = gzip.decompress(path.read_bytes()).decode()
    decoder = json.JSONDecoder()
    start = text.find(EC2_MODEL_SHAPE)
    while start != -1:
        shape, _ = decoder.raw_decode(text, start + len(EC2_MODEL_SHAPE) - 1)
        if "enum" in shape:
            return frozenset(shape["enum"])
        start = text.find(EC2_MODEL_SHAPE, start + 1)
    raise LookupError(f"no InstanceType enum in {path}")


def unknown_name_problem(value: str, known: Collection[str], what: str) -> str | None:
    """Why ``value`` is not among ``known`` (with the nearest names), or None when it is."""
    if value in known:
        return None
    nearest = difflib.get_close_matches(value, sorted(known), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(nearest)}?" if nearest else ""
    return f"{value!r} is not {what} (botocore's list of them){hint}"
