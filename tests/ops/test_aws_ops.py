"""boto3 operations against moto: status, cycle audit, rollout watcher, shell targets, and their faults."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from odyssey.domain.invariants import (
    AWS_LIFETIME_OFF,
    CYCLE_AUDIT_GRACE_SECONDS,
    DAILY_CYCLE_SECONDS,
    MIN_AVAILABILITY_ZONES,
    MIN_INSTANCES,
)
from odyssey.ops.live.aws_ops import (
    Expected,
    OpsError,
    clients,
    cluster_status,
    cycle_audit,
    exec_command,
    expected_of,
    instance_command,
    instances_in_service,
    previous_version,
    primary_deployment,
    running_version,
    watch_rollout,
)
from tests.ops.aws_fixtures import (
    CLUSTER,
    GROUP,
    NOW,
    REGION,
    add_service,
    build_cluster,
    fail_deployment,
    register_revision,
    set_rollout,
    start_deployment,
    throttle,
)


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    # Never the developer's real account: moto's fake credentials only.
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws():
    with mock_aws():
        yield clients(REGION)


def test_status_shows_nodes_per_zone_with_age_agent_and_reservations(aws, monkeypatch):
    placed = build_cluster(nodes=6, old=2)
    add_service("prod-web", desired=2, running=2, monkeypatch=monkeypatch)
    status = cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW)
    assert len(status.nodes) == 6 and sorted(n.instance_id for n in status.nodes) == sorted(placed)
    assert status.nodes_per_zone() == {"us-east-1a": 2, "us-east-1b": 2, "us-east-1c": 2}
    assert sorted(n.age_hours for n in status.nodes)[-2:] == [30.0, 30.0]
    assert all(n.agent_connected for n in status.nodes)
    assert all(n.cpu_reserved_percent == 0.0 and n.memory_reserved_percent == 0.0 for n in status.nodes)
    (web,) = status.services
    assert (web.name, web.desired, web.running, web.pending, web.rollout_state) == ("prod-web", 2, 2, 0, "COMPLETED")
    assert [w.kind for w in status.warnings] == ["overdue", "overdue"]  # the two 30-hour-old nodes


def test_status_shows_services_mid_deployment_and_failed_ones(aws, monkeypatch):
    build_cluster()
    add_service("prod-api", desired=4, running=1, monkeypatch=monkeypatch)
    add_service("prod-worker", desired=2, running=0, monkeypatch=monkeypatch)
    set_rollout("prod-worker", "FAILED", "ECS deployment circuit breaker: tasks failed to start.",
                events=["(service prod-worker) has started 2 tasks", "(service prod-worker) deployment failed"])
    services = {s.name: s for s in cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW).services}
    assert (services["prod-api"].running, services["prod-api"].pending, services["prod-api"].rollout_state) == (1, 3, "IN_PROGRESS")
    assert services["prod-worker"].rollout_state == "FAILED"
    assert services["prod-worker"].events[0] == "(service prod-worker) deployment failed"


def test_status_warns_below_minimum_and_unbalanced(aws):
    build_cluster(nodes=MIN_INSTANCES - 1, zones="aab")
    warnings = cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW).warnings
    (below,) = warnings  # 2 and 1 differ by one: balanced enough
    assert (below.kind, below.message) == (
        "belowMinimum", f"{MIN_INSTANCES - 1} instances in service, below the minimum of {MIN_INSTANCES}")
    assert below.to_json()["zones"] == {"us-east-1a": 2, "us-east-1b": 1}
    build_cluster_unbalanced = cluster_status(aws, CLUSTER, GROUP, REGION, minimum=1, now=NOW)
    assert build_cluster_unbalanced.warnings == []


def status_of(aws):
    return cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW)


def test_status_flags_instances_past_the_lifetime_and_the_grace(aws):
    build_cluster(nodes=6, old=2)  # 30 hours old
    flags = {n.instance_id: n.lifetime for n in status_of(aws).nodes}
    assert sorted(f for f in flags.values() if f) == ["overdue", "overdue"]
    lenient = cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW, grace_seconds=8 * 3600)
    assert sorted(n.lifetime for n in lenient.nodes if n.lifetime) == ["past lifetime", "past lifetime"]
    assert [w.kind for w in status_of(aws).warnings] == ["overdue", "overdue"]
    assert cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW, max_lifetime_seconds=2 * DAILY_CYCLE_SECONDS).warnings == []


def test_status_names_each_services_tenant(aws, monkeypatch):
    build_cluster()
    for name in ("prod-api", "stage-api", "qa-api"):
        add_service(name, desired=1, running=1, monkeypatch=monkeypatch)
    status = cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW, tenants=["prod", "stage"])
    assert {s.name: s.tenant for s in status.services} == {"prod-api": "prod", "stage-api": "stage", "qa-api": None}
    assert [s.name for s in status.of_tenant("stage").services] == ["stage-api"]
    document = status.to_json()
    assert document["services"][0].keys() >= {"name", "tenant", "rolloutState", "taskDefinition", "execEnabled"}
    assert document["nodes"][0].keys() >= {"instanceId", "availabilityZone", "ageHours", "agentConnected", "lifetime"}


def test_cycle_audit_passes_a_healthy_cluster(aws):
    build_cluster(nodes=6)
    audit = cycle_audit(cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW))
    assert (audit.broken, audit.findings) == (False, [])


def test_cycle_audit_finds_instances_past_their_lifetime_and_grace(aws):
    build_cluster(nodes=6, old=2)  # 30 hours old: past 24 h and 2 h of grace
    assert DAILY_CYCLE_SECONDS + CYCLE_AUDIT_GRACE_SECONDS < 30 * 3600
    audit = cycle_audit(cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW))
    assert audit.broken
    overdue = [f for f in audit.findings if f.kind == "overdue"]
    assert len(overdue) == 2 and all("past the 24 h maximum lifetime" in f.message for f in overdue)
    assert {f.instance_id for f in overdue} == {n.instance_id for n in status_of(aws).nodes if n.age_hours == 30.0}
    assert all(f.to_json().keys() == {"kind", "message", "instanceId", "zone"} for f in overdue)
    lenient = cycle_audit(cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW), grace_seconds=8 * 3600)
    assert not lenient.broken


def test_cycle_audit_of_a_group_that_never_cycles(aws):
    build_cluster(nodes=6)  # every node younger than a day
    findings = cycle_audit(cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW),
                           max_lifetime_seconds=AWS_LIFETIME_OFF).findings
    assert [str(f) for f in findings] == [
        "the group sets no maximum instance lifetime, so instances are never cycled; ages are "
        f"checked against the daily cycle ({DAILY_CYCLE_SECONDS} s)"]


INVARIANTS = Expected(MIN_INSTANCES, DAILY_CYCLE_SECONDS, MIN_AVAILABILITY_ZONES)
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]


@pytest.mark.parametrize("outputs, flags, expected, notes", [
    ({"minSize": 6.0, "maxInstanceLifetimeSeconds": 172800.0, "availabilityZones": ZONES}, {},
     Expected(6, 172800, 4), 0),
    ({"minSize": 6, "maxInstanceLifetimeSeconds": 172800, "availabilityZones": ZONES},
     {"minimum": 5, "max_lifetime_seconds": 90000}, Expected(5, 90000, 4), 0),
    ({"minSize": 0, "maxInstanceLifetimeSeconds": 0, "availabilityZones": ZONES[:3]}, {}, Expected(0, 0, 3), 0),
    # The flags stand in for missing outputs: only the zone count falls back.
    ({}, {"minimum": 5, "max_lifetime_seconds": 90000}, Expected(5, 90000, MIN_AVAILABILITY_ZONES), 1),
])
def test_expected_values_come_from_the_stack_then_the_flags(outputs, flags, expected, notes):
    found = expected_of(outputs, **flags)
    assert (found.minimum, found.max_lifetime_seconds, found.zones) == (
        expected.minimum, expected.max_lifetime_seconds, expected.zones)
    assert len(found.notes) == notes


@pytest.mark.parametrize("outputs", [{}, {"minSize": None, "maxInstanceLifetimeSeconds": None, "availabilityZones": None}])
def test_missing_outputs_fall_back_to_the_invariants_with_a_note_each(outputs):
    found = expected_of(outputs)
    assert (found.minimum, found.max_lifetime_seconds, found.zones) == (
        INVARIANTS.minimum, INVARIANTS.max_lifetime_seconds, INVARIANTS.zones)
    assert [re.search(r"does not export (\w+)", note)[1] for note in found.notes] == [
        "minSize", "maxInstanceLifetimeSeconds", "availabilityZones"]


def test_cycle_audit_finds_too_few_zones_and_imbalance(aws):
    build_cluster(nodes=5, zones="aaaab")
    findings = {f.kind: f for f in cycle_audit(cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW)).findings}
    assert findings["tooFewZones"].message == ("instances in service span 2 availability zone(s), below 3: "
                                               "4 in us-east-1a, 1 in us-east-1b")
    assert findings["unbalanced"].message == ("instances in service are unbalanced across availability zones: "
                                              "4 in us-east-1a, 1 in us-east-1b")
    assert findings["unbalanced"].zones == {"us-east-1a": 4, "us-east-1b": 1}
    assert "{" not in findings["tooFewZones"].message  # a sentence, not a Python dict


def test_empty_cluster(aws):
    build_cluster(nodes=0)
    status = cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW)
    assert status.nodes == [] and status.services == []
    assert f"0 instances in service, below the minimum of {MIN_INSTANCES}" in [w.message for w in status.warnings]
    assert cycle_audit(status).broken


def test_missing_cluster_is_a_clear_error(aws):
    with pytest.raises(OpsError, match="cluster odyssey-prod not found in us-east-1"):
        cluster_status(aws, CLUSTER, GROUP, REGION)


def test_missing_group_is_a_clear_error(aws):
    boto3.client("ecs", region_name=REGION).create_cluster(clusterName=CLUSTER)
    with pytest.raises(OpsError, match="Auto Scaling group odyssey-prod-nodes not found"):
        cluster_status(aws, CLUSTER, GROUP, REGION)


def test_throttling_is_retried_then_succeeds(aws):
    build_cluster(nodes=4)
    calls = throttle(aws["ecs"], "ListContainerInstances", times=2)
    status = cluster_status(aws, CLUSTER, GROUP, REGION, now=NOW)
    assert len(calls) == 3  # two throttled answers, then moto's
    assert len(status.nodes) == 4 and all(n.agent_connected for n in status.nodes)


def test_persistent_throttling_gives_up_with_a_message():
    with mock_aws():
        build_cluster(nodes=4)
        # Two attempts instead of eight, so the test does not wait out the backoff.
        aws = clients(REGION, config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
        calls = throttle(aws["ecs"], "DescribeClusters", times=100)
        with pytest.raises(OpsError, match="ThrottlingException"):
            cluster_status(aws, CLUSTER, GROUP, REGION)
    assert len(calls) == 2


@set_initial_no_auth_action_count(3)  # creating the user, its policy and its key
def test_access_denied_is_a_clear_error():
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="viewer")
        iam.put_user_policy(UserName="viewer", PolicyName="autoscaling-only", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "autoscaling:Describe*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="viewer")["AccessKey"]
        session = boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        with pytest.raises(OpsError) as error:
            cluster_status(clients(REGION, session), CLUSTER, GROUP, REGION)
    message = str(error.value)
    assert "access denied" in message and "ecs:DescribeClusters" in message and "<" not in message


def test_missing_credentials_is_a_clear_error(monkeypatch, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(OpsError, match="no AWS credentials found"):
        cluster_status(clients(REGION), CLUSTER, GROUP, REGION)


# ------------------------------------------------------------------ the rollout watcher


def test_watcher_follows_the_new_deployment_to_completion(aws, monkeypatch):
    build_cluster()
    add_service("prod-api", desired=4, running=4, monkeypatch=monkeypatch)
    previous = primary_deployment(aws["ecs"], CLUSTER, "prod-api")
    start_deployment("prod-api", register_revision("prod-api", "acme/api:2.0.0"), running=1)
    progress = []
    steps = iter([lambda: set_rollout("prod-api", "IN_PROGRESS", "in progress", running=2,
                                      events=["(service prod-api) registered 1 targets"]),
                  lambda: set_rollout("prod-api", "COMPLETED", "ECS deployment completed.", running=4,
                                      events=["(service prod-api) has reached a steady state."])])
    rollout = watch_rollout(aws["ecs"], CLUSTER, "prod-api", previous, on_progress=progress.append,
                            poll_seconds=0, sleep=lambda _: next(steps)())
    assert rollout.outcome == "COMPLETED"
    assert [p["running"] for p in progress] == [1, 2, 4]
    assert rollout.events[-1] == "(service prod-api) has reached a steady state."


def test_watcher_reports_a_circuit_breaker_rollback(aws, monkeypatch):
    build_cluster()
    old = add_service("prod-api", desired=2, running=2, monkeypatch=monkeypatch)
    previous = primary_deployment(aws["ecs"], CLUSTER, "prod-api")
    start_deployment("prod-api", register_revision("prod-api", "acme/api:2.0.0"))

    def roll_back():
        fail_deployment("prod-api", "ECS deployment circuit breaker: tasks failed health checks, rolling back.")
        start_deployment("prod-api", old, reason="ECS deployment circuit breaker: rolling back to deploymentId "
                         f"{previous['id']}")

    steps = iter([roll_back])
    rollout = watch_rollout(aws["ecs"], CLUSTER, "prod-api", previous, poll_seconds=0, sleep=lambda _: next(steps)())
    assert rollout.outcome == "ROLLED_BACK"
    assert "circuit breaker" in rollout.reason


def test_watcher_reports_a_failed_rollout(aws, monkeypatch):
    build_cluster()
    add_service("prod-worker", desired=2, running=2, monkeypatch=monkeypatch)
    previous = primary_deployment(aws["ecs"], CLUSTER, "prod-worker")
    start_deployment("prod-worker", register_revision("prod-worker", "acme/worker:2.0.0"), state="FAILED",
                     reason="ECS deployment circuit breaker: tasks failed to start.")
    assert watch_rollout(aws["ecs"], CLUSTER, "prod-worker", previous, poll_seconds=0).outcome == "FAILED"


def test_watcher_sees_when_nothing_was_deployed(aws, monkeypatch):
    build_cluster()
    add_service("prod-api", desired=2, running=2, monkeypatch=monkeypatch)
    previous = primary_deployment(aws["ecs"], CLUSTER, "prod-api")
    rollout = watch_rollout(aws["ecs"], CLUSTER, "prod-api", previous, poll_seconds=0)
    assert (rollout.outcome, rollout.reason) == ("COMPLETED", "no new deployment: the service already runs this version")


def test_watcher_gives_up_after_its_timeout(aws, monkeypatch):
    build_cluster()
    add_service("prod-api", desired=2, running=2, monkeypatch=monkeypatch)
    previous = primary_deployment(aws["ecs"], CLUSTER, "prod-api")
    start_deployment("prod-api", register_revision("prod-api", "acme/api:2.0.0"))
    rollout = watch_rollout(aws["ecs"], CLUSTER, "prod-api", previous, poll_seconds=0, timeout_seconds=0,
                            sleep=lambda _: None)
    assert (rollout.outcome, rollout.reason) == ("FAILED", "no outcome after 0 s")


def test_watcher_on_a_missing_service(aws):
    build_cluster()
    with pytest.raises(OpsError, match="service prod-nope not found"):
        watch_rollout(aws["ecs"], CLUSTER, "prod-nope", poll_seconds=0)


# ------------------------------------------------------------------ shell targets


def test_shell_choices_are_the_instances_in_service_and_ssm_opens_one(aws):
    placed = build_cluster(nodes=4)
    choices = instances_in_service(aws, GROUP)
    assert sorted(c["instanceId"] for c in choices) == sorted(placed)
    assert instance_command(REGION, choices[0]["instanceId"]) == [
        "aws", "ssm", "start-session", "--region", REGION, "--target", choices[0]["instanceId"]]


def _running_task(service: str, task: str) -> None:
    ecs = boto3.client("ecs", region_name=REGION)
    instance = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"][0]
    ecs.start_task(cluster=CLUSTER, taskDefinition=task, containerInstances=[instance], startedBy="ecs-svc/1",
                   group=f"service:{service}")
    # moto's start_task ignores the service, so tag the task to it the way ECS would list it.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ecs.models import ecs_backends
    for found in ecs_backends[DEFAULT_ACCOUNT_ID][REGION].tasks[CLUSTER].values():
        found.service_name = service


def test_shell_in_a_service_uses_ecs_exec(aws, monkeypatch):
    build_cluster(nodes=4)
    task = add_service("prod-api", desired=1, running=1, monkeypatch=monkeypatch, exec_enabled=True)
    _running_task("prod-api", task)
    command = exec_command(aws, CLUSTER, REGION, "prod-api")
    assert command[:3] == ["aws", "ecs", "execute-command"]
    assert command[command.index("--container") + 1] == "prod-api"


def test_shell_refuses_ecs_exec_into_a_service_that_does_not_enable_it(aws, monkeypatch):
    build_cluster(nodes=4)
    task = add_service("prod-api", desired=1, running=1, monkeypatch=monkeypatch)
    _running_task("prod-api", task)
    with pytest.raises(OpsError, match="prod-api does not enable ECS Exec .*enableExec: true"):
        exec_command(aws, CLUSTER, REGION, "prod-api")


def test_shell_in_a_service_without_tasks(aws, monkeypatch):
    build_cluster(nodes=4)
    add_service("prod-api", desired=1, running=0, monkeypatch=monkeypatch, exec_enabled=True)
    with pytest.raises(OpsError, match="no running task"):
        exec_command(aws, CLUSTER, REGION, "prod-api")


# ------------------------------------------------------------------ versions


def test_the_running_version_follows_the_primary_deployment_through_a_rollback(aws, monkeypatch):
    build_cluster()
    first = add_service("prod-api", desired=2, running=2, monkeypatch=monkeypatch, image="acme/api:1.0.0")
    assert running_version(aws["ecs"], CLUSTER, "prod-api", "prod-api").image == "acme/api:1.0.0"
    start_deployment("prod-api", register_revision("prod-api", "acme/api:2.0.0"))
    assert running_version(aws["ecs"], CLUSTER, "prod-api", "prod-api").image == "acme/api:2.0.0"
    fail_deployment("prod-api", "circuit breaker")
    start_deployment("prod-api", first)  # the circuit breaker's rollback: a new deployment of the old revision
    running = running_version(aws["ecs"], CLUSTER, "prod-api", "prod-api")
    assert (running.image, running.revision) == ("acme/api:1.0.0", "odyssey-prod-prod-api:1")


def test_the_previous_version_skips_revisions_with_the_same_image_and_reads_deregistered_ones(aws, monkeypatch):
    build_cluster()
    ecs = boto3.client("ecs", region_name=REGION)
    first = add_service("prod-api", desired=2, running=2, monkeypatch=monkeypatch, image="acme/api:1.0.0")
    settings_only = register_revision("prod-api", "acme/api:1.0.0")   # an env change: same image
    second = register_revision("prod-api", "acme/api:2.0.0")
    for arn in (first, settings_only):
        ecs.deregister_task_definition(taskDefinition=arn)              # as Pulumi does when it replaces one
    start_deployment("prod-api", second)
    register_revision("prod-api", "acme/api:3.0.0-bad")                 # a later revision that never ran
    running, previous = previous_version(aws["ecs"], CLUSTER, "prod-api", "prod-api")
    assert (running.image, previous.image) == ("acme/api:2.0.0", "acme/api:1.0.0")
    assert previous.revision == "odyssey-prod-prod-api:2"               # the latest earlier one with that image


def test_no_previous_version_is_a_clear_error(aws, monkeypatch):
    build_cluster()
    add_service("prod-api", desired=2, running=2, monkeypatch=monkeypatch)
    with pytest.raises(OpsError, match="no earlier revision of odyssey-prod-prod-api has another image"):
        previous_version(aws["ecs"], CLUSTER, "prod-api", "prod-api")
