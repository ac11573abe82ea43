"""Per-op autograd overhead: a chain of tiny elementwise ops, forward then backward, and
what minigrad's `gc.freeze()` at import is worth.

On 1- and 16-element float32 arrays the arithmetic is nearly free, so the time per op is
what the framework itself costs: the Function context and output Tensor, the Python
calls, the backward walk. The chain alternates `y * a` and `y + b` with `a`, `b` either
constant tensors or Python numbers (which each op must first turn into an array).

The cyclic garbage collector is the other cost: a growing graph triggers full collections,
each of which walks every object the collector tracks, so the cost per op grows with the
heap. minigrad calls `gc.freeze()` at import (and after its lazy import of Numba), which
moves everything alive then out of the collector's way. Four workers, each in a process of
its own (harness.compare) with a heap as a program that trains would have:
- minigrad: imported as shipped, its Numba kernels loaded (~50k objects of Numba);
- minigrad, no freeze: the same, with `gc.freeze` made a no-op before the import;
- PyTorch: imported as is (~150k objects, not frozen);
- PyTorch, frozen: `gc.freeze()` after the import.
Figures in microseconds per op: wall clock, and the main thread's CPU time (which leaves
out waiting for a core on a loaded machine); the first row gives the objects the collector
tracks in each worker. Elementwise ops call no kernel, so the NumPy/Numba switch does not
apply here.

    python bench/overhead.py [--ops 10000] [--repeats 7] [--rounds 3] [--threads 2]
                             [--quick] [--no-torch]
"""
import gc
import time

import numpy as np

import harness

FRAMEWORKS = {
    "minigrad": ("minigrad", {}),
    "minigrad-no-freeze": ("no freeze", {}),
    "torch": ("PyTorch", {}),
    "torch-frozen": ("PyTorch frozen", {}),
}
COMPARISONS = (("minigrad", "torch"), ("minigrad", "minigrad-no-freeze"),
               ("minigrad", "torch-frozen"), ("torch-frozen", "torch"))


def import_framework(name, args):
    """The tensor library a worker measures, imported as FRAMEWORKS describes."""
    if name.startswith("torch"):
        lib = harness.require_torch(args)
        if name == "torch-frozen":
            gc.collect()
            gc.freeze()
        return lib
    if name == "minigrad-no-freeze":
        gc.freeze = lambda: None  # before minigrad's import, so its calls do nothing
    import minigrad
    minigrad.kernels.backend()  # loads Numba, as the first convolution of a program would
    return minigrad


def chain(lib, n_ops, size, operand):
    """A `once`: seconds for forward, forward+backward and the main thread's CPU time of
    forward+backward of y = x; y = y * a; y = y + b; ... (n_ops ops) in `lib`.

    `operand` "tensor": a and b are constant tensors; "number": they are Python floats,
    which each op first turns into an array (the usual `y * 0.5` of user code).
    """
    def once():
        x = lib.full((size,), 0.5, dtype=lib.float32, requires_grad=True)
        a, b = 0.999, 0.001
        if operand == "tensor":
            a, b = (lib.full((size,), value, dtype=lib.float32) for value in (a, b))
        cpu_start, start = time.thread_time(), time.perf_counter()
        y = x
        for _ in range(n_ops // 2):
            y = y * a
            y = y + b
        loss = y.sum()
        middle = time.perf_counter()
        loss.backward()
        return middle - start, time.perf_counter() - start, time.thread_time() - cpu_start
    return once


def measure(framework, args):
    """{case: {pass: value}}: the collector's tracked objects, then microseconds per op of
    every chain on `framework`."""
    lib = import_framework(framework, args)
    results = {"collector": {"tracked objects": len(gc.get_objects())}}
    for operand in ("tensor", "number"):
        for size in (1, 16):
            per_op = harness.median_ms(chain(lib, args.ops, size, operand), args.repeats)
            results[f"{operand} operand, size {size}"] = {
                pass_: 1e3 * value / args.ops
                for pass_, value in zip(("fwd us", "fwd+bwd us", "CPU us"), per_op)}
    return results


def main():
    args = harness.parse_compare_args(
        __doc__, ops=dict(type=int, default=10000, help="ops in the chain"))
    harness.compare(__file__, args, measure, FRAMEWORKS, COMPARISONS, case_width=24, title=(
        f"chain of {args.ops} elementwise ops (alternating * and +) on float32, then "
        "backward; microseconds per op (wall clock; CPU: the main thread's)"))


if __name__ == "__main__":
    main()
