"""The benchmark harness (bench/harness.py): its options, worker processes, per-round
ratios and memory measure, on fake workers. No speed is asserted: only that the machinery
computes what it says from the figures it is given."""
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

BENCH = pathlib.Path(__file__).resolve().parent.parent / "bench"
# the benchmarks `make bench` runs; harness.py and modules that only serve a script (no
# __main__ block) are not benchmarks
SCRIPTS = sorted(path for path in BENCH.glob("*.py")
                 if path.name != "harness.py" and "__main__" in path.read_text())
sys.path.insert(0, str(BENCH))
import harness  # noqa: E402  (bench/ is not a package)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_script_explains_its_options(script):
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:") and script.name in done.stdout


def test_quick_shortens_rounds_and_repeats():
    args = harness.parse_compare_args("doc", repeats=7, argv=["--quick"])
    assert (args.rounds, args.repeats, args.threads, args.worker) == (2, 3, 2, None)
    args = harness.parse_compare_args("doc", repeats=7, argv=["--threads", "1", "--rounds", "5"])
    assert (args.rounds, args.repeats, args.threads) == (5, 7, 1)


# A script made of harness.compare whose workers report set figures: framework "fast" takes
# 10, 30, 20 ms in rounds 1-3 and "slow" 5, 10, 40 ms, so fast/slow is 2, 3, 0.5 by round:
# median 2.00, range 0.50-3.00; their medians are 20 and 10 ms. "missing" is unavailable.
# Each worker appends its name and environment to a log, which gives the round.
FAKE_SCRIPT = """
import os
import sys

sys.path.insert(0, {bench!r})
import harness

LOG = {log!r}
FIGURES = {{"fast": [10.0, 30.0, 20.0], "slow": [5.0, 10.0, 40.0]}}
FRAMEWORKS = {{"fast": ("Fast", {{}}), "slow": ("Slow", {{"MINIGRAD_JIT": "0"}}),
               "missing": ("Missing", {{}})}}


def measure(framework, args):
    with open(LOG, "a") as log:
        log.write(" ".join([framework, *(os.environ[name] for name in
                                          harness.THREAD_VARIABLES),
                            os.environ.get("MINIGRAD_JIT", "-"), str(args.repeats)]) + "\\n")
    if framework == "missing":
        raise harness.Unavailable("not installed")
    with open(LOG) as log:
        round_ = sum(line.split()[0] == framework for line in log) - 1
    ms = FIGURES[framework][round_]
    results = {{"conv": {{"fwd": ms, "objects": 7}}}}
    if framework == "fast":
        results["only fast"] = {{"fwd": 1.0}}
    return results


harness.compare(__file__, harness.parse_compare_args("fake"), measure, FRAMEWORKS,
                (("fast", "slow"), ("fast", "missing")), title="fake benchmark")
"""


@pytest.fixture
def fake_run(tmp_path):
    log = tmp_path / "log.txt"
    script = tmp_path / "fake_bench.py"
    script.write_text(FAKE_SCRIPT.format(bench=str(BENCH), log=str(log)))
    done = subprocess.run([sys.executable, str(script), "--rounds", "3", "--threads", "1",
                           "--repeats", "4"], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, MINIGRAD_JIT="1"))
    assert done.returncode == 0, done.stderr
    rows = {tuple(cell.strip() for cell in line.split("|")[:2]): [
        cell.strip() for cell in line.split("|")[2:]]
        for line in done.stdout.splitlines() if "|" in line}
    return done.stdout, rows, log.read_text().splitlines()


def test_workers_alternate_with_equal_threads(fake_run):
    _, _, log = fake_run
    # round 1 in the given order; "missing" is dropped once it says so; round 2 reversed
    assert [line.split()[0] for line in log] == ["fast", "slow", "missing", "slow", "fast",
                                                 "fast", "slow"]
    for line in log:
        framework, *threads, jit, repeats = line.split()
        assert threads == ["1"] * len(harness.THREAD_VARIABLES)
        assert jit == ("0" if framework == "slow" else "1")  # the framework's own variable
        assert repeats == "4"  # the parent's options reach the workers


def test_a_workers_own_thread_variable_overrides_the_threads():
    # a worker that must run one pool on a count of its own (e.g. one BLAS thread)
    seen = harness.run_worker(["-c", "import json, os; print(json.dumps([os.environ[name] for "
                               f"name in {list(harness.THREAD_VARIABLES)!r}]))"], 2,
                              env={"OPENBLAS_NUM_THREADS": "1"})
    assert seen == ["1" if name == "OPENBLAS_NUM_THREADS" else "2"
                    for name in harness.THREAD_VARIABLES]


def test_table_gives_medians_and_the_rounds_ratio_range(fake_run):
    stdout, rows, _ = fake_run
    assert "Missing left out: not installed" in stdout
    assert rows[("case", "pass")] == ["Fast", "Slow", "Fast/Slow"]
    assert rows[("conv", "fwd")] == ["20.0", "10.0", "2.00 [0.50-3.00]"]
    assert rows[("conv", "objects")] == ["7", "7", "-"]  # counts: no ratio
    assert rows[("only fast", "fwd")] == ["1.00", "-", "-"]  # a case one framework lacks


def test_ratio_and_value_cells():
    assert harness.ratio_cell([2.0, 9.0, 4.0], [1.0, 3.0, 1.0]) == "3.00 [2.00-4.00]"
    assert harness.median_spread([3, 1, 2]) == (2, 1, 3)
    assert harness.value_cell([1.5, 2.5, 2.0]) == "2.00"
    assert harness.value_cell([5, 9, 7, 8]) == "7"
    assert harness.value_cell([]) == "-"


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK),
                    reason="needs Linux's /proc/self/clear_refs")
def test_measure_step_sees_the_memory_a_step_touches():
    mib = 2 ** 20

    def step():
        block = np.ones(64 * mib, np.uint8)  # 64 MiB, every page written
        assert block[-1] == 1

    def idle():
        pass

    busy, quiet = harness.measure_step(step, 2), harness.measure_step(idle, 2)
    assert busy["peak_mib"] >= 60
    assert quiet["peak_mib"] < 8
    assert busy["seconds"] >= busy["best_seconds"] > 0 and busy["cpu_seconds"] > 0
