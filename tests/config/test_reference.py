"""The configuration reference: README.md's key table and Pulumi.yaml's declarations are rendered from the models."""

import shutil
from typing import get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from odyssey.config import app, machine
from odyssey.config.reference import (
    README_MARKERS,
    config_keys,
    default_text,
    main,
    pulumi_declarations,
    render_pulumi_config,
    render_table,
    splice,
    stale,
    type_name,
)
from odyssey.config.stack import StackConfig, unwrap
from odyssey.ops.offline.plan import read_stack_files
from tests.plans import ROOT

KEYS = list(config_keys())
# Every model a stack file can reach, so a new one cannot slip past the description and example checks.
MODELS = {
    StackConfig, machine.Tags, machine.NetworkConfig, machine.ExistingVpc, machine.ClusterConfig,
    machine.HostDaemon, machine.LoadBalancerConfig, machine.WafConfig, app.AppConfig, app.Notifications, app.ServiceConfig,
    app.PublicRoute, app.TargetHealthCheck, app.ContainerHealthCheck, app.SecretRef, app.Ulimit, machine.TenancyConfig,
    app.Autoscaling, app.ScheduleConfig, machine.LogSearchConfig,
}


def _copy_of_the_files(tmp_path):
    for name in ("README.md", "Pulumi.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_committed_readme_and_pulumi_yaml_are_what_the_models_render():
    assert stale() == {}, "run `make docs`:\n" + "\n".join(stale().values())


def test_a_changed_description_makes_the_committed_files_stale(monkeypatch, tmp_path, capsys):
    root = _copy_of_the_files(tmp_path)
    monkeypatch.setattr(machine.ClusterConfig.model_fields["min_size"], "description", "Changed in the model.")
    assert set(stale(root)) == {root / "README.md"}
    assert main(["--check", "--root", str(root)]) == 1
    diff = capsys.readouterr().out
    assert "+| `odyssey:cluster.minSize` | integer | `4` | `4` | Changed in the model. |" in diff
    assert main(["--write", "--root", str(root)]) == 0
    assert main(["--check", "--root", str(root)]) == 0
    assert "Changed in the model." in (root / "README.md").read_text()
    assert (root / "Pulumi.yaml").read_text() == (ROOT / "Pulumi.yaml").read_text()


def test_an_edit_by_hand_inside_the_markers_is_stale_and_outside_them_is_kept(tmp_path):
    root = _copy_of_the_files(tmp_path)
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("Billing tags on every resource,", "Tags,")
                      .replace("## Performance", "## Speed"))
    pulumi_yaml = root / "Pulumi.yaml"
    pulumi_yaml.write_text(pulumi_yaml.read_text().replace("default: 30", "default: 14"))
    assert set(stale(root)) == {readme, pulumi_yaml}
    assert main(["--write", "--root", str(root)]) == 0
    assert stale(root) == {}
    assert "## Speed" in readme.read_text()
    assert yaml.safe_load(pulumi_yaml.read_text())["config"]["logRetentionDays"]["default"] == 30


@pytest.mark.parametrize("text", ["no markers", f"{README_MARKERS[1]}\n{README_MARKERS[0]}",
                                  f"{README_MARKERS[0]}\n{README_MARKERS[0]}\n{README_MARKERS[1]}"])
def test_markers_missing_out_of_order_or_twice_are_refused(text):
    with pytest.raises(ValueError, match="config-reference:start"):
        splice(text, README_MARKERS, "body", "README.md")


def test_every_model_a_stack_file_reaches_is_covered():
    reached = {StackConfig}
    for key in KEYS:
        inner = unwrap(key.field.annotation)
        if get_origin(inner) is dict:
            inner = unwrap(get_args(inner)[1])
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            reached.add(inner)
    assert reached == MODELS


