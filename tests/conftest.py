"""Settings for the whole suite."""

from hypothesis import settings

# A property test checks what holds, not how fast: Hypothesis's default 200 ms deadline per example is a timing
# assertion, and it failed routing tests on a loaded 2-core machine. Speed is measured by `make bench`, never by a test.
settings.register_profile("odyssey", deadline=None)
settings.load_profile("odyssey")
