"""Container image references: the machine layer deploys pinned versions only.

A deploy is a new container version (design doc 000), so an image must name
one: ``repo:tag`` with a tag other than ``latest``, or ``repo@sha256:<digest>``.
"""

from __future__ import annotations

import re

# registry[:port]/path... with lowercase path components, as Docker defines them.
_NAME = r"(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"sha256:[0-9a-f]{64}"
IMAGE_REFERENCE = re.compile(rf"^(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")

EXAMPLE = "public.ecr.aws/nginx/nginx:1.27.2"


def pinned_image_problem(reference: str) -> str | None:
    """Why ``reference`` is not a pinned image, or None when it is."""
    match = IMAGE_REFERENCE.match(reference)
    if not match:
        return f"{reference!r} is not a valid image reference"
    if match["digest"]:
        return None
    tag = match["tag"]
    if tag is None:
        return f"{reference!r} has no tag, so every deploy could run a different version"
    if tag == "latest":
        return f"{reference!r} uses the 'latest' tag, which does not name a version"
    return None
