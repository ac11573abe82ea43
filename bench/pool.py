"""Pooling, unpooling and upsampling: minigrad (Numba kernels, and its NumPy reference)
against PyTorch.

float32, NCHW, forward and forward+backward. Each framework runs in a worker process of
its own (harness.compare): the median of `--repeats` runs after a warm-up; the ratios are
medians over `--rounds` rounds alternating the workers' order.

    python bench/pool.py [--repeats 7] [--rounds 3] [--threads 2] [--quick] [--no-torch]
"""
import numpy as np

import harness

POOL_SHAPE, UPSAMPLE_SHAPE = (32, 64, 32, 32), (16, 64, 32, 32)


def pool_input(shape):
    """A fixed random float32 batch of `shape`."""
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def cases(lib, F):
    """(name, input array, fn) of each case for `lib`, minigrad or torch, whose functional
    module is `F`; a fn takes the input tensor and returns the output to differentiate.
    Unpooling takes the output of a 2x2 max pool of the pooling input."""
    pooled, indices = F.max_pool2d(lib.tensor(pool_input(POOL_SHAPE)), 2, return_indices=True)
    return [
        ("max_pool2d 2x2 + indices, 32x64x32x32", pool_input(POOL_SHAPE),
         lambda x: F.max_pool2d(x, 2, return_indices=True)[0]),
        ("max_unpool2d of that, 32x64x16x16", pooled.detach().numpy(),
         lambda x: F.max_unpool2d(x, indices, 2)),
        ("avg_pool2d 3x3 s2 p1, 32x64x32x32", pool_input(POOL_SHAPE),
         lambda x: F.avg_pool2d(x, 3, 2, 1)),
        ("interpolate bilinear x2, 16x64x32x32", pool_input(UPSAMPLE_SHAPE),
         lambda x: F.interpolate(x, scale_factor=2, mode="bilinear")),
        ("interpolate bicubic x2, 16x64x32x32", pool_input(UPSAMPLE_SHAPE),
         lambda x: F.interpolate(x, scale_factor=2, mode="bicubic")),
    ]


def measure(framework, args):
    """{case: {pass: ms}} of every case on `framework`."""
    if framework == harness.TORCH:
        lib = harness.require_torch(args)
        F = lib.nn.functional
    else:
        import minigrad as lib
        import minigrad.functional as F
    return {name: harness.op_pass_ms(framework, args.repeats, fn, fn, x)
            for name, x, fn in cases(lib, F)}


def main():
    args = harness.parse_compare_args(__doc__)
    harness.compare(__file__, args, measure, case_width=37, title=(
        "pooling and upsampling, float32, milliseconds: forward, forward+backward, and the "
        "process time of forward+backward (all threads)"))


if __name__ == "__main__":
    main()
