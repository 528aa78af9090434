"""Options for resources that hold data (log groups, buckets).

In a stack that protects stateful resources, they are protected (a destroy or a
refactor that would delete them fails) and retained on delete (if protection is
lifted on purpose, the data still outlives the stack). Where a name moves in a
refactor, pass the old identity as an alias so the resource is not replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi


def stateful_options(
    parent: pulumi.Resource, protect: bool, aliases: Sequence[pulumi.Alias] = ()
) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect, aliases=list(aliases))
