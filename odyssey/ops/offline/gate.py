"""The offline policy gate: run policy packs exactly as the Pulumi CLI does, over the analyzer gRPC protocol.

Each pack runs as its own process (``python -u <pack>/__main__.py``), prints
the port it serves on, and is driven with ``GetAnalyzerInfo``,
``ConfigureStack``, ``Configure`` (the stack's policy config, validated against
each policy's schema and with the schema defaults filled in, as the CLI does),
``Analyze`` once per recorded resource (inputs, options, provider), and
``AnalyzeStack`` with parents, dependencies and property dependencies. The
``Analyze`` calls are made as the program registers, in order, by a relay
process beside each pack (``relay.py``), so they cost the planning process
only a write to a pipe. Where the platform allows (Linux, two CPUs or more),
packs and relays are kept off one CPU, which the program keeps to itself
(``helper_cpus``).

Differences from a real preview, on purpose and documented: ``AnalyzeStack``
gets each resource's inputs (in a preview it gets the planned state, which for
a new resource is its inputs plus values the provider computes, unknown until
created); and the resources are those of the offline plan, so awsx's VPC is one
component without children.
"""

from __future__ import annotations

import io
import json
import os
import selectors
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from odyssey.ops.offline.relay import ERROR, REQUEST, read_frames, write_frame

RELAY = Path(__file__).with_name("relay.py")

START_TIMEOUT_SECONDS = 60
CALL_TIMEOUT_SECONDS = 60

# "remediate" is left out on purpose: the gate does not run Remediate, so it
# refuses the level rather than report what the CLI would have fixed.
LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES = {value: name for name, value in LEVELS.items()} | {analyzer_pb2.REMEDIATE: "remediate"}
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


class GateError(Exception):
    """A pack could not be started or spoken to, or its policy config is invalid (one line per problem)."""


@dataclass(frozen=True)
class Violation:
    pack: str
    policy: str
    enforcementLevel: str
    urn: str
    message: str


@dataclass
class GateResult:
    packs: list[dict[str, Any]] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcementLevel == "mandatory"]

    def to_json(self) -> dict[str, Any]:
        return {"packs": self.packs, "violations": [asdict(v) for v in self.violations]}


# ------------------------------------------------------------------ policy config


