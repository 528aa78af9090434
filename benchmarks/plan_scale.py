"""Benchmark: the offline plan and policy gate at 1, 10 and 100 services, against two baselines run now;
then the cluster plan of whole generated clusters at 100, 300 and 500 services.

    python benchmarks/plan_scale.py              # or: make bench
    python benchmarks/plan_scale.py --no-cluster # the single-stack rows only (make bench BENCH_ARGS=--no-cluster)
    python benchmarks/plan_scale.py --cluster-only

For each size it generates a stack that owns its cluster and runs N services
(public ones routed by path with autoscaling, internal ones, workers), then
measures, each in a fresh process:

* Odyssey: ``odyssey plan`` of that stack, plan and policy gate, end to end;
* bare: registering the same number of plain pulumi-aws resources under the
  same mock runtime, the floor any Pulumi program pays per resource;
* the peer: AWS CDK (``benchmarks/cdk_peer``, run with node) synthesizing the
  same topology. Skipped, with the reason, when node or its packages are missing.

It prints wall time, peak memory, resources per stack and the ratios; it
asserts nothing. The committed prod stack is measured first.

The cluster rows run ``odyssey plan --cluster`` end to end on a generated
cluster of three stacks (``cluster_project``): the owner and two tenants, 3 in
5 of each stack's services public, each stack's budget its public services, so
the 500-service cluster has 300 public services and needs three ALBs. They are
compared with bare registrations of as many resources.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "benchmarks" / "cdk_peer"
SIZES = (1, 10, 100)
CLUSTER_SIZES = (100, 300, 500)
CLUSTER_STACKS = ("core", "shop", "blog")
CLOUDFORMATION_MAX_RESOURCES = 500
# The tables fit 80 columns (a log or a pipe gets 80); each figure's meaning is in the legend under its table.
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
    """A stack owning its cluster with ``services`` services: 3 in 5 public, the rest internal and workers."""
    return cluster_configs(stack, {stack: (services, services * 3 // 5)})[stack]


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


def child_plan(project_dir: str, stack: str) -> None:
    """Plan and gate as `odyssey plan` does (the gate analyzing while the program registers)."""
    started = time.perf_counter()
    from odyssey.ops.offline.gate import plan_and_gate

    imported = time.perf_counter()
    plan, gate = plan_and_gate(Path(project_dir), stack, [(ROOT / "policies", ROOT / "policies" / "prod.json")])
    done = time.perf_counter()
    print(json.dumps({
        "resources": len(plan.resources),
        "import_s": imported - started,
        "plan_and_gate_s": done - imported,
        "mandatory": len(gate.mandatory),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


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


def child_plan_only(project_dir: str, stack: str) -> None:
    """The plan alone, with the provider modules imported first, for the per-resource comparison with bare."""
    started = time.perf_counter()
    from odyssey.ops.offline.plan import run_plan

    _import_provider_modules()
    imported = time.perf_counter()
    plan = run_plan(Path(project_dir), stack)
    done = time.perf_counter()
    print(json.dumps({"resources": len(plan.resources), "import_s": imported - started, "plan_s": done - imported}))


def _import_provider_modules() -> None:
    # pulumi-aws imports a module on first use; both sides pay that before the clock starts.
    import importlib

    for module in ("appautoscaling", "autoscaling", "cloudwatch", "ec2", "ecs", "iam", "kms", "lb", "s3",
                   "scheduler", "servicediscovery", "sns", "sqs", "vpc"):
        # A lazy module loads on its first non-introspection attribute.
        getattr(importlib.import_module(f"pulumi_aws.{module}"), "__all__", None)


def child_bare(count: str) -> None:
    started = time.perf_counter()
    import pulumi
    import pulumi_aws as aws
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    class Echo(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return f"{args.name}-id", {**args.inputs, "arn": f"arn:aws:sqs:us-east-1:123456789012:{args.name}"}

        def call(self, args):
            return {}

    _import_provider_modules()
    imported = time.perf_counter()
    pulumi.runtime.set_mocks(Echo(), project="bare", stack="bench", preview=True)

    def program():
        for i in range(int(count)):
            aws.sqs.Queue(f"queue-{i}", name=f"queue-{i}", message_retention_seconds=1_209_600,
                          tags={"Project": "bench"})

    _sync_await(run_pulumi_func(program))
    done = time.perf_counter()
    print(json.dumps({"import_s": imported - started, "register_s": done - imported,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


# ------------------------------------------------------------------ the parent


REPEATS = 3  # each figure is the median of this many fresh processes


class Steps:
    """The progress bar over every fresh process the benchmark starts, so a long run shows where it is."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress = progress
        self.task = progress.add_task("starting", total=total) if progress else None

    def doing(self, what: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=what)

    def done(self) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def run_child(steps: Steps, *args: str) -> tuple[float, dict]:
    """Median wall time and median in-process figures of REPEATS runs of a child."""
    walls, figures = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT)
        walls.append(time.perf_counter() - started)
        steps.done()
        if result.returncode != 0:
            raise SystemExit(f"benchmark child {args} failed:\n{result.stderr[-2000:]}")
        figures.append(json.loads(result.stdout.strip().splitlines()[-1]))
    merged = {key: statistics.median(f[key] for f in figures) for key in figures[0]}
    return statistics.median(walls), merged


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


