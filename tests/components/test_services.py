"""Application stacks under Pulumi mocks: the committed prod and stage stacks, service by service."""

from __future__ import annotations

import json

import pytest

from odyssey.domain.routing import slot_range
from odyssey.ops.offline.plan import run_plan
from tests.plans import ROOT, ecs_api_errors, of_type, plan_config

TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
RULE = "aws:lb/listenerRule:ListenerRule"
DISCOVERY = "aws:servicediscovery/service:Service"
NAMESPACE = "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace"
SAMPLE = {"web": "public", "api": "public", "catalog": "internal", "worker": "worker"}


@pytest.fixture(scope="module")
def plans():
    return {stack: run_plan(ROOT, stack) for stack in ("prod", "stage")}


def by_name(plan, typ):
    return {r["name"]: r for r in of_type(plan, typ)}


def component(plan, service):
    return f"app-{service}"


def children(plan, service, typ):
    parent = next(r["urn"] for r in plan.resources if r["type"] == "odyssey:service:Service" and r["name"] == f"app-{service}")
    return [r for r in plan.resources if r["type"] == typ and r["parent"] == parent]


@pytest.mark.parametrize("stack", ["prod", "stage"])
@pytest.mark.parametrize("service", SAMPLE)
def test_every_container_logs_and_runs_a_pinned_image(plans, stack, service):
    (task,) = children(plans[stack], service, TASK)
    inputs = task["inputs"]
    assert inputs["networkMode"] == "bridge" and inputs["requiresCompatibilities"] == ["EC2"]
    containers = json.loads(inputs["containerDefinitions"])
    for container in containers:
        assert container["logConfiguration"]["logDriver"] == "awslogs"
        assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == service
        assert container["logConfiguration"]["options"]["awslogs-group"] == f"/odyssey/{stack}/app"
        assert ":" in container["image"].rsplit("/", 1)[-1] and not container["image"].endswith(":latest")
        assert container["privileged"] is False
        for mapping in container.get("portMappings", []):
            assert mapping["hostPort"] == 0  # dynamic host port


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_task_definitions_match_the_ecs_api(plans, stack):
    """botocore's ECS model catches misspelled keys the provider would silently drop."""
    for task in of_type(plans[stack], TASK):
        assert ecs_api_errors(task) is None


@pytest.mark.parametrize("stack", ["prod", "stage"])
@pytest.mark.parametrize("service", SAMPLE)
def test_services_roll_back_failed_deploys_on_the_capacity_provider(plans, stack, service):
    (ecs,) = children(plans[stack], service, SERVICE)
    inputs = ecs["inputs"]
    assert inputs["name"] == f"{stack}-{service}"
    assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert (inputs["deploymentMinimumHealthyPercent"], inputs["deploymentMaximumPercent"]) == (100.0, 200.0)
    (strategy,) = inputs["capacityProviderStrategies"]
    assert strategy["capacityProvider"] == plans["prod"].outputs["capacityProviderName"]
    assert inputs["orderedPlacementStrategies"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}]
    assert inputs["cluster"] == plans["prod"].outputs["clusterArn"]


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_public_services_have_a_health_checked_target_group_and_a_rule(plans, stack):
    for service, kind in SAMPLE.items():
        groups, rules = children(plans[stack], service, TARGET_GROUP), children(plans[stack], service, RULE)
        if kind != "public":
            assert not groups and not rules
            continue
        (group,), (rule,) = groups, rules
        check = group["inputs"]["healthCheck"]
        assert check["enabled"] is True and check["path"].startswith("/")
        assert (check["interval"], check["healthyThreshold"], check["unhealthyThreshold"]) == (10.0, 2.0, 2.0)
        assert group["inputs"]["deregistrationDelay"] == 30.0
        assert group["inputs"]["targetType"] == "instance"
        assert len(group["name"]) <= 24  # Pulumi appends 8 characters; AWS allows 32
        assert rule["inputs"]["actions"][0]["type"] == "forward"
        (ecs,) = children(plans[stack], service, SERVICE)
        assert ecs["inputs"]["loadBalancers"][0]["containerName"] == service
        assert ecs["inputs"]["healthCheckGracePeriodSeconds"] == 60.0


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_target_groups_are_named_from_their_service_and_keep_the_deployed_ones(plans, stack):
    for service in ("api", "web"):
        (group,) = children(plans[stack], service, TARGET_GROUP)
        assert group["name"] == f"app-{service}-tg"
        # Named <stack>-<service> until issue 8: the alias makes the engine update that one, not replace it.
        assert {"spec": {"name": f"{stack}-{service}", "parentUrn": ""}} in group["aliases"]
        # So it keeps its physical name, which the listener rule and the ECS service point at.
        (rule,) = children(plans[stack], service, RULE)
        assert f"targetGroup/{stack}-{service}-" in rule["inputs"]["actions"][0]["targetGroupArn"]


