"""Shared test setup: hypothesis profiles and the JIT on/off fixture.

HYPOTHESIS_PROFILE picks `dev` (quick), `ci` (the default under CI=true: more examples,
derandomized) or `thorough`.
"""
import os

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minigrad as mg

matplotlib.use("Agg")

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=15, **_common)
settings.register_profile("ci", max_examples=25, derandomize=True, **_common)
settings.register_profile("thorough", max_examples=400, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE",
                                     "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(params=[True, False], ids=["jit", "numpy"])
def jit(request):
    """Run the test once with the Numba kernels and once with the NumPy reference."""
    previous = mg.jit_enabled()
    mg.set_jit(request.param)
    yield request.param
    mg.set_jit(previous)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def torchvision_models():
    """torchvision.models, the oracle for minigrad.models (skips without torch/torchvision).

    torchvision's compiled ops do not load beside the CPU build of torch, but its models are
    pure Python and import once `torchvision._meta_registrations` (which registers those
    ops) is an empty module.
    """
    import sys
    import types

    pytest.importorskip("torch")
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    return pytest.importorskip("torchvision.models")
