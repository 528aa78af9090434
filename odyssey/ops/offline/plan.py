"""The offline plan: run the real Pulumi program under Pulumi's mock runtime and record what it registers.

No Pulumi CLI, provider plugin or AWS account is involved. The stack's config
comes from ``Pulumi.<stack>.yaml`` and reaches the program the way the CLI
passes it (flat ``namespace:key`` strings, JSON for structured values). A
``MockMonitor`` subclass records every registration as the engine would see
it: type, name, URN, parent, provider, inputs in engine camelCase (numbers as
floats), dependencies, property dependencies and resource options.

For a stack that runs on another stack's cluster, the owner is planned first
and its outputs answer the StackReference.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import runpy
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from odyssey.config.base import ConfigError
from odyssey.config.checks import cluster_stack_problems
from odyssey.config.stack import NAMESPACE, REGION_KEY
from odyssey.config.stack_file import read_stack_file
from odyssey.ops.offline.mock_cloud import MockCloud
from odyssey.ops.offline.plan_diff import engine_urn

DEFAULT_ORGANIZATION = "organization"  # what the CLI uses for self-managed (file://, s3://) backends


class PlanError(Exception):
    """The plan could not run: a missing stack file, or an error the program raised."""


@dataclass(frozen=True)
class StackFiles:
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str]

    @property
    def region(self) -> str:
        return self.config.get(REGION_KEY, "")


def _config_string(value: Any) -> str:
    # The CLI passes booleans and numbers as their YAML text and structures as JSON.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def stacks_in(project_dir: Path) -> list[str]:
    """The stacks with a stack file in ``project_dir``."""
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in project_dir.glob("Pulumi.*.yaml"))


def read_stack_files(project_dir: Path, stack: str) -> StackFiles:
    project_file = project_dir / "Pulumi.yaml"
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not project_file.exists():
        raise PlanError(f"{project_file} not found: run the plan from the Odyssey project directory")
    if not stack_file.exists():
        raise PlanError(f"no stack file {stack_file.name}; stacks here: {', '.join(stacks_in(project_dir)) or 'none'}")
    project_settings = yaml.safe_load(project_file.read_text())
    project = project_settings["name"]
    # Like the CLI: the project's declared defaults, overridden by the stack file.
    declared = {
        key: spec["default"]
        for key, spec in (project_settings.get("config") or {}).items()
        if isinstance(spec, dict) and "default" in spec
    }
    raw = {**declared, **read_stack_file(stack_file)}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted with the stack's secrets provider; the plan cannot decrypt it.
            value = "offline-plan-secret"
            secret_keys.append(full_key)
        config[full_key] = _config_string(value)
    return StackFiles(project=project, stack=stack, config=config, secret_keys=secret_keys)


# The event loops the SDK's mock monitor makes in the executor threads that run registrations and invokes
# (one per thread, never closed by the SDK); close_event_loop closes them with the main loop.
_worker_loops: set[asyncio.AbstractEventLoop] = set()


def _keep_worker_loop() -> None:
    try:
        _worker_loops.add(asyncio.get_event_loop())
    except RuntimeError:
        pass  # the call made none in this thread


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps what the engine is told about each resource.

    ``MockResourceArgs`` carries no parent, dependencies or options, so the
    request itself is recorded here.
    """

    mocks: MockCloud

    def __init__(self, mocks: MockCloud):
        super().__init__(mocks)
        self.records: list[dict[str, Any]] = []
        # Called with each record, and the properties exactly as the SDK sent them, as it is made
        # (the policy gate analyzes while the program registers, as the engine does).
        self.listeners: list[Callable[[dict[str, Any], Any], None]] = []

    def _keep(self, record: dict[str, Any], properties: Any) -> None:
        self.records.append(record)
        for listener in self.listeners:
            listener(record, properties)

    def Invoke(self, request):
        response = super().Invoke(request)
        _keep_worker_loop()
        return response

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine builds it: the parent's whole type chain before the type, and no root stack
        # (MockMonitor keeps only the parent's last type, and keeps the stack).
        return engine_urn(pulumi.get_stack(), pulumi.get_project(), parent or None, type_, name)

    def RegisterResource(self, request):
        # A resource renamed with an alias is the deployed resource under a new name: it keeps its physical name.
        previous = next((a.spec.name for a in request.aliases if a.HasField("spec") and a.spec.name), None)
        if previous:
            self.mocks.previous_names[(request.type, request.name)] = previous
        response = super().RegisterResource(request)
        _keep_worker_loop()
        if request.type != "pulumi:pulumi:Stack":
            self._keep(self._record(request, response.urn, read=False), request.object)
        return response

    def ReadResource(self, request):
        response = super().ReadResource(request)
        _keep_worker_loop()
        self._keep(self._record(request, response.urn, read=True), request.properties)
        return response

    @staticmethod
    def _record(request, urn: str, read: bool) -> dict[str, Any]:
        properties = request.properties if read else request.object
        record: dict[str, Any] = {
            "urn": urn,
            "type": request.type,
            "name": request.name,
            "parent": request.parent or None,
            "custom": True if read else request.custom,
            "provider": request.provider or None,
            "inputs": json_format.MessageToDict(properties),
            # The SDK collects dependencies in sets; sorted, plans are reproducible.
            "dependencies": sorted(request.dependencies),
        }
        if read:
            record.update(read=True, id=request.id, propertyDependencies={})
            return record
        record.update(
            propertyDependencies={k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items())},
            protect=request.protect if request.HasField("protect") else False,
            retainOnDelete=request.retainOnDelete if request.HasField("retainOnDelete") else False,
            deleteBeforeReplace=request.deleteBeforeReplace,
            deleteBeforeReplaceDefined=request.deleteBeforeReplaceDefined,
            ignoreChanges=list(request.ignoreChanges),
            replaceOnChanges=list(request.replaceOnChanges),
            aliases=[json_format.MessageToDict(a) for a in request.aliases] + list(request.aliasURNs),
            additionalSecretOutputs=list(request.additionalSecretOutputs),
            remote=request.remote,
            providers=dict(request.providers),
        )
        return record


