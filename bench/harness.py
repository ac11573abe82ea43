"""What the benchmark scripts in bench/ share: options, PyTorch as an optional oracle,
timing, memory, worker processes, and the tables they print.

`python bench/<name>.py` puts bench/ first on sys.path, so a script imports this module as
`import harness`. It is not a benchmark itself: running it does nothing.

Timing model: a `once()` callable runs the work a single time and returns a tuple of
durations in seconds (e.g. forward and forward+backward of the same run); `median_ms` calls
it once to warm up, then `repeats` times, and gives the median of each duration.

Fairness model: two frameworks in one process slow each other (PyTorch's OpenMP threads,
Numba's and OpenBLAS's workers share the cores, and whichever ran last leaves threads
spinning), by factors of 0.2 to 2 in either direction. So every script times each
framework in a worker process of its own: `compare` runs the script itself again with
`--worker NAME`; the worker times all its cases and prints one JSON line; the parent runs
the workers in turn for `--rounds` rounds, reversing their order every other round, and
prints for each case the median over rounds of each round's ratio, with the smallest and
largest. Every thread pool (OpenMP and so PyTorch, OpenBLAS, MKL, Numba) of every worker
gets the same `--threads` threads. This module imports minigrad only where a minigrad
figure is taken, so that a PyTorch worker holds no minigrad (nor Numba).
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# the frameworks most scripts compare: worker name -> (label, extra environment)
MINIGRAD, NUMPY, TORCH = "minigrad", "numpy", "torch"
FRAMEWORKS = {MINIGRAD: ("minigrad", {}),
              NUMPY: ("NumPy ref", {"MINIGRAD_JIT": "0"}),  # minigrad's reference kernels
              TORCH: ("PyTorch", {})}
# the ratios they print: (numerator, denominator) worker names
COMPARISONS = ((MINIGRAD, TORCH), (NUMPY, MINIGRAD))
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def _parser(doc, repeats, extra):
    """An ArgumentParser with --repeats, --no-torch and the `extra` options."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=repeats,
                        help="timed runs after the warm-up (the median is printed)")
    parser.add_argument("--no-torch", action="store_true", help="do not import PyTorch")
    for name, options in extra.items():
        parser.add_argument("--" + name.replace("_", "-"), **options)
    return parser


def parse_args(doc, repeats=7, **extra):
    """Parse a script's options: --repeats, --no-torch and the script's own `extra` ones.

    `doc` is the script's docstring (its first line describes the script); each `extra`
    keyword is an option name (underscores become dashes) mapped to the keyword arguments
    of `ArgumentParser.add_argument`.
    """
    return _parser(doc, repeats, extra).parse_args()


def parse_compare_args(doc, repeats=7, rounds=3, quick_repeats=3, argv=None, **extra):
    """parse_args plus the options of a script that runs `compare`: --rounds, --threads,
    --quick (2 rounds of `quick_repeats` runs; a script may also shrink its cases) and the
    hidden --worker NAME the parent passes to its workers. `argv`: the arguments to parse
    (default: the command line's)."""
    parser = _parser(doc, repeats, extra)
    parser.add_argument("--rounds", type=int, default=rounds,
                        help="rounds, each running every framework's worker once")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of every pool (OpenMP, OpenBLAS, MKL, Numba, PyTorch)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: 2 rounds of {quick_repeats} timed runs")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.repeats = 2, min(args.repeats, quick_repeats)
    return args


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


class Unavailable(Exception):
    """Raised by a worker's measure function when its framework cannot run here (not
    installed, --no-torch): `compare` leaves that framework out and says why."""


def require_torch(args):
    """PyTorch on args.threads threads, for a worker; Unavailable under --no-torch or
    when it is not installed."""
    if args.no_torch:
        raise Unavailable("--no-torch")
    try:
        import torch
    except ImportError:
        raise Unavailable("PyTorch is not installed") from None
    torch.set_num_threads(args.threads)
    return torch


