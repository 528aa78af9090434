"""The `odyssey` command, through typer's test runner."""

import json
import shutil

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
