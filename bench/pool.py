"""Pooling, unpooling and upsampling: minigrad's NumPy and Numba paths against PyTorch.

float32, NCHW, forward and forward+backward, median of several repeats after a warm-up,
all in one process so the ratios compare like with like. PyTorch runs on 2 threads.

    python bench/pool.py [--repeats 7] [--no-torch]
"""
import argparse
import statistics
import time

import numpy as np

import minigrad as mg
import minigrad.functional as F

torch = None  # imported in main(), unless --no-torch


def pool_input(shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


# Each case: (name, input shape, minigrad fn, PyTorch fn); a fn takes the input tensor and
# returns the output to differentiate. Unpooling takes the output of a 2x2 max pool.
def cases():
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


def time_minigrad(fn, x, repeats):
    """Median (forward, forward+backward) milliseconds."""
    def once():
        t = mg.Tensor(x, requires_grad=True)
        start = time.perf_counter()
        out = fn(t)
        middle = time.perf_counter()
        out.backward(np.ones(out.shape, np.float32))
        return middle - start, time.perf_counter() - start
    return median_ms(once, repeats)


def time_torch(fn, x, repeats):
    def once():
        t = torch.tensor(x, requires_grad=True)
        start = time.perf_counter()
        out = fn(t)
        middle = time.perf_counter()
        out.backward(torch.ones_like(out))
        return middle - start, time.perf_counter() - start
    return median_ms(once, repeats)


def median_ms(once, repeats):
    once()  # warm-up: compiles or loads the Numba kernels, faults in the pages
    runs = [once() for _ in range(repeats)]
    return (1e3 * statistics.median(f for f, _ in runs),
            1e3 * statistics.median(t for _, t in runs))


def main():
    global torch
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(2)
        except ImportError:
            print("PyTorch is not installed: minigrad's figures only")
    print("milliseconds, forward / forward+backward (float32, median of "
          f"{args.repeats}); ratios are minigrad (Numba) over the other")
    header = f"{'case':40} | {'NumPy':>13} | {'Numba':>13} | {'NumPy/Numba':>11}"
    print(header + (f" | {'PyTorch':>13} | {'Numba/PyTorch':>13}" if torch else ""))
    for name, x, mg_fn, torch_fn in cases():
        results = {}
        for jit in (False, True):
            mg.set_jit(jit)
            results[jit] = time_minigrad(mg_fn, x, args.repeats)
        (np_f, np_t), (nb_f, nb_t) = results[False], results[True]
        line = (f"{name:40} | {np_f:5.2f} / {np_t:5.2f} | {nb_f:5.2f} / {nb_t:5.2f} | "
                f"{np_f / nb_f:4.1f} / {np_t / nb_t:4.1f}")
        if torch:
            t_f, t_t = time_torch(torch_fn, x, args.repeats)
            line += f" | {t_f:5.2f} / {t_t:5.2f} | {nb_f / t_f:5.2f} / {nb_t / t_t:5.2f}"
        print(line)


if __name__ == "__main__":
    main()
