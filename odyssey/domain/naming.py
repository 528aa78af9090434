"""AWS resource names that fit AWS limits and stay unique and stable.

Load balancers and target groups allow 32 characters of letters, digits and
hyphens, and must not begin or end with a hyphen. Names derived from a stack and
a service can exceed that, so a long name is cut and given a short hash of the
full name: two different long names still get different short ones, and the
same inputs always give the same name (a new name would replace the resource).
"""

from __future__ import annotations

import hashlib
import re

ALB_NAME_MAX = 32
HASH_LENGTH = 6

_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")


def _clean(text: str) -> str:
    return _HYPHENS.sub("-", _NOT_ALLOWED.sub("-", text.lower())).strip("-")


def aws_name(*parts: str, max_length: int = ALB_NAME_MAX) -> str:
    """Join ``parts`` into a name of at most ``max_length`` characters.

    Characters outside ``[a-z0-9-]`` become hyphens. When the cleaned name is
    too long it is truncated and suffixed with ``-`` and a hash of the whole
    cleaned name, so truncation never makes two names collide by accident.
    """
    if max_length < HASH_LENGTH + 2:
        raise ValueError(f"max_length must be at least {HASH_LENGTH + 2}, got {max_length}")
    full = _clean("-".join(parts))
    if not full:
        raise ValueError(f"no usable characters in name parts {parts!r}")
    if len(full) <= max_length:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:HASH_LENGTH]
    head = full[: max_length - HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{digest}"
