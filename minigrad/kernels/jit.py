"""Numba kernels: the same names and signatures as `reference.py`, compiled with
`@njit(cache=True)` so a later process loads them from disk instead of compiling.

Threads: Numba's OpenMP layer spins after each parallel kernel while OpenBLAS spins after
each GEMM; on two cores alternating the two costs about 2x. The `workqueue` layer does
not spin, so it is chosen before any parallel kernel is compiled.
"""
import math

import numba
import numpy as np

numba.config.THREADING_LAYER = "workqueue"


@numba.njit(cache=True, parallel=True)
def _erf_flat(x):
    out = np.empty(x.size, dtype=np.float64)
    for i in numba.prange(x.size):
        out[i] = math.erf(x[i])
    return out


def erf(x):
    """The error function, elementwise, in float64 (see reference.erf)."""
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)  # (x.size,)
    return _erf_flat(flat).reshape(np.shape(x))
