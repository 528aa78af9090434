"""Entry point the Pulumi CLI runs: builds the pack, which serves the analyzer protocol until stopped."""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules.catalog import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.ADVISORY)
