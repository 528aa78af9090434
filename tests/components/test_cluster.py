"""SharedCluster under Pulumi mocks: each promise of the machine layer, read off the registered inputs."""

import json

import pytest

from odyssey.config.base import ConfigError
from odyssey.domain.capacity import max_healthy_percentage
from odyssey.domain.invariants import (
    DAILY_CYCLE_SECONDS,
    ECS_AMI_PARAMETER_ARM64,
    ECS_AMI_PARAMETER_X86_64,
    MIN_INSTANCES,
    RESOLVE_SSM,
)
from odyssey.ops.offline.plan_diff import alias_urn
from tests.plans import (
    ASG,
    CAPACITY_PROVIDER,
    CERT,
    CLUSTER_CAPACITY_PROVIDERS,
    ECS_CLUSTER,
    EGRESS_RULE,
    INGRESS_RULE,
    LAUNCH_TEMPLATE,
    LOG_GROUP,
    SECURITY_GROUP,
    by_urn,
    ecs_api_errors,
    of_type,
    one,
    plan_config,
    user_data,
)

KMS_KEY = "aws:kms/key:Key"


@pytest.fixture(scope="module")
def plan():
    return plan_config({"odyssey:loadBalancer": {"certificateArn": CERT}})


def test_auto_scaling_group_keeps_four_in_service_and_cycles_daily(plan):
    inputs = one(plan, ASG)["inputs"]
    assert inputs["minSize"] == MIN_INSTANCES
    assert inputs["maxSize"] == 12.0
    assert inputs["maxInstanceLifetime"] == DAILY_CYCLE_SECONDS
    assert inputs["instanceMaintenancePolicy"] == {"minHealthyPercentage": 100.0,
                                                   "maxHealthyPercentage": max_healthy_percentage(MIN_INSTANCES)}
    assert inputs["instanceRefresh"]["strategy"] == "Rolling"
    assert inputs["instanceRefresh"]["preferences"]["minHealthyPercentage"] == 100.0
    assert inputs["protectFromScaleIn"] is False
    assert "desiredCapacity" not in inputs


def test_auto_scaling_group_spans_the_private_subnets_of_three_zones(plan):
    group = one(plan, ASG)
    vpc = one(plan, "awsx:ec2:Vpc")
    assert group["propertyDependencies"]["vpcZoneIdentifiers"] == [vpc["urn"]]
    assert len(group["inputs"]["vpcZoneIdentifiers"]) == 3
    assert plan.outputs["privateSubnetIds"] == group["inputs"]["vpcZoneIdentifiers"]
    assert len(vpc["inputs"]["availabilityZoneNames"]) == 3


def test_capacity_provider_owns_the_desired_count(plan):
    assert one(plan, ASG)["ignoreChanges"] == ["desiredCapacity"]


def test_tags_propagate_to_instances(plan):
    tags = {t["key"]: t for t in one(plan, ASG)["inputs"]["tags"]}
    assert all(t["propagateAtLaunch"] for t in tags.values())
    assert tags["Stack"]["value"] == "test"
    assert tags["BillingContact"]["value"] == "ops@example.com"
    assert "AmazonECSManaged" in tags
    assert tags["Name"]["value"] == "odyssey-test-node"


def test_launch_template_boots_the_ecs_optimized_ami_with_imdsv2_and_no_public_ip(plan):
    inputs = one(plan, LAUNCH_TEMPLATE)["inputs"]
    assert inputs["imageId"] == f"{RESOLVE_SSM}{ECS_AMI_PARAMETER_X86_64}"
    assert inputs["instanceType"] == "m7i.large"
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1.0
    assert [n["associatePublicIpAddress"] for n in inputs["networkInterfaces"]] == ["false"]
    assert "keyName" not in inputs
    assert inputs["monitoring"] == {"enabled": True}


def test_launch_template_has_one_encrypted_root_volume_deleted_on_termination(plan):
    devices = one(plan, LAUNCH_TEMPLATE)["inputs"]["blockDeviceMappings"]
    assert len(devices) == 1
    ebs = devices[0]["ebs"]
    assert devices[0]["deviceName"] == "/dev/xvda"
    assert (ebs["volumeType"], ebs["encrypted"], ebs["deleteOnTermination"]) == ("gp3", "true", "true")
    assert ebs["volumeSize"] == 30.0
    assert not of_type(plan, "aws:ec2/volumeAttachment:VolumeAttachment")
    assert not of_type(plan, "aws:ebs/volume:Volume")


def test_group_uses_the_launch_template(plan):
    group, template = one(plan, ASG), one(plan, LAUNCH_TEMPLATE)
    assert group["propertyDependencies"]["launchTemplate"] == [template["urn"]]
    assert group["inputs"]["launchTemplate"]["version"] == "1"  # latestVersion: a new version triggers a refresh


