"""LogSearch: the cluster's log search, an OpenSearch domain fed by every application stack's log groups.

000's machine layer shipped "application logs and docker statistics" to
Amazon's Elasticsearch service (ELK). Here the owner of the cluster runs an
Amazon OpenSearch Service domain in the private subnets of three zones (zone
awareness 3, three dedicated master nodes), encrypted at rest with its own
customer-managed key, node to node and in transit (HTTPS only, TLS 1.2 with
forward secrecy), under fine-grained access control whose master user is an
IAM role (no internal user database), reachable only from the ingestion and
the operators' networks, with its audit and error logs in CloudWatch Logs.

Ingestion: CloudWatch Logs subscription filters put every event of the
subscribed groups onto one Firehose stream per cluster, which decompresses
them and indexes them into the domain from inside the VPC (a daily ``logs-``
index); records the domain refuses go to an encrypted, private bucket. The
hosts' group is subscribed here; each application stack subscribes its own
(``components/shared/log_subscription.py``). Container statistics stay in
CloudWatch Container Insights.

The domain, its key, its log groups and the backup bucket hold data: they are
protected and retained in stacks that protect stateful resources. The stream
and the subscription filters are protected there too (no refactor silently
stops the shipping) but not retained.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.log_group import LogGroupArgs, log_group
from components.shared.log_subscription import LogSearchTarget, subscribe
from components.shared.stateful import stateful_options
from odyssey.config.machine import LogSearchConfig
from odyssey.domain.iam import (
    account_trust_policy,
    domain_access_policy,
    firehose_delivery_policy,
    firehose_put_policy,
    logs_subscription_trust_policy,
    opensearch_log_policy,
    service_trust_policy,
    tls_only_bucket_policy,
)
from odyssey.domain.log_search import DEDICATED_MASTERS, ZONES, domain_subnets
from odyssey.domain.naming import StackNames

HTTPS = 443
# TLS 1.2 at least, forward-secret ciphers only: the newest policy OpenSearch offers (Security Hub Opensearch.8).
TLS_SECURITY_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
# CloudWatch Logs hands Firehose gzip-compressed batches; decompressed, each record is the batch's JSON (log
# group, stream and events), which OpenSearch indexes as it is. Extracting the bare messages would lose the
# group and stream, and plain-text lines are not documents OpenSearch accepts.
DECOMPRESSION = "Decompression"
INDEX_NAME = "logs"
INDEX_ROTATION = "OneDay"  # one index per day, so old days can be deleted whole
BUFFER_MIB = 5  # Firehose's default buffer size for OpenSearch (1-100 MiB)
RETRY_SECONDS = 300  # how long Firehose retries a refused batch before backing it up
BACKUP_PREFIX = "failed/"
# The key of the domain and the backup bucket: AWS keeps a deleted key for 7-30 days; the longest window leaves
# time to notice before the data becomes unreadable.
KEY_DELETION_WINDOW_DAYS = 30
LOG_TYPES = ("AUDIT_LOGS", "ES_APPLICATION_LOGS")


@dataclass(frozen=True)
class LogSearchArgs:
    """Inputs of ``LogSearch``.

    Attributes:
        config: ``odyssey:logSearch``: engine version, nodes, volume, master user, operator networks, buffering.
        names: the owning stack's names (domain, stream, log groups, policy).
        region: the stack's region, which the Firehose role's key condition names.
        vpc_id: the cluster's VPC, where the domain and Firehose's network interfaces live.
        private_subnet_ids: the network's private subnets; the domain takes one in each of three zones.
        private_subnet_zones: an existing VPC's private subnets' zones (empty for a new VPC).
        cluster_name: the cluster, which names the subscription filters.
        host_log_group_name: the hosts' log group, subscribed here.
        log_retention_days: retention of the domain's error log group (an operational log).
        security_log_retention_days: retention of the domain's audit log group (a security log, kept longer).
        logs_key_arn: the stack's logs key, which encrypts both log groups as it does every other.
        protect: protect and retain the domain, its key, its log groups and the backup bucket.
    """

    config: LogSearchConfig
    names: StackNames
    region: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    private_subnet_zones: dict[str, str]
    cluster_name: pulumi.Input[str]
    host_log_group_name: pulumi.Input[str]
    log_retention_days: int
    security_log_retention_days: int
    logs_key_arn: pulumi.Input[str]
    protect: bool


class LogSearch(pulumi.ComponentResource):
    """The domain and its ingestion.

    Outputs: ``endpoint`` (the domain's VPC endpoint), ``dashboards_url``,
    ``stream_arn`` and ``subscription_role_arn`` (what a subscription filter
    needs; the role's ARN resolves once its permission is in place).
    """

    def __init__(self, name: str, args: LogSearchArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:machine:LogSearch", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        config, names = args.config, args.names
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke).partition
        # The domain's ARN, known from its name before it exists: its own access policy and the log groups'
        # resource policy (which must exist before the domain publishes to them) name it.
        domain_arn = pulumi.Output.all(partition, caller.account_id).apply(
            lambda v: f"arn:{v[0]}:es:{args.region}:{v[1]}:domain/{names.log_search_domain}")

        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the {names.log_search_domain} log search domain and its backup bucket",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            opts=stateful_options(self, args.protect),
        )
        aws.kms.Alias(f"{name}-key", name=names.log_search_key_alias, target_key_id=key.key_id,
                      opts=self._child)
        log_policy = self._domain_logs(name, args, domain_arn, caller.account_id)
        domain_sg, delivery_sg = self._security_groups(name, args)
        bucket = self._backup_bucket(name, args, key)

        if config.master_user_arn is None:
            master = aws.iam.Role(
                f"{name}-admin",
                description=f"Master user of the {names.log_search_domain} domain (fine-grained access control)",
                assume_role_policy=pulumi.Output.all(caller.account_id, partition).apply(
                    lambda v: account_trust_policy(v[0], v[1])),
                opts=self._child,
            )
            master_arn: pulumi.Input[str] = master.arn
        else:
            master_arn = config.master_user_arn
        delivery_role = aws.iam.Role(
            f"{name}-delivery",
            description=f"Firehose indexes into {names.log_search_domain} and backs refused records up",
            assume_role_policy=caller.account_id.apply(lambda a: service_trust_policy("firehose.amazonaws.com", a)),
            opts=self._child,
        )
        subnets = pulumi.Output.from_input(args.private_subnet_ids).apply(
            lambda ids: domain_subnets(list(ids), args.private_subnet_zones))
        domain = self._domain(name, args, key, domain_sg, subnets, master_arn, log_policy, domain_arn,
                              delivery_role.arn)
        delivery_policy = aws.iam.RolePolicy(
            f"{name}-delivery",
            role=delivery_role.id,
            policy=pulumi.Output.all(domain.arn, bucket.arn, key.arn).apply(
                lambda v: firehose_delivery_policy(v[0], v[1], v[2], args.region)),
            opts=self._child,
        )
        stream = self._stream(name, args, domain, bucket, delivery_role, delivery_policy, subnets, delivery_sg)

        subscription_role = aws.iam.Role(
            f"{name}-subscription",
            description=f"CloudWatch Logs puts subscribed log events on the {names.log_search_stream} stream",
            assume_role_policy=pulumi.Output.all(caller.account_id, partition).apply(
                lambda v: logs_subscription_trust_policy(args.region, v[0], v[1])),
            opts=self._child,
        )
        subscription_policy = aws.iam.RolePolicy(
            f"{name}-subscription",
            role=subscription_role.id,
            policy=stream.arn.apply(firehose_put_policy),
            opts=self._child,
        )
        # CloudWatch Logs tries the role when a filter is created: hand the role out once it may put records.
        self.subscription_role_arn = pulumi.Output.all(subscription_role.arn, subscription_policy.id).apply(
            lambda v: v[0])
        self.stream_arn = stream.arn
        target = LogSearchTarget(self.stream_arn, self.subscription_role_arn, args.cluster_name)
        subscribe(f"{name}-hosts", args.host_log_group_name, target, self, args.protect)

        self.endpoint = domain.endpoint
        self.dashboards_url = domain.dashboard_endpoint.apply(lambda e: f"https://{e}")
        self.register_outputs({
            "endpoint": self.endpoint,
            "dashboardsUrl": self.dashboards_url,
            "streamArn": self.stream_arn,
            "subscriptionRoleArn": self.subscription_role_arn,
        })

    def _domain_logs(self, name: str, args: LogSearchArgs, domain_arn: pulumi.Output[str],
                     account_id: pulumi.Output[str]) -> dict[str, pulumi.Output[str]]:
        """The audit and error log groups, and the resource policy that lets the domain write them."""
        names = args.names
        groups = {
            "AUDIT_LOGS": log_group(f"{name}-audit", LogGroupArgs(
                names.log_search_audit_log_group, args.security_log_retention_days, args.protect, args.logs_key_arn),
                self),
            "ES_APPLICATION_LOGS": log_group(f"{name}-errors", LogGroupArgs(
                names.log_search_error_log_group, args.log_retention_days, args.protect, args.logs_key_arn), self),
        }
        policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-logs",
            policy_name=names.log_search_log_policy_name,
            policy_document=pulumi.Output.all(domain_arn, account_id, *(g.arn for g in groups.values())).apply(
                lambda v: opensearch_log_policy(v[2:], v[0], v[1])),
            opts=self._child,
        )
        # Each group's ARN resolves once the policy exists: AWS checks it when the domain starts publishing.
        return {log_type: pulumi.Output.all(group.arn, policy.id).apply(lambda v: v[0])
                for log_type, group in groups.items()}

    def _security_groups(self, name: str, args: LogSearchArgs) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
        """The domain admits HTTPS from Firehose's network interfaces and the operators' networks only."""
        domain_sg = aws.ec2.SecurityGroup(
            f"{name}-domain",
            vpc_id=args.vpc_id,
            description="Log search domain: HTTPS from the log ingestion and the operators only",
            opts=self._child,
        )
        delivery_sg = aws.ec2.SecurityGroup(
            f"{name}-delivery",
            vpc_id=args.vpc_id,
            description="Log ingestion (Firehose network interfaces): HTTPS to the log search domain only",
            opts=self._child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-delivery",
            security_group_id=domain_sg.id,
            referenced_security_group_id=delivery_sg.id,
            ip_protocol="tcp", from_port=HTTPS, to_port=HTTPS,
            description="HTTPS from the log ingestion",
            opts=self._child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-delivery-to-domain",
            security_group_id=delivery_sg.id,
            referenced_security_group_id=domain_sg.id,
            ip_protocol="tcp", from_port=HTTPS, to_port=HTTPS,
            description="HTTPS to the log search domain",
            opts=self._child,
        )
        for index, cidr in enumerate(args.config.operator_cidrs, start=1):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-operators-{index}",
                security_group_id=domain_sg.id,
                cidr_ipv4=cidr,
                ip_protocol="tcp", from_port=HTTPS, to_port=HTTPS,
                description=f"HTTPS (search, Dashboards) from the operators' network {cidr}",
                opts=self._child,
            )
        return domain_sg, delivery_sg

    def _backup_bucket(self, name: str, args: LogSearchArgs, key: aws.kms.Key) -> aws.s3.Bucket:
        """Where Firehose puts the records the domain refused: private, TLS only, encrypted with the domain's key."""
        bucket = aws.s3.Bucket(f"{name}-backup", force_destroy=not args.protect,
                               opts=stateful_options(self, args.protect))
        aws.s3.BucketOwnershipControls(
            f"{name}-backup", bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=self._child)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-backup", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=self._child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-backup", bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key.arn),
                bucket_key_enabled=True)],
            opts=self._child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-backup", bucket=bucket.id,
            # Bucket-wide (an empty prefix): Firehose writes only under BACKUP_PREFIX, and an upload left
            # incomplete anywhere is aborted (Checkov CKV_AWS_300).
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-refused-records", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=args.config.backup_expiration_days),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=1))],
            opts=self._child)
        aws.s3.BucketPolicy(f"{name}-backup", bucket=bucket.id, policy=bucket.arn.apply(tls_only_bucket_policy),
                            opts=self._child)
        return bucket

    def _domain(self, name: str, args: LogSearchArgs, key: aws.kms.Key, domain_sg: aws.ec2.SecurityGroup,
                subnets: pulumi.Output[list[str]], master_arn: pulumi.Input[str],
                log_groups: dict[str, pulumi.Output[str]], domain_arn: pulumi.Output[str],
                delivery_role_arn: pulumi.Output[str]) -> aws.opensearch.Domain:
        config = args.config
        return aws.opensearch.Domain(
            f"{name}-domain",
            domain_name=args.names.log_search_domain,
            engine_version=config.engine_version,
            cluster_config=aws.opensearch.DomainClusterConfigArgs(
                instance_type=config.instance_type,
                instance_count=config.data_nodes,
                dedicated_master_enabled=True,
                dedicated_master_count=DEDICATED_MASTERS,
                dedicated_master_type=config.master_type,
                zone_awareness_enabled=True,
                zone_awareness_config=aws.opensearch.DomainClusterConfigZoneAwarenessConfigArgs(
                    availability_zone_count=ZONES),
            ),
            ebs_options=aws.opensearch.DomainEbsOptionsArgs(ebs_enabled=True, volume_type="gp3",
                                                           volume_size=config.volume_gib),
            encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(enabled=True, kms_key_id=key.arn),
            node_to_node_encryption=aws.opensearch.DomainNodeToNodeEncryptionArgs(enabled=True),
            domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(
                enforce_https=True, tls_security_policy=TLS_SECURITY_POLICY),
            advanced_security_options=aws.opensearch.DomainAdvancedSecurityOptionsArgs(
                enabled=True,
                anonymous_auth_enabled=False,
                internal_user_database_enabled=False,
                master_user_options=aws.opensearch.DomainAdvancedSecurityOptionsMasterUserOptionsArgs(
                    master_user_arn=master_arn),
            ),
            vpc_options=aws.opensearch.DomainVpcOptionsArgs(subnet_ids=subnets, security_group_ids=[domain_sg.id]),
            access_policies=pulumi.Output.all(domain_arn, delivery_role_arn, master_arn).apply(
                lambda v: domain_access_policy(v[0], [v[1], v[2]])),
            snapshot_options=aws.opensearch.DomainSnapshotOptionsArgs(automated_snapshot_start_hour=config.snapshot_hour),
            log_publishing_options=[
                aws.opensearch.DomainLogPublishingOptionArgs(log_type=log_type, cloudwatch_log_group_arn=arn,
                                                             enabled=True)
                for log_type, arn in log_groups.items()
            ],
            software_update_options=aws.opensearch.DomainSoftwareUpdateOptionsArgs(auto_software_update_enabled=True),
            opts=stateful_options(self, args.protect),
        )

    def _stream(self, name: str, args: LogSearchArgs, domain: aws.opensearch.Domain, bucket: aws.s3.Bucket,
                role: aws.iam.Role, role_policy: aws.iam.RolePolicy, subnets: pulumi.Output[list[str]],
                delivery_sg: aws.ec2.SecurityGroup) -> aws.kinesis.FirehoseDeliveryStream:
        return aws.kinesis.FirehoseDeliveryStream(
            f"{name}-stream",
            name=args.names.log_search_stream,
            destination="opensearch",
            server_side_encryption=aws.kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs(
                enabled=True, key_type="AWS_OWNED_CMK"),
            opensearch_configuration=aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationArgs(
                domain_arn=domain.arn,
                role_arn=role.arn,
                index_name=INDEX_NAME,
                index_rotation_period=INDEX_ROTATION,
                buffering_interval=args.config.buffer_seconds,
                buffering_size=BUFFER_MIB,
                retry_duration=RETRY_SECONDS,
                s3_backup_mode="FailedDocumentsOnly",
                s3_configuration=aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationS3ConfigurationArgs(
                    bucket_arn=bucket.arn, role_arn=role.arn, prefix=BACKUP_PREFIX, compression_format="GZIP"),
                vpc_config=aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationVpcConfigArgs(
                    role_arn=role.arn, subnet_ids=subnets, security_group_ids=[delivery_sg.id]),
                processing_configuration=aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationProcessingConfigurationArgs(
                    enabled=True,
                    processors=[aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationProcessingConfigurationProcessorArgs(
                        type=DECOMPRESSION,
                        parameters=[aws.kinesis.FirehoseDeliveryStreamOpensearchConfigurationProcessingConfigurationProcessorParameterArgs(
                            parameter_name="CompressionFormat", parameter_value="GZIP")],
                    )],
                ),
            ),
            # Firehose checks its role's permissions when the stream is created. Protected where stateful
            # resources are (it buffers records on their way), not retained: it holds nothing once drained.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy], protect=args.protect),
        )
