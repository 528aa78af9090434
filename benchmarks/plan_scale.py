"""Benchmark: the offline plan and its policy gate from 1 to 500 services, against baselines run now; then the
cluster plan of whole generated clusters at 100, 300 and 500 services.

    python benchmarks/plan_scale.py                 # or: make bench
    python benchmarks/plan_scale.py --no-cluster    # the single-stack rows only (make bench BENCH_ARGS=--no-cluster)
    python benchmarks/plan_scale.py --cluster-only
    python benchmarks/plan_scale.py --sizes 1,100 --repeats 1 --no-cluster   # a quick look

For each size it generates a stack that owns its cluster and runs N services
(``project_with``: public ones routed by path with autoscaling, up to what one
ALB holds, internal ones, workers, schedules) and measures, each in a fresh
process, the median of several:

* plan: ``odyssey plan STACK --skip-policies``, end to end (interpreter start
  to exit), and plan+gate: ``odyssey plan STACK`` with the project's pack
  driven over the analyzer protocol. They run in rounds, plan then plan+gate
  then the peer below, so the gate's share (and the CDK ratio) is the median
  of the ratios taken within each round, on a machine in one state;
* bare: registering as many plain pulumi-aws resources under the same mock
  runtime and the same collector setting, the floor any Pulumi program pays;
* the peer: AWS CDK (``benchmarks/cdk_peer``, run with node) synthesizing the
  topology. Skipped, with the reason, when node or its packages are missing.

It prints times, per-resource costs, peak memory of the planning process and of
the pack, and the ratios the design is held to (growth from 100 services, the
gate's share, the CDK ratio); it asserts nothing: a benchmark, not a test.

Then the committed prod stack as ``make plan`` runs it, plan and plan+gate,
beside its floor: a process that only starts, imports what the command imports
and imports the pulumi_aws packages the prod program loaded, registering
nothing.

The cluster rows run ``odyssey plan --cluster`` end to end on a generated
cluster of three stacks (``cluster_project``): the owner and two tenants, 3 in
5 of each stack's services public, each stack's budget its public services, so
the 500-service cluster has 300 public services and needs three ALBs.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from odyssey.domain.quotas import ALB_TARGET_GROUPS_PER_LOAD_BALANCER  # noqa: E402

PEER = ROOT / "benchmarks" / "cdk_peer"
SIZES = (1, 10, 100, 300, 500)
CLUSTER_SIZES = (100, 300, 500)
CLUSTER_STACKS = ("core", "shop", "blog")
CLOUDFORMATION_MAX_RESOURCES = 500
console = Console()


# ------------------------------------------------------------------ the generated stacks


SERVICE_CPU, SERVICE_MEMORY = 128, 256
PUBLIC_MIN_COUNT, OTHER_COUNT = 2, 1
SCHEDULE_EVERY = 10  # one schedule per this many workers
CLUSTER_INSTANCE_TYPE = "m7i.4xlarge"  # 16 vCPUs: a few hundred small tasks fit on tens of nodes, not hundreds
ORGANIZATION = "organization"


def services_of(count: int, public: int) -> tuple[dict, dict]:
    """``count`` services, the first ``public`` routed by path with autoscaling, the rest internal and workers in
    turn, and a schedule on every SCHEDULE_EVERY-th worker: (odyssey:services, odyssey:schedules)."""
    services, schedules, workers = {}, {}, 0
    for i in range(count):
        name = f"svc-{i}"
        kind = "public" if i < public else ("internal", "worker")[(i - public) % 2]
        service = {"image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/odyssey/{name}:1.0.{i}",
                   "cpu": SERVICE_CPU, "memory": SERVICE_MEMORY}
        if kind != "worker":
            service["port"] = 8080
        if kind == "public":
            service["public"] = {"paths": [f"/{name}/*"], "healthCheck": {"path": "/health"}}
            service["autoscaling"] = {"minCount": PUBLIC_MIN_COUNT, "maxCount": 10, "cpuTargetPercent": 60}
        else:
            service["desiredCount"] = OTHER_COUNT
        if kind == "worker":
            workers += 1
            if workers % SCHEDULE_EVERY == 1:
                schedules[f"job-{i}"] = {"service": name, "expression": "cron(0 3 * * ? *)",
                                         "command": ["./job", name]}
        services[name] = service
    return services, schedules


def _shapes(services: dict) -> list:
    from odyssey.domain.tenancy import TaskShape

    return [TaskShape(s["cpu"], s["memory"], s["autoscaling"]["minCount"] if "autoscaling" in s else s["desiredCount"])
            for s in services.values()]


def registry_and_size(tenants: dict[str, dict]) -> tuple[dict, int]:
    """The owner's registry for ``tenants`` (stack -> its services) and the minSize they need.

    Each tenant's budget is its public services (one target group and one rule
    each); its quota what it reserves at desired counts plus its largest deploy;
    the cluster holds every quota plus the largest deploy after losing a zone.
    """
    from odyssey.domain.capacity import task_capacity
    from odyssey.domain.tenancy import Headroom, Reservation, deploy_surge, steady_reservation

    registry, quotas, surges = {}, [], []
    for slot, (stack, services) in enumerate(tenants.items(), start=1):
        shapes = _shapes(services)
        surge = deploy_surge(shapes)
        quota = steady_reservation(shapes) + surge
        public = sum(1 for s in services.values() if "public" in s)
        registry[stack] = {"slot": slot, "hosts": [f"{stack}.example.com"], "targetGroups": public, "rules": public,
                           "cpu": quota.cpu, "memory": quota.memory}
        quotas.append(quota)
        surges.append(surge)
    needed = Reservation(sum(q.cpu for q in quotas), sum(q.memory for q in quotas))
    needed += max(surges, key=lambda r: (r.cpu, r.memory))
    node = Reservation(*task_capacity(CLUSTER_INSTANCE_TYPE))
    zones = 3
    size = next(n for n in range(4, 5000) if needed.fits(Headroom.of(node, n, zones).zone_lost))
    return registry, size


def _base(stack_file: str) -> dict:
    base = yaml.safe_load((ROOT / stack_file).read_text())["config"]
    return {k: v for k, v in base.items() if k not in ("odyssey:services", "odyssey:schedules")}


def cluster_configs(owner: str, tenants: dict[str, tuple[int, int]]) -> dict[str, dict]:
    """Stack files of a whole cluster: ``owner`` and the other stacks of ``tenants`` (stack -> (services, public)),
    the owner first among them; each stack routes its own host."""
    generated = {stack: services_of(count, public) for stack, (count, public) in tenants.items()}
    registry, min_size = registry_and_size({stack: services for stack, (services, _) in generated.items()})
    files = {}
    for stack, (services, schedules) in generated.items():
        if stack == owner:
            config = _base("Pulumi.prod.yaml")
            config["odyssey:cluster"] = {**config["odyssey:cluster"], "instanceType": CLUSTER_INSTANCE_TYPE,
                                         "minSize": min_size, "maxSize": 2 * min_size, "applicationStacks": registry}
        else:
            config = {**_base("Pulumi.stage.yaml"), "odyssey:clusterStack": f"{ORGANIZATION}/odyssey/{owner}"}
        config["odyssey:app"] = {**config["odyssey:app"], "defaultHosts": [f"{stack}.example.com"]}
        config["odyssey:services"] = services
        if schedules:
            config["odyssey:schedules"] = schedules
        files[stack] = {"config": config}
    return files


def stack_config(stack: str, services: int) -> dict:
    """A stack owning its cluster with ``services`` services: 3 in 5 public up to what one ALB holds (a stack lives
    on one ALB of the pool), the rest internal and workers."""
    return cluster_configs(stack, {stack: (services, min(services * 3 // 5, ALB_TARGET_GROUPS_PER_LOAD_BALANCER))})[stack]


def project_with(stack: str, services: int, into: Path) -> Path:
    return _project({stack: stack_config(stack, services)}, into)


def cluster_project(services: int, into: Path, stacks: tuple[str, ...] = CLUSTER_STACKS) -> Path:
    """A cluster of ``services`` services over ``stacks`` (the first owns it), 3 in 5 of each stack's public."""
    counts = [services // len(stacks) + (1 if i < services % len(stacks) else 0) for i in range(len(stacks))]
    return _project(cluster_configs(stacks[0], {s: (n, services * 3 // 5 // len(stacks))
                                                for s, n in zip(stacks, counts)}), into)


def _project(files: dict[str, dict], into: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py", "components", "odyssey", "policies"):
        (into / name).symlink_to(ROOT / name)
    for stack, document in files.items():
        (into / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    return into


# ------------------------------------------------------------------ children: each measured alone


def child_odyssey(project_dir: str, stack: str, *options: str) -> None:
    """``odyssey plan`` as an operator runs it, through the command's own entry point and exit."""
    started = time.perf_counter()
    from odyssey.ops import cli

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "plan.json"
        sys.argv = ["odyssey", "plan", stack, "-q", "--json", str(out), "--project-dir", project_dir, *options]
        try:
            cli.main()
        except SystemExit as exit_:
            code = exit_.code or 0
        document = json.loads(out.read_text()) if out.exists() else {"resources": []}
    violations = (document.get("policies") or {}).get("violations", [])
    print(json.dumps({
        "resources": len(document["resources"]),
        "exit_code": code,
        "in_process_s": time.perf_counter() - started,
        "mandatory": sum(1 for v in violations if v["enforcementLevel"] == "mandatory"),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # The packs have exited and been waited for: the largest one's peak.
        "pack_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "provider_packages": provider_packages(),
    }))


def provider_packages() -> list[str]:
    """The pulumi_aws packages this process loaded (``pulumi_aws.ecs``, ...). pulumi_aws puts every package in sys.modules as a lazy module
    and runs it on first use, so a loaded one is one whose class is no longer the lazy loader's."""
    return sorted(name for name, module in list(sys.modules.items())
                  if type(module) is types.ModuleType and name.count(".") == 1 and name.startswith("pulumi_aws.")
                  and hasattr(module, "__path__"))


def child_floor(*packages: str) -> None:
    """What a plan pays before its first registration: the interpreter, the command's imports, and the provider
    packages the program uses, imported as the program imports them (with the collector off)."""
    import importlib

    from odyssey.ops import cli  # noqa: F401 - importing is what is measured

    gc.disable()  # as `odyssey plan` runs (odyssey.ops.cli.main): off from the command's start to its exit
    import pulumi_awsx  # noqa: F401

    for package in packages:
        # Any attribute but the introspection ones (__dict__, __name__, ...) runs a lazy module.
        getattr(importlib.import_module(package), "__all__", None)
    print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "provider_packages": provider_packages()}))
    gc.freeze()  # as `odyssey` exits (odyssey.ops.cli.main)


def child_cluster(project_dir: str, owner: str) -> None:
    """`odyssey plan OWNER --cluster` as an operator runs it: every stack planned and gated, checked together."""
    import contextlib
    import io

    from odyssey.ops.cli import app

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "cluster.json"
        with contextlib.redirect_stdout(io.StringIO()):  # the table; the figures are what this prints
            app(["plan", owner, "--cluster", "-q", "--json", str(out), "--project-dir", project_dir],
                standalone_mode=False)
        document = json.loads(out.read_text())
    print(json.dumps({
        "resources": sum(s["resources"] or 0 for s in document["stacks"]),
        "stacks": len(document["stacks"]),
        "load_balancers": len(document["loadBalancers"]),
        "exit_code": document["exitCode"],
        "problems": len(document["problems"]),
        "mandatory": sum(s["mandatoryViolations"] for s in document["stacks"]),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def child_bare(count: str) -> None:
    """``count`` plain resources registered under the mock runtime, with the collector as the plan has it."""
    import pulumi
    import pulumi_aws as aws
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    class Echo(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return f"{args.name}-id", {**args.inputs, "arn": f"arn:aws:sqs:us-east-1:123456789012:{args.name}"}

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Echo(), project="bare", stack="bench", preview=True)

    def program():
        for i in range(int(count)):
            aws.sqs.Queue(f"queue-{i}", name=f"queue-{i}", message_retention_seconds=1_209_600,
                          tags={"Project": "bench"})

    gc.disable()  # as `odyssey plan` runs (odyssey.ops.cli.main): off to the exit
    _sync_await(run_pulumi_func(program))
    print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    gc.freeze()  # as `odyssey` exits (odyssey.ops.cli.main)


CHILDREN = {"odyssey": child_odyssey, "bare": child_bare, "cluster": child_cluster, "floor": child_floor}


# ------------------------------------------------------------------ the parent


class Runner:
    """Runs each child ``repeats`` times in a fresh process and keeps the medians, showing progress."""

    def __init__(self, repeats: int, progress: Progress):
        self.repeats, self.progress = repeats, progress

    def child(self, label: str, *args: str) -> tuple[float, dict]:
        """Median end-to-end wall time and median figures of the child's runs."""
        walls, figures = self.rounds(label, {label: lambda: self.run(args)})[label]
        return statistics.median(walls), _medians(figures)

    def rounds(self, label: str, jobs: dict[str, Callable[[], tuple[float, dict]]]
               ) -> dict[str, tuple[list[float], list[dict]]]:
        """Each job once per round, in turn, ``repeats`` rounds: each job's walls and figures, in round order.

        Taken in turn, the runs of one round see the machine in the same state, so a ratio of two jobs is best
        taken round by round (``paired``): on a machine whose speed drifts, medians taken a minute apart are not.
        """
        results: dict[str, tuple[list[float], list[dict]]] = {name: ([], []) for name in jobs}
        task = self.progress.add_task(label, total=self.repeats * len(jobs))
        for _ in range(self.repeats):
            for name, job in jobs.items():
                wall, figures = job()
                results[name][0].append(wall)
                results[name][1].append(figures)
                self.progress.advance(task)
        self.progress.remove_task(task)
        return results

    @staticmethod
    def run(args: tuple[str, ...]) -> tuple[float, dict]:
        """One fresh child process: its wall time and the figures it printed."""
        started = time.perf_counter()
        result = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                                cwd=ROOT)
        wall = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"benchmark child {args} failed:\n{result.stderr[-2000:]}")
        return wall, json.loads(result.stdout.strip().splitlines()[-1])

    @staticmethod
    def synth(services: int) -> tuple[float, dict]:
        """One CDK synth of the topology: its wall time and what the peer printed."""
        with tempfile.TemporaryDirectory() as outdir:
            started = time.perf_counter()
            result = subprocess.run(["node", "app.js", str(services), outdir], cwd=PEER, capture_output=True,
                                    text=True)
            wall = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"CDK peer failed for {services} services:\n{result.stderr[-2000:]}")
        return wall, json.loads(result.stdout.strip().splitlines()[-1])


def _medians(figures: list[dict]) -> dict:
    """Each numeric figure's median over the runs; anything else as the first run gave it."""
    return {key: statistics.median(f[key] for f in figures) if isinstance(value, (int, float)) else value
            for key, value in figures[0].items()}


def paired(numerators: list[float], denominators: list[float]) -> float:
    """The median of the ratios taken round by round."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def peer_ready() -> str | None:
    """Why the CDK peer cannot run, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (PEER / "node_modules" / "aws-cdk-lib").exists():
        if shutil.which("npm") is None:
            return "npm is not installed to fetch aws-cdk-lib"
        install = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER,
                                 capture_output=True, text=True)
        if install.returncode != 0:
            return f"npm ci failed in benchmarks/cdk_peer: {install.stderr.strip()[-300:]}"
    return None


