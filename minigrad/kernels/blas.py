"""How many threads the BLAS library (OpenBLAS, MKL) may use for each of minigrad's GEMMs.

Why: on a machine with few cores, OpenBLAS's worker threads keep spinning for a while after
each multi-threaded GEMM, waiting for the next one, and Numba's parallel kernels (im2col,
col2im, the normalisation kernels), which run between the GEMMs, want the same cores: the
two pools fight, and small GEMMs were measured 5-50x slower on a loaded two-core machine. A
GEMM too small to gain from more threads (waking the pool and synchronising it cost more
than the other cores give) therefore runs on one thread, so the pool is never woken for it;
a larger one gets every thread the library is set to. `bench/gemm_threads.py` times the
convolution benchmark's GEMMs on one thread and on all: on a loaded two-core machine one
thread won at every size (1.9 to 302 MFLOP, 2-10x less CPU); where a second thread starts to
pay on a quiet machine is what sets ONE_THREAD_BELOW_FLOPS.

The user's setting is the ceiling: each GEMM reads the library's thread count as it stands
(OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, threadpoolctl's limits, the harness's --threads),
only ever lowers it, and restores it right after that one call, so nothing else in the
process sees a change.

Cost: threadpoolctl is imported and the process's libraries scanned once, at the first GEMM
the policy applies to, not at `import minigrad`. After that a GEMM in the policy's range pays
one read of the thread count (~1 us) and, when it must change, two switches (~2 us each: a
call into the library through threadpoolctl's controller object); every other GEMM pays a
few comparisons.

`MINIGRAD_BLAS_POLICY=0` in the environment (read at import) or `set_blas_policy(False)`
turns the policy off: every GEMM then runs with the library's own setting.
"""
import os

import numpy as np

# OpenBLAS itself runs a GEMM of fewer than 2**19 multiply-adds on one thread (its
# interface/gemm.c), so below this there is no pool to keep asleep and nothing to decide
POOL_FLOPS = 2 * 2**19
# GEMMs of fewer flops run on one thread. Provisional (8.4 MFLOP: LeNet-sized GEMMs on one
# thread, VGG-sized ones on all) until bench/gemm_threads.py runs on a quiet machine
ONE_THREAD_BELOW_FLOPS = 2 * 2**22

_enabled = os.environ.get("MINIGRAD_BLAS_POLICY", "1") != "0"
_libraries = None  # threadpoolctl's controllers of the loaded BLAS libraries, found once


def set_blas_policy(enabled):
    """Let minigrad choose each GEMM's BLAS threads (True) or leave them to the library."""
    global _enabled
    _enabled = bool(enabled)


def blas_policy_enabled():
    return _enabled


def gemm_threads(flops, allowed):
    """The threads a GEMM of `flops` (2*m*k*n) gets when the library is set to `allowed`:
    one below ONE_THREAD_BELOW_FLOPS, all of them from there on (with the policy off, all)."""
    return 1 if _enabled and flops < ONE_THREAD_BELOW_FLOPS else allowed


def blas_libraries():
    """The BLAS libraries loaded in this process, as threadpoolctl's controllers (an empty
    list when it finds none): scanned on the first call only, since a scan reads every loaded
    library (~2 ms, and ~25 ms to import threadpoolctl)."""
    global _libraries
    if _libraries is None:
        from threadpoolctl import ThreadpoolController
        _libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    return _libraries


def gemm(a, b, out=None):
    """np.matmul(a, b, out=out) with the BLAS threads `gemm_threads` picks for one of its
    GEMMs, (m, k) @ (k, n): a stack of matrices is a loop of such GEMMs, each deciding on its
    own whether to wake the pool. Shapes: NumPy's matmul rules (a 1-D operand is a vector)."""
    m = a.shape[-2] if a.ndim > 1 else 1
    n = b.shape[-1] if b.ndim > 1 else 1
    flops = 2 * m * a.shape[-1] * n
    if not _enabled or not POOL_FLOPS <= flops < ONE_THREAD_BELOW_FLOPS:
        return np.matmul(a, b, out=out)
    lowered = []  # (library, its count before) for each library this call changes
    for library in blas_libraries():
        allowed = library.get_num_threads()
        threads = gemm_threads(flops, allowed)
        if allowed and threads != allowed:
            library.set_num_threads(threads)
            lowered.append((library, allowed))
    try:
        return np.matmul(a, b, out=out)
    finally:
        for library, allowed in lowered:
            library.set_num_threads(allowed)
