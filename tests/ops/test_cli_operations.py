"""The operator commands through typer's test runner: the live cluster is moto, the engine a stand-in workspace."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws
from typer.testing import CliRunner

import odyssey.ops.cli
import odyssey.ops.live.automation
from odyssey.domain.invariants import DAILY_CYCLE_SECONDS, MIN_AVAILABILITY_ZONES, MIN_INSTANCES
from odyssey.ops.cli import EXIT_BROKEN, EXIT_CONFIG, EXIT_POLICY, app
from tests.ops.aws_fixtures import CLUSTER, GROUP, REGION, add_service, build_cluster
from tests.ops.test_automation import Workspace, policy_event

runner = CliRunner()


def flat(result) -> str:
    """The output with its line breaks as spaces: prose wraps at the terminal's width."""
    return " ".join(result.output.split())


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)


ZONES = [f"{REGION}{z}" for z in "abc"]
NAMES = {"region": REGION, "clusterName": CLUSTER, "autoScalingGroupName": GROUP, "serviceNames": {"api": "prod-api"}}
SETTINGS = {"availabilityZones": ZONES, "minSize": MIN_INSTANCES, "maxInstanceLifetimeSeconds": DAILY_CYCLE_SECONDS}


def write_outputs(tmp_path, outputs: dict | None = None, **settings) -> str:
    """An outputs file as `pulumi stack output --json` writes it: by default the stack's names and own settings."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**NAMES, **SETTINGS, **settings} if outputs is None else outputs))
    return str(path)


@pytest.fixture
def outputs(tmp_path):
    return write_outputs(tmp_path)


@pytest.fixture
def workspace(monkeypatch):
    """The stand-in workspace (tests/test_automation.py) in place of the real Pulumi CLI."""
    stand_in = Workspace()
    monkeypatch.setattr(odyssey.ops.live.automation, "_select_stack", lambda stack, project_dir: stand_in)
    return stand_in


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    for command in ("plan", "preview", "up", "deploy", "status", "cycle-audit", "shell"):
        assert command in result.output


def test_status_table_and_json(outputs, monkeypatch):
    with mock_aws():
        build_cluster(nodes=6, old=1)
        add_service("prod-api", desired=2, running=1, monkeypatch=monkeypatch)
        table = runner.invoke(app, ["status", "prod", "--outputs", outputs])
        document = runner.invoke(app, ["status", "prod", "--outputs", outputs, "--json"])
    assert table.exit_code == 0, table.output
    assert "prod-api" in flat(table) and "per AZ: us-east-1a 2, us-east-1b 2, us-east-1c 2" in flat(table)
    state = json.loads(document.output)
    assert state["stack"] == "prod" and state["generatedAt"].endswith("Z")
    assert state["cluster"] == CLUSTER and len(state["nodes"]) == 6
    assert state["services"][0]["rolloutState"] == "IN_PROGRESS" and state["services"][0]["tenant"] == "prod"
    (overdue,) = state["warnings"]
    assert overdue["kind"] == "overdue" and overdue["instanceId"] in {n["instanceId"] for n in state["nodes"]}


def test_cycle_audit_exit_codes(outputs):
    with mock_aws():
        build_cluster(nodes=6)
        healthy = runner.invoke(app, ["cycle-audit", "prod", "--outputs", outputs, "--json"])
    with mock_aws():
        build_cluster(nodes=6, zones="ab")
        broken = runner.invoke(app, ["cycle-audit", "prod", "--outputs", outputs])
    document = json.loads(healthy.output)
    assert healthy.exit_code == 0 and document.pop("generatedAt").endswith("Z")
    assert document == {
        "stack": "prod", "cluster": CLUSTER, "broken": False, "findings": [], "notes": [],
        "expected": {"minimum": MIN_INSTANCES, "maxLifetimeSeconds": DAILY_CYCLE_SECONDS,
                     "zones": MIN_AVAILABILITY_ZONES}}
    assert broken.exit_code == EXIT_BROKEN and "span 2 availability zone(s)" in flat(broken)


def audit(outputs: str, *flags: str, nodes: int, old: int = 0, zones: str = "abc"):
    with mock_aws():
        build_cluster(nodes=nodes, old=old, zones=zones)
        return runner.invoke(app, ["cycle-audit", "prod", "--outputs", outputs, *flags])


def test_cycle_audit_holds_the_cluster_to_the_stacks_own_min_size(tmp_path):
    outputs = write_outputs(tmp_path, minSize=6.0)  # numbers cross the engine as floats
    short = audit(outputs, nodes=5)
    assert short.exit_code == EXIT_BROKEN, short.output
    assert "5 instances in service, below the minimum of 6" in flat(short)
    full = audit(outputs, nodes=6)
    assert full.exit_code == 0, full.output
    assert "at least 6 in service" in flat(full)


def test_cycle_audit_reads_the_stacks_lifetime_and_the_flag_overrides_it(tmp_path):
    outputs = write_outputs(tmp_path, maxInstanceLifetimeSeconds=2 * DAILY_CYCLE_SECONDS)
    two_days = audit(outputs, nodes=6, old=1)  # one node 30 hours old
    assert two_days.exit_code == 0, two_days.output
    one_day = audit(outputs, "--max-lifetime", str(DAILY_CYCLE_SECONDS), nodes=6, old=1)
    assert one_day.exit_code == EXIT_BROKEN and "past the 24 h maximum lifetime" in flat(one_day)


def test_cycle_audit_minimum_flag_overrides_the_stacks_min_size(tmp_path):
    result = audit(write_outputs(tmp_path, minSize=6), "--minimum", "5", nodes=5)
    assert result.exit_code == 0, result.output


def test_cycle_audit_holds_instances_to_every_zone_the_stack_spans(tmp_path):
    outputs = write_outputs(tmp_path, availabilityZones=[*ZONES, f"{REGION}d"])
    result = audit(outputs, nodes=6)
    assert result.exit_code == EXIT_BROKEN and "span 3 availability zone(s), below 4" in result.output


@pytest.mark.parametrize("outputs, missing", [
    # A stack on a cluster whose owner is older re-exports the new outputs as null.
    ({**NAMES, "availabilityZones": ZONES, "minSize": None, "maxInstanceLifetimeSeconds": None},
     ["minSize", "maxInstanceLifetimeSeconds"]),
    # An owner deployed before the outputs existed; older still, before availabilityZones.
    ({**NAMES, "availabilityZones": ZONES}, ["minSize", "maxInstanceLifetimeSeconds"]),
    (NAMES, ["minSize", "maxInstanceLifetimeSeconds", "availabilityZones"]),
])
def test_an_older_stack_is_audited_against_the_invariants_and_says_so(tmp_path, outputs, missing):
    path = write_outputs(tmp_path, outputs)
    short = audit(path, nodes=MIN_INSTANCES - 1)
    assert short.exit_code == EXIT_BROKEN
    assert f"below the minimum of {MIN_INSTANCES}" in flat(short)
    assert sorted(n for n in SETTINGS if f"does not export {n}" in flat(short)) == sorted(missing)
    overdue = audit(path, "--json", nodes=6, old=1)  # one node 30 hours old: past the daily cycle
    document = json.loads(overdue.output)
    assert overdue.exit_code == EXIT_BROKEN and len(document["notes"]) == len(missing)
    assert document["expected"] == {"minimum": MIN_INSTANCES, "maxLifetimeSeconds": DAILY_CYCLE_SECONDS,
                                    "zones": MIN_AVAILABILITY_ZONES}


def test_status_warns_against_the_stacks_own_min_size(tmp_path):
    outputs = write_outputs(tmp_path, minSize=6)
    with mock_aws():
        build_cluster(nodes=5)
        table = runner.invoke(app, ["status", "prod", "--outputs", outputs])
        document = runner.invoke(app, ["status", "prod", "--outputs", outputs, "--json"])
        overridden = runner.invoke(app, ["status", "prod", "--outputs", outputs, "--minimum", "5", "--json"])
    assert table.exit_code == 0 and "5 instances in service, below the minimum of 6" in flat(table)
    assert json.loads(document.output)["expected"]["minimum"] == 6
    assert json.loads(overridden.output)["warnings"] == []


def test_status_of_a_missing_cluster_is_a_message_not_a_traceback(outputs):
    with mock_aws():
        result = runner.invoke(app, ["status", "prod", "--outputs", outputs])
    assert result.exit_code == EXIT_CONFIG
    assert "cluster odyssey-prod not found" in result.output and "Traceback" not in result.output


def test_shell_lists_the_instances_off_a_terminal_and_opens_the_one_chosen(outputs):
    with mock_aws():
        placed = build_cluster(nodes=4)
        listed = runner.invoke(app, ["shell", "prod", "--print", "--outputs", outputs])
        chosen = sorted(placed)[2]
        result = runner.invoke(app, ["shell", "prod", "--print", "--outputs", outputs, "--instance", chosen])
        unknown = runner.invoke(app, ["shell", "prod", "--print", "--outputs", outputs, "--instance", "i-0nope"])
    assert listed.exit_code == EXIT_CONFIG and "4 instances in service; choose one with --instance" in listed.output
    assert all(instance in listed.output for instance in placed)
    assert result.exit_code == 0
    assert result.output == f"aws ssm start-session --region us-east-1 --target {chosen}\n"
    assert unknown.exit_code == EXIT_CONFIG and "i-0nope is not an instance in service" in unknown.output


def test_shell_asks_which_instance_on_a_terminal(outputs, monkeypatch):
    monkeypatch.setattr(odyssey.ops.cli, "_interactive", lambda: True)
    monkeypatch.setattr("shutil.which", lambda tool: f"/usr/bin/{tool}")
    ran = []
    monkeypatch.setattr("os.execvp", lambda program, command: ran.append(command))
    with mock_aws():
        placed = build_cluster(nodes=3)
        result = runner.invoke(app, ["shell", "prod", "--outputs", outputs], input="2\n")
    assert result.exit_code == 0, result.output
    (command,) = ran
    shown = [line.split()[1] for line in result.output.splitlines() if line.strip().startswith(("1.", "2.", "3."))]
    assert sorted(shown) == sorted(placed) and command[-1] == shown[1]


@pytest.mark.parametrize("missing", [{"aws"}, {"session-manager-plugin"}, {"aws", "session-manager-plugin"}])
def test_shell_without_the_aws_cli_or_the_plugin_says_what_to_install(outputs, monkeypatch, missing):
    import shutil

    real_which = shutil.which
    monkeypatch.setattr("shutil.which", lambda tool: None if tool in missing else real_which(tool) or "/usr/bin/x")
    monkeypatch.setattr("os.execvp", lambda *_: pytest.fail("exec without the tools"))
    with mock_aws():
        placed = build_cluster(nodes=1)
        result = runner.invoke(app, ["shell", "prod", "--outputs", outputs])
    assert result.exit_code == EXIT_CONFIG and "Traceback" not in result.output
    assert all(f"`{tool}`" in result.output for tool in missing)
    assert "docs.aws.amazon.com" in result.output and next(iter(placed)) in result.output  # --print's command


def test_shell_refuses_ecs_exec_into_a_service_without_it(outputs, monkeypatch):
    with mock_aws():
        build_cluster(nodes=2)
        add_service("prod-api", desired=1, running=1, monkeypatch=monkeypatch)
        result = runner.invoke(app, ["shell", "prod", "api", "--print", "--outputs", outputs])
    assert result.exit_code == EXIT_CONFIG
    assert "prod-api does not enable ECS Exec" in result.output


def test_a_missing_pulumi_cli_points_the_read_commands_at_outputs_files(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = runner.invoke(app, ["status", "prod"])
    assert result.exit_code == EXIT_CONFIG
    assert "Pulumi CLI is not installed" in result.output and "--outputs FILE" in result.output


def test_outputs_missing_names_are_refused(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"region": REGION}))
    result = runner.invoke(app, ["status", "prod", "--outputs", str(path)])
    assert result.exit_code == EXIT_CONFIG and "lack clusterName, autoScalingGroupName" in result.output


def test_preview_prints_the_summary_and_fails_on_mandatory_violations(workspace):
    workspace.events = [policy_event("mandatory")]
    result = runner.invoke(app, ["preview", "prod"])
    assert result.exit_code == EXIT_POLICY
    assert "prod preview: create 3, same 40" in result.output
    assert "mandatory odyssey-machine-layer/min-instances" in result.output


def test_up_passes_without_mandatory_violations(workspace):
    workspace.events = [policy_event("advisory")]
    result = runner.invoke(app, ["up", "stage"])
    assert result.exit_code == 0, result.output
    assert "stage up: same 42, update 1" in result.output
    assert [name for name, _ in workspace.calls] == ["up"]  # stage is not asked


def test_up_on_prod_off_a_terminal_without_yes_refuses_before_anything_runs(workspace):
    result = runner.invoke(app, ["up", "prod"])
    assert result.exit_code == EXIT_CONFIG
    assert "refusing to change prod without confirmation" in result.output and "--yes" in result.output
    assert workspace.calls == []
    assert runner.invoke(app, ["up", "prod", "--yes"]).exit_code == 0
    assert [name for name, _ in workspace.calls] == ["up"]


@pytest.mark.parametrize("answer, code, calls", [("y", 0, ["preview", "up"]), ("n", 1, ["preview"])])
def test_up_on_prod_shows_the_change_summary_and_asks(workspace, monkeypatch, answer, code, calls):
    from pulumi.automation.events import OpType

    from tests.ops.test_automation import change_event

    monkeypatch.setattr(odyssey.ops.cli, "_interactive", lambda: True)
    workspace.events = [change_event(OpType.REPLACE, "aws:ecs/taskDefinition:TaskDefinition", "api-task")]
    result = runner.invoke(app, ["up", "prod"], input=f"{answer}\n")
    assert result.exit_code == code, result.output
    assert "replace aws:ecs/taskDefinition:TaskDefinition api-task" in result.output
    assert "prod preview: create 3, same 40" in result.output and "Apply these changes to prod?" in result.output
    assert [name for name, _ in workspace.calls] == calls


@pytest.mark.parametrize("args, fragment", [
    (["deploy", "prod", "api", "acme/api:latest"], "'latest'"),
    (["deploy", "prod", "api"], "Missing argument"),
    (["status"], "Missing argument"),
    (["cycle-audit", "prod", "--max-lifetime", "3600"], "--max-lifetime"),
    (["status", "prod", "--minimum", "0"], "--minimum"),
    (["shell", "prod", "--outputs", "/does/not/exist"], "does not exist"),
])
def test_bad_arguments(workspace, args, fragment):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert fragment in result.output
