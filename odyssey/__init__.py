"""Odyssey: the machine layer for running Docker containers on AWS ECS.

Layers, each importing only the ones above it:

* ``odyssey.domain``: pure decisions (names, AMI, capacity, user data,
  placement, routing, schedules, event patterns, IAM documents, container
  definitions, AWS quotas, the machine layer's invariants). Standard library
  only; cannot change anything anywhere.
* ``odyssey.config``: the stack configuration, parsed once at the edge into
  typed models, with the checks across keys.
* ``components/`` (beside this package, not in it): the Pulumi components that
  turn those decisions into resources; only the Pulumi program imports them.
* ``odyssey.contract``: the machine-layer outputs one stack reads from another.

The operator tools in ``odyssey.ops`` sit beside the program, never under it:
``ops.offline`` plans and gates without touching AWS, ``ops.live`` talks to
the Pulumi engine and to AWS (the only code here that can change deployed
resources), and ``ops.cli`` is the ``odyssey`` command. The program imports
nothing from ``ops``; ``ops`` imports no component.
"""

from __future__ import annotations

DISTRIBUTION = "odyssey"


def version() -> str:
    """The installed distribution's version; from a checkout that is not installed, pyproject.toml's, so marked."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            return f"{tomllib.loads(pyproject.read_text())['project']['version']} (checkout, not installed)"
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown (neither installed nor a checkout)"


def __getattr__(name: str) -> str:
    # Computed on first use: importing a layer (odyssey.domain, ...) reads no metadata.
    if name == "__version__":
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
