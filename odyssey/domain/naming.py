"""Every name Odyssey gives AWS and the engine, and every cross-reference to one, from (project, stack, component, child).

Pulumi allows project and stack names of up to 100 letters, digits, ``_``, ``.``
and ``-``, while ECS allows no ``.`` and load balancers no ``_`` either. So the
names AWS restricts use a stack's *slug*: lowercase letters, digits and single
hyphens (``Stage.EU`` becomes ``stage-eu``). The slug is the same in every ECS
service, task family and schedule name and in the event-rule prefixes that
match them, because each prefix is built by the function that builds the names
it matches. Log groups and secret paths allow the stack name as it is, so they
keep it. Names that can outgrow their limit are cut and given a short hash of
the whole name: two different long names still get different short ones, and
the same inputs always give the same name (a new name would replace the
resource). For lowercase stacks such as prod and stage every name is the one
used before this module existed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from odyssey.domain.quotas import SSM_HIERARCHY_DEPTH_MAX, SSM_RESERVED_PREFIXES

ALB_NAME_MAX = 32  # load balancers and target groups (Elastic Load Balancing)
ECS_NAME_MAX = 255  # ECS clusters, services and task families
SCHEDULE_NAME_MAX = 64  # EventBridge Scheduler schedules
DNS_LABEL_MAX = 63
# The Logs API documents no rule for resource-policy names; they are held to IAM's rule for policy names.
LOG_POLICY_NAME_MAX = 128
PULUMI_NAME_MAX = 100  # Pulumi's limit on project and stack names
# OpenSearch domain names: 3-28 lowercase letters, digits and hyphens, starting with a letter ("Creating and
# managing Amazon OpenSearch Service domains").
SEARCH_DOMAIN_NAME_MAX = 28
FIREHOSE_STREAM_NAME_MAX = 64  # Firehose delivery stream names (CreateDeliveryStream)
SERVICE_NAME_MAX = DNS_LABEL_MAX  # a service's name is its Cloud Map DNS label
# The project's part of a task family, so project-stack-service fits ECS's 255 for the longest stack and service.
FAMILY_PROJECT_MAX = ECS_NAME_MAX - PULUMI_NAME_MAX - SERVICE_NAME_MAX - 2
# ELB refuses load balancer names that begin with it.
ALB_RESERVED_PREFIX = "internal-"
# Between a stack's ALB name and a pool member's index: never inside a slug, so pool names cannot collide.
POOL_MEMBER_SEPARATOR = "--"
# The tag on every target group and listener rule naming the ALB of the pool it is on ("1", "2", ...): the
# policy pack counts them per ALB in a real preview, where the ARNs are still unknown.
LOAD_BALANCER_TAG = "OdysseyLoadBalancer"
# Room for a child's own suffixes: IAM role names, the tightest limit (64, of which Pulumi's
# autonaming takes 8), add at most "-scheduler" to it.
CHILD_NAME_MAX = 40
# Pulumi appends "-" and 7 characters to a target group's logical name; AWS allows 32.
TARGET_GROUP_LOGICAL_MAX = ALB_NAME_MAX - 8
HASH_LENGTH = 6
# WAF delivers to CloudWatch Logs only into log groups whose names start with this (AWS WAF Developer Guide,
# "Sending web ACL traffic logs to an Amazon CloudWatch Logs log group").
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"

_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")


def _clean(text: str) -> str:
    return _HYPHENS.sub("-", _NOT_ALLOWED.sub("-", text.lower())).strip("-")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def aws_name(*parts: str, max_length: int = ALB_NAME_MAX) -> str:
    """Join ``parts`` into a name of at most ``max_length`` characters.

    Characters outside ``[a-z0-9-]`` become hyphens. When the cleaned name is
    too long it is truncated and suffixed with ``-`` and a hash of the whole
    cleaned name, so truncation never makes two names collide by accident.
    """
    if max_length < HASH_LENGTH + 2:
        raise ValueError(f"max_length must be at least {HASH_LENGTH + 2}, got {max_length}")
    full = _clean("-".join(parts))
    if not full:
        raise ValueError(f"no usable characters in name parts {parts!r}")
    if len(full) <= max_length:
        return full
    head = full[: max_length - HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{_digest(full)}"


def slug(name: str) -> str:
    """A project or stack name in lowercase letters, digits and single hyphens, never empty.

    A name with no letter or digit (Pulumi accepts a stack named ``_``) becomes
    ``n`` and a hash of it, so it stays apart from every other name.
    """
    return _clean(name) or f"n{_digest(name)}"


# ---------------------------------------------------------------- ECS services and their tasks' groups

def ecs_service_prefix(stack: str) -> str:
    """What every ECS service name of ``stack`` starts with; the stack's event rules match on it."""
    return f"{slug(stack)}-"