def test_priorities_are_unique_across_both_stacks_and_in_each_stacks_slot(plans):
    priorities = {stack: [r["inputs"]["priority"] for r in of_type(plan, RULE)] for stack, plan in plans.items()}
    everything = priorities["prod"] + priorities["stage"]
    assert len(everything) == len(set(everything)) == 4
    assert all(int(p) in slot_range(1) for p in priorities["prod"])
    assert all(int(p) in slot_range(2) for p in priorities["stage"])


def test_path_rules_come_before_host_rules(plans):
    for plan in plans.values():
        rules = {r["parent"].rsplit("::", 1)[1]: r["inputs"]["priority"] for r in of_type(plan, RULE)}
        assert rules["app-api"] < rules["app-web"]


def test_stage_rules_attach_to_prods_https_listener(plans):
    listener = plans["prod"].outputs["httpsListenerArn"]
    for plan in plans.values():
        assert {r["inputs"]["listenerArn"] for r in of_type(plan, RULE)} == {listener}
    hosts = {stack: {c["hostHeader"]["values"][0] for r in of_type(plan, RULE) for c in r["inputs"]["conditions"]
                     if "hostHeader" in c} for stack, plan in plans.items()}
    assert hosts == {"prod": {"www.example.com"}, "stage": {"stage.example.com"}}


def test_discovery_registers_srv_records_in_the_stacks_namespace(plans):
    for stack, plan in plans.items():
        (namespace,) = of_type(plan, NAMESPACE)
        assert namespace["inputs"]["name"] == f"{stack}.odyssey.internal"
        registered = {r["inputs"]["name"]: r for r in of_type(plan, DISCOVERY)}
        assert sorted(registered) == ["api", "catalog", "web"]  # the worker has no port
        for record in registered.values():
            assert record["inputs"]["dnsConfig"]["dnsRecords"] == [{"type": "SRV", "ttl": 10.0}]
        (ecs,) = children(plan, "catalog", SERVICE)
        assert ecs["inputs"]["serviceRegistries"]["containerPort"] == 9000.0


