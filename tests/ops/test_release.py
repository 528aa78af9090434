"""One source of truth for what runs: `odyssey deploy` and `odyssey rollback` against git, a stand-in workspace and moto.

The repository is a real git clone of a real (local, bare) remote, as CI and an
operator each have one. ``FileWorkspace`` is a STAND-IN for Pulumi's local
workspace whose config is the stack file, as the real one's is: ``set_config``
rewrites ``Pulumi.<stack>.yaml`` and ``up`` deploys the image the file names
(``on_up`` plays ECS's part on moto). What is verified: the orchestration
(git, file, engine calls, the rollout and the agreement after it). Not
verified: the real Pulumi CLI writing the file, and ECS's own circuit breaker
(moto does not start deployments on UpdateService nor roll them back; the
fixtures set those deployments on moto's backend, as ECS would show them).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from moto import mock_aws
from pulumi.automation import ConfigValue
from typer.testing import CliRunner

import odyssey.ops.cli
import odyssey.ops.live.automation
from odyssey.ops.cli import EXIT_BROKEN, EXIT_CONFIG, EXIT_FAILED, EXIT_POLICY, EXIT_UNRECORDED, app
from odyssey.ops.live.automation import Odyssey
from odyssey.ops.live.aws_ops import clients, running_version
from tests.ops.aws_fixtures import (
    CLUSTER,
    GROUP,
    REGION,
    add_service,
    build_cluster,
    fail_deployment,
    register_revision,
    start_deployment,
)
from tests.ops.test_automation import Workspace, policy_event

runner = CliRunner()
OLD = "123456789012.dkr.ecr.us-east-1.amazonaws.com/odyssey/api:2026.11.3"
NEW = "123456789012.dkr.ecr.us-east-1.amazonaws.com/odyssey/api:2026.11.5"
STACK_FILE = "Pulumi.prod.yaml"


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)


def git(where: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(where), *args], check=True, capture_output=True, text=True).stdout.strip()


def clone(remote: Path, into: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(remote), str(into)], check=True, capture_output=True)
    git(into, "config", "user.name", "operator")
    git(into, "config", "user.email", "operator@example.com")
    return into


@pytest.fixture
def remote(tmp_path) -> Path:
    """The repository's remote, with main holding a stack file whose api runs OLD."""
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(bare)], check=True)
    seed = tmp_path / "seed"
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(seed)], check=True)
    git(seed, "config", "user.name", "seed")
    git(seed, "config", "user.email", "seed@example.com")
    (seed / STACK_FILE).write_text("# prod's stack file\nconfig:\n  aws:region: us-east-1\n  odyssey:services:\n"
                                   f"    api:\n      image: {OLD}\n      cpu: 512\n")
    # A project directory: what the Automation API's project_dir must hold (odyssey.ops.live.automation).
    (seed / "Pulumi.yaml").write_text("name: odyssey\nruntime: python\n")
    git(seed, "add", STACK_FILE, "Pulumi.yaml")
    git(seed, "commit", "--quiet", "-m", "prod")
    git(seed, "remote", "add", "origin", str(bare))
    git(seed, "push", "--quiet", "-u", "origin", "main")
    return bare


@pytest.fixture
def checkout(remote, tmp_path) -> Path:
    return clone(remote, tmp_path / "operator")


class FileWorkspace(Workspace):
    """Stand-in for a local workspace's Stack: its config is the stack file (see the module docstring)."""

    def __init__(self, project_dir: Path, stack: str = "prod"):
        super().__init__()
        self.path = project_dir / f"Pulumi.{stack}.yaml"
        self.deployed: list[str] = []

    def _read(self) -> dict:
        return yaml.safe_load(self.path.read_text())["config"]

    def get_all_config(self):
        return {key: ConfigValue(value=json.dumps(value) if isinstance(value, dict) else str(value))
                for key, value in self._read().items()}

    def get_config(self, key, path=False):
        self.calls.append(("get_config", {"key": key, "path": path}))
        namespace, _, rest = key.partition(".")
        value = self._read()[namespace]
        for part in rest.split("."):
            value = value[part]
        return ConfigValue(value=value)

    def set_config(self, key, value, path=False):
        self.calls.append(("set_config", {"key": key, "value": value.value, "path": path}))
        document = yaml.safe_load(self.path.read_text())
        namespace, _, rest = key.partition(".")
        node = document["config"][namespace]
        *parents, leaf = rest.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value.value
        # Like `pulumi config set`, the file is rewritten (here: without its comment).
        self.path.write_text(yaml.safe_dump(document, sort_keys=False))

    def up(self, on_event=None, **kwargs):
        result = super().up(on_event=on_event, **kwargs)
        self.deployed.append(self.get_config("odyssey:services.api.image", path=True).value)
        return result