# What the design is held to (issue 15); the benchmark prints each figure beside its target.
GROWTH_TARGETS = {300: 3.3, 500: 5.5}  # plan+gate at N services over plan+gate at 100, at most
GATE_SHARE_TARGET = 0.20  # the gate adds at most this share to the plan alone
CDK_TARGET = 1.0  # plan+gate at 100 services over the CDK synth, below


@dataclass
class Row:
    services: int
    resources: int
    plan_s: float
    gated_s: float
    bare_s: float
    peak_mib: float
    pack_peak_mib: float
    mandatory: int
    gate_share: float  # plan+gate over plan, round by round (median), less one
    cdk_s: float | None = None
    cdk_ratio: float | None = None  # plan+gate over the CDK synth, round by round (median)
    cdk_resources: int | None = None


def measure_sizes(runner: Runner, sizes: tuple[int, ...], peer_problem: str | None) -> list[Row]:
    rows = []
    packs = ["--policy-pack", str(ROOT / "policies"), "--policy-pack-config", str(ROOT / "policies" / "prod.json")]
    for size in sizes:
        stack = f"bench{size}"
        with tempfile.TemporaryDirectory() as scratch:
            project = project_with(stack, size, Path(scratch))
            jobs = {
                "plan": lambda: runner.run(("odyssey", str(project), stack, "--skip-policies")),
                "plan+gate": lambda: runner.run(("odyssey", str(project), stack, *packs)),
            }
            if peer_problem is None:
                jobs["CDK synth"] = lambda: runner.synth(size)
            runs = runner.rounds(f"{size} services: {', '.join(jobs)}", jobs)
        (plan_walls, _), (gated_walls, gated) = runs["plan"], runs["plan+gate"]
        figures = _medians(gated)
        bare_s, _ = runner.child(f"{size} services: bare registrations", "bare", str(figures["resources"]))
        row = Row(size, int(figures["resources"]), statistics.median(plan_walls), statistics.median(gated_walls),
                  bare_s, figures["peak_mib"], figures["pack_peak_mib"], int(figures["mandatory"]),
                  gate_share=paired(gated_walls, plan_walls) - 1)
        if "CDK synth" in runs:
            cdk_walls, cdk = runs["CDK synth"]
            row.cdk_s, row.cdk_ratio = statistics.median(cdk_walls), paired(gated_walls, cdk_walls)
            row.cdk_resources = int(cdk[0]["resources"])
        rows.append(row)
    return rows