def test_autoscaling_tracks_cpu_and_requests(plans):
    prod = plans["prod"]
    targets = {r["name"]: r["inputs"] for r in of_type(prod, "aws:appautoscaling/target:Target")}
    assert targets["app-web-scaling"]["resourceId"] == "service/odyssey-prod/prod-web"
    assert (targets["app-web-scaling"]["minCapacity"], targets["app-web-scaling"]["maxCapacity"]) == (2.0, 8.0)
    policies = {r["name"]: r["inputs"] for r in of_type(prod, "aws:appautoscaling/policy:Policy")}
    metric = policies["app-web-scaling-requests"]["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
    assert metric["predefinedMetricType"] == "ALBRequestCountPerTarget"
    assert metric["resourceLabel"].startswith("app/odyssey-prod/") and "/targetgroup/" in metric["resourceLabel"]
    assert policies["app-api-scaling-cpu"]["targetTrackingScalingPolicyConfiguration"]["targetValue"] == 60.0
    (web,) = children(prod, "web", SERVICE)
    assert web["ignoreChanges"] == ["desiredCount"]


def test_alarms_go_to_the_stacks_topic(plans):
    prod = plans["prod"]
    alarms = {r["name"]: r["inputs"] for r in of_type(prod, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    topic = prod.outputs["eventTopicArn"]
    for service in SAMPLE:
        assert alarms[f"app-{service}-below-desired"]["alarmActions"] == [topic]
    assert alarms["app-web-unhealthy"]["metricName"] == "UnHealthyHostCount"
    assert alarms["app-api-5xx"]["metricName"] == "HTTPCode_Target_5XX_Count"
    assert "app-worker-unhealthy" not in alarms
    assert {alarms["cluster-cpureservation"]["metricName"], alarms["cluster-memoryreservation"]["metricName"]} == {
        "CPUReservation", "MemoryReservation"}


def test_the_nightly_job_runs_on_the_capacity_provider_with_retries_and_a_dead_letter_queue(plans):
    for stack, plan in plans.items():
        (schedule,) = of_type(plan, "aws:scheduler/schedule:Schedule")
        inputs = schedule["inputs"]
        assert inputs["name"] == f"{stack}-nightly-report"
        assert inputs["scheduleExpression"].startswith("cron(")
        target = inputs["target"]
        assert target["arn"] == plans["prod"].outputs["clusterArn"]
        assert target["ecsParameters"]["capacityProviderStrategies"][0]["capacityProvider"] == \
            plans["prod"].outputs["capacityProviderName"]
        assert json.loads(target["input"]) == {"containerOverrides": [{"name": "worker", "command": ["./report", "--nightly"]}]}
        assert target["retryPolicy"]["maximumRetryAttempts"] >= 0
        (queue,) = of_type(plan, "aws:sqs/queue:Queue")
        assert schedule["propertyDependencies"]["target"] and queue["urn"] in schedule["propertyDependencies"]["target"]


def test_the_event_stream_matches_this_stacks_deployments_and_failed_tasks(plans):
    prod = plans["prod"]
    rules = {r["name"]: json.loads(r["inputs"]["eventPattern"]) for r in of_type(prod, "aws:cloudwatch/eventRule:EventRule")}
    deployments = rules["app-event-stream-deployments"]
    assert deployments["detail-type"] == ["ECS Deployment State Change"]
    assert deployments["resources"] == [{"prefix": "arn:aws:ecs:us-east-1:123456789012:service/odyssey-prod/prod-"}]
    names = {n for clause in deployments["detail"]["$or"] for n in clause["eventName"]}
    assert names == {"SERVICE_DEPLOYMENT_COMPLETED", "SERVICE_DEPLOYMENT_FAILED", "SERVICE_DEPLOYMENT_IN_PROGRESS"}
    assert rules["app-event-stream-service-actions"]["detail-type"] == ["ECS Service Action"]
    failed = rules["app-event-stream-failed-tasks"]["detail"]
    assert failed["lastStatus"] == ["STOPPED"]
    # Never the tasks ECS stops during deploys (SIGTERM exits 143): failures to start, and error exits.
    assert failed["$or"] == [
        {"stopCode": ["TaskFailedToStart"]},
        {"stopCode": ["EssentialContainerExited"], "containers": {"exitCode": [{"anything-but": 0}]}},
    ]
    targets = of_type(prod, "aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 6
    assert {t["inputs"]["arn"] for t in targets if t["name"].endswith("-topic")} == {prod.outputs["eventTopicArn"]}


def test_execution_role_reads_only_this_stacks_secrets(plans):
    for stack, plan in plans.items():
        policy = json.loads(next(r for r in of_type(plan, "aws:iam/rolePolicy:RolePolicy")
                                 if r["name"] == "app-execution-secrets")["inputs"]["policy"])
        resources = [s["Resource"] for s in policy["Statement"]]
        assert resources == [f"arn:aws:ssm:us-east-1:123456789012:parameter/odyssey/{stack}/*",
                             f"arn:aws:secretsmanager:us-east-1:123456789012:secret:odyssey/{stack}/*"]
        (api_task,) = children(plan, "api", TASK)
        (container,) = json.loads(api_task["inputs"]["containerDefinitions"])
        assert container["secrets"] == [{"name": "DATABASE_PASSWORD", "valueFrom":
                                         f"arn:aws:ssm:us-east-1:123456789012:parameter/odyssey/{stack}/api/database-password"}]


def test_task_roles_are_empty_unless_exec_is_enabled(plans):
    prod = plans["prod"]
    inline = {r["name"] for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy")}
    assert "app-api-task-exec" in inline and "app-web-task-exec" not in inline
    attachments = [r["name"] for r in of_type(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                   if "-task-" in r["name"]]
    assert attachments == []


def test_long_stack_and_service_names_stay_within_aws_limits():
    long_service = "recommendations-engine-for-customers-in-the-european-union-xyzw"
    assert len(long_service) == 63
    plan = plan_config({
        "odyssey:cluster": {"applicationStacks": {"customer-facing-production-eu": 1}},
        "odyssey:app": {"defaultHosts": ["www.example.com"]},
        "odyssey:services": {long_service: {"image": "acme/recs:1.0.0", "port": 8080, "enableExec": True,
                                            "public": {"paths": ["/recs/*"]}}},
        "odyssey:schedules": {"refresh": {"service": long_service, "expression": "rate(1 hour)"}},
    }, stack="customer-facing-production-eu")
    (group,) = of_type(plan, TARGET_GROUP)
    assert len(group["name"]) <= 24
    (alb,) = of_type(plan, "aws:lb/loadBalancer:LoadBalancer")
    assert len(alb["inputs"]["name"]) <= 32
    for role in of_type(plan, "aws:iam/role:Role"):
        assert len(role["name"]) <= 56, role["name"]  # Pulumi appends 8 characters; IAM allows 64
    (discovery,) = of_type(plan, DISCOVERY)
    assert discovery["inputs"]["name"] == long_service  # a DNS label: 63 at most, checked by the config
    (ecs,) = of_type(plan, SERVICE)
    assert ecs["inputs"]["name"] == f"customer-facing-production-eu-{long_service}"
    (schedule,) = of_type(plan, "aws:scheduler/schedule:Schedule")
    assert len(schedule["inputs"]["name"]) <= 64
