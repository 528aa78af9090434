"""Convert each resource's properties once per request, not once per policy.

The policy SDK (pulumi_policy 1.21, ``_PolicyAnalyzerServicer``) converts a
resource inside its loop over the policies: for every policy, ``Analyze`` and
``AnalyzeStack`` turn the same protobuf message into a dict
(``json_format.MessageToDict``), deserialize it and wrap it in an
unknown-checking proxy, read its options into a ``PolicyResourceOptions``, and
do the same for the resource's provider. With this
pack's 43 policies that is the pack's main cost: at 100 services a stack
analysis converted 1,053 resources once per stack policy, and every ``Analyze``
once per resource policy.

``install()`` keeps, for the duration of one request on one server thread,
the result of each conversion by the identity of what was converted: the same
message gives the same dict, deserialized and proxied once, and the same
options and provider objects (policies read them, none writes them). Measured
on the 100-service stack of ``benchmarks/plan_scale.py`` (1,053 resources, 18
stack policies), caching the options and provider too took AnalyzeStack from
1.09 s to 0.91 s (medians of 5, in one process); the rest of its time is the
SDK's own loop, which rebuilds every resource's ``PolicyResource`` for each
stack policy. Nothing else
changes: the SDK's own functions do the converting, the requests are the ones
the CLI sends, and the policies see equal values (a test holds every verdict
on the committed plans equal with and without it). Entries hold their key
object, so an id is never reused while cached, and the cache is dropped when
the request ends. With another SDK version whose servicer or functions are not
where 1.21 has them, ``install`` changes nothing and says why.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_local = threading.local()
# The servicer's methods that read a resource message's options and provider.
READERS = ("_get_resource_options", "_get_provider_resource")


def _once_per_request(convert: Callable[..., Any], position: int = 0) -> Callable[..., Any]:
    """``convert`` computed once per request for the object at ``position`` (1 for a method's argument)."""

    @functools.wraps(convert)
    def cached(*args: Any) -> Any:
        cache = getattr(_local, "cache", None)
        if cache is None:
            return convert(*args)
        value = args[position]
        key = (convert, id(value), args[:position] + args[position + 1:])
        hit = cache.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        result = convert(*args)
        cache[key] = (value, result)
        return result

    return cached


def _request_scoped(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def scoped(self: Any, request: Any, context: Any) -> Any:
        _local.cache = {}
        try:
            return handler(self, request, context)
        finally:
            _local.cache = None

    return scoped


class _JsonFormat:
    """``google.protobuf.json_format`` as the SDK's module sees it, with ``MessageToDict`` once per message."""

    def __init__(self, module: Any):
        self._module = module
        self.MessageToDict = _once_per_request(module.MessageToDict)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def install() -> str | None:
    """Cache the SDK's conversions per request; None when installed, else why not (the SDK then runs as is)."""
    from pulumi_policy import policy

    servicer = getattr(policy, "_PolicyAnalyzerServicer", None)
    names = ("json_format", "deserialize_properties", "unknown_checking_proxy")
    if servicer is None or not all(hasattr(policy, name) for name in names) or \
            not all(callable(getattr(servicer, method, None)) for method in ("Analyze", "AnalyzeStack", *READERS)):
        return "the policy SDK's servicer is not where pulumi_policy 1.21 has it"
    if isinstance(policy.json_format, _JsonFormat):
        return None
    policy.json_format = _JsonFormat(policy.json_format)
    policy.deserialize_properties = _once_per_request(policy.deserialize_properties)
    policy.unknown_checking_proxy = _once_per_request(policy.unknown_checking_proxy)
    for reader in READERS:
        setattr(servicer, reader, _once_per_request(getattr(servicer, reader), position=1))
    for handler in ("Analyze", "AnalyzeStack"):
        setattr(servicer, handler, _request_scoped(getattr(servicer, handler)))
    return None
