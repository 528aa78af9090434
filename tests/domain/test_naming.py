"""Every name from odyssey/domain/naming.py: the names prod and stage have, AWS's rules (tests/aws_rules.py) for
any valid names, and cross-references that always match what they refer to."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.naming import (
    ALB_NAME_MAX,
    StackNames,
    aws_name,
    child_name,
    colliding_names,
    default_tags,
    ecs_service_arn,
    ecs_service_name,
    node_name,
    registry_conflicts,
    schedule_name,
    slug,
    ssm_parameter_problem,
    target_group_logical_name,
    tenant_of,
    waf_log_group,
    web_acl_name,
)
from tests.aws_rules import (
    ECS_NAME,
    ELB_NAME,
    KMS_ALIAS,
    LOG_GROUP_NAME,
    POLICY_NAME,
    ROLE_NAME,
    SCHEDULE_NAME,
    SECRETS_MANAGER_NAME,
    SSM_PATH,
    WAF_LOG_GROUP,
    WEB_ACL_NAME,
    alb_name_ok,
    dns_name_ok,
    pulumi_names,
    service_names,
)

ALLOWED = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
parts = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_. ", min_size=1, max_size=80), min_size=1, max_size=4)

# Few characters, so that stacks often prefix one another or clean to the same slug.
crowded_stacks = st.text(alphabet="aB-._", min_size=1, max_size=6)


def _usable(values):
    return any(c.isalnum() for c in "".join(values))


@given(parts, st.integers(min_value=8, max_value=64))
def test_name_fits_the_limit_and_the_alphabet(values, limit):
    if not _usable(values):
        with pytest.raises(ValueError):
            aws_name(*values, max_length=limit)
        return
    name = aws_name(*values, max_length=limit)
    assert len(name) <= limit
    assert ALLOWED.match(name), name
    assert "--" not in name


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=40, max_size=60), st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=40, max_size=60))
def test_long_names_that_differ_stay_distinct(a, b):
    if a != b:
        assert aws_name("odyssey", a) != aws_name("odyssey", b)


def test_short_names_are_kept_as_they_are():
    assert aws_name("odyssey", "prod") == "odyssey-prod"
    assert aws_name("Odyssey", "Stage_EU") == "odyssey-stage-eu"


def test_long_name_is_cut_with_a_hash_suffix():
    # Fixed expected values: a changed algorithm would rename (and replace) live resources.
    assert aws_name("odyssey", "a-very-long-stack-name-for-the-eu-west-region") == "odyssey-a-very-long-stack-d16347"
    assert aws_name("customer-facing-production", "recommendations", max_length=24) == "customer-facing-p-133890"
    assert len(aws_name("odyssey", "a-very-long-stack-name-for-the-eu-west-region")) == ALB_NAME_MAX


def test_limit_below_hash_room_is_refused():
    with pytest.raises(ValueError, match="at least"):
        aws_name("a", max_length=5)


# ---------------------------------------------------------------- the names prod and stage have (and keep)

def _table(project: str, stack: str) -> dict[str, str]:
    names = StackNames(project, stack)
    return {
        "cluster": names.cluster_name,
        "alb": names.load_balancer_name,
        "flow logs": names.flow_log_group,
        "exec logs": names.exec_log_group,
        "host logs": names.host_log_group,
        "app logs": names.app_log_group,
        "event audit logs": names.event_audit_log_group,
        "event log policy": names.event_log_policy_name,
        "ecs service": ecs_service_name(stack, "api"),
        "task family": names.task_family("api"),
        "schedule": schedule_name(stack, "nightly-report"),
        "namespace": names.namespace(),
        "secrets path": names.secrets_path(),
        "secrets manager prefix": names.secrets_manager_prefix(),
        "service arn prefix": names.service_arn_prefix("aws", "us-east-1", "123456789012", names.cluster_name),
        "service group prefix": names.service_group_prefix,
        "family group prefix": names.family_group_prefix,
        "previous target group": names.previous_target_group_name("api"),
        "qualified": names.qualified("organization"),
        "node": node_name(names.cluster_name),
    }


def test_prod_and_stage_keep_every_name_they_had():
    # The names deployed before issue 8: a change here renames (and replaces) live resources.
    assert _table("odyssey", "prod") == {
        "cluster": "odyssey-prod",
        "alb": "odyssey-prod",
        "flow logs": "/odyssey/prod/vpc-flow-logs",
        "exec logs": "/odyssey/prod/ecs-exec",
        "host logs": "/odyssey/prod/hosts",
        "app logs": "/odyssey/prod/app",
        "event audit logs": "/aws/events/odyssey/prod/ecs",
        "event log policy": "odyssey-prod-ecs-events",
        "ecs service": "prod-api",
        "task family": "odyssey-prod-api",
        "schedule": "prod-nightly-report",
        "namespace": "prod.odyssey.internal",
        "secrets path": "/odyssey/prod/",
        "secrets manager prefix": "odyssey/prod/",
        "service arn prefix": "arn:aws:ecs:us-east-1:123456789012:service/odyssey-prod/prod-",
        "service group prefix": "service:prod-",
        "family group prefix": "family:odyssey-prod-",
        "previous target group": "prod-api",
        "qualified": "organization/odyssey/prod",
        "node": "odyssey-prod-node",
    }
    stage = _table("odyssey", "stage")
    assert (stage["cluster"], stage["ecs service"], stage["task family"], stage["schedule"], stage["namespace"]) == (
        "odyssey-stage", "stage-api", "odyssey-stage-api", "stage-nightly-report", "stage.odyssey.internal")
    assert (stage["app logs"], stage["event log policy"], stage["family group prefix"]) == (
        "/odyssey/stage/app", "odyssey-stage-ecs-events", "family:odyssey-stage-")


def test_a_stack_named_with_a_dot_gets_valid_names_that_its_event_rules_match():
    table = _table("odyssey", "Stage.EU")
    assert table["ecs service"] == "stage-eu-api"  # ECS refuses '.'
    assert table["task family"] == "odyssey-stage-eu-api"
    assert table["service group prefix"] == "service:stage-eu-"
    assert table["family group prefix"] == "family:odyssey-stage-eu-"
    assert table["service arn prefix"].endswith(":service/odyssey-stage-eu/stage-eu-")
    assert table["schedule"] == "stage-eu-nightly-report"
    assert table["namespace"] == "stage-eu.odyssey.internal"
    # Log groups and secret paths allow the name as it is.
    assert table["app logs"] == "/odyssey/Stage.EU/app" and table["secrets path"] == "/odyssey/Stage.EU/"


def test_odd_names_still_make_names():
    assert slug("_") != slug("-") and ALLOWED.match(slug("_"))  # Pulumi accepts a stack named "_"
    assert StackNames("internal", "prod").load_balancer_name == "alb-internal-prod"  # ELB refuses "internal-..."
    assert schedule_name("customer-facing-production-eu-central-1", "refresh-recommendations-cache") == (
        "customer-facing-production-eu-central-1-refresh-recommend-3498db")
    assert StackNames("odyssey", "prod").namespace("apps.example.internal") == "apps.example.internal"
    assert StackNames("odyssey", "prod").secrets_manager_prefix("/shared/prod/") == "shared/prod/"


def test_the_longest_names_pulumi_and_the_config_allow_still_fit():
    names, service = StackNames("P" * 100, "S" * 100), "x" * 63
    family = names.task_family(service)
    assert len(family) == 255 and ECS_NAME.match(family) and family.startswith(names.task_family_prefix)
    assert len(ecs_service_name(names.stack, service)) == 164
    assert len(schedule_name(names.stack, service)) == 64
    assert all(len(label) <= 63 for label in names.namespace().split("."))


def test_children_are_named_from_their_component():
    assert child_name("app", "api") == "app-api"
    assert target_group_logical_name("app-api") == "app-api-tg"
    long_component = child_name("app", "recommendations-engine-for-customers-in-the-european-union-xyzw")
    assert len(long_component) == 40 and len(target_group_logical_name(long_component)) == 24


def test_default_tags_name_the_project_and_stack():
    tags = default_tags("odyssey", "prod", "platform", "ops@example.com", {"CostCenter": "cc-1"})
    assert tags == {"CostCenter": "cc-1", "Project": "odyssey", "Stack": "prod", "BillingDepartment": "platform",
                    "BillingContact": "ops@example.com", "ManagedBy": "pulumi"}


# ---------------------------------------------------------------- AWS's rules, for any valid names

@given(pulumi_names, pulumi_names, service_names, service_names, st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1))
def test_every_name_satisfies_its_aws_rule(project, stack, service, schedule, component):
    names = StackNames(project, stack)
    for ecs in (names.cluster_name, ecs_service_name(stack, service), names.task_family(service)):
        assert ECS_NAME.match(ecs), ecs
    assert alb_name_ok(names.load_balancer_name), names.load_balancer_name
    for index in (1, 2, 10):
        alb = names.load_balancer_name_at(index)
        assert WEB_ACL_NAME.match(web_acl_name(alb)), alb
        assert WAF_LOG_GROUP.match(waf_log_group(alb)) and LOG_GROUP_NAME.match(waf_log_group(alb)), alb
    for alias in (names.logs_key_alias, names.exec_key_alias, names.log_search_key_alias):
        assert KMS_ALIAS.match(alias), alias
    assert SCHEDULE_NAME.match(schedule_name(stack, schedule))
    for group in (names.flow_log_group, names.exec_log_group, names.host_log_group, names.app_log_group,
                  names.event_audit_log_group):
        assert LOG_GROUP_NAME.match(group), group
    assert names.event_audit_log_group.startswith("/aws/events/")  # where EventBridge may deliver
    assert POLICY_NAME.match(names.event_log_policy_name)
    assert dns_name_ok(names.namespace()), names.namespace()
    assert SSM_PATH.match(names.secrets_path()) and len(names.secrets_path()) <= 1011
    assert SECRETS_MANAGER_NAME.match(names.secrets_manager_prefix() + "db-password")
    # Children: a role is the child's name, its suffix (the longest is "-scheduler") and Pulumi's 8 characters.
    child = child_name(component, service)
    assert ROLE_NAME.match(f"{child}-scheduler-abcdefg"), child
    # A target group: the logical name, "-" and Pulumi's 7 characters.
    for logical in (target_group_logical_name(child), names.previous_target_group_name(service)):
        assert ELB_NAME.match(f"{logical}-abcdefg"), logical


# ---------------------------------------------------------------- cross-references match what they refer to

@given(pulumi_names, st.lists(crowded_stacks, min_size=1, max_size=4, unique=True),
       st.lists(service_names, min_size=1, max_size=3))
def test_a_registry_without_conflicts_lets_each_stacks_prefixes_match_its_own_names_only(project, stacks, services):
    same, overlapping = registry_conflicts(stacks)
    cluster = StackNames(project, stacks[0]).cluster_name
    for stack in stacks:
        names = StackNames(project, stack)
        service_arn = names.service_arn_prefix("aws", "eu-west-1", "123456789012", cluster)
        for other in stacks:
            other_names = StackNames(project, other)
            for service in services:
                ecs = ecs_service_name(other, service)
                family = other_names.task_family(service)
                matches = (
                    ecs_service_arn("aws", "eu-west-1", "123456789012", cluster, ecs).startswith(service_arn),
                    f"service:{ecs}".startswith(names.service_group_prefix),  # ECS's group of a service's task
                    f"family:{family}".startswith(names.family_group_prefix),  # ECS's group of a task run alone
                )
                if other == stack:
                    assert all(matches), (stack, service)
                elif any(matches):
                    # Only stacks the owner's registry refuses can match each other's names.
                    assert any(other in group and stack in group for group in same) or \
                        (stack, other) in overlapping or (other, stack) in overlapping, (stack, other, service)


def test_the_registry_compares_the_names_aws_sees():
    assert registry_conflicts(["Stage.EU", "stage-eu", "prod"]) == ([["Stage.EU", "stage-eu"]], [])
    assert registry_conflicts(["prod", "prod-eu"]) == ([], [("prod", "prod-eu")])
    assert registry_conflicts(["Prod.EU", "prod"]) == ([], [("prod", "Prod.EU")])
    assert registry_conflicts(["prod", "production", "stage"]) == ([], [])  # "prod-" does not start "production-"


@pytest.mark.parametrize("service, stacks, tenant", [
    ("prod-api", ["prod", "stage"], "prod"),
    ("stage-api", ["prod", "stage"], "stage"),
    ("stage-eu-api", ["Stage.EU", "prod"], "Stage.EU"),   # the slug, not the stack name, prefixes the service
    ("production-api", ["prod", "stage"], None),            # "prod-" does not start "production-"
    ("prod-", ["prod"], None),                              # a prefix alone names no service
    ("prod-eu-api", ["prod", "prod-eu"], "prod-eu"),        # nested prefixes (a refused registry): the longer
    ("qa-api", [], None),
])
def test_the_tenant_of_a_service_is_the_stack_whose_prefix_it_carries(service, stacks, tenant):
    assert tenant_of(service, stacks) == tenant


@given(st.lists(crowded_stacks, min_size=1, max_size=4, unique=True), service_names)
def test_every_service_of_a_registry_without_conflicts_belongs_to_its_own_stack(stacks, service):
    same, overlapping = registry_conflicts(stacks)
    if same or overlapping:
        return
    for stack in stacks:
        assert tenant_of(ecs_service_name(stack, service), stacks) == stack


# ---------------------------------------------------------------- the ingress pool's ALBs

def test_pool_members_keep_the_first_name_and_number_the_others():
    names = StackNames("odyssey", "prod")
    assert [names.load_balancer_name_at(k) for k in (1, 2, 10)] == ["odyssey-prod", "odyssey-prod--2", "odyssey-prod--10"]
    assert StackNames("internal", "prod").load_balancer_name_at(3) == "alb-internal-prod--3"
    long = StackNames("odyssey", "customer-facing-production-eu-central-1")
    assert long.load_balancer_name_at(1) == long.load_balancer_name == "odyssey-customer-facing-p-5304ac"
    assert long.load_balancer_name_at(2) == "odyssey-customer-facin-5304ac--2"
    with pytest.raises(ValueError, match="start at 1"):
        names.load_balancer_name_at(0)


@given(pulumi_names, st.lists(pulumi_names, min_size=2, max_size=4, unique_by=slug), st.integers(1, 100))
def test_pool_member_names_fit_elb_and_never_collide_across_stacks(project, stacks, size):
    """ALB names are unique per account and region: one project's stacks (distinct slugs) never share one."""
    seen: dict[str, tuple[str, int]] = {}
    for stack in stacks:
        for index in {1, 2, size}:
            name = StackNames(project, stack).load_balancer_name_at(index)
            assert alb_name_ok(name), name
            assert seen.setdefault(name, (stack, index)) == (stack, index), name


