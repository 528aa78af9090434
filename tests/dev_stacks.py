"""Stacks for `odyssey dev`'s tests: the committed prod and stage, the benchmark's generated stack of 50 services,
and that stack with rules of every kind (host-only, wildcard hosts, several hosts and paths, `?`, overlaps)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.bench import benchmark

GENERATED = "gen"
GENERATED_SERVICES = 50
# Rules of every kind over the generated stack's path rules on its default host, gen.example.com.
MIXED_ROUTES = {
    "svc-0": {"hosts": ["admin.example.com"]},
    "svc-1": {"hosts": ["*.example.com"]},
    "svc-2": {"hosts": ["api.example.com", "api.example.net"], "paths": ["/v?/*", "/health"]},
    "svc-3": {"paths": ["/svc-3/*/items"]},
    "svc-4": {"paths": ["/svc-1*"]},
    "svc-5": {"hosts": ["*.example.com"], "paths": ["/static/*"]},
}


def generated_project(into: Path, mixed: bool = False) -> Path:
    """A project directory with stack ``gen`` of 50 services (``mixed``: with MIXED_ROUTES)."""
    project = benchmark().project_with(GENERATED, GENERATED_SERVICES, into)
    if mixed:
        path = project / f"Pulumi.{GENERATED}.yaml"
        document = yaml.safe_load(path.read_text())
        config = document["config"]
        for name, route in MIXED_ROUTES.items():
            config["odyssey:services"][name]["public"] = {**route, "healthCheck": {"path": "/health"}}
        tenancy = config["odyssey:cluster"]["applicationStacks"][GENERATED]
        tenancy["hosts"] = sorted({*tenancy["hosts"], "*.example.com", "admin.example.com", "api.example.com",
                                   "api.example.net"})
        path.write_text(yaml.safe_dump(document))
    return project