def ecs_service_name(stack: str, service: str) -> str:
    """``<stack slug>-<service>``: at most 100 + 1 + 63 characters, within ECS's 255."""
    return ecs_service_prefix(stack) + service


def tenant_of(ecs_service: str, stacks: Iterable[str]) -> str | None:
    """The stack whose service prefix ``ecs_service`` carries (the longest when prefixes nest), or None.

    A cluster's registry refuses stacks whose prefixes overlap (``registry_conflicts``),
    so on a valid cluster at most one prefix matches; the longest wins otherwise,
    as it names the more specific stack.
    """
    matches = [stack for stack in stacks if ecs_service.startswith(ecs_service_prefix(stack))
               and len(ecs_service) > len(ecs_service_prefix(stack))]
    return max(matches, key=lambda stack: (len(ecs_service_prefix(stack)), stack), default=None)


def ecs_service_arn(partition: str, region: str, account_id: str, cluster_name: str, service_name: str) -> str:
    """An ECS service's ARN (the long format, with the cluster); given a name prefix, the prefix of such ARNs."""
    return f"arn:{partition}:ecs:{region}:{account_id}:service/{cluster_name}/{service_name}"


def service_task_group(service_name: str) -> str:
    """The ``group`` ECS gives the tasks of a service (and, given a name prefix, the prefix of such groups)."""
    return f"service:{service_name}"


def standalone_task_group(family: str) -> str:
    """The ``group`` ECS gives a task run on its own (a scheduled task): its family, or a prefix of families."""
    return f"family:{family}"


def web_acl_name(load_balancer_name: str) -> str:
    """The WAF web ACL of one ALB of the ingress pool: the ALB's own name (WAF allows 1-128 of ``[A-Za-z0-9_-]``),
    so the console pairs them at a glance; also its CloudWatch metric name."""
    return load_balancer_name


def waf_log_group(load_balancer_name: str) -> str:
    """The log group of one ALB's web ACL: WAF's required prefix, then the ALB's name."""
    return f"{WAF_LOG_GROUP_PREFIX}{load_balancer_name}"


def schedule_name(stack: str, schedule: str) -> str:
    return aws_name(slug(stack), schedule, max_length=SCHEDULE_NAME_MAX)


def node_name(cluster_name: str) -> str:
    """The Name tag of the cluster's instances, as the EC2 console lists them."""
    return f"{cluster_name}-node"


# ---------------------------------------------------------------- registry of stacks on one cluster

def registry_conflicts(stacks: Iterable[str]) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Stacks that cannot share a cluster: groups whose slugs are equal, and pairs whose service prefixes overlap.

    When one stack's service prefix starts the other's (``prod-`` and ``prod-eu-``),
    a service of either can match the other's event rules (``prod`` + ``eu-api``).
    Task families share the project's part, so they overlap exactly when these do.
    """
    stacks = list(stacks)
    by_slug: dict[str, list[str]] = {}
    for stack in stacks:
        by_slug.setdefault(slug(stack), []).append(stack)
    same = [sorted(group) for _, group in sorted(by_slug.items()) if len(group) > 1]
    overlapping = sorted(
        (a, b) for a in stacks for b in stacks
        if slug(a) != slug(b) and ecs_service_prefix(b).startswith(ecs_service_prefix(a))
    )
    return same, overlapping


# ---------------------------------------------------------------- logical names of children

# The program's application-stack component; its services and schedules are named from it.
APP_COMPONENT = "app"

def child_name(component: str, child: str) -> str:
    """A child component's logical name, from its parent's name and its own (``app-api``)."""
    return aws_name(component, child, max_length=CHILD_NAME_MAX)


def target_group_logical_name(service_component: str) -> str:
    """A service's target group, named from the Service component like every other child (``app-api-tg``)."""
    return aws_name(service_component, "tg", max_length=TARGET_GROUP_LOGICAL_MAX)


@dataclass(frozen=True)
class Collision:
    """Members of ``kind`` (``services``, ``schedules``) that would share ``name`` as their ``what``."""

    kind: str
    what: str
    name: str
    members: tuple[str, ...]