@pytest.fixture
def workspace(checkout, monkeypatch) -> FileWorkspace:
    stand_in = FileWorkspace(checkout)
    monkeypatch.setattr(odyssey.ops.live.automation, "_select_stack", lambda stack, project_dir: stand_in)
    return stand_in


@pytest.fixture
def outputs(tmp_path) -> str:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"region": REGION, "clusterName": CLUSTER, "autoScalingGroupName": GROUP,
                                "serviceNames": {"api": "prod-api"}}))
    return str(path)


@pytest.fixture
def cluster(monkeypatch):
    """moto with prod-api running OLD as revision 1; yields that revision's ARN."""
    with mock_aws():
        build_cluster()
        yield add_service("prod-api", desired=2, running=2, monkeypatch=monkeypatch, image=OLD)


def deploy(checkout: Path, outputs: str, image: str | None = NEW, *flags: str, command: str = "deploy"):
    args = [command, "prod", "api", *([image] if command == "deploy" else []), "--outputs", outputs,
            "--project-dir", str(checkout), *flags]
    return runner.invoke(app, args)


def on_main(remote: Path) -> str:
    """The api image main's stack file names: what a CI `up` from main deploys."""
    text = subprocess.run(["git", f"--git-dir={remote}", "show", f"main:{STACK_FILE}"], check=True,
                          capture_output=True, text=True).stdout
    return yaml.safe_load(text)["config"]["odyssey:services"]["api"]["image"]


def ci_up(remote: Path, tmp_path: Path) -> str:
    """A CI `up` from main: a fresh clone, the stack file as committed, the engine's stand-in; what it deploys."""
    ci = clone(remote, tmp_path / f"ci-{len(list(tmp_path.glob('ci-*')))}")
    stand_in = FileWorkspace(ci)
    Odyssey(project_dir=ci, select_stack=lambda stack, project_dir: stand_in).up("prod")
    (image,) = stand_in.deployed
    return image


def completes(image: str):
    """ECS's part of an update that deploys ``image``: a new revision and a deployment that completes."""
    return lambda: start_deployment("prod-api", register_revision("prod-api", image), state="COMPLETED",
                                    reason="ECS deployment completed.", running=2)


# ------------------------------------------------------------------ deploy, then CI


def test_a_deploy_is_recorded_on_main_and_a_ci_up_after_it_keeps_the_deployed_image(
        remote, checkout, workspace, outputs, cluster, tmp_path):
    workspace.on_up = completes(NEW)
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == 0, result.output
    assert workspace.deployed == [NEW]
    assert "recorded" in result.output and "pushed" in result.output
    assert on_main(remote) == NEW
    assert git(checkout, "log", "-1", "--format=%s") == f"deploy prod/api: {NEW}"
    assert git(checkout, "status", "--porcelain") == ""
    assert ci_up(remote, tmp_path) == NEW  # the CI `up` after the deploy does not put OLD back


def test_a_deploy_without_the_rollout_is_recorded_once_up_succeeds(remote, checkout, workspace, outputs, tmp_path):
    result = deploy(checkout, outputs, NEW, "--yes", "--no-watch")
    assert result.exit_code == 0, result.output
    assert on_main(remote) == NEW and ci_up(remote, tmp_path) == NEW


def test_an_unpushed_deploy_says_a_ci_up_would_revert_it(remote, checkout, workspace, outputs, cluster):
    workspace.on_up = completes(NEW)
    result = deploy(checkout, outputs, NEW, "--yes", "--no-push")
    assert result.exit_code == EXIT_UNRECORDED
    assert "not recorded" in result.output and "a CI up puts the previous image back" in result.output
    assert on_main(remote) == OLD and git(checkout, "log", "-1", "--format=%s") == f"deploy prod/api: {NEW}"


