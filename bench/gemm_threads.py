"""The convolution benchmark's GEMMs on one BLAS thread against --threads threads: where a
second thread pays, which is what minigrad's BLAS thread policy (minigrad/kernels/blas.py)
decides per GEMM.

Each worker runs every configuration of bench/conv.py forward and backward once, recording
the matrix products minigrad's convolution makes (the GEMMs that go through
`kernels.blas.gemm`), then times each distinct product alone: the median of `--repeats`
runs after a warm-up, wall clock and process time (all threads), per GEMM (a product of
stacked matrices is a loop of GEMMs). The policy is off in both workers, whose BLAS library
runs on --threads threads or, in the "1 thread" worker, on one (set with threadpoolctl at the
worker's start: the harness gives every pool --threads), so the figures are the library's
own. A ratio above 1 in the wall-clock row means the threads are faster; in the
CPU row, below 1 means they burn more CPU than they save.

    python bench/gemm_threads.py [--repeats 7] [--rounds 3] [--threads 2] [--quick]
                                 [--only NAME]
"""
import time

import numpy as np

import conv
import harness

ONE, ALL = "one", "all"
POLICY_OFF = {"MINIGRAD_BLAS_POLICY": "0"}
FRAMEWORKS = {ONE: ("1 thread", POLICY_OFF), ALL: ("--threads", POLICY_OFF)}
COMPARISONS = ((ONE, ALL),)


def recorded_products(name, config):
    """[(a, b, out)] of every np.matmul a forward and backward of `config` makes in
    minigrad's convolution, in order (the arrays themselves, so their layouts are kept)."""
    import minigrad as mg
    import minigrad.functional as F
    from minigrad.ops import conv as conv_op

    calls = []

    def recording_gemm(a, b, out=None):
        result = np.matmul(a, b, out=out)
        calls.append((a, b, out))
        return result

    kwargs, transpose = config[3:]
    operation = F.conv_transpose2d if transpose else F.conv2d
    x, w, bias = (mg.Tensor(a, requires_grad=True) for a in conv.make_arrays(config))
    conv_op.gemm, original = recording_gemm, conv_op.gemm
    try:
        out = operation(x, w, bias, **kwargs)
        out.backward(np.ones(out.shape, out.dtype))
    finally:
        conv_op.gemm = original
    return calls


def gemm_size(a, b):
    """(m, k, n, count): each GEMM is (m, k) @ (k, n), `count` of them in the product."""
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    count = int(np.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2])))
    return m, k, n, count


def time_product(a, b, out):
    """A `once` for harness.median_ms: (wall, CPU) seconds of one GEMM of the product."""
    count = gemm_size(a, b)[3]

    def once():
        cpu_start, start = time.process_time(), time.perf_counter()
        np.matmul(a, b, out=out)
        return ((time.perf_counter() - start) / count,
                (time.process_time() - cpu_start) / count)
    return once


def measure(framework, args):
    """{'<conv> <m>x<k>x<n> <MFLOP per GEMM> MF (x<count>)': {'us', 'CPU us'}} for every
    distinct GEMM of the selected configurations."""
    if framework == ONE:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1, user_api="blas")
    results = {}
    for name, config in conv.selected(args).items():
        seen = set()
        for a, b, out in recorded_products(name, config):
            m, k, n, count = gemm_size(a, b)
            case = f"{name} {m}x{k}x{n} {2 * m * k * n / 1e6:.1f} MF (x{count})"
            if case in seen:  # a later chunk of the same batch: the same GEMMs again
                continue
            seen.add(case)
            wall, cpu = harness.median_ms(time_product(a, b, out), args.repeats)
            results[case] = {"us": 1e3 * wall, "CPU us": 1e3 * cpu}
    return results


def main():
    args = harness.parse_compare_args(__doc__, repeats=7, only=dict(
        help="run only the convolutions whose name contains this"))
    harness.compare(__file__, args, measure, FRAMEWORKS, COMPARISONS, case_width=48, title=(
        "the GEMMs of bench/conv.py's convolutions (m x k x n, MFLOP of each, how many per "
        "product), "
        "microseconds per GEMM, wall clock and process time, on 1 BLAS thread and on "
        f"{args.threads}"))


if __name__ == "__main__":
    main()
