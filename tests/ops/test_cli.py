"""The `odyssey` command, through typer's test runner."""

import json
import shutil
import subprocess
import sys

from typer.testing import CliRunner

from odyssey.ops.cli import EXIT_CONFIG, app
from tests.plans import ROOT

runner = CliRunner()


def test_help_lists_plan():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "plan" in result.output


def test_plan_prod_prints_the_tree_and_totals():
    result = runner.invoke(app, ["plan", "prod", "--project-dir", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert "odyssey:cluster:SharedCluster" in result.output
    assert "Resources by type" in result.output
    assert "prod:" in result.output and "resources planned offline" in result.output


def test_plan_writes_json(tmp_path):
    target = tmp_path / "plan.json"
    result = runner.invoke(app, ["plan", "stage", "--project-dir", str(ROOT), "--json", str(target), "--quiet"])
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text())
    assert document["stack"] == "stage" and document["project"] == "odyssey"
    record = document["resources"][0]
    for key in ("urn", "type", "name", "parent", "custom", "provider", "inputs", "dependencies", "propertyDependencies"):
        assert key in record
    assert document["outputs"]["clusterName"] == "odyssey-prod"


def test_unknown_stack_is_a_clear_error():
    result = runner.invoke(app, ["plan", "qa", "--project-dir", str(ROOT)])
    assert result.exit_code == EXIT_CONFIG
    assert "no stack file Pulumi.qa.yaml; stacks here: prod, stage" in result.output


def test_bad_stack_config_lists_every_problem(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n"
        "  aws:region: us-east-1\n"
        "  odyssey:tags: {department: platform, contact: ops@example.com}\n"
        "  odyssey:cluster: {minSize: 2, maxSize: 1, maxInstanceLifetimeSeconds: 3600}\n"
        "  odyssey:logRetentionDays: 31\n"
    )
    result = runner.invoke(app, ["plan", "broken", "--project-dir", str(tmp_path), "--skip-policies"])
    assert result.exit_code == EXIT_CONFIG
    assert "invalid stack configuration (3 problems)" in result.output
    for key in ("odyssey:cluster.maxSize", "odyssey:cluster.maxInstanceLifetimeSeconds", "odyssey:logRetentionDays"):
        assert key in result.output
    assert "Traceback" not in result.output


def test_missing_argument_and_bad_option():
    assert runner.invoke(app, ["plan"]).exit_code == 2
    assert runner.invoke(app, ["plan", "prod", "--project-dir", "/does/not/exist"]).exit_code == 2


def test_the_plan_pauses_the_cyclic_collector_and_gives_it_back(tmp_path):
    import gc

    from odyssey.ops.offline.plan import collector_paused

    seen = []
    with collector_paused():
        seen.append(gc.isenabled())
    assert seen == [False] and gc.isenabled()
    try:
        with collector_paused():
            raise RuntimeError("the program failed")
    except RuntimeError:
        pass
    assert gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_command_runs_and_exits_cleanly_in_a_process_of_its_own(tmp_path):
    # `odyssey` freezes what is alive as it exits (odyssey.ops.cli.main): the exit code and output stay the command's.
    out = tmp_path / "plan.json"
    result = subprocess.run([sys.executable, "-m", "odyssey", "plan", "prod", "-q", "--json", str(out),
                             "--project-dir", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "no mandatory violations" in result.stdout and "Traceback" not in result.stderr
    assert json.loads(out.read_text())["resources"]
    bad = subprocess.run([sys.executable, "-m", "odyssey", "plan", "nosuchstack", "--project-dir", str(ROOT)],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == EXIT_CONFIG and "nosuchstack" in bad.stderr


def test_a_planning_command_keeps_the_collector_off_to_its_exit_and_a_watching_command_does_not():
    from odyssey.ops.cli import PLANNING_COMMANDS

    registered = {command.name or command.callback.__name__.replace("_", "-") for command in app.registered_commands}
    assert PLANNING_COMMANDS <= registered
    probe = ("import gc, sys\nfrom odyssey.ops.cli import main\nsys.argv = ['odyssey', sys.argv[1], '--help']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\nprint('collector on' if gc.isenabled() else 'collector off')")
    for command, state in [*((name, "collector off") for name in sorted(PLANNING_COMMANDS)), ("status", "collector on")]:
        run = subprocess.run([sys.executable, "-c", probe, command], capture_output=True, text=True, cwd=ROOT)
        assert run.stdout.strip().splitlines()[-1] == state, (command, run.stdout, run.stderr)
