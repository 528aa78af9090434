"""The security controls external scanners check (issue 10): WAF, customer-managed keys, audit-log retention,
read-only containers, abandoned uploads and HTTPS.

Advisory by default, like the baseline; ``policies/prod.json`` makes each of
them mandatory for prod, except ``ecs-exec-writable-root``, which only says
which containers run writable because they use ECS Exec. Each description
cites the Security Hub control and the Checkov check it answers.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .thresholds import AWS_MANAGED_RULE_GROUPS, SECURITY_LOG_RETENTION_MIN_DAYS
from .view import (
    BUCKET,
    BUCKET_V2,
    ECS_CLUSTER,
    ECS_SERVICE,
    FLOW_LOG,
    LISTENERS,
    LOAD_BALANCERS,
    LOG_GROUP,
    TASK_DEFINITION,
    Stack,
    Unresolved,
    config_with_defaults,
    container_definitions,
    deps,
    dig,
    truthy,
)

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
KMS_KEY = "aws:kms/key:Key"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_LIFECYCLE_V2 = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"


def _internet_facing(load_balancer) -> bool:
    props = load_balancer.props
    return props.get("loadBalancerType", "application") == "application" and not truthy(props.get("internal"))


def _uses(stack: Stack, target, prop: str, *types: str) -> list[Any]:
    """Resources of ``types`` whose ``prop`` is built from ``target``'s outputs."""
    return stack.dependents(target, prop, *types)


# ------------------------------------------------------------ WAF (CKV2_AWS_28)

WAF_SCHEMA = PolicyConfigSchema(
    properties={
        "requiredManagedRuleGroups": {
            "type": "array", "items": {"type": "string"}, "default": list(AWS_MANAGED_RULE_GROUPS),
            "description": "AWS managed rule groups the web ACL of every internet-facing ALB must run (not merely "
                           "count)."},
        "requireRateBasedRule": {"type": "boolean", "default": True,
                                 "description": "The web ACL must have a rate-based rule that blocks."},
        "requireLogging": {"type": "boolean", "default": True,
                           "description": "The web ACL must log to a destination (a WebAclLoggingConfiguration)."},
    },
)


def _acl_problems(stack: Stack, acl, config: dict[str, Any]) -> list[str]:
    rules = acl.props.get("rules") or []
    running = {dig(rule, "statement", "managedRuleGroupStatement", "name") for rule in rules
               if dig(rule, "overrideAction", "count") is None}
    problems = [f"does not run the managed rule group {group}"
                for group in config["requiredManagedRuleGroups"] if group not in running]
    if config["requireRateBasedRule"] and not any(
            dig(rule, "statement", "rateBasedStatement") and dig(rule, "action", "block") is not None
            for rule in rules):
        problems.append("has no rate-based rule that blocks")
    if config["requireLogging"] and not _uses(stack, acl, "resourceArn", WEB_ACL_LOGGING):
        problems.append("does not log (no WebAclLoggingConfiguration)")
    return problems


def _validate_waf(args: StackValidationArgs, report: ReportViolation) -> None:
    config = config_with_defaults(WAF_SCHEMA, args.get_config())
    stack, unresolved = Stack(args), Unresolved()
    for load_balancer in stack.of_type(*LOAD_BALANCERS):
        def check(load_balancer=load_balancer):
            if not _internet_facing(load_balancer):
                return
            acls = [acl for association in _uses(stack, load_balancer, "resourceArn", WEB_ACL_ASSOCIATION)
                    for acl in deps(association, "webAclArn")]
            if not acls:
                report(f"Internet-facing load balancer '{load_balancer.name}' has no WAF web ACL associated "
                       "(odyssey:loadBalancer.waf.enabled).", load_balancer.urn)
            for acl in acls:
                for problem in _acl_problems(stack, acl, config):
                    report(f"The web ACL '{acl.name}' of load balancer '{load_balancer.name}' {problem}.", acl.urn)
        unresolved.check(load_balancer, check)
    unresolved.raise_if_any()