def read_policy_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise GateError(f"--policy-pack-config {path}: file not found") from None
    except json.JSONDecodeError as error:
        raise GateError(f"--policy-pack-config {path}: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise GateError(f'--policy-pack-config {path}: must be a JSON object, for example {{"all": "mandatory"}}')
    return document


def _check_value(where: str, value: Any, schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind in JSON_TYPES:
        expected = JSON_TYPES[kind]
        if not isinstance(value, expected) or (kind in ("integer", "number") and isinstance(value, bool)):
            example = schema.get("default", {"integer": 3, "number": 1.5, "string": "text", "boolean": True,
                                             "array": [], "object": {}}[kind])
            return [f"{where}: must be {'an' if kind[0] in 'aeio' else 'a'} {kind}, got {json.dumps(value)}; "
                    f"for example {json.dumps(example)}"]
    problems = []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} is above the maximum {schema['maximum']}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {json.dumps(value)} is not one of {json.dumps(schema['enum'])}")
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            problems += _check_value(f"{where}[{index}]", item, schema["items"])
    return problems


def build_policy_config(
    info: analyzer_pb2.AnalyzerInfo, document: Mapping[str, Any], source: str
) -> dict[str, analyzer_pb2.PolicyConfig]:
    """The Configure request the CLI would send: levels and properties per policy, defaults filled in.

    Raises GateError listing every problem: unknown policies or properties,
    bad enforcement levels, values that do not match the policy's schema.
    """
    policies = {p.name: p for p in info.policies}
    problems: list[str] = []

    def level_of(where: str, value: Any) -> int | None:
        if value in LEVELS:
            return LEVELS[value]
        if value == "remediate":
            problems.append(f"{where}: the offline gate does not run remediations; use mandatory or advisory here "
                            "(a real preview applies remediate)")
            return None
        problems.append(f"{where}: enforcement level {json.dumps(value)} is not one of {', '.join(LEVELS)}; "
                        'for example "mandatory"')
        return None

    default_level = level_of(f"{source}: all", document["all"]) if "all" in document else None
    configured: dict[str, tuple[int | None, dict[str, Any]]] = {}
    for name, value in document.items():
        if name == "all":
            continue
        where = f"{source}: {name}"
        if name not in policies:
            known = ", ".join(sorted(policies))
            problems.append(f"{where}: no policy of that name in pack {info.name}; its policies are {known}")
            continue
        if isinstance(value, str):
            configured[name] = (level_of(where, value), {})
        elif isinstance(value, dict):
            properties = dict(value)
            level = level_of(f"{where}.enforcementLevel", properties.pop("enforcementLevel")) \
                if "enforcementLevel" in properties else None
            schema = json_format.MessageToDict(policies[name].configSchema.properties)
            for key, item in properties.items():
                if key not in schema:
                    allowed = ", ".join(sorted(schema)) or "none"
                    problems.append(f"{where}.{key}: not a setting of this policy (its settings: {allowed})")
                else:
                    problems += _check_value(f"{where}.{key}", item, schema[key])
            configured[name] = (level, properties)
        else:
            problems.append(f'{where}: must be an enforcement level or an object, for example "mandatory" or '
                            '{"enforcementLevel": "mandatory"}')
    if problems:
        raise GateError("invalid policy configuration:\n" + "\n".join(f"  - {p}" for p in problems))

    requests = {}
    for name, policy in policies.items():
        level, properties = configured.get(name, (None, {}))
        if level is None:
            level = default_level if default_level is not None else policy.enforcementLevel
        schema = json_format.MessageToDict(policy.configSchema.properties)
        values = {key: spec["default"] for key, spec in schema.items() if "default" in spec}
        values.update(properties)
        config = analyzer_pb2.PolicyConfig(enforcementLevel=level)
        config.properties.update(values)
        requests[name] = config
    return requests


# ------------------------------------------------------------------ the pack process


def helper_cpus(allowed: set[int]) -> set[int] | None:
    """The CPUs for the gate's helper processes, given those this process may use: all but one, kept for the
    program. None with fewer than two: there is nothing to keep apart.

    Why: a pack answers each Analyze call on gRPC threads that wake per call, and so does its relay. Free to run
    anywhere, two of them runnable at once took turns with the program on its CPU. Kept off one CPU, they take
    turns among themselves, and the program, which the kernel then leaves on the CPU they cannot use, runs on.
    Paired runs at 500 services, plan+gate over the plan alone: 1.20x free (``farm-bench -n 4``), 1.05x with the
    helpers kept off one CPU; at 100 services, plan+gate 0.92x the time it took with them free (``-n 6``).
    """
    return allowed - {min(allowed)} if len(allowed) >= 2 else None


def _keep_off_the_program_cpu(pid: int) -> None:
    """Confine a helper process (a pack, a relay) to ``helper_cpus``, where the platform can (Linux).

    Called as soon as the process starts: its threads start later, after the interpreter's start-up and imports,
    and a thread starts on the CPUs of the thread that starts it.
    """
    if not hasattr(os, "sched_setaffinity"):
        return
    cpus = helper_cpus(os.sched_getaffinity(0))
    if cpus:
        try:
            os.sched_setaffinity(pid, cpus)
        except OSError:
            pass  # it has already exited, and says so where it is read; placement is only a speed-up


class PolicyPackProcess:
    """A policy pack started the way the CLI starts it, and a gRPC client to it."""

    def __init__(
        self,
        pack_dir: Path,
        project: str,
        stack: str,
        organization: str,
        config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] = (),
        python: str = sys.executable,
    ):
        self.pack_dir = pack_dir = pack_dir.resolve()
        main = pack_dir / "__main__.py"
        if not main.exists():
            raise GateError(f"--policy-pack {pack_dir}: no __main__.py; is it a Python policy pack?")
        env = {
            **os.environ,
            "PULUMI_PROJECT": project,
            "PULUMI_STACK": stack,
            "PULUMI_ORGANIZATION": organization,
            "PULUMI_DRY_RUN": "true",
            # The CLI hands analyzers the stack's config this way; pulumi.Config reads it in the pack.
            "PULUMI_CONFIG": json.dumps(dict(config or {})),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(secret_keys)),
        }
        self.process = subprocess.Popen(
            [python, "-u", str(main)], cwd=pack_dir, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        _keep_off_the_program_cpu(self.process.pid)
        port = self._read_port()
        # Keep reading what the pack prints, or a chatty pack blocks on a full pipe.
        self.stderr_tail: list[str] = []
        for stream, sink in ((self.process.stdout, None), (self.process.stderr, self.stderr_tail)):
            threading.Thread(target=_drain, args=(stream, sink), daemon=True).start()
        self.address = f"127.0.0.1:{port}"
        self.channel = grpc.insecure_channel(self.address)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _read_port(self) -> int:
        selector = selectors.DefaultSelector()
        assert self.process.stdout is not None
        selector.register(self.process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=START_TIMEOUT_SECONDS)
        line = self.process.stdout.readline().decode().strip() if ready else ""
        if not line.isdigit():
            self.close()
            stderr = self.process.stderr.read().decode() if self.process.stderr else ""
            raise GateError(f"policy pack {self.pack_dir} did not print its port"
                            f"{' within ' + str(START_TIMEOUT_SECONDS) + ' s' if not ready else ''}: "
                            f"{(stderr.strip().splitlines() or [line or 'no output'])[-1]}")
        return int(line)

    def close(self) -> None:
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> PolicyPackProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drain(stream: Any, sink: list[str] | None) -> None:
    for line in iter(stream.readline, b""):
        if sink is not None:
            sink.append(line.decode(errors="replace").rstrip())
            del sink[:-20]


# ------------------------------------------------------------------ resources as the engine sends them


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(dict(values), struct_pb2.Struct())


def _options(record: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(record.get("protect")),
        ignoreChanges=list(record.get("ignoreChanges") or []),
        deleteBeforeReplace=bool(record.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined=bool(record.get("deleteBeforeReplaceDefined")),
        additionalSecretOutputs=list(record.get("additionalSecretOutputs") or []),
        aliases=[a for a in record.get("aliases") or [] if isinstance(a, str)],
        parent=record.get("parent") or "",
    )


class _Resources:
    """The plan's records, as the engine would describe them to an analyzer. Records may arrive one by one."""

    def __init__(self, records: Iterable[Mapping[str, Any]] = ()):
        self.records: list[Mapping[str, Any]] = []
        self.by_urn: dict[str, Mapping[str, Any]] = {}
        self._properties: dict[str, struct_pb2.Struct] = {}
        self._providers: dict[str, analyzer_pb2.AnalyzerProviderResource] = {}
        for record in records:
            self.add(record)

    def add(self, record: Mapping[str, Any], properties: struct_pb2.Struct | None = None) -> None:
        """Keep a record; ``properties`` is the Struct the SDK sent, when the caller has it."""
        self.records.append(record)
        self.by_urn[record["urn"]] = record
        if properties is not None:
            self._properties[record["urn"]] = properties

    def properties(self, record: Mapping[str, Any]) -> struct_pb2.Struct:
        found = self._properties.get(record["urn"])
        return found if found is not None else _struct(record["inputs"])

    def provider(self, record: Mapping[str, Any]) -> analyzer_pb2.AnalyzerProviderResource | None:
        reference = record.get("provider")
        if not reference:
            return None
        urn = reference.rsplit("::", 1)[0]
        if urn not in self._providers:
            provider = self.by_urn.get(urn)
            if provider is None:
                return None
            self._providers[urn] = analyzer_pb2.AnalyzerProviderResource(
                type=provider["type"], properties=self.properties(provider), urn=provider["urn"], name=provider["name"]
            )
        return self._providers[urn]

    def analyze_request(self, record: Mapping[str, Any]) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(
            type=record["type"], properties=self.properties(record), urn=record["urn"], name=record["name"],
            options=_options(record),
        )
        provider = self.provider(record)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def analyze_requests(self) -> Iterable[analyzer_pb2.AnalyzeRequest]:
        return (self.analyze_request(record) for record in self.records)

    def stack_request(self, records: Iterable[Mapping[str, Any]] | None = None) -> analyzer_pb2.AnalyzeStackRequest:
        resources = []
        for record in self.records if records is None else records:
            resource = analyzer_pb2.AnalyzerResource(
                type=record["type"], properties=self.properties(record), urn=record["urn"], name=record["name"],
                options=_options(record), parent=record.get("parent") or "",
                dependencies=list(record.get("dependencies") or []),
            )
            for key, urns in (record.get("propertyDependencies") or {}).items():
                resource.propertyDependencies[key].urns.extend(urns)
            provider = self.provider(record)
            if provider is not None:
                resource.provider.CopyFrom(provider)
            resources.append(resource)
        return analyzer_pb2.AnalyzeStackRequest(resources=resources)


def _violations(pack: str, response: analyzer_pb2.AnalyzeResponse, urn: str = "") -> list[Violation]:
    return [
        Violation(pack=d.policyPackName or pack, policy=d.policyName,
                  enforcementLevel=LEVEL_NAMES.get(d.enforcementLevel, str(d.enforcementLevel)),
                  urn=d.urn or urn, message=d.message)
        for d in response.diagnostics
    ]


def _pack_version(pack_dir: Path) -> str | None:
    """The CLI takes a Python pack's version from PulumiPolicy.yaml; the SDK always reports 0.0.1."""
    settings = pack_dir / "PulumiPolicy.yaml"
    if not settings.exists():
        return None
    version = (yaml.safe_load(settings.read_text()) or {}).get("version")
    return str(version) if version is not None else None


class _PackRun:
    """One pack in a gate session: its process, its configuration, and the Analyze calls in flight."""

    def __init__(self, pack_dir: Path, config_path: Path | None, session: GateSession):
        self.pack_dir, self.config_path = pack_dir, config_path
        document = read_policy_config(config_path)
        self.process = PolicyPackProcess(pack_dir, session.project, session.stack, session.organization,
                                         session.stack_config, session.secret_keys)
        self.violations: list[Violation] = []
        self.relay: subprocess.Popen | None = None
        self.sent: list[str] = []  # the URNs of the requests handed to the relay, in order
        try:
            stub = self.process.stub
            self.info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS)
            self.policy_config = build_policy_config(self.info, document, str(config_path or pack_dir))
            stub.ConfigureStack(
                analyzer_pb2.AnalyzerStackConfigureRequest(
                    stack=session.stack, project=session.project, organization=session.organization, dry_run=True,
                    config=dict(session.stack_config), config_secret_keys=list(session.secret_keys),
                ),
                timeout=CALL_TIMEOUT_SECONDS,
            )
            stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=self.policy_config),
                           timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            self.process.close()
            raise self._failure(error) from None
        except GateError:
            self.process.close()
            raise
        # The Analyze calls go through a relay process (relay.py): the pack gets the same calls, and the
        # program's interpreter does not pay for them.
        self.relay = subprocess.Popen(
            [sys.executable, str(RELAY), self.process.address, str(CALL_TIMEOUT_SECONDS)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        _keep_off_the_program_cpu(self.relay.pid)

    def _failure(self, error: grpc.RpcError | str) -> GateError:
        """The pack's failure, with the last line it printed on stderr."""
        problem = error if isinstance(error, str) else f"{error.code().name}: {error.details()}"
        detail = f" ({self.process.stderr_tail[-1]})" if self.process.stderr_tail else ""
        return GateError(f"policy pack {self.pack_dir} failed: {problem}{detail}")

    def analyze(self, request: analyzer_pb2.AnalyzeRequest) -> None:
        assert self.relay is not None and self.relay.stdin is not None
        self.sent.append(request.urn)
        try:
            write_frame(self.relay.stdin, REQUEST, request.SerializeToString())
        except OSError:
            pass  # the relay has stopped: finish says why

    def _answers(self) -> list[analyzer_pb2.AnalyzeResponse]:
        """Every Analyze answer, in the order the requests were sent, once the relay has made every call."""
        assert self.relay is not None
        out, err = self.relay.communicate()
        try:
            frames = list(read_frames(io.BytesIO(out)))
        except EOFError as error:
            frames = [(ERROR, str(error).encode())]
        problem = next((payload.decode() for kind, payload in frames if kind == ERROR), None)
        if problem is None and (self.relay.returncode or len(frames) != len(self.sent)):
            lines = err.decode(errors="replace").strip().splitlines()
            problem = (f"the relay making its Analyze calls stopped (exit {self.relay.returncode}, "
                       f"{len(frames)} of {len(self.sent)} answers){': ' + lines[-1] if lines else ''}")
        if problem is not None:
            raise self._failure(problem)
        return [analyzer_pb2.AnalyzeResponse.FromString(payload) for _, payload in frames]

    def finish(self, resources: _Resources) -> dict[str, Any]:
        for urn, answer in zip(self.sent, self._answers()):
            self.violations += _violations(self.info.name, answer, urn)
        # Resources register in the order their inputs resolve; in URN order, as the plan lists them,
        # two runs of one plan report the same.
        self.violations.sort(key=lambda violation: (violation.urn, violation.policy))
        try:
            response = self.process.stub.AnalyzeStack(resources.stack_request(), timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            raise self._failure(error) from None
        self.violations += _violations(self.info.name, response)
        return {
            "name": self.info.name,
            "version": _pack_version(self.pack_dir) or self.info.version,
            "path": str(self.pack_dir),
            "config": str(self.config_path) if self.config_path else None,
            "policies": len(self.info.policies),
            "enforcementLevels": {
                name: LEVEL_NAMES[config.enforcementLevel] for name, config in self.policy_config.items()
            },
        }

    def close(self) -> None:
        if self.relay is not None and self.relay.poll() is None:
            self.relay.kill()
            self.relay.communicate()
        self.process.close()


class GateSession:
    """Policy packs analyzing a plan as it registers, as the engine analyzes each resource during a preview.

    Start it before the plan, hand every record to ``analyze`` as it is
    recorded, then ``finish`` collects the answers and runs AnalyzeStack over
    them all. The packs work in their own processes while the program still
    registers resources.

    Each pack starts and is configured in a thread of its own, so its start-up
    (an interpreter importing the policy SDK and gRPC) overlaps the program's
    imports instead of preceding them. ``ready`` waits for them and raises the
    first pack's GateError (a pack that would not start, an invalid policy
    config); the first ``analyze`` calls it, so a pack that cannot run stops
    the plan at its first resource, and ``plan_and_gate`` reports the pack's
    error rather than the program failure it causes.
    """

    def __init__(
        self,
        packs: list[tuple[Path, Path | None]],
        project: str,
        stack: str,
        organization: str,
        stack_config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] = (),
    ):
        self.project, self.stack, self.organization = project, stack, organization
        self.stack_config, self.secret_keys = dict(stack_config or {}), list(secret_keys)
        self.resources = _Resources()
        self._lock = threading.Lock()
        self.runs: list[_PackRun] = []
        self._started: list[_PackRun | BaseException | None] = [None] * len(packs)
        self._starting = [
            threading.Thread(target=self._start, args=(index, pack_dir, config_path), daemon=True)
            for index, (pack_dir, config_path) in enumerate(packs)
        ]
        for thread in self._starting:
            thread.start()
        self._ready = not packs
        self._failure: BaseException | None = None

    def _start(self, index: int, pack_dir: Path, config_path: Path | None) -> None:
        try:
            self._started[index] = _PackRun(pack_dir, config_path, self)
        except BaseException as error:  # noqa: BLE001 - handed to the caller of ready()
            self._started[index] = error

    def ready(self) -> None:
        """Wait until every pack is configured; raise the first one's error, with every pack stopped."""
        if not self._ready:
            for thread in self._starting:
                thread.join()
            self.runs = [run for run in self._started if isinstance(run, _PackRun)]
            self._failure = next((error for error in self._started if isinstance(error, BaseException)), None)
            if self._failure is not None:
                self.close()
            self._ready = True
        if self._failure is not None:
            raise self._failure

    def analyze(self, record: Mapping[str, Any], properties: struct_pb2.Struct | None = None) -> None:
        if self._failure is not None:
            return  # registrations still unwinding from the program the failure stopped
        self.ready()
        with self._lock:
            self.resources.add(record, properties)
            request = self.resources.analyze_request(record) if self.runs else None
            for run in self.runs:
                run.analyze(request)

    def finish(self) -> GateResult:
        result = GateResult()
        try:
            self.ready()
            for run in self.runs:
                result.packs.append(run.finish(self.resources))
                result.violations += run.violations
        finally:
            self.close()
        return result

    def close(self) -> None:
        for thread in self._starting:
            thread.join()
        for run in self._started:
            if isinstance(run, _PackRun):
                run.close()

    def __enter__(self) -> GateSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_gate(
    records: list[Mapping[str, Any]],
    packs: list[tuple[Path, Path | None]],
    project: str,
    stack: str,
    organization: str,
    stack_config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
) -> GateResult:
    """Run each (pack directory, policy config file) over a finished plan's resources."""
    session = GateSession(packs, project, stack, organization, stack_config, secret_keys)
    for record in records:
        session.analyze(record)
    return session.finish()


def plan_and_gate(
    project_dir: Path, stack: str, packs: list[tuple[Path, Path | None]], organization: str = "organization",
    files: Any = None, references: dict[str, dict[str, Any]] | None = None,
) -> tuple[Any, GateResult | None]:
    """The offline plan of ``stack`` with its policy gate running alongside: (Plan, GateResult or None).

    ``files`` and ``references`` are passed to ``run_plan``.
    """
    from odyssey.ops.offline.plan import read_stack_files, run_plan

    files = files or read_stack_files(project_dir.resolve(), stack)
    with GateSession(packs, files.project, stack, organization, files.config, files.secret_keys) as session:
        plan = run_plan(project_dir, stack, organization=organization, files=files, references=references,
                        on_monitor=lambda monitor: monitor.listeners.append(session.analyze))
        return plan, (session.finish() if packs else None)
