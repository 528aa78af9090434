"""Application-stack configuration: each bad input is one clear problem, before anything registers."""

from __future__ import annotations

import copy

import pytest

from odyssey.config.base import ConfigError
from odyssey.config.checks import cluster_problems
from odyssey.config.stack import parse_stack_config
from odyssey.domain.naming import StackNames

BASE = {
    "region": "us-east-1",
    "tags": {"department": "platform", "contact": "ops@example.com"},
    "app": {"defaultHosts": ["www.example.com"]},
    "services": {
        "web": {"image": "nginx:1.27.2", "port": 80, "public": {"hosts": ["www.example.com"]}},
        "api": {"image": "acme/api:1.0.0", "port": 8080, "public": {"paths": ["/api/*"]}},
        "worker": {"image": "acme/worker:1.0.0", "command": ["./work"]},
    },
    "schedules": {"nightly": {"service": "worker", "expression": "cron(0 3 * * ? *)"}},
}


def with_changes(change) -> dict:
    raw = copy.deepcopy(BASE)
    change(raw)
    return raw


def only_problem(raw, stack="prod"):
    with pytest.raises(ConfigError) as error:
        parse_stack_config(raw, stack=stack)
    problems = error.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def assert_one_clear_problem(change, key, fragment, example):
    """The stack file with ``change`` has one problem: under ``key``, saying ``fragment``, with ``example``."""
    problem = only_problem(with_changes(change))
    assert problem.key == key
    assert fragment in problem.message
    if example is not None:
        assert problem.example and example in problem.example


def test_the_base_stack_is_valid():
    config = parse_stack_config(BASE, stack="prod")
    assert [s.kind for s in config.services.values()] == ["public", "public", "worker"]