def reject_pushes(remote, message):
    """The remote refuses every push with ``message``, as a protected branch does."""
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
    hook.chmod(0o755)


def test_a_rejected_push_is_reported_not_hidden(remote, checkout, workspace, outputs, cluster):
    reject_pushes(remote, "main is protected")
    workspace.on_up = completes(NEW)
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == EXIT_UNRECORDED
    assert "main is protected" in result.output and on_main(remote) == OLD


# ------------------------------------------------------------------ a rollback by the circuit breaker


def test_after_a_circuit_breaker_rollback_the_stack_file_and_the_cluster_agree(
        remote, checkout, workspace, outputs, cluster, tmp_path):
    first = cluster

    def rolled_back():
        start_deployment("prod-api", register_revision("prod-api", NEW))
        fail_deployment("prod-api", "ECS deployment circuit breaker: tasks failed to start.")
        start_deployment("prod-api", first, reason="ECS deployment circuit breaker: rolling back")

    workspace.on_up = rolled_back
    before = (checkout / STACK_FILE).read_text()
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == EXIT_BROKEN, result.output
    assert "prod-api: ROLLED_BACK" in result.output and "circuit breaker" in result.output
    assert f"ECS runs {OLD}" in result.output
    # The file is the committed one again, byte for byte; nothing was committed or pushed.
    assert (checkout / STACK_FILE).read_text() == before and git(checkout, "status", "--porcelain") == ""
    assert on_main(remote) == OLD and git(checkout, "log", "-1", "--format=%s") == "prod"
    running = running_version(clients(REGION)["ecs"], CLUSTER, "prod-api", "prod-api")
    assert running.image == workspace.get_config("odyssey:services.api.image").value == OLD
    assert ci_up(remote, tmp_path) == OLD


def test_a_rollback_to_an_image_git_never_had_leaves_the_file_naming_what_runs(
        remote, checkout, workspace, outputs, cluster):
    drifted = register_revision("prod-api", OLD.replace("2026.11.3", "hotfix-1"))
    start_deployment("prod-api", drifted, state="COMPLETED", running=2)  # someone deployed around git

    def rolled_back():
        start_deployment("prod-api", register_revision("prod-api", NEW))
        fail_deployment("prod-api", "ECS deployment circuit breaker: tasks failed to start.")
        start_deployment("prod-api", drifted, reason="ECS deployment circuit breaker: rolling back")

    workspace.on_up = rolled_back
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == EXIT_BROKEN
    assert "which is not the committed image" in result.output
    assert workspace.get_config("odyssey:services.api.image").value.endswith("hotfix-1")
    assert git(checkout, "status", "--porcelain") == f"M {STACK_FILE}"  # modified, unstaged


def test_a_failed_update_restores_the_stack_file_exactly(checkout, workspace, outputs, cluster):
    from pulumi.automation._cmd import CommandResult
    from pulumi.automation.errors import CommandError

    workspace.events = [policy_event("mandatory")]
    workspace.fail_with = CommandError(CommandResult("", "error: policy violations", 255))
    before = (checkout / STACK_FILE).read_text()
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == EXIT_POLICY
    assert "mandatory odyssey-machine-layer/min-instances" in result.output
    assert (checkout / STACK_FILE).read_text() == before  # comment and all


# ------------------------------------------------------------------ odyssey rollback


def test_rollback_returns_the_service_to_the_image_it_ran_before_and_records_it(
        remote, checkout, workspace, outputs, cluster, tmp_path):
    workspace.on_up = completes(NEW)
    assert deploy(checkout, outputs, NEW, "--yes").exit_code == 0
    workspace.on_up = completes(OLD)
    result = deploy(checkout, outputs, None, command="rollback")
    assert result.exit_code == EXIT_CONFIG and "refusing to change prod without confirmation" in result.output
    result = deploy(checkout, outputs, None, "--yes", command="rollback")
    assert result.exit_code == 0, result.output
    assert f"runs {NEW} (odyssey-prod-prod-api:2); returning to {OLD} (odyssey-prod-prod-api:1)" in result.output
    assert workspace.deployed == [NEW, OLD]
    assert on_main(remote) == OLD and ci_up(remote, tmp_path) == OLD
    assert git(checkout, "log", "-1", "--format=%s") == f"rollback prod/api: {OLD} (was {NEW})"