def print_sizes(rows: list[Row]) -> None:
    times = Table(title="Plan and gate, end to end (s)")
    for column in ("services", "resources", "plan", "plan+gate", "gate adds", "CDK synth", "vs CDK"):
        times.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        share = f"{row.gate_share:+.0%}"
        if row.gate_share > GATE_SHARE_TARGET:
            share = f"[red]{share}[/]"
        cdk = ["skipped", ""] if row.cdk_s is None else [f"{row.cdk_s:.2f}", f"{row.cdk_ratio:.2f}x"]
        times.add_row(str(row.services), f"{row.resources:,}", f"{row.plan_s:.2f}", f"{row.gated_s:.2f}", share, *cdk)
    console.print(times)

    costs = Table(title="Per resource and memory")
    for column in ("services", "ms/res\nplan", "ms/res\nbare", "plan\n/ bare", "plan\nMiB", "pack\nMiB", "mandatory"):
        costs.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        costs.add_row(str(row.services), f"{row.plan_s / row.resources * 1000:.2f}",
                      f"{row.bare_s / row.resources * 1000:.2f}", f"{row.plan_s / row.bare_s:.2f}x",
                      f"{row.peak_mib:.0f}", f"{row.pack_peak_mib:.0f}", str(row.mandatory))
    console.print(costs)

    by_size = {row.services: row for row in rows}
    if 100 in by_size:
        base = by_size[100]
        for size, target in GROWTH_TARGETS.items():
            if size in by_size:
                row = by_size[size]
                growth = row.gated_s / base.gated_s
                memory = row.peak_mib / base.peak_mib
                verdict = "[green]within[/]" if growth <= target else "[red]over[/]"
                console.print(f"growth 100 -> {size} services: plan+gate {growth:.2f}x ({verdict} {target}x), "
                              f"resources {row.resources / base.resources:.2f}x, plan memory {memory:.2f}x",
                              highlight=False)
        if base.cdk_ratio is not None:
            ratio = base.cdk_ratio
            verdict = "[green]faster[/]" if ratio < CDK_TARGET else "[red]slower[/]"
            console.print(f"100 services: plan+gate {ratio:.2f}x the CDK synth ({verdict})", highlight=False)
    worst = max(rows, key=lambda row: row.gate_share)
    verdict = "[green]within[/]" if worst.gate_share <= GATE_SHARE_TARGET else "[red]over[/]"
    console.print(f"the gate adds at most {worst.gate_share:.0%} (at {worst.services} services; {verdict} "
                  f"{GATE_SHARE_TARGET:.0%})", highlight=False)
    for row in rows:
        if row.cdk_resources and row.cdk_resources > CLOUDFORMATION_MAX_RESOURCES:
            console.print(f"note: {row.services} services: the CDK template has {row.cdk_resources:,} resources; "
                          f"CloudFormation refuses stacks over {CLOUDFORMATION_MAX_RESOURCES}, so the peer could not "
                          "deploy it as one stack (Pulumi has no such limit).", highlight=False)
        if row.mandatory:
            console.print(f"note: {row.services} services: {row.mandatory} mandatory violations", highlight=False)
    console.print("Times are end to end (interpreter start to exit), medians of fresh processes. The gate's share and "
                  "the CDK ratio are medians of ratios taken round by round: each round runs plan, plan+gate and the "
                  "synth in turn. plan / bare: the "
                  "plan's time against registering as many plain resources in the same runtime. Memory: the "
                  "planning process's peak, and the largest policy pack process's.", highlight=False)