def test_user_data_writes_ecs_config(plan):
    script = user_data(plan)
    assert "ECS_CLUSTER=odyssey-test\n" in script
    assert "ECS_CONTAINER_STOP_TIMEOUT=30s" in script
    assert "ECS_ENABLE_CONTAINER_METADATA=true" in script
    assert "sysctl" not in script


def test_graviton_types_take_the_arm64_parameter():
    plan = plan_config({"odyssey:cluster": {"instanceType": "m7g.large", "sysctls": {"vm.max_map_count": 262144}}})
    assert one(plan, LAUNCH_TEMPLATE)["inputs"]["imageId"] == f"{RESOLVE_SSM}{ECS_AMI_PARAMETER_ARM64}"
    assert "vm.max_map_count = 262144" in user_data(plan)


def test_capacity_provider_drains_and_never_protects_from_scale_in(plan):
    provider = one(plan, CAPACITY_PROVIDER)
    asg_provider = provider["inputs"]["autoScalingGroupProvider"]
    assert asg_provider["managedDraining"] == "ENABLED"
    assert asg_provider["managedTerminationProtection"] == "DISABLED"
    assert asg_provider["managedScaling"]["status"] == "ENABLED"
    assert asg_provider["managedScaling"]["targetCapacity"] == 90.0
    assert provider["propertyDependencies"]["autoScalingGroupProvider"] == [one(plan, ASG)["urn"]]


def test_cluster_defaults_to_the_capacity_provider(plan):
    attachment = one(plan, CLUSTER_CAPACITY_PROVIDERS)
    strategy = attachment["inputs"]["defaultCapacityProviderStrategies"]
    assert len(strategy) == 1 and strategy[0]["weight"] == 1.0
    assert attachment["propertyDependencies"]["capacityProviders"] == [one(plan, CAPACITY_PROVIDER)["urn"]]


def test_cluster_has_container_insights_and_exec_logging(plan):
    inputs = one(plan, ECS_CLUSTER)["inputs"]
    assert {"name": "containerInsights", "value": "enabled"} in inputs["settings"]
    exec_config = inputs["configuration"]["executeCommandConfiguration"]
    assert exec_config["logging"] == "OVERRIDE"
    assert exec_config["logConfiguration"]["cloudWatchLogGroupName"] == "/odyssey/test/ecs-exec"


