"""Tests of `domain`, mirroring its layout."""
