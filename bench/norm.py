"""Normalisations: minigrad's NumPy and Numba paths against PyTorch.

Each normalisation forward+backward on a 32x64x32x32 float32 batch, weight and bias
included where the layer has them by default (not InstanceNorm). Median of several repeats
after a warm-up, all in one process so the ratios compare like with like. PyTorch runs on
2 threads.

    python bench/norm.py [--repeats 7] [--no-torch]
"""
import argparse
import statistics
import time

import numpy as np

import minigrad as mg
import minigrad.functional as F

torch = None  # imported in main(), unless --no-torch
SHAPE = (32, 64, 32, 32)


def cases():
    """(name, minigrad fn, PyTorch fn): each takes the input tensor."""
    def running():
        return np.zeros(SHAPE[1], np.float32), np.ones(SHAPE[1], np.float32)

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


def affine(lib, shape):
    """Weight 1 and bias 0 of `shape`, requiring grad, as minigrad or PyTorch tensors."""
    ones, zeros = np.ones(shape, np.float32), np.zeros(shape, np.float32)
    if lib == "torch":
        return torch.tensor(ones, requires_grad=True), torch.tensor(zeros, requires_grad=True)
    return mg.Tensor(ones, requires_grad=True), mg.Tensor(zeros, requires_grad=True)


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
    x = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    print(f"milliseconds, forward / forward+backward ({'x'.join(map(str, SHAPE))} float32, "
          f"median of {args.repeats}); ratios are minigrad (Numba) over the other")
    header = f"{'case':34} | {'NumPy':>13} | {'Numba':>13} | {'NumPy/Numba':>11}"
    print(header + (f" | {'PyTorch':>13} | {'Numba/PyTorch':>13}" if torch else ""))
    for name, mg_fn, torch_fn in cases():
        results = {}
        for jit in (False, True):
            mg.set_jit(jit)
            results[jit] = time_minigrad(mg_fn, x, args.repeats)
        (np_f, np_t), (nb_f, nb_t) = results[False], results[True]
        line = (f"{name:34} | {np_f:5.2f} / {np_t:5.2f} | {nb_f:5.2f} / {nb_t:5.2f} | "
                f"{np_f / nb_f:4.1f} / {np_t / nb_t:4.1f}")
        if torch:
            t_f, t_t = time_torch(torch_fn, x, args.repeats)
            line += f" | {t_f:5.2f} / {t_t:5.2f} | {nb_f / t_f:5.2f} / {nb_t / t_t:5.2f}"
        print(line)


if __name__ == "__main__":
    main()
