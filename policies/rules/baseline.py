"""The AWS security and reliability baseline for these resource types.

Advisory by default; ``policies/prod.json`` makes it mandatory for prod. Each
policy cites the Security Hub FSBP control (and Checkov check) it maps to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .secrets import SECRET_NAME_PATTERN, looks_like_secret
from .tls import MODERN_TLS_POLICIES
from .view import (
    BUCKET,
    BUCKET_V2,
    EBS_VOLUME,
    ECS_SERVICE,
    LAUNCH_CONFIGURATION,
    LAUNCH_TEMPLATE,
    LISTENERS,
    LOAD_BALANCERS,
    LOG_GROUP,
    SECURITY_GROUP,
    SG_INGRESS_RULE,
    SG_RULE,
    TARGET_GROUPS,
    TASK_DEFINITION,
    Stack,
    Unresolved,
    config_with_defaults,
    container_definitions,
    deps,
    dig,
    truthy,
)

WORLD = ("0.0.0.0/0", "::/0")

# ------------------------------------------------------------ instance metadata, public IPs, encryption

IMDS_SCHEMA = PolicyConfigSchema(
    properties={"maximumHopLimit": {"type": "integer", "minimum": 1, "maximum": 64, "default": 1,
                                    "description": "Highest IMDS hop limit; 1 keeps bridge-mode containers out."}},
)


def _validate_imds(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION):
        return
    limit = config_with_defaults(IMDS_SCHEMA, args.get_config())["maximumHopLimit"]
    options = args.props.get("metadataOptions") or {}
    if options.get("httpTokens") != "required":
        report("IMDSv2 is not required: set metadataOptions.httpTokens to 'required'.")
    hops = options.get("httpPutResponseHopLimit")
    if hops is None or int(hops) > limit:
        report(f"metadataOptions.httpPutResponseHopLimit is {hops if hops is not None else 'unset (the AMI default)'}; "
               f"at most {limit}, so containers on the docker bridge cannot reach the instance role.")


imdsv2_required = ResourceValidationPolicy(
    name="imdsv2-required",
    description="Nodes require IMDSv2 with a hop limit of 1, so containers cannot take the instance role's "
                "credentials (Security Hub EC2.170, AutoScaling.3; Checkov CKV_AWS_79, CKV_AWS_341).",
    config_schema=IMDS_SCHEMA,
    validate=_validate_imds,
)


def _validate_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == LAUNCH_TEMPLATE:
        for interface in props.get("networkInterfaces") or []:
            if truthy(interface.get("associatePublicIpAddress")):
                report("A network interface of the launch template gets a public IP; nodes live in private subnets.")
    elif args.resource_type == LAUNCH_CONFIGURATION and truthy(props.get("associatePublicIpAddress")):
        report("The launch configuration gives nodes public IPs; nodes live in private subnets.")


no_public_ip_on_nodes = ResourceValidationPolicy(
    name="no-public-ip-on-nodes",
    description="Cluster nodes get no public IP address; they reach AWS through NAT and are reached through the ALB "
                "and SSM (Security Hub EC2.25, AutoScaling.5; Checkov CKV_AWS_88).",
    validate=_validate_public_ip,
)


def _validate_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == LAUNCH_TEMPLATE:
        for mapping in props.get("blockDeviceMappings") or []:
            ebs = mapping.get("ebs")
            if ebs is not None and not truthy(ebs.get("encrypted")):
                report(f"Volume {mapping.get('deviceName')} of the launch template is not encrypted.")
    elif args.resource_type == LAUNCH_CONFIGURATION:
        root = props.get("rootBlockDevice") or {}
        if root and not truthy(root.get("encrypted")):
            report("The launch configuration's root volume is not encrypted.")
    elif args.resource_type == EBS_VOLUME and not truthy(props.get("encrypted")):
        report("The EBS volume is not encrypted.")


ebs_encrypted = ResourceValidationPolicy(
    name="ebs-encrypted",
    description="EBS volumes are encrypted at rest (Security Hub EC2.3; Checkov CKV_AWS_8).",
    validate=_validate_encryption,
)

# ------------------------------------------------------------ security group ingress


@dataclass(frozen=True)
class Ingress:
    """One ingress permission, wherever it was declared."""

    resource: Any
    group: Any  # the SecurityGroup resource it belongs to, when known
    protocol: str
    from_port: int
    to_port: int
    cidrs: tuple[str, ...]

    def covers(self, port: int) -> bool:
        if self.protocol in ("-1", "all"):
            return True
        return self.protocol in ("tcp", "6") and self.from_port <= port <= self.to_port


def _ingress_of(resource) -> Iterator[Ingress]:
    kind, props = resource.resource_type, resource.props
    if kind == SECURITY_GROUP:
        for rule in props.get("ingress") or []:
            yield Ingress(resource, resource, str(rule.get("protocol", "")).lower(), int(rule.get("fromPort") or 0),
                          int(rule.get("toPort") or 0),
                          tuple(rule.get("cidrBlocks") or []) + tuple(rule.get("ipv6CidrBlocks") or []))
    elif kind == SG_RULE and props.get("type") == "ingress":
        groups = deps(resource, "securityGroupId")
        yield Ingress(resource, groups[0] if groups else None, str(props.get("protocol", "")).lower(),
                      int(props.get("fromPort") or 0), int(props.get("toPort") or 0),
                      tuple(props.get("cidrBlocks") or []) + tuple(props.get("ipv6CidrBlocks") or []))
    elif kind == SG_INGRESS_RULE:
        groups = deps(resource, "securityGroupId")
        cidrs = tuple(c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if c)
        yield Ingress(resource, groups[0] if groups else None, str(props.get("ipProtocol", "")).lower(),
                      int(props.get("fromPort") or 0), int(props.get("toPort") or 0), cidrs)


def _ingress_rules(stack: Stack, unresolved: Unresolved) -> list[Ingress]:
    """Every ingress permission in the stack: inline, SecurityGroupRule or SecurityGroupIngressRule."""
    rules: list[Ingress] = []
    for resource in stack.resources:
        unresolved.check(resource, lambda r=resource: rules.extend(_ingress_of(r)))
    return rules


def _load_balancer_groups(stack: Stack) -> set[str]:
    return {group.urn for lb in stack.of_type(*LOAD_BALANCERS) for group in deps(lb, "securityGroups")}


WORLD_INGRESS_SCHEMA = PolicyConfigSchema(
    properties={"allowedPorts": {"type": "array", "items": {"type": "integer"}, "default": [80, 443],
                                 "description": "Ports a load balancer's security group may open to the internet."}},
)


def _validate_world_ingress(args: StackValidationArgs, report: ReportViolation) -> None:
    allowed = set(config_with_defaults(WORLD_INGRESS_SCHEMA, args.get_config())["allowedPorts"])
    stack, unresolved = Stack(args), Unresolved()
    lb_groups = _load_balancer_groups(stack)
    for rule in _ingress_rules(stack, unresolved):
        if not any(c in WORLD for c in rule.cidrs):
            continue
        ports = set(range(rule.from_port, rule.to_port + 1)) if rule.protocol not in ("-1", "all") else None
        on_alb = rule.group is not None and rule.group.urn in lb_groups
        if ports is None or not ports <= allowed or not on_alb:
            where = f"'{rule.group.name}'" if rule.group is not None else f"'{rule.resource.name}'"
            opened = "all ports" if ports is None else f"ports {rule.from_port}-{rule.to_port}"
            reason = "" if on_alb else " (only a load balancer's group may be open to the internet)"
            report(f"Security group {where} opens {opened} to {', '.join(c for c in rule.cidrs if c in WORLD)}"
                   f"{reason}.", rule.resource.urn)
    unresolved.raise_if_any()


no_world_ingress = StackValidationPolicy(
    name="no-world-ingress",
    description="Nothing accepts traffic from 0.0.0.0/0 or ::/0 except a load balancer on 80 and 443; nodes take "
                "traffic only from the load balancer (Security Hub EC2.18, EC2.19; Checkov CKV_AWS_260).",
    config_schema=WORLD_INGRESS_SCHEMA,
    validate=_validate_world_ingress,
)


def _validate_admin_ports(args: StackValidationArgs, report: ReportViolation) -> None:
    stack, unresolved = Stack(args), Unresolved()
    for rule in _ingress_rules(stack, unresolved):
        if not rule.cidrs:
            continue
        for port, name in ((22, "SSH"), (3389, "RDP")):
            if rule.covers(port):
                report(f"'{rule.resource.name}' opens {name} (port {port}) to {', '.join(rule.cidrs)}; use SSM "
                       "Session Manager instead.", rule.resource.urn)
    unresolved.raise_if_any()


no_ssh_rdp_ingress = StackValidationPolicy(
    name="no-ssh-rdp-ingress",
    description="No security group opens SSH (22) or RDP (3389) to any address range: nodes are reached through SSM "
                "Session Manager, not a jump host (Security Hub EC2.13, EC2.14, EC2.53; Checkov CKV_AWS_24, CKV_AWS_25).",
    validate=_validate_admin_ports,
)

# ------------------------------------------------------------ load balancers


def _validate_redirect(args: StackValidationArgs, report: ReportViolation) -> None:
    stack, unresolved = Stack(args), Unresolved()
    listeners = stack.of_type(*LISTENERS)
    https_lbs: set[str] = set()
    for listener in listeners:
        def collect(listener=listener):
            if listener.props.get("protocol") == "HTTPS":
                https_lbs.update(d.urn for d in deps(listener, "loadBalancerArn"))
        unresolved.check(listener, collect)
    for listener in listeners:
        def check(listener=listener):
            if listener.props.get("protocol") != "HTTP":
                return
            if not {d.urn for d in deps(listener, "loadBalancerArn")} & https_lbs:
                return
            actions = listener.props.get("defaultActions") or []
            first = actions[0] if actions else {}
            if first.get("type") != "redirect" or dig(first, "redirect", "protocol") != "HTTPS":
                report(f"HTTP listener '{listener.name}' does not redirect to HTTPS although its load balancer has an "
                       "HTTPS listener.", listener.urn)
        unresolved.check(listener, check)
    unresolved.raise_if_any()


http_redirects_to_https = StackValidationPolicy(
    name="http-redirects-to-https",
    description="Where a load balancer has an HTTPS listener, its HTTP listener only redirects to HTTPS "
                "(Security Hub ELB.1; Checkov CKV2_AWS_20).",
    validate=_validate_redirect,
)

TLS_SCHEMA = PolicyConfigSchema(
    properties={"allowedPolicies": {"type": "array", "items": {"type": "string"}, "default": MODERN_TLS_POLICIES,
                                    "description": "ELB security policies HTTPS listeners may use."}},
)


def _validate_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in LISTENERS or args.props.get("protocol") not in ("HTTPS", "TLS"):
        return
    allowed = config_with_defaults(TLS_SCHEMA, args.get_config())["allowedPolicies"]
    policy = args.props.get("sslPolicy")
    if policy not in allowed:
        report(f"sslPolicy is {policy or 'unset (ELBSecurityPolicy-2016-08, which allows TLS 1.0)'}; use one of "
               f"{', '.join(allowed)}.")


modern_tls_policy = ResourceValidationPolicy(
    name="modern-tls-policy",
    description="HTTPS listeners use a TLS 1.2/1.3 security policy (Checkov CKV_AWS_103).",
    config_schema=TLS_SCHEMA,
    validate=_validate_tls,
)


def _application_lb(args: ResourceValidationArgs) -> bool:
    return args.resource_type in LOAD_BALANCERS and args.props.get("loadBalancerType", "application") == "application"


def _validate_headers(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _application_lb(args):
        return
    if not truthy(args.props.get("dropInvalidHeaderFields")):
        report("dropInvalidHeaderFields is off: requests with invalid header fields reach the services.")
    if args.props.get("desyncMitigationMode", "defensive") not in ("defensive", "strictest"):
        report(f"desyncMitigationMode is {args.props.get('desyncMitigationMode')}; use defensive or strictest "
               "(Security Hub ELB.12).")


drop_invalid_headers = ResourceValidationPolicy(
    name="drop-invalid-headers",
    description="Application load balancers drop invalid HTTP header fields and mitigate desync attacks "
                "(Security Hub ELB.4, ELB.12; Checkov CKV_AWS_131).",
    validate=_validate_headers,
)


def _validate_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in LOAD_BALANCERS and not truthy(args.props.get("enableDeletionProtection")):
        report("Deletion protection is off: one mistaken destroy takes every service on the cluster offline.")


alb_deletion_protection = ResourceValidationPolicy(
    name="alb-deletion-protection",
    description="The shared load balancer carries every service, so it has deletion protection "
                "(Security Hub ELB.6; Checkov CKV_AWS_150).",
    validate=_validate_deletion_protection,
)

HEALTH_CHECK_SCHEMA = PolicyConfigSchema(
    properties={"maximumIntervalSeconds": {"type": "integer", "minimum": 5, "maximum": 300, "default": 30,
                                           "description": "Longest health-check interval of a target group."}},
)


def _validate_health_check(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in TARGET_GROUPS or args.props.get("targetType") == "lambda":
        return
    maximum = config_with_defaults(HEALTH_CHECK_SCHEMA, args.get_config())["maximumIntervalSeconds"]
    check = args.props.get("healthCheck") or {}
    if check.get("enabled") is False:
        report("The target group's health check is disabled, so failing containers keep receiving traffic and "
               "deployments cannot halt.")
        return
    if args.props.get("protocol", "HTTP") in ("HTTP", "HTTPS") and not check.get("path"):
        report("The target group has no health-check path; set the path the service answers when healthy.")
    interval = check.get("interval")
    if interval is not None and int(interval) > maximum:
        report(f"Health-check interval {int(interval)} s is above {maximum} s; failed containers are noticed late.")


target_group_health_check = ResourceValidationPolicy(
    name="target-group-health-check",
    description="Target groups health-check their targets on a path, so the ALB stops routing to failed containers "
                "and ECS halts a deployment whose new containers fail (design doc 000).",
    config_schema=HEALTH_CHECK_SCHEMA,
    validate=_validate_health_check,
)

# ------------------------------------------------------------ ECS


def _validate_circuit_breaker(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type != ECS_SERVICE or props.get("schedulingStrategy") == "DAEMON":
        return
    if dig(props, "deploymentController", "type", default="ECS") != "ECS":
        return
    breaker = props.get("deploymentCircuitBreaker") or {}
    if not (truthy(breaker.get("enable")) and truthy(breaker.get("rollback"))):
        report("The service has no deployment circuit breaker with rollback: a version whose containers fail health "
               "checks keeps rolling out.")


ecs_circuit_breaker = ResourceValidationPolicy(
    name="ecs-deployment-circuit-breaker",
    description="Rolling deploys halt and roll back when new containers fail their health checks (design doc 000; "
                "AWS Well-Architected REL08: deploy changes automatically and roll back on failure).",
    validate=_validate_circuit_breaker,
)


def _validate_privileged(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    props = args.props
    if props.get("networkMode") == "host":
        report("The task uses host network mode on shared nodes (Security Hub ECS.17).")
    if props.get("pidMode") == "host":
        report("The task shares the host's process namespace (Security Hub ECS.3).")
    if props.get("ipcMode") == "host":
        report("The task shares the host's IPC namespace.")
    for container in container_definitions(props):
        if container.get("privileged") is True:
            report(f"Container '{container.get('name')}' is privileged (Security Hub ECS.4).")


no_privileged_containers = ResourceValidationPolicy(
    name="no-privileged-containers",
    description="Containers on the shared nodes are never privileged and never share the host's network, process or "
                "IPC namespace (Security Hub ECS.3, ECS.4, ECS.17).",
    validate=_validate_privileged,
)

SECRETS_SCHEMA = PolicyConfigSchema(
    properties={"namePattern": {"type": "string",
                                "default": SECRET_NAME_PATTERN,
                                "description": "Environment variable names that must come from secrets, not values."}},
)


def _validate_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    pattern = config_with_defaults(SECRETS_SCHEMA, args.get_config())["namePattern"]
    for container in container_definitions(args.props):
        for variable in container.get("environment") or []:
            name = str(variable.get("name") or "")
            if looks_like_secret(name, pattern) and variable.get("value"):
                report(f"Container '{container.get('name')}' passes {name} as a plain environment value; take it from "
                       "Secrets Manager or SSM Parameter Store through 'secrets'.")


secrets_not_in_environment = ResourceValidationPolicy(
    name="secrets-not-in-environment",
    description="Secrets reach containers through ECS 'secrets' (SSM or Secrets Manager), never as plain environment "
                "values (Security Hub ECS.8; 002's template put passwords in the environment).",
    config_schema=SECRETS_SCHEMA,
    validate=_validate_secrets,
)

# ------------------------------------------------------------ stateful resources and buckets

STATEFUL_SCHEMA = PolicyConfigSchema(
    properties={"statefulTypes": {"type": "array", "items": {"type": "string"},
                                  "default": [LOG_GROUP, BUCKET, BUCKET_V2, EBS_VOLUME, "aws:dynamodb/table:Table",
                                              "aws:rds/instance:Instance", "aws:rds/cluster:Cluster",
                                              "aws:efs/fileSystem:FileSystem", "aws:sqs/queue:Queue",
                                              "aws:opensearch/domain:Domain"],
                                  "description": "Resource types that hold data and must be protected."}},
)


def _validate_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    types = config_with_defaults(STATEFUL_SCHEMA, args.get_config())["statefulTypes"]
    if args.resource_type in types and not args.opts.protect:
        report(f"'{args.name}' holds data but is not protected: a destroy or a refactor that renames it would delete "
               "it. Set protect (and an alias when its name or parent moves).")


stateful_resources_protected = ResourceValidationPolicy(
    name="stateful-resources-protected",
    description="Resources that hold data (log groups, buckets, volumes, databases) are protected, so neither a "
                "destroy nor a refactor loses them (AWS Well-Architected REL09: back up and protect data).",
    config_schema=STATEFUL_SCHEMA,
    validate=_validate_protected,
)


def _validate_buckets(args: StackValidationArgs, report: ReportViolation) -> None:
    stack, unresolved = Stack(args), Unresolved()
    for bucket in stack.of_type(BUCKET, BUCKET_V2):
        def check(bucket=bucket):
            blocks = stack.dependents(bucket, "bucket", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
            flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
            if not any(all(truthy(b.props.get(f)) for f in flags) for b in blocks):
                report(f"Bucket '{bucket.name}' has no public access block with all four settings on "
                       "(Security Hub S3.8).", bucket.urn)
            policies = stack.dependents(bucket, "bucket", "aws:s3/bucketPolicy:BucketPolicy")
            if not any("aws:SecureTransport" in str(p.props.get("policy") or "") for p in policies):
                report(f"Bucket '{bucket.name}' does not refuse plain-HTTP requests (Security Hub S3.5).", bucket.urn)
        unresolved.check(bucket, check)
    unresolved.raise_if_any()


s3_buckets_private = StackValidationPolicy(
    name="s3-buckets-private",
    description="Buckets block public access and refuse requests without TLS (Security Hub S3.5, S3.8).",
    validate=_validate_buckets,
)

BASELINE: list[Any] = [
    imdsv2_required,
    no_public_ip_on_nodes,
    ebs_encrypted,
    no_world_ingress,
    no_ssh_rdp_ingress,
    http_redirects_to_https,
    modern_tls_policy,
    drop_invalid_headers,
    alb_deletion_protection,
    target_group_health_check,
    ecs_circuit_breaker,
    no_privileged_containers,
    secrets_not_in_environment,
    stateful_resources_protected,
    s3_buckets_private,
]
