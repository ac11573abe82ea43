"""NumPy reference kernels: the specification of every kernel, written to be read.

Each function here has a twin of the same name and signature in `jit.py`.
"""
import math

import numpy as np


def erf(x):
    """The error function, elementwise, in float64 (NumPy has none; math.erf is libm's).

    Shapes: x (any) -> same shape, float64.
    """
    return np.vectorize(math.erf, otypes=[np.float64])(x)
