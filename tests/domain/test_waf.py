"""The web ACL's rules, written out: a changed rule, priority or action fails here."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.waf import RATE_LIMIT_MAX, RATE_LIMIT_MIN, RATE_WINDOWS_SECONDS, web_acl_rules


def managed(name, priority):
    return {
        "name": name, "priority": priority, "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": {"name": name, "vendor_name": "AWS"}},
        "visibility_config": {"cloudwatch_metrics_enabled": True, "metric_name": name, "sampled_requests_enabled": True},
    }


def test_the_managed_groups_then_the_rate_rule():
    assert web_acl_rules(2000) == [
        managed("AWSManagedRulesCommonRuleSet", 0),
        managed("AWSManagedRulesKnownBadInputsRuleSet", 1),
        managed("AWSManagedRulesAmazonIpReputationList", 2),
        {
            "name": "rate-limit-per-ip", "priority": 3, "action": {"block": {}},
            "statement": {"rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP",
                                                   "evaluation_window_sec": 300}},
            "visibility_config": {"cloudwatch_metrics_enabled": True, "metric_name": "rate-limit-per-ip",
                                  "sampled_requests_enabled": True},
        },
    ]


@pytest.mark.parametrize("limit, window", [(RATE_LIMIT_MIN - 1, 300), (RATE_LIMIT_MAX + 1, 300), (100, 30)])
def test_limits_waf_refuses_are_refused(limit, window):
    with pytest.raises(ValueError):
        web_acl_rules(limit, window)


@given(st.integers(RATE_LIMIT_MIN, RATE_LIMIT_MAX), st.sampled_from(RATE_WINDOWS_SECONDS))
def test_priorities_are_unique_and_every_rule_blocks_or_defers_to_its_group(limit, window):
    rules = web_acl_rules(limit, window)
    assert [r["priority"] for r in rules] == list(range(len(rules)))
    assert len({r["name"] for r in rules}) == len(rules)
    # Exactly one of action / override_action, as WAF requires; none of them merely counts.
    for rule in rules:
        assert ("action" in rule) != ("override_action" in rule)
        assert "count" not in (rule.get("action") or rule["override_action"])
    assert rules[-1]["statement"]["rate_based_statement"]["limit"] == limit
