"""docs/first-deployment.md: every command in it is run here, or marked as needing an account, honestly.

Commands that need no account run as written (the offline plan, the backend
check, the version, the grep for sample values); `make` targets are dry-run
here and their recipes are run by the tests named in MAKE_TARGETS. A command
marked `# needs an account` must be one that does (the Pulumi CLI, the AWS CLI,
the GitHub CLI, or an odyssey command that reads a live stack).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.plans import ROOT

GUIDE = ROOT / "docs" / "first-deployment.md"
MARK = "# needs an account"
# Programs and odyssey commands that cannot run without an account, a backend or a repository.
NEEDS_ACCOUNT = {"pulumi", "aws", "gh", "session-manager-plugin"}
LIVE_ODYSSEY = {"status", "cycle-audit", "shell", "preview", "up", "deploy"}
# Each make target the guide uses, and the test that runs its recipe.
MAKE_TARGETS = {
    "venv": "tests/test_makefile.py",
    "plan": "tests/test_first_deployment.py (the same odyssey plan, run below)",
    "demo": "tests/ops/test_demo.py",
}
BIN = Path(sys.executable).parent


def commands() -> list[str]:
    """Every command in the guide's ```sh blocks, continuation lines joined."""
    found = []
    for block in re.findall(r"^ *```sh\n(.*?)^ *```", GUIDE.read_text(), re.MULTILINE | re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.append(line)
    return found


def _marked(command: str) -> bool:
    return command.endswith(MARK)


def _program_and_args(command: str) -> tuple[str, list[str]]:
    words = shlex.split(command.split(" #", 1)[0].split(">", 1)[0])
    program = Path(words[0]).name
    return program, words[1:]


def _needs_account(command: str) -> bool:
    program, args = _program_and_args(command)
    if program in NEEDS_ACCOUNT:
        return True
    return program == "odyssey" and bool(args) and args[0] in LIVE_ODYSSEY


ALL = commands()
RUNNABLE = [c for c in ALL if not _marked(c)]


def test_the_guide_has_commands_of_both_kinds():
    assert len(RUNNABLE) >= 8
    assert len(ALL) - len(RUNNABLE) >= 20


@pytest.mark.parametrize("command", [c for c in ALL if _marked(c)])
def test_a_marked_command_does_need_an_account(command):
    assert _needs_account(command), f"{command!r} is marked but runs without an account: run it in this test"


@pytest.mark.parametrize("command", RUNNABLE)
def test_an_unmarked_command_runs_here(command, tmp_path):
    assert not _needs_account(command), f"{command!r} needs an account: mark it with {MARK!r}"
    program, args = _program_and_args(command)
    if program == "make":
        target = args[0]
        assert target in MAKE_TARGETS, f"make {target}: no test runs this target's recipe"
        result = subprocess.run(["make", "-n", "-C", str(ROOT), *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        if target == "plan":
            stack = dict(a.split("=", 1) for a in args[1:]).get("STACK", "prod")
            _run_ok(f".venv/bin/odyssey plan {stack} -q", tmp_path)
        return
    _run_ok(command, tmp_path)


def _run_ok(command: str, tmp_path: Path) -> None:
    # This suite's interpreter stands for .venv's; files the guide puts in /tmp go to this test's directory.
    # /tmp/ first: the checkout itself may live under /tmp (a CI runner's, or a fresh clone's).
    line = command.replace("/tmp/", f"{tmp_path}/")
    line = line.replace(".venv/bin/", f"{BIN}/").replace("python3 ", f"{sys.executable} ")
    result = subprocess.run(line, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


def test_every_sample_value_of_the_stack_files_is_listed():
    text = GUIDE.read_text()
    samples = set()
    for path in ROOT.glob("Pulumi.*.yaml"):
        raw = path.read_text()
        samples |= set(re.findall(r"[\w.-]+@example\.com|[\w.-]+\.example\.com", raw))
        samples |= set(re.findall(r"arn:aws:acm:[^\s\"']+", raw))
        samples |= {m for m in re.findall(r"123456789012\.dkr\.ecr\.[\w-]+\.amazonaws\.com/([\w/-]+):", raw)}
        cluster_stack = (yaml.safe_load(raw)["config"] or {}).get("odyssey:clusterStack")
        if cluster_stack:
            samples.add(cluster_stack)
    assert samples
    assert sorted(s for s in samples if s not in text) == []


def test_the_prerequisites_are_the_makefiles_and_the_readme_links_the_guide():
    minimum = re.search(r"^PYTHON_MIN\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    assert f"Python | **{minimum} or newer**" in GUIDE.read_text()
    assert "(docs/first-deployment.md)" in (ROOT / "README.md").read_text()


def test_the_iam_documents_the_guide_names_exist():
    named = set(re.findall(r"iam/(deployer-policy-[\w-]+\.json)", GUIDE.read_text()))
    assert named == {p.name for p in (ROOT / "iam").glob("deployer-policy-*.json")}


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    assert all(re.search(rf"^{target}:", makefile, re.MULTILINE) for target in MAKE_TARGETS)
