"""Repository checks: the CI workflows and the code lint clean, with the tools CI uses."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.plans import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is not installed; run make test (it installs requirements-dev.txt)"
    return found


def test_workflows_pass_actionlint():
    assert WORKFLOWS
    result = subprocess.run([_tool("actionlint"), *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n")
    result = subprocess.run([_tool("actionlint"), str(broken)], capture_output=True, text=True)
    assert result.returncode != 0


def _pulumi_steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])
            if str(step.get("uses", "")).startswith("pulumi/actions@")]


@pytest.mark.parametrize("name, command", [("preview.yml", "preview"), ("up.yml", "up")])
def test_every_pulumi_run_applies_the_policy_pack(name, command):
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    (step,) = _pulumi_steps(workflow)
    assert step["with"]["command"] == command
    assert step["with"]["policyPacks"] == "policies"
    assert step["with"]["policyPackConfigs"].startswith("policies/")


def test_main_deploys_prod_before_stage():
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())["jobs"]
    assert jobs["prod"]["needs"] == "offline-gate" and jobs["stage"]["needs"] == "prod"


def test_code_lints_clean():
    result = subprocess.run([_tool("ruff"), "check", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_console_script_and_the_module_both_list_the_commands():
    for command in ([_tool("odyssey"), "--help"], [sys.executable, "-m", "odyssey", "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        for name in ("plan", "preview", "up", "deploy", "status", "cycle-audit", "shell"):
            assert name in result.stdout