@pytest.mark.parametrize("model", sorted(MODELS, key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_every_field_has_a_description_and_an_example(model):
    for name, field in model.model_fields.items():
        assert field.description and len(field.description) >= 20, f"{model.__name__}.{name} has no description"
        assert "\n" not in field.description, f"{model.__name__}.{name}: one line, it is a table cell"
        assert field.examples, f"{model.__name__}.{name} has no example"


def _field_errors(model, alias, value):
    """The validation errors at ``alias`` when it is ``value`` beside the model's required examples."""
    required = {f.alias or n: f.examples[0] for n, f in model.model_fields.items() if f.is_required()}
    try:
        model.model_validate({**required, alias: value})
    except ValidationError as error:
        return [e for e in error.errors() if e["loc"][:1] == (alias,)]
    return []


@pytest.mark.parametrize("key", KEYS, ids=[k.path for k in KEYS])
def test_every_example_is_a_valid_value_of_its_key(key):
    model = next(m for m in MODELS if any(f is key.field for f in m.model_fields.values()))
    alias = next(f.alias or n for n, f in model.model_fields.items() if f is key.field)
    assert _field_errors(model, alias, key.example) == []


def test_a_wrong_example_would_be_caught():
    assert _field_errors(machine.ClusterConfig, "maxInstanceLifetimeSeconds", 3600)
    assert _field_errors(app.ServiceConfig, "public", {"hosts": ["WWW..example"]})


def test_keys_are_flattened_to_dotted_paths_with_placeholders_for_map_keys():
    paths = [k.path for k in KEYS]
    assert paths[:3] == ["aws:region", "odyssey:tags", "odyssey:tags.department"]
    for path in ("odyssey:cluster.minSize", "odyssey:cluster.daemons.<name>.memory", "odyssey:services.<name>.cpu",
                 "odyssey:services.<name>.public.healthCheck.matcher",
                 "odyssey:services.<name>.secrets.<VARIABLE>.ssm", "odyssey:services.<name>.ulimits.<ulimit>.soft",
                 "odyssey:schedules.<name>.expression", "odyssey:app.notifications.https"):
        assert path in paths
    assert len(paths) == len(set(paths))
    # A map of plain values is one key; only maps of objects have keys below them.
    assert not any(p.startswith("odyssey:cluster.ecsConfig.") for p in paths)


def test_types_and_defaults_as_a_stack_file_writes_them():
    by_path = {k.path: k.field for k in KEYS}
    table = {
        "aws:region": ("string", "required"),
        "odyssey:clusterStack": ("string", "unset"),
        "odyssey:cluster.minSize": ("integer", "`4`"),
        "odyssey:loadBalancer.deletionProtection": ("boolean", "`true`"),
        "odyssey:loadBalancer.ingressCidrs": ("list of string", '`["0.0.0.0/0"]`'),
        "odyssey:network.natGateways": ("string: `OnePerAz` or `Single`", "`OnePerAz`"),
        "odyssey:cluster.applicationStacks": ("map of object", "`{}`"),
        "odyssey:services": ("map of object", "`{}`"),
        "odyssey:app": ("object", "`{}`"),
        "odyssey:network": ("object", "unset"),
        "odyssey:services.<name>.secrets.<VARIABLE>.ssm": ("string", "unset"),
    }
    for path, (typ, default) in table.items():
        assert (type_name(by_path[path].annotation), default_text(by_path[path])) == (typ, default), path


def test_table_cells_escape_the_pipe():
    row = next(r for r in render_table().splitlines() if r.startswith("| `odyssey:services.<name>.healthCheck.command`"))
    assert "\\|\\| exit 1" in row
    assert row.replace("\\|", "").count("|") == 6


def test_pulumi_yaml_declares_the_top_level_scalar_keys_with_defaults_and_nothing_else():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == {"logRetentionDays", "securityLogRetentionDays", "protectStatefulResources"}
    assert declared == pulumi_declarations()
    assert yaml.safe_load(render_pulumi_config()) == {"config": pulumi_declarations()}


def test_declared_defaults_and_types_in_pulumi_yaml_match_the_model():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    fields = {f.alias: f for f in StackConfig.model_fields.values()}
    python_types = {"string": str, "integer": int, "boolean": bool}
    for key, spec in declared.items():
        assert spec["default"] == fields[key].default, key
        assert fields[key].annotation is python_types[spec["type"]], key
        assert type(spec["default"]) is python_types[spec["type"]], key


def test_pulumi_yaml_declarations_fit_pulumis_project_schema():
    # Pulumi's project schema (sdk/go/common/workspace/project.json, configTypeDeclaration): the keys a declaration
    # may have, and the types a declared key may be (simpleConfigType); an array needs `items`.
    allowed_keys = {"type", "items", "description", "secret", "default"}
    for key, spec in yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"].items():
        assert set(spec) <= allowed_keys, key
        assert spec["type"] in {"string", "integer", "boolean", "array"}, key
        assert spec["type"] != "array" or "items" in spec, key


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_the_offline_plan_reads_the_generated_declarations_like_the_cli(stack, tmp_path):
    # Without the key in the stack file, the plan (as the CLI) takes the declared default.
    for name in ("Pulumi.yaml", f"Pulumi.{stack}.yaml"):
        text = (ROOT / name).read_text()
        if name != "Pulumi.yaml":
            text = "\n".join(line for line in text.splitlines() if "odyssey:logRetentionDays" not in line)
        (tmp_path / name).write_text(text)
    files = read_stack_files(tmp_path, stack)
    assert files.config["odyssey:logRetentionDays"] == str(StackConfig.model_fields["log_retention_days"].default)
