"""Tests of `policies`, mirroring its layout."""