waf_on_load_balancers = StackValidationPolicy(
    name="waf-on-load-balancers",
    description="Every internet-facing Application Load Balancer has a WAF web ACL that runs the AWS managed rule "
                "groups (core rule set, known bad inputs, Amazon IP reputation), blocks by rate, and logs "
                "(Checkov CKV2_AWS_28; Security Hub WAF.11 for logging).",
    config_schema=WAF_SCHEMA,
    validate=_validate_waf,
)

# ------------------------------------------------------------ ECS Exec encryption (CKV_AWS_224)

EXEC_SCHEMA = PolicyConfigSchema(
    properties={
        "requireEncryptedSessionLogs": {
            "type": "boolean", "default": True,
            "description": "Exec sessions must also be logged (logging OVERRIDE) to an encrypted log group or "
                           "bucket."},
        "requireKeyProtection": {
            "type": "boolean", "default": True,
            "description": "A key in the stack that encrypts Exec sessions must be rotated and protected."},
    },
)


def _exec_checks(cluster, config: dict[str, Any], report: ReportViolation) -> None:
    exec_config = dig(cluster.props, "configuration", "executeCommandConfiguration") or {}
    if not exec_config.get("kmsKeyId"):
        report(f"ECS Exec sessions on cluster '{cluster.name}' are not encrypted with a customer-managed key: set "
               "configuration.executeCommandConfiguration.kmsKeyId.", cluster.urn)
    if config["requireEncryptedSessionLogs"]:
        logs = exec_config.get("logConfiguration") or {}
        if exec_config.get("logging") != "OVERRIDE" or not (
                truthy(logs.get("cloudWatchEncryptionEnabled")) or truthy(logs.get("s3BucketEncryptionEnabled"))):
            report(f"ECS Exec session logs of cluster '{cluster.name}' are not encrypted: set logging OVERRIDE with "
                   "logConfiguration.cloudWatchEncryptionEnabled (to a log group encrypted with a KMS key).",
                   cluster.urn)
    if config["requireKeyProtection"]:
        for key in (k for k in deps(cluster, "configuration") if k.resource_type == KMS_KEY):
            if not (truthy(key.props.get("enableKeyRotation")) and key.opts.protect):
                report(f"KMS key '{key.name}' encrypts ECS Exec sessions but is not rotated and protected.", key.urn)


def _validate_exec(args: StackValidationArgs, report: ReportViolation) -> None:
    config = config_with_defaults(EXEC_SCHEMA, args.get_config())
    stack, unresolved = Stack(args), Unresolved()
    for cluster in stack.of_type(ECS_CLUSTER):
        unresolved.check(cluster, lambda c=cluster: _exec_checks(c, config, report))
    unresolved.raise_if_any()


ecs_exec_encrypted = StackValidationPolicy(
    name="ecs-exec-encrypted",
    description="ECS Exec sessions are encrypted with a customer-managed KMS key and logged to an encrypted log "
                "group, the key rotated and protected, so a shell into a production container leaves a transcript "
                "nobody else can read (Checkov CKV_AWS_224).",
    config_schema=EXEC_SCHEMA,
    validate=_validate_exec,
)

# ------------------------------------------------------------ log groups under a customer-managed key (CKV_AWS_158)

LOG_KEY_SCHEMA = PolicyConfigSchema(
    properties={"requireKeyRotation": {
        "type": "boolean", "default": True,
        "description": "A key in the stack that encrypts log groups must have automatic rotation on "
                       "(Checkov CKV_AWS_7)."},
        "requireKeyProtection": {
            "type": "boolean", "default": True,
            "description": "A key in the stack that encrypts log groups must be protected: deleting it makes "
                           "their logs unreadable."}},
)