PROD_TARGET_S = 3.0  # the committed prod plan, end to end


@dataclass
class Committed:
    stack: str
    resources: int
    plan_s: float
    gated_s: float
    floor_s: float
    packages: list[str]


def measure_committed(runner: Runner, stack: str = "prod") -> Committed:
    """The committed stack as `make plan` runs it, and its floor: everything but the registrations and the gate."""
    plan_s, plan = runner.child(f"{stack}: plan", "odyssey", str(ROOT), stack, "--skip-policies")
    gated_s, gated = runner.child(f"{stack}: plan+gate", "odyssey", str(ROOT), stack)
    floor_s, _ = runner.child(f"{stack}: imports alone", "floor", *plan["provider_packages"])
    return Committed(stack, int(gated["resources"]), plan_s, gated_s, floor_s, plan["provider_packages"])


def print_committed(row: Committed) -> None:
    verdict = "[green]within[/]" if row.gated_s <= PROD_TARGET_S else "[red]over[/]"
    console.print(
        f"committed {row.stack} ({row.resources} resources): plan {row.plan_s:.2f} s, plan+gate {row.gated_s:.2f} s "
        f"({verdict} {PROD_TARGET_S:.0f} s); its floor {row.floor_s:.2f} s: the interpreter, the command's imports "
        f"and the {len(row.packages)} pulumi_aws packages the program uses "
        f"({', '.join(p.removeprefix('pulumi_aws.') for p in row.packages)}), with no "
        "resource registered", highlight=False)


