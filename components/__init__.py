"""Pulumi components of the machine layer. One component per module."""
