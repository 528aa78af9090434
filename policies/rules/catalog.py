"""Every policy of the pack, in the order they are reported."""

from .baseline import BASELINE
from .invariants import INVARIANTS

PACK_NAME = "odyssey-machine-layer"
POLICIES = [*INVARIANTS, *BASELINE]
INVARIANT_NAMES = [p.name for p in INVARIANTS]
BASELINE_NAMES = [p.name for p in BASELINE]
