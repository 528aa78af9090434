"""The layout's rules, read from the code: dependencies run one way and nothing imports in a circle.

domain -> config -> components -> the program (``__main__.py``); the operator
tools (``odyssey.ops``) sit beside the program: the program never imports
them, and they never import a component. The policy pack runs as its own
process, so it imports nothing of the project.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.plans import ROOT

PROJECT = ("odyssey", "components", "policies", "tests")
# The pack's pure modules the program shares, so config validation and the gate never disagree.
SHARED_PACK_MODULES = {"policies.rules.images", "policies.rules.tls", "policies.rules.secrets",
                       "policies.rules.thresholds"}
THIRD_PARTY_ALLOWED = {
    "odyssey.domain": set(),
    # pulumi to read the running program's config and report problems as a RunError (no traceback); yaml to
    # check the stack file as text; botocore for the regions and instance types AWS has (its shipped data).
    "odyssey.config": {"pydantic", "pulumi", "yaml", "botocore"},
    "odyssey.contract": {"pulumi"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts == ["__main__"]:
        return "program"
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, resolved to absolute names."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            # `from odyssey.domain import naming` imports the module odyssey.domain.naming.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def project_graph() -> dict[str, set[str]]:
    files = [ROOT / "__main__.py", *(p for top in ("odyssey", "components") for p in (ROOT / top).rglob("*.py")),
             *(ROOT / "policies").rglob("*.py")]
    modules = {module_name(p): p for p in files if ".venv" not in p.parts and "venv" not in p.parts}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in imports_of(path, name) if m in modules or m.split(".")[0] not in PROJECT}
    return graph


def _is(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    for module, imported in graph.items():
        for target in imported:
            top = target.split(".")[0]
            if module == "program" or _is(module, "components"):
                if _is(target, "odyssey.ops"):
                    problems.append(f"{module} imports the operator tools ({target})")
            if _is(module, "odyssey.ops") and _is(target, "components"):
                problems.append(f"{module} imports a component ({target})")
            if _is(module, "policies") and top in ("odyssey", "components", "tests"):
                problems.append(f"{module} (the policy pack runs alone) imports {target}")
            for layer, allowed in THIRD_PARTY_ALLOWED.items():
                if not _is(module, layer):
                    continue
                if top in stdlib or top in allowed or target in SHARED_PACK_MODULES:
                    continue
                inward = {"odyssey.domain": ("odyssey.domain",),
                          "odyssey.config": ("odyssey.domain", "odyssey.config"),
                          "odyssey.contract": ("odyssey.domain",)}[layer]
                if top == "odyssey" and any(_is(target, ok) for ok in inward) or target == "odyssey":
                    continue
                problems.append(f"{module} ({layer}) imports {target}")
    return sorted(set(problems))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles among the project's modules (a package importing its own submodule is not one)."""
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in graph or _is(target, node):
                continue
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_dependencies_run_one_way():
    assert layer_violations(project_graph()) == []


def test_no_import_cycles():
    assert cycles(project_graph()) == []


def test_the_graph_sees_the_whole_project():
    graph = project_graph()
    for module in ("program", "odyssey.domain.naming", "odyssey.config.stack", "components.machine.cluster",
                   "components.app.service", "odyssey.ops.cli", "policies.rules.invariants"):
        assert module in graph
    assert "components.app.app_stack" in graph["program"]
    assert "components.app.service" in graph["components.app.app_stack"]


@pytest.mark.parametrize("graph, expected", [
    ({"program": {"odyssey.ops.cli"}, "odyssey.ops.cli": set()}, "program imports the operator tools"),
    ({"odyssey.ops.cli": {"components.machine.cluster"}, "components.machine.cluster": set()},
     "odyssey.ops.cli imports a component"),
    ({"odyssey.domain.naming": {"pydantic"}}, "odyssey.domain.naming (odyssey.domain) imports pydantic"),
    ({"odyssey.domain.naming": {"odyssey.config.stack"}, "odyssey.config.stack": set()},
     "odyssey.domain.naming (odyssey.domain) imports odyssey.config.stack"),
    ({"odyssey.config.stack": {"pulumi_aws"}}, "odyssey.config.stack (odyssey.config) imports pulumi_aws"),
    ({"policies.rules.view": {"odyssey.domain.naming"}, "odyssey.domain.naming": set()},
     "policies.rules.view (the policy pack runs alone) imports odyssey.domain.naming"),
])
def test_the_rules_catch_a_wrong_import(graph, expected):
    assert any(p.startswith(expected) for p in layer_violations(graph)), layer_violations(graph)


def test_a_cycle_is_found():
    graph = {"components.app.a": {"components.app.b"}, "components.app.b": {"components.app.a"}}
    assert cycles(graph) == [["components.app.a", "components.app.b", "components.app.a"]]