def colliding_names(names: StackNames, services: Iterable[str], schedules: Iterable[str]) -> list[Collision]:
    """Each name two services, or two schedules, would share once cleaned.

    ``web-api`` and ``web--api`` are both valid keys, but the logical names of
    their components are both ``app-web-api``: the engine refuses the second
    URN half-way through an update.
    """
    named: dict[tuple[str, str, str], list[str]] = {}
    for service in services:
        component = child_name(APP_COMPONENT, service)
        for what, name in (("logical name (URN)", component),
                           ("target group's logical name", target_group_logical_name(component)),
                           ("ECS service name", ecs_service_name(names.stack, service)),
                           ("task family", names.task_family(service))):
            named.setdefault(("services", what, name), []).append(service)
    for schedule in schedules:
        for what, name in (("logical name (URN)", child_name(APP_COMPONENT, schedule)),
                           ("EventBridge Scheduler schedule name", schedule_name(names.stack, schedule))):
            named.setdefault(("schedules", what, name), []).append(schedule)
    return [Collision(kind, what, name, tuple(sorted(members)))
            for (kind, what, name), members in named.items() if len(members) > 1]


# ---------------------------------------------------------------- names of one stack

@dataclass(frozen=True)
class StackNames:
    """The names of one stack of one project, in AWS and in the resources the stack creates."""

    project: str
    stack: str

    def qualified(self, organization: str) -> str:
        """The stack's fully qualified name, as other stacks reference it (``organization/odyssey/prod``)."""
        return f"{organization}/{self.project}/{self.stack}"

    @property
    def stack_slug(self) -> str:
        return slug(self.stack)

    @property
    def cluster_name(self) -> str:
        return aws_name(slug(self.project), self.stack_slug, max_length=ECS_NAME_MAX)

    @property
    def load_balancer_name(self) -> str:
        """The first (and usually only) ALB of the stack's ingress pool."""
        return self._load_balancer_base(ALB_NAME_MAX)

    def load_balancer_name_at(self, index: int) -> str:
        """ALB ``index`` (1-based) of the stack's ingress pool: the first keeps its name; ALB k is ``<name>--k``.

        A slug never holds two hyphens in a row, so no stack's own ALB name ends
        like another's pool member: ``odyssey-prod--2`` is ALB 2 of prod, never
        ALB 1 of a stack named ``prod-2`` (``odyssey-prod-2``).
        """
        if index < 1:
            raise ValueError(f"pool indices start at 1, got {index}")
        if index == 1:
            return self.load_balancer_name
        suffix = f"{POOL_MEMBER_SEPARATOR}{index}"
        return self._load_balancer_base(ALB_NAME_MAX - len(suffix)) + suffix

    def _load_balancer_base(self, max_length: int) -> str:
        name = aws_name(slug(self.project), self.stack_slug, max_length=max_length)
        if name.startswith(ALB_RESERVED_PREFIX):
            return aws_name("alb", name, max_length=max_length)
        return name

    # Log groups allow every character of a project or stack name, so they keep them.
    def _log_group(self, purpose: str) -> str:
        return f"/{self.project}/{self.stack}/{purpose}"

    @property
    def flow_log_group(self) -> str:
        return self._log_group("vpc-flow-logs")

    @property
    def exec_log_group(self) -> str:
        return self._log_group("ecs-exec")

    @property
    def host_log_group(self) -> str:
        return self._log_group("hosts")

    @property
    def app_log_group(self) -> str:
        return self._log_group("app")

    @property
    def event_audit_log_group(self) -> str:
        # EventBridge delivers to log groups under /aws/events/ only.
        return f"/aws/events/{self.project}/{self.stack}/ecs"

    @property
    def event_log_policy_name(self) -> str:
        """The CloudWatch Logs resource policy that lets EventBridge write the audit log group."""
        return aws_name(slug(self.project), self.stack_slug, "ecs-events", max_length=LOG_POLICY_NAME_MAX)

    # KMS alias names: "alias/" and letters, digits, "/", "_" and "-" (KMS CreateAlias), never under "alias/aws/".
    @property
    def logs_key_alias(self) -> str:
        """The alias of the stack's logs key, which encrypts every log group of the stack and its tenants."""
        return f"alias/{slug(self.project)}-{self.stack_slug}-logs"

    @property
    def exec_key_alias(self) -> str:
        """The alias of the key ECS Exec sessions on the stack's cluster are encrypted with."""
        return f"alias/{slug(self.project)}-{self.stack_slug}-ecs-exec"

    @property
    def log_search_key_alias(self) -> str:
        """The alias of the log search domain's key. Not the domain's name: that is ``<project>-<stack>-logs``,
        which would take the logs key's alias (KMS aliases are unique per account and region)."""
        return f"alias/{slug(self.project)}-{self.stack_slug}-log-search"

    # ------------------------------------------------ log search (the owner's OpenSearch domain and its ingestion)

    @property
    def log_search_domain(self) -> str:
        name = aws_name(slug(self.project), self.stack_slug, "logs", max_length=SEARCH_DOMAIN_NAME_MAX)
        return name if name[0].isalpha() else aws_name("os", name, max_length=SEARCH_DOMAIN_NAME_MAX)

    @property
    def log_search_stream(self) -> str:
        """The Firehose stream every log group of the cluster's stacks is subscribed to."""
        return aws_name(slug(self.project), self.stack_slug, "log-search", max_length=FIREHOSE_STREAM_NAME_MAX)

    @property
    def log_search_audit_log_group(self) -> str:
        return self._log_group("search-audit")

    @property
    def log_search_error_log_group(self) -> str:
        return self._log_group("search-errors")

    @property
    def log_search_log_policy_name(self) -> str:
        """The CloudWatch Logs resource policy that lets the domain publish its audit and error logs."""
        return aws_name(slug(self.project), self.stack_slug, "search-logs", max_length=LOG_POLICY_NAME_MAX)

    def secrets_path(self, configured: str | None = None) -> str:
        """The SSM path the stack's tasks may read: ``configured``, or ``/<project>/<stack>/``."""
        return configured or f"/{self.project}/{self.stack}/"

    def secrets_manager_prefix(self, configured: str | None = None) -> str:
        """The Secrets Manager name prefix of the same secrets: the SSM path without its leading ``/``."""
        return self.secrets_path(configured).lstrip("/")

    def namespace(self, configured: str | None = None) -> str:
        """The Cloud Map private DNS namespace: ``configured``, or ``<stack>.<project>.internal`` as DNS labels."""
        if configured:
            return configured
        stack, project = (aws_name(slug(n), max_length=DNS_LABEL_MAX) for n in (self.stack, self.project))
        return f"{stack}.{project}.internal"

    @property
    def task_family_prefix(self) -> str:
        """What every task family of the stack starts with; the failed-task rule matches on it."""
        return f"{aws_name(slug(self.project), max_length=FAMILY_PROJECT_MAX)}-{self.stack_slug}-"

    def task_family(self, service: str) -> str:
        return self.task_family_prefix + service

    def service_arn_prefix(self, partition: str, region: str, account_id: str, cluster_name: str) -> str:
        """Starts the ARN of every ECS service of the stack on ``cluster_name``."""
        return ecs_service_arn(partition, region, account_id, cluster_name, ecs_service_prefix(self.stack))

    @property
    def service_group_prefix(self) -> str:
        """Starts the ``group`` of every task of the stack's services."""
        return service_task_group(ecs_service_prefix(self.stack))

    @property
    def family_group_prefix(self) -> str:
        """Starts the ``group`` of every task of the stack run on its own (scheduled tasks)."""
        return standalone_task_group(self.task_family_prefix)

    def previous_target_group_name(self, service: str) -> str:
        """A target group's logical name before it was named from its component: the alias that keeps it."""
        return aws_name(self.stack, service, max_length=TARGET_GROUP_LOGICAL_MAX)


