"""Read and convert each resource once per request, not once per policy.

The policy SDK (pulumi_policy 1.21, ``_PolicyAnalyzerServicer``) does its
per-resource work inside its loop over the policies. For every policy,
``Analyze`` and ``AnalyzeStack`` turn the same protobuf message into a dict
(``json_format.MessageToDict``), deserialize it, wrap it in an unknown-checking
proxy, read its options into a ``PolicyResourceOptions`` and do the same for
its provider; ``AnalyzeStack`` also reads every resource's fields again (each
read of a protobuf field makes a new Python object). With this pack's 43
policies, 18 of them stack policies, that was the pack's main cost: at 100
services a stack analysis handled 1,053 resources 18 times over.

``install()`` changes that, for the duration of one request on one server
thread:

- each conversion and each options or provider read is kept by the identity of
  what was read: the same message gives the same dict, deserialized and proxied
  once, and the same options and provider objects (policies read them, none
  writes them). Entries hold their key object, so an id is never reused while
  cached, and the cache is dropped when the request ends;
- ``AnalyzeStack`` gets the request with each resource's fields read once
  (``_StackRequest``); any field it does not hold comes from the message.

Nothing else changes: the SDK's own functions do the converting and build the
``PolicyResource`` objects, the requests are the ones the CLI sends, and the
policies see equal values. A test holds every verdict on the committed plans,
broken on purpose, equal with and without it. Measured in one process on the
100-service stack of ``benchmarks/plan_scale.py`` (medians of 5), AnalyzeStack
took 0.54 s installed against 1.97 s without; of the 0.54 s the SDK's own loop
(a new ``PolicyResource`` per resource per stack policy) is most, the policies
themselves under 0.1 s. With another SDK version whose servicer or functions
are not where 1.21 has them, ``install`` changes nothing and says why.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

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


def _request_scoped(handler: Callable[..., Any], read: Callable[[Any], Any] = lambda request: request
                    ) -> Callable[..., Any]:
    @functools.wraps(handler)
    def scoped(self: Any, request: Any, context: Any) -> Any:
        _local.cache = {}
        try:
            return handler(self, read(request), context)
        finally:
            _local.cache = None

    return scoped


class _Fields:
    """A message whose fields the SDK reads for every stack policy, read once.

    Each read of a protobuf field makes a new Python object; AnalyzeStack reads
    these for every resource once per stack policy. Any other attribute (the
    options and the provider, read once per request through the cached readers,
    or what another SDK version reads) comes from the message itself.
    """

    __slots__ = ("_message", "type", "urn", "name", "parent", "properties", "dependencies", "propertyDependencies")

    def __init__(self, message: Any):
        self._message = message
        self.type, self.urn, self.name, self.parent = message.type, message.urn, message.name, message.parent
        self.properties = message.properties
        self.dependencies = list(message.dependencies)
        self.propertyDependencies = {key: _Urns(list(value.urns)) for key, value in message.propertyDependencies.items()}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._message, name)


class _Urns(NamedTuple):
    """A PropertyDependencies message: the one field it has, read once."""

    urns: list[str]


class _StackRequest:
    """An AnalyzeStackRequest whose resources are read once (``_Fields``)."""

    __slots__ = ("_message", "resources")

    def __init__(self, message: Any):
        self._message = message
        self.resources = [_Fields(resource) for resource in message.resources]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._message, name)


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
    servicer.Analyze = _request_scoped(servicer.Analyze)
    servicer.AnalyzeStack = _request_scoped(servicer.AnalyzeStack, read=_StackRequest)
    return None
