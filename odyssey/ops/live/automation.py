"""Embedding Odyssey: a small Python API over Pulumi's Automation API.

For chat-ops bots, portals and release pipelines (seed 004 deployed from a chat
bot)::

    from odyssey.ops.live.automation import Odyssey

    odyssey = Odyssey(on_event=lambda event: print(event))
    result = odyssey.up("prod", confirm=lambda preview: not preview.changes or ask(preview))
    if result.mandatory_violations:
        ...
    print(result.summary, result.outputs["serviceNames"])

A deploy that must survive the next CI ``up`` goes through
``odyssey.ops.live.release.release``: the stack file in git is what runs.

It drives the real Pulumi CLI on a project directory (a local-program
workspace: ``Pulumi.yaml``, ``__main__.py``, ``components/``, ``policies/`` and
the ``Pulumi.<stack>.yaml`` files), always with the policy pack and the
stack's policy config. ``Odyssey(project_dir=...)`` names it; the default is
the checkout this package runs from, or, for an installed package (``pip
install``, which installs the operator tools but not the program), the
current directory. The backend and the secrets passphrase
come from the environment, as for the CLI: ``PULUMI_BACKEND_URL`` (``file://``
works) and ``PULUMI_CONFIG_PASSPHRASE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odyssey.domain.images import pinned_image_problem

ROOT = Path(__file__).resolve().parents[3]
PROJECT_FILE = "Pulumi.yaml"
INSTALL_HINT = ("install the Pulumi CLI (curl -fsSL https://get.pulumi.com | sh, or see "
                "https://www.pulumi.com/docs/install/) and make sure `pulumi` is on PATH")
# Stacks whose `up`, `deploy` and `rollback` show the change summary and ask before changing anything
# (unless --yes), and whose destroy needs confirm=True.
PROTECTED_STACKS = frozenset({"prod"})


# Shown a preview's result, says whether to go on.
Confirm = Callable[["OperationResult"], bool]


class AutomationError(Exception):
    """Odyssey could not run the operation; the message says why and what to do."""


class CliMissingError(AutomationError):
    pass


class NotConfirmedError(AutomationError):
    """The change summary was shown and not confirmed; nothing changed."""


class PolicyViolationError(AutomationError):
    """The engine stopped on mandatory policy violations; ``result`` holds them."""

    def __init__(self, result: OperationResult):
        self.result = result
        names = ", ".join(sorted({v["policy"] for v in result.mandatory_violations}))
        super().__init__(f"pulumi {result.operation} of {result.stack} stopped on mandatory policy violations: {names}")


@dataclass
class OperationResult:
    """What an operation did: counts of changes by kind, the policy violations the engine reported, the outputs."""

    stack: str
    operation: str
    summary: dict[str, int] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # Each resource the operation creates, updates, replaces or deletes: {"op", "type", "name"}.
    changes: list[dict[str, str]] = field(default_factory=list)

    @property
    def mandatory_violations(self) -> list[dict[str, Any]]:
        return [v for v in self.violations if v["enforcementLevel"] == "mandatory"]


def violation_of(event: Any) -> dict[str, Any] | None:
    """The policy violation an engine event carries, in the offline gate's shape, or None."""
    policy = getattr(event, "policy_event", None)
    if policy is None:
        return None
    return {
        "pack": policy.policy_pack_name,
        "policy": policy.policy_name,
        "enforcementLevel": policy.enforcement_level,
        "urn": policy.resource_urn or "",
        "message": policy.message,
    }


def change_of(event: Any) -> dict[str, str] | None:
    """The resource change an engine event announces (anything but "same"), or None."""
    pre = getattr(event, "resource_pre_event", None)
    if pre is None:
        return None
    metadata = pre.metadata
    op = getattr(metadata.op, "value", metadata.op)
    if op in ("same", "read"):
        return None
    return {"op": op, "type": metadata.type, "name": metadata.urn.rsplit("::", 1)[-1]}


def _select_stack(stack: str, project_dir: Path) -> Any:
    """The real workspace: the Pulumi CLI on this repository's program and stack files."""
    from pulumi import automation as auto

    try:
        command = auto.PulumiCommand()
    except FileNotFoundError:
        raise CliMissingError(f"the Pulumi CLI is not installed: {INSTALL_HINT}") from None
    except auto.InvalidVersionError as error:
        raise CliMissingError(f"the Pulumi CLI is too old ({error}): {INSTALL_HINT}") from None
    try:
        return auto.select_stack(
            stack_name=stack, work_dir=str(project_dir),
            opts=auto.LocalWorkspaceOptions(pulumi_command=command),
        )
    except auto.StackNotFoundError:
        raise AutomationError(f"stack {stack} does not exist in this backend; create it with "
                              f"`pulumi stack init {stack}` (backend: $PULUMI_BACKEND_URL or `pulumi login`)") from None


def default_project_dir() -> Path:
    """The checkout this package runs from; for an installed package, the current directory."""
    return ROOT if (ROOT / PROJECT_FILE).is_file() else Path.cwd()


def project_dir_of(project_dir: Path | str | None) -> Path:
    """``project_dir`` (or the default) when it holds the program, else AutomationError saying what to pass."""
    resolved = Path(project_dir).resolve() if project_dir is not None else default_project_dir()
    if not (resolved / PROJECT_FILE).is_file():
        raise AutomationError(f"{resolved} is not an Odyssey project directory (no {PROJECT_FILE}): pass the "
                              "directory of a checkout, which holds Pulumi.yaml, __main__.py, components/ and "
                              "policies/ (Odyssey(project_dir=...), or run from it)")
    return resolved


