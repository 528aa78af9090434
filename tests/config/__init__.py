"""Tests of `config`, mirroring its layout."""
