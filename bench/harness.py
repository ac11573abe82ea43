"""What the benchmark scripts in bench/ share: options, PyTorch as an optional oracle,
median timing, and the tables they print.

`python bench/<name>.py` puts bench/ first on sys.path, so a script imports this module as
`import harness`. It is not a benchmark itself: running it does nothing.

Timing model: a `once()` callable runs the work a single time and returns a tuple of
durations in seconds (e.g. forward and forward+backward of the same run); `median_ms` calls
it once to warm up, then `repeats` times, and gives the median of each duration. On a
shared 2-core machine single timings move by 20-30%, so the scripts print ratios: the
per-op scripts run minigrad's two kernel paths and PyTorch side by side in one process;
those that time whole training steps run each framework in a worker process of its own
(models.py through `run_worker`; train_step.py with its own code), since two frameworks'
threads in one process slow each other.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import minigrad as mg


def parse_args(doc, repeats=7, **extra):
    """Parse a script's options: --repeats, --no-torch and the script's own `extra` ones.

    `doc` is the script's docstring (its first line describes the script); each `extra`
    keyword is an option name (underscores become dashes) mapped to the keyword arguments
    of `ArgumentParser.add_argument`.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=repeats,
                        help="timed runs after the warm-up (the median is printed)")
    parser.add_argument("--no-torch", action="store_true", help="do not import PyTorch")
    for name, options in extra.items():
        parser.add_argument("--" + name.replace("_", "-"), **options)
    return parser.parse_args()


def load_torch(skip, threads=2):
    """PyTorch on `threads` threads (2: the 2-core laptop the figures stand for), or None
    when `skip` (--no-torch) is set or PyTorch is not installed. Imported here, after
    minigrad, so that minigrad's figures never depend on it."""
    if skip:
        return None
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: minigrad's figures only")
        return None
    torch.set_num_threads(threads)
    return torch


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def run_worker(argv, threads=2):
    """Run `python *argv` in a fresh process whose thread pools (OpenMP and so PyTorch,
    OpenBLAS, MKL, Numba) all get `threads` threads, and return the JSON object printed on
    its last line of output; exit with its stderr if it fails. A script that compares
    frameworks runs each in its own worker, so that neither's threads, caches or libraries
    count in the other's figures."""
    env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
    done = subprocess.run([sys.executable, *map(str, argv)], capture_output=True, text=True,
                          env=env)
    if done.returncode:
        sys.exit(f"the worker {' '.join(map(str, argv))} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def median_spread(values):
    """(median, smallest, largest) of `values`: what a script prints of per-round ratios."""
    return statistics.median(values), min(values), max(values)


def median_ms(once, repeats):
    """Median milliseconds of each duration `once()` returns, over `repeats` calls after one
    warm-up call (which compiles or loads the Numba kernels and faults in the pages)."""
    once()
    runs = [once() for _ in range(repeats)]
    return tuple(1e3 * statistics.median(durations) for durations in zip(*runs))


def minigrad_pass(fn, *arrays):
    """A `once` for median_ms: `fn(*inputs)` on fresh minigrad leaves made from `arrays`,
    then backward from a gradient of ones; returns (forward, forward+backward) seconds."""
    def once():
        inputs = [mg.Tensor(a, requires_grad=True) for a in arrays]
        start = time.perf_counter()
        out = fn(*inputs)
        middle = time.perf_counter()
        out.backward(np.ones(out.shape, out.dtype))
        return middle - start, time.perf_counter() - start
    return once


def torch_pass(fn, *arrays):
    """The same as minigrad_pass for a PyTorch `fn` (call load_torch first)."""
    import torch

    def once():
        inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
        start = time.perf_counter()
        out = fn(*inputs)
        middle = time.perf_counter()
        out.backward(torch.ones_like(out))
        return middle - start, time.perf_counter() - start
    return once


def numpy_and_numba(once, repeats):
    """median_ms of `once` on minigrad's NumPy reference kernels, then on its Numba kernels,
    as (numpy, numba); the Numba kernels stay switched on afterwards."""
    results = []
    for jit in (False, True):
        mg.set_jit(jit)
        results.append(median_ms(once, repeats))
    return tuple(results)


def ms(value):
    """A duration in milliseconds with about three significant digits."""
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def slash(values, fmt=ms):
    """Values as 'a / b / ...' (forward / forward+backward), each formatted by `fmt`."""
    return " / ".join(map(fmt, values))


def ratios(numerators, denominators):
    """'a / b' of the element-wise ratios, two decimals."""
    return slash([n / d for n, d in zip(numerators, denominators)], lambda r: f"{r:.2f}")


class Table:
    """A text table printed row by row as the results arrive: the first column
    left-aligned, the others right-aligned, ' | ' between columns. `columns` are
    (title, width) pairs; the header is printed at once."""

    def __init__(self, *columns):
        self.widths = [width for _, width in columns]
        self.row(*(title for title, _ in columns))

    def row(self, *cells):
        first, *rest = (str(cell) for cell in cells)
        print(" | ".join([first.ljust(self.widths[0])]
                         + [cell.rjust(width) for cell, width in zip(rest, self.widths[1:])]),
              flush=True)


def paths_table(case_width, reference=None, width=15):
    """The comparison table most scripts print: case | NumPy | Numba | NumPy/Numba, and
    | <reference> | Numba/<reference> when the reference (PyTorch, torchvision) ran."""
    columns = [("case", case_width), ("NumPy", width), ("Numba", width), ("NumPy/Numba", 11)]
    if reference:
        columns += [(reference, width), (f"Numba/{reference}", 13)]
    return Table(*columns)


def paths_row(table, name, numpy_ms, numba_ms, reference_ms=None):
    """One row of a paths_table from the median_ms tuples of each path."""
    cells = [name, slash(numpy_ms), slash(numba_ms), ratios(numpy_ms, numba_ms)]
    if reference_ms is not None:
        cells += [slash(reference_ms), ratios(numba_ms, reference_ms)]
    table.row(*cells)


def time_paths_row(table, name, x, mg_fn, torch_fn, repeats, torch):
    """Time `mg_fn` on both kernel paths (and `torch_fn` if PyTorch is loaded) on input
    `x`, forward and forward+backward, and add the row to a paths_table."""
    numpy_ms, numba_ms = numpy_and_numba(minigrad_pass(mg_fn, x), repeats)
    torch_ms = median_ms(torch_pass(torch_fn, x), repeats) if torch else None
    paths_row(table, name, numpy_ms, numba_ms, torch_ms)