def test_rollback_without_an_earlier_image_changes_nothing(checkout, workspace, outputs, cluster):
    result = deploy(checkout, outputs, None, "--yes", command="rollback")
    assert result.exit_code == EXIT_CONFIG and "no previous version" in result.output
    assert workspace.calls == []


# ------------------------------------------------------------------ when a release must not start


def test_a_deploy_refuses_a_checkout_with_uncommitted_changes(checkout, workspace, outputs, cluster):
    (checkout / STACK_FILE).write_text((checkout / STACK_FILE).read_text() + "# local edit\n")
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == EXIT_CONFIG and f"uncommitted changes ({STACK_FILE})" in result.output
    assert workspace.calls == []


def test_a_deploy_refuses_a_checkout_behind_main(remote, checkout, workspace, outputs, cluster, tmp_path):
    other = clone(remote, tmp_path / "colleague")
    (other / "README").write_text("merged since\n")
    git(other, "add", "README")
    git(other, "commit", "--quiet", "-m", "merged since")
    git(other, "push", "--quiet")
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == EXIT_CONFIG and "1 commit(s) behind origin/main: pull first" in result.output
    assert workspace.calls == []


def test_a_deploy_refuses_unpushed_commits(checkout, workspace, outputs, cluster):
    (checkout / "README").write_text("not reviewed\n")
    git(checkout, "add", "README")
    git(checkout, "commit", "--quiet", "-m", "local")
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == EXIT_CONFIG and "1 commit(s) not on origin/main" in result.output


def test_a_deploy_outside_a_git_checkout_is_refused(tmp_path, outputs, monkeypatch, cluster):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / STACK_FILE).write_text(f"config:\n  odyssey:services:\n    api:\n      image: {OLD}\n")
    (tmp_path / "plain" / "Pulumi.yaml").write_text("name: odyssey\nruntime: python\n")
    monkeypatch.setattr(odyssey.ops.live.automation, "_select_stack",
                        lambda stack, project_dir: FileWorkspace(tmp_path / "plain"))
    result = deploy(tmp_path / "plain", outputs, NEW, "--yes")
    assert result.exit_code == EXIT_CONFIG and "is not a git checkout" in result.output


@pytest.mark.parametrize("answer, code", [("y", 0), ("n", EXIT_FAILED)])
def test_a_deploy_to_prod_on_a_terminal_shows_the_changes_and_asks(
        remote, checkout, workspace, outputs, cluster, monkeypatch, answer, code):
    monkeypatch.setattr(odyssey.ops.cli, "_interactive", lambda: True)
    workspace.on_up = completes(NEW)
    result = runner.invoke(app, ["deploy", "prod", "api", NEW, "--outputs", outputs, "--project-dir", str(checkout)],
                           input=f"{answer}\n")
    assert result.exit_code == code, result.output
    assert "prod preview: create 3, same 40" in result.output and "Apply these changes to prod?" in result.output
    assert on_main(remote) == (NEW if answer == "y" else OLD)
    assert git(checkout, "status", "--porcelain") == ""


def test_a_deploy_to_prod_off_a_terminal_without_yes_refuses_before_anything(checkout, workspace, outputs, cluster):
    result = deploy(checkout, outputs, NEW)
    assert result.exit_code == EXIT_CONFIG and "re-run with --yes" in result.output
    assert workspace.calls == []


def test_a_rollout_still_going_at_the_timeout_leaves_the_new_image_named_but_uncommitted(
        remote, checkout, workspace, outputs, cluster):
    workspace.on_up = lambda: start_deployment("prod-api", register_revision("prod-api", NEW), running=1)
    result = deploy(checkout, outputs, NEW, "--yes", "--timeout", "1")  # one poll, one 10 s wait, then the timeout
    assert result.exit_code == EXIT_BROKEN
    assert "no outcome after 1 s" in result.output and "did not complete" in " ".join(result.output.split())
    assert workspace.get_config("odyssey:services.api.image").value == NEW
    assert on_main(remote) == OLD and git(checkout, "status", "--porcelain") == f"M {STACK_FILE}"


