"""Names as the program registers them, for random valid project, stack, service and schedule names.

Each example plans a small stack under mocks (about a second each) and checks the
recorded inputs against AWS's rules (tests/aws_rules.py), and the event rules'
prefixes against the services and task families actually planned.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.aws_rules import (
    ECS_NAME,
    ELB_NAME,
    LOG_GROUP_NAME,
    SCHEDULE_NAME,
    alb_name_ok,
    dns_name_ok,
    pulumi_names,
    service_names,
)
from tests.plans import ALB, ECS_CLUSTER, LOG_GROUP, of_type, plan_config

TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
NAMESPACE = "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
ACCOUNT = "123456789012"


def small_stack(web: str, worker: str, schedule: str) -> dict:
    return {
        "odyssey:app": {"defaultHosts": ["www.example.com"]},
        "odyssey:services": {
            web: {"image": "acme/web:1.0.0", "port": 8080, "public": {"paths": ["/web/*"]}},
            worker: {"image": "acme/worker:1.0.0", "command": ["./work"]},
        },
        "odyssey:schedules": {schedule: {"service": worker, "expression": "rate(1 hour)"}},
    }


def app_services(plan) -> list[str]:
    return [r["inputs"]["name"] for r in of_type(plan, SERVICE) if "$odyssey:service:Service::" in r["parent"]]


def check_names(plan) -> None:
    """Every name AWS restricts is valid, and the event rules match exactly what was planned."""
    services, families = app_services(plan), [r["inputs"]["family"] for r in of_type(plan, TASK)]
    assert len(services) == 2 and len(families) == 2
    for name in services + families + [r["inputs"]["name"] for r in of_type(plan, ECS_CLUSTER)]:
        assert ECS_NAME.match(name), name
    for schedule in of_type(plan, SCHEDULE):
        assert SCHEDULE_NAME.match(schedule["inputs"]["name"]), schedule["inputs"]["name"]
    for group in of_type(plan, LOG_GROUP):
        assert LOG_GROUP_NAME.match(group["inputs"]["name"]), group["inputs"]["name"]
    for alb in of_type(plan, ALB):
        assert alb_name_ok(alb["inputs"]["name"]), alb["inputs"]["name"]
    for group in of_type(plan, TARGET_GROUP):  # autonamed: "-" and 7 characters are added
        assert ELB_NAME.match(f"{group['name']}-abcdefg"), group["name"]
    for namespace in of_type(plan, NAMESPACE):
        assert dns_name_ok(namespace["inputs"]["name"]), namespace["inputs"]["name"]

    rules = {r["name"]: json.loads(r["inputs"]["eventPattern"]) for r in of_type(plan, EVENT_RULE)}
    groups = [g["prefix"] for g in rules["app-event-stream-failed-tasks"]["detail"]["group"]]
    (service_group,) = [g for g in groups if g.startswith("service:")]
    (family_group,) = [g for g in groups if g.startswith("family:")]
    # ECS gives a service's tasks the group "service:<service>", a task run on its own "family:<family>".
    assert all(f"service:{s}".startswith(service_group) for s in services), (service_group, services)
    assert all(f"family:{f}".startswith(family_group) for f in families), (family_group, families)
    cluster = plan.outputs["clusterName"]
    for rule in ("app-event-stream-deployments", "app-event-stream-service-actions"):
        (prefix,) = [p["prefix"] for p in rules[rule]["resources"]]
        for service in services:
            assert f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{cluster}/{service}".startswith(prefix), (prefix, service)


# No shrinking: at a second a plan, shrinking a failure would take minutes; the failing names are printed as found.
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(pulumi_names, pulumi_names, st.lists(service_names, min_size=2, max_size=2, unique=True), service_names)
def test_random_valid_names_plan_with_valid_aws_names_that_the_event_rules_match(project, stack, services, schedule):
    check_names(plan_config(small_stack(services[0], services[1], schedule), stack=stack, project=project))


def test_a_stack_named_stage_dot_eu_plans_with_valid_names():
    plan = plan_config(small_stack("api", "worker", "nightly-report"), stack="Stage.EU")
    check_names(plan)
    assert sorted(app_services(plan)) == ["stage-eu-api", "stage-eu-worker"]
    assert sorted(r["inputs"]["family"] for r in of_type(plan, TASK)) == ["odyssey-stage-eu-api",
                                                                          "odyssey-stage-eu-worker"]
    (schedule,) = of_type(plan, SCHEDULE)
    assert schedule["inputs"]["name"] == "stage-eu-nightly-report"
    rules = {r["name"]: json.loads(r["inputs"]["eventPattern"]) for r in of_type(plan, EVENT_RULE)}
    assert rules["app-event-stream-failed-tasks"]["detail"]["group"] == [
        {"prefix": "service:stage-eu-"}, {"prefix": "family:odyssey-stage-eu-"}]
    assert "/odyssey/Stage.EU/app" in {g["inputs"]["name"] for g in of_type(plan, LOG_GROUP)}