def test_instance_role_has_exactly_the_two_managed_policies(plan):
    attachments = of_type(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert sorted(a["inputs"]["policyArn"] for a in attachments) == [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    ]
    role = next(r for r in of_type(plan, "aws:iam/role:Role") if r["name"] == "cluster-instance")
    assert "ec2.amazonaws.com" in role["inputs"]["assumeRolePolicy"]
    assert not [p for p in of_type(plan, "aws:iam/rolePolicy:RolePolicy") if p["name"].startswith("cluster")]


def test_instances_accept_only_dynamic_ports_from_the_alb(plan):
    resources = by_urn(plan)
    groups = {r["urn"]: r["name"] for r in of_type(plan, SECURITY_GROUP)}
    instance_rules = [
        rule for rule in of_type(plan, INGRESS_RULE)
        if groups[rule["propertyDependencies"]["securityGroupId"][0]] == "cluster-instances"
    ]
    assert len(instance_rules) == 1
    rule = instance_rules[0]
    assert (rule["inputs"]["fromPort"], rule["inputs"]["toPort"], rule["inputs"]["ipProtocol"]) == (32768.0, 65535.0, "tcp")
    assert "cidrIpv4" not in rule["inputs"]
    source = resources[rule["propertyDependencies"]["referencedSecurityGroupId"][0]]
    assert source["name"] == "ingress-sg"


def test_nothing_is_open_to_the_world_but_the_alb_on_80_and_443(plan):
    groups = {r["urn"]: r["name"] for r in of_type(plan, SECURITY_GROUP)}
    open_rules = [r for r in of_type(plan, INGRESS_RULE) if r["inputs"].get("cidrIpv4") == "0.0.0.0/0"]
    assert sorted((groups[r["propertyDependencies"]["securityGroupId"][0]], r["inputs"]["fromPort"]) for r in open_rules) == [
        ("ingress-sg", 80.0), ("ingress-sg", 443.0),
    ]
    assert not any(r["inputs"].get("fromPort") in (22.0, 3389.0) for r in of_type(plan, INGRESS_RULE))
    for group in of_type(plan, SECURITY_GROUP):
        assert "ingress" not in group["inputs"]


def test_alb_may_reach_the_dynamic_ports_of_the_instances(plan):
    groups = {r["urn"]: r["name"] for r in of_type(plan, SECURITY_GROUP)}
    rule = next(r for r in of_type(plan, EGRESS_RULE) if r["name"] == "cluster-alb-to-instances")
    assert groups[rule["propertyDependencies"]["securityGroupId"][0]] == "ingress-sg"
    assert groups[rule["propertyDependencies"]["referencedSecurityGroupId"][0]] == "cluster-instances"


def test_log_groups_have_their_retention_the_logs_key_and_protection(plan):
    groups = {g["inputs"]["name"]: g for g in of_type(plan, LOG_GROUP)}
    # Operational logs keep logRetentionDays (default 30); security logs securityLogRetentionDays (default 365).
    assert {name: group["inputs"]["retentionInDays"] for name, group in groups.items()} == {
        "/odyssey/test/hosts": 30.0, "/odyssey/test/ecs-exec": 365.0, "/odyssey/test/vpc-flow-logs": 365.0,
        "aws-waf-logs-odyssey-test": 365.0}
    (logs_key,) = [k for k in of_type(plan, KMS_KEY) if k["name"] == "logs-key"]
    for group in groups.values():
        assert group["propertyDependencies"]["kmsKeyId"] == [logs_key["urn"]]
        assert group["protect"] is True and group["retainOnDelete"] is True


def test_the_keys_are_rotated_and_as_protected_as_the_logs(plan):
    keys = {k["name"]: k for k in of_type(plan, KMS_KEY) if k["name"] in ("logs-key", "cluster-exec-key")}
    assert len(keys) == 2
    for key in keys.values():
        assert key["inputs"]["enableKeyRotation"] is True
        assert key["protect"] is True and key["retainOnDelete"] is True
    statements = json.loads(keys["logs-key"]["inputs"]["policy"])["Statement"]
    assert statements[1]["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    aliases = sorted(a["inputs"]["name"] for a in of_type(plan, "aws:kms/alias:Alias"))
    assert aliases == ["alias/odyssey-test-ecs-exec", "alias/odyssey-test-logs"]


def test_exec_sessions_are_encrypted_with_the_exec_key_and_logged_encrypted(plan):
    cluster = one(plan, ECS_CLUSTER)
    exec_config = cluster["inputs"]["configuration"]["executeCommandConfiguration"]
    assert exec_config["logging"] == "OVERRIDE"
    assert exec_config["logConfiguration"] == {"cloudWatchLogGroupName": "/odyssey/test/ecs-exec",
                                               "cloudWatchEncryptionEnabled": True}
    (exec_key,) = [k for k in of_type(plan, KMS_KEY) if k["name"] == "cluster-exec-key"]
    assert exec_key["urn"] in cluster["propertyDependencies"]["configuration"]
    assert plan.outputs["execKeyArn"] == exec_config["kmsKeyId"]


def test_unprotected_stacks_can_be_torn_down():
    plan = plan_config({"odyssey:protectStatefulResources": False, "odyssey:logRetentionDays": 7,
                        "odyssey:securityLogRetentionDays": 14})
    for group in of_type(plan, LOG_GROUP):
        assert group["protect"] is False and group["inputs"]["retentionInDays"] in (7.0, 14.0)
    assert all(key["protect"] is False for key in of_type(plan, KMS_KEY))


def test_host_daemons_run_one_logged_container_per_instance():
    plan = plan_config({"odyssey:cluster": {"daemons": {"log-router": {
        "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4", "memory": 128, "cpu": 64,
        "environment": {"LOG_LEVEL": "info"}}}}})
    service = one(plan, "aws:ecs/service:Service")["inputs"]
    assert (service["schedulingStrategy"], service["launchType"]) == ("DAEMON", "EC2")
    task = one(plan, "aws:ecs/taskDefinition:TaskDefinition")
    assert ecs_api_errors(task) is None
    assert task["inputs"]["networkMode"] == "bridge"
    (container,) = json.loads(task["inputs"]["containerDefinitions"])
    assert container["image"].endswith(":2.32.4")
    assert container["privileged"] is False
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/odyssey/test/hosts"
    assert container["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]


def test_the_node_group_takes_over_the_clusters_former_children_through_aliases(plan):
    cluster = one(plan, "odyssey:cluster:SharedCluster")
    nodes = one(plan, "odyssey:cluster:NodeGroup")
    assert nodes["parent"] == cluster["urn"]
    moved = [r for r in plan.resources if r["parent"] == nodes["urn"]]
    assert sorted(r["type"] for r in moved) == [
        ASG, LAUNCH_TEMPLATE, CAPACITY_PROVIDER, "aws:iam/instanceProfile:InstanceProfile", "aws:iam/role:Role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]
    for resource in moved:
        (alias,) = resource["aliases"]
        # The URN each had as the cluster's own child, before the node group existed.
        assert alias_urn(alias, resource, plan.stack, plan.project) == (
            f"urn:pulumi:test::odyssey::odyssey:cluster:SharedCluster${resource['type']}::{resource['name']}")


def test_bad_config_registers_nothing():
    monitors = []
    with pytest.raises(ConfigError) as error:
        plan_config({"odyssey:cluster": {"minSize": 6, "maxSize": 2}}, on_monitor=monitors.append)
    assert [p.key for p in error.value.problems] == ["odyssey:cluster.maxSize"]
    assert monitors[0].records == []
