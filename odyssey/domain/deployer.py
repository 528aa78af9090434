"""What the deployer must be allowed: the IAM actions each resource type of a plan needs, and a check of a policy.

``iam/deployer-policy-*.json`` are the managed policies a deployer (a person,
or CI's OIDC role) needs to run ``pulumi up`` and ``pulumi destroy`` of any
Odyssey stack. Each Pulumi type token the program can register maps here to
the IAM actions the AWS provider calls for it: create, update, delete and tag,
plus what the engine reads back (``Describe*``, ``List*``, ``Get*`` of its
service). ``uncovered`` checks a policy against a plan's types, so a new
resource type without a mapping, or a mapping the policy does not grant,
fails a test instead of a deploy halfway. Extending: add the type's token and
its actions to ``RESOURCE_ACTIONS`` (and its service's reads to ``READS`` when
it is a new service), then grant them in a policy document.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# "IAM and AWS STS quotas" (IAM User Guide): a customer managed policy holds at most 6,144 characters, white
# space not counted; a role has at most 10 managed policies attached by default (adjustable to 20).
MANAGED_POLICY_MAX_CHARS = 6_144
MANAGED_POLICIES_PER_ROLE = 10
POLICY_VERSION = "2012-10-17"

# What the engine reads back of each service it manages. S3 and Logs are held to metadata: their Get* would
# include reading objects and log events.
READS: dict[str, tuple[str, ...]] = {
    "application-autoscaling": ("application-autoscaling:Describe*", "application-autoscaling:ListTagsForResource"),
    "autoscaling": ("autoscaling:Describe*",),
    "cloudwatch": ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
    "ec2": ("ec2:Describe*", "ec2:GetSecurityGroupsForVpc"),
    "ecs": ("ecs:Describe*", "ecs:List*"),
    "elasticloadbalancing": ("elasticloadbalancing:Describe*",),
    "es": ("es:Describe*", "es:List*", "es:GetCompatibleVersions", "es:GetUpgradeStatus"),
    "events": ("events:Describe*", "events:List*"),
    "firehose": ("firehose:DescribeDeliveryStream", "firehose:ListTagsForDeliveryStream"),
    "iam": ("iam:Get*", "iam:List*"),
    "kms": ("kms:Describe*", "kms:List*", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"),
    "logs": ("logs:Describe*", "logs:ListTagsForResource", "logs:ListTagsLogGroup"),
    "route53": ("route53:GetHostedZone", "route53:ListHostedZonesByName", "route53:GetChange"),
    "s3": ("s3:GetBucket*", "s3:GetAccelerateConfiguration", "s3:GetLifecycleConfiguration",
           "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration", "s3:ListBucket"),
    "scheduler": ("scheduler:GetSchedule", "scheduler:ListTagsForResource"),
    "servicediscovery": ("servicediscovery:Get*", "servicediscovery:List*"),
    "sns": ("sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:ListTagsForResource"),
    "sqs": ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"),
    "ssm": ("ssm:GetParameters",),
    "sts": ("sts:GetCallerIdentity",),
    "wafv2": ("wafv2:Get*", "wafv2:List*"),
}

_EC2_TAGS = ("ec2:CreateTags", "ec2:DeleteTags")
_ELB_TAGS = ("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags")
_SG_RULES = ("ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
             "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules",
             "ec2:UpdateSecurityGroupRuleDescriptionsIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress")
# Roles are handed to a service (ECS tasks, EC2 instances, flow logs, schedules, delivery streams) with PassRole.
_PASS_ROLE = ("iam:PassRole",)
# AWS creates a service's linked role on first use, as the caller (ECS, Auto Scaling, ELB, ...).
_LINKED_ROLE = ("iam:CreateServiceLinkedRole",)
_TARGET_TRACKING_ALARMS = ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms")


def _tags(service: str) -> tuple[str, str]:
    return (f"{service}:TagResource", f"{service}:UntagResource")


# Pulumi type token -> the actions the AWS provider calls to create, update, tag and delete one.
RESOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    # The network (awsx's Vpc registers these in a real preview; offline it is one component).
    "aws:ec2/vpc:Vpc": ("ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", *_EC2_TAGS),
    "aws:ec2/subnet:Subnet": ("ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute", *_EC2_TAGS),
    "aws:ec2/routeTable:RouteTable": ("ec2:CreateRouteTable", "ec2:DeleteRouteTable", *_EC2_TAGS),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:ReplaceRouteTableAssociation"),
    "aws:ec2/route:Route": ("ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute"),
    "aws:ec2/internetGateway:InternetGateway": (
        "ec2:CreateInternetGateway", "ec2:DeleteInternetGateway", "ec2:AttachInternetGateway",
        "ec2:DetachInternetGateway", *_EC2_TAGS),
    "aws:ec2/natGateway:NatGateway": ("ec2:CreateNatGateway", "ec2:DeleteNatGateway", *_EC2_TAGS),
    "aws:ec2/eip:Eip": ("ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:DisassociateAddress", *_EC2_TAGS),
    "aws:ec2/flowLog:FlowLog": ("ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", *_EC2_TAGS, *_PASS_ROLE),
    "aws:ec2/securityGroup:SecurityGroup": (
        "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", *_SG_RULES, *_EC2_TAGS),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (*_SG_RULES, *_EC2_TAGS),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (*_SG_RULES, *_EC2_TAGS),
    # The nodes. A launch template resolves its image from a public SSM parameter at launch, as its creator.
    "aws:ec2/launchTemplate:LaunchTemplate": (
        "ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate",
        "ec2:DeleteLaunchTemplate", "ec2:DeleteLaunchTemplateVersions", *_EC2_TAGS, "ssm:GetParameters",
        *_PASS_ROLE),
    # A group with a launch template launches as its creator: RunInstances and PassRole of the profile's role.
    "aws:autoscaling/group:Group": (
        "autoscaling:CreateAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:DeleteAutoScalingGroup", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags",
        "autoscaling:SetInstanceProtection", "autoscaling:StartInstanceRefresh",
        "autoscaling:CancelInstanceRefresh", "ec2:RunInstances", *_EC2_TAGS, *_PASS_ROLE, *_LINKED_ROLE),
    "aws:iam/role:Role": (
        "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
        "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy"),
    "aws:iam/rolePolicy:RolePolicy": ("iam:PutRolePolicy", "iam:DeleteRolePolicy"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("iam:AttachRolePolicy", "iam:DetachRolePolicy"),
    "aws:iam/instanceProfile:InstanceProfile": (
        "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile", *_PASS_ROLE),
    # ECS.
    "aws:ecs/cluster:Cluster": (
        "ecs:CreateCluster", "ecs:DeleteCluster", "ecs:UpdateCluster", "ecs:UpdateClusterSettings",
        *_tags("ecs"), *_LINKED_ROLE),
    "aws:ecs/capacityProvider:CapacityProvider": (
        "ecs:CreateCapacityProvider", "ecs:UpdateCapacityProvider", "ecs:DeleteCapacityProvider", *_tags("ecs"),
        # ECS tags the group it manages (AmazonECSManaged) as the caller.
        "autoscaling:CreateOrUpdateTags"),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": ("ecs:PutClusterCapacityProviders",),
    "aws:ecs/taskDefinition:TaskDefinition": (
        "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions",
        *_tags("ecs"), *_PASS_ROLE),
    "aws:ecs/service:Service": ("ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", *_tags("ecs")),
    "aws:appautoscaling/target:Target": (
        "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
        *_tags("application-autoscaling"), "ecs:DescribeServices", "ecs:UpdateService", *_LINKED_ROLE),
    "aws:appautoscaling/policy:Policy": (
        "application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
        *_TARGET_TRACKING_ALARMS),
    # The load balancer.
    "aws:lb/loadBalancer:LoadBalancer": (
        "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:SetSubnets", "elasticloadbalancing:SetIpAddressType", *_ELB_TAGS, *_LINKED_ROLE),
    "aws:lb/targetGroup:TargetGroup": (
        "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", *_ELB_TAGS),
    "aws:lb/listener:Listener": (
        "elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes", *_ELB_TAGS),
    "aws:lb/listenerRule:ListenerRule": (
        "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:SetRulePriorities", *_ELB_TAGS),
    # The access-log bucket. S3 authorizes the delete calls of these settings with their Put action.
    "aws:s3/bucket:Bucket": ("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:PutBucketOwnershipControls",),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:PutBucketPublicAccessBlock",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration",),
    # Logs, alarms, events, schedules.
    "aws:cloudwatch/logGroup:LogGroup": (
        "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
        "logs:AssociateKmsKey", "logs:DisassociateKmsKey", *_tags("logs")),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": ("logs:PutResourcePolicy", "logs:DeleteResourcePolicy"),
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": (
        "logs:PutSubscriptionFilter", "logs:DeleteSubscriptionFilter", *_PASS_ROLE),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", *_tags("cloudwatch")),
    "aws:cloudwatch/eventRule:EventRule": (
        "events:PutRule", "events:DeleteRule", "events:EnableRule", "events:DisableRule", *_tags("events")),
    "aws:cloudwatch/eventTarget:EventTarget": ("events:PutTargets", "events:RemoveTargets"),
    "aws:scheduler/schedule:Schedule": (
        "scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", *_PASS_ROLE),
    # Discovery: Cloud Map makes a private hosted zone for each namespace as the caller.
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": (
        "servicediscovery:CreatePrivateDnsNamespace", "servicediscovery:UpdatePrivateDnsNamespace",
        "servicediscovery:DeleteNamespace", *_tags("servicediscovery"), "route53:CreateHostedZone",
        "route53:DeleteHostedZone", "route53:AssociateVPCWithHostedZone", "ec2:DescribeVpcAttribute"),
    # Alias records for the tenants' hosts, in the zone the config names.
    "aws:route53/record:Record": ("route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"),
    "aws:servicediscovery/service:Service": (
        "servicediscovery:CreateService", "servicediscovery:UpdateService", "servicediscovery:DeleteService",
        *_tags("servicediscovery")),
    # Notifications.
    "aws:sns/topic:Topic": ("sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", *_tags("sns")),
    "aws:sns/topicPolicy:TopicPolicy": ("sns:SetTopicAttributes",),
    "aws:sns/topicSubscription:TopicSubscription": ("sns:Subscribe", "sns:Unsubscribe",
                                                    "sns:SetSubscriptionAttributes"),
    "aws:sqs/queue:Queue": ("sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue",
                            "sqs:UntagQueue"),
    "aws:kms/key:Key": (
        "kms:CreateKey", "kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
        "kms:UpdateKeyDescription", "kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion", *_tags("kms")),
    "aws:kms/alias:Alias": ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"),
    # The edge and the log pipeline (WAF, OpenSearch, Firehose).
    "aws:wafv2/webAcl:WebAcl": ("wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", *_tags("wafv2")),
    "aws:wafv2/ipSet:IpSet": ("wafv2:CreateIPSet", "wafv2:UpdateIPSet", "wafv2:DeleteIPSet", *_tags("wafv2")),
    "aws:wafv2/ruleGroup:RuleGroup": (
        "wafv2:CreateRuleGroup", "wafv2:UpdateRuleGroup", "wafv2:DeleteRuleGroup", *_tags("wafv2")),
    # Associating an ACL with an ALB is also the load balancer's action.
    "aws:wafv2/webAclAssociation:WebAclAssociation": (
        "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "elasticloadbalancing:SetWebACL"),
    # WAF delivers to CloudWatch Logs through a log delivery and a resource policy it writes as the caller.
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": (
        "wafv2:PutLoggingConfiguration", "wafv2:DeleteLoggingConfiguration", "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery", "logs:PutResourcePolicy", *_LINKED_ROLE),
    # A VPC domain needs OpenSearch's linked role; encryption under a customer key makes the service a grant of
    # it as the caller; a new engineVersion is an upgrade.
    "aws:opensearch/domain:Domain": (
        "es:CreateDomain", "es:DeleteDomain", "es:UpdateDomainConfig", "es:UpgradeDomain", "es:AddTags",
        "es:RemoveTags", "kms:CreateGrant", *_LINKED_ROLE),
    "aws:opensearch/domainPolicy:DomainPolicy": ("es:UpdateDomainConfig",),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (
        "firehose:CreateDeliveryStream", "firehose:DeleteDeliveryStream", "firehose:UpdateDestination",
        "firehose:TagDeliveryStream", "firehose:UntagDeliveryStream", "firehose:StartDeliveryStreamEncryption",
        "firehose:StopDeliveryStreamEncryption", *_PASS_ROLE),
    # The provider itself checks the credentials it is given.
    "pulumi:providers:aws": ("sts:GetCallerIdentity",),
}

# Components whose children register as their own resources in a real preview, though offline (awsx is a
# remote component under mocks) the component is all that registers.
COMPONENT_CHILDREN: dict[str, tuple[str, ...]] = {
    "awsx:ec2:Vpc": ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable",
                     "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/route:Route",
                     "aws:ec2/internetGateway:InternetGateway", "aws:ec2/natGateway:NatGateway",
                     "aws:ec2/eip:Eip"),
}

# Lookups (invokes) the program makes, by token.
INVOKE_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": ("ec2:DescribeAvailabilityZones",),
    "aws:ec2/getSubnet:getSubnet": ("ec2:DescribeSubnets",),
    "aws:index/getCallerIdentity:getCallerIdentity": ("sts:GetCallerIdentity",),
    "aws:index/getPartition:getPartition": (),
    "aws:index/getRegion:getRegion": (),
}

# Registered but no AWS call: the engine's own (a StackReference reads the backend) and local components.
ENGINE_ONLY_PREFIXES = ("pulumi:pulumi:", "odyssey:")


class UnmappedTypeError(ValueError):
    """A resource type with no entry here: add its actions to RESOURCE_ACTIONS."""


def service_of(action: str) -> str:
    return action.split(":", 1)[0]


def required_actions(types: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each AWS type's actions (its own, and its services' reads), by type; components expand to their children.

    Raises UnmappedTypeError naming every type with no mapping.
    """
    required: dict[str, tuple[str, ...]] = {}
    unmapped = []
    pending = list(types)
    while pending:
        token = pending.pop()
        if token in required or token.startswith(ENGINE_ONLY_PREFIXES):
            continue
        if token in COMPONENT_CHILDREN:
            pending.extend(COMPONENT_CHILDREN[token])
            continue
        actions = RESOURCE_ACTIONS.get(token)
        if actions is None:
            unmapped.append(token)
            continue
        reads = [read for service in sorted({service_of(a) for a in actions}) for read in READS.get(service, ())]
        required[token] = tuple(dict.fromkeys([*actions, *reads]))
    if unmapped:
        raise UnmappedTypeError(
            f"no deployer actions for {', '.join(sorted(set(unmapped)))}: add them to "
            "odyssey.domain.deployer.RESOURCE_ACTIONS and grant them in iam/deployer-policy-*.json")
    return dict(sorted(required.items()))


