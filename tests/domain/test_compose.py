"""ECS container definitions as Compose services, key by key."""

from __future__ import annotations

import pytest

from odyssey.domain.compose import (
    PROXY_SERVICE,
    SCHEDULES_PROFILE,
    DevSchedule,
    DevService,
    Secrets,
    compose_container,
    compose_file,
    cpus,
    secret_key,
)

SECRETS = Secrets({"DB_PASSWORD": "API_DB_PASSWORD"}, ".env.test")

# A definition with every key the builder writes, tmpfs included (services get it from another change).
DEFINITION = {
    "name": "api",
    "image": "registry.example.com/api:1.2.3",
    "essential": True,
    "cpu": 512,
    "memory": 1024,
    "privileged": False,
    "readonlyRootFilesystem": True,
    "stopTimeout": 45,
    "environment": [{"name": "GREETING", "value": "costs $5"}, {"name": "LOG_LEVEL", "value": "info"}],
    "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:000000000000:parameter/x/api/db"}],
    "linuxParameters": {"initProcessEnabled": True, "tmpfs": [
        {"containerPath": "/tmp", "size": 64},
        {"containerPath": "/run/app", "size": 8, "mountOptions": ["noexec", "nosuid", "mode=1777"]},
    ]},
    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/odyssey/test/app"}},
    "memoryReservation": 512,
    "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
    "command": ["sh", "-c", "echo $HOME"],
    "healthCheck": {"command": ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"], "interval": 30,
                    "timeout": 5, "retries": 3, "startPeriod": 60},
    "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
}


def test_every_key_of_a_definition_has_its_compose_equivalent():
    assert compose_container(DEFINITION, SECRETS) == {
        "image": "registry.example.com/api:1.2.3",
        "deploy": {"resources": {"limits": {"memory": "1024M", "cpus": 0.5}, "reservations": {"memory": "512M"}}},
        "privileged": False,
        "read_only": True,
        "stop_grace_period": "45s",
        "environment": {
            "DB_PASSWORD": "${API_DB_PASSWORD:?API_DB_PASSWORD is not set in .env.test}",
            "GREETING": "costs $$5",  # literal in ECS, so escaped from Compose's interpolation
            "LOG_LEVEL": "info",
        },
        "init": True,
        "tmpfs": ["/tmp:size=64m", "/run/app:size=8m,noexec,nosuid,mode=1777"],
        "expose": ["8080"],
        "command": ["sh", "-c", "echo $$HOME"],
        "healthcheck": {"test": ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"],
                        "interval": "30s", "timeout": "5s", "retries": 3, "start_period": "60s"},
        "ulimits": {"nofile": {"soft": 1024, "hard": 4096}},
    }


def test_no_logging_driver_and_no_host_port():
    service = compose_container(DEFINITION, SECRETS)
    assert "logging" not in service and "ports" not in service and "container_name" not in service


@pytest.mark.parametrize(("units", "cpu_count"), [(1024, 1.0), (256, 0.25), (2048, 2.0), (128, 0.125)])
def test_cpu_units_are_cpus(units, cpu_count):
    assert cpus(units) == cpu_count


def test_zero_cpu_units_cap_nothing():
    service = compose_container({**DEFINITION, "cpu": 0}, SECRETS)
    assert service["deploy"]["resources"]["limits"] == {"memory": "1024M"}


@pytest.mark.parametrize("form", [["CMD", "/bin/check", "--fast"], ["NONE"]])
def test_health_check_forms_pass_through(form):
    check = {**DEFINITION["healthCheck"], "command": form}
    assert compose_container({**DEFINITION, "healthCheck": check}, SECRETS)["healthcheck"]["test"] == form


def test_an_unknown_definition_key_is_an_error_not_an_omission():
    with pytest.raises(ValueError, match="dockerLabels have no Compose mapping"):
        compose_container({**DEFINITION, "dockerLabels": {"a": "b"}}, SECRETS)
    with pytest.raises(ValueError, match="linuxParameters.capabilities"):
        compose_container({**DEFINITION, "linuxParameters": {"capabilities": {"drop": ["ALL"]}}}, SECRETS)


def test_a_secret_without_a_key_is_an_error():
    with pytest.raises(ValueError, match="no env-file key for secret.s. DB_PASSWORD of api"):
        compose_container(DEFINITION, Secrets({}, ".env.test"))


@pytest.mark.parametrize(("ssm", "secrets_manager", "key"), [
    ("api/database-password", None, "API_DATABASE_PASSWORD"),
    (None, "worker/queue-token", "WORKER_QUEUE_TOKEN"),
    ("db.password", None, "DB_PASSWORD"),
    ("1st/key", None, "SECRET_1ST_KEY"),
])
def test_secret_keys_are_the_secrets_names(ssm, secrets_manager, key):
    assert secret_key(ssm, secrets_manager) == key


def _file(**overrides):
    arguments = {
        "project": "odyssey-test",
        "services": [DevService("api", DEFINITION, 3, ("api.test.odyssey.internal",), {"DB_PASSWORD": "API_DB_PASSWORD"}),
                     DevService("worker", {**DEFINITION, "name": "worker", "command": ["./work"]}, 0,
                                secrets={"DB_PASSWORD": "API_DB_PASSWORD"})],
        "schedules": [DevSchedule("nightly", "worker", ("./report", "$DAY")), DevSchedule("again", "worker", ())],
        "env_file": ".env.test",
        "proxy_config": "./compose.test.nginx.conf",
        "proxy_port": 8081,
        "metadata": {"stack": "test"},
        **overrides,
    }
    return compose_file(**arguments)


def test_desired_count_is_replicas_and_discovery_names_are_aliases():
    services = _file()["services"]
    assert services["api"]["deploy"]["replicas"] == 3 and services["worker"]["deploy"]["replicas"] == 0
    assert services["api"]["networks"] == {"odyssey": {"aliases": ["api.test.odyssey.internal"]}}
    assert services["worker"]["networks"] == {"odyssey": None}


def test_schedules_run_the_services_container_with_their_command_under_a_profile():
    services = _file()["services"]
    nightly, again = services["schedule_nightly"], services["schedule_again"]
    assert nightly["command"] == ["./report", "$$DAY"] and again["command"] == ["./work"]
    assert nightly["profiles"] == [SCHEDULES_PROFILE] and "replicas" not in nightly["deploy"]
    assert nightly["image"] == services["worker"]["image"] and nightly["environment"] == services["worker"]["environment"]


def test_the_proxy_listens_on_the_loopback_only_with_its_rules():
    document = _file()
    proxy = document["services"][PROXY_SERVICE]
    assert proxy["ports"] == ["127.0.0.1:8081:80"] and proxy["read_only"] is True
    assert document["configs"] == {"alb_rules": {"file": "./compose.test.nginx.conf"}}
