"""The Makefile's set-up: it refuses an old Python before making anything, and never leaves a broken .venv behind."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.plans import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _project(tmp_path: Path, dev_requirements: str = "") -> Path:
    """A copy of the files the set-up reads, with requirements that install nothing (or fail at once)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "requirements.lock").write_text("")
    (tmp_path / "requirements-dev.txt").write_text(dev_requirements)
    return tmp_path


def _fake_python(path: Path, version: str) -> Path:
    """An interpreter that says it is ``version`` and fails anything else, as the check asks it to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "Python {version}" && exit 0\nexit 1\n')
    path.chmod(0o755)
    return path


def _make(project: Path, *args: str) -> subprocess.CompletedProcess:
    # No index: the set-up reaches nothing, and `pip install --upgrade pip` keeps the pip it has.
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""}
    return subprocess.run(["make", "-C", str(project), *args], capture_output=True, text=True, env=env, timeout=300)


def test_the_minimum_python_is_pyprojects():
    makefile = (ROOT / "Makefile").read_text()
    minimum = re.search(r"^PYTHON_MIN\s*:=\s*(\S+)", makefile, re.MULTILINE).group(1)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={minimum}"


def test_an_old_python_is_refused_before_anything_is_made(tmp_path):
    project = _project(tmp_path)
    old = _fake_python(tmp_path / "bin" / "python3.10", "3.10.14")
    result = _make(project, "venv", f"PYTHON={old}")
    assert result.returncode != 0
    assert "Odyssey needs Python 3.11 or newer" in result.stderr
    assert "is Python 3.10.14" in result.stderr
    assert "make venv PYTHON=python3.11 (or newer)" in result.stderr
    assert not (project / ".venv").exists()


def test_a_failed_set_up_leaves_no_venv_and_a_stale_one_is_replaced(tmp_path):
    project = _project(tmp_path, dev_requirements="./no-such-package-directory\n")
    # What a run with Python 3.10 left behind before the check existed.
    _fake_python(project / ".venv" / "bin" / "python", "3.10.14")
    result = _make(project, "venv", f"PYTHON={sys.executable}")
    assert "Removing .venv: made by another Python or by a failed set-up." in result.stdout
    assert result.returncode != 0
    assert "Set-up failed; .venv removed." in result.stderr
    assert not (project / ".venv").exists()