def run_peer(steps: Steps, services: int) -> tuple[float, int]:
    walls = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as outdir:
            started = time.perf_counter()
            result = subprocess.run(["node", "app.js", str(services), outdir], cwd=PEER, capture_output=True, text=True)
            walls.append(time.perf_counter() - started)
        steps.done()
        if result.returncode != 0:
            raise SystemExit(f"CDK peer failed for {services} services:\n{result.stderr[-2000:]}")
    return statistics.median(walls), json.loads(result.stdout.strip().splitlines()[-1])["resources"]


def table(title: str, columns: tuple[str, ...], rows: list[list[str]]) -> Table:
    """A table of numbers that fits 80 columns: short right-aligned headers, explained in a legend below it."""
    built = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for column in columns:
        built.add_column(column, justify="right", overflow="fold")
    for row in rows:
        built.add_row(*row)
    return built


PLAN_COLUMNS = ("services", "resources", "wall s", "peak MiB", "ms/res", "bare ms/res", "vs bare")
PLAN_LEGEND = ("wall s: plan and gate end to end; ms/res: planning time per resource after imports; bare ms/res: "
               "registering as many plain resources under the same mock runtime; vs bare: the ratio of the two.")
PEER_COLUMNS = ("services", "Odyssey s", "CDK synth s", "CDK resources", "Odyssey/CDK")
PEER_LEGEND = "Odyssey s: plan and gate end to end; Odyssey/CDK: against the CDK peer's synth of the same topology."
CLUSTER_COLUMNS = ("services", "public", "stacks", "resources", "ALBs", "exit")
CLUSTER_TIME_COLUMNS = ("services", "wall s", "peak MiB", "bare wall s", "vs bare", "ms/res")


def main() -> None:
    if "--cluster-only" in sys.argv:
        cluster_table()
        return
    console.print(f"[bold]Odyssey plan-scale benchmark[/]: each figure is the median of {REPEATS} fresh processes; "
                  "wall times are end to end")
    peer_problem = peer_ready()
    per_size = 3 + (1 if peer_problem is None else 0)  # plan, plan-only, bare (and the peer)
    plan_rows, peer_rows, notes = [], [], []
    with progress_bar() as progress:
        steps = Steps(progress, REPEATS * (1 + per_size * len(SIZES)))
        steps.doing("committed prod stack")
        prod_wall, prod = run_child(steps, "plan", str(ROOT), "prod")
        for size in SIZES:
            stack = f"bench{size}"
            with tempfile.TemporaryDirectory() as scratch:
                project = project_with(stack, size, Path(scratch))
                steps.doing(f"{size} services: plan and gate")
                wall, figures = run_child(steps, "plan", str(project), stack)
                steps.doing(f"{size} services: plan only")
                _, plan_only = run_child(steps, "plan-only", str(project), stack)
            count = figures["resources"]
            steps.doing(f"{size} services: bare registrations")
            _, bare = run_child(steps, "bare", str(count))
            per_resource = plan_only["plan_s"] / count * 1000
            bare_per_resource = bare["register_s"] / count * 1000
            plan_rows.append([str(size), str(count), f"{wall:.2f}", f"{figures['peak_mib']:.0f}",
                              f"{per_resource:.2f}", f"{bare_per_resource:.2f}",
                              f"{per_resource / bare_per_resource:.2f}x"])
            if peer_problem is None:
                steps.doing(f"{size} services: CDK peer")
                peer_wall, peer_count = run_peer(steps, size)
                peer_rows.append([str(size), f"{wall:.2f}", f"{peer_wall:.2f}", str(peer_count),
                                  f"{wall / peer_wall:.2f}x"])
                if peer_count > CLOUDFORMATION_MAX_RESOURCES:
                    notes.append(f"{size} services: the CDK template has {peer_count} resources; CloudFormation "
                                 f"refuses stacks over {CLOUDFORMATION_MAX_RESOURCES}, so the peer could not deploy "
                                 "it as one stack (Pulumi has no such limit).")
            if figures["mandatory"]:
                notes.append(f"{size} services: {figures['mandatory']} mandatory violations in the generated stack")
    console.print(f"committed prod stack: {prod['resources']} resources, plan and gate {prod_wall:.2f} s end to end "
                  f"({prod['plan_and_gate_s']:.2f} s after imports), peak {prod['peak_mib']:.0f} MiB, "
                  f"{prod['mandatory']} mandatory violations")
    console.print(table("Plan and gate against bare registrations", PLAN_COLUMNS, plan_rows))
    console.print(PLAN_LEGEND)
    if peer_problem is None:
        console.print(table("Against the CDK peer", PEER_COLUMNS, peer_rows))
        console.print(PEER_LEGEND)
    else:
        console.print(f"[yellow]CDK peer skipped:[/] {peer_problem}")
    for note in notes:
        console.print(f"note: {note}")
    if "--no-cluster" in sys.argv:
        console.print("cluster rows skipped (--no-cluster)")
        return
    cluster_table()


