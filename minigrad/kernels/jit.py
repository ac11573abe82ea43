"""Numba kernels: the same names and signatures as `reference.py`, compiled with
`@njit(cache=True)` so a later process loads them from disk instead of compiling.

Threads: Numba's OpenMP layer spins after each parallel kernel while OpenBLAS spins after
each GEMM; on two cores alternating the two costs about 2x. The `workqueue` layer does
not spin, so it is chosen before any parallel kernel is compiled.
"""
import numba

numba.config.THREADING_LAYER = "workqueue"