@given(pulumi_names, st.lists(pulumi_names, min_size=1, max_size=4, unique_by=slug))
def test_key_aliases_never_collide_across_keys_or_stacks(project, stacks):
    """KMS aliases are unique per account and region: no two keys of one project's stacks share one."""
    aliases = [alias for stack in stacks for names in [StackNames(project, stack)]
               for alias in (names.logs_key_alias, names.exec_key_alias, names.log_search_key_alias)]
    assert len(set(aliases)) == len(aliases), aliases


# ---------------------------------------------------------------- names that collide once cleaned

def test_services_that_clean_to_the_same_name_collide_in_every_name_built_from_it():
    names = StackNames("odyssey", "prod")
    found = colliding_names(names, ["web-api", "web--api", "worker"], [])
    assert {(c.kind, c.what, c.name, c.members) for c in found} == {
        ("services", "logical name (URN)", "app-web-api", ("web--api", "web-api")),
        ("services", "target group's logical name", "app-web-api-tg", ("web--api", "web-api")),
    }


def test_schedules_collide_in_their_logical_and_scheduler_names():
    found = colliding_names(StackNames("odyssey", "prod"), [], ["nightly--report", "nightly-report"])
    assert {c.name for c in found} == {"app-nightly-report", "prod-nightly-report"}
    assert {c.kind for c in found} == {"schedules"}