def test_git_words_in_brackets_reach_the_operator(remote, checkout, workspace, outputs, cluster):
    reject_pushes(remote, "[policy] main is protected")
    workspace.on_up = completes(NEW)
    result = deploy(checkout, outputs, NEW, "--yes")
    assert "[policy] main is protected" in result.output and "[remote rejected]" in result.output


def test_a_merge_during_the_release_is_rebased_onto_and_the_version_still_recorded(
        remote, checkout, workspace, outputs, cluster, tmp_path):
    def merged_meanwhile():
        other = clone(remote, tmp_path / "colleague")
        (other / "README").write_text("merged while the rollout ran\n")
        git(other, "add", "README")
        git(other, "commit", "--quiet", "-m", "merged meanwhile")
        git(other, "push", "--quiet")
        completes(NEW)()

    workspace.on_up = merged_meanwhile
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == 0, result.output
    assert on_main(remote) == NEW and ci_up(remote, tmp_path) == NEW
    log = subprocess.run(["git", f"--git-dir={remote}", "log", "--format=%s", "main"], check=True,
                         capture_output=True, text=True).stdout.split("\n")
    assert log[:3] == [f"deploy prod/api: {NEW}", "merged meanwhile", "prod"]


def test_a_merge_that_conflicts_with_the_release_is_reported(remote, checkout, workspace, outputs, cluster, tmp_path):
    def conflicting_merge():
        other = clone(remote, tmp_path / "colleague")
        path = other / STACK_FILE
        path.write_text(path.read_text().replace(OLD, OLD.replace("2026.11.3", "2026.11.4")))
        git(other, "commit", "--quiet", "-am", "another image")
        git(other, "push", "--quiet")
        completes(NEW)()

    workspace.on_up = conflicting_merge
    result = deploy(checkout, outputs, NEW, "--yes")
    assert result.exit_code == EXIT_UNRECORDED and "not recorded" in result.output
    assert git(checkout, "status", "--porcelain") == ""  # the rebase was aborted, the commit kept
    assert git(checkout, "log", "-1", "--format=%s") == f"deploy prod/api: {NEW}"


# ------------------------------------------------------------------ the one-line edit


def test_the_recorded_commit_changes_one_line_and_keeps_the_comments(remote, checkout, workspace, outputs, cluster):
    workspace.on_up = completes(NEW)
    assert deploy(checkout, outputs, NEW, "--yes").exit_code == 0
    assert git(checkout, "diff", "--numstat", "HEAD~1", "HEAD") == f"1\t1\t{STACK_FILE}"
    assert (checkout / STACK_FILE).read_text().startswith("# prod's stack file\n")
    assert not [name for name, _ in workspace.calls if name == "set_config"]  # the engine's rewrite was not needed


PROD = (Path(__file__).resolve().parents[2] / "Pulumi.prod.yaml").read_text()


@pytest.mark.parametrize("text, service, changed", [
    (PROD, "api", ("      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/odyssey/api:2026.11.3\n",
                   "      image: acme/x:2\n")),
    (PROD, "web", ("      image: public.ecr.aws/nginx/nginx:1.27.2\n", "      image: acme/x:2\n")),
    ("config:\n  odyssey:services:\n    api:\n      image: 'acme/api:1'  # pinned\n",
     "api", ("      image: 'acme/api:1'  # pinned\n", "      image: 'acme/x:2'  # pinned\n")),
    # A nested "image" (a sidecar's) is not the service's own.
    ("config:\n  odyssey:services:\n    api:\n      sidecar:\n        image: a:1\n      image: b:1\n",
     "api", ("      image: b:1\n", "      image: acme/x:2\n")),
    # Another service's block, a service named like a key elsewhere, flow style: not written here.
    ("config:\n  odyssey:services:\n    web:\n      image: a:1\n", "api", None),
    ("config:\n  odyssey:app:\n    api:\n      image: a:1\n", "api", None),
    ('config:\n  odyssey:services: {"api": {"image": "a:1"}}\n', "api", None),
])
def test_with_image_replaces_the_services_own_line_only(text, service, changed):
    from odyssey.ops.live.release import with_image

    edited = with_image(text, service, "acme/x:2")
    if changed is None:
        assert edited is None
        return
    before, after = changed
    assert edited == text.replace(before, after, 1) and edited != text
    assert yaml.safe_load(edited)["config"]["odyssey:services"][service]["image"] == "acme/x:2"
