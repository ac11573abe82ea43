"""Normalisations: minigrad (Numba kernels, and its NumPy reference) against PyTorch.

Each normalisation forward and forward+backward on a 32x64x32x32 float32 batch, weight and
bias included where the layer has them by default (not InstanceNorm). Each framework runs
in a worker process of its own (harness.compare): the median of `--repeats` runs after a
warm-up; the ratios are medians over `--rounds` rounds alternating the workers' order.

    python bench/norm.py [--repeats 7] [--rounds 3] [--threads 2] [--quick] [--no-torch]
"""
import numpy as np

import harness

SHAPE = (32, 64, 32, 32)


def cases(lib, F):
    """(name, fn) of each case for `lib`, minigrad or torch, whose functional module is `F`;
    a fn takes the input tensor."""
    def tensor(value, shape, requires_grad=False):
        return lib.tensor(np.full(shape, value, np.float32), requires_grad=requires_grad)

    def affine(shape):
        """Weight 1 and bias 0 of `shape`, requiring grad."""
        return tensor(1, shape, True), tensor(0, shape, True)

    channels, layer = SHAPE[1:2], SHAPE[1:]
    return [
        ("batch_norm train (running stats)",
         lambda x: F.batch_norm(x, tensor(0, channels), tensor(1, channels), *affine(channels),
                                training=True)),
        ("instance_norm (no affine)", lambda x: F.instance_norm(x)),
        ("group_norm G=32", lambda x: F.group_norm(x, 32, *affine(channels))),
        ("layer_norm over (C, H, W)", lambda x: F.layer_norm(x, layer, *affine(layer))),
    ]


def measure(framework, args):
    """{case: {pass: ms}} of every case on `framework`."""
    if framework == harness.TORCH:
        lib = harness.require_torch(args)
        F = lib.nn.functional
    else:
        import minigrad as lib
        import minigrad.functional as F
    x = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    return {name: harness.op_pass_ms(framework, args.repeats, fn, fn, x)
            for name, fn in cases(lib, F)}


def main():
    args = harness.parse_compare_args(__doc__)
    harness.compare(__file__, args, measure, case_width=32, title=(
        f"normalisation of a {'x'.join(map(str, SHAPE))} float32 batch, milliseconds: "
        "forward, forward+backward, and the process time of forward+backward (all threads)"))


if __name__ == "__main__":
    main()
