"""Tests of `ops`, mirroring its layout."""
