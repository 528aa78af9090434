"""Every policy with passing and failing resources, by direct call and through the analyzer protocol.

The protocol runs start ``policies/__main__.py`` as its own process and speak
the same gRPC the Pulumi CLI speaks, so the pack is exercised as it runs in a
real ``pulumi preview --policy-pack policies``.
"""

from __future__ import annotations

import json

import pytest
from google.protobuf import json_format

from odyssey.domain import invariants, quotas
from policies.rules.catalog import POLICIES
from policies.rules.thresholds import DAILY_CYCLE_SECONDS, ECS_AMI_PARAMETER_X86_64, MIN_INSTANCES, RESOLVE_SSM
from tests.plans import ROOT
from tests.policies.opensearch_cases import OPENSEARCH_CASES
from tests.policies.policy_harness import UNKNOWN, Protocol, R, run_direct
from tests.policies.security_cases import SECURITY_CASES
from tests.policies.tenancy_cases import TENANCY_CASES, target_groups

ASG = "aws:autoscaling/group:Group"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
CP = "aws:ecs/capacityProvider:CapacityProvider"
TD = "aws:ecs/taskDefinition:TaskDefinition"
SVC = "aws:ecs/service:Service"
CLUSTER = "aws:ecs/cluster:Cluster"
AWSX_VPC = "awsx:ec2:Vpc"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TG = "aws:lb/targetGroup:TargetGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VOLUME = "aws:ebs/volume:Volume"

GOOD_ASG = {
    "minSize": float(MIN_INSTANCES), "maxSize": 12.0, "maxInstanceLifetime": float(DAILY_CYCLE_SECONDS),
    "protectFromScaleIn": False,
    "instanceMaintenancePolicy": {"minHealthyPercentage": 100.0, "maxHealthyPercentage": 125.0},
    "instanceRefresh": {"strategy": "Rolling", "preferences": {"minHealthyPercentage": 100.0}},
    "launchTemplate": {"id": "lt-1", "version": "1"}, "vpcZoneIdentifiers": ["subnet-a", "subnet-b", "subnet-c"],
}
GOOD_LT = {
    "imageId": f"{RESOLVE_SSM}{ECS_AMI_PARAMETER_X86_64}",
    "instanceType": "m7i.large",
    "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1.0},
    "networkInterfaces": [{"associatePublicIpAddress": "false"}],
    "blockDeviceMappings": [{"deviceName": "/dev/xvda",
                             "ebs": {"encrypted": "true", "deleteOnTermination": "true", "volumeType": "gp3"}}],
}
LOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/odyssey/prod/web"}}


def container(**overrides):
    return {"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27.2", "logConfiguration": LOGS, **overrides}


def task(*containers, **props):
    return R(TD, "web-task", {"networkMode": "bridge", "containerDefinitions": json.dumps(list(containers) or [container()]), **props})


def vpc_offline(zones):
    """The offline plan's view: one awsx component whose inputs carry the AZs."""
    return [R(AWSX_VPC, "vpc", {"availabilityZoneNames": zones}),
            R(FLOW_LOG, "flow", {"trafficType": "ALL"}, deps={"vpcId": ["vpc"]}),
            R(ASG, "nodes", GOOD_ASG, deps={"vpcZoneIdentifiers": ["vpc"]})]


def vpc_preview(private_zones, public_zones=("us-east-1a", "us-east-1b", "us-east-1c"), asg=GOOD_ASG):
    """A real preview's view: awsx's children (VPC, subnets tagged with their type) are present."""
    resources = [R(AWSX_VPC, "vpc", {"cidrBlock": "10.0.0.0/16"}), R(VPC, "vpc-inner", {}, parent="vpc"),
                 R(FLOW_LOG, "flow", {}, deps={"vpcId": ["vpc"]}),
                 R(ASG, "nodes", asg, deps={"vpcZoneIdentifiers": ["vpc"]})]
    for kind, zones in (("Private", private_zones), ("Public", public_zones)):
        for i, zone in enumerate(zones):
            resources.append(R(SUBNET, f"vpc-{kind.lower()}-{i}",
                               {"availabilityZone": zone, "tags": {"SubnetType": kind}}, parent="vpc-inner"))
    return resources


