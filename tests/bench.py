"""The benchmark script as a module, for the tests that use its stack generators and its tables."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from types import ModuleType

from tests.plans import ROOT


@cache
def benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plan_scale", ROOT / "benchmarks" / "plan_scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module
