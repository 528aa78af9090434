"""The Automation API wrapper, with a stand-in for the Pulumi workspace.

``Workspace`` below is a STAND-IN for ``pulumi.automation.Stack``: it records
the calls Odyssey makes and answers with the SDK's own result and event types.
It proves the orchestration (policy packs always applied, config path, events,
results, refusals), not Pulumi itself; ``test_real_cli`` does that when the CLI
and AWS credentials are present.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from pulumi.automation import ConfigValue, OutputValue, UpdateSummary
from pulumi.automation._cmd import CommandResult
from pulumi.automation._stack import PreviewResult, UpResult
from pulumi.automation.errors import CommandError
from pulumi.automation.events import EngineEvent, OpType, PolicyEvent, ResourcePreEvent, StepEventMetadata

from odyssey.ops.live.automation import (
    AutomationError,
    CliMissingError,
    NotConfirmedError,
    Odyssey,
    PolicyViolationError,
)
from tests.plans import ROOT

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/odyssey/api:2026.11.5"


def policy_event(level: str) -> EngineEvent:
    return EngineEvent(sequence=1, timestamp=0, policy_event=PolicyEvent(
        message="minSize is 2", color="never", policy_name="min-instances", policy_pack_name="odyssey-machine-layer",
        policy_pack_version="0.1.0", policy_pack_version_tag="v0.1.0", enforcement_level=level,
        resource_urn="urn:pulumi:prod::odyssey::aws:autoscaling/group:Group::cluster-nodes"))


def change_event(op: OpType, type_: str, name: str) -> EngineEvent:
    urn = f"urn:pulumi:prod::odyssey::{type_}::{name}"
    return EngineEvent(sequence=2, timestamp=0, resource_pre_event=ResourcePreEvent(
        metadata=StepEventMetadata(op=op, urn=urn, type=type_, provider="")))


class Workspace:
    """Stand-in for pulumi.automation.Stack (see the module docstring)."""

    def __init__(self, events=(), services='{"api": {"image": "acme/api:1.0.0"}}'):
        self.calls: list[tuple[str, dict]] = []
        self.events = list(events)
        self.config = {"odyssey:services": ConfigValue(value=services)}
        self.fail_with: Exception | None = None
        self.on_up = None  # what the update does to the world, for tests that watch it

    def _emit(self, on_event):
        for event in self.events:
            on_event(event)

    def preview(self, on_event=None, **kwargs):
        self.calls.append(("preview", kwargs))
        self._emit(on_event)
        return PreviewResult("", "", {OpType.CREATE: 3, OpType.SAME: 40})

    def up(self, on_event=None, **kwargs):
        self.calls.append(("up", kwargs))
        self._emit(on_event)
        if self.fail_with is not None:
            raise self.fail_with
        if self.on_up is not None:
            self.on_up()
        summary = UpdateSummary("update", datetime.now(), "", {}, {}, "succeeded",
                                resource_changes={OpType.UPDATE: 1, OpType.SAME: 42})
        return UpResult("", "", summary, {"clusterName": OutputValue("odyssey-prod", False)})

    def refresh(self, on_event=None, **kwargs):
        self.calls.append(("refresh", kwargs))
        return UpResult("", "", UpdateSummary("refresh", datetime.now(), "", {}, {}, "succeeded", resource_changes={}), {})

    def destroy(self, on_event=None, **kwargs):
        self.calls.append(("destroy", kwargs))
        summary = UpdateSummary("destroy", datetime.now(), "", {}, {}, "succeeded", resource_changes={OpType.DELETE: 43})
        return UpResult("", "", summary, {})

    def outputs(self):
        self.calls.append(("outputs", {}))
        return {"region": OutputValue("us-east-1", False)}

    def get_all_config(self):
        return self.config

    def get_config(self, key, path=False):
        self.calls.append(("get_config", {"key": key, "path": path}))
        return self.config.get(key, ConfigValue(value="acme/api:1.0.0"))

    def set_config(self, key, value, path=False):
        self.calls.append(("set_config", {"key": key, "value": value.value, "path": path}))
        self.config[key] = value


def odyssey_with(workspace: Workspace, events=None) -> tuple[Odyssey, list]:
    selected = []

    def select(stack, project_dir):
        selected.append((stack, project_dir))
        return workspace

    return Odyssey(project_dir=ROOT, on_event=events.append if events is not None else None, select_stack=select), selected


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_preview_always_applies_the_policy_pack_and_the_stacks_config(stack):
    workspace = Workspace()
    odyssey, selected = odyssey_with(workspace)
    result = odyssey.preview(stack)
    assert selected == [(stack, ROOT)]
    (call,) = workspace.calls
    assert call == ("preview", {"policy_packs": [str(ROOT / "policies")],
                                "policy_pack_configs": [str(ROOT / "policies" / f"{stack}.json")]})
    assert result.summary == {"create": 3, "same": 40}


def test_up_streams_events_and_collects_policy_violations_and_outputs():
    events = []
    workspace = Workspace(events=[policy_event("mandatory"), policy_event("advisory")])
    odyssey, _ = odyssey_with(workspace, events)
    result = odyssey.up("prod")
    assert len(events) == 2
    assert [v["enforcementLevel"] for v in result.violations] == ["mandatory", "advisory"]
    assert result.mandatory_violations[0]["policy"] == "min-instances"
    assert result.outputs == {"clusterName": "odyssey-prod"}
    assert result.summary == {"update": 1, "same": 42}


def test_deploy_sets_the_services_image_by_config_path_then_runs_up():
    workspace = Workspace()
    odyssey, _ = odyssey_with(workspace)
    odyssey.deploy("stage", "api", IMAGE)
    assert [name for name, _ in workspace.calls] == ["get_config", "set_config", "up"]
    assert workspace.calls[1][1] == {"key": "odyssey:services.api.image", "value": IMAGE, "path": True}
    assert workspace.calls[2][1]["policy_packs"] == [str(ROOT / "policies")]


def test_a_failed_deploy_puts_the_running_version_back_in_the_config():
    workspace = Workspace()
    workspace.fail_with = CommandError(CommandResult("", "error: update failed", 255))
    odyssey, _ = odyssey_with(workspace)
    with pytest.raises(AutomationError, match="pulumi up of stage failed"):
        odyssey.deploy("stage", "api", IMAGE)
    assert workspace.calls[-1] == ("set_config", {"key": "odyssey:services.api.image", "value": "acme/api:1.0.0",
                                                  "path": True})


def test_a_confirmed_up_previews_first_and_the_question_sees_the_changes():
    workspace = Workspace(events=[change_event(OpType.UPDATE, "aws:ecs/service:Service", "api"),
                                  change_event(OpType.SAME, "aws:ecs/cluster:Cluster", "cluster")])
    odyssey, _ = odyssey_with(workspace)
    asked = []
    result = odyssey.up("prod", confirm=lambda preview: asked.append(preview) or True)
    assert [name for name, _ in workspace.calls] == ["preview", "up"]
    (preview,) = asked
    assert preview.summary == {"create": 3, "same": 40}
    assert preview.changes == [{"op": "update", "type": "aws:ecs/service:Service", "name": "api"}]
    assert result.operation == "up"


def test_an_up_not_confirmed_changes_nothing():
    workspace = Workspace()
    odyssey, _ = odyssey_with(workspace)
    with pytest.raises(NotConfirmedError, match="prod: not confirmed; nothing changed"):
        odyssey.up("prod", confirm=lambda preview: False)
    assert [name for name, _ in workspace.calls] == ["preview"]


def test_a_deploy_not_confirmed_puts_the_image_back():
    workspace = Workspace()
    odyssey, _ = odyssey_with(workspace)
    with pytest.raises(NotConfirmedError):
        odyssey.deploy("prod", "api", IMAGE, confirm=lambda preview: False)
    assert [name for name, _ in workspace.calls] == ["get_config", "set_config", "preview", "set_config"]
    assert workspace.calls[-1][1]["value"] == "acme/api:1.0.0"


def test_a_preview_with_mandatory_violations_is_never_offered_for_confirmation():
    workspace = Workspace(events=[policy_event("mandatory")])
    odyssey, _ = odyssey_with(workspace)
    with pytest.raises(PolicyViolationError):
        odyssey.up("prod", confirm=lambda preview: pytest.fail("asked to confirm a violating change"))
    assert [name for name, _ in workspace.calls] == ["preview"]


def test_mandatory_violations_that_stop_the_engine_are_kept():
    workspace = Workspace(events=[policy_event("mandatory")])
    workspace.fail_with = CommandError(CommandResult("", "error: preview failed due to policy violations", 255))
    odyssey, _ = odyssey_with(workspace)
    with pytest.raises(PolicyViolationError) as error:
        odyssey.up("prod")
    assert error.value.result.mandatory_violations[0]["policy"] == "min-instances"
    assert "min-instances" in str(error.value)


@pytest.mark.parametrize("image, fragment", [("acme/api", "no tag"), ("acme/api:latest", "'latest'")])
def test_deploy_refuses_unpinned_images_before_touching_the_stack(image, fragment):
    workspace = Workspace()
    odyssey, selected = odyssey_with(workspace)
    with pytest.raises(AutomationError, match=fragment):
        odyssey.deploy("stage", "api", image)
    assert selected == [] and workspace.calls == []


def test_deploy_refuses_an_unknown_service():
    workspace = Workspace()
    odyssey, _ = odyssey_with(workspace)
    with pytest.raises(AutomationError, match="no service 'apy' \\(its services: api\\)"):
        odyssey.deploy("stage", "apy", IMAGE)
    assert workspace.calls == []


def test_destroy_refuses_prod_without_confirmation():
    workspace = Workspace()
    odyssey, _ = odyssey_with(workspace)
    with pytest.raises(AutomationError, match="refusing to destroy prod without confirmation"):
        odyssey.destroy("prod")
    assert workspace.calls == []
    assert odyssey.destroy("prod", confirm=True).summary == {"delete": 43}
    assert odyssey.destroy("stage").summary == {"delete": 43}


def test_outputs_and_refresh():
    workspace = Workspace()
    odyssey, _ = odyssey_with(workspace)
    assert odyssey.outputs("prod") == {"region": "us-east-1"}
    assert odyssey.refresh("prod").operation == "refresh"
    assert ("refresh", {}) in workspace.calls


def test_a_missing_cli_is_a_clear_error_with_the_install_hint(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(CliMissingError, match="get.pulumi.com"):
        Odyssey(project_dir=ROOT).preview("prod")


@pytest.mark.skipif(shutil.which("pulumi") is None or not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")),
                    reason="needs the Pulumi CLI and AWS credentials; neither can be had on the build machines")
def test_real_cli(tmp_path: Path, monkeypatch):
    """A throwaway stack on a file:// backend: preview it with the real engine and the policy pack."""
    from pulumi import automation as auto

    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "throwaway")
    stack = auto.create_stack("ci", work_dir=str(ROOT))
    try:
        for key, value in auto.LocalWorkspace(work_dir=str(ROOT)).get_all_config("prod").items():
            stack.set_config(key, value)
        # The throwaway stack runs its services on the cluster it owns: give it a listener slot.
        stack.set_config("odyssey:cluster.applicationStacks.ci", auto.ConfigValue(value="3"), path=True)
        result = Odyssey(project_dir=ROOT).preview("ci")
        assert result.mandatory_violations == []
    finally:
        stack.workspace.remove_stack("ci")
