"""Pooling, unpooling and upsampling: minigrad's NumPy and Numba paths against PyTorch.

float32, NCHW, forward and forward+backward, median of several repeats after a warm-up,
all in one process so the ratios compare like with like. PyTorch runs on 2 threads.

    python bench/pool.py [--repeats 7] [--no-torch]
"""
import numpy as np

import harness
import minigrad as mg
import minigrad.functional as F


def pool_input(shape):
    """A fixed random float32 batch of `shape`."""
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def cases(torch):
    """(name, input array, minigrad fn, PyTorch fn); a fn takes the input tensor and returns
    the output to differentiate. Unpooling takes the output of a 2x2 max pool."""
    pooled, indices = F.max_pool2d(mg.Tensor(pool_input((32, 64, 32, 32))), 2,
                                   return_indices=True)
    return [
        ("max_pool2d 2x2 + indices, 32x64x32x32", pool_input((32, 64, 32, 32)),
         lambda x: F.max_pool2d(x, 2, return_indices=True)[0],
         lambda x: torch.nn.functional.max_pool2d(x, 2, return_indices=True)[0]),
        ("max_unpool2d of that, 32x64x16x16", pooled.data,
         lambda x: F.max_unpool2d(x, indices, 2),
         lambda x: torch.nn.functional.max_unpool2d(x, torch.from_numpy(indices.data), 2)),
        ("avg_pool2d 3x3 s2 p1, 32x64x32x32", pool_input((32, 64, 32, 32)),
         lambda x: F.avg_pool2d(x, 3, 2, 1),
         lambda x: torch.nn.functional.avg_pool2d(x, 3, 2, 1)),
        ("interpolate bilinear x2, 16x64x32x32", pool_input((16, 64, 32, 32)),
         lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
         lambda x: torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear")),
        ("interpolate bicubic x2, 16x64x32x32", pool_input((16, 64, 32, 32)),
         lambda x: F.interpolate(x, scale_factor=2, mode="bicubic"),
         lambda x: torch.nn.functional.interpolate(x, scale_factor=2, mode="bicubic")),
    ]


def main():
    args = harness.parse_args(__doc__)
    torch = harness.load_torch(args.no_torch)
    print("milliseconds, forward / forward+backward (float32, median of "
          f"{args.repeats}); ratios are minigrad (Numba) over the other")
    table = harness.paths_table(40, "PyTorch" if torch else None)
    for name, x, mg_fn, torch_fn in cases(torch):
        harness.time_paths_row(table, name, x, mg_fn, torch_fn, args.repeats, torch)


if __name__ == "__main__":
    main()