@dataclass(frozen=True)
class Grant:
    """One Allow statement's actions (IAM wildcards: ``*`` and ``?``, case-insensitive) and its Sid."""

    sid: str
    actions: tuple[str, ...]

    def covers(self, action: str) -> bool:
        # IAM matches action names case-insensitively; a required wildcard is covered by a pattern matching it.
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def grants(documents: Iterable[Mapping]) -> list[Grant]:
    """The Allow statements of policy documents. Deny, NotAction and NotResource statements grant nothing here."""
    found = []
    for document in documents:
        for statement in _as_list(document.get("Statement", [])):
            if statement.get("Effect") != "Allow" or "Action" not in statement or "NotResource" in statement:
                continue
            found.append(Grant(statement.get("Sid", ""), tuple(_as_list(statement["Action"]))))
    return found


def uncovered(types: Iterable[str], documents: Iterable[Mapping]) -> dict[str, list[str]]:
    """The actions each of ``types`` needs that no Allow statement of ``documents`` grants, by type."""
    allowed = grants(documents)
    missing: dict[str, list[str]] = {}
    for token, actions in required_actions(types).items():
        lacking = [a for a in actions if not any(grant.covers(a) for grant in allowed)]
        if lacking:
            missing[token] = lacking
    return missing


def policy_size(document: Mapping) -> int:
    """The characters IAM counts against the managed-policy quota: the JSON without white space."""
    return len(json.dumps(document, separators=(",", ":")))


