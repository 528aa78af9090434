"""The ``odyssey`` command. ``plan`` runs the offline plan; the real-engine commands come with the Automation API."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from .config import ConfigError
from .placement import PlacementError

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


@app.callback()
def _root() -> None:
    """Keeps `plan` a subcommand even while it is the only one."""


@app.command()
def plan(
    stack: Annotated[str, typer.Argument(help="Stack to plan: reads Pulumi.<stack>.yaml.")],
    json_path: Annotated[
        Optional[Path], typer.Option("--json", help="Also write the plan as JSON to this file ('-' for stdout).")
    ] = None,
    project_dir: Annotated[
        Path, typer.Option("--project-dir", help="Directory holding Pulumi.yaml.", exists=True, file_okay=False)
    ] = Path("."),
    organization: Annotated[
        str, typer.Option(help="Organization the stack belongs to (Pulumi's default for self-managed backends).")
    ] = "organization",
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
) -> None:
    """Run the Pulumi program offline under Pulumi's mock runtime, then gate it with the policy packs.

    Needs no AWS account and no Pulumi CLI. Exit codes: 0 passed; 1 the program
    failed; 2 invalid stack or policy configuration (each problem is listed);
    3 a mandatory policy was violated.
    """
    from .gate import GateError, plan_and_gate
    from .plan import PlanError

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
        if gate is not None:
            render_gate(gate)
    if gate is not None and gate.mandatory:
        raise typer.Exit(EXIT_POLICY)


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


def main() -> None:
    app(prog_name="odyssey")
