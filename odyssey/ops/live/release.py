"""One source of truth for what runs: the stack file in git.

Pulumi reads a stack's configuration from ``Pulumi.<stack>.yaml`` in the
project directory, for the CLI and for the Automation API's local workspaces
alike; neither backend keeps a copy the next ``up`` would read instead (Pulumi
Cloud's service-managed config holds only an ESC environment reference and the
secrets settings). So the image a service runs is the ``image`` its stack file
names on main, and every path that changes it goes through that file:

* a CI ``up`` from main deploys what main's stack files say;
* ``release`` (``odyssey deploy`` and ``odyssey rollback``) starts only from a
  clean checkout level with its upstream, sets the image, runs ``up`` with the
  policy pack, follows the ECS rollout, and when it completes commits the stack
  file and pushes it, so the next CI ``up`` deploys the same image and changes
  nothing;
* when ECS's circuit breaker rolls the deployment back (or it fails), the stack
  file is set to the image ECS runs, which is the committed one, and nothing is
  committed: file, git and cluster agree;
* what ran before is ECS's own record: every task definition revision, active
  or deregistered, names its image (``aws_ops.previous_version``).

Keeping the version out of git (an SSM parameter the program looks up, or
``ignoreChanges`` on the service with deploys outside Pulumi) would give image
changes a second writer that a pull request cannot see or review; the stack
file keeps one writer, one history (``git log -p Pulumi.prod.yaml``) and one
review path for image and infrastructure changes alike.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odyssey.domain.images import pinned_image_problem
from odyssey.ops.live.automation import AutomationError, Confirm, Odyssey, OperationResult
from odyssey.ops.live.aws_ops import OpsError, Rollout, Version, primary_deployment, running_version, watch_rollout

# Git can take this long to reach a remote before a release gives up on it.
GIT_NETWORK_TIMEOUT_SECONDS = 120


class ReleaseError(Exception):
    """The release cannot start, or could not be recorded; the message says what to do."""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: list[str], start: int) -> Iterator[int]:
    """The indices of the lines nested under ``lines[start]`` (blank and comment lines included)."""
    for index in range(start + 1, len(lines)):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#") and _indent(lines[index]) <= _indent(lines[start]):
            return
        yield index


def with_image(text: str, service: str, image: str) -> str | None:
    """The stack file with ``service``'s image replaced on its own line, everything else as it was; None when the
    file does not spell ``odyssey:services.<service>.image`` as a block mapping (the engine then writes it).

    ``pulumi config set`` rewrites the whole file (formatting, quoting, key
    order across CLI versions): the commit that records a release is this one
    line, which a reviewer reads at a glance.
    """
    lines = text.splitlines(keepends=True)
    line = re.compile(r"^(\s*)(\S+):\s*(#.*)?$")
    value = re.compile(r"^(\s*image:\s*)(['\"]?)([^'\"#\s]+)\2(\s*(#.*)?)$")
    services = next((i for i, text_line in enumerate(lines) if (m := line.match(text_line.rstrip("\n")))
                     and m[2] == "odyssey:services"), None)
    if services is None:
        return None
    nested = [i for i in _block(lines, services) if lines[i].strip() and not lines[i].strip().startswith("#")]
    if not nested:
        return None
    level = _indent(lines[nested[0]])
    entry = next((i for i in nested if _indent(lines[i]) == level and (m := line.match(lines[i].rstrip("\n")))
                  and m[2] == service), None)
    if entry is None:
        return None
    fields = [i for i in _block(lines, entry) if lines[i].strip() and not lines[i].strip().startswith("#")]
    if not fields:
        return None
    for index in fields:
        if _indent(lines[index]) != _indent(lines[fields[0]]):
            continue
        found = value.match(lines[index].rstrip("\n"))
        if found:
            ending = "\n" if lines[index].endswith("\n") else ""
            lines[index] = f"{found[1]}{found[2]}{image}{found[2]}{found[4]}{ending}"
            return "".join(lines)
    return None


@dataclass(frozen=True)
class Checkout:
    """The git work tree holding the project: where a release's stack file is read, committed and pushed."""

    root: Path

    def _git(self, *args: str, network: bool = False) -> str:
        try:
            done = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, text=True,
                                  timeout=GIT_NETWORK_TIMEOUT_SECONDS if network else None)
        except FileNotFoundError:
            raise ReleaseError("git is not installed; a release records the stack file in git") from None
        except subprocess.TimeoutExpired:
            raise ReleaseError(f"git {args[0]} did not answer in {GIT_NETWORK_TIMEOUT_SECONDS} s") from None
        if done.returncode != 0:
            raise ReleaseError(f"git {' '.join(args)}: {(done.stderr or done.stdout).strip()}")
        return done.stdout.strip()

    def stack_file(self, stack: str) -> str:
        return f"Pulumi.{stack}.yaml"

    def ensure_releasable(self, stack: str) -> str:
        """The upstream branch HEAD is level with, after a fetch; a ReleaseError when the release must not start.

        Refused: not a git work tree; uncommitted changes to tracked files (the
        ``up`` would deploy them and no commit would record them); no upstream;
        HEAD behind its upstream (the ``up`` would undo what was merged since)
        or ahead of it (the push would publish unreviewed commits).
        """
        try:
            self._git("rev-parse", "--is-inside-work-tree")
        except ReleaseError:
            raise ReleaseError(f"{self.root} is not a git checkout: the stack file in git is what runs, so a release "
                               "starts from a clone of the repository") from None
        dirty = self._git("diff", "--name-only", "HEAD")  # staged or not
        if dirty:
            files = ", ".join(dirty.splitlines())
            raise ReleaseError(f"uncommitted changes ({files}): commit or stash them first; a release deploys and "
                               "commits only the image change")
        try:
            upstream = self._git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
        except ReleaseError:
            raise ReleaseError("the branch has no upstream: check out the branch CI deploys (main), tracking its "
                               "remote") from None
        self._git("fetch", "--quiet", upstream.split("/", 1)[0], network=True)
        behind, ahead = (int(n) for n in self._git("rev-list", "--left-right", "--count",
                                                    f"{upstream}...HEAD").split())
        if behind:
            raise ReleaseError(f"the checkout is {behind} commit(s) behind {upstream}: pull first, or the update "
                               "would undo what was merged since")
        if ahead:
            raise ReleaseError(f"the checkout has {ahead} commit(s) not on {upstream}: push them through review "
                               "first, or the release would publish them")
        return upstream

    def write_image(self, odyssey: Odyssey, stack: str, service: str, image: str) -> None:
        """Name ``image`` as ``service``'s version in the stack file: one line when the file allows, else through
        the engine; then check the engine reads it back."""
        path = self.root / self.stack_file(stack)
        edited = with_image(path.read_text(), service, image)
        if edited is None:
            odyssey.set_image(stack, service, image)
        else:
            path.write_text(edited)
        if odyssey.image(stack, service) != image:
            self.restore(stack)
            raise ReleaseError(f"{self.stack_file(stack)}: wrote {image} as {service}'s image but Pulumi reads "
                               f"{odyssey.image(stack, service)}; the file is back as committed")

    def restore(self, stack: str) -> None:
        """The stack file as committed."""
        self._git("checkout", "HEAD", "--", self.stack_file(stack))

    def is_clean(self, stack: str) -> bool:
        return not self._git("status", "--porcelain", "--", self.stack_file(stack))

    def record(self, stack: str, message: str, push: bool) -> tuple[str, str | None]:
        """Commit the stack file; push it when asked. The commit, and why the push failed (None when it did not)."""
        self._git("add", "--", self.stack_file(stack))
        self._git("commit", "--quiet", "-m", message, "--", self.stack_file(stack))
        commit = self._git("rev-parse", "--short", "HEAD")
        if not push:
            return commit, "not pushed (--no-push)"
        try:
            self._git("push", "--quiet", network=True)
        except ReleaseError as error:
            # Something was merged while the release ran: put the one-line commit on top of it and push once more.
            if not self._rebased():
                return commit, str(error)
            commit = self._git("rev-parse", "--short", "HEAD")
            try:
                self._git("push", "--quiet", network=True)
            except ReleaseError as again:
                return commit, str(again)
        return commit, None

    def _rebased(self) -> bool:
        try:
            self._git("pull", "--quiet", "--rebase", network=True)
        except ReleaseError:
            try:
                self._git("rebase", "--abort")
            except ReleaseError:
                pass  # the pull failed before the rebase started: nothing to abort
            return False
        return True