def ssm_parameter_problem(name: str) -> str | None:
    """Why SSM Parameter Store would refuse the parameter ``name`` (``/odyssey/prod/db/password``), or None."""
    levels = [level for level in name.split("/") if level]
    if levels and levels[0].lower().startswith(SSM_RESERVED_PREFIXES):
        return (f"{name!r} starts with {levels[0]!r}: SSM refuses parameter names prefixed with "
                f"{' or '.join(map(repr, SSM_RESERVED_PREFIXES))} (any case)")
    if len(levels) > SSM_HIERARCHY_DEPTH_MAX:
        return f"{name!r} is {len(levels)} levels deep; SSM allows at most {SSM_HIERARCHY_DEPTH_MAX}"
    return None


# The tags Odyssey puts on every resource itself (``default_tags``); extra tags may not replace them.
ODYSSEY_TAG_KEYS = ("Project", "Stack", "BillingDepartment", "BillingContact", "ManagedBy")
# The most tags one resource adds to the default tags: the Auto Scaling group's Name and AmazonECSManaged.
RESOURCE_OWN_TAGS_MAX = 2


def default_tags(project: str, stack: str, department: str, contact: str, extra: dict[str, str]) -> dict[str, str]:
    """Tags on every resource (the provider's default tags) and propagated to instances."""
    return {
        **extra,
        "Project": project,
        "Stack": stack,
        "BillingDepartment": department,
        "BillingContact": contact,
        "ManagedBy": "pulumi",
    }
