"""``make demo``: the operator commands against a cluster in moto's server, with no AWS account.

It plans STACK offline (no policy gate: the demo is about the live commands),
starts moto's server (AWS's emulator) on 127.0.0.1 at a free port, creates in
it what the plan's outputs name: the VPC's subnets in the stack's zones, the
ECS cluster, the Auto Scaling group with ``minSize`` instances spread over
the zones and registered with the cluster, and the stack's ECS services at
their desired counts. Then it runs ``odyssey status`` and ``odyssey
cycle-audit`` as an operator would, with ``--outputs`` (the file ``pulumi
stack output --json`` would write) and ``AWS_ENDPOINT_URL`` pointing boto3 at
the server, and stops the server. Everything is made through the AWS API as in
a real account, with one exception: moto starts no tasks, so its documented
``MOTO_ECS_SERVICE_RUNNING`` setting gives each service its desired count of
running tasks.

    python -m odyssey.ops.demo [STACK] [--project-dir DIR] [--keep-outputs FILE]

Exit code: 0 when both commands passed, else the first failing command's code.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from odyssey.config.stack import NAMESPACE

LOCALHOST = "127.0.0.1"
# moto ships this Amazon Linux image among its defaults; any AMI it knows launches.
DEMO_AMI = "ami-12c6146b"
DEMO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_SESSION_TOKEN": "demo"}
SUBNET_CIDR = "10.0.{index}.0/24"
VPC_CIDR = "10.0.0.0/16"
# moto reads it in the server (this process) when a service is created: the tasks it reports running.
MOTO_RUNNING = "MOTO_ECS_SERVICE_RUNNING"


@dataclass(frozen=True)
class DemoService:
    name: str           # the ECS service's name, as the plan names it
    family: str         # its task definition's family
    desired: int


@dataclass(frozen=True)
class DemoPlan:
    stack: str
    outputs: dict[str, Any]
    services: list[DemoService]
    instance_type: str


def plan_for_demo(stack: str, project_dir: Path) -> DemoPlan:
    """What the offline plan of ``stack`` names: its outputs and its ECS services."""
    from odyssey.ops.offline.plan import run_plan

    plan = run_plan(project_dir, stack)
    services = []
    for resource in plan.resources:
        if resource["type"] == "aws:ecs/service:Service":
            inputs = resource["inputs"]
            family = inputs["taskDefinition"].rsplit("/", 1)[-1].split(":")[0]
            services.append(DemoService(inputs["name"], family, int(inputs.get("desiredCount", 1))))
    outputs = json.loads(json.dumps(plan.outputs, default=str))
    return DemoPlan(stack, outputs, sorted(services, key=lambda s: s.name), outputs["instanceType"])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        return probe.getsockname()[1]


@contextmanager
def moto_server():
    """moto's server on 127.0.0.1 at a free port, stopped on the way out; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    # One line per request from the server's web framework would bury the commands' output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address=LOCALHOST, port=port, verbose=False)
    server.start()
    endpoint = f"http://{LOCALHOST}:{port}"
    # moto keeps its accounts in this process: start from none, and leave none behind.
    _reset(endpoint)
    try:
        yield endpoint
    finally:
        _reset(endpoint)
        server.stop()


def _reset(endpoint: str) -> None:
    with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30):
        pass