def alb_stack(listener_http=None, sg_rules=None, **alb_props):
    alb = {"loadBalancerType": "application", "dropInvalidHeaderFields": True, "enableDeletionProtection": True,
           "accessLogs": {"enabled": True, "bucket": "logs"}, **alb_props}
    rules = sg_rules if sg_rules is not None else [
        R(INGRESS, "alb-https-in", {"ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrIpv4": "0.0.0.0/0"},
          deps={"securityGroupId": ["alb-sg"]})]
    return [
        R(SG, "alb-sg", {"description": "alb"}),
        R(ALB, "alb", alb, deps={"securityGroups": ["alb-sg"]}),
        R(LISTENER, "https", {"protocol": "HTTPS", "port": 443.0, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                              "defaultActions": [{"type": "fixed-response"}]}, deps={"loadBalancerArn": ["alb"]}),
        R(LISTENER, "http", listener_http or {"protocol": "HTTP", "port": 80.0, "defaultActions": [
            {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]},
          deps={"loadBalancerArn": ["alb"]}),
        *rules,
    ]


def bucket_stack(block=True, tls_only=True):
    resources = [R(BUCKET, "logs", {})]
    if block:
        resources.append(R(PAB, "logs-pab", {k: True for k in ("blockPublicAcls", "blockPublicPolicy",
                                                               "ignorePublicAcls", "restrictPublicBuckets")},
                           deps={"bucket": ["logs"]}))
    if tls_only:
        resources.append(R(BUCKET_POLICY, "logs-policy",
                           {"policy": '{"Statement":[{"Effect":"Deny","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}'},
                           deps={"bucket": ["logs"]}))
    return resources


# (policy, resources, config, expected violation fragments (empty: passes), expect "cannot check")
CASES = {
    "min-availability-zones": [
        ("offline view, 3 AZs", vpc_offline(["us-east-1a", "us-east-1b", "us-east-1c"]), None, [], False),
        ("offline view, 2 AZs", vpc_offline(["us-east-1a", "us-east-1b"]), None, ["spans 2 availability zone"], False),
        ("preview view, private subnets in 3 AZs", vpc_preview(["us-east-1a", "us-east-1b", "us-east-1c"]), None, [], False),
        ("preview view, private subnets in 2 AZs", vpc_preview(["us-east-1a", "us-east-1b", "us-east-1a"]), None,
         ["'nodes' spans 2"], False),
        ("configured minimum 4", vpc_offline(["us-east-1a", "us-east-1b", "us-east-1c"]), {"minimumZones": 4},
         ["at least 4 are required"], False),
        ("subnets from outside the stack", [R(ASG, "nodes", GOOD_ASG)], None, [], True),
        ("unknown subnet AZ", vpc_preview(["us-east-1a", UNKNOWN, "us-east-1c"]), None, [], True),
        ("create preview: the group's computed zones are unknown, its subnets decide",
         vpc_preview(["us-east-1a", "us-east-1b", "us-east-1a"], asg={**GOOD_ASG, "availabilityZones": UNKNOWN}),
         None, ["'nodes' spans 2"], False),
        ("group without subnets, zones named directly", [R(ASG, "nodes", {
            **{k: v for k, v in GOOD_ASG.items() if k != "vpcZoneIdentifiers"},
            "availabilityZones": ["us-east-1a", "us-east-1b"]})], None, ["spans 2"], False),
    ],
    "min-instances": [
        ("the minimum", [R(ASG, "nodes", GOOD_ASG)], None, [], False),
        ("one below the minimum", [R(ASG, "nodes", {**GOOD_ASG, "minSize": MIN_INSTANCES - 1.0})], None,
         [f"minSize is {MIN_INSTANCES - 1}"], False),
        ("desired below min", [R(ASG, "nodes", {**GOOD_ASG, "desiredCapacity": 2.0})], None, ["desiredCapacity 2"], False),
        ("max below min", [R(ASG, "nodes", {**GOOD_ASG, "maxSize": 3.0})], None, ["maxSize 3 is below"], False),
        ("configured minimum 6", [R(ASG, "nodes", GOOD_ASG)], {"minimumInstances": 6}, ["at least 6"], False),
        ("unknown minSize", [R(ASG, "nodes", {**GOOD_ASG, "minSize": UNKNOWN})], None, [], True),
    ],
    "capacity-during-cycling": [
        ("launch before terminate", [R(ASG, "nodes", GOOD_ASG)], None, [], False),
        ("no maintenance policy", [R(ASG, "nodes", {k: v for k, v in GOOD_ASG.items() if k != "instanceMaintenancePolicy"})],
         None, ["No instanceMaintenancePolicy"], False),
        ("terminate first", [R(ASG, "nodes", {**GOOD_ASG, "instanceMaintenancePolicy": {
            "minHealthyPercentage": 75.0, "maxHealthyPercentage": 100.0}})], None, ["keeps 3 of 4", "no room"], False),
        ("refresh at the AWS default 90%", [R(ASG, "nodes", {**GOOD_ASG, "instanceRefresh": {"strategy": "Rolling"}})],
         None, ["instanceRefresh keeps 3 of 4"], False),
    ],
    "daily-cycling": [
        ("one day", [R(ASG, "nodes", GOOD_ASG), R(CP, "cp", {"autoScalingGroupProvider": {
            "managedTerminationProtection": "DISABLED", "managedDraining": "ENABLED"}})], None, [], False),
        ("no lifetime", [R(ASG, "nodes", {**GOOD_ASG, "maxInstanceLifetime": 0.0})], None, ["never cycled"], False),
        ("a week", [R(ASG, "nodes", {**GOOD_ASG, "maxInstanceLifetime": 604800.0})], None, ["after 604800 s"], False),
        ("scale-in protection", [R(ASG, "nodes", {**GOOD_ASG, "protectFromScaleIn": True})], None,
         ["protects new instances from scale-in"], False),
        ("termination protection", [R(ASG, "nodes", GOOD_ASG), R(CP, "cp", {"autoScalingGroupProvider": {
            "managedTerminationProtection": "ENABLED"}})], None, ["managed termination protection"], False),
        ("unknown lifetime", [R(ASG, "nodes", {**GOOD_ASG, "maxInstanceLifetime": UNKNOWN})], None, [], True),
    ],
    "stateless-nodes": [
        ("root volume deleted, no host paths", [R(LT, "lt", GOOD_LT), task()], None, [], False),
        ("kept volume", [R(LT, "lt", {**GOOD_LT, "blockDeviceMappings": [
            {"deviceName": "/dev/xvdb", "ebs": {"deleteOnTermination": "false", "encrypted": "true"}}]})], None,
         ["keeps volume /dev/xvdb"], False),
        ("EBS volume", [R(VOLUME, "data", {"size": 100.0})], None, ["persistent volume"], False),
        ("launch configuration keeping its root volume", [R("aws:ec2/launchConfiguration:LaunchConfiguration", "lc", {
            "rootBlockDevice": {"deleteOnTermination": False}})], None, ["keeps a volume"], False),
        ("host path", [task(volumes=[{"name": "data", "hostPath": "/srv/data"}])], None, ["host path /srv/data"], False),
        ("allow-listed host path", [task(volumes=[{"name": "logs", "hostPath": "/var/log"}])],
         {"allowedHostPaths": ["/var/log"]}, [], False),
        ("shared docker volume", [task(volumes=[{"name": "cache", "dockerVolumeConfiguration": {"scope": "shared"}}])],
         None, ["shared-scope Docker volume"], False),
    ],
    "homogeneous-nodes": [
        ("one launch template", [R(ASG, "nodes", GOOD_ASG), R(LT, "lt", GOOD_LT)], None, [], False),
        ("mixed instance types", [R(ASG, "nodes", {**GOOD_ASG, "mixedInstancesPolicy": {"launchTemplate": {
            "overrides": [{"instanceType": "m7i.large"}, {"instanceType": "c7i.large"}]}}})], None,
         ["runs 2 instance types"], False),
        ("attribute-based selection", [R(LT, "lt", {**GOOD_LT, "instanceRequirements": {"vcpuCount": {"min": 2.0}}})],
         None, ["instanceRequirements"], False),
    ],
    "ecs-optimized-ami": [
        ("SSM parameter", [R(LT, "lt", GOOD_LT)], None, [], False),
        ("fixed AMI", [R(LT, "lt", {**GOOD_LT, "imageId": "ami-0123456789abcdef0"})], None, ["imageId is 'ami-"], False),
        ("unknown image", [R(LT, "lt", {**GOOD_LT, "imageId": UNKNOWN})], None, [], True),
    ],
    "logging-enabled": [
        ("everything logs", [task(), R(CLUSTER, "ecs", {"settings": [{"name": "containerInsights", "value": "enabled"}],
                              "configuration": {"executeCommandConfiguration": {"logging": "OVERRIDE", "logConfiguration": {
                                  "cloudWatchLogGroupName": "/odyssey/prod/ecs-exec"}}}}),
                             R(LOG_GROUP, "logs", {"retentionInDays": 30.0}), *alb_stack(),
                             *vpc_offline(["us-east-1a", "us-east-1b", "us-east-1c"])], None, [], False),
        ("container without logConfiguration", [task(container(logConfiguration=None))], None,
         ["has no logConfiguration"], False),
        ("no Container Insights, no exec logging", [R(CLUSTER, "ecs", {})], None,
         ["Container Insights", "ECS Exec"], False),
        ("log group kept forever", [R(LOG_GROUP, "logs", {})], None, ["keeps logs forever"], False),
        ("ALB without access logs", alb_stack(accessLogs={"enabled": False}), None, ["no access logs"], False),
        ("VPC without flow logs", [R(AWSX_VPC, "vpc", {"availabilityZoneNames": ["a", "b", "c"]})], None,
         ["no flow logs"], False),
        ("preview view: flow log on the awsx component covers its VPC", vpc_preview(["us-east-1a", "us-east-1b", "us-east-1c"]),
         None, [], False),
    ],
    "versioned-images": [
        ("pinned tag", [task()], None, [], False),
        ("latest", [task(container(image="nginx:latest"))], None, ["'latest'"], False),
        ("untagged", [task(container(image="nginx"))], None, ["has no tag"], False),
        ("unknown image", [R(TD, "web-task", {"containerDefinitions": UNKNOWN})], None, [], True),
    ],
    **TENANCY_CASES,
    **OPENSEARCH_CASES,
    **SECURITY_CASES,
    "imdsv2-required": [
        ("required, hop 1", [R(LT, "lt", GOOD_LT)], None, [], False),
        ("optional tokens", [R(LT, "lt", {**GOOD_LT, "metadataOptions": {"httpTokens": "optional",
                                                                         "httpPutResponseHopLimit": 1.0}})], None,
         ["IMDSv2 is not required"], False),
        ("hop limit 2", [R(LT, "lt", {**GOOD_LT, "metadataOptions": {"httpTokens": "required",
                                                                     "httpPutResponseHopLimit": 2.0}})], None,
         ["HopLimit is 2"], False),
    ],
    "no-public-ip-on-nodes": [
        ("private", [R(LT, "lt", GOOD_LT)], None, [], False),
        ("public", [R(LT, "lt", {**GOOD_LT, "networkInterfaces": [{"associatePublicIpAddress": "true"}]})], None,
         ["gets a public IP"], False),
    ],
    "ebs-encrypted": [
        ("encrypted", [R(LT, "lt", GOOD_LT), R(VOLUME, "v", {"encrypted": True})], None, [], False),
        ("plain launch-template volume", [R(LT, "lt", {**GOOD_LT, "blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"encrypted": "false", "deleteOnTermination": "true"}}]})], None,
         ["not encrypted"], False),
        ("plain volume", [R(VOLUME, "v", {})], None, ["not encrypted"], False),
    ],
    "no-world-ingress": [
        ("ALB on 443", alb_stack(), None, [], False),
        ("world to the nodes", [R(SG, "nodes-sg", {}), R(INGRESS, "open", {
            "ipProtocol": "tcp", "fromPort": 32768.0, "toPort": 65535.0, "cidrIpv4": "0.0.0.0/0"},
            deps={"securityGroupId": ["nodes-sg"]})], None, ["only a load balancer"], False),
        ("ALB on 8080", alb_stack(sg_rules=[R(INGRESS, "alt", {"ipProtocol": "tcp", "fromPort": 8080.0,
                                                               "toPort": 8080.0, "cidrIpv6": "::/0"},
                                              deps={"securityGroupId": ["alb-sg"]})]), None, ["ports 8080-8080"], False),
        ("inline all-traffic rule", [R(SG, "wide", {"ingress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0,
                                                                  "cidrBlocks": ["0.0.0.0/0"]}]})], None,
         ["opens all ports"], False),
        ("unknown CIDR", [R(SG, "nodes-sg", {}), R(INGRESS, "open", {"ipProtocol": "tcp", "fromPort": 1.0,
                                                                    "toPort": 1.0, "cidrIpv4": UNKNOWN},
                                                 deps={"securityGroupId": ["nodes-sg"]})], None, [], True),
    ],
    "no-ssh-rdp-ingress": [
        ("web only", alb_stack(), None, [], False),
        ("SSH from the world (002's template)", [R(SG_RULE, "ssh", {"type": "ingress", "protocol": "tcp",
                                                                    "fromPort": 22.0, "toPort": 22.0,
                                                                    "cidrBlocks": ["0.0.0.0/0"]})], None,
         ["opens SSH (port 22)"], False),
        ("RDP from an office", [R(INGRESS, "rdp", {"ipProtocol": "tcp", "fromPort": 3389.0, "toPort": 3389.0,
                                                   "cidrIpv4": "203.0.113.0/24"})], None, ["RDP (port 3389)"], False),
    ],
    "http-redirects-to-https": [
        ("redirect", alb_stack(), None, [], False),
        ("plain HTTP next to HTTPS", alb_stack(listener_http={"protocol": "HTTP", "port": 80.0,
                                                              "defaultActions": [{"type": "forward"}]}), None,
         ["does not redirect to HTTPS"], False),
    ],
    "modern-tls-policy": [
        ("TLS 1.3 policy", alb_stack(), None, [], False),
        ("2016 policy", [R(LISTENER, "https", {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-2016-08"})], None,
         ["sslPolicy is ELBSecurityPolicy-2016-08"], False),
        ("no policy", [R(LISTENER, "https", {"protocol": "HTTPS"})], None, ["allows TLS 1.0"], False),
    ],
    "drop-invalid-headers": [
        ("dropped", alb_stack(), None, [], False),
        ("kept", alb_stack(dropInvalidHeaderFields=False), None, ["dropInvalidHeaderFields is off"], False),
        ("monitor desync mode", alb_stack(desyncMitigationMode="monitor"), None, ["desyncMitigationMode is monitor"], False),
    ],
    "alb-deletion-protection": [
        ("protected", alb_stack(), None, [], False),
        ("unprotected", alb_stack(enableDeletionProtection=False), None, ["Deletion protection is off"], False),
    ],
    "target-group-health-check": [
        ("path and 10 s", [R(TG, "web", {"protocol": "HTTP", "healthCheck": {"path": "/health", "interval": 10.0}})],
         None, [], False),
        ("disabled", [R(TG, "web", {"protocol": "HTTP", "healthCheck": {"enabled": False}})], None, ["disabled"], False),
        ("no path", [R(TG, "web", {"protocol": "HTTP"})], None, ["no health-check path"], False),
        ("slow", [R(TG, "web", {"protocol": "HTTP", "healthCheck": {"path": "/", "interval": 60.0}})], None,
         ["interval 60 s"], False),
    ],
    "ecs-deployment-circuit-breaker": [
        ("rollback", [R(SVC, "web", {"deploymentCircuitBreaker": {"enable": True, "rollback": True}})], None, [], False),
        ("daemon", [R(SVC, "agent", {"schedulingStrategy": "DAEMON"})], None, [], False),
        ("no breaker", [R(SVC, "web", {})], None, ["no deployment circuit breaker"], False),
        ("no rollback", [R(SVC, "web", {"deploymentCircuitBreaker": {"enable": True, "rollback": False}})], None,
         ["no deployment circuit breaker"], False),
    ],
    "no-privileged-containers": [
        ("plain", [task()], None, [], False),
        ("privileged", [task(container(privileged=True))], None, ["is privileged"], False),
        ("host network and pid", [task(networkMode="host", pidMode="host")], None, ["host network", "process namespace"], False),
    ],
    "secrets-not-in-environment": [
        ("secrets from SSM", [task(container(environment=[{"name": "LOG_LEVEL", "value": "info"}],
                                             secrets=[{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:x"}]))],
         None, [], False),
        ("password in the environment (002)", [task(container(environment=[{"name": "DB_PASSWORD", "value": "chefrocks"}]))],
         None, ["passes DB_PASSWORD"], False),
        ("API key", [task(container(environment=[{"name": "STRIPE_API_KEY", "value": "sk_live"}]))], None,
         ["STRIPE_API_KEY"], False),
        ("KEYSPACE is not a key", [task(container(environment=[{"name": "CASSANDRA_KEYSPACE", "value": "app"}]))],
         None, [], False),
    ],
    "stateful-resources-protected": [
        ("protected log group", [R(LOG_GROUP, "logs", {"retentionInDays": 30.0}, protect=True)], None, [], False),
        ("unprotected bucket", [R(BUCKET, "logs", {})], None, ["not protected"], False),
        ("unprotected OpenSearch domain", [R("aws:opensearch/domain:Domain", "search", {})], None,
         ["'search' holds data but is not protected"], False),
    ],
    "s3-buckets-private": [
        ("private, TLS only", bucket_stack(), None, [], False),
        ("no public access block", bucket_stack(block=False), None, ["no public access block"], False),
        ("plain HTTP allowed", bucket_stack(tls_only=False), None, ["does not refuse plain-HTTP"], False),
    ],
}

PARAMS = [
    pytest.param(policy, *case, id=f"{policy}: {case[0]}")
    for policy, cases in CASES.items()
    for case in cases
]


def test_every_policy_has_a_passing_and_a_failing_case():
    assert sorted(CASES) == sorted(p.name for p in POLICIES)
    for policy, cases in CASES.items():
        assert any(not expected and not cannot for _, _, _, expected, cannot in cases), policy
        assert any(expected for _, _, _, expected, _ in cases), policy


def _assert_outcome(outcome, expected, cannot):
    if expected:
        text = "\n".join(outcome.violations)
        for fragment in expected:
            assert fragment in text, (fragment, outcome.violations)
    else:
        assert outcome.violations == []
    assert bool(outcome.cannot_check) == cannot, outcome.cannot_check


@pytest.mark.parametrize("policy, label, resources, config, expected, cannot", PARAMS)
def test_direct_call(policy, label, resources, config, expected, cannot):
    _assert_outcome(run_direct(policy, resources, config), expected, cannot)


@pytest.fixture(scope="module")
def protocol():
    client = Protocol(ROOT / "policies")
    yield client
    client.close()


def test_the_pack_process_announces_the_shared_thresholds_as_its_defaults(protocol):
    """The pack runs alone; the defaults it serves are the numbers the program's config and audits read."""
    schemas = {p.name: json_format.MessageToDict(p.configSchema.properties) for p in protocol.info.policies}
    assert {
        (policy, key): schemas[policy][key]["default"]
        for policy, key in [("min-availability-zones", "minimumZones"), ("min-instances", "minimumInstances"),
                            ("capacity-during-cycling", "minimumInService"), ("daily-cycling", "maximumLifetimeSeconds"),
                            ("ecs-optimized-ami", "allowedImagePrefixes"),
                            ("load-balancer-within-quotas", "maxTargetGroupsPerLoadBalancer"),
                            ("load-balancer-within-quotas", "maxRulesPerLoadBalancer")]
    } == {
        ("min-availability-zones", "minimumZones"): invariants.MIN_AVAILABILITY_ZONES,
        ("min-instances", "minimumInstances"): invariants.MIN_INSTANCES,
        ("capacity-during-cycling", "minimumInService"): invariants.MIN_INSTANCES,
        ("daily-cycling", "maximumLifetimeSeconds"): invariants.DAILY_CYCLE_SECONDS,
        ("ecs-optimized-ami", "allowedImagePrefixes"): [invariants.ECS_AMI_IMAGE_PREFIX],
        ("load-balancer-within-quotas", "maxTargetGroupsPerLoadBalancer"): quotas.ALB_TARGET_GROUPS_PER_LOAD_BALANCER,
        ("load-balancer-within-quotas", "maxRulesPerLoadBalancer"): quotas.ALB_RULES_PER_LOAD_BALANCER,
    }
    # Not adjustable: no configuration may let one load balancer carry more target groups.
    assert schemas["load-balancer-within-quotas"]["maxTargetGroupsPerLoadBalancer"]["maximum"] == 100
    assert schemas["daily-cycling"]["maximumLifetimeSeconds"]["minimum"] == invariants.AWS_LIFETIME_MIN_SECONDS


@pytest.mark.parametrize("policy, label, resources, config, expected, cannot", PARAMS)
def test_through_the_analyzer_protocol(protocol, policy, label, resources, config, expected, cannot):
    outcome = protocol.run(policy, resources, config)
    _assert_outcome(outcome, expected, cannot)
    if cannot:
        assert any("can't run policy" in message for message in outcome.cannot_check)


def test_policies_say_why_and_cite_a_control():
    for policy in POLICIES:
        assert len(policy.description) > 60, policy.name
        assert any(marker in policy.description for marker in ("Security Hub", "Checkov", "design doc", "Well-Architected")), policy.name


def test_config_schema_defaults_are_applied_in_code():
    # The SDK does not fill defaults in (the CLI does): a direct call without config uses them.
    outcome = run_direct("min-instances", [R(ASG, "nodes", {**GOOD_ASG, "minSize": MIN_INSTANCES - 1.0})], None)
    assert outcome.violations == [f"minSize is {MIN_INSTANCES - 1}; at least {MIN_INSTANCES} instances must be in "
                                  "service."]


@pytest.mark.parametrize("config", [None, {}])
def test_the_load_balancer_quotas_apply_without_config(config):
    # AWS: 100 target groups per ALB (not adjustable), 100 rules per ALB by default.
    outcome = run_direct("load-balancer-within-quotas", target_groups(101, "1"), config)
    assert outcome.violations and all("it may carry at most 100 (" in v for v in outcome.violations)
    assert run_direct("load-balancer-within-quotas", target_groups(100, "1"), config).violations == []


def test_the_tenancy_policies_cite_aws_and_the_design():
    policies = {p.name: p for p in POLICIES}
    assert "Quotas for your Application Load Balancers" in policies["load-balancer-within-quotas"].description
    assert "maximumPercent 200" in policies["tenant-reservations-within-quota"].description
