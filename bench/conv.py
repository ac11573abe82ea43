"""Convolution speed: minigrad (Numba kernels and NumPy reference side by side) against
PyTorch (2 threads), float32, forward and forward+backward (input, weight and bias grads).

Each configuration is timed in one process, interleaved, as the median of `--repeats`
runs after a warm-up; the ratios are what to read (single timings on a shared 2-core
machine move by 20-30%). GFLOP/s counts 2 flops per multiply-add of the convolution
itself (forward 1x, forward+backward 3x the forward's flops).

    python bench/conv.py [--repeats 7] [--no-torch] [--only NAME]
"""
import numpy as np

import harness
import minigrad as mg
import minigrad.functional as F

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


def flops(config, out_shape):
    """2 * multiply-adds: each output value of a conv sums Cin/G*k*k products; for the
    transpose, each input value scatters into Cout/G*k*k outputs."""
    (N, Cin, H, W), Cout, k, kwargs, transpose = config
    groups = kwargs.get("groups", 1)
    if transpose:
        return 2 * N * Cin * H * W * (Cout // groups) * k * k
    return 2 * int(np.prod(out_shape)) * (Cin // groups) * k * k


def main():
    args = harness.parse_args(__doc__, only=dict(
        help="run only the configurations whose name contains this"))
    torch = harness.load_torch(args.no_torch)
    columns = [("configuration", 21), ("pass", 7), ("Numba ms", 8), ("GFLOP/s", 7),
               ("NumPy ms", 8), ("NumPy/Numba", 11)]
    table = harness.Table(*columns + ([("torch ms", 8), ("Numba/torch", 11)] if torch else []))
    for name, config in CONFIGS.items():
        if args.only and args.only not in name:
            continue
        arrays = make_arrays(config)
        kwargs, transpose = config[3:]
        conv = F.conv_transpose2d if transpose else F.conv2d
        out_shape = conv(*map(mg.Tensor, arrays), **kwargs).shape
        numpy_ms, numba_ms = harness.numpy_and_numba(
            harness.minigrad_pass(lambda x, w, b: conv(x, w, b, **kwargs), *arrays),
            args.repeats)
        if torch:
            torch_conv = (torch.nn.functional.conv_transpose2d if transpose
                          else torch.nn.functional.conv2d)
            torch_ms = harness.median_ms(
                harness.torch_pass(lambda x, w, b: torch_conv(x, w, b, **kwargs), *arrays),
                args.repeats)
        # one timed run gives both passes: forward, then forward+backward (3x the flops)
        for i, (label, work) in enumerate([("fwd", 1), ("fwd+bwd", 3)]):
            cells = [name, label, harness.ms(numba_ms[i]),
                     f"{work * flops(config, out_shape) / numba_ms[i] / 1e6:.1f}",
                     harness.ms(numpy_ms[i]), f"{numpy_ms[i] / numba_ms[i]:.2f}"]
            if torch:
                cells += [harness.ms(torch_ms[i]), f"{numba_ms[i] / torch_ms[i]:.2f}"]
            table.row(*cells)


if __name__ == "__main__":
    main()