def build_cluster(endpoint: str, demo: DemoPlan) -> dict[str, str]:
    """Create in the server what the plan's outputs name; returns the instances made, with their zones."""
    region = demo.outputs["region"]
    session = boto3.Session(aws_access_key_id="demo", aws_secret_access_key="demo", region_name=region)
    ec2, autoscaling, ecs = (session.client(name, endpoint_url=endpoint) for name in ("ec2", "autoscaling", "ecs"))
    zones = demo.outputs["availabilityZones"]
    group, cluster = demo.outputs["autoScalingGroupName"], demo.outputs["clusterName"]
    nodes = int(demo.outputs.get("minSize") or len(zones))

    vpc = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=SUBNET_CIDR.format(index=index),
                                 AvailabilityZone=zone)["Subnet"]["SubnetId"] for index, zone in enumerate(zones)]
    template = ec2.create_launch_template(
        LaunchTemplateName=f"{cluster}-node",
        LaunchTemplateData={"ImageId": DEMO_AMI, "InstanceType": demo.instance_type},
    )["LaunchTemplate"]["LaunchTemplateId"]
    # The group starts empty and takes the instances launched in each zone: moto would launch a group's own
    # instances in its first subnet only.
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=group, MinSize=0, MaxSize=nodes, DesiredCapacity=0,
        LaunchTemplate={"LaunchTemplateId": template}, VPCZoneIdentifier=",".join(subnets))
    ecs.create_cluster(clusterName=cluster)
    placed = {}
    for index in range(nodes):
        subnet, zone = subnets[index % len(subnets)], zones[index % len(zones)]
        instance = ec2.run_instances(ImageId=DEMO_AMI, InstanceType=demo.instance_type, MinCount=1, MaxCount=1,
                                     SubnetId=subnet)["Instances"][0]["InstanceId"]
        autoscaling.attach_instances(AutoScalingGroupName=group, InstanceIds=[instance])
        ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=json.dumps(
            {"instanceId": instance, "availabilityZone": zone, "region": region}))
        placed[instance] = zone
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=group, MinSize=nodes)
    for service in demo.services:
        task = ecs.register_task_definition(family=service.family, containerDefinitions=[
            {"name": service.name, "image": "public.ecr.aws/nginx/nginx:1.27.2", "memory": 256}],
        )["taskDefinition"]["taskDefinitionArn"]
        os.environ[MOTO_RUNNING] = str(service.desired)
        try:
            ecs.create_service(cluster=cluster, serviceName=service.name, taskDefinition=task,
                               desiredCount=service.desired)
        finally:
            os.environ.pop(MOTO_RUNNING, None)
    return placed


def run_command(args: list[str], endpoint: str) -> int:
    """One `odyssey` command, as an operator runs it, with boto3 pointed at the server."""
    env = {**os.environ, **DEMO_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
    env.pop("AWS_PROFILE", None)
    print(f"\n$ odyssey {' '.join(args)}", flush=True)
    return subprocess.run([sys.executable, "-m", "odyssey", *args], env=env).returncode


def run_demo(stack: str, project_dir: Path, outputs_file: Path | None = None) -> int:
    print(f"Planning {stack} offline for the names its outputs give ...", flush=True)
    demo = plan_for_demo(stack, project_dir)
    with tempfile.TemporaryDirectory(prefix="odyssey-demo-") as scratch:
        outputs_path = outputs_file or Path(scratch) / f"{stack}-outputs.json"
        outputs_path.write_text(json.dumps(demo.outputs, indent=2) + "\n")
        with moto_server() as endpoint:
            placed = build_cluster(endpoint, demo)
            zones = sorted(set(placed.values()))
            print(f"moto's server at {endpoint}: cluster {demo.outputs['clusterName']}, group "
                  f"{demo.outputs['autoScalingGroupName']} with {len(placed)} instances in {', '.join(zones)}, "
                  f"services {', '.join(s.name for s in demo.services) or 'none'}.", flush=True)
            codes = [run_command([command, stack, "--outputs", str(outputs_path)], endpoint)
                     for command in ("status", "cycle-audit")]
        print(f"\nmoto's server stopped. Stack outputs used: {outputs_path if outputs_file else 'a temporary file'}.")
    return next((code for code in codes if code), 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m odyssey.ops.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", nargs="?", default="prod", help="Stack to plan and emulate (default: prod).")
    parser.add_argument("--project-dir", type=Path, default=Path("."), help="Directory holding Pulumi.yaml.")
    parser.add_argument("--keep-outputs", type=Path, help="Also keep the stack outputs the commands read here.")
    args = parser.parse_args(argv)
    if not (args.project_dir / f"Pulumi.{args.stack}.yaml").is_file():
        parser.error(f"{args.project_dir / f'Pulumi.{args.stack}.yaml'} does not exist ({NAMESPACE} stacks here: "
                     f"{', '.join(sorted(p.stem.split('.', 1)[1] for p in args.project_dir.glob('Pulumi.*.yaml')))})")
    return run_demo(args.stack, args.project_dir, args.keep_outputs)


if __name__ == "__main__":
    sys.exit(main())
