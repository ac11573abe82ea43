"""The kernel switch: ops call `kernels.<name>(...)` and get the Numba version or the
NumPy reference, whichever `set_jit` chose. Both modules define the same names with the
same signatures; `reference.py` is the specification and `jit.py` must agree with it.

Only loop-heavy work lives here (gathers, scatters, sliding windows); elementwise math
stays in NumPy inside the ops.
"""
import gc
import importlib
import os

from . import reference

_jit_enabled = os.environ.get("MINIGRAD_JIT", "1") != "0"
_jit_module = None  # imported on first use: importing Numba costs ~0.4 s


def set_jit(enabled):
    """Use the Numba kernels (True) or the NumPy reference kernels (False)."""
    global _jit_enabled
    _jit_enabled = bool(enabled)


def jit_enabled():
    return _jit_enabled


def backend():
    """The module whose kernels run now: `jit` or `reference`."""
    global _jit_module
    if not _jit_enabled:
        return reference
    if _jit_module is None:
        _jit_module = importlib.import_module(".jit", __name__)
        gc.freeze()  # Numba's ~50k long-lived objects: see the note in minigrad/__init__.py
    return _jit_module


def __getattr__(name):
    # `kernels.im2col(...)` resolves here on every call, so a switch takes effect at once.
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(backend(), name)