@dataclass
class ClusterRow:
    services: int
    resources: int
    load_balancers: int
    exit_code: int
    wall_s: float
    peak_mib: float
    bare_s: float
    problems: int = 0
    mandatory: int = 0


def measure_clusters(runner: Runner) -> list[ClusterRow]:
    rows = []
    for size in CLUSTER_SIZES:
        with tempfile.TemporaryDirectory() as scratch:
            project = cluster_project(size, Path(scratch))
            wall, figures = runner.child(f"cluster of {size} services", "cluster", str(project), CLUSTER_STACKS[0])
        count = int(figures["resources"])
        bare_wall, _ = runner.child(f"cluster of {size} services: bare", "bare", str(count))
        rows.append(ClusterRow(size, count, int(figures["load_balancers"]), int(figures["exit_code"]), wall,
                               figures["peak_mib"], bare_wall, int(figures["problems"]), int(figures["mandatory"])))
    return rows


def print_clusters(rows: list[ClusterRow]) -> None:
    table = Table(title="`odyssey plan --cluster`: owner and tenants planned, gated, checked")
    for column in ("services", "resources", "ALBs", "exit", "wall s", "MiB", "vs bare", "ms/res"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(str(row.services), f"{row.resources:,}", str(row.load_balancers),
                      str(row.exit_code), f"{row.wall_s:.1f}", f"{row.peak_mib:.0f}",
                      f"{row.wall_s / row.bare_s:.1f}x", f"{row.wall_s / row.resources * 1000:.1f}")
    console.print(table)
    for row in rows:
        if row.exit_code or row.problems or row.mandatory:
            console.print(f"note: {row.services} services: exit {row.exit_code}, {row.problems} cross-stack "
                          f"problems, {row.mandatory} mandatory violations", highlight=False)
    console.print(
        f"Each cluster is {len(CLUSTER_STACKS)} stacks ({', '.join(CLUSTER_STACKS)}; the first owns the cluster), "
        "3 in 5 services public (one target group and rule each, budget = its public services), the rest internal "
        "and workers, with schedules; sized to hold every quota and the largest deploy after losing a zone. "
        "ALBs: the load balancers the owner's plan created. vs bare: against registering as many plain resources "
        "in a fresh process. MiB: the planning process's peak.", highlight=False)


SOURCES = ("odyssey", "components", "policies")  # the project's packages the command and its pack import


def compile_sources() -> bool:
    """Compile the project's modules to bytecode, as a run of the command leaves them, before timing any.

    Python writes a module's bytecode the first time it imports it, unless PYTHONDONTWRITEBYTECODE is set, as it
    is on the build machine: there every run compiled each module it imported from source, about 0.3 s of the
    committed prod plan (paired runs, 0.93x with bytecode). Compiled first, the figures are those an operator sees
    from the second run on. False when a file could not be compiled (the child that imports it then fails).
    """
    return all(compileall.compile_dir(ROOT / package, quiet=1) for package in SOURCES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="service counts, comma-separated")
    parser.add_argument("--repeats", type=int, default=5,
                        help="rounds: fresh processes per figure (the median is kept)")
    parser.add_argument("--no-cluster", action="store_true", help="skip the cluster rows")
    parser.add_argument("--cluster-only", action="store_true", help="only the cluster rows")
    args = parser.parse_args()
    try:
        sizes = tuple(int(size) for size in args.sizes.split(","))
    except ValueError:
        parser.error(f"--sizes {args.sizes}: give service counts separated by commas, for example 1,10,100")
    if args.repeats < 1 or min(sizes) < 1:
        parser.error("--repeats and every size must be at least 1, for example --sizes 1,100 --repeats 3")
    console.print(f"[bold]Odyssey plan-scale benchmark[/]: medians of {args.repeats} fresh processes, end to end, "
                  f"the project's modules compiled to bytecode first ({', '.join(SOURCES)})")
    if not compile_sources():
        console.print("[yellow]Some of the project's modules did not compile; the children importing them fail.[/]")
    peer_problem = None if args.cluster_only else peer_ready()
    if peer_problem:
        console.print(f"[yellow]CDK peer skipped:[/] {peer_problem}")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        runner = Runner(args.repeats, progress)
        rows = [] if args.cluster_only else measure_sizes(runner, sizes, peer_problem)
        committed = None if args.cluster_only else measure_committed(runner)
        clusters = [] if args.no_cluster else measure_clusters(runner)
    if rows:
        print_sizes(rows)
    if committed:
        print_committed(committed)
    if clusters:
        print_clusters(clusters)
    else:
        console.print("cluster rows skipped (--no-cluster)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        os.chdir(ROOT)
        CHILDREN[sys.argv[2]](*sys.argv[3:])
    else:
        main()
