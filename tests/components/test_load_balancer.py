"""SharedLoadBalancer under Pulumi mocks."""

import json

import pytest

from tests.plans import ALB, BUCKET, CERT, INGRESS_RULE, LISTENER, of_type, one, plan_config


@pytest.fixture(scope="module")
def plan():
    return plan_config({"odyssey:loadBalancer": {"certificateArn": CERT, "accessLogExpirationDays": 60}})


def test_one_alb_in_the_public_subnets_with_safe_settings(plan):
    alb = one(plan, ALB)
    inputs = alb["inputs"]
    assert inputs["loadBalancerType"] == "application" and inputs["internal"] is False
    assert inputs["subnets"] == plan.outputs["publicSubnetIds"]
    assert inputs["dropInvalidHeaderFields"] is True
    assert inputs["desyncMitigationMode"] == "defensive"
    assert inputs["enableDeletionProtection"] is True
    assert inputs["name"] == "odyssey-test" and len(inputs["name"]) <= 32


def test_access_logs_go_to_the_log_bucket(plan):
    alb, bucket = one(plan, ALB), one(plan, BUCKET)
    assert alb["inputs"]["accessLogs"]["enabled"] is True
    assert alb["propertyDependencies"]["accessLogs"] == [bucket["urn"]]
    policy = one(plan, "aws:s3/bucketPolicy:BucketPolicy")
    assert policy["urn"] in alb["dependencies"]  # ELB checks write access when logging is enabled


def test_https_with_a_modern_tls_policy_and_a_404_default(plan):
    listeners = {l["inputs"]["port"]: l["inputs"] for l in of_type(plan, LISTENER)}
    https = listeners[443.0]
    assert https["protocol"] == "HTTPS"
    assert https["certificateArn"] == CERT
    assert https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"


def test_http_only_redirects_to_https(plan):
    http = next(l["inputs"] for l in of_type(plan, LISTENER) if l["inputs"]["port"] == 80.0)
    (action,) = http["defaultActions"]
    assert action["type"] == "redirect"
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


def test_access_log_bucket_is_private_encrypted_and_expires(plan):
    block = one(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    sse = one(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")["inputs"]
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    (lifecycle,) = one(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["inputs"]["rules"]
    assert lifecycle["status"] == "Enabled" and lifecycle["expiration"]["days"] == 60.0
    # Bucket-wide (Checkov CKV_AWS_300): an incomplete upload under any prefix is aborted.
    assert lifecycle["filter"] == {"prefix": ""} and lifecycle["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": 1.0}
    ownership = one(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")["inputs"]
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_bucket_policy_allows_log_delivery_and_denies_plain_http(plan):
    policy = json.loads(one(plan, "aws:s3/bucketPolicy:BucketPolicy")["inputs"]["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ElbAccountDelivery"]["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    assert statements["ElbServiceDelivery"]["Resource"].endswith("/alb/AWSLogs/123456789012/*")
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_bucket_is_protected_and_kept(plan):
    bucket = one(plan, BUCKET)
    assert bucket["protect"] is True and bucket["retainOnDelete"] is True
    assert bucket["inputs"]["forceDestroy"] is False


def test_without_a_certificate_http_serves_404_and_warns():
    plan = plan_config({"odyssey:loadBalancer": {"deletionProtection": False}})
    (listener,) = of_type(plan, LISTENER)
    assert listener["inputs"]["port"] == 80.0
    assert listener["inputs"]["defaultActions"][0]["type"] == "fixed-response"
    assert any("certificateArn is not set" in w for w in plan.warnings)
    assert plan.outputs["httpsListenerArn"] is None
    assert sorted(r["inputs"]["fromPort"] for r in of_type(plan, INGRESS_RULE) if "cidrIpv4" in r["inputs"]) == [80.0]
    assert one(plan, ALB)["inputs"]["enableDeletionProtection"] is False


def test_ingress_cidrs_restrict_the_alb():
    plan = plan_config({"odyssey:loadBalancer": {"certificateArn": CERT, "ingressCidrs": ["203.0.113.0/24", "198.51.100.0/24"]}})
    cidrs = sorted({r["inputs"]["cidrIpv4"] for r in of_type(plan, INGRESS_RULE) if "cidrIpv4" in r["inputs"]})
    assert cidrs == ["198.51.100.0/24", "203.0.113.0/24"]


def test_long_stack_names_still_fit_the_alb_name_limit():
    plan = plan_config({}, stack="customer-facing-production-eu-central-1")
    name = one(plan, ALB)["inputs"]["name"]
    assert len(name) <= 32 and name.startswith("odyssey-customer-facing-")


def test_regions_opened_since_2022_deliver_logs_through_the_service_principal_only():
    from odyssey.domain.iam import access_log_bucket_policy

    old = json.loads(access_log_bucket_policy("arn:aws:s3:::logs", ["alb"], "eu-west-1", "123456789012"))
    new = json.loads(access_log_bucket_policy("arn:aws:s3:::logs", ["alb"], "me-central-1", "123456789012"))
    assert [s["Sid"] for s in old["Statement"]] == ["ElbAccountDelivery", "ElbServiceDelivery", "DenyInsecureTransport"]
    assert old["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}
    assert [s["Sid"] for s in new["Statement"]] == ["ElbServiceDelivery", "DenyInsecureTransport"]


WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"


def test_a_web_acl_guards_the_alb_and_logs_to_its_waf_log_group(plan):
    acl, alb = one(plan, WEB_ACL), one(plan, ALB)
    assert (acl["inputs"]["name"], acl["inputs"]["scope"]) == ("odyssey-test", "REGIONAL")
    assert acl["inputs"]["defaultAction"] == {"allow": {}}
    assert [rule["name"] for rule in acl["inputs"]["rules"]] == [
        "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList",
        "rate-limit-per-ip"]
    assert acl["inputs"]["rules"][-1]["statement"]["rateBasedStatement"]["limit"] == 2000.0
    association = one(plan, WAF_ASSOCIATION)
    assert association["propertyDependencies"]["resourceArn"] == [alb["urn"]]
    assert association["propertyDependencies"]["webAclArn"] == [acl["urn"]]
    logging = one(plan, WAF_LOGGING)
    (group,) = [g for g in of_type(plan, "aws:cloudwatch/logGroup:LogGroup") if g["name"] == "ingress-waf-logs"]
    assert group["inputs"]["name"] == "aws-waf-logs-odyssey-test" and group["inputs"]["retentionInDays"] == 365.0
    assert logging["propertyDependencies"]["logDestinationConfigs"] == [group["urn"]]
    assert logging["propertyDependencies"]["resourceArn"] == [acl["urn"]]


def test_the_rate_limit_is_configurable_and_the_waf_can_be_turned_off():
    limited = plan_config({"odyssey:loadBalancer": {"certificateArn": CERT, "waf": {"rateLimit": 500}}})
    assert one(limited, WEB_ACL)["inputs"]["rules"][-1]["statement"]["rateBasedStatement"]["limit"] == 500.0
    off = plan_config({"odyssey:loadBalancer": {"certificateArn": CERT, "waf": {"enabled": False}}})
    assert not [r for r in off.resources if r["type"].startswith("aws:wafv2/")]
    assert not [g for g in of_type(off, "aws:cloudwatch/logGroup:LogGroup") if g["name"] == "ingress-waf-logs"]
