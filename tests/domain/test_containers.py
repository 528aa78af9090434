"""The one container builder, for a service and for a host daemon: exact definitions, checked against the ECS API."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import ParamValidator

from odyssey.config.app import ServiceConfig
from odyssey.config.machine import HostDaemon
from odyssey.domain.containers import SecretLocations, command_override, container_definition

SECRETS = SecretLocations(region="eu-west-1", account_id="123456789012", ssm_path="/odyssey/prod/",
                          secrets_manager_prefix="odyssey/prod/")
WEB = ServiceConfig.model_validate({
    "image": "public.ecr.aws/nginx/nginx:1.27.3", "cpu": 512, "memory": 1024, "memoryReservation": 768, "port": 8080,
    "command": ["nginx", "-g", "daemon off;"], "environment": {"MODE": "web", "LOG_LEVEL": "info"},
    "secrets": {"DB_PASSWORD": {"ssm": "db/password"}, "API_KEY": {"secretsManager": "api-key"}},
    "healthCheck": {"command": ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"]},
    "ulimits": {"nofile": {"soft": 65536, "hard": 65536}}, "stopTimeoutSeconds": 60, "readonlyRootFilesystem": True,
    "tmpfs": [{"containerPath": "/var/cache/nginx", "sizeMib": 64, "mountOptions": ["nosuid", "nodev"]},
              {"containerPath": "/tmp", "sizeMib": 16}],
})
WORKER = ServiceConfig.model_validate({"image": "public.ecr.aws/acme/worker:2.0.1"})
DAEMON = HostDaemon.model_validate({
    "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4", "cpu": 64, "memory": 128,
    "command": ["/fluent-bit/bin/fluent-bit"], "environment": {"LOG_LEVEL": "info"},
})
LOGS = {"logDriver": "awslogs", "options": {
    "awslogs-group": "/odyssey/prod/app", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "web"}}


def non_blocking(logs, prefix):
    options = {**logs["options"], "awslogs-stream-prefix": prefix, "mode": "non-blocking", "max-buffer-size": "25m"}
    return {"logDriver": "awslogs", "options": options}


def test_a_service_container_with_every_setting():
    assert container_definition("web", WEB, "/odyssey/prod/app", "eu-west-1", SECRETS) == {
        "name": "web",
        "image": "public.ecr.aws/nginx/nginx:1.27.3",
        "essential": True,
        "cpu": 512,
        "memory": 1024,
        "privileged": False,
        "readonlyRootFilesystem": True,
        "stopTimeout": 60,
        "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "MODE", "value": "web"}],
        "secrets": [
            {"name": "API_KEY", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:odyssey/prod/api-key"},
            {"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/odyssey/prod/db/password"},
        ],
        "linuxParameters": {"initProcessEnabled": True, "tmpfs": [
            {"containerPath": "/var/cache/nginx", "size": 64, "mountOptions": ["nosuid", "nodev"]},
            {"containerPath": "/tmp", "size": 16, "mountOptions": []}]},
        "logConfiguration": non_blocking(LOGS, "web"),
        "memoryReservation": 768,
        "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
        "command": ["nginx", "-g", "daemon off;"],
        "healthCheck": {"command": ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"],
                        "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0},
        "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
    }


def test_a_service_container_with_the_defaults():
    assert container_definition("worker", WORKER, "/odyssey/prod/app", "eu-west-1", SECRETS) == {
        "name": "worker",
        "image": "public.ecr.aws/acme/worker:2.0.1",
        "essential": True,
        "cpu": 256,
        "memory": 512,
        "privileged": False,
        # Read-only by default (Security Hub ECS.5); without tmpfs, linuxParameters is as it always was.
        "readonlyRootFilesystem": True,
        "stopTimeout": 30,
        "environment": [],
        "secrets": [],
        "linuxParameters": {"initProcessEnabled": True},
        "logConfiguration": non_blocking(LOGS, "worker"),
    }


def test_a_service_with_exec_runs_writable_unless_told_otherwise():
    with_exec = ServiceConfig.model_validate({"image": "public.ecr.aws/acme/api:1.0.0", "enableExec": True})
    built = container_definition("api", with_exec, "/odyssey/prod/app", "eu-west-1", SECRETS)
    assert built["readonlyRootFilesystem"] is False


def test_a_host_daemon_may_write_to_tmpfs_or_run_writable():
    daemon = HostDaemon.model_validate({**DAEMON.model_dump(by_alias=True), "readonlyRootFilesystem": False,
                                        "tmpfs": [{"containerPath": "/buffers", "sizeMib": 32}]})
    built = container_definition("log-router", daemon, "/odyssey/hosts", "eu-west-1")
    assert built["readonlyRootFilesystem"] is False
    assert built["linuxParameters"] == {"tmpfs": [{"containerPath": "/buffers", "size": 32, "mountOptions": []}]}


def test_a_host_daemon_container_is_the_common_part_alone():
    assert container_definition("log-router", DAEMON, "/odyssey/hosts", "eu-west-1") == {
        "name": "log-router",
        "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4",
        "essential": True,
        "cpu": 64,
        "memory": 128,
        "privileged": False,
        "readonlyRootFilesystem": True,
        "environment": [{"name": "LOG_LEVEL", "value": "info"}],
        # Blocking (the awslogs default), as daemons always logged.
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/odyssey/hosts", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "log-router"}},
        "command": ["/fluent-bit/bin/fluent-bit"],
    }


@pytest.mark.parametrize(("name", "built"), [
    ("web", lambda: container_definition("web", WEB, "/odyssey/prod/app", "eu-west-1", SECRETS)),
    ("log-router", lambda: container_definition("log-router", DAEMON, "/odyssey/hosts", "eu-west-1")),
])
def test_definitions_keep_the_key_order_every_task_definition_was_written_in(name, built):
    # The JSON text is the task definition's input: another order would register a new revision.
    assert list(built()) == [key for key in (
        "name", "image", "essential", "cpu", "memory", "privileged", "readonlyRootFilesystem", "stopTimeout",
        "environment", "secrets", "linuxParameters", "logConfiguration", "memoryReservation", "portMappings",
        "command", "healthCheck", "ulimits") if key in built()]


@pytest.mark.parametrize("container", [
    container_definition("web", WEB, "/odyssey/prod/app", "eu-west-1", SECRETS),
    container_definition("worker", WORKER, "/odyssey/prod/app", "eu-west-1", SECRETS),
    container_definition("log-router", DAEMON, "/odyssey/hosts", "eu-west-1"),
])
def test_definitions_match_the_ecs_api(container):
    """botocore's ECS model catches misspelled keys the provider would silently drop."""
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape
    request = {"family": "f", "containerDefinitions": [container], "networkMode": "bridge",
               "requiresCompatibilities": ["EC2"]}
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_command_override():
    assert command_override("report", ["./report", "--daily"]) == {
        "containerOverrides": [{"name": "report", "command": ["./report", "--daily"]}]}
    assert command_override("report", []) == {}
