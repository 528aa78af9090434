"""What AWS accepts as a tag, checked before a deploy finds out half-way.

The provider's default tags reach every resource, so one value that IAM or
Elastic Load Balancing refuses fails the deploy at the first role or target
group, after other resources were created.

Sources:
- "Tag naming limits and requirements" (Tagging AWS Resources and Tag Editor user guide,
  https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html): at most 50 tags per resource; keys up
  to 128 and values up to 256 Unicode characters; ``aws:`` (any case) reserved as a prefix of keys and values.
- Tag, IAM API Reference (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html) and Tag, Elastic
  Load Balancing API Reference (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Tag.html):
  values match ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`` (letters, spaces, digits and ``_ . : / = + - @``), the pattern
  botocore's models of both services carry.
"""

from __future__ import annotations

import unicodedata

TAG_KEY_LENGTH_MAX = 128
TAG_VALUE_LENGTH_MAX = 256
TAGS_PER_RESOURCE_MAX = 50
RESERVED_PREFIX = "aws:"
TAG_SYMBOLS = "_.:/=+-@"
# Unicode categories \p{L} (letters), \p{Z} (separators, spaces among them) and \p{N} (numbers).
TAG_CATEGORIES = ("L", "Z", "N")


def _allowed(character: str) -> bool:
    return character in TAG_SYMBOLS or unicodedata.category(character)[0] in TAG_CATEGORIES


def tag_value_problem(value: str) -> str | None:
    """Why IAM or ELB would refuse ``value`` as a tag value, or None."""
    bad = sorted({c for c in value if not _allowed(c)})
    if bad:
        return (f"{value!r} has {', '.join(map(repr, bad))}, which AWS refuses in tag values (IAM and Elastic Load "
                f"Balancing allow letters, digits, spaces and {' '.join(TAG_SYMBOLS)})")
    if len(value) > TAG_VALUE_LENGTH_MAX:
        return f"is {len(value)} characters; a tag value has at most {TAG_VALUE_LENGTH_MAX}"
    if value.lower().startswith(RESERVED_PREFIX):
        return f"{value!r} starts with {RESERVED_PREFIX!r}, a prefix AWS reserves for its own tags"
    return None
