"""The ``odyssey`` command. ``plan`` runs the offline plan; the real-engine commands come with the Automation API."""

from __future__ import annotations

import gc
import json
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from odyssey.config.base import ConfigError
from odyssey.config.stack import NAMESPACE
from odyssey.domain.invariants import AWS_LIFETIME_MIN_SECONDS, CYCLE_AUDIT_GRACE_SECONDS
from odyssey.domain.local_proxy import DEFAULT_HOST_SUFFIX, host_suffix_problem
from odyssey.domain.naming import ecs_service_name
from odyssey.domain.placement import PlacementError
from odyssey.ops.offline.dev import DEFAULT_PORT

if TYPE_CHECKING:
    from odyssey.ops.live.aws_ops import Expected

app = typer.Typer(
    help="Odyssey: the machine layer for Docker containers on AWS ECS.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # messages stay whole lines, greppable in CI logs

# Exit codes: 0 planned and passed the gate; 1 the program failed; 2 the stack's
# configuration (or policy config, or an argument) is invalid; 3 a mandatory policy failed.
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_POLICY = 3


def _print_version(value: bool) -> None:
    if value:
        import odyssey

        print(f"odyssey {odyssey.__version__}")
        raise typer.Exit()


# The offline commands' options (plan, dev, cost); the engine commands take ProjectDirOption below.
OfflineProjectDir = Annotated[
    Path, typer.Option("--project-dir", help="Directory holding Pulumi.yaml.", exists=True, file_okay=False)
]
OrganizationOption = Annotated[
    str, typer.Option(help="Organization the stack belongs to (Pulumi's default for self-managed backends).")
]


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Keeps `plan` a subcommand even while it is the only one."""


@app.command()
def plan(
    stack: Annotated[str, typer.Argument(help="Stack to plan: reads Pulumi.<stack>.yaml.")],
    json_path: Annotated[
        Optional[Path], typer.Option("--json", help="Also write the plan as JSON to this file ('-' for stdout).")
    ] = None,
    project_dir: OfflineProjectDir = Path("."),
    organization: OrganizationOption = "organization",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only problems and the totals.")] = False,
    policy_packs: Annotated[
        Optional[list[Path]],
        typer.Option("--policy-pack", help="Policy pack directory to gate the plan with; repeatable. "
                                           "Default: the project's policies/ pack."),
    ] = None,
    policy_pack_configs: Annotated[
        Optional[list[Path]],
        typer.Option("--policy-pack-config", help="Policy config JSON for the --policy-pack in the same position. "
                                                   "Default for the project's pack: policies/<stack>.json."),
    ] = None,
    skip_policies: Annotated[bool, typer.Option("--skip-policies", help="Plan without the policy gate.")] = False,
    cluster: Annotated[
        bool, typer.Option("--cluster", help="STACK owns a cluster: plan it and every registered tenant with a stack "
                                             "file here, check them together and print the tenancy table.")
    ] = False,
) -> None:
    """Run the Pulumi program offline under Pulumi's mock runtime, then gate it with the policy packs.

    Needs no AWS account and no Pulumi CLI. Exit codes: 0 passed; 1 the program
    failed; 2 invalid stack or policy configuration (each problem is listed);
    3 a mandatory policy was violated. With --cluster, each stack's plan and
    the checks across them decide the code: 1 when any stack's program failed,
    else 2 for any invalid config or cross-stack conflict, else 3 for any
    mandatory violation.
    """
    from odyssey.ops.offline.cluster import tenancy_line
    from odyssey.ops.offline.gate import GateError, plan_and_gate
    from odyssey.ops.offline.plan import PlanError, close_event_loop

    if cluster:
        _plan_cluster(stack, json_path, project_dir, organization, policy_packs or [],
                      policy_pack_configs or [], skip_policies)
        return
    packs = _packs(project_dir, stack, policy_packs or [], policy_pack_configs or [], skip_policies)
    try:
        result, gate = plan_and_gate(project_dir, stack, packs, organization)
    except ConfigError as error:
        errors.print(f"[bold red]{stack}:[/] {error}", highlight=False, markup=True)
        raise typer.Exit(EXIT_CONFIG) from None
    except (PlanError, PlacementError, GateError) as error:
        errors.print(f"[bold red]{stack}:[/] {error}", highlight=False)
        raise typer.Exit(EXIT_CONFIG) from None
    except Exception as error:  # noqa: BLE001 - the program's own error, shown without a traceback
        errors.print(f"[bold red]{stack}: the program failed:[/] {type(error).__name__}: {error}", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    finally:
        close_event_loop()

    document = result.to_json()
    if gate is not None:
        document["policies"] = gate.to_json()
    if json_path is not None:
        text = json.dumps(document, indent=2, sort_keys=False, default=str)
        if str(json_path) == "-":
            print(text)
        else:
            json_path.write_text(text + "\n")
    if str(json_path) != "-":
        render(document, quiet=quiet)
        line = tenancy_line(result)
        if line:
            console.print(line, highlight=False, soft_wrap=True)
        _print_cost_line(result)
        if gate is not None:
            render_gate(gate)
    if gate is not None and gate.mandatory:
        raise typer.Exit(EXIT_POLICY)


def _print_cost_line(result) -> None:
    from odyssey.domain.cost import PriceTableError
    from odyssey.ops.offline.cost import cost_line

    try:
        console.print(cost_line(result), highlight=False, soft_wrap=True, markup=False)
    except PriceTableError as error:
        console.print(f"cost: not estimated: {error}", highlight=False, soft_wrap=True, markup=False)


def _plan_cluster(owner: str, json_path: Optional[Path], project_dir: Path, organization: str,
                  packs: list[Path], configs: list[Path], skip: bool) -> None:
    from odyssey.ops.offline.cluster import StackOutcome, plan_cluster
    from odyssey.ops.offline.plan import PlanError, close_event_loop, read_stack_files

    try:
        owns = f"{NAMESPACE}:clusterStack" not in read_stack_files(project_dir.resolve(), owner).config
    except (ConfigError, PlanError) as error:
        raise _fail(owner, error, EXIT_CONFIG) from None
    if not owns:
        raise _fail(owner, f"runs on another stack's cluster ({NAMESPACE}:clusterStack); plan the cluster of the "
                           "stack that owns it: odyssey plan --cluster <owner>", EXIT_CONFIG)
    to_stdout = str(json_path) == "-"

    def planned(outcome: StackOutcome) -> None:
        if to_stdout:
            return
        if outcome.error:
            errors.print(f"[bold red]{outcome.stack}:[/] {outcome.error}", highlight=False)
            return
        # Each stack's totals and gate; its resource tree is `odyssey plan STACK`'s to show.
        render(outcome.plan.to_json(), quiet=True)
        if outcome.gate is not None:
            render_gate(outcome.gate)

    try:
        view = plan_cluster(project_dir, owner, lambda stack: _packs(project_dir, stack, packs, configs, skip),
                            organization, on_planned=planned)
    finally:
        close_event_loop()
    cost, cost_error = _cluster_cost(view)
    document = view.to_json()
    document["cost"] = _cost_json(owner, cost, cost_error)
    if json_path is not None:
        text = json.dumps(document, indent=2, default=str)
        if to_stdout:
            print(text)
        else:
            json_path.write_text(text + "\n")
    if not to_stdout:
        render_cluster(view)
        if cost is not None:
            render_chargeback(cost)
        elif cost_error:
            console.print(f"cost: not estimated: {cost_error}", highlight=False, soft_wrap=True, markup=False)
    if view.exit_code:
        raise typer.Exit(view.exit_code)


def _cluster_cost(view):
    """The cluster's cost and chargeback, or the reason there is none (no pinned prices for its region)."""
    from odyssey.domain.cost import PriceTableError
    from odyssey.ops.offline.cost import cluster_cost

    try:
        return cluster_cost(view), None
    except PriceTableError as error:
        return None, str(error)


def _cost_json(stack: str, cost, error: Optional[str]) -> dict[str, Any]:
    from odyssey.ops.offline.cost import cost_document

    if cost is None:
        return {"stack": stack, "error": error or "the owning stack did not plan"}
    return cost_document(stack, cost, None, cost.prices, cost.assumptions, [])


def render_chargeback(cost) -> None:
    from odyssey.domain.cost import CHARGEBACK_FORMULA, money, money_range

    table = Table(title=f"Chargeback of {cost.owner}'s cluster, USD a month (cluster at min-max size)")
    for column in ("tenant", "compute share", "ALB share", "shared", "own", "total"):
        table.add_column(column, justify="left" if column == "tenant" else "right", no_wrap=True)
    for charge in cost.charges:
        own = money_range(*charge.own) if charge.own is not None else "not planned here"
        table.add_row(charge.stack, f"{charge.compute_share:.1%}", f"{charge.alb_share:.1%}",
                      money_range(*charge.shared), own, money_range(*charge.total))
    console.print(table)
    console.print(f"split: {CHARGEBACK_FORMULA}", highlight=False, soft_wrap=True, markup=False)
    counterfactual = cost.counterfactuals.get("cluster")
    if counterfactual is not None:
        console.print(f"one ALB per public service (003/004): {counterfactual.public_services} ALBs would cost "
                      f"{money(counterfactual.one_per_service)} a month; the shared pool costs "
                      f"{money(counterfactual.shared)} (ALB hours, assumed LCUs, public addresses)",
                      highlight=False, soft_wrap=True, markup=False)
    for note in cost.notes:
        console.print(f"[cyan]note:[/] {note}", highlight=False, soft_wrap=True)


def render_cluster(view) -> None:
    table = Table(title=f"Tenancy of {view.owner}'s cluster")
    table.add_column("tenant", no_wrap=True)
    table.add_column("ALB", justify="right")
    table.add_column("hosts", overflow="fold")
    for column in ("target groups", "rules", "CPU units", "memory MiB"):
        table.add_column(column, justify="right", no_wrap=True)
    for usage in view.usages:
        t = usage.tenancy
        table.add_row(usage.stack, str(usage.load_balancer or "-"), ", ".join(usage.hosts) or "-",
                      f"{usage.target_groups}/{t.target_groups if t else '-'}", f"{usage.rules}/{t.rules if t else '-'}",
                      f"{usage.reserved.cpu}/{_or_dash(t.cpu if t else None)}",
                      f"{usage.reserved.memory}/{_or_dash(t.memory if t else None)}")
    for stack in view.not_planned:
        table.add_row(stack, "", "[dim]not planned here[/]", "", "", "", "")
    for outcome in view.outcomes:
        if outcome.plan is None:
            table.add_row(outcome.stack, "", f"[red]did not plan (exit {outcome.code})[/]", "", "", "", "")
    console.print(table)
    for index, lb in enumerate(view.load_balancers, start=1):
        console.print(f"ALB {index}: {lb.get('dnsName')}", highlight=False)
    for line in view.headroom:
        free = line.free
        console.print(f"headroom, {line.scenario}: CPU {free.cpu} of {line.capacity.cpu} units free "
                      f"({line.reserved.cpu} reserved), memory {free.memory} of {line.capacity.memory} MiB free "
                      f"({line.reserved.memory} reserved)", highlight=False, soft_wrap=True)
    for problem in view.problems:
        errors.print(f"[bold red]conflict:[/] {problem}", highlight=False)
    planned = sum(1 for o in view.outcomes if o.plan is not None)
    console.print(f"[bold]{view.owner}'s cluster[/]: {planned} of {len(view.outcomes)} stacks planned, "
                  f"{len(view.not_planned)} registered elsewhere, {len(view.load_balancers)} ALB(s), "
                  f"{len(view.problems)} cross-stack problem(s); exit {view.exit_code}.", highlight=False)


def _or_dash(value: Optional[int]) -> str:
    return "-" if value is None else str(value)


def _packs(
    project_dir: Path, stack: str, packs: list[Path], configs: list[Path], skip: bool
) -> list[tuple[Path, Optional[Path]]]:
    if skip:
        if packs or configs:
            raise typer.BadParameter("--skip-policies cannot be combined with --policy-pack or --policy-pack-config")
        return []
    if len(configs) > max(len(packs), 1):
        raise typer.BadParameter(
            f"{len(configs)} --policy-pack-config for {max(len(packs), 1)} pack(s); give at most one config per "
            "--policy-pack, in the same order", param_hint="--policy-pack-config")
    if not packs:
        default_config = project_dir / "policies" / f"{stack}.json"
        return [(project_dir / "policies", configs[0] if configs else (default_config if default_config.exists() else None))]
    for pack in packs:
        if not (pack / "PulumiPolicy.yaml").exists():
            raise typer.BadParameter(f"{pack} has no PulumiPolicy.yaml; is it a policy pack directory?",
                                     param_hint="--policy-pack")
    return [(pack, configs[i] if i < len(configs) else None) for i, pack in enumerate(packs)]


def render_gate(gate) -> None:
    by_policy: dict[tuple[str, str, str], list] = {}
    for violation in gate.violations:
        by_policy.setdefault((violation.pack, violation.policy, violation.enforcementLevel), []).append(violation)
    colours = {"mandatory": "red", "advisory": "yellow"}
    for (pack, policy, level), violations in sorted(by_policy.items(), key=lambda item: (item[0][2] != "mandatory", item[0])):
        console.print(f"[bold {colours.get(level, 'white')}]{level}[/] {pack}/{policy} ({len(violations)})",
                      highlight=False)
        for violation in violations:
            first, *rest = violation.message.splitlines() or [""]
            detail = " ".join(rest) if rest else first
            console.print(f"  - {violation.urn or '(stack)'}\n    {detail}", highlight=False, soft_wrap=True)
    packs = ", ".join(f"{p['name']}@{p['version']} ({p['policies']} policies)" for p in gate.packs)
    verdict = (f"[bold red]{len(gate.mandatory)} mandatory violation(s)[/]" if gate.mandatory
               else "[bold green]no mandatory violations[/]")
    console.print(f"Policy gate: {packs}: {verdict}, {len(gate.violations) - len(gate.mandatory)} advisory.",
                  soft_wrap=True)


def render(document: dict[str, Any], quiet: bool = False) -> None:
    resources = document["resources"]
    if not quiet:
        console.print(_tree(document))
        counts = Counter(r["type"] for r in resources)
        table = Table(title="Resources by type", show_lines=False)
        table.add_column("type")
        table.add_column("count", justify="right")
        for typ, count in sorted(counts.items()):
            table.add_row(typ, str(count))
        console.print(table)
        outputs = Table(title="Stack outputs")
        outputs.add_column("output")
        outputs.add_column("value", overflow="fold")
        for name, value in document["outputs"].items():
            outputs.add_row(name, json.dumps(value) if not isinstance(value, str) else value)
        console.print(outputs)
    for warning in document["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for assumption in document["assumptions"]:
        console.print(f"[cyan]assumed offline:[/] {assumption}", highlight=False)
    console.print(
        f"[bold]{document['stack']}[/]: {len(resources)} resources planned offline "
        f"({sum(1 for r in resources if r['custom'])} cloud resources, "
        f"{sum(1 for r in resources if not r['custom'])} components)."
    )


def _tree(document: dict[str, Any]) -> Tree:
    root = Tree(f"[bold]{document['project']}-{document['stack']}[/] (pulumi:pulumi:Stack)")
    children: dict[str | None, list[dict[str, Any]]] = {}
    urns = {r["urn"] for r in document["resources"]}
    for record in document["resources"]:
        parent = record["parent"] if record["parent"] in urns else None
        children.setdefault(parent, []).append(record)

    def add(node: Tree, parent: str | None) -> None:
        for record in children.get(parent, []):
            label = f"{record['name']} [dim]({record['type']})[/]"
            if record.get("protect"):
                label += " [magenta]protected[/]"
            add(node.add(label), record["urn"])

    add(root, None)
    return root


@app.command("plan-diff")
def plan_diff(
    before: Annotated[Path, typer.Argument(help="A plan written by `odyssey plan --json`.", exists=True, dir_okay=False)],
    after: Annotated[Path, typer.Argument(help="The plan to compare with it.", exists=True, dir_okay=False)],
) -> None:
    """What AFTER would do to a stack deployed as BEFORE: created, deleted, changed and aliased resources.

    Resources are matched by URN or by an alias, as the engine matches them.
    Local components added or removed are listed apart: they hold no cloud state.
    Exit codes: 0 nothing would be created, deleted or changed; 1 something
    would; 2 a file is not a plan.
    """
    from odyssey.ops.offline.plan_diff import diff_plans

    plans = []
    for path in (before, after):
        try:
            document = json.loads(path.read_text())
            document["resources"]  # noqa: B018 - a plan has resources
        except (json.JSONDecodeError, KeyError, TypeError):
            errors.print(f"{path}: not a plan written by `odyssey plan --json`", highlight=False)
            raise typer.Exit(EXIT_CONFIG) from None
        plans.append(document)
    diff = diff_plans(*plans)
    for line in diff.lines():
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    console.print(f"{len(diff.created)} to create, {len(diff.deleted)} to delete, {len(diff.changed)} to change, "
                  f"{len(diff.aliased)} aliased, {len(diff.components_created)} components added, "
                  f"{len(diff.components_deleted)} removed.", highlight=False)
    if not diff.empty:
        raise typer.Exit(EXIT_FAILED)


EXIT_NO_ENGINE = 5  # `odyssey dev --up`: the files are written, but no Compose engine is here to start them


@app.command()
def dev(
    stack: Annotated[str, typer.Argument(help="Stack to run locally: reads Pulumi.<stack>.yaml.")],
    output: Annotated[
        Optional[Path], typer.Option("--output", help="The Compose file to write. Default: compose.<stack>.yaml "
                                                      "in the project directory; the proxy's rules go beside it.")
    ] = None,
    env_file: Annotated[
        Optional[Path], typer.Option("--env-file", help="The git-ignored file of the stack's secrets, KEY=value. "
                                                        "Default: .env.<stack> in the project directory.")
    ] = None,
    project_dir: OfflineProjectDir = Path("."),
    host_suffix: Annotated[
        str, typer.Option("--host-suffix", help="A configured host H is served locally as H.<suffix>.")
    ] = DEFAULT_HOST_SUFFIX,
    port: Annotated[
        int, typer.Option("--port", help="The proxy's port on 127.0.0.1.", min=1, max=65535)
    ] = DEFAULT_PORT,
    init_secrets: Annotated[
        bool, typer.Option("--init-secrets", help="Add every secret's key the env file lacks, empty, and stop.")
    ] = False,
    run: Annotated[
        Optional[str], typer.Option("--run", help="Print the command that runs this schedule once (with --up: "
                                                  "run it).")
    ] = None,
    start: Annotated[
        bool, typer.Option("--up", help="Then run `docker compose up -d` (or `podman compose`).")
    ] = False,
) -> None:
    """Write a Compose file that runs STACK's application stack on one Docker machine, from the same stack file.

    Every service runs the container the stack deploys (image, command,
    environment, limits, health check, desired count as replicas); one nginx
    proxy routes the shared ALB's rules of the stack in the same order, each
    configured host H as H.localhost on 127.0.0.1:PORT, with the listener's
    404 for the rest; every service with discovery answers as
    <service>.<namespace>; secrets come from the env file, by key.
    Exit codes: 0 written (and started); 1 the Compose engine failed, or a
    container definition has no Compose equivalent yet; 2 invalid stack
    configuration or option, a secret missing from the env file, an unknown
    schedule; 5 --up without `docker compose` or `podman compose`.
    """
    from odyssey.ops.offline.dev import (
        DevError,
        compose_command,
        dev_files,
        env_template,
        find_engine,
        load_config,
        missing_secrets,
        proxy_file_for,
        run_command,
        secret_uses,
        write_dev_files,
    )
    from odyssey.ops.offline.plan import PlanError

    compose_path = output or project_dir / f"compose.{stack}.yaml"
    env_path = env_file or project_dir / f".env.{stack}"
    try:
        config, names = load_config(project_dir, stack)
        uses = secret_uses(config)
    except ConfigError as error:
        raise _fail(stack, error, EXIT_CONFIG) from None
    except PlanError as error:
        raise _fail(stack, error, EXIT_CONFIG) from None
    if init_secrets:
        text, added = env_template(env_path, uses, stack)
        env_path.write_text(text)
        console.print(f"{env_path}: {len(added)} key(s) added ({', '.join(added) or 'none missing'}); set their "
                      f"values, then: odyssey dev {stack} --up", highlight=False, soft_wrap=True)
        return
    missing = missing_secrets(env_path, uses)
    if missing:
        for line in missing:
            errors.print(f"[bold red]{stack}:[/] secret {line}", highlight=False)
        errors.print(f"`odyssey dev {stack} --init-secrets` adds the missing keys to {env_path}.", highlight=False)
        raise typer.Exit(EXIT_CONFIG)
    problem = host_suffix_problem(host_suffix)
    if problem:
        raise _fail(stack, f"--host-suffix: {problem}", EXIT_CONFIG)
    try:
        steps = run_command(list(config.schedules), run) if run is not None else ["up", "-d"]
    except DevError as error:
        raise _fail(stack, error, EXIT_CONFIG) from None
    try:
        files = dev_files(config, names, env_path.name, f"./{proxy_file_for(compose_path).name}", host_suffix, port)
    except ValueError as error:  # a container definition this version cannot translate: Odyssey's gap, not the config's
        raise _fail(stack, f"cannot write the Compose file: {error}", EXIT_FAILED) from None
    proxy_path = write_dev_files(files, compose_path, stack)
    console.print(f"wrote {compose_path} and {proxy_path}", highlight=False, soft_wrap=True)
    for offset, service, hosts, paths in files.routes:
        urls = ", ".join(f"http://{h}:{port}{p}" for h in hosts for p in (paths or ["/"]))
        console.print(f"  {offset:>5} {service}: {urls}", highlight=False, soft_wrap=True, markup=False)
    engine = find_engine() if start else None
    command = compose_command(engine or ("docker", "compose"), compose_path, env_path, *steps)
    if not start:
        console.print(shlex.join(command), highlight=False, soft_wrap=True, markup=False)
        return
    if engine is None:
        errors.print(f"{stack}: the files are written, but neither `docker compose` nor `podman compose` answers "
                     f"here; install one (Docker with its Compose plugin), or run on a Docker machine: "
                     f"{shlex.join(command)}", highlight=False, markup=False)
        raise typer.Exit(EXIT_NO_ENGINE)
    if subprocess.run(command).returncode != 0:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def cost(
    stack: Annotated[str, typer.Argument(help="Stack to estimate: reads Pulumi.<stack>.yaml.")],
    json_path: Annotated[
        Optional[Path], typer.Option("--json", help="Also write the estimate as JSON to this file ('-' for stdout).")
    ] = None,
    project_dir: OfflineProjectDir = Path("."),
    organization: OrganizationOption = "organization",
    refresh_prices: Annotated[
        bool, typer.Option("--refresh-prices", help="First rewrite the stack's region in the pinned price table "
                                                   "from the AWS Price List API (needs AWS credentials).")
    ] = False,
) -> None:
    """What STACK costs a month, estimated offline from its plan and a pinned price table.

    A line per priced resource class (instances at the group's minimum and
    maximum size, volumes, NAT, ALBs, keys, alarms, Container Insights, logs,
    flow logs, WAF, Cloud Map, OpenSearch), each tenant's share of the shared
    cluster, and what one ALB per public service would cost instead. Traffic
    is assumed where only traffic can tell, and every assumption is printed.
    Exit codes: 0 estimated; 1 the program failed; 2 invalid config, no
    prices for the region, or a failed price refresh.
    """
    from odyssey.domain.cost import Assumptions, PriceTableError, pinned_prices
    from odyssey.ops.offline.cluster import plan_cluster
    from odyssey.ops.offline.cost import cluster_cost, cost_document, plan_estimate
    from odyssey.ops.offline.plan import PlanError, owner_of, read_stack_files

    try:
        files = read_stack_files(project_dir.resolve(), stack)
    except PlanError as error:
        raise _fail(stack, error, EXIT_CONFIG) from None
    region = files.region or "us-east-1"
    if refresh_prices:
        from odyssey.ops.live.prices import PriceRefreshError, refresh_region

        try:
            written = refresh_region(region)
        except PriceRefreshError as error:
            raise _fail(stack, error, EXIT_CONFIG) from None
        errors.print(f"prices for {region} refreshed from the AWS Price List API: {len(written)} figures",
                     highlight=False)
    try:
        prices = pinned_prices(region)
    except PriceTableError as error:
        raise _fail(stack, error, EXIT_CONFIG) from None
    owner_name = owner_of(files)
    parts = owner_name.split("/") if owner_name else []
    owner = stack if owner_name is None else parts[2] if len(parts) == 3 and parts[1] == files.project else None
    notes: list[str] = []
    assume = Assumptions()
    cluster = single = None
    if owner is not None:
        view = plan_cluster(project_dir, owner, lambda name: [], organization)
        failed = next((o for o in view.outcomes if o.stack in (owner, stack) and o.plan is None), None)
        if failed is not None:
            errors.print(f"[bold red]{failed.stack}:[/] {failed.error}", highlight=False)
            raise typer.Exit(failed.code)
        cluster = cluster_cost(view, prices, assume)
        if cluster is not None and stack not in cluster.estimates:
            notes.append(f"{stack} is not a tenant {owner} registers: planned on its own")
            cluster = None
    if cluster is None:
        from odyssey.ops.offline.plan import run_plan

        try:
            single = plan_estimate(run_plan(project_dir, stack, organization=organization), prices, assume)
        except (ConfigError, PlanError, PlacementError) as error:
            raise _fail(stack, error, EXIT_CONFIG) from None
        if owner_name is not None:
            notes.append(f"its share of {owner_name}'s cluster is not included: that cluster is not planned here")
    document = cost_document(stack, cluster, single, prices, assume, notes)
    if json_path is not None:
        text = json.dumps(document, indent=2)
        if str(json_path) == "-":
            print(text)
            return
        json_path.write_text(text + "\n")
    render_cost(document, cluster)


def render_cost(document: dict[str, Any], cluster) -> None:
    from odyssey.domain.cost import money, money_range

    estimate = document["estimate"]
    table = Table(title=f"{document['stack']}: a month at {document['hoursPerMonth']} h, {document['region']} "
                        f"list prices of {document['priceTable']['date']} (USD)")
    for column in ("line", "scope", "quantity", "unit price", "monthly"):
        table.add_column(column, justify="left" if column in ("line", "scope") else "right", no_wrap=column != "line")
    for line in estimate["lines"]:
        quantity = line["quantity"]
        amount = (f"{quantity['min']:,.4g}" if quantity["min"] == quantity["max"]
                  else f"{quantity['min']:,.4g}-{quantity['max']:,.4g}")
        monthly = ("unpriced" if line["unpriced"]
                   else money_range(line["monthly"]["min"], line["monthly"]["max"]))
        unit = document["priceTable"]["prices"].get(line["priceKey"], {}).get("unit", line["unit"])
        price = "-" if line["unitPrice"] is None else f"${line['unitPrice']:g}/{unit}"
        table.add_row(line["label"], "cluster" if line["scope"] == "cluster" else "stack",
                      f"{amount} {line['unit']}", price, monthly)
    console.print(table)
    total = estimate["total"]
    unpriced = [line for line in estimate["lines"] if line["unpriced"]]
    console.print(f"[bold]{document['stack']}[/]: {money_range(total['min'], total['max'])} a month "
                  "(min-max: the cluster's instances at the group's minimum and maximum size)"
                  + (f", without {len(unpriced)} unpriced line{'' if len(unpriced) == 1 else 's'}" if unpriced else ""),
                  highlight=False, soft_wrap=True)
    for line in unpriced:
        console.print(f"[yellow]unpriced:[/] {line['label']}: {line['unpriced']}", highlight=False)
    if cluster is not None:
        render_chargeback(cluster)
        mine = cluster.counterfactuals.get(document["stack"])
        if mine is not None and document["stack"] != cluster.owner:
            console.print(f"{document['stack']} alone: {mine.public_services} public services on ALBs of their own "
                          f"would cost {money(mine.one_per_service)} a month; its share of the shared pool is "
                          f"{money(mine.shared)}", highlight=False, soft_wrap=True, markup=False)
    for assumption in document["assumptions"]:
        console.print(f"[cyan]assumed:[/] {assumption}", highlight=False, soft_wrap=True)
    console.print("[cyan]not estimated:[/] " + "; ".join(document["notEstimated"]), highlight=False, soft_wrap=True)
    shown = cluster.notes if cluster is not None else []  # render_chargeback printed the cluster's notes
    for note in document["notes"]:
        if note not in shown:
            console.print(f"[cyan]note:[/] {note}", highlight=False, soft_wrap=True)
    free = ", ".join(f"{entry['type'].split(':')[-1]} x{entry['count']}" for entry in estimate["unpricedTypes"])
    if free:
        console.print(f"[dim]no line (free, or request-priced and not estimated): {free}[/]", highlight=False,
                      soft_wrap=True)


# The commands that plan offline: one batch, then the process exits.
PLANNING_COMMANDS = frozenset({"plan", "plan-diff", "cost", "dev"})


def main() -> None:
    # A plan leaves its objects in reference cycles (the SDK's Outputs and futures): 763,015 at 500 services.
    # When the plan pauses the collector and resumes it (collector_paused), the first collection after the plan
    # finds them all: 1.8-1.9 s there, plus 0.7 s for the next generation when gated, to free memory the process
    # gives back at exit anyway. A planning command keeps the collector off until it exits. Either way, exiting,
    # what is alive is frozen: the interpreter's final collections would scan it all (measured: 4.2 s after a
    # 100-service plan on a loaded machine, 0 s frozen). Only the command does this: the app run in a
    # longer-lived process (tests, an embedding tool) keeps its collector as it was, and so do the commands that
    # watch AWS for minutes.
    if sys.argv[1:2] and sys.argv[1] in PLANNING_COMMANDS:
        gc.disable()
    try:
        app(prog_name="odyssey")
    finally:
        gc.freeze()


# ------------------------------------------------------------------ the real engine and the live cluster

EXIT_BROKEN = 4  # a deploy failed or rolled back; the cycle audit found a broken invariant
EXIT_UNRECORDED = 5  # deployed, but the new version is not on the upstream branch: a CI `up` would revert it

StackArg = Annotated[str, typer.Argument(help="Stack name, e.g. prod.")]
OutputsOption = Annotated[
    Optional[Path],
    typer.Option("--outputs", help="Stack outputs as JSON (`pulumi stack output --json`) instead of asking the "
                                   "Pulumi CLI.", exists=True, dir_okay=False),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Apply without showing the change summary and asking "
                                                           "(asked on prod only; required there when not on a "
                                                           "terminal).")]
ProjectDirOption = Annotated[
    Optional[Path],
    typer.Option("--project-dir", help="The project (Pulumi.yaml and the stack files). Default: this repository.",
                 exists=True, file_okay=False),
]
PushFlag = Annotated[bool, typer.Option("--push/--no-push", help="Push the commit that records the new version "
                                                                "(without it, a CI `up` would revert it).")]
TimeoutOption = Annotated[int, typer.Option(help="Seconds to follow the rollout.", min=1)]


def _fail(stack: str, error: Exception | str, code: int) -> typer.Exit:
    # AWS's, git's and the engine's words may hold brackets, which are not markup.
    errors.print(f"[bold red]{escape(stack)}:[/] {escape(str(error))}", highlight=False)
    return typer.Exit(code)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _stack_outputs(stack: str, outputs_file: Optional[Path]) -> dict[str, Any]:
    from odyssey.ops.live.automation import AutomationError, CliMissingError, Odyssey

    if outputs_file is not None:
        try:
            outputs = json.loads(outputs_file.read_text())
        except json.JSONDecodeError as error:
            raise _fail(stack, f"--outputs {outputs_file}: not valid JSON ({error})", EXIT_CONFIG) from None
    else:
        try:
            outputs = Odyssey().outputs(stack)
        except CliMissingError as error:
            raise _fail(stack, f"{error}; or give the stack's outputs as a file: --outputs FILE, written where the "
                               f"CLI is with `pulumi stack output --stack {stack} --json > FILE`", EXIT_CONFIG) from None
        except AutomationError as error:
            raise _fail(stack, error, EXIT_CONFIG) from None
    missing = [key for key in ("region", "clusterName", "autoScalingGroupName") if key not in outputs]
    if missing:
        raise _fail(stack, f"the stack's outputs lack {', '.join(missing)}; is it deployed with this version?",
                    EXIT_CONFIG)
    return outputs


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty()


def _confirm_for(stack: str, yes: bool):
    """None (apply without asking) or the question a protected stack's change must answer yes to."""
    from odyssey.ops.live.automation import PROTECTED_STACKS

    if yes or stack not in PROTECTED_STACKS:
        return None
    if not _interactive():
        raise _fail(stack, f"refusing to change {stack} without confirmation: this is not an interactive terminal. "
                           f"Review `odyssey preview {stack}`, then re-run with --yes", EXIT_CONFIG)

    def confirm(preview: Any) -> bool:
        _print_result(preview)
        return typer.confirm(f"Apply these changes to {stack}?", default=False)

    return confirm


def _progress(event: Any) -> None:
    from odyssey.ops.live.automation import change_of

    change = change_of(event)
    if change is not None:
        console.print(f"  {change['op']} {change['type']} {change['name']}", highlight=False, soft_wrap=True,
                      markup=False)


def _print_result(result: Any) -> None:
    console.print(f"[bold]{result.stack}[/] {result.operation}: "
                  + (", ".join(f"{kind} {count}" for kind, count in sorted(result.summary.items())) or "no changes"),
                  highlight=False)
    for violation in result.violations:
        console.print(f"  {violation['enforcementLevel']} {violation['pack']}/{violation['policy']}: "
                      f"{violation['message']}", highlight=False, soft_wrap=True, markup=False)
    if result.mandatory_violations:
        raise typer.Exit(EXIT_POLICY)


def _odyssey(project_dir: Optional[Path]):
    from odyssey.ops.live.automation import ROOT, Odyssey

    return Odyssey(project_dir=(project_dir or ROOT).resolve(), on_event=_progress)


def _run_engine(stack: str, action) -> Any:
    """Run an engine operation; policy stops, refusals and failures become messages and exit codes."""
    from odyssey.ops.live.automation import AutomationError, NotConfirmedError, PolicyViolationError
    from odyssey.ops.live.aws_ops import OpsError
    from odyssey.ops.live.release import ReleaseError

    try:
        return action()
    except PolicyViolationError as error:
        _print_result(error.result)  # lists the violations and exits 3
        raise typer.Exit(EXIT_POLICY) from None
    except NotConfirmedError as error:
        raise _fail(stack, error, EXIT_FAILED) from None
    except (AutomationError, OpsError, ReleaseError) as error:
        raise _fail(stack, error, EXIT_CONFIG) from None


@app.command()
def preview(stack: StackArg, project_dir: ProjectDirOption = None) -> None:
    """`pulumi preview` of STACK through the Automation API, with the policy pack and the stack's policy config."""
    _print_result(_run_engine(stack, lambda: _odyssey(project_dir).preview(stack)))


@app.command()
def up(stack: StackArg, yes: YesFlag = False, project_dir: ProjectDirOption = None) -> None:
    """`pulumi up` of STACK through the Automation API, with the policy pack and the stack's policy config.

    On prod, the change summary (a preview) is shown first and the update
    waits for a yes, unless --yes; off a terminal, --yes is required.
    """
    confirm = _confirm_for(stack, yes)
    _print_result(_run_engine(stack, lambda: _odyssey(project_dir).up(stack, confirm)))


def _ecs_service(stack: str, service: str, outputs: dict[str, Any]) -> str:
    return (outputs.get("serviceNames") or {}).get(service) or ecs_service_name(stack, service)


def _release(stack: str, service: str, image: str, outputs: Optional[dict[str, Any]], yes: bool, push: bool,
             timeout: int, project_dir: Optional[Path], message: Optional[str] = None) -> None:
    """Deploy IMAGE as SERVICE's version through release(): git, the stack file and ECS end up agreeing."""
    from odyssey.ops.live.automation import ROOT
    from odyssey.ops.live.aws_ops import clients
    from odyssey.ops.live.release import Checkout, Cluster, release

    confirm = _confirm_for(stack, yes)
    cluster = None
    if outputs is not None:
        cluster = Cluster(clients(outputs["region"])["ecs"], outputs["clusterName"], _ecs_service(stack, service, outputs))
    shown: list[tuple] = []

    def progress(p: dict[str, Any]) -> None:
        line = (p["rolloutState"], p["running"], p["desired"], p["pending"], p["failedTasks"])
        if not shown or shown[-1] != line:
            shown.append(line)
            console.print(f"  {p['service']}: {p['rolloutState']}, {p['running']}/{p['desired']} running, "
                          f"{p['pending']} pending, {p['failedTasks']} failed tasks", highlight=False)

    odyssey = _odyssey(project_dir)
    released = _run_engine(stack, lambda: release(
        odyssey, Checkout((project_dir or ROOT).resolve()), stack, service, image, cluster, confirm, push, message,
        on_progress=progress, timeout_seconds=timeout))
    _print_result(released.update)
    rollout = released.rollout
    if rollout is not None:
        for event in rollout.events[-5:]:
            console.print(f"  {event}", highlight=False, soft_wrap=True, markup=False)
        colour = "green" if rollout.outcome == "COMPLETED" else "red"
        console.print(f"[bold {colour}]{rollout.service}: {rollout.outcome}[/] {escape(rollout.reason)}",
                      highlight=False, soft_wrap=True)
    if released.agreed is not None:
        agreed = released.agreed
        if agreed.image == image:
            console.print(f"[yellow]ECS's primary deployment runs {image} ({agreed.revision}) but its rollout did not "
                          f"complete: the stack file names it, uncommitted. When `odyssey status {stack}` shows the "
                          f"rollout COMPLETED, commit and push the stack file; if it rolls back, restore the file "
                          f"(git checkout -- Pulumi.{stack}.yaml).[/]", highlight=False)
        elif released.file_clean:
            console.print(f"ECS runs {agreed.image} ({agreed.revision}), as the committed stack file says: nothing "
                          f"recorded, {image} is not deployed.", highlight=False, soft_wrap=True)
        else:
            console.print(f"[yellow]ECS runs {agreed.image} ({agreed.revision}), which is not the committed image: "
                          f"the stack file now names it, uncommitted. Commit it, or deploy a fix, so git says what "
                          "runs.[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BROKEN)
    if released.recorded:
        console.print(f"[green]recorded[/]: {image} as {service}'s version in {stack}'s stack file, commit "
                      f"{released.commit}, pushed; the next CI up deploys the same image.", highlight=False,
                      soft_wrap=True)
        return
    console.print(f"[bold red]not recorded[/]: deployed and committed as {released.commit}, but "
                  f"{escape(released.push_problem or '')}. "
                  f"Until that commit is on the upstream branch, a CI up puts the previous image back: push it "
                  "(or merge it) now.", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_UNRECORDED)


@app.command()
def deploy(
    stack: StackArg,
    service: Annotated[str, typer.Argument(help="Service name, as in odyssey:services.")],
    image: Annotated[str, typer.Argument(help="The new version: repo:tag or repo@sha256:digest.")],
    watch: Annotated[bool, typer.Option(help="Follow the ECS rollout before recording the version.")] = True,
    timeout: TimeoutOption = 1800,
    outputs_file: OutputsOption = None,
    yes: YesFlag = False,
    push: PushFlag = True,
    project_dir: ProjectDirOption = None,
) -> None:
    """Deploy IMAGE as SERVICE's new version; the stack file in git stays what runs.

    From a clean checkout level with its upstream: set the image in the stack
    file, `up` with policies (on prod after showing the changes and a yes),
    follow the ECS rollout, then commit the stack file and push it, so a CI
    `up` from main deploys the same image. When the circuit breaker rolls the
    deployment back, the stack file goes back to the image ECS runs and nothing
    is committed. Exit codes: 0 completed and recorded; 1 not confirmed; 2 the
    checkout, the stack or AWS is not ready; 3 policy; 4 failed or rolled back;
    5 deployed but not pushed.
    """
    from odyssey.domain.images import pinned_image_problem

    problem = pinned_image_problem(image)
    if problem:
        raise _fail(stack, f"IMAGE: {problem}; deploy a version such as repo:1.4.2 or repo@sha256:<digest>",
                    EXIT_CONFIG)
    outputs = _stack_outputs(stack, outputs_file) if watch else None
    _release(stack, service, image, outputs, yes, push, timeout, project_dir)


@app.command()
def rollback(
    stack: StackArg,
    service: Annotated[str, typer.Argument(help="Service name, as in odyssey:services.")],
    timeout: TimeoutOption = 1800,
    outputs_file: OutputsOption = None,
    yes: YesFlag = False,
    push: PushFlag = True,
    project_dir: ProjectDirOption = None,
) -> None:
    """Return SERVICE to its previous version: a deploy of the image it ran before.

    The previous version is ECS's record: the latest earlier revision of the
    service's task definition family (active or deregistered) whose image
    differs from the running one. It is deployed as `deploy` does: recorded in
    git, the rollout followed, same exit codes.
    """
    from odyssey.ops.live.aws_ops import OpsError, clients, previous_version

    outputs = _stack_outputs(stack, outputs_file)
    try:
        running, previous = previous_version(clients(outputs["region"])["ecs"], outputs["clusterName"],
                                             _ecs_service(stack, service, outputs), service)
    except OpsError as error:
        raise _fail(stack, error, EXIT_CONFIG) from None
    console.print(f"{stack}/{service} runs {running.image} ({running.revision}); returning to {previous.image} "
                  f"({previous.revision})", highlight=False, soft_wrap=True)
    _release(stack, service, previous.image, outputs, yes, push, timeout, project_dir,
             message=f"rollback {stack}/{service}: {previous.image} (was {running.image})")


MinimumOption = Annotated[
    Optional[int],
    typer.Option(help="Instances that must be in service. Default: the stack's minSize output.", min=1),
]
GraceOption = Annotated[
    int,
    typer.Option(help="Seconds past the lifetime before an instance counts as overdue (the group replaces "
                      "instances gradually).", min=0),
]
MaxLifetimeOption = Annotated[
    Optional[int],
    typer.Option(help="Maximum instance lifetime, seconds. Default: the stack's maxInstanceLifetimeSeconds "
                      "output.", min=AWS_LIFETIME_MIN_SECONDS),
]


def _status(stack: str, outputs_file: Optional[Path], minimum: Optional[int], max_lifetime: Optional[int],
            grace: int):
    """The live cluster, and what it is checked against: the stack's own outputs, or the flags over them."""
    from odyssey.ops.live.aws_ops import OpsError, clients, cluster_status, expected_of

    outputs = _stack_outputs(stack, outputs_file)
    expected = expected_of(outputs, minimum=minimum, max_lifetime_seconds=max_lifetime)
    tenants = {stack, *(outputs.get("tenancies") or {})}
    try:
        state = cluster_status(clients(outputs["region"]), outputs["clusterName"], outputs["autoScalingGroupName"],
                               outputs["region"], minimum=expected.minimum,
                               max_lifetime_seconds=expected.max_lifetime_seconds, grace_seconds=grace,
                               tenants=tenants)
    except OpsError as error:
        raise _fail(stack, error, EXIT_CONFIG) from None
    return state, expected


def _print_notes(expected: Expected) -> None:
    for note in expected.notes:
        console.print(f"[cyan]note:[/] {escape(note)}", highlight=False)


# Colours an operator scans for: what is broken in red, what needs watching in yellow.
RED_FINDINGS = frozenset({"overdue", "agentDisconnected", "belowMinimum", "tooFewZones"})


def _print_findings(findings, label: str) -> None:
    # Wrapped at the terminal's width between words: ids stay whole (--json is the form for scripts).
    for finding in findings:
        colour = "red" if finding.kind in RED_FINDINGS else "yellow"
        console.print(f"[{colour}]{label}:[/] {escape(finding.message)}", highlight=False)


def instances_table(state) -> Table:
    """One row per instance; ids and states are never cut (80 columns fit them), the rest wraps."""
    from rich import box

    from odyssey.ops.live.aws_ops import OVERDUE

    table = Table(title=f"{state.cluster} ({state.region}): instances", box=box.SIMPLE_HEAD)
    table.add_column("instance", no_wrap=True, min_width=len("i-0123456789abcdef0"))
    table.add_column("zone", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("age h", justify="right", no_wrap=True)
    table.add_column("CPU %", justify="right", overflow="fold")
    table.add_column("mem %", justify="right", overflow="fold")
    for node in state.nodes:
        lines = [node.lifecycle_state]
        if node.lifetime:
            lines.append(f"[{'red' if node.lifetime == OVERDUE else 'yellow'}]{node.lifetime}[/]")
        if node.agent_connected is False:
            lines.append("[red]agent disconnected[/]")
        age = f"{node.age_hours:.1f}"
        if node.lifetime:
            age = f"[{'red' if node.lifetime == OVERDUE else 'yellow'}]{age}[/]"
        table.add_row(node.instance_id, node.availability_zone, "\n".join(lines), age,
                      _or_dash(node.cpu_reserved_percent), _or_dash(node.memory_reserved_percent))
    return table


ROLLOUT_COLOURS = {"FAILED": "red", "IN_PROGRESS": "yellow", "COMPLETED": "green"}


def services_table(state) -> Table:
    from rich import box

    table = Table(title="services", box=box.SIMPLE_HEAD)
    table.add_column("service", overflow="fold", ratio=3)
    table.add_column("tenant", overflow="fold", ratio=2)
    table.add_column("tasks", overflow="fold", ratio=2)
    table.add_column("rollout", no_wrap=True, min_width=len("IN_PROGRESS"))
    for service in state.services:
        tasks = f"{service.running}/{service.desired} running"
        if service.pending:
            tasks += f", {service.pending} pending"
        rollout = service.rollout_state or "-"
        table.add_row(service.name, service.tenant or "[yellow]unknown[/]", tasks,
                      f"[{ROLLOUT_COLOURS.get(rollout, 'white')}]{rollout}[/]")
    return table


@app.command()
def status(
    stack: StackArg,
    outputs_file: OutputsOption = None,
    as_json: JsonFlag = False,
    minimum: MinimumOption = None,
    max_lifetime: MaxLifetimeOption = None,
    grace: GraceOption = CYCLE_AUDIT_GRACE_SECONDS,
    tenant: Annotated[Optional[str], typer.Option("--stack", help="Show only this stack's services (the cluster's "
                                                                   "instances are every tenant's).")] = None,
) -> None:
    """The cluster overview: instances per AZ with their age and reservations, services and their rollouts.

    Instances past the stack's maximum lifetime are flagged ("past lifetime";
    "overdue" past the grace too); each service shows its tenant, the stack
    whose name prefixes it. Instances in service are checked against the
    stack's own minSize output (or --minimum); an older stack without it is
    checked against the invariant, and a note says so.
    """
    state, expected = _status(stack, outputs_file, minimum, max_lifetime, grace)
    if tenant is not None:
        state = state.of_tenant(tenant)
    if as_json:
        print(json.dumps({"stack": stack, "generatedAt": _now(), **state.to_json(), "tenant": tenant,
                          "expected": expected.to_json(), "notes": list(expected.notes)}, indent=2, default=str))
        return
    console.print(instances_table(state))
    console.print("per AZ: " + (", ".join(f"{z} {n}" for z, n in state.nodes_per_zone().items()) or "none in service"),
                  highlight=False)
    console.print(services_table(state))
    if tenant is not None and not state.services:
        console.print(f"no service of {tenant} runs on {state.cluster}", highlight=False)
    for service in state.services:
        if service.rollout_state != "COMPLETED":
            for event in service.events:
                console.print(f"  {service.name}: {event}", highlight=False, markup=False)
    _print_findings(state.warnings, "warning")
    _print_notes(expected)


@app.command("cycle-audit")
def cycle_audit(
    stack: StackArg,
    outputs_file: OutputsOption = None,
    as_json: JsonFlag = False,
    minimum: MinimumOption = None,
    max_lifetime: MaxLifetimeOption = None,
    grace: GraceOption = CYCLE_AUDIT_GRACE_SECONDS,
) -> None:
    """Is the daily cycle working? Exit code 4 when an invariant is broken now.

    The minimum in service, the maximum lifetime and the zone count are the
    stack's own (its minSize, maxInstanceLifetimeSeconds and availabilityZones
    outputs); --minimum and --max-lifetime override them. An older stack without
    an output is checked against the invariant, and a note says so.
    """
    from odyssey.ops.live.aws_ops import cycle_audit as audit_of

    state, expected = _status(stack, outputs_file, minimum, max_lifetime, grace)
    audit = audit_of(state, max_lifetime_seconds=expected.max_lifetime_seconds, minimum=expected.minimum,
                     minimum_zones=expected.zones, grace_seconds=grace)
    if as_json:
        print(json.dumps({"stack": stack, "generatedAt": _now(), "cluster": state.cluster, "broken": audit.broken,
                          "findings": [f.to_json() for f in audit.findings], "expected": expected.to_json(),
                          "notes": list(expected.notes)}, indent=2))
    else:
        _print_notes(expected)
        _print_findings(audit.findings, "broken")
        if not audit.broken:
            console.print(f"[green]cycle audit passed[/]: no instance past its {expected.max_lifetime_seconds} s "
                          f"lifetime, at least {expected.minimum} in service, {expected.zones} AZs balanced",
                          highlight=False)
    if audit.broken:
        raise typer.Exit(EXIT_BROKEN)


# What `shell` runs, and where each comes from when it is missing.
SESSION_TOOLS = {
    "aws": "AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
    "session-manager-plugin": "the Session Manager plugin: https://docs.aws.amazon.com/systems-manager/latest/"
                              "userguide/session-manager-working-with-install-plugin.html",
}


def _choose_instance(stack: str, choices: list[dict[str, str]], instance: Optional[str], print_only: bool) -> str:
    if not choices:
        raise _fail(stack, "no instance in service to open a shell on", EXIT_CONFIG)
    ids = [c["instanceId"] for c in choices]
    listing = "\n".join(f"  {n}. {c['instanceId']} ({c['zone']})" for n, c in enumerate(choices, start=1))
    if instance is not None:
        if instance not in ids:
            raise _fail(stack, f"{instance} is not an instance in service in the stack's group; in service:\n"
                               f"{listing}", EXIT_CONFIG)
        return instance
    if len(ids) == 1:
        return ids[0]
    if print_only or not _interactive():
        raise _fail(stack, f"{len(ids)} instances in service; choose one with --instance:\n{listing}", EXIT_CONFIG)
    console.print(listing, highlight=False, markup=False)
    while True:
        number = typer.prompt(f"Instance (1-{len(ids)})", type=int, default=1)
        if 1 <= number <= len(ids):
            return ids[number - 1]


@app.command()
def shell(
    stack: StackArg,
    service: Annotated[Optional[str], typer.Argument(help="Service to attach to (ECS Exec); omit for an instance (SSM).")] = None,
    container: Annotated[Optional[str], typer.Option(help="Container name within the task.")] = None,
    instance: Annotated[Optional[str], typer.Option(help="Instance id for an SSM session. Default: asked on a "
                                                         "terminal (the only one when one is in service).")] = None,
    print_only: Annotated[bool, typer.Option("--print", help="Print the session command instead of running it.")] = False,
    outputs_file: OutputsOption = None,
) -> None:
    """Open a shell on an instance (SSM Session Manager) or in a running container (ECS Exec). No SSH, no jump host.

    Needs the AWS CLI v2 and the Session Manager plugin on PATH (not for
    --print). ECS Exec is refused for a service that does not enable it.
    """
    import os
    import shlex
    import shutil

    from odyssey.ops.live.aws_ops import OpsError, clients, exec_command, instance_command, instances_in_service

    outputs = _stack_outputs(stack, outputs_file)
    aws = clients(outputs["region"])
    try:
        if service is None:
            chosen = _choose_instance(stack, instances_in_service(aws, outputs["autoScalingGroupName"]), instance,
                                      print_only)
            command = instance_command(outputs["region"], chosen)
        else:
            command = exec_command(aws, outputs["clusterName"], outputs["region"],
                                   _ecs_service(stack, service, outputs), container)
    except OpsError as error:
        raise _fail(stack, error, EXIT_CONFIG) from None
    if print_only:
        print(shlex.join(command))
        return
    missing = [tool for tool in SESSION_TOOLS if shutil.which(tool) is None]
    if missing:
        raise _fail(stack, "a session needs " + "; and ".join(f"`{t}`, {SESSION_TOOLS[t]}" for t in missing)
                    + f". Or print the command with --print: {shlex.join(command)}", EXIT_CONFIG)
    os.execvp(command[0], command)