CASES = [
    # duplicate hosts or paths
    ("duplicate host", lambda r: r["services"].update(
        blog={"image": "ghost:5.0", "port": 2368, "public": {"hosts": ["www.example.com"]}}),
     "odyssey:services.blog.public", "routes host www.example.com, which web already routes", "paths"),
    ("duplicate path", lambda r: r["services"].update(
        admin={"image": "acme/admin:1.0", "port": 8081, "public": {"paths": ["/api/*"]}}),
     "odyssey:services.admin.public", "with path /api/*, which api already routes", "paths"),
    # ports out of range
    ("port 0", lambda r: r["services"]["api"].update(port=0), "odyssey:services.api.port",
     "greater than or equal to 1", "8080"),
    ("port 70000", lambda r: r["services"]["api"].update(port=70000), "odyssey:services.api.port",
     "less than or equal to 65535", "8080"),
    # memory above the instance's
    ("memory above a node", lambda r: r["services"]["api"].update(memory=16384), "odyssey:services.api.memory",
     "above the ~7372 MiB one m7i.large node offers", "512"),
    ("cpu above a node", lambda r: r["services"]["api"].update(cpu=4096), "odyssey:services.api.cpu",
     "above the 2048 of one m7i.large", "256"),
    # invalid cron expressions
    ("five-field cron", lambda r: r["schedules"]["nightly"].update(expression="cron(0 3 * * *)"),
     "odyssey:schedules.nightly.expression", "cron needs 6 fields", "cron(0 3 * * ? *)"),
    ("both days", lambda r: r["schedules"]["nightly"].update(expression="cron(0 3 * * MON *)"),
     "odyssey:schedules.nightly.expression", "exactly one of day-of-month and day-of-week", "cron("),
    # images without a tag
    ("untagged image", lambda r: r["services"]["web"].update(image="nginx"), "odyssey:services.web.image",
     "has no tag", "nginx:1.27.2"),
    ("latest image", lambda r: r["services"]["web"].update(image="nginx:latest"), "odyssey:services.web.image",
     "'latest'", "nginx:1.27.2"),
    # names that make AWS names too long
    ("service name over 63", lambda r: r["services"].update({"w" * 64: {"image": "acme/w:1.0"}}),
     "odyssey:services." + "w" * 64, "at most 63", None),
    # secrets given as plain values
    ("plain password", lambda r: r["services"]["api"].update(environment={"DB_PASSWORD": "hunter2"}),
     "odyssey:services.api.environment", "DB_PASSWORD looks like a secret given as a plain value",
     "LOG_LEVEL"),
    ("secret with both sources", lambda r: r["services"]["api"].update(
        secrets={"TOKEN": {"ssm": "a", "secretsManager": "b"}}), "odyssey:services.api.secrets.TOKEN",
     "exactly one of ssm or secretsManager", None),
    ("secret outside the stack's path", lambda r: r["services"]["api"].update(secrets={"TOKEN": {"ssm": "/other/x"}}),
     "odyssey:services.api.secrets.TOKEN", "relative to the stack's path", None),
    # more structure
    ("public without a port", lambda r: r["services"]["web"].pop("port"), "odyssey:services.web",
     "public needs a port", None),
    ("schedule of an unknown service", lambda r: r["schedules"]["nightly"].update(service="reporter"),
     "odyssey:schedules.nightly.service", "not in odyssey:services (api, web, worker)", '"worker"'),
    ("path-only route without default hosts", lambda r: r["app"].update(defaultHosts=[]),
     "odyssey:services.api.public.hosts", "no host to route on", "www.example.com"),
    ("bad host name", lambda r: r["services"]["web"]["public"].update(hosts=["WWW..example"]),
     "odyssey:services.web.public.hosts", "not host names", "www.example.com"),
    ("autoscaling max below min", lambda r: r["services"]["web"].update(
        autoscaling={"minCount": 4, "maxCount": 2, "cpuTargetPercent": 60}), "odyssey:services.web.autoscaling",
     "maxCount (2) is below minCount (4)", None),
    ("request scaling on a worker", lambda r: r["services"]["worker"].update(
        autoscaling={"minCount": 1, "maxCount": 2, "requestsPerTarget": 100}), "odyssey:services.worker",
     "requestsPerTarget needs a public service", None),
    ("health-check timeout not below interval", lambda r: r["services"]["web"]["public"].update(
        healthCheck={"intervalSeconds": 5, "timeoutSeconds": 5}), "odyssey:services.web.public.healthCheck",
     "must be below intervalSeconds", None),
    ("four hosts in one condition", lambda r: r["services"]["web"]["public"].update(
        hosts=[f"h{i}.example.com" for i in range(4)]), "odyssey:services.web.public", "at most 3 of each", "paths"),
    ("default hosts count toward the rule's five values", lambda r: (
        r["app"].update(defaultHosts=["a.example.com", "b.example.com", "c.example.com"]),
        r["services"]["api"]["public"].update(paths=["/api/*", "/v1/*", "/v2/*"])),
     "odyssey:services.api.public", "3 hosts (its own or odyssey:app.defaultHosts) and 3 paths", None),
    ("exec with a read-only root", lambda r: r["services"]["api"].update(enableExec=True, readonlyRootFilesystem=True),
     "odyssey:services.api", "needs a writable root filesystem", None),
    ("ulimit soft above hard", lambda r: r["services"]["api"].update(ulimits={"nofile": {"soft": 10, "hard": 5}}),
     "odyssey:services.api.ulimits.nofile", "soft (10) is above hard (5)", None),
    ("health-check command form", lambda r: r["services"]["api"].update(healthCheck={"command": ["curl", "-f", "x"]}),
     "odyssey:services.api.healthCheck.command", "must start with CMD, CMD-SHELL or NONE", "CMD-SHELL"),
    ("target health-check path", lambda r: r["services"]["web"]["public"].update(healthCheck={"path": "health"}),
     "odyssey:services.web.public.healthCheck.path", "not a path", "/health"),
    ("bad default host", lambda r: r["app"].update(defaultHosts=["WWW..example"]), "odyssey:app.defaultHosts",
     "not host names", "www.example.com"),
    ("bad namespace", lambda r: r["app"].update(namespace="Prod Namespace"), "odyssey:app.namespace",
     "not a DNS name", "prod.odyssey.internal"),
    ("bad secrets path", lambda r: r["app"].update(secretsPath="odyssey/prod"), "odyssey:app.secretsPath",
     "must start and end with '/'", "/odyssey/prod/"),
    ("bad notification email", lambda r: r["app"].update(notifications={"email": "ops"}),
     "odyssey:app.notifications.email", "not an email address", "ops@example.com"),
    ("plain-http webhook", lambda r: r["app"].update(notifications={"https": "http://hooks.example.com"}),
     "odyssey:app.notifications.https", "not an https:// URL", "https://"),
    ("autoscaling without a target", lambda r: r["services"]["web"].update(autoscaling={"minCount": 1, "maxCount": 2}),
     "odyssey:services.web.autoscaling", "set cpuTargetPercent and/or requestsPerTarget", None),
    ("bad task role policy", lambda r: r["services"]["api"].update(taskRolePolicyArns=["AmazonS3ReadOnlyAccess"]),
     "odyssey:services.api.taskRolePolicyArns", "not IAM policy ARNs", "arn:aws:iam::aws:policy/"),
    ("reservation above memory", lambda r: r["services"]["api"].update(memory=512, memoryReservation=1024),
     "odyssey:services.api", "memoryReservation (1024) is above memory (512)", None),
    ("bad environment name", lambda r: r["services"]["api"].update(environment={"LOG-LEVEL": "info"}),
     "odyssey:services.api.environment", "not valid environment variable names", "LOG_LEVEL"),
    ("target health-check matcher", lambda r: r["services"]["web"]["public"].update(healthCheck={"matcher": "ok"}),
     "odyssey:services.web.public.healthCheck.matcher", "not HTTP codes", "200-399"),
    ("bad time zone", lambda r: r["schedules"]["nightly"].update(timezone="Mars/Olympus"),
     "odyssey:schedules.nightly.timezone", "not an IANA time zone", "Europe/Berlin"),
    ("stop timeout above the ECS maximum", lambda r: r["services"]["web"].update(stopTimeoutSeconds=300),
     "odyssey:services.web.stopTimeoutSeconds", "less than or equal to 120", "30"),
    ("unknown ulimit", lambda r: r["services"]["web"].update(ulimits={"files": {"soft": 1, "hard": 1}}),
     "odyssey:services.web.ulimits", "files not ulimit names", None),
    ("owner not registering itself", lambda r: r.update(cluster={"applicationStacks": {"stage": 2}}),
     "odyssey:cluster.applicationStacks", "not this stack (prod)", '{"prod": 1}'),
    ("two stacks in one slot", lambda r: r.update(cluster={"applicationStacks": {"prod": 1, "stage": 1}}),
     "odyssey:cluster.applicationStacks", "slot(s) 1 given to more than one stack", None),
    ("stack names that prefix each other", lambda r: r.update(cluster={"applicationStacks": {"prod": 1, "prod-eu": 2}}),
     "odyssey:cluster.applicationStacks", "prod and prod-eu overlap", '"stage": 2}'),
    # AWS names use the stack's slug (Prod.EU -> prod-eu): the registry compares slugs
    ("stack names that prefix each other once cleaned", lambda r: r.update(
        cluster={"applicationStacks": {"prod": 1, "Prod.EU": 2}}),
     "odyssey:cluster.applicationStacks", "prod and Prod.EU overlap: Prod.EU's ECS services (prod-eu-<service>) "
     "start with 'prod-'", '"stage": 2}'),
    ("stack names whose slugs collide", lambda r: r.update(
        cluster={"applicationStacks": {"prod": 1, "Stage.EU": 2, "stage-eu": 3}}),
     "odyssey:cluster.applicationStacks", "stack names Stage.EU and stage-eu both become 'stage-eu'",
     '"stage": 2}'),
]