@dataclass
class Plan:
    project: str
    stack: str
    organization: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    # The outputs that answered the stack's StackReferences, by stack name (not part of the plan's JSON).
    references: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "project": self.project,
            "organization": self.organization,
            "resources": self.resources,
            "outputs": self.outputs,
            "warnings": self.warnings,
            "assumptions": self.assumptions,
        }


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _existing_vpc_id(files: StackFiles) -> str | None:
    try:
        network = json.loads(files.config.get(f"{NAMESPACE}:network", "{}"))
        return network.get("existing", {}).get("vpcId")
    except (json.JSONDecodeError, AttributeError):
        return None  # the program reports the malformed config


def owner_of(files: StackFiles) -> str | None:
    """The fully qualified stack (org/project/stack) whose cluster ``files``' stack runs on; None: it owns one."""
    value = files.config.get(f"{NAMESPACE}:clusterStack")
    if value is None:
        return None
    try:
        return str(json.loads(value))
    except json.JSONDecodeError:
        return value


def run_plan(
    project_dir: Path,
    stack: str,
    organization: str = DEFAULT_ORGANIZATION,
    files: StackFiles | None = None,
    on_monitor: Callable[[RecordingMonitor], None] | None = None,
    references: dict[str, dict[str, Any]] | None = None,
) -> Plan:
    """Plan ``stack`` offline; plan its cluster's owning stack first when it references one.

    ``files`` replaces the stack's files (tests plan configs that are not
    committed); ``on_monitor`` receives the recording monitor before the program
    runs, so a caller can see what registered even when the program fails;
    ``references`` holds the outputs of stacks already planned, by full name
    (org/project/stack): an owner found there is not planned again.
    """
    project_dir = project_dir.resolve()
    files = files or read_stack_files(project_dir, stack)
    stack_outputs: dict[str, dict[str, Any]] = {}
    owner = owner_of(files)
    if owner is not None and references and owner in references:
        stack_outputs[owner] = references[owner]
    elif owner is not None:
        parts = owner.split("/")
        # An owner of another project, or this stack itself, is the program's to report, with the other problems.
        if len(parts) == 3 and parts[1] == files.project and parts[2] != stack:
            problems = cluster_stack_problems(owner, stack, files.project, stacks_in(project_dir))
            if problems:
                raise ConfigError(problems)
            try:
                owner_plan = run_plan(project_dir, parts[2], organization=parts[0])
            except PlanError as error:
                raise PlanError(f"{NAMESPACE}:clusterStack: the owning stack {owner} cannot be planned offline: {error}") from None
            stack_outputs[owner] = owner_plan.outputs
    mocks = MockCloud(files.region or "us-east-1", stack_outputs=stack_outputs,
                      existing_vpc_id=_existing_vpc_id(files))
    monitor = RecordingMonitor(mocks)
    if on_monitor is not None:
        on_monitor(monitor)
    plan = _run_program(project_dir, files, organization, mocks, monitor)
    plan.references = stack_outputs
    return plan


