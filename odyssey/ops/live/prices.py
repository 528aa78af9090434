"""``odyssey cost --refresh-prices``: rewrite a region of the pinned price table from the AWS Price List API.

The call is thin on purpose: ``get_products`` through its paginator, against
the Price List endpoint in us-east-1 (it serves every region's prices), and
everything else in pure functions (``odyssey.domain.price_list``). moto does
not implement ``pricing`` and no AWS account is reachable from the build
machines, so this module is verified only offline: the parsing against
products in the API's documented shape, the missing-credentials path against a
real boto3 client. Figures the API does not return keep their pinned value.
The AmazonES product families and usage types it asks for were seen in
third-party code only; a first refresh with credentials will tell.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from odyssey.domain.cost import PRICES_FILE, PriceTableError, price_tables
from odyssey.domain.log_search import INSTANCE_TYPES as SEARCH_INSTANCE_TYPES
from odyssey.domain.price_list import Query, pick, price_entry, queries
from odyssey.ops.live.aws_ops import CLIENT_CONFIG, explain

PRICE_LIST_REGION = "us-east-1"  # the Price List API's endpoint (it also runs in ap-south-1 and eu-central-1)


class PriceRefreshError(Exception):
    """The Price List API could not be read; the message says why and what to do."""


def pricing_client(session: boto3.Session | None = None) -> Any:
    return (session or boto3.Session()).client("pricing", region_name=PRICE_LIST_REGION, config=CLIENT_CONFIG)


def products(client: Any, query: Query, region: str) -> list[str]:
    """Every product ``query`` matches in ``region``, as the API returns them (JSON strings)."""
    found: list[str] = []
    for page in client.get_paginator("get_products").paginate(**query.request(region)):
        found.extend(page.get("PriceList") or ())
    return found


def refresh_region(region: str, path: Path = PRICES_FILE, client: Any = None,
                   today: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """Read the Price List for ``region`` and write its figures into ``path``; returns the entries written."""
    document = json.loads(path.read_text())
    try:
        tables = price_tables(document)
    except PriceTableError as error:
        raise PriceRefreshError(str(error)) from None
    template = tables.get(region) or tables.get(PRICE_LIST_REGION)
    kinds = [key.removeprefix("ec2.instance.") for key in (template.prices if template else {})
             if key.startswith("ec2.instance.")]
    read_on = (today or dt.date.today()).isoformat()
    client = client or pricing_client()
    written = {}
    fetched: dict[str, list[str]] = {}  # by request: the OpenSearch instance queries share one
    for query in queries(kinds, SEARCH_INSTANCE_TYPES):
        request = json.dumps(query.request(region), sort_keys=True)
        try:
            if request not in fetched:
                fetched[request] = products(client, query, region)
        except (BotoCoreError, ClientError) as error:
            raise PriceRefreshError(str(explain(error, f"reading {query.key} from the AWS Price List API"))) from None
        figure = pick(query, fetched[request])
        if figure is not None:
            written[query.key] = price_entry(query, figure, read_on)
    if not written:
        raise PriceRefreshError(f"the AWS Price List returned none of the prices for {region}; is it a region?")
    body = document.setdefault("regions", {}).setdefault(region, {"prices": {}})
    body["date"] = read_on
    body.setdefault("prices", {}).update(written)
    not_found = body.get("notFound") or {}
    for key in list(not_found):  # "opensearch.instance.*" is found once any of its keys is
        if key in written or (key.endswith(".*") and any(k.startswith(key[:-1]) for k in written)):
            del not_found[key]
    path.write_text(json.dumps(document, indent=2) + "\n")
    return written