def _validate_log_keys(args: StackValidationArgs, report: ReportViolation) -> None:
    config = config_with_defaults(LOG_KEY_SCHEMA, args.get_config())
    stack, unresolved = Stack(args), Unresolved()
    keys: dict[str, Any] = {}
    for group in stack.of_type(LOG_GROUP):
        def check(group=group):
            from_stack = deps(group, "kmsKeyId")
            keys.update({key.urn: key for key in from_stack if key.resource_type == KMS_KEY})
            # A key made in this stack is unknown in a real preview: its dependency says the group has one.
            if not from_stack and not group.props.get("kmsKeyId"):
                report(f"Log group '{group.name}' is not encrypted with a customer-managed KMS key (kmsKeyId).",
                       group.urn)
        unresolved.check(group, check)
    for key in keys.values():
        def check_key(key=key):
            if config["requireKeyRotation"] and not truthy(key.props.get("enableKeyRotation")):
                report(f"KMS key '{key.name}' encrypts log groups but is not rotated (enableKeyRotation).", key.urn)
            if config["requireKeyProtection"] and not key.opts.protect:
                report(f"KMS key '{key.name}' encrypts log groups but is not protected: deleting it makes their "
                       "logs unreadable.", key.urn)
        unresolved.check(key, check_key)
    unresolved.raise_if_any()


log_groups_encrypted = StackValidationPolicy(
    name="log-groups-encrypted",
    description="Every log group is encrypted with a customer-managed KMS key, rotated and protected, so reading "
                "logs takes a grant on the key as well as on the logs (Checkov CKV_AWS_158, CKV_AWS_7).",
    config_schema=LOG_KEY_SCHEMA,
    validate=_validate_log_keys,
)

# ------------------------------------------------------------ security log retention (CKV_AWS_338)

RETENTION_SCHEMA = PolicyConfigSchema(
    properties={
        "minimumRetentionDays": {"type": "integer", "minimum": 1, "default": SECURITY_LOG_RETENTION_MIN_DAYS,
                                 "description": "Least retention of a security or audit log group, in days."},
        "securityLogGroupPrefixes": {
            "type": "array", "items": {"type": "string"}, "default": ["aws-waf-logs-"],
            "description": "Names of log groups that hold security logs whatever writes to them."},
    },
)

# Where a log group is the destination of a security or audit record: (resource type, the property naming it).
SECURITY_LOG_WRITERS = (
    (FLOW_LOG, "logDestination"),  # VPC flow logs
    (ECS_CLUSTER, "configuration"),  # ECS Exec session transcripts
    (WEB_ACL_LOGGING, "logDestinationConfigs"),  # WAF logs
    (EVENT_TARGET, "arn"),  # the ECS event audit log
)


def _security_log(stack: Stack, group, prefixes: list[str]) -> bool:
    if any(_uses(stack, group, prop, kind) for kind, prop in SECURITY_LOG_WRITERS):
        return True
    return any(str(group.props.get("name") or "").startswith(prefix) for prefix in prefixes)


def _validate_retention(args: StackValidationArgs, report: ReportViolation) -> None:
    config = config_with_defaults(RETENTION_SCHEMA, args.get_config())
    minimum = config["minimumRetentionDays"]
    stack, unresolved = Stack(args), Unresolved()
    for group in stack.of_type(LOG_GROUP):
        def check(group=group):
            if not _security_log(stack, group, config["securityLogGroupPrefixes"]):
                return
            days = group.props.get("retentionInDays")
            # Unset (or 0) keeps events forever.
            if days and int(days) < minimum:
                report(f"Security log group '{group.name}' keeps events {int(days)} days; keep security and audit "
                       f"logs at least {minimum} (odyssey:securityLogRetentionDays).", group.urn)
        unresolved.check(group, check)
    unresolved.raise_if_any()


security_logs_kept_a_year = StackValidationPolicy(
    name="security-logs-kept-a-year",
    description="Security and audit logs (VPC flow logs, ECS Exec transcripts, the ECS event audit log, WAF logs) "
                "are kept at least a year, the look-back an incident or an audit needs; operational logs keep "
                "their own retention (Checkov CKV_AWS_338).",
    config_schema=RETENTION_SCHEMA,
    validate=_validate_retention,
)

