"""Convolution speed: minigrad (Numba kernels, and its NumPy reference) against PyTorch,
float32, forward and forward+backward (input, weight and bias gradients).

Each framework runs in a worker process of its own (harness.compare): every configuration
timed as the median of `--repeats` runs after a warm-up; the ratios printed are the medians
over `--rounds` rounds, which alternate the workers' order, with their range. GFLOP/s
counts 2 flops per multiply-add of the convolution itself (forward 1x, forward+backward 3x
the forward's flops).

minigrad's BLAS thread policy (minigrad/kernels/blas.py: GEMMs below a size on one BLAS
thread): with --blas-policy-off one more worker runs minigrad with it off
(MINIGRAD_BLAS_POLICY=0: every GEMM on all --threads threads), and with
--blas-one-thread-below M1 M2 ... one more per size, with the policy's threshold set to that
many MFLOP per GEMM; the table adds minigrad's ratio to each.

    python bench/conv.py [--repeats 7] [--rounds 3] [--threads 2] [--quick] [--only NAME]
                         [--no-torch] [--blas-policy-off] [--blas-one-thread-below MFLOP ...]
"""
import statistics

import numpy as np

import harness

POLICY_OFF = "minigrad-policy-off"
THRESHOLD_WORKER = "minigrad-one-thread-below-"  # + MFLOP

# name: (input (N, Cin, H, W), Cout, kernel, keyword arguments, transpose?)
CONFIGS = {
    "LeNet k5": ((32, 3, 32, 32), 16, 5, {}, False),
    "VGG k3 p1": ((32, 64, 32, 32), 64, 3, dict(padding=1), False),
    "strided k3 s2 p1": ((16, 128, 16, 16), 128, 3, dict(stride=2, padding=1), False),
    "dilated k3 p2 d2": ((8, 64, 32, 32), 64, 3, dict(padding=2, dilation=2), False),
    "ResNeXt k3 p1 g32": ((16, 128, 16, 16), 128, 3, dict(padding=1, groups=32), False),
    "depthwise k3 p1 g128": ((16, 128, 16, 16), 128, 3, dict(padding=1, groups=128), False),
    "transpose k4 s2 p1": ((16, 64, 16, 16), 32, 4, dict(stride=2, padding=1), True),
}


def make_arrays(config, seed=0):
    """Random float32 input, weight and bias for a configuration."""
    (N, Cin, H, W), Cout, k, kwargs, transpose = config
    groups = kwargs.get("groups", 1)
    rng = np.random.default_rng(seed)
    w_shape = (Cin, Cout // groups, k, k) if transpose else (Cout, Cin // groups, k, k)
    return [rng.standard_normal(s).astype(np.float32) for s in ((N, Cin, H, W), w_shape, (Cout,))]


def output_shape(config):
    """(N, Cout, Ho, Wo) of a configuration, by PyTorch's formulas."""
    (N, Cin, H, W), Cout, k, kwargs, transpose = config
    stride, padding = kwargs.get("stride", 1), kwargs.get("padding", 0)
    dilation = kwargs.get("dilation", 1)
    if transpose:
        size = [(n - 1) * stride - 2 * padding + dilation * (k - 1) + 1 for n in (H, W)]
    else:
        size = [(n + 2 * padding - dilation * (k - 1) - 1) // stride + 1 for n in (H, W)]
    return (N, Cout, *size)


def flops(config):
    """2 * multiply-adds of the forward: each output value of a conv sums Cin/G*k*k
    products; for the transpose, each input value scatters into Cout/G*k*k outputs."""
    (N, Cin, H, W), Cout, k, kwargs, transpose = config
    groups = kwargs.get("groups", 1)
    if transpose:
        return 2 * N * Cin * H * W * (Cout // groups) * k * k
    return 2 * int(np.prod(output_shape(config))) * (Cin // groups) * k * k


def selected(args):
    """The configurations --only picks."""
    return {name: config for name, config in CONFIGS.items()
            if not args.only or args.only in name}


def measure(framework, args):
    """{configuration: {pass: ms}} of every selected configuration on `framework`."""
    if framework == harness.TORCH:
        torch = harness.require_torch(args)
        conv2d, conv_transpose2d = (torch.nn.functional.conv2d,
                                    torch.nn.functional.conv_transpose2d)
    else:
        import minigrad.functional as F
        import minigrad.kernels.blas as blas
        if framework.startswith(THRESHOLD_WORKER):
            blas.ONE_THREAD_BELOW_FLOPS = 1e6 * float(framework[len(THRESHOLD_WORKER):])
        conv2d, conv_transpose2d = F.conv2d, F.conv_transpose2d
    results = {}
    for name, config in selected(args).items():
        kwargs, transpose = config[3:]
        conv = conv_transpose2d if transpose else conv2d
        results[name] = harness.op_pass_ms(
            framework, args.repeats, lambda x, w, b: conv(x, w, b, **kwargs),
            lambda x, w, b: conv(x, w, b, **kwargs), *make_arrays(config))
    return results


def blas_policy_workers(args):
    """The extra minigrad workers of --blas-policy-off and --blas-one-thread-below:
    {name: (label, environment)}."""
    workers = {}
    if args.blas_policy_off:
        workers[POLICY_OFF] = ("no policy", {"MINIGRAD_BLAS_POLICY": "0"})
    for mflop in args.blas_one_thread_below:
        workers[f"{THRESHOLD_WORKER}{mflop:g}"] = (f"<{mflop:g} MF", {})
    return workers


def median_ms(runs, name):
    """The median over a framework's rounds of a configuration's fwd+bwd milliseconds."""
    return statistics.median(run[name]["fwd+bwd"] for run in runs)


def main():
    args = harness.parse_compare_args(__doc__, only=dict(
        help="run only the configurations whose name contains this"), blas_policy_off=dict(
        action="store_true", help="also run minigrad with its BLAS thread policy off"),
        blas_one_thread_below=dict(
            type=float, nargs="+", default=[], metavar="MFLOP",
            help="also run minigrad with GEMMs below each of these sizes on one BLAS thread"))
    extra = blas_policy_workers(args)
    frameworks = {**harness.FRAMEWORKS, **extra}
    comparisons = (*harness.COMPARISONS, *((harness.MINIGRAD, name) for name in extra))
    results = harness.compare(__file__, args, measure, frameworks, comparisons, title=(
        "convolution, float32, milliseconds: forward, forward+backward (input, weight and "
        "bias gradients), and the process time of forward+backward (all threads)"),
        case_width=20)
    if results:
        print("GFLOP/s of forward+backward (3x the forward's flops), from the medians:")
        for name, config in selected(args).items():
            rates = [f"{frameworks[framework][0]} "
                     f"{3 * flops(config) / median_ms(runs, name) / 1e6:.1f}"
                     for framework, runs in results.items()]
            print(f"  {name}: {', '.join(rates)}")

if __name__ == "__main__":
    main()
