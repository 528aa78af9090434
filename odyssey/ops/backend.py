"""Does a stack's ``odyssey:clusterStack`` name its owner the way this backend names stacks?

A StackReference takes the owner's fully qualified name ``<org>/<project>/<stack>``.
On Pulumi Cloud the organization is yours (``acme/odyssey/prod``); a
self-managed backend (``file://``, ``s3://``) has one, ``organization``. A
name in the other form fails only at deploy time, as an unknown stack. CI runs
this before every preview and up (``.github/workflows``)::

    python -m odyssey.ops.backend STACK --organization ORG

Exit code 0 when the stack owns its cluster or names its owner in ORG, 2 with
the line to write otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from odyssey.config.stack import NAMESPACE

SELF_MANAGED_ORGANIZATION = "organization"  # the only organization of a file:// or s3:// backend
KEY = f"{NAMESPACE}:clusterStack"


def owner_problem(cluster_stack: str | None, organization: str, project: str) -> str | None:
    """Why ``cluster_stack`` cannot be found from ``organization``'s backend, with the value to use; or None."""
    if cluster_stack is None:
        return None
    parts = cluster_stack.split("/")
    if len(parts) != 3:
        return f"{KEY} is {cluster_stack!r}; a StackReference needs <org>/<project>/<stack>, e.g. " \
               f"{organization}/{project}/prod"
    org, owner_project, owner = parts
    if org != organization or owner_project != project:
        where = ("a self-managed backend (file://, s3://), whose organization is always "
                 f"{SELF_MANAGED_ORGANIZATION!r}" if organization == SELF_MANAGED_ORGANIZATION
                 else f"the Pulumi Cloud organization {organization!r}")
        return f"{KEY} is {cluster_stack}, but this backend is {where}: set {KEY}: {organization}/{project}/{owner}"
    return None


def main(argv: list[str] | None = None) -> int:
    from odyssey.ops.offline.plan import PlanError, owner_of, read_stack_files

    parser = argparse.ArgumentParser(prog="python -m odyssey.ops.backend", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack")
    parser.add_argument("--organization", default=SELF_MANAGED_ORGANIZATION,
                        help="The backend's organization: yours on Pulumi Cloud, 'organization' self-managed.")
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    try:
        files = read_stack_files(args.project_dir.resolve(), args.stack)
    except PlanError as error:
        print(f"{args.stack}: {error}", file=sys.stderr)
        return 2
    cluster_stack = owner_of(files)
    problem = owner_problem(cluster_stack, args.organization, files.project)
    if problem:
        print(f"{args.stack}: {problem} (Pulumi.{args.stack}.yaml)", file=sys.stderr)
        return 2
    print(f"{args.stack}: " + (f"runs on {cluster_stack}" if cluster_stack else "owns its cluster"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
