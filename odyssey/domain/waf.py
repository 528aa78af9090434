"""The rules of the web ACL in front of each shared ALB (Checkov CKV2_AWS_28), decided from plain values.

The AWS managed rule groups (``AWS_MANAGED_RULE_GROUPS``, shared with the pack)
run first, each blocking with its own actions; then a rate-based rule blocks
one client address past ``rate_limit`` requests per window. A web ACL allows
what no rule blocks. The shapes are pulumi-aws ``wafv2.WebAcl`` rule inputs
(snake_case keys, as the provider's ``WebAclRuleArgsDict``), so the component
passes them on unchanged and the pack sees them in engine camelCase.
"""

from __future__ import annotations

from typing import Any

from policies.rules.thresholds import AWS_MANAGED_RULE_GROUPS

AWS_VENDOR = "AWS"
RATE_RULE_NAME = "rate-limit-per-ip"
# AWS WAF RateBasedStatement (API reference): Limit 10 to 2,000,000,000 requests per evaluation window;
# EvaluationWindowSec 60, 120, 300 or 600.
RATE_LIMIT_MIN = 10
RATE_LIMIT_MAX = 2_000_000_000
RATE_WINDOWS_SECONDS = (60, 120, 300, 600)
# WAF's default window, and the one its documentation and console quote limits in.
DEFAULT_RATE_WINDOW_SECONDS = 300


def visibility(metric_name: str) -> dict[str, Any]:
    """Metrics and sampled requests on, so a blocked request can be found and explained."""
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def web_acl_rules(rate_limit: int, window_seconds: int = DEFAULT_RATE_WINDOW_SECONDS) -> list[dict[str, Any]]:
    """The managed rule groups in priority order (0, 1, 2), then the rate-based rule.

    Managed groups take ``override_action: none`` (their own rules' actions
    apply; ``count`` would only watch). Priorities are unique and ascending,
    as WAF evaluates them.
    """
    if not RATE_LIMIT_MIN <= rate_limit <= RATE_LIMIT_MAX:
        raise ValueError(f"rate_limit must be {RATE_LIMIT_MIN}-{RATE_LIMIT_MAX:,}, got {rate_limit}")
    if window_seconds not in RATE_WINDOWS_SECONDS:
        raise ValueError(f"window_seconds must be one of {RATE_WINDOWS_SECONDS}, got {window_seconds}")
    rules = [
        {
            "name": group,
            "priority": priority,
            "override_action": {"none": {}},
            "statement": {"managed_rule_group_statement": {"name": group, "vendor_name": AWS_VENDOR}},
            "visibility_config": visibility(group),
        }
        for priority, group in enumerate(AWS_MANAGED_RULE_GROUPS)
    ]
    rules.append({
        "name": RATE_RULE_NAME,
        "priority": len(AWS_MANAGED_RULE_GROUPS),
        "action": {"block": {}},
        "statement": {"rate_based_statement": {
            "limit": rate_limit, "aggregate_key_type": "IP", "evaluation_window_sec": window_seconds}},
        "visibility_config": visibility(RATE_RULE_NAME),
    })
    return rules
