"""The kernel switch: ops call `kernels.<name>(...)` and get the Numba version or the
NumPy reference, whichever `set_jit` chose. Both modules define the same names with the
same signatures; `reference.py` is the specification and `jit.py` must agree with it.

Only loop-heavy work lives here (gathers, scatters, sliding windows); elementwise math
stays in NumPy inside the ops.

float16: Numba has no half-precision arithmetic, and a float16 running sum loses digits fast.
So, as PyTorch's CPU kernels do, a kernel given float16 arrays computes in float32 and rounds
its results back to float16, on both paths (they agree, so a test can compare them). This
happens here, in one place, so no kernel needs a float16 variant.
"""
import functools
import gc
import importlib
import os

import numpy as np

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


# The kernels that write into arrays they are given (the convolution kernels): argument
# positions of those outputs, which the float16 path must copy back after computing.
_OUTPUT_ARGUMENTS = {"im2col": (1,), "col2im": (1,), "depthwise_conv2d": (2,),
                     "depthwise_conv2d_input_grad": (2,), "depthwise_conv2d_weight_grad": (2,)}


def _in_float32(name, kernel, *args):
    """Call `kernel` with its float16 arrays as float32; round float32 results and output
    arguments back to float16 (float64 results, such as statistics, stay float64)."""
    wide = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float16 else a
            for a in args]
    result = kernel(*wide)
    for i in _OUTPUT_ARGUMENTS.get(name, ()):
        if args[i] is not wide[i]:
            args[i][...] = wide[i]

    def narrow(value):
        if isinstance(value, tuple):
            return tuple(map(narrow, value))
        if isinstance(value, np.ndarray) and value.dtype == np.float32:
            return value.astype(np.float16)
        return value

    return narrow(result)


def _has_float16(args):
    return any(isinstance(a, np.ndarray) and a.dtype == np.float16 for a in args)


def _float16_through_float32(name, kernel):
    """`kernel`, except that a call with float16 arrays goes through _in_float32."""
    @functools.wraps(kernel)
    def call(*args):
        return _in_float32(name, kernel, *args) if _has_float16(args) else kernel(*args)

    return call


_calls = {}  # (backend module, kernel name) -> its wrapped kernel, made once


def __getattr__(name):
    # `kernels.im2col(...)` resolves here on every call, so a switch takes effect at once.
    if name.startswith("__"):
        raise AttributeError(name)
    module = backend()
    call = _calls.get((module, name))
    if call is None:
        call = _calls[(module, name)] = _float16_through_float32(name, getattr(module, name))
    return call
