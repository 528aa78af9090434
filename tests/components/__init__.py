"""Tests of `components`, mirroring its layout."""