def run_worker(argv, threads=2, env=None):
    """Run `python *argv` in a fresh process whose thread pools (OpenMP and so PyTorch,
    OpenBLAS, MKL, Numba) all get `threads` threads, with the variables of `env` added
    (e.g. MINIGRAD_JIT=0; a thread variable in `env` overrides `threads`), and return the
    JSON object printed on its last line of output; exit with its stderr if it fails. A
    script that compares frameworks runs each in its own worker, so that neither's threads,
    caches or libraries count in the other's figures."""
    env = {**os.environ, **{name: str(threads) for name in THREAD_VARIABLES}, **(env or {})}
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


def minigrad_pass(fn, *arrays, cpu=False):
    """A `once` for median_ms: `fn(*inputs)` on fresh minigrad leaves made from `arrays`,
    then backward from a gradient of ones; returns (forward, forward+backward) seconds,
    and with `cpu` the process time of forward+backward (all threads) too."""
    import minigrad as mg

    def once():
        inputs = [mg.Tensor(a, requires_grad=True) for a in arrays]
        cpu_start, start = time.process_time(), time.perf_counter()
        out = fn(*inputs)
        middle = time.perf_counter()
        out.backward(np.ones(out.shape, out.dtype))
        end = time.perf_counter()
        if cpu:
            return middle - start, end - start, time.process_time() - cpu_start
        return middle - start, end - start
    return once


def torch_pass(fn, *arrays, cpu=False):
    """The same as minigrad_pass for a PyTorch `fn` (call load_torch first)."""
    import torch

    def once():
        inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
        cpu_start, start = time.process_time(), time.perf_counter()
        out = fn(*inputs)
        middle = time.perf_counter()
        out.backward(torch.ones_like(out))
        end = time.perf_counter()
        if cpu:
            return middle - start, end - start, time.process_time() - cpu_start
        return middle - start, end - start
    return once


PASSES = ("fwd", "fwd+bwd", "fwd+bwd CPU")


def pass_ms(once, repeats):
    """A worker's figures for one case: {pass: median ms} of a `cpu=True` minigrad_pass or
    torch_pass, the passes named as in PASSES."""
    return dict(zip(PASSES, median_ms(once, repeats)))


def op_pass_ms(framework, repeats, mg_fn, torch_fn, *arrays):
    """pass_ms of one op on `framework`: `mg_fn` on minigrad's tensors (either kernel path,
    as the worker's environment chose), `torch_fn` on PyTorch's."""
    if framework == TORCH:
        return pass_ms(torch_pass(torch_fn, *arrays, cpu=True), repeats)
    return pass_ms(minigrad_pass(mg_fn, *arrays, cpu=True), repeats)


def status_mib(field):
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # the kernel reports kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure_step(step, repeats, before_step=None):
    """Time and memory of a training step: `step()` once to warm up, then `repeats` times.

    Returns the median and the best wall-clock seconds, the median CPU seconds (all
    threads) and the largest peak MiB above the resident size before the step. Before each
    step (after `before_step()`, untimed, e.g. setting gradients to None) freed memory goes
    back to the OS (glibc's malloc_trim, which NumPy's and PyTorch's CPU allocations go
    through) and the kernel's high-water mark of the resident set is reset to the current
    size (5 written to /proc/self/clear_refs); after it, VmHWM minus that size is the step's
    peak above the model, the batch and whatever persists between steps. Linux only.
    """
    malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
    step()
    times, cpu_times, peaks = [], [], []
    for _ in range(repeats):
        if before_step:
            before_step()
        malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # VmHWM := VmRSS
        before = status_mib("VmRSS")
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        peaks.append(status_mib("VmHWM") - before)
    return dict(seconds=float(np.median(times)), best_seconds=min(times),
                cpu_seconds=float(np.median(cpu_times)), peak_mib=max(peaks))


def load_average():
    """The 1, 5 and 15 minute load averages, as /proc/loadavg gives them."""
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def worker_main(args, measure):
    """The --worker side of `compare`: print `measure(args.worker, args)` (a dict
    {case: {pass: value}}) as one JSON line, or {"unavailable": why}."""
    try:
        results = measure(args.worker, args)
    except Unavailable as why:
        results = {"unavailable": str(why)}
    print(json.dumps(results), flush=True)


