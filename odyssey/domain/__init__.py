"""Pure decisions: plain functions of plain values, standard library only.

Nothing here creates, reads or changes a resource, and nothing imports
pydantic, Pulumi or boto3; every function is tested against exact tables or
properties. Facts shared with the policy pack live in the pack's own pure
modules (``policies/rules``), because the pack must run alone, and are
re-exported here.
"""
