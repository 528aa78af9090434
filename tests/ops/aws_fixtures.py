"""A realistic cluster in moto, AWS's emulator: instances in three AZs, some older than a day, services mid-deploy.

moto launches an Auto Scaling group's instances in its first subnet and at the
current time, and starts ECS services without rollouts in progress; the
fixtures set those facts on moto's own backend objects (placement, launch
time, deployment state, events), never on boto3. Every call the code under
test makes goes to moto through botocore.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import boto3
from botocore.awsrequest import AWSResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.ecs.models import ecs_backends

from odyssey.domain.invariants import MIN_INSTANCES

REGION = "us-east-1"
CLUSTER = "odyssey-prod"
GROUP = "odyssey-prod-nodes"
# The operator commands read the wall clock, so the fixtures age instances from it too:
# a fixed date here made the suite fail once that date was a day old.
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def build_cluster(nodes: int = 6, old: int = 0, zones: str = "abc") -> dict:
    """Nodes spread round-robin over ``zones``; the first ``old`` of them launched 30 hours before NOW."""
    ec2 = boto3.client("ec2", region_name=REGION)
    autoscaling = boto3.client("autoscaling", region_name=REGION)
    ecs = boto3.client("ecs", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
               for i, z in enumerate("abc")]
    template = ec2.create_launch_template(LaunchTemplateName="node", LaunchTemplateData={
        "ImageId": "ami-12c6146b", "InstanceType": "m7i.large"})["LaunchTemplate"]["LaunchTemplateId"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=GROUP, MinSize=min(nodes, MIN_INSTANCES), MaxSize=12, DesiredCapacity=nodes,
        LaunchTemplate={"LaunchTemplateId": template}, VPCZoneIdentifier=",".join(subnets))
    ecs.create_cluster(clusterName=CLUSTER)
    instances = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]["Instances"]
    backend = ec2_backends[DEFAULT_ACCOUNT_ID][REGION]
    placed = {}
    for index, member in enumerate(sorted(instances, key=lambda i: i["InstanceId"])):
        instance = backend.get_instance(member["InstanceId"])
        zone = f"{REGION}{zones[index % len(zones)]}"
        instance._placement.zone = zone
        age = timedelta(hours=30 if index < old else 3 + index)
        instance.launch_time = (NOW - age).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=json.dumps(
            {"instanceId": member["InstanceId"], "availabilityZone": zone}))
        placed[member["InstanceId"]] = zone
    return placed


def add_service(name: str, desired: int, running: int, monkeypatch, image: str = "acme/web:1.0.0",
                exec_enabled: bool = False) -> str:
    ecs = boto3.client("ecs", region_name=REGION)
    task = ecs.register_task_definition(family=f"odyssey-prod-{name}", containerDefinitions=[
        {"name": name, "image": image, "memory": 256}])["taskDefinition"]["taskDefinitionArn"]
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", str(running))
    ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=task, desiredCount=desired,
                       enableExecuteCommand=exec_enabled)
    monkeypatch.delenv("MOTO_ECS_SERVICE_RUNNING")
    # moto drops enableExecuteCommand; ECS returns it in DescribeServices.
    service_model(name).enable_execute_command = exec_enabled
    return task


def service_model(name: str):
    return ecs_backends[DEFAULT_ACCOUNT_ID][REGION].services[f"{CLUSTER}:{name}"]


def set_rollout(name: str, state: str, reason: str, running: int | None = None, task_definition: str | None = None,
                events: list[str] = ()) -> None:
    """Move a service's primary deployment, as ECS would between two polls."""
    service = service_model(name)
    deployment = service.deployments[0]
    deployment.update(rolloutState=state, rolloutStateReason=reason)
    if running is not None:
        deployment["runningCount"] = running
        service.running_count = running
        service.pending_count = service.desired_count - running
    if task_definition is not None:
        deployment["taskDefinition"] = task_definition
    service.events = [{"id": str(uuid.uuid4()), "createdAt": NOW, "message": message}
                      for message in events][::-1] + service.events


def start_deployment(name: str, task_definition: str, state: str = "IN_PROGRESS", reason: str = "",
                     running: int = 0) -> str:
    """What UpdateService does: the running deployment becomes ACTIVE, a new PRIMARY one starts."""
    service = service_model(name)
    for deployment in service.deployments:
        deployment["status"] = "ACTIVE"
    deployment_id = f"ecs-svc/{uuid.uuid4().int % 10**12}"
    service.deployments.insert(0, {
        "id": deployment_id, "status": "PRIMARY", "taskDefinition": task_definition, "desiredCount": service.desired_count,
        "runningCount": running, "pendingCount": service.desired_count - running, "failedTasks": 0,
        "rolloutState": state, "rolloutStateReason": reason, "createdAt": NOW, "updatedAt": NOW,
    })
    service.task_definition = task_definition
    return deployment_id


def fail_deployment(name: str, reason: str) -> None:
    """The circuit breaker gives up on the PRIMARY deployment."""
    deployment = service_model(name).deployments[0]
    deployment.update(rolloutState="FAILED", rolloutStateReason=reason)


def register_revision(name: str, image: str) -> str:
    return boto3.client("ecs", region_name=REGION).register_task_definition(
        family=f"odyssey-prod-{name}", containerDefinitions=[{"name": name, "image": image, "memory": 256}]
    )["taskDefinition"]["taskDefinitionArn"]


def throttle(client, operation: str, times: int) -> list[int]:
    """Answer the first ``times`` calls of ``operation`` with HTTP 400 ThrottlingException, at the HTTP boundary.

    moto never throttles; this sits where AWS would answer, so botocore's own
    retry handler sees a real throttling response and retries.
    """
    calls = []

    def before_send(request, **_):
        calls.append(1)
        if len(calls) <= times:
            response = AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"},
                                   _Raw(b'{"__type":"ThrottlingException","message":"Rate exceeded"}'))
            return response
        return None

    client.meta.events.register(f"before-send.{client.meta.service_model.service_name}.{operation}", before_send)
    return calls


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body