def cluster_table() -> None:
    shape_rows, time_rows, notes = [], [], []
    with progress_bar() as progress:
        steps = Steps(progress, REPEATS * 2 * len(CLUSTER_SIZES))
        for size in CLUSTER_SIZES:
            with tempfile.TemporaryDirectory() as scratch:
                project = cluster_project(size, Path(scratch))
                steps.doing(f"cluster of {size} services: plan --cluster")
                wall, figures = run_child(steps, "cluster", str(project), CLUSTER_STACKS[0])
            count = int(figures["resources"])
            steps.doing(f"cluster of {size} services: bare registrations")
            bare_wall, _ = run_child(steps, "bare", str(count))
            shape_rows.append([str(size), str(size * 3 // 5), str(int(figures["stacks"])), str(count),
                               str(int(figures["load_balancers"])), str(int(figures["exit_code"]))])
            time_rows.append([str(size), f"{wall:.1f}", f"{figures['peak_mib']:.0f}", f"{bare_wall:.1f}",
                              f"{wall / bare_wall:.1f}x", f"{wall / count * 1000:.1f}"])
            if figures["exit_code"] or figures["problems"] or figures["mandatory"]:
                notes.append(f"{size} services: exit {int(figures['exit_code'])}, {int(figures['problems'])} "
                             f"cross-stack problems, {int(figures['mandatory'])} mandatory violations")
    print_cluster_tables(shape_rows, time_rows, notes)


def print_cluster_tables(shape_rows: list[list[str]], time_rows: list[list[str]], notes: list[str]) -> None:
    console.print(table("Cluster plan (`odyssey plan --cluster`): what was planned", CLUSTER_COLUMNS, shape_rows))
    console.print(table("Cluster plan: how long it took", CLUSTER_TIME_COLUMNS, time_rows))
    for note in notes:
        console.print(f"note: {note}")
    console.print(
        f"Each cluster is {len(CLUSTER_STACKS)} stacks ({', '.join(CLUSTER_STACKS)}; the first owns the cluster), "
        "3 in 5 services public (one target group and rule each, budget = its public services), the rest internal "
        "and workers, with schedules; the cluster sized to hold every quota and the largest deploy after losing a "
        "zone. ALBs: the load balancers the owner's plan created. wall s: plan, gate and checks of the whole "
        "cluster end to end; vs bare: against registering as many plain resources in a fresh process. Peak MiB is "
        "the planning process's; the policy packs run as processes of their own (their peak is not measured: a "
        "child's counter keeps its parent's across exec)."
    )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        os.chdir(ROOT)
        {"plan": child_plan, "plan-only": child_plan_only, "bare": child_bare, "cluster": child_cluster}[sys.argv[2]](*sys.argv[3:])
    else:
        main()