def test_a_service_and_a_schedule_of_one_name_do_not_collide():
    """Their components have different types, so their URNs differ."""
    assert colliding_names(StackNames("odyssey", "prod"), ["report"], ["report"]) == []


@given(st.lists(service_names, unique_by=lambda s: "-".join(filter(None, s.split("-"))), max_size=6))
def test_names_that_differ_once_cleaned_never_collide(services):
    assert colliding_names(StackNames("odyssey", "prod"), services, services) == []


@pytest.mark.parametrize(("name", "reason"), [
    ("/aws/service/x", "prefixed with 'aws' or 'ssm'"),
    ("/SSM/x", "prefixed with 'aws' or 'ssm'"),
    ("/awsome/x", "prefixed with 'aws' or 'ssm'"),
    ("/" + "/".join("abcdefghijklmnop"), "16 levels deep"),
])
def test_ssm_refuses_these_parameter_names(name, reason):
    problem = ssm_parameter_problem(name)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("name", ["/odyssey/prod/db/password", "/" + "/".join("abcdefghijklmno"), "/myaws/x"])
def test_ssm_accepts_these_parameter_names(name):
    assert ssm_parameter_problem(name) is None


def test_the_security_names_of_prod():
    names = StackNames("odyssey", "prod")
    assert [web_acl_name(names.load_balancer_name_at(i)) for i in (1, 2)] == ["odyssey-prod", "odyssey-prod--2"]
    assert [waf_log_group(names.load_balancer_name_at(i)) for i in (1, 2)] == [
        "aws-waf-logs-odyssey-prod", "aws-waf-logs-odyssey-prod--2"]
    assert (names.logs_key_alias, names.exec_key_alias, names.log_search_key_alias) == (
        "alias/odyssey-prod-logs", "alias/odyssey-prod-ecs-exec", "alias/odyssey-prod-log-search")
    # A stack name KMS would refuse in an alias is slugged, like every AWS name.
    assert StackNames("Odyssey", "Stage.EU").logs_key_alias == "alias/odyssey-stage-eu-logs"
