"""Passing and failing domains for each OpenSearch policy (Security Hub Opensearch.1-8, .11), in the form of
``test_policies.CASES``: (label, resources, config, expected violation fragments, expect "cannot check")."""

from __future__ import annotations

from tests.policies.policy_harness import UNKNOWN, R

DOMAIN = "aws:opensearch/domain:Domain"
LEGACY = "aws:elasticsearch/domain:Domain"
LOG_GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/odyssey/prod/search-"

# What the program plans for prod, as the offline plan records it (numbers as floats).
GOOD = {
    "domainName": "odyssey-prod-logs", "engineVersion": "OpenSearch_2.19",
    "clusterConfig": {"instanceType": "r6g.large.search", "instanceCount": 3.0, "zoneAwarenessEnabled": True,
                      "zoneAwarenessConfig": {"availabilityZoneCount": 3.0}, "dedicatedMasterEnabled": True,
                      "dedicatedMasterCount": 3.0, "dedicatedMasterType": "m6g.large.search"},
    "encryptAtRest": {"enabled": True, "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/0a1b"},
    "nodeToNodeEncryption": {"enabled": True},
    "domainEndpointOptions": {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"},
    "advancedSecurityOptions": {"enabled": True, "internalUserDatabaseEnabled": False, "anonymousAuthEnabled": False,
                                "masterUserOptions": {"masterUserArn": "arn:aws:iam::123456789012:role/admin"}},
    "vpcOptions": {"subnetIds": ["subnet-a", "subnet-b", "subnet-c"], "securityGroupIds": ["sg-1"]},
    "logPublishingOptions": [
        {"logType": "AUDIT_LOGS", "cloudwatchLogGroupArn": LOG_GROUP_ARN + "audit", "enabled": True},
        {"logType": "ES_APPLICATION_LOGS", "cloudwatchLogGroupArn": LOG_GROUP_ARN + "errors", "enabled": True},
    ],
}


def domain(typ: str = DOMAIN, **changes) -> list[R]:
    props = {**GOOD}
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = {**props[key], **value} if isinstance(value, dict) and isinstance(props.get(key), dict) \
                else value
    return [R(typ, "search", props)]


def with_props(**props) -> list[R]:
    """A domain whose given top-level props replace the good ones whole."""
    return [R(DOMAIN, "search", {**GOOD, **props})]


def logs(*kept: str) -> list[dict]:
    return [o for o in GOOD["logPublishingOptions"] if o["logType"] in kept]


OPENSEARCH_CASES = {
    "opensearch-encrypted-at-rest": [
        ("customer-managed key", domain(), None, [], False),
        ("legacy Elasticsearch domain, customer-managed key", domain(LEGACY), None, [], False),
        ("not encrypted", domain(encryptAtRest={"enabled": False}), None, ["Encryption at rest is off"], False),
        ("AWS-managed key", with_props(encryptAtRest={"enabled": True}), None,
         ["encrypted with the AWS-managed key"], False),
        ("AWS-managed key allowed by config", with_props(encryptAtRest={"enabled": True}),
         {"requireCustomerManagedKey": False}, [], False),
        ("unknown encryption", domain(encryptAtRest=UNKNOWN), None, [], True),
    ],
    "opensearch-in-vpc": [
        ("private subnets", domain(), None, [], False),
        ("public endpoint", domain(vpcOptions=None), None, ["has a public endpoint"], False),
    ],
    "opensearch-node-to-node-encrypted": [
        ("encrypted", domain(), None, [], False),
        ("plain", domain(nodeToNodeEncryption={"enabled": False}), None, ["is not encrypted"], False),
    ],
    "opensearch-error-logs-to-cloudwatch": [
        ("published", domain(), None, [], False),
        ("audit only", domain(logPublishingOptions=logs("AUDIT_LOGS")), None, ["publish ES_APPLICATION_LOGS"], False),
        ("turned off", domain(logPublishingOptions=[{**o, "enabled": False} for o in GOOD["logPublishingOptions"]]),
         None, ["error logs do not reach"], False),
    ],
    "opensearch-audit-logs-to-cloudwatch": [
        ("published", domain(), None, [], False),
        ("errors only", domain(logPublishingOptions=logs("ES_APPLICATION_LOGS")), None, ["publish AUDIT_LOGS"], False),
        ("no logs at all", domain(logPublishingOptions=None), None, ["audit logs do not reach"], False),
    ],
    "opensearch-data-nodes-across-zones": [
        ("three nodes, three zones", domain(), None, [], False),
        ("one node, no zone awareness", domain(clusterConfig={"instanceCount": 1.0, "zoneAwarenessEnabled": False}),
         None, ["has 1 data node(s)", "span 1 availability zone(s)"], False),
        ("two zones", domain(clusterConfig={"zoneAwarenessConfig": {"availabilityZoneCount": 2.0}}), None,
         ["span 2 availability zone(s); at least 3"], False),
        ("two zones allowed by config", domain(clusterConfig={"zoneAwarenessConfig": {"availabilityZoneCount": 2.0}}),
         {"minimumZones": 2}, [], False),
        ("unknown count", domain(clusterConfig={"instanceCount": UNKNOWN}), None, [], True),
    ],
    "opensearch-fine-grained-access-control": [
        ("on, IAM master user", domain(), None, [], False),
        ("off", domain(advancedSecurityOptions={"enabled": False}), None, ["Fine-grained access control is off"],
         False),
        ("anonymous access", domain(advancedSecurityOptions={"anonymousAuthEnabled": True}), None,
         ["Anonymous access is on"], False),
    ],
    "opensearch-https-modern-tls": [
        ("HTTPS, TLS 1.2 PFS", domain(), None, [], False),
        ("plain HTTP allowed", domain(domainEndpointOptions={"enforceHttps": False}), None, ["accepts plain HTTP"],
         False),
        ("TLS 1.0 policy", domain(domainEndpointOptions={"tlsSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"}), None,
         ["tlsSecurityPolicy is Policy-Min-TLS-1-0-2019-07"], False),
        ("no policy", with_props(domainEndpointOptions={"enforceHttps": True}), None, ["unset (TLS 1.0 allowed)"],
         False),
    ],
    "opensearch-three-dedicated-masters": [
        ("three masters", domain(), None, [], False),
        ("no masters", domain(clusterConfig={"dedicatedMasterEnabled": False}), None,
         ["has no dedicated master nodes"], False),
        ("two masters", domain(clusterConfig={"dedicatedMasterCount": 2.0}), None,
         ["has 2 dedicated master node(s); at least 3"], False),
        ("five required by config", domain(), {"minimumMasters": 5}, ["has 3 dedicated master node(s); at least 5"],
         False),
    ],
}