def run_rounds(script, frameworks, rounds, threads, argv):
    """Every framework's worker (`python script --worker NAME *argv`) once per round, in
    the order of `frameworks` (name -> (label, env)) in even rounds and reversed in odd
    ones; {name: [each round's results]}. A framework whose worker says it is unavailable
    is left out from then on, with a note."""
    names = list(frameworks)
    results = {name: [] for name in names}
    for round_ in range(rounds):
        for name in names[::-1 if round_ % 2 else 1]:
            if name not in results:
                continue
            result = run_worker([script, "--worker", name, *argv], threads,
                                env=frameworks[name][1])
            if "unavailable" in result:
                print(f"{frameworks[name][0]} left out: {result['unavailable']}")
                del results[name]
                continue
            results[name].append(result)
        print(f"round {round_ + 1}/{rounds} done, load average {load_average()}", flush=True)
    return results


def value_cell(values):
    """The median of one framework's figures over the rounds: a count as a whole number,
    a duration by `ms`; '-' when it has none (an op it lacks)."""
    if not values:
        return "-"
    if all(isinstance(value, int) for value in values):
        return str(statistics.median_low(values))
    return ms(statistics.median(values))


def ratio_cell(numerators, denominators):
    """'median [min-max]' of the per-round ratios numerators[r] / denominators[r]."""
    median, low, high = median_spread([n / d for n, d in zip(numerators, denominators)])
    return f"{median:.2f} [{low:.2f}-{high:.2f}]"


def comparison_table(results, frameworks, comparisons=COMPARISONS, case_width=28,
                     pass_width=11):
    """Print the table of `run_rounds` results: one row per case and pass, each
    framework's median over rounds, and for each (numerator, denominator) pair of
    `comparisons` with both present the median of the per-round ratios [min-max]."""
    names = [name for name in frameworks if name in results]
    pairs = [(a, b) for a, b in comparisons if a in results and b in results]
    table = Table(("case", case_width), ("pass", pass_width),
                  *((frameworks[name][0], 9) for name in names),
                  *((f"{frameworks[a][0]}/{frameworks[b][0]}", 20) for a, b in pairs))
    first = results[names[0]][0]
    for case in first:
        for pass_ in first[case]:
            # a framework without this case (an op it lacks) has no figure: '-'
            series = {name: [run[case][pass_] for run in results[name]
                             if pass_ in run.get(case, {})] for name in names}
            counts = all(isinstance(value, int) for values in series.values()
                         for value in values)  # e.g. tracked objects: no ratios
            table.row(case, pass_, *(value_cell(series[name]) for name in names),
                      *("-" if counts or not (series[a] and series[b])
                        else ratio_cell(series[a], series[b]) for a, b in pairs))


def compare(script, args, measure, frameworks=FRAMEWORKS, comparisons=COMPARISONS,
            title="", case_width=28):
    """The whole of a comparing script: as a worker (args.worker set), print
    `measure(args.worker, args)`; otherwise run every framework's worker over args.rounds
    alternating rounds with args.threads threads and print `title`, the load and the
    comparison table. `script` is the script's __file__; the workers get the parent's
    command-line options. Returns the parent's results ({name: [each round's results]});
    None in a worker."""
    if args.worker:
        worker_main(args, measure)
        return None
    print(f"{title}\nthreads: {args.threads} in every pool; each framework in its own "
          f"process; {args.rounds} rounds alternating their order; per worker the median "
          f"of {args.repeats} runs after a warm-up; ratios: median of the rounds' ratios "
          f"[smallest-largest]; load average {load_average()} at the start", flush=True)
    results = run_rounds(script, frameworks, args.rounds, args.threads, sys.argv[1:])
    comparison_table(results, frameworks, comparisons, case_width)
    print(f"load average {load_average()} at the end", flush=True)
    return results


def ms(value):
    """A duration in milliseconds with about three significant digits."""
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


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
