"""AWS's rules for the names Odyssey sets, written out from AWS's documents (and botocore's models), and
strategies for the names Pulumi and the stack config accept. Tests check the naming module against these,
so neither side is taken from the other."""

from __future__ import annotations

import re
import string

from hypothesis import strategies as st

ECS_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # clusters, services, task families
ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")  # ALBs and target groups
SCHEDULE_NAME = re.compile(r"^[0-9a-zA-Z\-_.]{1,64}$")  # EventBridge Scheduler
LOG_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")  # CloudWatch Logs
POLICY_NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,128}$")  # IAM policy names (and the log resource policy)
ROLE_NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}$")  # IAM role names
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
SSM_PATH = re.compile(r"^/[A-Za-z0-9_./-]+/$")  # SSM parameter hierarchy
SECRETS_MANAGER_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
WEB_ACL_NAME = re.compile(r"^[\w-]{1,128}$")  # AWS WAF CreateWebACL Name (also its metric name)
WAF_LOG_GROUP = re.compile(r"^aws-waf-logs-[.\-_/#A-Za-z0-9]{1,499}$")  # WAF's required prefix, CloudWatch's rule
KMS_ALIAS = re.compile(r"^alias/(?!aws/)[a-zA-Z0-9/_-]{1,250}$")  # KMS CreateAlias AliasName


def alb_name_ok(name: str) -> bool:
    return bool(ELB_NAME.match(name)) and not name.startswith("internal-")  # ELB reserves "internal-"


def dns_name_ok(name: str) -> bool:
    return len(name) <= 253 and all(DNS_LABEL.match(label) for label in name.split("."))


# Pulumi's rule for project and stack names; the config's rule for service and schedule names.
pulumi_names = st.text(alphabet=string.ascii_letters + string.digits + "_.-", min_size=1, max_size=100)
service_names = st.from_regex(r"\A[a-z]([a-z0-9-]{0,61}[a-z0-9])?\Z")
