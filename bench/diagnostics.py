"""What a diagnostics.Monitor costs: a training step with the monitor off, attached but
idle, and recording.

A step is zero_grad, forward, cross-entropy, backward and an SGD step (momentum 0.9) on
two models:
- mlp: notebook 11's MLP, 2 -> five hidden layers of 64 ReLU units -> 3, batch 64 (tiny
  arrays: the hooks' per-call Python cost shows);
- resnet blocks: bench/train_step.py's four ResNet basic blocks (64 channels, BatchNorm
  in training mode), on a 8x64x32x32 batch pooled to 10 logits (large arrays: the cost of
  the statistics over every value shows).
Three workers, each in a process of its own (harness.compare), with a Monitor on every
leaf module of the model:
- off: no Monitor;
- idle: a Monitor attached, the step outside `record()` (its hooks return at once, but
  every module output still gets a gradient hook);
- recording: each step inside `monitor.record()`: statistics and histograms of every
  output and output gradient, dead-unit tracking for the ReLUs, the parameters copied
  before the step and |dw| / |w| after it.
Figures: the median step in ms (wall clock) and its CPU time (all threads); the ratios
are recording/off and idle/off.

    python bench/diagnostics.py [--repeats 7] [--rounds 3] [--threads 2] [--quick]
"""
import numpy as np

import harness
import train_step

FRAMEWORKS = {"off": ("off", {}), "idle": ("idle", {}), "recording": ("recording", {})}
COMPARISONS = (("recording", "off"), ("idle", "off"))
RESNET_BATCH = (8, 64, 32, 32)


def mlp_case(mg, nn):
    """The MLP, a batch of 64 points and their labels."""
    layers, fan_in = [], 2
    for _ in range(5):
        layers += [nn.Linear(fan_in, 64), nn.ReLU()]
        fan_in = 64
    rng = np.random.default_rng(0)
    return (nn.Sequential(*layers, nn.Linear(64, 3)),
            mg.Tensor(rng.standard_normal((64, 2)).astype(np.float32)),
            mg.Tensor(rng.integers(0, 3, 64)))


def resnet_case(mg, nn):
    """train_step's four basic blocks, global average pooling and a linear layer to 10
    classes; a random batch and labels."""
    model = nn.Sequential(train_step.resnet_blocks(nn), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(RESNET_BATCH[1], 10))
    rng = np.random.default_rng(0)
    return (model, mg.Tensor(rng.standard_normal(RESNET_BATCH).astype(np.float32)),
            mg.Tensor(rng.integers(0, 10, RESNET_BATCH[0])))


def measure(framework, args):
    """{case: {"step ms", "CPU ms"}} of the training step in one configuration."""
    import minigrad as mg
    import minigrad.diagnostics as diagnostics
    import minigrad.functional as F
    from minigrad import nn, optim

    results = {}
    for name, case in (("mlp, batch 64", mlp_case),
                       (f"resnet blocks, {'x'.join(map(str, RESNET_BATCH))}", resnet_case)):
        mg.manual_seed(0)
        model, x, y = case(mg, nn)
        optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        monitor = diagnostics.Monitor(model) if framework != "off" else None

        def step():
            with monitor.record() if framework == "recording" else mg.enable_grad():
                optimizer.zero_grad()
                F.cross_entropy(model(x), y).backward()
                optimizer.step()

        figures = harness.measure_step(step, args.repeats)
        results[name] = {"step ms": 1e3 * figures["seconds"],
                         "CPU ms": 1e3 * figures["cpu_seconds"]}
    return results


def main():
    args = harness.parse_compare_args(__doc__, repeats=7)
    harness.compare(__file__, args, measure, FRAMEWORKS, COMPARISONS, case_width=30, title=(
        "a training step (zero_grad, forward, cross-entropy, backward, SGD step) with no "
        "Monitor, an idle one, and one recording every step"))


if __name__ == "__main__":
    main()
