"""Container image references: the machine layer deploys pinned versions only.

The rule lives in the policy pack (``policies/rules/images.py``), which must be
self-contained when the Pulumi CLI runs it; the program and the pack share it
so that config validation and the gate can never disagree.
"""

from policies.rules.images import EXAMPLE, pinned_image_problem

__all__ = ["EXAMPLE", "pinned_image_problem"]
