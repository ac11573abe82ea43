"""Normalisations: minigrad's NumPy and Numba paths against PyTorch.

Each normalisation forward+backward on a 32x64x32x32 float32 batch, weight and bias
included where the layer has them by default (not InstanceNorm). Median of several repeats
after a warm-up, all in one process so the ratios compare like with like. PyTorch runs on
2 threads.

    python bench/norm.py [--repeats 7] [--no-torch]
"""
import numpy as np

import harness
import minigrad as mg
import minigrad.functional as F

SHAPE = (32, 64, 32, 32)


def cases(torch):
    """(name, minigrad fn, PyTorch fn): each takes the input tensor."""
    def running():
        return np.zeros(SHAPE[1], np.float32), np.ones(SHAPE[1], np.float32)

    def affine(lib, shape):
        """Weight 1 and bias 0 of `shape`, requiring grad, as minigrad or PyTorch tensors."""
        ones, zeros = np.ones(shape, np.float32), np.zeros(shape, np.float32)
        make = torch.tensor if lib == "torch" else mg.Tensor
        return make(ones, requires_grad=True), make(zeros, requires_grad=True)

    layer = SHAPE[1:]
    return [
        ("batch_norm train (running stats)",
         lambda x: F.batch_norm(x, *running(), *affine("mg", SHAPE[1:2]), training=True),
         lambda x: torch.nn.functional.batch_norm(
             x, *map(torch.from_numpy, running()), *affine("torch", SHAPE[1:2]), training=True)),
        ("instance_norm (no affine)",
         lambda x: F.instance_norm(x),
         lambda x: torch.nn.functional.instance_norm(x)),
        ("group_norm G=32",
         lambda x: F.group_norm(x, 32, *affine("mg", SHAPE[1:2])),
         lambda x: torch.nn.functional.group_norm(x, 32, *affine("torch", SHAPE[1:2]))),
        ("layer_norm over (C, H, W)",
         lambda x: F.layer_norm(x, layer, *affine("mg", layer)),
         lambda x: torch.nn.functional.layer_norm(x, layer, *affine("torch", layer))),
    ]


def main():
    args = harness.parse_args(__doc__)
    torch = harness.load_torch(args.no_torch)
    x = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    print(f"milliseconds, forward / forward+backward ({'x'.join(map(str, SHAPE))} float32, "
          f"median of {args.repeats}); ratios are minigrad (Numba) over the other")
    table = harness.paths_table(34, "PyTorch" if torch else None)
    for name, mg_fn, torch_fn in cases(torch):
        harness.time_paths_row(table, name, x, mg_fn, torch_fn, args.repeats, torch)


if __name__ == "__main__":
    main()