def document_problems(name: str, document: Mapping) -> list[str]:
    """What IAM would refuse in one managed policy document: its version, its statements' shape, its size."""
    problems = []
    if document.get("Version") != POLICY_VERSION:
        problems.append(f"{name}: Version must be {POLICY_VERSION}")
    sids = []
    for index, statement in enumerate(_as_list(document.get("Statement", []))):
        where = f"{name} statement {index}"
        if statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f"{where}: Effect must be Allow or Deny")
        if ("Action" in statement) == ("NotAction" in statement):
            problems.append(f"{where}: needs exactly one of Action and NotAction")
        if ("Resource" in statement) == ("NotResource" in statement):
            problems.append(f"{where}: needs exactly one of Resource and NotResource")
        if "Principal" in statement:
            problems.append(f"{where}: an identity policy has no Principal")
        for action in _as_list(statement.get("Action", [])):
            if action != "*" and (":" not in action or not service_of(action)):
                problems.append(f"{where}: {action!r} is not service:Action")
        sid = statement.get("Sid")
        if sid is not None:
            if not sid.isalnum():
                problems.append(f"{where}: Sid {sid!r} must be letters and digits only")
            sids.append(sid)
    if len(sids) != len(set(sids)):
        problems.append(f"{name}: Sids must be unique")
    size = policy_size(document)
    if size > MANAGED_POLICY_MAX_CHARS:
        problems.append(f"{name}: {size} characters without white space; IAM allows {MANAGED_POLICY_MAX_CHARS} "
                        "in a managed policy: split it")
    return problems
