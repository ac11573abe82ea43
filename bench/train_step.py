"""A training step of four ResNet basic blocks: minigrad against PyTorch, time and peak
memory.

Each block is conv3x3-BN-ReLU-conv3x3-BN plus the identity, then ReLU, 64 channels, on a
32x64x32x32 float32 batch. A step is zero_grad, forward, MSE loss against a fixed target,
backward and an SGD step (momentum 0.9): BatchNorm in training mode, its running
statistics updated.

Each framework (and minigrad's NumPy reference path) runs in a worker process of its own
(harness.compare), so that neither's libraries, caches or threads count in the other's
figures: it builds the model and the batch, runs one warm-up step, then `--repeats` timed
steps, measuring each step's peak memory as harness.measure_step describes (VmHWM after
malloc_trim; Linux only). The ratios are medians over `--rounds` rounds alternating the
workers' order, with their range.

    python bench/train_step.py [--repeats 5] [--rounds 3] [--threads 2] [--quick]
                               [--no-torch]
"""
import numpy as np

import harness

SHAPE = (32, 64, 32, 32)  # batch, channels, height, width
BLOCKS = 4
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


def batch():
    """The fixed float32 input and target."""
    rng = np.random.default_rng(0)
    return [rng.standard_normal(SHAPE).astype(np.float32) for _ in range(2)]


def minigrad_step():
    """A training step of minigrad, on the kernels the environment chose (MINIGRAD_JIT)."""
    import minigrad as mg
    import minigrad.functional as F
    import minigrad.nn as nn
    import minigrad.optim as optim

    mg.manual_seed(0)
    model = resnet_blocks(nn)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, target = (mg.Tensor(a) for a in batch())

    def step():
        optimizer.zero_grad()
        F.mse_loss(model(x), target).backward()
        optimizer.step()
    return step


def torch_step(torch):
    """The same step in PyTorch."""
    torch.manual_seed(0)
    model = resnet_blocks(torch.nn)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, target = (torch.from_numpy(a) for a in batch())

    def step():
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), target).backward()
        optimizer.step()
    return step


def measure(framework, args):
    """{case: {figure: value}} of the step on `framework`: harness.measure_step's median
    and best step, CPU time (ms) and peak memory (MiB)."""
    if framework == harness.TORCH:
        step = torch_step(harness.require_torch(args))
    else:
        step = minigrad_step()
    result = harness.measure_step(step, args.repeats)
    return {f"{BLOCKS} ResNet blocks": {
        "step ms": 1e3 * result["seconds"], "best ms": 1e3 * result["best_seconds"],
        "CPU ms": 1e3 * result["cpu_seconds"], "peak MiB": result["peak_mib"]}}


def main():
    args = harness.parse_compare_args(__doc__, repeats=5)
    harness.compare(__file__, args, measure, case_width=15, title=(
        f"training step of {BLOCKS} ResNet basic blocks, input {'x'.join(map(str, SHAPE))} "
        f"float32: the median and the fastest step, CPU ms of all threads (it leaves out "
        f"waiting for a core on a loaded machine) and the largest peak memory above the "
        f"step's start, over {args.repeats} steps after a warm-up"))


if __name__ == "__main__":
    main()
