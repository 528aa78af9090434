"""The security settings of issue 10 at the config edge: read-only roots and tmpfs, ECS Exec's writable root, the
WAF switch and rate limit, and the security logs' retention; each bad input is one clear problem."""

from __future__ import annotations

import pytest

from odyssey.config.stack import parse_stack_config
from tests.config.test_app_config import BASE, assert_one_clear_problem, with_changes

NGINX_TMPFS = [{"containerPath": "/var/cache/nginx", "sizeMib": 64, "mountOptions": ["nosuid", "nodev", "noexec"]},
               {"containerPath": "/var/run", "sizeMib": 1}]


def services(raw: dict) -> dict:
    return parse_stack_config(raw, stack="prod").services


def test_services_run_read_only_by_default_and_writable_with_exec():
    raw = with_changes(lambda r: r["services"]["api"].update(enableExec=True))
    found = services(raw)
    assert (found["web"].readonly_root_filesystem, found["worker"].readonly_root_filesystem) == (True, True)
    assert found["api"].readonly_root_filesystem is False


def test_a_writable_root_may_be_asked_for_and_tmpfs_is_kept_in_order():
    raw = with_changes(lambda r: (r["services"]["web"].update(tmpfs=NGINX_TMPFS),
                                  r["services"]["worker"].update(readonlyRootFilesystem=False)))
    found = services(raw)
    assert found["worker"].readonly_root_filesystem is False
    assert [(m.container_path, m.size_mib, m.mount_options) for m in found["web"].tmpfs] == [
        ("/var/cache/nginx", 64, ["nosuid", "nodev", "noexec"]), ("/var/run", 1, [])]


def test_the_defaults_keep_security_logs_a_year_and_put_a_waf_in_front():
    config = parse_stack_config(BASE, stack="prod")
    assert (config.log_retention_days, config.security_log_retention_days) == (30, 365)
    waf = config.load_balancer_config.waf
    assert (waf.enabled, waf.rate_limit) == (True, 2000)


CASES = [
    ("exec with a read-only root", lambda r: r["services"]["api"].update(enableExec=True, readonlyRootFilesystem=True),
     "odyssey:services.api", "leave readonlyRootFilesystem unset (a service with enableExec then runs writable)",
     None),
    ("relative tmpfs path", lambda r: r["services"]["web"].update(tmpfs=[{"containerPath": "tmp", "sizeMib": 8}]),
     "odyssey:services.web.tmpfs[0].containerPath", "not an absolute container path", "/var/cache/nginx"),
    ("tmpfs path climbing out", lambda r: r["services"]["web"].update(
        tmpfs=[{"containerPath": "/var/../etc", "sizeMib": 8}]),
     "odyssey:services.web.tmpfs[0].containerPath", "not an absolute container path", None),
    ("tmpfs mounted twice", lambda r: r["services"]["web"].update(tmpfs=[{"containerPath": "/tmp", "sizeMib": 8}] * 2),
     "odyssey:services.web.tmpfs", "mounts /tmp more than once", None),
    ("tmpfs mount option ECS refuses", lambda r: r["services"]["web"].update(
        tmpfs=[{"containerPath": "/tmp", "sizeMib": 8, "mountOptions": ["noexe"]}]),
     "odyssey:services.web.tmpfs[0].mountOptions", "'noexe' not tmpfs mount options ECS accepts", "nosuid"),
    ("tmpfs of no size", lambda r: r["services"]["web"].update(tmpfs=[{"containerPath": "/tmp", "sizeMib": 0}]),
     "odyssey:services.web.tmpfs[0].sizeMib", "greater than or equal to 1", "64"),
    ("tmpfs beyond the container's memory", lambda r: r["services"]["web"].update(
        memory=128, tmpfs=[{"containerPath": "/tmp", "sizeMib": 100}, {"containerPath": "/cache", "sizeMib": 100}]),
     "odyssey:services.web", "tmpfs mounts take 200 MiB, above memory (128)", None),
    ("a rate limit WAF refuses", lambda r: r.update(loadBalancer={"waf": {"rateLimit": 5}}),
     "odyssey:loadBalancer.waf.rateLimit", "greater than or equal to 10", "2000"),
    ("a WAF key misspelled", lambda r: r.update(loadBalancer={"waf": {"enable": False}}),
     "odyssey:loadBalancer.waf.enable", "did you mean odyssey:loadBalancer.waf.enabled", None),
    ("a retention CloudWatch refuses", lambda r: r.update(securityLogRetentionDays=366),
     "odyssey:securityLogRetentionDays", "is 366; CloudWatch Logs accepts", "365"),
]


@pytest.mark.parametrize("label, change, key, fragment, example", CASES, ids=[c[0] for c in CASES])
def test_each_bad_input_is_one_clear_problem(label, change, key, fragment, example):
    assert_one_clear_problem(change, key, fragment, example)
