"""SharedLoadBalancer: one Application Load Balancer for every service on the cluster, or a pool of them.

The design sources paid for one ELB per service per environment (70+ in 003);
here all services of all application stacks share one ALB and route by listener
rules to target groups of dynamic host ports. HTTPS terminates with the
configured (wildcard) certificate; HTTP only redirects. Access logs go to an
encrypted, private S3 bucket with an expiry. A WAF web ACL (AWS managed rule
groups and a per-address rate limit, ``odyssey.domain.waf``) guards each ALB
and logs to its own ``aws-waf-logs-`` group, unless the config turns it off.

When the tenants' routing budgets outgrow one ALB's quotas (100 target groups,
not adjustable), the owner runs an ingress pool (``ingress_pool``): ALB 1 is
the one ALB above, unchanged; ALB k is ``<name>-k`` with the same listeners,
TLS policy, redirect, 404, deletion protection and access logs. The pool shares
ALB 1's access-log bucket, each ALB under its own prefix: one stateful,
protected bucket instead of one per ALB, one expiry rule and one place to query
(the ALBs are parts of one ingress), and shrinking the pool deletes no logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pulumi
import pulumi_aws as aws

from components.shared.log_group import LogGroupArgs, log_group
from components.shared.stateful import stateful_options
from odyssey.config.machine import LoadBalancerConfig
from odyssey.domain.iam import access_log_bucket_policy
from odyssey.domain.naming import waf_log_group, web_acl_name
from odyssey.domain.routing import NOT_FOUND_BODY, NOT_FOUND_CONTENT_TYPE, NOT_FOUND_STATUS
from odyssey.domain.waf import visibility, web_acl_rules

ACCESS_LOG_PREFIX = "alb"  # ALB 1's prefix; ALB k writes under alb/<its name>/
# A web ACL in front of an ALB is regional (CloudFront's are global).
WAF_SCOPE = "REGIONAL"
FIXED_404 = aws.lb.ListenerDefaultActionArgs(
    type="fixed-response",
    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
        content_type=NOT_FOUND_CONTENT_TYPE, message_body=NOT_FOUND_BODY, status_code=str(NOT_FOUND_STATUS)
    ),
)


@dataclass(frozen=True)
class AccessLogBucket:
    """The access-log bucket an ALB created, for the pool's other ALBs to write to.

    Attributes:
        bucket: the bucket's name.
        policy: its bucket policy: ELB checks it may write before it enables an ALB's access logs.
    """

    bucket: pulumi.Output[str]
    policy: aws.s3.BucketPolicy


@dataclass(frozen=True)
class SharedLoadBalancerArgs:
    """Inputs of ``SharedLoadBalancer``.

    Attributes:
        config: ``odyssey:loadBalancer``: certificate, TLS policy, deletion protection, idle timeout, access-log
            expiry and the CIDR blocks admitted on 80 and 443.
        load_balancer_name: name of the ALB (at most 32 letters, digits and hyphens, an ELB limit).
        region: region of the ALB; it picks the regional ELB account allowed to write access logs to the bucket.
        vpc_id: VPC of the ALB's security group.
        public_subnet_ids: subnets the internet-facing ALB is placed in, in at least two availability zones.
        protect_logs: protect and retain the access-log bucket and the WAF log group, and keep S3 from emptying
            the bucket on delete (``odyssey:protectStatefulResources``).
        logs_key_arn: the stack's logs key, which encrypts the WAF log group.
        security_log_retention_days: retention of the WAF log group, a security log.
        log_prefix: where in the bucket this ALB writes its access logs. Default: ``alb``.
        shared_logs: another ALB's access-log bucket to write to; None (the default): create one.
        pool_log_prefixes: the prefixes of the other ALBs that write to the bucket this one creates; its policy
            admits them. Default: none.
    """

    config: LoadBalancerConfig
    load_balancer_name: str
    region: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[list[str]]
    protect_logs: bool
    logs_key_arn: pulumi.Input[str]
    security_log_retention_days: int
    log_prefix: str = ACCESS_LOG_PREFIX
    shared_logs: AccessLogBucket | None = None
    pool_log_prefixes: tuple[str, ...] = ()


class SharedLoadBalancer(pulumi.ComponentResource):
    """One ALB of the cluster's ingress, its security group, listeners and (unless shared) access-log bucket.

    Outputs: ``arn``, ``arn_suffix``, ``dns_name``, ``zone_id``,
    ``security_group_id``, ``https_listener_arn`` (None without a certificate),
    ``http_listener_arn``, ``access_log_bucket`` and ``access_logs`` (the bucket
    for the pool's other ALBs).
    """

    def __init__(self, name: str, args: SharedLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:loadbalancer:SharedLoadBalancer", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Shared ALB: HTTP and HTTPS from the configured ingress CIDRs",
            opts=child,
        )
        ports = [443, 80] if config.certificate_arn else [80]
        for port in ports:
            for cidr in config.ingress_cidrs:
                # Named by what it opens, so removing one CIDR never rewrites another rule.
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-ingress-{port}-{cidr.replace('/', '_')}",
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    description=f"{'HTTPS' if port == 443 else 'HTTP'} from {cidr}",
                    opts=child,
                )

        logs = args.shared_logs or self._access_log_bucket(
            name, config, args.region, args.protect_logs, (args.log_prefix, *args.pool_log_prefixes))

        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=args.load_balancer_name,
            load_balancer_type="application",
            internal=False,
            subnets=args.public_subnet_ids,
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=config.deletion_protection,
            enable_http2=True,
            idle_timeout=config.idle_timeout_seconds,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=logs.bucket, prefix=args.log_prefix, enabled=True),
            # ELB checks that it may write to the bucket when access logs are enabled.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs.policy]),
        )

        if config.waf.enabled:
            self._firewall(name, args)

        if config.certificate_arn:
            https = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=self.load_balancer.arn,
                port=443,
                protocol="HTTPS",
                certificate_arn=config.certificate_arn,
                ssl_policy=config.ssl_policy,
                default_actions=[FIXED_404],
                opts=child,
            )
            self.https_listener_arn: pulumi.Output[str] | None = https.arn
            http_default = aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443", status_code="HTTP_301"),
            )
        else:
            pulumi.log.warn(
                "odyssey:loadBalancer.certificateArn is not set: the shared ALB serves plain HTTP only. "
                "Set an ACM (wildcard) certificate ARN to get HTTPS with an HTTP redirect.",
                resource=self,
            )
            self.https_listener_arn = None
            http_default = FIXED_404
        http = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[http_default],
            opts=child,
        )

        self.arn = self.load_balancer.arn
        self.arn_suffix = self.load_balancer.arn_suffix
        self.dns_name = self.load_balancer.dns_name
        self.zone_id = self.load_balancer.zone_id
        self.security_group_id = self.security_group.id
        self.http_listener_arn = http.arn
        self.access_logs = logs
        self.access_log_bucket = logs.bucket
        self.register_outputs(
            {
                "arn": self.arn,
                "dnsName": self.dns_name,
                "securityGroupId": self.security_group_id,
                "httpsListenerArn": self.https_listener_arn,
                "httpListenerArn": self.http_listener_arn,
                "accessLogBucket": self.access_log_bucket,
            }
        )

    def _firewall(self, name: str, args: SharedLoadBalancerArgs) -> None:
        """The web ACL (Checkov CKV2_AWS_28), its association with the ALB and its logging (a security log)."""
        child = pulumi.ResourceOptions(parent=self)
        acl_name = web_acl_name(args.load_balancer_name)
        acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            name=acl_name,
            description=f"Guards the {args.load_balancer_name} load balancer: AWS managed rules and a rate limit",
            scope=WAF_SCOPE,
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=web_acl_rules(args.config.waf.rate_limit),
            visibility_config=visibility(acl_name),
            opts=child,
        )
        aws.wafv2.WebAclAssociation(f"{name}-waf", resource_arn=self.load_balancer.arn, web_acl_arn=acl.arn,
                                    opts=child)
        logs = log_group(f"{name}-waf-logs", LogGroupArgs(
            waf_log_group(args.load_balancer_name), args.security_log_retention_days, args.protect_logs,
            args.logs_key_arn), self)
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf",
            resource_arn=acl.arn,
            log_destination_configs=[logs.arn],
            opts=child,
        )

    def _access_log_bucket(
        self, name: str, config: LoadBalancerConfig, region: str, protect: bool, prefixes: Sequence[str]
    ) -> AccessLogBucket:
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-access-logs",
            force_destroy=not protect,
            opts=stateful_options(self, protect),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-access-logs",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-access-logs",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        # ALB access logs support only SSE-S3 (AES256), not SSE-KMS.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-access-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs",
            bucket=bucket.id,
            rules=[
                # Bucket-wide (an empty prefix): ELB writes nothing but access logs here, and an upload left
                # incomplete anywhere is aborted (Checkov CKV_AWS_300).
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=config.access_log_expiration_days),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
            ],
            opts=child,
        )
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        policy = aws.s3.BucketPolicy(
            f"{name}-access-logs",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, caller.account_id).apply(
                lambda values: access_log_bucket_policy(values[0], prefixes, region, values[1])
            ),
            opts=child,
        )
        return AccessLogBucket(bucket.bucket, policy)


def pool_member_name(name: str, index: int) -> str:
    """The component name of ALB ``index`` (1-based) of the pool ``name``: ``name`` itself, then ``name-2``, ..."""
    return name if index == 1 else f"{name}-{index}"


def ingress_pool(name: str, args: SharedLoadBalancerArgs, more_load_balancer_names: Sequence[str],
                 opts: pulumi.ResourceOptions | None = None) -> list[SharedLoadBalancer]:
    """The owner's ingress pool: ALB 1 from ``args`` (named ``name``, as before the pool), then one more ALB per
    AWS name in ``more_load_balancer_names`` (ALB 2, 3, ...), each with ``args``' settings.

    ALB 1 creates the access-log bucket; the others write to it, each under ``alb/<its component name>``.
    """
    members = [pool_member_name(name, index) for index in range(2, len(more_load_balancer_names) + 2)]
    prefixes = [f"{ACCESS_LOG_PREFIX}/{member}" for member in members]
    first = SharedLoadBalancer(name, replace(args, pool_log_prefixes=tuple(prefixes)), opts)
    return [first] + [
        SharedLoadBalancer(member, replace(args, load_balancer_name=alb_name, log_prefix=prefix,
                                           shared_logs=first.access_logs), opts)
        for member, alb_name, prefix in zip(members, more_load_balancer_names, prefixes, strict=True)
    ]

