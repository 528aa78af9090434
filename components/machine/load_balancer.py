"""SharedLoadBalancer: one Application Load Balancer for every service on the cluster.

The design sources paid for one ELB per service per environment (70+ in 003);
here all services of all application stacks share one ALB and route by listener
rules to target groups of dynamic host ports. HTTPS terminates with the
configured (wildcard) certificate; HTTP only redirects. Access logs go to an
encrypted, private S3 bucket with an expiry.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.stateful import stateful_options
from odyssey.config.machine import LoadBalancerConfig
from odyssey.domain.iam import access_log_bucket_policy

ACCESS_LOG_PREFIX = "alb"
FIXED_404 = aws.lb.ListenerDefaultActionArgs(
    type="fixed-response",
    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
        content_type="text/plain", message_body="Not Found", status_code="404"
    ),
)


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
        protect_logs: protect and retain the access-log bucket, and keep S3 from emptying it on delete
            (``odyssey:protectStatefulResources``).
    """

    config: LoadBalancerConfig
    load_balancer_name: str
    region: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[list[str]]
    protect_logs: bool


class SharedLoadBalancer(pulumi.ComponentResource):
    """The cluster's one ALB, its security group, listeners and access-log bucket.

    Outputs: ``arn``, ``dns_name``, ``zone_id``, ``security_group_id``,
    ``https_listener_arn`` (None without a certificate), ``http_listener_arn``
    and ``access_log_bucket``.
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

        bucket, bucket_policy = self._access_log_bucket(name, config, args.region, args.protect_logs)

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
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket.bucket, prefix=ACCESS_LOG_PREFIX, enabled=True),
            # ELB checks that it may write to the bucket when access logs are enabled.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy]),
        )

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
        self.access_log_bucket = bucket.bucket
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

    def _access_log_bucket(
        self, name: str, config: LoadBalancerConfig, region: str, protect: bool
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
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
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{ACCESS_LOG_PREFIX}/"),
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
                lambda values: access_log_bucket_policy(values[0], ACCESS_LOG_PREFIX, region, values[1])
            ),
            opts=child,
        )
        return bucket, policy

