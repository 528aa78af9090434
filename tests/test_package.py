"""The installable package: its declared dependencies, its version, the API's project directory, and a real install.

The install test builds a wheel of a copy of this checkout's tracked files (so
nothing is written into the checkout), installs it into a fresh
virtualenv with the pinned versions (requirements.lock) from the package
registry (pip's cache makes it quick), and runs the installed ``odyssey``
command and Python API. Without the registry it is skipped and says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from typer.testing import CliRunner

import odyssey
from odyssey.ops.cli import app
from odyssey.ops.live.automation import AutomationError, Odyssey, default_project_dir
from tests.plans import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = next(iter(requirement.specifier)).version
    return pins


def test_the_declared_dependencies_are_the_pinned_ones_and_admit_their_pins():
    declared = {canonicalize_name(Requirement(d).name): Requirement(d).specifier for d in PYPROJECT["dependencies"]}
    pins = _pins(ROOT / "requirements.txt")
    assert set(declared) == set(pins)
    assert {name: pin for name, pin in pins.items() if not declared[name].contains(pin)} == {}
    locked = _pins(ROOT / "requirements.lock")
    assert {name: locked[name] for name in pins if locked[name] != pins[name]} == {}


def test_version_from_the_installed_metadata():
    assert odyssey.__version__ == PYPROJECT["version"]  # make venv installs this checkout (editable)
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"odyssey {PYPROJECT['version']}\n"


def test_version_of_a_checkout_that_is_not_installed(monkeypatch):
    from importlib import metadata

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert odyssey.version() == f"{PYPROJECT['version']} (checkout, not installed)"


def test_the_api_takes_the_project_directory(tmp_path, monkeypatch):
    assert default_project_dir() == ROOT
    assert Odyssey(project_dir=str(ROOT)).project_dir == ROOT
    with pytest.raises(AutomationError, match=f"{tmp_path} is not an Odyssey project directory"):
        Odyssey(project_dir=tmp_path)


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)


# What pip prints when it cannot reach the registry: the test skips then, saying so.
OFFLINE = ("Could not find a version", "No matching distribution", "Failed to establish a new connection",
           "Temporary failure in name resolution", "Network is unreachable", "ProxyError", "Read timed out")


def _git(*args: str) -> str:
    result = _run(["git", "-C", str(ROOT), *args])
    assert result.returncode == 0, result.stderr
    return result.stdout


def _tracked_copy(destination: Path) -> Path:
    """The checkout's tracked files as they are in the work tree, copied: the build's ``build/`` and
    ``*.egg-info`` land in the copy, and an untracked file cannot slip into the wheel."""
    for name in _git("ls-files", "-z").split("\0"):
        source = ROOT / name
        if name and source.is_file():  # a tracked file deleted in the work tree is not shipped
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def _ignored_and_untracked() -> set[str]:
    return set(_git("status", "--porcelain", "--ignored", "-z").split("\0"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel of this checkout and its dependencies at the locked versions."""
    work = tmp_path_factory.mktemp("install")
    before = _ignored_and_untracked()
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"),
                  str(_tracked_copy(work / "source"))])
    assert _ignored_and_untracked() == before, "building the wheel wrote into the checkout"
    if built.returncode != 0 and any(marker in built.stderr for marker in OFFLINE):
        pytest.skip(f"the package registry cannot be reached to build the wheel: {built.stderr.strip()[-300:]}")
    assert built.returncode == 0, built.stderr
    wheel = next((work / "dist").glob("odyssey-*.whl"))
    environment = work / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    # No byte-compiling: pulumi-aws alone has thousands of modules, and a run compiles the few it imports.
    install = _run([str(python), "-m", "pip", "install", "--quiet", "--no-compile", "-c", str(ROOT / "requirements.lock"), str(wheel)])
    if install.returncode != 0 and any(marker in install.stderr for marker in OFFLINE):
        pytest.skip(f"the package registry cannot be reached to install the dependencies: {install.stderr.strip()[-300:]}")
    assert install.returncode == 0, install.stderr
    return environment


def test_the_installed_command_runs(installed, tmp_path):
    command = installed / "bin" / "odyssey"
    # Run from elsewhere: nothing of the checkout is on the path.
    help_ = _run([str(command), "--help"], cwd=tmp_path)
    assert help_.returncode == 0, help_.stderr
    assert "plan" in help_.stdout and "cycle-audit" in help_.stdout
    version = _run([str(command), "--version"], cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"odyssey {PYPROJECT['version']}\n"


def test_the_installed_api_and_its_project_directory(installed, tmp_path):
    script = (
        "import odyssey, pathlib, sys\n"
        "from odyssey.ops.live.automation import AutomationError, Odyssey\n"
        "assert pathlib.Path(odyssey.__file__).is_relative_to(sys.prefix), odyssey.__file__\n"
        "print(odyssey.__version__)\n"
        f"print(Odyssey(project_dir={str(ROOT)!r}).project_dir)\n"
        "try:\n"
        "    Odyssey()\n"
        "except AutomationError as error:\n"
        "    print('refused:', error)\n"
    )
    result = _run([str(installed / "bin" / "python"), "-c", script], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    version, project, refused = result.stdout.splitlines()
    assert version == PYPROJECT["version"]
    assert project == str(ROOT)
    # Installed, the default is the current directory, which holds no program here.
    assert refused.startswith(f"refused: {tmp_path.resolve()} is not an Odyssey project directory")


def test_the_installed_command_plans_a_checkout(installed, tmp_path):
    """The program (components/) is not installed: an installed `odyssey plan` plans the project directory given."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = _run([str(installed / "bin" / "odyssey"), "plan", "prod", "--project-dir", str(ROOT), "-q"],
                  cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resources planned offline" in result.stdout
    assert "no mandatory violations" in result.stdout
