"""Every policy of the pack, in the order they are reported."""

from .baseline import BASELINE
from .invariants import INVARIANTS
from .opensearch import OPENSEARCH
from .security import SECURITY
from .tenancy import TENANCY

PACK_NAME = "odyssey-machine-layer"
POLICIES = [*INVARIANTS, *TENANCY, *BASELINE, *SECURITY, *OPENSEARCH]
INVARIANT_NAMES = [p.name for p in INVARIANTS]
TENANCY_NAMES = [p.name for p in TENANCY]
BASELINE_NAMES = [p.name for p in BASELINE]
SECURITY_NAMES = [p.name for p in SECURITY]
