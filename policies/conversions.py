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

``install()`` changes that:

- ``AnalyzeStack`` builds the stack's resources once per request
  (``_stack_resources``, mirroring the SDK's loop and calling its functions)
  and hands that one list to every stack policy: the SDK's own handler runs as
  before, for enforcement levels, configuration and errors, on a request whose
  resource list is empty, so its per-policy loop builds nothing, and the
  ``StackValidationArgs`` it makes for each policy carry the built list;
- in ``Analyze``, each conversion and each options or provider read is kept,
  for the duration of the request on its server thread, by the identity of
  what was read: the same message gives the same dict, deserialized and
  proxied once, and the same options and provider objects. Entries hold their
  key object, so an id is never reused while cached, and the cache is dropped
  when the request ends.

Policies share what they are given: they read resources, none writes them.
The requests are the ones the CLI sends, and the policies see equal values. A
test holds every verdict on the committed plans, broken on purpose, equal with
and without it. Measured in one process on the 500-service stack of
``benchmarks/plan_scale.py`` (3,585 resources), AnalyzeStack took 0.53 s
against 2.23 s with each conversion cached but the resources built per policy
(and longer still without either); what is left is converting each resource
once, the policies themselves about 0.12 s. With another SDK version whose
servicer or functions are not where 1.21 has them, ``install`` changes nothing
and says why.
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


def _stack_resources(servicer: Any, request: Any) -> list[Any]:
    """The stack's resources as the SDK's AnalyzeStack builds them for each stack policy, built once.

    This mirrors the loop inside ``_PolicyAnalyzerServicer.AnalyzeStack`` (pulumi_policy 1.21): each resource
    converted as ``Analyze`` converts it, then its parent, dependencies and property dependencies linked to the
    resources of the request by URN, those naming a resource outside the request left out. The SDK's own
    functions do the converting and the constructing, so any change in them reaches these objects too.
    """
    from pulumi_policy import policy

    by_urn: dict[str, Any] = {}
    links = []
    for message in request.resources:
        props = policy.unknown_checking_proxy(policy.deserialize_properties(
            policy.json_format.MessageToDict(message.properties)))
        resource = policy.PolicyResource(message.type, props, message.urn, message.name,
                                         servicer._get_resource_options(message),
                                         servicer._get_provider_resource(message), None, [], {})
        by_urn[message.urn] = resource
        links.append((resource, message.parent, list(message.dependencies),
                      {key: list(value.urns) for key, value in message.propertyDependencies.items()}))
    for resource, parent, dependencies, property_dependencies in links:
        if parent in by_urn:
            resource.parent = by_urn[parent]
        resource.dependencies.extend(by_urn[urn] for urn in dependencies if urn in by_urn)
        for key, urns in property_dependencies.items():
            resource.property_dependencies[key] = [by_urn[urn] for urn in urns if urn in by_urn]
    return [resource for resource, *_ in links]


class _ResourcesBuilt:
    """An AnalyzeStackRequest whose resources are already built: the SDK's per-policy loop gets none to build.

    Everything else the SDK reads from the request comes from the message.
    """

    __slots__ = ("_message", "resources")

    def __init__(self, message: Any):
        self._message = message
        self.resources = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._message, name)


def _stack_validation_args(build: Callable[..., Any]) -> Callable[..., Any]:
    """``StackValidationArgs`` as the SDK's module calls it, given the request's resources built once."""

    @functools.wraps(build)
    def args(resources: Any, *rest: Any) -> Any:
        built = getattr(_local, "stack_resources", None)
        return build(resources if built is None else built, *rest)

    return args


def _analyze_stack_once(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def analyze_stack(self: Any, request: Any, context: Any) -> Any:
        _local.stack_resources = _stack_resources(self, request)
        try:
            return handler(self, _ResourcesBuilt(request), context)
        finally:
            _local.stack_resources = None

    return analyze_stack


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
    names = ("json_format", "deserialize_properties", "unknown_checking_proxy", "PolicyResource",
             "StackValidationArgs")
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
    policy.StackValidationArgs = _stack_validation_args(policy.StackValidationArgs)
    servicer.AnalyzeStack = _analyze_stack_once(servicer.AnalyzeStack)
    return None
