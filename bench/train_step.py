"""A training step of four ResNet basic blocks: minigrad against PyTorch (2 threads), time
and peak memory.

Each block is conv3x3-BN-ReLU-conv3x3-BN plus the identity, then ReLU, 64 channels, on a
32x64x32x32 float32 batch. A step is zero_grad, forward, MSE loss against a fixed target,
backward and an SGD step (momentum 0.9): BatchNorm in training mode, its running
statistics updated.

Each framework (and minigrad's NumPy reference path) runs in a subprocess of its own, so
that neither's libraries, caches or threads count in the other's figures. The subprocess
builds the model and the batch, runs one warm-up step, then `--repeats` timed steps. Before
each step it hands freed memory back to the OS (glibc's malloc_trim, which both frameworks'
allocations go through) and resets the kernel's high-water mark of the resident set size
(writing 5 to /proc/self/clear_refs); after it, the high-water mark (VmHWM) minus the
resident size before the step is the step's peak memory above the model, the batch and
whatever persists between steps. The largest over the steps is printed. Linux only.

    python bench/train_step.py [--repeats 5] [--no-torch]
"""
import ctypes
import importlib.util
import json
import subprocess
import sys
import time

import numpy as np

import harness

SHAPE = (32, 64, 32, 32)  # batch, channels, height, width
BLOCKS = 4
WORKERS = {  # name printed: the option value that runs it in a subprocess
    "minigrad (Numba)": "minigrad-numba",
    "minigrad (NumPy)": "minigrad-numpy",
    "PyTorch": "torch",
}


def resnet_blocks(nn, channels=SHAPE[1], blocks=BLOCKS):
    """`blocks` basic blocks, written once for both frameworks: `nn` is minigrad.nn or
    torch.nn, whose Module, Sequential, Conv2d, BatchNorm2d and ReLU agree."""
    class BasicBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels), nn.ReLU(),
                nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels))
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.body(x) + x)

    return nn.Sequential(*(BasicBlock() for _ in range(blocks)))


def status_mib(field):
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # the kernel reports kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure(step, repeats):
    """Run `step` once to warm up, then `repeats` times; the median and the best wall-clock
    seconds, the median CPU seconds (all threads) and the largest peak MiB above the
    resident size before the step."""
    malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
    step()
    times, cpu_times, peaks = [], [], []
    for _ in range(repeats):
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


def batch():
    """The fixed float32 input and target."""
    rng = np.random.default_rng(0)
    return [rng.standard_normal(SHAPE).astype(np.float32) for _ in range(2)]


def minigrad_step(jit):
    """A training step of minigrad on its Numba (`jit`) or NumPy kernels."""
    import minigrad as mg
    import minigrad.functional as F
    import minigrad.nn as nn
    import minigrad.optim as optim

    mg.set_jit(jit)
    mg.manual_seed(0)
    model = resnet_blocks(nn)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, target = (mg.Tensor(a) for a in batch())

    def step():
        optimizer.zero_grad()
        F.mse_loss(model(x), target).backward()
        optimizer.step()
    return step


def torch_step():
    """The same step in PyTorch."""
    torch = harness.load_torch(False)
    torch.manual_seed(0)
    model = resnet_blocks(torch.nn)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, target = (torch.from_numpy(a) for a in batch())

    def step():
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), target).backward()
        optimizer.step()
    return step


def worker(name, repeats):
    """Measure one framework in this process and print the result as a JSON line."""
    step = torch_step() if name == "torch" else minigrad_step(name == "minigrad-numba")
    print(json.dumps(measure(step, repeats)))


def run_worker(name, repeats):
    """measure()'s figures, from a fresh Python process."""
    done = subprocess.run([sys.executable, __file__, "--worker", name, "--repeats",
                           str(repeats)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the {name} subprocess failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def main():
    args = harness.parse_args(__doc__, repeats=5, worker=dict(
        choices=WORKERS.values(), help="measure one framework here (used by the script itself)"))
    if args.worker:
        worker(args.worker, args.repeats)
        return
    names = list(WORKERS)
    if args.no_torch or importlib.util.find_spec("torch") is None:
        if not args.no_torch:
            print("PyTorch is not installed: minigrad's figures only")
        names.remove("PyTorch")
    print(f"training step of {BLOCKS} ResNet basic blocks, input {'x'.join(map(str, SHAPE))} "
          f"float32; median time and largest peak memory above the step's start over "
          f"{args.repeats} steps after a warm-up, and the fastest step; CPU ms sums all threads "
          f"(it leaves out waiting for a core on a loaded machine); time ratios of the medians")
    columns = [("", 16), ("step ms", 8), ("best ms", 8), ("CPU ms", 8), ("peak MiB", 8),
               ("time / Numba", 12)]
    if "PyTorch" in names:
        columns += [("time / PyTorch", 14), ("memory / PyTorch", 16)]
    table = harness.Table(*columns)
    results = {name: run_worker(WORKERS[name], args.repeats) for name in names}
    numba, torch = results["minigrad (Numba)"], results.get("PyTorch")
    for name, result in results.items():
        cells = [name, *(harness.ms(1e3 * result[key])
                         for key in ("seconds", "best_seconds", "cpu_seconds")),
                 f"{result['peak_mib']:.0f}", f"{result['seconds'] / numba['seconds']:.2f}"]
        if torch:
            cells += [f"{result['seconds'] / torch['seconds']:.2f}",
                      f"{result['peak_mib'] / torch['peak_mib']:.2f}"]
        table.row(*cells)


if __name__ == "__main__":
    main()