# ------------------------------------------------------------ read-only root filesystems (ECS.5, CKV_AWS_336)

READ_ONLY_SCHEMA = PolicyConfigSchema(
    properties={"exemptExecTasks": {
        "type": "boolean", "default": True,
        "description": "Leave out the task definitions of services with ECS Exec, whose agent needs a writable root "
                       "(ecs-exec-writable-root reports them)."}},
)


def _exec_services(stack: Stack, task) -> list[Any]:
    return [service for service in _uses(stack, task, "taskDefinition", ECS_SERVICE)
            if truthy(service.props.get("enableExecuteCommand"))]


def _writable(task) -> list[str]:
    return [str(c.get("name")) for c in container_definitions(task.props) if c.get("readonlyRootFilesystem") is not True]


def _validate_read_only(args: StackValidationArgs, report: ReportViolation) -> None:
    exempt_exec = config_with_defaults(READ_ONLY_SCHEMA, args.get_config())["exemptExecTasks"]
    stack, unresolved = Stack(args), Unresolved()
    for task in stack.of_type(TASK_DEFINITION):
        def check(task=task):
            if exempt_exec and _exec_services(stack, task):
                return
            for name in _writable(task):
                report(f"Container '{name}' of task definition '{task.name}' has a writable root filesystem: set "
                       "readonlyRootFilesystem (the default) and give the paths it writes as tmpfs.", task.urn)
        unresolved.check(task, check)
    unresolved.raise_if_any()


containers_read_only_root = StackValidationPolicy(
    name="containers-read-only-root",
    description="Containers run with a read-only root filesystem, writing only to tmpfs mounts, so a compromised "
                "process cannot replace binaries or plant files (Security Hub ECS.5; Checkov CKV_AWS_336).",
    config_schema=READ_ONLY_SCHEMA,
    validate=_validate_read_only,
)


def _validate_exec_writable(args: StackValidationArgs, report: ReportViolation) -> None:
    stack, unresolved = Stack(args), Unresolved()
    for task in stack.of_type(TASK_DEFINITION):
        def check(task=task):
            services = _exec_services(stack, task)
            for name in _writable(task) if services else []:
                report(f"Container '{name}' of task definition '{task.name}' runs with a writable root filesystem "
                       f"because service '{services[0].name}' enables ECS Exec; turn Exec off when nobody needs a "
                       "shell there.", task.urn)
        unresolved.check(task, check)
    unresolved.raise_if_any()


ecs_exec_writable_root = StackValidationPolicy(
    name="ecs-exec-writable-root",
    description="Reports the containers that run with a writable root filesystem because their service enables "
                "ECS Exec (its agent writes to the root), so each exception to Security Hub ECS.5 / Checkov "
                "CKV_AWS_336 stays visible; advisory in prod.",
    validate=_validate_exec_writable,
)

# ------------------------------------------------------------ abandoned multipart uploads (CKV_AWS_300)

MULTIPART_SCHEMA = PolicyConfigSchema(
    properties={"maximumDaysAfterInitiation": {
        "type": "integer", "minimum": 1, "default": 7,
        "description": "Most days an incomplete multipart upload may linger before the lifecycle rule aborts it."}},
)


def _whole_bucket(rule: dict[str, Any]) -> bool:
    """A rule with no filter, an empty filter or an empty prefix covers every object."""
    rule_filter = rule.get("filter")
    if rule_filter and any(v not in (None, "", {}, []) for v in rule_filter.values()):
        return False
    return not rule.get("prefix")


def _aborts(rules: list[dict[str, Any]], days_key: tuple[str, ...], enabled, maximum: int) -> bool:
    return any(enabled(rule) and _whole_bucket(rule) and dig(rule, *days_key) is not None
               and int(dig(rule, *days_key)) <= maximum for rule in rules)


