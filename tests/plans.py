"""Helpers: plan a stack config offline (the real program under Pulumi's mock runtime) and query the result."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from odyssey.ops.offline.plan import Plan, StackFiles, run_plan

ROOT = Path(__file__).resolve().parents[1]
TAGS = {"department": "platform", "contact": "ops@example.com"}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def plan_config(config: dict[str, Any], stack: str = "test", project: str = "odyssey", **kwargs) -> Plan:
    """Plan ``config`` (full keys such as ``odyssey:cluster``) as stack ``stack`` of this program (as ``project``)."""
    values = {"aws:region": "us-east-1", "odyssey:tags": TAGS, **config}
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    files = StackFiles(project=project, stack=stack, config=flat, secret_keys=[])
    return run_plan(ROOT, stack, files=files, **kwargs)


def of_type(plan: Plan, typ: str) -> list[dict[str, Any]]:
    return [r for r in plan.resources if r["type"] == typ]


def one(plan: Plan, typ: str) -> dict[str, Any]:
    found = of_type(plan, typ)
    assert len(found) == 1, f"expected one {typ}, found {len(found)}"
    return found[0]


def by_urn(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in plan.resources}


def ecs_api_errors(task: dict[str, Any]) -> str | None:
    """What botocore's ECS model finds wrong in a planned task definition (misspelled keys the provider would drop)."""
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape
    request = {"family": task["inputs"]["family"], "containerDefinitions": json.loads(task["inputs"]["containerDefinitions"]),
               "networkMode": "bridge", "requiresCompatibilities": ["EC2"]}
    report = ParamValidator().validate(request, shape)
    return report.generate_report() if report.has_errors() else None


def user_data(plan: Plan) -> str:
    return base64.b64decode(one(plan, "aws:ec2/launchTemplate:LaunchTemplate")["inputs"]["userData"]).decode()


ASG = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
CLUSTER_CAPACITY_PROVIDERS = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
VPC = "awsx:ec2:Vpc"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
BUCKET = "aws:s3/bucket:Bucket"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
PROVIDER = "pulumi:providers:aws"
