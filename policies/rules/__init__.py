"""The Odyssey policy pack's rules, importable without starting the analyzer server.

Only ``policies/__main__.py`` constructs the ``PolicyPack`` (which serves gRPC
and never returns); tests and tools import ``rules.catalog.POLICIES``.
"""