@pytest.mark.parametrize("label, change, key, fragment, example", CASES, ids=[c[0] for c in CASES])
def test_each_bad_input_is_one_clear_problem(label, change, key, fragment, example):
    assert_one_clear_problem(change, key, fragment, example)


def test_a_stack_on_another_cluster_is_checked_against_that_cluster():
    owner = "organization/odyssey/prod"
    registered = {"prod": {"slot": 1}, "qa": {"slot": 3}}
    config = parse_stack_config({**BASE, "clusterStack": owner}, stack="qa")
    assert cluster_problems(config, StackNames("odyssey", "qa"), owner, "m7i.large", registered) == []
    # t3.micro offers tasks ~921 MiB: the 512 MiB defaults fit, a 1024 MiB api does not.
    bigger = parse_stack_config(with_changes(lambda r: (r.update(clusterStack=owner),
                                                        r["services"]["api"].update(memory=1024))), stack="qa")
    problems = cluster_problems(bigger, StackNames("odyssey", "qa"), owner, "t3.micro", {"prod": {"slot": 1}})
    assert [p.key for p in problems] == ["odyssey:services.api.memory", "odyssey:clusterStack"]
    assert "organization/odyssey/prod's cluster" in problems[0].message
    assert "not registered on organization/odyssey/prod's cluster" in problems[1].message
