import pytest

from odyssey.domain.userdata import USER_DATA_MAX_BYTES, AgentSettings, render_user_data

EXPECTED = """#!/bin/bash
set -euo pipefail
cat >> /etc/ecs/ecs.config <<'ODYSSEY_ECS_CONFIG'
ECS_CLUSTER=odyssey-prod
ECS_CONTAINER_STOP_TIMEOUT=30s
ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=60m
ECS_IMAGE_CLEANUP_INTERVAL=30m
ECS_IMAGE_MINIMUM_CLEANUP_AGE=60m
ECS_ENABLE_CONTAINER_METADATA=true
ECS_RESERVED_MEMORY=256
ODYSSEY_ECS_CONFIG
cat > /etc/sysctl.d/90-odyssey.conf <<'ODYSSEY_SYSCTL'
net.core.somaxconn = 1024
vm.max_map_count = 262144
ODYSSEY_SYSCTL
sysctl --system
"""


def test_renders_ecs_config_and_sysctls_exactly():
    script = render_user_data(
        "odyssey-prod",
        AgentSettings(extra={"ECS_RESERVED_MEMORY": "256"}),
        {"vm.max_map_count": "262144", "net.core.somaxconn": "1024"},
    )
    assert script == EXPECTED


def test_no_sysctl_section_without_sysctls():
    script = render_user_data("c", AgentSettings(container_stop_timeout_seconds=90), {})
    assert "sysctl" not in script
    assert "ECS_CONTAINER_STOP_TIMEOUT=90s" in script


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"ECS_CLUSTER": "other"}, "set by Odyssey"),
        ({"ECS_ENABLE_CONTAINER_METADATA": "false"}, "set by Odyssey"),
        ({"reserved_memory": "1"}, "not an ECS agent variable"),
        ({"ECS_X": "a\nrm -rf /"}, "not allowed"),
        ({"ECS_X": "$(curl evil)"}, "not allowed"),
        ({"ECS_X": "ODYSSEY_ECS_CONFIG`"}, "not allowed"),
    ],
)
def test_bad_agent_settings_are_refused(extra, message):
    with pytest.raises(ValueError, match=message):
        render_user_data("c", AgentSettings(extra=extra), {})


@pytest.mark.parametrize(
    "sysctls, message",
    [({"vm": "1"}, "not a sysctl name"), ({"vm.max_map_count": "1; reboot"}, "not allowed")],
)
def test_bad_sysctls_are_refused(sysctls, message):
    with pytest.raises(ValueError, match=message):
        render_user_data("c", AgentSettings(), sysctls)


def test_user_data_size_limit():
    extra = {f"ECS_SETTING_{i}": "x" * 200 for i in range(100)}
    with pytest.raises(ValueError, match=str(USER_DATA_MAX_BYTES)):
        render_user_data("c", AgentSettings(extra=extra), {})
