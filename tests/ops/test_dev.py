"""`odyssey dev STACK`: the Compose file against the Compose Specification's schema, its services, aliases, replicas
and routes against what the stack file says (prod, stage, a generated stack of 50 services), secrets by key only,
and the command's errors and exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from typer.testing import CliRunner

from odyssey.domain.compose import PROXY_SERVICE, SCHEDULES_PROFILE
from odyssey.domain.containers import container_definition
from odyssey.domain.routing import Route, allocate_priorities
from odyssey.ops.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_NO_ENGINE, app
from odyssey.ops.offline.dev import dev_files, find_engine, load_config, read_env_file, secret_uses
from tests.dev_stacks import GENERATED, generated_project
from tests.domain.test_local_proxy import map_rules
from tests.plans import ROOT

SCHEMA = json.loads((Path(__file__).parent / "data" / "compose-spec.json").read_text())
runner = CliRunner()


def _stack_file(project: Path, stack: str) -> dict:
    return yaml.safe_load((project / f"Pulumi.{stack}.yaml").read_text())["config"]


def _secrets(project: Path, stack: str, into: Path, value: str = "s3cret-{key}") -> Path:
    """An env file setting every secret the stack reads."""
    config, _ = load_config(project, stack)
    env = into / f".env.{stack}"
    env.write_text("".join(f"{key}={value.format(key=key)}\n" for key in secret_uses(config)))
    return env


def _dev(project: Path, stack: str, into: Path, *extra: str):
    env = _secrets(project, stack, into)
    output = into / f"compose.{stack}.yaml"
    result = runner.invoke(app, ["dev", stack, "--project-dir", str(project), "--output", str(output),
                                 "--env-file", str(env), *extra])
    return result, output, env


STACKS = [pytest.param(lambda tmp: (ROOT, "prod"), id="prod"), pytest.param(lambda tmp: (ROOT, "stage"), id="stage"),
          pytest.param(lambda tmp: (generated_project(tmp), GENERATED), id="generated-50")]


@pytest.mark.parametrize("stack_of", STACKS)
def test_the_compose_file_follows_the_stack_file(tmp_path, stack_of):
    project, stack = stack_of(tmp_path)
    result, output, env = _dev(project, stack, tmp_path)
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(output.read_text())
    assert not list(Draft7Validator(SCHEMA).iter_errors(document))

    raw = _stack_file(project, stack)
    services, compose = raw["odyssey:services"], document["services"]
    namespace = (raw.get("odyssey:app") or {}).get("namespace") or f"{stack}.odyssey.internal"
    assert set(compose) == {*services, *(f"schedule_{s}" for s in raw.get("odyssey:schedules", {})), PROXY_SERVICE}
    for name, service in services.items():
        body = compose[name]
        assert body["image"] == service["image"]
        assert body.get("command", []) == service.get("command", [])
        scaling = service.get("autoscaling")
        assert body["deploy"]["replicas"] == (scaling["minCount"] if scaling else service.get("desiredCount", 2))
        assert body["deploy"]["resources"]["limits"]["memory"] == f"{service.get('memory', 512)}M"
        assert body["deploy"]["resources"]["limits"]["cpus"] == service.get("cpu", 256) / 1024
        discoverable = "port" in service and service.get("discovery", True)
        aliases = [f"{name}.{namespace}"] if discoverable else []
        assert (body["networks"]["odyssey"] or {}).get("aliases", []) == aliases
        assert set(body.get("environment", {})) == {*service.get("environment", {}), *service.get("secrets", {})}
        assert "ports" not in body and "logging" not in body
    for name, schedule in raw.get("odyssey:schedules", {}).items():
        body = compose[f"schedule_{name}"]
        assert body["profiles"] == [SCHEDULES_PROFILE]
        assert body["command"] == (schedule.get("command") or services[schedule["service"]].get("command"))

    # The proxy's rules: every public service's hosts and paths, in the order of the program's priorities.
    default_hosts = raw["odyssey:app"]["defaultHosts"]
    routes = [Route(name, tuple(s["public"].get("hosts") or default_hosts), tuple(s["public"].get("paths", ())))
              for name, s in services.items() if "public" in s]
    priorities = allocate_priorities(1, routes)
    rules = map_rules((output.parent / f"compose.{stack}.nginx.conf").read_text())
    assert [service for _, service in rules] == sorted(priorities, key=priorities.get)
    assert document["configs"]["alb_rules"]["file"] == f"./compose.{stack}.nginx.conf"


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_each_service_runs_the_container_the_program_registers(stack):
    config, names = load_config(ROOT, stack)
    files = dev_files(config, names, ".env", "./rules.conf")
    for name, service in config.services.items():
        definition = container_definition(name, service, names.app_log_group, config.region)
        body = files.compose["services"][name]
        assert body["image"] == definition["image"]
        assert {k: v for k, v in body.get("environment", {}).items() if k in service.environment} == {
            e["name"]: e["value"] for e in definition["environment"]}


def test_secrets_are_keys_never_values(tmp_path):
    result, output, env = _dev(ROOT, "prod", tmp_path)
    assert result.exit_code == 0, result.output
    text = output.read_text() + (tmp_path / "compose.prod.nginx.conf").read_text()
    assert "s3cret" not in text
    environment = yaml.safe_load(text.split("\n# The shared ALB")[0])["services"]["api"]["environment"]
    assert environment["DATABASE_PASSWORD"] == (
        "${API_DATABASE_PASSWORD:?API_DATABASE_PASSWORD is not set in .env.prod}")
    assert yaml.safe_load(output.read_text())["services"]["worker"]["environment"] == {
        "QUEUE_TOKEN": "${WORKER_QUEUE_TOKEN:?WORKER_QUEUE_TOKEN is not set in .env.prod}"}


def test_the_files_are_reproducible(tmp_path):
    first, output, _ = _dev(ROOT, "stage", tmp_path)
    before = output.read_bytes(), (tmp_path / "compose.stage.nginx.conf").read_bytes()
    again, _, _ = _dev(ROOT, "stage", tmp_path)
    assert first.exit_code == again.exit_code == 0
    assert (output.read_bytes(), (tmp_path / "compose.stage.nginx.conf").read_bytes()) == before


def test_a_missing_secret_names_the_file_and_the_key(tmp_path):
    env = tmp_path / ".env.prod"
    env.write_text("API_DATABASE_PASSWORD=x\nWORKER_QUEUE_TOKEN=\n")
    result = runner.invoke(app, ["dev", "prod", "--project-dir", str(ROOT), "--env-file", str(env),
                                 "--output", str(tmp_path / "c.yaml")])
    assert result.exit_code == EXIT_CONFIG
    assert (f"secret WORKER_QUEUE_TOKEN is not set in {env}: it is worker's QUEUE_TOKEN (secretsManager "
            "worker/queue-token)") in result.output
    assert "API_DATABASE_PASSWORD is not set" not in result.output
    assert "Traceback" not in result.output and not (tmp_path / "c.yaml").exists()


def test_a_missing_env_file_is_named(tmp_path):
    result = runner.invoke(app, ["dev", "stage", "--project-dir", str(ROOT), "--env-file", str(tmp_path / "nope"),
                                 "--output", str(tmp_path / "c.yaml")])
    assert result.exit_code == EXIT_CONFIG
    assert f"API_DATABASE_PASSWORD is not set in {tmp_path / 'nope'}, which does not exist" in result.output
    assert "--init-secrets" in result.output


def test_init_secrets_adds_the_missing_keys_and_keeps_the_rest(tmp_path):
    env = tmp_path / ".env.prod"
    env.write_text("# mine\nAPI_DATABASE_PASSWORD='kept'\nOTHER=1")
    result = runner.invoke(app, ["dev", "prod", "--project-dir", str(ROOT), "--env-file", str(env), "--init-secrets"])
    assert result.exit_code == 0, result.output
    assert read_env_file(env) == {"API_DATABASE_PASSWORD": "kept", "OTHER": "1", "WORKER_QUEUE_TOKEN": ""}
    assert env.read_text().startswith("# mine\nAPI_DATABASE_PASSWORD='kept'\nOTHER=1\n")
    assert "# worker's QUEUE_TOKEN (secretsManager worker/queue-token)\nWORKER_QUEUE_TOKEN=\n" in env.read_text()


def test_two_secrets_on_one_key_are_a_config_error(tmp_path):
    project = generated_project(tmp_path)
    path = project / f"Pulumi.{GENERATED}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["odyssey:services"]["svc-0"]["secrets"] = {"A": {"ssm": "db/password"}}
    document["config"]["odyssey:services"]["svc-1"]["secrets"] = {"B": {"secretsManager": "db-password"}}
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["dev", GENERATED, "--project-dir", str(project), "--init-secrets"])
    assert result.exit_code == EXIT_CONFIG
    assert "odyssey:services.svc-0.secrets.A: its env-file key DB_PASSWORD is also the key of svc-1's B" in result.output


def test_run_prints_the_one_off_command(tmp_path):
    result, output, env = _dev(ROOT, "prod", tmp_path, "--run", "nightly-report")
    assert result.exit_code == 0, result.output
    assert f"docker compose -f {output} --env-file {env} --profile schedules run --rm schedule_nightly-report" in result.output


def test_run_of_an_unknown_schedule_lists_the_schedules(tmp_path):
    result, _, _ = _dev(ROOT, "prod", tmp_path, "--run", "weekly")
    assert result.exit_code == EXIT_CONFIG
    assert "no schedule 'weekly' in odyssey:schedules; schedules: nightly-report" in result.output


def test_up_without_a_compose_engine_says_so(tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    result, output, env = _dev(ROOT, "stage", tmp_path, "--up")
    assert result.exit_code == EXIT_NO_ENGINE
    assert "neither `docker compose` nor `podman compose` answers" in result.output
    assert f"docker compose -f {output} --env-file {env} up -d" in result.output
    assert output.exists()


def test_up_runs_compose_up(tmp_path, monkeypatch):
    bin_dir, log = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    result, output, env = _dev(ROOT, "stage", tmp_path, "--up")
    assert result.exit_code == 0, result.output
    assert log.read_text().splitlines() == ["compose version", f"compose -f {output} --env-file {env} up -d"]
    log.unlink()
    result, output, env = _dev(ROOT, "stage", tmp_path, "--run", "nightly-report", "--up")
    assert result.exit_code == 0, result.output
    assert log.read_text().splitlines() == [
        "compose version", f"compose -f {output} --env-file {env} --profile schedules run --rm schedule_nightly-report"]


def test_an_invalid_stack_file_is_exit_2(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.bad.yaml").write_text("config:\n  aws:region: us-east-1\n  odyssey:services: {Web: {}}\n")
    result = runner.invoke(app, ["dev", "bad", "--project-dir", str(tmp_path)])
    assert result.exit_code == EXIT_CONFIG and "invalid stack configuration" in result.output


ENGINE = find_engine()


@pytest.mark.skipif(ENGINE is None, reason="neither `docker compose` nor `podman compose` is installed")
@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_the_compose_engine_accepts_the_file(tmp_path, stack):
    result, output, env = _dev(ROOT, stack, tmp_path)
    assert result.exit_code == 0, result.output
    check = subprocess.run([*ENGINE, "-f", str(output), "--env-file", str(env), "config", "--quiet"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_a_bad_host_suffix_is_exit_2(tmp_path):
    result, output, _ = _dev(ROOT, "stage", tmp_path, "--host-suffix", "-bad")
    assert result.exit_code == EXIT_CONFIG and "--host-suffix: '-bad' is not a DNS name suffix" in result.output
    assert not output.exists()


def test_a_definition_without_a_compose_equivalent_is_odysseys_gap(tmp_path, monkeypatch):
    from odyssey.domain import compose

    monkeypatch.delitem(compose.TRANSLATIONS, "ulimits")
    result, output, _ = _dev(ROOT, "prod", tmp_path)
    assert result.exit_code == EXIT_FAILED
    assert "cannot write the Compose file: container definition key(s) ulimits have no Compose mapping" in result.output
