"""Passing and failing resources for each security policy (issue 10), run by direct call and over the protocol."""

from __future__ import annotations

import json

from odyssey.domain.waf import web_acl_rules
from tests.policies.policy_harness import UNKNOWN, R

ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
CLUSTER = "aws:ecs/cluster:Cluster"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TD = "aws:ecs/taskDefinition:TaskDefinition"
SVC = "aws:ecs/service:Service"
BUCKET = "aws:s3/bucket:Bucket"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def camel(value):
    """The program's snake_case rule specs as the engine (and the pack) sees them."""
    if isinstance(value, dict):
        return {k.split("_")[0] + "".join(p.title() for p in k.split("_")[1:]): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


RULES = camel(web_acl_rules(2000))


def waf_stack(rules=RULES, logging=True, associated=True, internal=False):
    resources = [R(ALB, "alb", {"loadBalancerType": "application", "internal": internal}),
                 R(ACL, "waf", {"scope": "REGIONAL", "rules": rules})]
    if associated:
        resources.append(R(ASSOCIATION, "waf-assoc", {}, deps={"resourceArn": ["alb"], "webAclArn": ["waf"]}))
    if logging:
        resources += [R(LOG_GROUP, "waf-logs", {"name": "aws-waf-logs-x"}),
                      R(WAF_LOGGING, "waf-logging", {}, deps={"resourceArn": ["waf"], "logDestinationConfigs": ["waf-logs"]})]
    return resources


def counting(rules, name):
    return [{**r, "overrideAction": {"count": {}}} if r["name"] == name else r for r in rules]


EXEC_CONFIG = {"executeCommandConfiguration": {
    "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k", "logging": "OVERRIDE",
    "logConfiguration": {"cloudWatchLogGroupName": "/odyssey/prod/ecs-exec", "cloudWatchEncryptionEnabled": True}}}


def cluster(configuration):
    return [R(CLUSTER, "cluster", {"name": "odyssey-prod", "configuration": configuration})]


def logs_with_key(rotation=True, protect=True, encrypted=True):
    group = R(LOG_GROUP, "logs", {"name": "/odyssey/prod/app", "retentionInDays": 30.0},
              deps={"kmsKeyId": ["key"]} if encrypted else {})
    return [R(KEY, "key", {"enableKeyRotation": rotation}, protect=protect), group]


def audit_logs(days, writer=FLOW_LOG, prop="logDestination", name="/odyssey/prod/vpc-flow-logs"):
    return [R(LOG_GROUP, "audit", {"name": name, "retentionInDays": days}),
            R(writer, "writer", {}, deps={prop: ["audit"]})]


def container(name, read_only):
    return {"name": name, "image": "public.ecr.aws/nginx/nginx:1.27.2", "readonlyRootFilesystem": read_only}


def service(*containers, exec_enabled=False):
    return [R(TD, "web-task", {"containerDefinitions": json.dumps(list(containers))}),
            R(SVC, "web-service", {"enableExecuteCommand": exec_enabled}, deps={"taskDefinition": ["web-task"]})]


def bucket(rules=None, inline=None):
    resources = [R(BUCKET, "logs", {"lifecycleRules": inline} if inline else {})]
    if rules is not None:
        resources.append(R(LIFECYCLE, "logs-lifecycle", {"rules": rules}, deps={"bucket": ["logs"]}))
    return resources


def rule(days=1.0, **fields):
    return {"id": "r", "status": "Enabled", "abortIncompleteMultipartUpload": {"daysAfterInitiation": days}, **fields}


def alb(https=True, internal=False):
    resources = [R(ALB, "alb", {"loadBalancerType": "application", "internal": internal}),
                 R(LISTENER, "http", {"protocol": "HTTP", "port": 80.0}, deps={"loadBalancerArn": ["alb"]})]
    if https:
        resources.append(R(LISTENER, "https", {"protocol": "HTTPS", "port": 443.0}, deps={"loadBalancerArn": ["alb"]}))
    return resources


# (policy, resources, config, expected violation fragments (empty: passes), expect "cannot check")
SECURITY_CASES = {
    "waf-on-load-balancers": [
        ("the program's web ACL, associated and logging", waf_stack(), None, [], False),
        ("no web ACL", waf_stack(associated=False), None, ["'alb' has no WAF web ACL"], False),
        ("an internal ALB needs none", waf_stack(associated=False, internal=True), None, [], False),
        ("a managed group only counting", waf_stack(rules=counting(RULES, "AWSManagedRulesCommonRuleSet")), None,
         ["does not run the managed rule group AWSManagedRulesCommonRuleSet"], False),
        ("no rate rule, no logging", waf_stack(rules=RULES[:3], logging=False), None,
         ["has no rate-based rule that blocks", "does not log"], False),
        ("logging not required", waf_stack(logging=False), {"requireLogging": False}, [], False),
        ("a group the config adds", waf_stack(), {"requiredManagedRuleGroups": ["AWSManagedRulesSQLiRuleSet"]},
         ["AWSManagedRulesSQLiRuleSet"], False),
        ("the association's ALB unknown in preview", [R(ALB, "alb", {"internal": UNKNOWN})], None, [], True),
    ],
    "ecs-exec-encrypted": [
        ("key and encrypted logs", cluster(EXEC_CONFIG), None, [], False),
        ("no key", cluster({"executeCommandConfiguration": {
            **EXEC_CONFIG["executeCommandConfiguration"], "kmsKeyId": None}}), None,
         ["not encrypted with a customer-managed key"], False),
        ("logs not encrypted", cluster({"executeCommandConfiguration": {
            **EXEC_CONFIG["executeCommandConfiguration"], "logConfiguration": {"cloudWatchLogGroupName": "/x"}}}),
         None, ["session logs of cluster 'cluster' are not encrypted"], False),
        ("logs not encrypted, not required", cluster({"executeCommandConfiguration": {
            **EXEC_CONFIG["executeCommandConfiguration"], "logConfiguration": {"cloudWatchLogGroupName": "/x"}}}),
         {"requireEncryptedSessionLogs": False}, [], False),
        ("no configuration at all", cluster(None), None, ["not encrypted with a customer-managed key"], False),
        ("the stack's own key, rotated and protected", [R(KEY, "exec-key", {"enableKeyRotation": True}, protect=True),
                                                        R(CLUSTER, "cluster", {"configuration": EXEC_CONFIG},
                                                          deps={"configuration": ["exec-key"]})], None, [], False),
        ("the stack's own key, unprotected", [R(KEY, "exec-key", {"enableKeyRotation": True}),
                                              R(CLUSTER, "cluster", {"configuration": EXEC_CONFIG},
                                                deps={"configuration": ["exec-key"]})], None,
         ["'exec-key' encrypts ECS Exec sessions but is not rotated and protected"], False),
    ],
    "log-groups-encrypted": [
        ("encrypted with the stack's rotated, protected key", logs_with_key(), None, [], False),
        ("encrypted with a key from another stack", [R(LOG_GROUP, "logs", {"kmsKeyId": "arn:aws:kms:us-east-1:1:key/k"})],
         None, [], False),
        ("not encrypted", logs_with_key(encrypted=False), None, ["'logs' is not encrypted"], False),
        ("key neither rotated nor protected", logs_with_key(rotation=False, protect=False), None,
         ["is not rotated", "is not protected"], False),
        ("protection not required", logs_with_key(protect=False), {"requireKeyProtection": False}, [], False),
        ("key id unknown and not from this stack", [R(LOG_GROUP, "logs", {"kmsKeyId": UNKNOWN})], None, [], True),
    ],
    "security-logs-kept-a-year": [
        ("flow logs a year", audit_logs(365.0), None, [], False),
        ("flow logs forever", audit_logs(0.0), None, [], False),
        ("flow logs 90 days", audit_logs(90.0), None, ["'audit' keeps events 90 days", "at least 365"], False),
        ("exec transcripts 30 days", audit_logs(30.0, CLUSTER, "configuration", "/odyssey/prod/ecs-exec"), None,
         ["keeps events 30 days"], False),
        ("event audit log 30 days", audit_logs(30.0, EVENT_TARGET, "arn", "/aws/events/odyssey/prod/ecs"), None,
         ["keeps events 30 days"], False),
        ("WAF logs by name", [R(LOG_GROUP, "waf", {"name": "aws-waf-logs-odyssey-prod", "retentionInDays": 90.0})],
         None, ["'waf' keeps events 90 days"], False),
        ("operational logs keep theirs", [R(LOG_GROUP, "app", {"name": "/odyssey/prod/app", "retentionInDays": 30.0})],
         None, [], False),
        ("a configured minimum of 2 years", audit_logs(365.0), {"minimumRetentionDays": 731}, ["at least 731"], False),
        ("retention unknown", audit_logs(UNKNOWN), None, [], True),
    ],
    "containers-read-only-root": [
        ("read-only", service(container("web", True)), None, [], False),
        ("writable", service(container("web", False)), None, ["Container 'web' of task definition 'web-task'"], False),
        ("unset is writable", service({"name": "web", "image": "x:1"}), None, ["Container 'web'"], False),
        ("writable for ECS Exec is left to ecs-exec-writable-root", service(container("api", False), exec_enabled=True),
         None, [], False),
        ("writable for ECS Exec, exemption off", service(container("api", False), exec_enabled=True),
         {"exemptExecTasks": False}, ["Container 'api'"], False),
    ],
    "ecs-exec-writable-root": [
        ("no Exec", service(container("web", False)), None, [], False),
        ("Exec with a writable root", service(container("api", False), exec_enabled=True), None,
         ["'api' of task definition 'web-task' runs with a writable root filesystem because service 'web-service'"],
         False),
    ],
    "buckets-abort-incomplete-uploads": [
        ("bucket-wide, empty prefix (the program's)", bucket([rule(filter={"prefix": ""})]), None, [], False),
        ("bucket-wide, no filter", bucket([rule()]), None, [], False),
        ("one prefix only (before issue 10)", bucket([rule(filter={"prefix": "alb/"})]), None,
         ["no enabled bucket-wide lifecycle rule"], False),
        ("no lifecycle configuration", bucket(), None, ["'logs' has no enabled bucket-wide"], False),
        ("disabled", bucket([{**rule(), "status": "Disabled"}]), None, ["no enabled"], False),
        ("after 30 days", bucket([rule(30.0)]), None, ["within 7 days"], False),
        ("inline rule of a bucket", bucket(inline=[{"enabled": True, "abortIncompleteMultipartUploadDays": 1.0}]),
         None, [], False),
    ],
    "load-balancers-serve-https": [
        ("HTTPS and HTTP", alb(), None, [], False),
        ("plain HTTP only", alb(https=False), None, ["'alb' serves plain HTTP only"], False),
        ("internal, plain HTTP", alb(https=False, internal=True), None, [], False),
        ("internal too", alb(https=False, internal=True), {"internetFacingOnly": False}, ["serves plain HTTP"], False),
    ],
}