class Odyssey:
    """Preview, deploy and inspect Odyssey stacks from Python.

    ``project_dir`` is the directory holding the program (see the module's
    docstring for the default). ``on_event`` receives every engine event as it
    streams (progress for a UI). ``select_stack`` is the workspace factory;
    tests pass a stand-in.
    """

    def __init__(
        self,
        project_dir: Path | str | None = None,
        on_event: Callable[[Any], None] | None = None,
        select_stack: Callable[[str, Path], Any] | None = None,
    ):
        self.project_dir = project_dir_of(project_dir)
        self.on_event = on_event
        self._factory = select_stack

    def _select_stack(self, stack: str, project_dir: Path) -> Any:
        return (self._factory or _select_stack)(stack, project_dir)

    def _policy_args(self, stack: str) -> dict[str, list[str]]:
        config = self.project_dir / "policies" / f"{stack}.json"
        return {
            "policy_packs": [str(self.project_dir / "policies")],
            "policy_pack_configs": [str(config)] if config.exists() else [],
        }

    def _run(self, stack_name: str, operation: str, **kwargs: Any) -> tuple[Any, OperationResult]:
        stack = self._select_stack(stack_name, self.project_dir)
        result = OperationResult(stack=stack_name, operation=operation)

        def on_event(event: Any) -> None:
            violation = violation_of(event)
            if violation is not None:
                result.violations.append(violation)
            change = change_of(event)
            if change is not None:
                result.changes.append(change)
            if self.on_event is not None:
                self.on_event(event)

        try:
            outcome = getattr(stack, operation)(on_event=on_event, **kwargs)
        except Exception as error:
            if not type(error).__module__.startswith("pulumi.automation"):
                raise
            # A mandatory violation makes the CLI exit non-zero; the violations came as events.
            if result.mandatory_violations:
                raise PolicyViolationError(result) from error
            raise AutomationError(f"pulumi {operation} of {stack_name} failed: {error}") from error
        return outcome, result

    def preview(self, stack: str) -> OperationResult:
        outcome, result = self._run(stack, "preview", **self._policy_args(stack))
        result.summary = _counts(outcome.change_summary)
        return result

    def up(self, stack: str, confirm: Confirm | None = None) -> OperationResult:
        """``pulumi up`` with the policy pack. With ``confirm``, a preview first: ``confirm(preview)`` must say yes."""
        if confirm is not None:
            preview = self.preview(stack)
            if preview.mandatory_violations:
                raise PolicyViolationError(preview)
            if not confirm(preview):
                raise NotConfirmedError(f"{stack}: not confirmed; nothing changed")
        outcome, result = self._run(stack, "up", **self._policy_args(stack))
        result.summary = _counts(outcome.summary.resource_changes)
        result.outputs = {name: output.value for name, output in (outcome.outputs or {}).items()}
        return result

    def refresh(self, stack: str) -> OperationResult:
        outcome, result = self._run(stack, "refresh")
        result.summary = _counts(outcome.summary.resource_changes)
        return result

    def outputs(self, stack: str) -> dict[str, Any]:
        return {name: output.value for name, output in self._select_stack(stack, self.project_dir).outputs().items()}

    def image(self, stack: str, service: str) -> str:
        """The image the stack file gives ``service`` (an unknown service is an AutomationError)."""
        workspace = self._select_stack(stack, self.project_dir)
        services = workspace.get_all_config().get("odyssey:services")
        known = _service_names(services.value if services is not None else "{}")
        if service not in known:
            raise AutomationError(f"stack {stack} has no service {service!r} (its services: "
                                  f"{', '.join(sorted(known)) or 'none'})")
        return workspace.get_config(image_key(service), path=True).value

    def set_image(self, stack: str, service: str, image: str) -> None:
        """Write ``image`` as ``service``'s version in the stack file (``pulumi config set --path``)."""
        from pulumi.automation import ConfigValue

        self._select_stack(stack, self.project_dir).set_config(image_key(service), ConfigValue(value=image), path=True)

    def deploy(self, stack: str, service: str, image: str, confirm: Confirm | None = None) -> OperationResult:
        """Set ``service``'s image in the stack file, then ``up`` with the policy pack.

        When the update does not happen (it fails, a policy stops it, ``confirm``
        says no) the stack file goes back to the image it had. Recording the new
        version in git, watching the rollout and agreeing with a rollback are
        ``odyssey.ops.live.release``'s (the stack file in git is what runs).
        """
        problem = pinned_image_problem(image)
        if problem:
            raise AutomationError(f"image: {problem}; deploy a version such as repo:1.4.2 or repo@sha256:<digest>")
        previous = self.image(stack, service)
        self.set_image(stack, service, image)
        try:
            return self.up(stack, confirm)
        except AutomationError:
            # Nothing was deployed: the stack config goes back to the version that runs.
            self.set_image(stack, service, previous)
            raise

    def destroy(self, stack: str, confirm: bool = False) -> OperationResult:
        """Tear a stack down. Protected stacks (prod) need ``confirm=True``."""
        if stack in PROTECTED_STACKS and not confirm:
            raise AutomationError(f"refusing to destroy {stack} without confirmation; pass confirm=True "
                                  "(and note its stateful resources are protected and retained)")
        outcome, result = self._run(stack, "destroy")
        result.summary = _counts(outcome.summary.resource_changes)
        return result


def image_key(service: str) -> str:
    """The config path of a service's image: the one place a version is written."""
    return f"odyssey:services.{service}.image"


def _counts(changes: Any) -> dict[str, int]:
    # Keys are OpType members ("create", "update", ...) or plain strings.
    return {getattr(kind, "value", kind): count for kind, count in (changes or {}).items()}


def _service_names(raw: str) -> set[str]:
    import json

    try:
        return set(json.loads(raw))
    except (json.JSONDecodeError, TypeError):
        return set()
