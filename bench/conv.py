"""Convolution speed: minigrad (Numba kernels and NumPy reference side by side) against
PyTorch (2 threads), float32, forward and forward+backward (input, weight and bias grads).

Each configuration is timed in one process, interleaved, as the median of `--repeats`
runs after a warm-up; the ratios are what to read (single timings on a shared 2-core
machine move by 20-30%). GFLOP/s counts 2 flops per multiply-add of the convolution
itself (forward 1x, forward+backward 3x the forward's flops).

    python bench/conv.py [--repeats 7] [--no-torch] [--only NAME]
"""
import argparse
import statistics
import time

import numpy as np

import minigrad as mg
import minigrad.functional as F

torch = None  # imported in main(), unless --no-torch

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
    (N, Cin, H, W), Cout, k, kwargs, transpose = config
    groups = kwargs.get("groups", 1)
    rng = np.random.default_rng(seed)
    w_shape = (Cin, Cout // groups, k, k) if transpose else (Cout, Cin // groups, k, k)
    return [rng.standard_normal(s).astype(np.float32) for s in ((N, Cin, H, W), w_shape, (Cout,))]


def flops(config, out_shape):
    """2 * multiply-adds: each output value of a conv sums Cin/G*k*k products; for the
    transpose, each input value scatters into Cout/G*k*k outputs."""
    (N, Cin, H, W), Cout, k, kwargs, transpose = config
    groups = kwargs.get("groups", 1)
    if transpose:
        return 2 * N * Cin * H * W * (Cout // groups) * k * k
    return 2 * int(np.prod(out_shape)) * (Cin // groups) * k * k


def run_minigrad(config, arrays, backward):
    x, w, b = (mg.Tensor(a, requires_grad=True) for a in arrays)
    fn = F.conv_transpose2d if config[4] else F.conv2d
    y = fn(x, w, b, **config[3])
    if backward:
        y.backward(np.ones(y.shape, np.float32))
    return y.shape


def run_torch(config, arrays, backward):
    x, w, b = (torch.tensor(a, requires_grad=True) for a in arrays)
    fn = torch.nn.functional.conv_transpose2d if config[4] else torch.nn.functional.conv2d
    y = fn(x, w, b, **config[3])
    if backward:
        y.backward(torch.ones_like(y))
    return tuple(y.shape)


def median_ms(fn, repeats):
    fn()  # warm-up: compilation, workspaces
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main(argv=None):
    global torch
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--only", help="run only the configurations whose name contains this")
    args = parser.parse_args(argv)
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(2)
        except ImportError:
            print("PyTorch not installed: minigrad numbers only")
    print(f"{'configuration':<21}{'pass':>8} | {'Numba ms':>8} {'GFLOP/s':>7} | "
          f"{'NumPy ms':>8} {'NumPy/Numba':>11}" + (f" | {'torch ms':>8} {'Numba/torch':>11}"
                                                     if torch else ""))
    for name, config in CONFIGS.items():
        if args.only and args.only not in name:
            continue
        arrays = make_arrays(config)
        out_shape = run_minigrad(config, arrays, False)
        for backward in (False, True):
            timings = {}
            for jit in (True, False):
                mg.set_jit(jit)
                timings[jit] = median_ms(lambda: run_minigrad(config, arrays, backward),
                                         args.repeats)
            mg.set_jit(True)
            work = flops(config, out_shape) * (3 if backward else 1)
            line = (f"{name:<21}{'fwd+bwd' if backward else 'fwd':>8} | {timings[True]:8.2f} "
                    f"{work / timings[True] / 1e6:7.1f} | {timings[False]:8.2f} "
                    f"{timings[False] / timings[True]:11.2f}")
            if torch:
                ms = median_ms(lambda: run_torch(config, arrays, backward), args.repeats)
                line += f" | {ms:8.2f} {timings[True] / ms:11.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
