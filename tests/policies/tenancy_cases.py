"""Resources for the tenancy policies, in the shapes the tenancy design's conventions give them.

Target groups and listener rules carry the tag ``OdysseyLoadBalancer`` (the
ALB's index in the pool, a string); the AppStack component registers
``tenancy`` props, each Service component ``reservation`` props. Numbers are
floats, as the engine sends them.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.rules.thresholds import ALB_RULES_PER_LOAD_BALANCER, ALB_TARGET_GROUPS_PER_LOAD_BALANCER
from tests.policies.policy_harness import UNKNOWN, R

APP = "odyssey:app:AppStack"
SERVICE = "odyssey:service:Service"
ECS_SERVICE = "aws:ecs/service:Service"
ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TG = "aws:lb/targetGroup:TargetGroup"
RULE = "aws:lb/listenerRule:ListenerRule"
TAG = "OdysseyLoadBalancer"

ALB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/odyssey-prod/50dc6c495c0c9188"
HTTPS_LISTENER_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/odyssey-prod/50dc6c495c0c9188/f2f7dc8efc522ab2"
HTTP_LISTENER_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/odyssey-prod/50dc6c495c0c9188/0467ef3c8400ae65"
OTHER_LISTENER_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/odyssey-prod-2/8e4497da625e2d8a/9ab28ade35828f96"
MOCK_LISTENER_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/ingress-https-0551e6a"

TENANCY = {"stack": "prod", "targetGroups": 20.0, "rules": 20.0, "cpu": 4096.0, "memory": 8192.0, "loadBalancer": 1.0}


@dataclass(frozen=True)
class Svc:
    name: str
    cpu: int = 256
    memory: int = 512
    count: int = 1
    public: bool = True
    desired: int | None = None  # the ECS service's desiredCount; None: the declared count
    maximum_percent: float = 200.0


def app_stack(*services: Svc, tenancy: dict | None = TENANCY, tag: str | None = "1", listener_arn=MOCK_LISTENER_ARN,
              reservation: dict | None = None) -> list[R]:
    """An AppStack and its Services as the program registers them (``reservation`` overrides every service's)."""
    resources = [R(APP, "app", {"tenancy": tenancy} if tenancy is not None else {})]
    for s in services:
        component = f"app-{s.name}"
        declared = {"cpu": float(s.cpu), "memory": float(s.memory), "count": float(s.count), "public": s.public}
        resources += [
            R(SERVICE, component, {"reservation": declared if reservation is None else reservation}, parent="app"),
            R(ECS_SERVICE, f"{component}-service", {
                "desiredCount": float(s.count if s.desired is None else s.desired),
                "deploymentMaximumPercent": s.maximum_percent, "deploymentMinimumHealthyPercent": 100.0,
            }, parent=component),
        ]
        if s.public:
            resources += routed(f"prod-{s.name}", f"{component}-rule", tag, listener_arn, parent=component)
    return resources


def routed(group: str, rule: str, tag: str | None, listener_arn=MOCK_LISTENER_ARN, parent: str | None = None,
           listener: str | None = None) -> list[R]:
    """A target group and the rule forwarding to it; ``listener`` names a listener resource of this stack."""
    tags = {"department": "platform"} | ({TAG: tag} if tag is not None else {})
    rule_deps = {"actions": [group]} | ({"listenerArn": [listener]} if listener else {})
    return [
        R(TG, group, {"protocol": "HTTP", "port": 80.0, "tags": tags}, parent=parent),
        R(RULE, rule, {"listenerArn": listener_arn, "priority": 100.0, "tags": tags,
                       "actions": [{"type": "forward", "targetGroupArn": f"arn:tg/{group}"}]},
          parent=parent, deps=rule_deps),
    ]


def many(count: int, tag: str | None, prefix: str = "svc", **kwargs) -> list[R]:
    return [r for i in range(count) for r in routed(f"{prefix}-{i}", f"{prefix}-{i}-rule", tag, **kwargs)]


def target_groups(count: int, tag: str | None, prefix: str = "tg") -> list[R]:
    tags = {TAG: tag} if tag is not None else {}
    return [R(TG, f"{prefix}-{i}", {"protocol": "HTTP", "tags": tags}) for i in range(count)]


def rules(count: int, tag: str | None, prefix: str = "rule", listener_arn=MOCK_LISTENER_ARN) -> list[R]:
    tags = {TAG: tag} if tag is not None else {}
    return [R(RULE, f"{prefix}-{i}", {"listenerArn": listener_arn, "tags": tags}) for i in range(count)]


def owner_ingress() -> list[R]:
    """The owner's ALB and HTTPS listener, in the same stack as its app (prod)."""
    return [R(ALB, "ingress-alb", {"loadBalancerType": "application"}),
            R(LISTENER, "ingress-https", {"protocol": "HTTPS", "port": 443.0}, deps={"loadBalancerArn": ["ingress-alb"]})]


TG_MAX, RULE_MAX = ALB_TARGET_GROUPS_PER_LOAD_BALANCER, ALB_RULES_PER_LOAD_BALANCER
WEB, API, WORKER = Svc("web", 256, 512, 2), Svc("api", 512, 1024, 2), Svc("worker", 256, 512, 1, public=False)
# At desired counts: 1792 CPU units, 3584 MiB; the largest deploy (api, 2 extra tasks) adds 1024 and 2048.

# (label, resources, config, expected violation fragments (empty: passes), expect "cannot check")
TENANCY_CASES = {
    "load-balancer-within-quotas": [
        ("a tenant within its budget on load balancer 1", app_stack(WEB, API, WORKER), None, [], False),
        ("the quotas exactly", target_groups(TG_MAX, "1") + rules(RULE_MAX, "1"), None, [], False),
        (f"{TG_MAX + 1} target groups tagged for one load balancer", target_groups(TG_MAX + 1, "1"), None,
         [f"Load balancer 1 carries {TG_MAX + 1} target groups from this stack; it may carry at most {TG_MAX}",
          "not adjustable"], False),
        (f"{RULE_MAX + 1} rules tagged for one load balancer", rules(RULE_MAX + 1, "1"), None,
         [f"Load balancer 1 carries {RULE_MAX + 1} listener rules", "default 100, adjustable"], False),
        ("120 public services over two load balancers of the pool", many(60, "1") + many(60, "2", prefix="more"),
         None, [], False),
        ("the account's raised rules quota is configurable", rules(RULE_MAX + 20, "1"),
         {"maxRulesPerLoadBalancer": 150}, [], False),
        ("a lower configured rules quota", rules(60, "1"), {"maxRulesPerLoadBalancer": 50},
         ["carries 60 listener rules from this stack; it may carry at most 50"], False),
        ("untagged rules: through the listener to the owner's ALB in this stack, the target groups through the rules",
         owner_ingress() + many(TG_MAX + 1, None, listener="ingress-https"), None,
         [f"Load balancer 'ingress-alb' (found through its listener 'ingress-https') carries {TG_MAX + 1} target "
          "groups", f"carries {RULE_MAX + 1} listener rules"], False),
        ("untagged rules on two listeners of one ALB (their ARNs name it) count together",
         rules(60, None, listener_arn=HTTPS_LISTENER_ARN) + rules(41, None, "http", listener_arn=HTTP_LISTENER_ARN),
         None, [f"The load balancer of listener {HTTPS_LISTENER_ARN} carries {RULE_MAX + 1} listener rules"], False),
        ("untagged rules on two ALBs (their ARNs tell them apart)",
         rules(60, None, listener_arn=HTTPS_LISTENER_ARN) + rules(60, None, "other", listener_arn=OTHER_LISTENER_ARN),
         None, [], False),
        ("untagged target groups, no rule: counted as one load balancer's, and said", target_groups(TG_MAX + 1, None),
         None, [f"One load balancer (assumed) carries {TG_MAX + 1} target groups from this stack (none of them carries "
                "an OdysseyLoadBalancer tag"], False),
        ("untagged target groups counted with each tagged load balancer", target_groups(90, "1") +
         target_groups(20, None, "loose"), None,
         ["Load balancer 1 carries 110 target groups from this stack (90 on it and 20 with no OdysseyLoadBalancer tag"],
         False),
        ("a stack over its target-group budget",
         app_stack(WEB, API, tenancy={**TENANCY, "targetGroups": 1.0}), None,
         ["Stack prod has 2 target groups (prod-api, prod-web); its routing budget is 1 "
          "(odyssey:cluster.applicationStacks.prod.targetGroups in the owner's config)"], False),
        ("a stack over its rules budget", app_stack(WEB, API, tenancy={**TENANCY, "rules": 1.0}), None,
         ["Stack prod has 2 listener rules (app-api-rule, app-web-rule); its routing budget is 1"], False),
        ("a stack's resources tagged for another load balancer than it is assigned",
         app_stack(WEB, tag="2"), None, ["Stack prod is assigned load balancer 1 (odyssey:cluster.applicationStacks.prod), "
                                         "but 2 of its target groups and rules carry OdysseyLoadBalancer 2 "
                                         "(app-web-rule, prod-web)"], False),
        ("an AppStack without tenancy props (a program from before them): the budget is not checked",
         app_stack(WEB, API, tenancy=None, tag=None), None, [], False),
        ("unknown tag", [R(TG, "web", {"tags": {TAG: UNKNOWN}})], None, [], True),
        ("unknown tags do not hide another load balancer's violation",
         target_groups(TG_MAX + 1, "1") + [R(TG, "web", {"tags": UNKNOWN})], None,
         [f"Load balancer 1 carries {TG_MAX + 1} target groups"], True),
        ("unknown budget", app_stack(WEB, tenancy={**TENANCY, "targetGroups": UNKNOWN}), None, [], True),
    ],
    "tenant-reservations-within-quota": [
        ("within the quota, also while the largest service deploys", app_stack(WEB, API, WORKER), None, [], False),
        ("over the CPU quota at desired counts", app_stack(WEB, API, WORKER, tenancy={**TENANCY, "cpu": 1024.0}), None,
         ["Stack prod's services reserve 1792 CPU units at their desired counts; its quota is 1024 "
          "(odyssey:cluster.applicationStacks.prod.cpu in the owner's config)"], False),
        ("over the CPU quota only during a deploy", app_stack(WEB, API, WORKER, tenancy={**TENANCY, "cpu": 2048.0}),
         None, ["reserve 1792 CPU units at their desired counts and 2816 while 'app-api' deploys (2 extra task(s) at "
                "maximumPercent 200); its quota is 2048"], False),
        ("over the memory quota during a deploy", app_stack(WEB, API, WORKER, tenancy={**TENANCY, "memory": 4096.0}),
         None, ["reserve 3584 MiB of memory at their desired counts and 5632 while 'app-api' deploys"], False),
        ("the service's own maximumPercent decides its surge",
         app_stack(WEB, Svc("api", 512, 1024, 2, maximum_percent=150.0), WORKER, tenancy={**TENANCY, "cpu": 2304.0}),
         None, [], False),
        ("the same stack at maximumPercent 200", app_stack(WEB, API, WORKER, tenancy={**TENANCY, "cpu": 2304.0}), None,
         ["2816 while 'app-api' deploys"], False),
        ("a declared count that is not the ECS service's", app_stack(WEB, Svc("api", 512, 1024, 2, desired=3)), None,
         ["Service 'app-api' declares 2 task(s) in its reservation, but its ECS service 'app-api-service' runs "
          "desiredCount 3"], False),
        ("no quota allotted (an owner from before quotas): nothing to exceed",
         app_stack(Svc("huge", 16384, 65536, 10), tenancy={**TENANCY, "cpu": None, "memory": None}), None, [], False),
        ("an AppStack without tenancy props: said, not passed silently", app_stack(WEB, tenancy=None), None, [], True),
        ("a Service without reservation props under a quota", app_stack(WEB, reservation={}), None, [], True),
        ("unknown reservation", app_stack(WEB, reservation={"cpu": UNKNOWN, "memory": 512.0, "count": 2.0}), None, [],
         True),
        ("unknown desired count", app_stack(WEB)[:2] + [R(ECS_SERVICE, "app-web-service", {"desiredCount": UNKNOWN},
                                                          parent="app-web")], None, [], True),
    ],
}
