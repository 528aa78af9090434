"""Odyssey: the machine layer for running Docker containers on AWS ECS.

Layers, each importing only the ones above it:

* ``odyssey.domain``: pure decisions (names, AMI, capacity, user data,
  placement, routing, schedules, event patterns, IAM documents, container
  definitions, AWS quotas, the machine layer's invariants). Standard library
  only; cannot change anything anywhere.
* ``odyssey.config``: the stack configuration, parsed once at the edge into
  typed models, with the checks across keys.
* ``components/`` (beside this package, not in it): the Pulumi components that
  turn those decisions into resources; only the Pulumi program imports them.
* ``odyssey.contract``: the machine-layer outputs one stack reads from another.

The operator tools in ``odyssey.ops`` sit beside the program, never under it:
``ops.offline`` plans and gates without touching AWS, ``ops.live`` talks to
the Pulumi engine and to AWS (the only code here that can change deployed
resources), and ``ops.cli`` is the ``odyssey`` command. The program imports
nothing from ``ops``; ``ops`` imports no component.
"""