def _validate_multipart(args: StackValidationArgs, report: ReportViolation) -> None:
    maximum = config_with_defaults(MULTIPART_SCHEMA, args.get_config())["maximumDaysAfterInitiation"]
    stack, unresolved = Stack(args), Unresolved()
    for bucket in stack.of_type(BUCKET, BUCKET_V2):
        def check(bucket=bucket):
            configurations = _uses(stack, bucket, "bucket", BUCKET_LIFECYCLE, BUCKET_LIFECYCLE_V2)
            separate = any(_aborts(c.props.get("rules") or [], ("abortIncompleteMultipartUpload",
                                                                "daysAfterInitiation"),
                                   lambda r: r.get("status") == "Enabled", maximum) for c in configurations)
            inline = _aborts(bucket.props.get("lifecycleRules") or [], ("abortIncompleteMultipartUploadDays",),
                             lambda r: truthy(r.get("enabled")), maximum)
            if not (separate or inline):
                report(f"Bucket '{bucket.name}' has no enabled bucket-wide lifecycle rule aborting incomplete "
                       f"multipart uploads within {maximum} days; their parts are billed until deleted.", bucket.urn)
        unresolved.check(bucket, check)
    unresolved.raise_if_any()


buckets_abort_incomplete_uploads = StackValidationPolicy(
    name="buckets-abort-incomplete-uploads",
    description="Every bucket has an enabled lifecycle rule over the whole bucket that aborts incomplete multipart "
                "uploads, whose invisible parts are otherwise stored and billed forever (Checkov CKV_AWS_300).",
    config_schema=MULTIPART_SCHEMA,
    validate=_validate_multipart,
)

# ------------------------------------------------------------ HTTPS (ELB.1, CKV2_AWS_20)

HTTPS_SCHEMA = PolicyConfigSchema(
    properties={"internetFacingOnly": {
        "type": "boolean", "default": True,
        "description": "Require HTTPS of internet-facing Application Load Balancers only (internal ones may serve "
                       "HTTP inside the VPC)."}},
)


def _validate_https(args: StackValidationArgs, report: ReportViolation) -> None:
    internet_only = config_with_defaults(HTTPS_SCHEMA, args.get_config())["internetFacingOnly"]
    stack, unresolved = Stack(args), Unresolved()
    for load_balancer in stack.of_type(*LOAD_BALANCERS):
        def check(load_balancer=load_balancer):
            props = load_balancer.props
            if props.get("loadBalancerType", "application") != "application":
                return
            if internet_only and truthy(props.get("internal")):
                return
            listeners = _uses(stack, load_balancer, "loadBalancerArn", *LISTENERS)
            if not any(listener.props.get("protocol") == "HTTPS" for listener in listeners):
                report(f"Load balancer '{load_balancer.name}' serves plain HTTP only: give it an HTTPS listener "
                       "(odyssey:loadBalancer.certificateArn), whose HTTP listener then redirects.", load_balancer.urn)
        unresolved.check(load_balancer, check)
    unresolved.raise_if_any()


load_balancers_serve_https = StackValidationPolicy(
    name="load-balancers-serve-https",
    description="Application Load Balancers serve HTTPS (with http-redirects-to-https, HTTP only redirects), so no "
                "request or cookie crosses the internet in clear text (Security Hub ELB.1; Checkov CKV2_AWS_20). "
                "Mandatory in prod; advisory in stage, which may run plain HTTP with a warning.",
    config_schema=HTTPS_SCHEMA,
    validate=_validate_https,
)

SECURITY: list[Any] = [
    waf_on_load_balancers,
    ecs_exec_encrypted,
    log_groups_encrypted,
    security_logs_kept_a_year,
    containers_read_only_root,
    ecs_exec_writable_root,
    buckets_abort_incomplete_uploads,
    load_balancers_serve_https,
]
