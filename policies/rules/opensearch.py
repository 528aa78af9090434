"""The Security Hub controls for Amazon OpenSearch Service domains that a plan can show.

Advisory by default; ``policies/prod.json`` makes every policy of the pack
mandatory for prod. Each policy names its control ("Security Hub CSPM
controls for Amazon OpenSearch Service"). Two controls are left out on
purpose: Opensearch.9 (tagged) is met by the AWS provider's default tags,
which live on the provider, not in a domain's inputs, so no resource policy
sees them; Opensearch.10 (latest service software installed) is the domain's
state at run time (``UpdateAvailable``), which no plan shows; Odyssey turns on
automatic software updates instead.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .view import config_with_defaults, dig, truthy

OPENSEARCH_DOMAIN = "aws:opensearch/domain:Domain"
ELASTICSEARCH_DOMAIN = "aws:elasticsearch/domain:Domain"
DOMAINS = (OPENSEARCH_DOMAIN, ELASTICSEARCH_DOMAIN)
# Security Hub Opensearch.8 passes the newest policy only: TLS 1.2 at least, forward-secret ciphers.
LATEST_TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
THREE = 3  # Opensearch.6: data nodes; Opensearch.11: dedicated primary nodes; Odyssey's zones


def _domain_policy(name: str, description: str, check, schema: PolicyConfigSchema | None = None):
    """A policy over OpenSearch (and legacy Elasticsearch) domains: ``check(props, config)`` returns violations."""
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in DOMAINS:
            return
        for message in check(args.props, config_with_defaults(schema, args.get_config())):
            report(message)

    return ResourceValidationPolicy(name=name, description=description, config_schema=schema, validate=validate)


def _encrypted_at_rest(props: Any, config: dict[str, Any]) -> list[str]:
    if not truthy(dig(props, "encryptAtRest", "enabled")):
        return ["Encryption at rest is off: set encryptAtRest.enabled (it can only be set when the domain is "
                "created)."]
    if config["requireCustomerManagedKey"] and not dig(props, "encryptAtRest", "kmsKeyId"):
        return ["The domain is encrypted with the AWS-managed key: set encryptAtRest.kmsKeyId to a customer-managed "
                "key, whose policy and rotation the account controls."]
    return []


ENCRYPTION_SCHEMA = PolicyConfigSchema(properties={"requireCustomerManagedKey": {
    "type": "boolean", "default": True,
    "description": "Also require a customer-managed KMS key (encryptAtRest.kmsKeyId), not the AWS-managed one."}})

opensearch_encrypted_at_rest = _domain_policy(
    "opensearch-encrypted-at-rest",
    "OpenSearch domains encrypt their data at rest, with a customer-managed KMS key (Security Hub Opensearch.1).",
    _encrypted_at_rest, ENCRYPTION_SCHEMA,
)


def _in_vpc(props: Any, config: dict[str, Any]) -> list[str]:
    if not dig(props, "vpcOptions", "subnetIds"):
        return ["The domain has a public endpoint: place it in the VPC's private subnets (vpcOptions.subnetIds)."]
    return []


opensearch_in_vpc = _domain_policy(
    "opensearch-in-vpc",
    "OpenSearch domains live in a VPC with no public endpoint, reached through their security group "
    "(Security Hub Opensearch.2).",
    _in_vpc,
)


def _node_to_node(props: Any, config: dict[str, Any]) -> list[str]:
    if not truthy(dig(props, "nodeToNodeEncryption", "enabled")):
        return ["Traffic between the domain's nodes is not encrypted: set nodeToNodeEncryption.enabled."]
    return []


opensearch_node_to_node_encrypted = _domain_policy(
    "opensearch-node-to-node-encrypted",
    "OpenSearch domains encrypt the traffic between their nodes with TLS (Security Hub Opensearch.3).",
    _node_to_node,
)


def _publishes(props: Any, log_type: str) -> bool:
    return any(option.get("logType") == log_type and option.get("cloudwatchLogGroupArn")
               and option.get("enabled") is not False
               for option in dig(props, "logPublishingOptions", default=[]))


def _error_logs(props: Any, config: dict[str, Any]) -> list[str]:
    if not _publishes(props, "ES_APPLICATION_LOGS"):
        return ["The domain's error logs do not reach CloudWatch Logs: publish ES_APPLICATION_LOGS to a log group."]
    return []


opensearch_error_logs_to_cloudwatch = _domain_policy(
    "opensearch-error-logs-to-cloudwatch",
    "OpenSearch domains publish their error logs to CloudWatch Logs (Security Hub Opensearch.4).",
    _error_logs,
)


def _audit_logs(props: Any, config: dict[str, Any]) -> list[str]:
    if not _publishes(props, "AUDIT_LOGS"):
        return ["The domain's audit logs do not reach CloudWatch Logs: publish AUDIT_LOGS to a log group (it needs "
                "fine-grained access control)."]
    return []


opensearch_audit_logs_to_cloudwatch = _domain_policy(
    "opensearch-audit-logs-to-cloudwatch",
    "OpenSearch domains publish audit logs (who read or changed what) to CloudWatch Logs "
    "(Security Hub Opensearch.5).",
    _audit_logs,
)

ZONES_SCHEMA = PolicyConfigSchema(properties={
    "minimumDataNodes": {"type": "integer", "minimum": 1, "default": THREE,
                         "description": "Fewest data nodes (Opensearch.6 requires 3)."},
    "minimumZones": {"type": "integer", "minimum": 2, "maximum": 3, "default": THREE,
                     "description": "Fewest availability zones the data nodes span (zone awareness)."},
})


def _zones(props: Any, config: dict[str, Any]) -> list[str]:
    problems = []
    nodes = int(dig(props, "clusterConfig", "instanceCount", default=1))
    if nodes < config["minimumDataNodes"]:
        problems.append(f"The domain has {nodes} data node(s); at least {config['minimumDataNodes']} keep a replica "
                        "of every shard when one fails.")
    zones = int(dig(props, "clusterConfig", "zoneAwarenessConfig", "availabilityZoneCount", default=2)) \
        if truthy(dig(props, "clusterConfig", "zoneAwarenessEnabled")) else 1
    if zones < config["minimumZones"]:
        problems.append(f"The domain's data nodes span {zones} availability zone(s); at least "
                        f"{config['minimumZones']} (clusterConfig.zoneAwarenessEnabled with "
                        "zoneAwarenessConfig.availabilityZoneCount).")
    return problems


opensearch_data_nodes_across_zones = _domain_policy(
    "opensearch-data-nodes-across-zones",
    "OpenSearch domains have at least three data nodes with zone awareness, across three availability zones by "
    "default (Security Hub Opensearch.6).",
    _zones, ZONES_SCHEMA,
)


def _fine_grained(props: Any, config: dict[str, Any]) -> list[str]:
    problems = []
    if not truthy(dig(props, "advancedSecurityOptions", "enabled")):
        problems.append("Fine-grained access control is off: set advancedSecurityOptions.enabled.")
    if truthy(dig(props, "advancedSecurityOptions", "anonymousAuthEnabled")):
        problems.append("Anonymous access is on: set advancedSecurityOptions.anonymousAuthEnabled to false.")
    return problems


opensearch_fine_grained_access_control = _domain_policy(
    "opensearch-fine-grained-access-control",
    "OpenSearch domains decide access per index, document and field under fine-grained access control, with no "
    "anonymous access (Security Hub Opensearch.7).",
    _fine_grained,
)

TLS_SCHEMA = PolicyConfigSchema(properties={"allowedPolicies": {
    "type": "array", "items": {"type": "string"}, "default": [LATEST_TLS_POLICY],
    "description": "TLS security policies the domain endpoint may use."}})


def _tls(props: Any, config: dict[str, Any]) -> list[str]:
    problems = []
    if not truthy(dig(props, "domainEndpointOptions", "enforceHttps")):
        problems.append("The endpoint accepts plain HTTP: set domainEndpointOptions.enforceHttps.")
    policy = dig(props, "domainEndpointOptions", "tlsSecurityPolicy")
    if policy not in config["allowedPolicies"]:
        problems.append(f"domainEndpointOptions.tlsSecurityPolicy is {policy or 'unset (TLS 1.0 allowed)'}; use "
                        f"{' or '.join(config['allowedPolicies'])}.")
    return problems


opensearch_https_modern_tls = _domain_policy(
    "opensearch-https-modern-tls",
    "OpenSearch endpoints take HTTPS only, under the latest TLS security policy, Policy-Min-TLS-1-2-PFS-2023-10 "
    "(Security Hub Opensearch.8).",
    _tls, TLS_SCHEMA,
)

MASTERS_SCHEMA = PolicyConfigSchema(properties={"minimumMasters": {
    "type": "integer", "minimum": THREE, "default": THREE,
    "description": "Fewest dedicated master (primary) nodes; three keep a quorum when one fails."}})


def _masters(props: Any, config: dict[str, Any]) -> list[str]:
    if not truthy(dig(props, "clusterConfig", "dedicatedMasterEnabled")):
        return ["The domain has no dedicated master nodes: set clusterConfig.dedicatedMasterEnabled with "
                f"dedicatedMasterCount {config['minimumMasters']}."]
    count = int(dig(props, "clusterConfig", "dedicatedMasterCount", default=0))
    if count < config["minimumMasters"]:
        return [f"The domain has {count} dedicated master node(s); at least {config['minimumMasters']} keep a quorum "
                "when one fails."]
    return []


opensearch_three_dedicated_masters = _domain_policy(
    "opensearch-three-dedicated-masters",
    "OpenSearch domains have at least three dedicated master (primary) nodes, as AWS recommends for production "
    "(Security Hub Opensearch.11).",
    _masters, MASTERS_SCHEMA,
)

OPENSEARCH: list[Any] = [
    opensearch_encrypted_at_rest,
    opensearch_in_vpc,
    opensearch_node_to_node_encrypted,
    opensearch_error_logs_to_cloudwatch,
    opensearch_audit_logs_to_cloudwatch,
    opensearch_data_nodes_across_zones,
    opensearch_fine_grained_access_control,
    opensearch_https_modern_tls,
    opensearch_three_dedicated_masters,
]
