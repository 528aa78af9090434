"""Odyssey: the machine layer for running Docker containers on AWS ECS.

The package holds what the Pulumi program decides (pure functions and the
typed stack configuration) and the operator tooling (the offline plan).
Importing it must stay cheap: the Pulumi program imports it on every run.
"""
