"""The kernel switch: set_jit / jit_enabled and the MINIGRAD_JIT environment variable."""
import os
import subprocess
import sys

import minigrad as mg
from minigrad import kernels
from minigrad.kernels import reference


def test_set_jit_switches_the_backend():
    previous = mg.jit_enabled()
    try:
        mg.set_jit(False)
        assert not mg.jit_enabled() and kernels.backend() is reference
        mg.set_jit(True)
        assert mg.jit_enabled() and kernels.backend().__name__ == "minigrad.kernels.jit"
    finally:
        mg.set_jit(previous)


def test_environment_variable_starts_with_jit_off():
    code = "import minigrad as mg; print(mg.jit_enabled())"
    env = dict(os.environ, MINIGRAD_JIT="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "False"


def test_both_backends_define_the_same_kernels():
    from minigrad.kernels import jit

    def public(module):
        return {name for name, value in vars(module).items()
                if callable(value) and not name.startswith("_")
                and getattr(value, "__module__", "").startswith("minigrad")}

    assert public(reference) <= set(dir(jit))