@dataclass
class Released:
    """What a release did. ``agreed`` is the version the stack file and ECS agree on after a failed rollout."""

    stack: str
    service: str
    image: str
    update: OperationResult
    rollout: Rollout | None = None
    commit: str | None = None
    push_problem: str | None = None
    agreed: Version | None = None
    file_clean: bool = True

    @property
    def recorded(self) -> bool:
        """The new version is on the upstream branch: the next CI ``up`` deploys it too."""
        return self.commit is not None and self.push_problem is None


@dataclass(frozen=True)
class Cluster:
    """Where the service runs, to follow its rollout: an ECS client, the cluster and the service's ECS name."""

    ecs: Any
    name: str
    service: str


def release(odyssey: Odyssey, checkout: Checkout, stack: str, service: str, image: str, cluster: Cluster | None,
            confirm: Confirm | None = None, push: bool = True, message: str | None = None,
            on_progress: Callable[[dict[str, Any]], None] | None = None, timeout_seconds: float = 1800,
            poll_seconds: float = 10) -> Released:
    """Deploy ``image`` as ``service``'s version and make git, the stack file and ECS agree on what runs.

    ``cluster`` None skips the rollout: the version is recorded once ``up``
    succeeds (a later circuit-breaker rollback then shows in ``odyssey status``).
    Raises ReleaseError before anything changes when the checkout is not
    releasable, and AutomationError (the stack file restored) when ``up`` does
    not happen.
    """
    problem = pinned_image_problem(image)
    if problem:
        raise ReleaseError(f"image: {problem}; deploy a version such as repo:1.4.2 or repo@sha256:<digest>")
    checkout.ensure_releasable(stack)
    previous = primary_deployment(cluster.ecs, cluster.name, cluster.service) if cluster else None
    odyssey.image(stack, service)  # an unknown service stops here, before the file changes
    checkout.write_image(odyssey, stack, service, image)
    try:
        update = odyssey.up(stack, confirm)
    except AutomationError:
        checkout.restore(stack)  # byte for byte as committed
        raise
    released = Released(stack, service, image, update)
    if cluster is not None:
        released.rollout = watch_rollout(cluster.ecs, cluster.name, cluster.service, previous,
                                         on_progress=on_progress, poll_seconds=poll_seconds,
                                         timeout_seconds=timeout_seconds)
        if released.rollout.outcome != "COMPLETED":
            # The stack file follows ECS: after a rollback that is the committed image again.
            checkout.restore(stack)
            try:
                released.agreed = running_version(cluster.ecs, cluster.name, cluster.service, service)
            except OpsError as error:
                raise OpsError(f"{error}; the stack file names the committed image again, which ECS may not run: "
                               "check `odyssey status`") from None
            if odyssey.image(stack, service) != released.agreed.image:
                checkout.write_image(odyssey, stack, service, released.agreed.image)
            released.file_clean = checkout.is_clean(stack)
            return released
    released.commit, released.push_problem = checkout.record(
        stack, message or f"deploy {stack}/{service}: {image}", push)
    return released