def close_event_loop() -> None:
    """Close the event loops the Pulumi SDK ran the program on, with the tasks a failed program left pending.

    Left open, a loop is collected at interpreter exit, possibly after its
    self-pipe sockets, and Python prints "Exception ignored in:
    BaseEventLoop.__del__ ... Invalid file descriptor" after the real message.
    The next plan in this process gets new loops.
    """
    for worker in list(_worker_loops):
        if not worker.is_running():
            worker.close()
    _worker_loops.clear()
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return  # none was made
    if loop.is_running() or loop.is_closed():
        return
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    # A fresh policy holds no loop: the SDK's next asyncio.get_event_loop() makes a new one.
    asyncio.set_event_loop_policy(None)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a plan runs.

    A plan is a short batch whose objects (resources, Outputs, futures, records)
    live until it ends; reference counting frees what dies sooner. The cyclic
    collector would find next to nothing, but it re-scans every live object, more
    often as they grow: measured at 100 services it took 4.3 s of an 11 s plan
    (1,647 collections) and is a cause of the plan's superlinear growth; paused,
    peak memory grew by 6 MiB. It is resumed afterwards, and any cycles the plan
    left are collected then. ``benchmarks/plan_scale.py`` measures the effect.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_program(
    project_dir: Path, files: StackFiles, organization: str, mocks: MockCloud, monitor: RecordingMonitor
) -> Plan:
    warnings = _Collect()
    logger = logging.getLogger(f"odyssey.plan.{files.stack}")
    logger.propagate = False
    logger.addHandler(warnings)

    # A previous plan in this process leaves its root stack behind.
    pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_all_config(files.config, files.secret_keys)
    pulumi.runtime.set_mocks(
        mocks, project=files.project, stack=files.stack, preview=True, logger=logger,
        monitor=monitor, organization=organization,
    )
    # A program that failed earlier in this process leaves outputs still resolving; the next program would await
    # them and fail with their error. ``pulumi.runtime.test`` clears the same two before each test.
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()
    main = project_dir / "__main__.py"
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    try:
        with collector_paused():
            _sync_await(run_pulumi_func(lambda: runpy.run_path(str(main), run_name="__main__")))
            root = pulumi_settings.get_root_resource()
            outputs = {
                name: _sync_await(pulumi.Output.from_input(value).future())
                for name, value in (root.outputs if root is not None else {}).items()
            }
    except BaseException:
        close_event_loop()
        raise
    finally:
        logger.removeHandler(warnings)
    return Plan(
        project=files.project,
        stack=files.stack,
        organization=organization,
        # Registration order depends on when outputs resolve; URN order makes plans diffable.
        resources=sorted(monitor.records, key=lambda r: r["urn"]),
        outputs=outputs,
        warnings=warnings.messages,
        assumptions=list(mocks.assumptions),
        config=dict(files.config),
        secret_keys=list(files.secret_keys),
    )
