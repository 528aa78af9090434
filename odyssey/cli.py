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
errors = Console(stderr=True)

# Exit codes: 0 planned; 2 the stack's configuration is invalid; 1 anything else failed.
EXIT_CONFIG = 2
EXIT_FAILED = 1


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
) -> None:
    """Run the Pulumi program offline under Pulumi's mock runtime and show what it would create.

    Needs no AWS account and no Pulumi CLI. Exit code 2 means the stack's
    configuration is invalid (each problem is listed); 1 means the program failed.
    """
    from .plan import PlanError, run_plan

    try:
        result = run_plan(project_dir, stack, organization=organization)
    except ConfigError as error:
        errors.print(f"[bold red]{stack}:[/] {error}", highlight=False, markup=True)
        raise typer.Exit(EXIT_CONFIG) from None
    except (PlanError, PlacementError) as error:
        errors.print(f"[bold red]{stack}:[/] {error}", highlight=False)
        raise typer.Exit(EXIT_CONFIG) from None
    except Exception as error:  # noqa: BLE001 - the program's own error, shown without a traceback
        errors.print(f"[bold red]{stack}: the program failed:[/] {type(error).__name__}: {error}", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None

    document = result.to_json()
    if json_path is not None:
        text = json.dumps(document, indent=2, sort_keys=False, default=str)
        if str(json_path) == "-":
            print(text)
        else:
            json_path.write_text(text + "\n")
    if str(json_path) != "-":
        render(document, quiet=quiet)


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
