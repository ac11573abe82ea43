"""Per-op autograd overhead: a chain of tiny elementwise ops, forward then backward.

On 1- and 16-element float32 arrays the arithmetic is nearly free, so the time per op is
what the framework itself costs: the Function context and output Tensor, the Python
calls, the backward walk. The chain alternates `y * a` and `y + b` with `a`, `b` either
constant tensors or Python numbers (which each op must first turn into an array).
minigrad and PyTorch (2 threads) run the same chains in the same process, twice: with the
cyclic garbage collector as after the imports (minigrad freezes the objects alive at its
own import; PyTorch, imported later, adds ~150k objects that each full collection
re-walks), and after `gc.freeze()`. Elementwise ops call no kernel, so the NumPy/Numba
switch does not apply here.

    python bench/overhead.py [--ops 10000] [--repeats 7] [--no-torch] [--cpu-time]

`--cpu-time` times the main thread's CPU time instead of the wall clock: on a shared,
loaded machine it leaves out the time the process waited for a core.
"""
import gc
import time

import numpy as np

import harness
import minigrad as mg

torch = None  # imported in main(), unless --no-torch
clock = time.perf_counter  # or time.thread_time with --cpu-time


def chain_minigrad(n_ops, size, operand):
    """Seconds for (forward, forward+backward) of y = x; y = y * a; y = y + b; ... (n_ops ops).

    `operand` "tensor": a and b are constant tensors; "number": they are Python floats,
    which each op first turns into an array (the usual `y * 0.5` of user code).
    """
    x = mg.Tensor(np.full(size, 0.5, np.float32), requires_grad=True)
    a, b = 0.999, 0.001
    if operand == "tensor":
        a, b = mg.Tensor(np.full(size, a, np.float32)), mg.Tensor(np.full(size, b, np.float32))
    start = clock()
    y = x
    for _ in range(n_ops // 2):
        y = y * a
        y = y + b
    loss = y.sum()
    middle = clock()
    loss.backward()
    return middle - start, clock() - start


def chain_torch(n_ops, size, operand):
    """The same chain in PyTorch."""
    x = torch.full((size,), 0.5, dtype=torch.float32, requires_grad=True)
    a, b = 0.999, 0.001
    if operand == "tensor":
        a, b = torch.full((size,), a), torch.full((size,), b)
    start = clock()
    y = x
    for _ in range(n_ops // 2):
        y = y * a
        y = y + b
    loss = y.sum()
    middle = clock()
    loss.backward()
    return middle - start, clock() - start


def median_per_op_us(chain, n_ops, size, operand, repeats):
    """Median over `repeats` runs (after one warm-up) of (forward, fwd+bwd) microseconds per op."""
    return [1e3 * t / n_ops
            for t in harness.median_ms(lambda: chain(n_ops, size, operand), repeats)]


def report(n_ops, repeats, label):
    print(f"\n{label} (the collector tracks {len(gc.get_objects())} objects)")
    columns = [("operand", 7), ("size", 4), ("minigrad fwd", 12), ("fwd+bwd", 8)]
    if torch is not None:
        columns += [("PyTorch fwd", 11), ("fwd+bwd", 8), ("fwd+bwd minigrad/PyTorch", 24)]
    table = harness.Table(*columns)
    for operand in ("tensor", "number"):
        for size in (1, 16):
            mg_fwd, mg_total = median_per_op_us(chain_minigrad, n_ops, size, operand, repeats)
            cells = [operand, size, f"{mg_fwd:.2f} us", f"{mg_total:.2f} us"]
            if torch is not None:
                pt_fwd, pt_total = median_per_op_us(chain_torch, n_ops, size, operand, repeats)
                cells += [f"{pt_fwd:.2f} us", f"{pt_total:.2f} us", f"{mg_total / pt_total:.2f}x"]
            table.row(*cells)


def main():
    args = harness.parse_args(
        __doc__, ops=dict(type=int, default=10000, help="ops in the chain"),
        cpu_time=dict(action="store_true",
                      help="measure the main thread's CPU time, not wall-clock time"))
    global torch, clock
    clock = time.thread_time if args.cpu_time else time.perf_counter
    torch = harness.load_torch(args.no_torch)
    print(f"chain of {args.ops} elementwise ops (alternating * and +) on float32, then "
          f"backward; median of {args.repeats} runs; microseconds per op "
          f"({'CPU time of the main thread' if args.cpu_time else 'wall clock'})")
    # minigrad freezes what is alive when it is imported; PyTorch, imported later, is not
    report(args.ops, args.repeats, "garbage collector as after the imports")
    gc.collect()
    gc.freeze()
    report(args.ops, args.repeats, "after gc.freeze()")
    gc.unfreeze()


if __name__ == "__main__":
    main()
