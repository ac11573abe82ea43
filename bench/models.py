"""Model zoo: one training step of five models, minigrad against PyTorch, time and memory.

Forward + backward of one training batch for resnet18, mobilenet_v2, densenet121, unet and
deeplabv3plus, minigrad (Numba kernels) against PyTorch: time and peak memory.

A step is the forward pass in training mode (BatchNorm on batch statistics, Dropout on),
the cross-entropy loss and backward, on a float32 batch of 16 3x64x64 images: against 16
random labels of 10 classes for the classifiers, against random per-pixel labels of 4
classes (16x64x64) for the segmentation nets. Gradients are set to None before each step,
outside the timing; no optimizer step is taken.

PyTorch's models are torchvision 0.28's classifiers and, for unet and deeplabv3plus (which
torchvision lacks), twins written below with torch.nn from the description of
minigrad.models.segmentation's defaults (unet: base 16, depth 4, transposed-conv
upsampling; deeplabv3plus: base 16, output stride 16, rates 6/12/18). Weights differ; the
architectures are checked, not assumed: each worker reports its state_dict's keys and
shapes, and the table says whether both frameworks' agree.

Each framework runs in a worker process of its own, one per model and round, all thread
pools (PyTorch/OpenMP, OpenBLAS, Numba) set to `--threads`: a warm-up step, then the median
of `--repeats` steps. Rounds alternate which framework goes first; the ratio printed is the
median over rounds of each round's minigrad/PyTorch ratio, with the smallest and largest.
The CPU column is the same ratio of process time (all threads; it leaves out waiting for
a core but counts threads spinning at a barrier). MiB is each step's peak resident memory
above its start (harness.measure_step: VmHWM after malloc_trim, gradients set to None
before the step), the largest over the steps; its ratio is taken per round like the
time's. `--numpy` names models also timed on minigrad's NumPy reference kernels.

On a loaded 2-core machine two-thread pools lose their cores mid-step and wall times swell
by up to 10x, differently for each framework: read times from a quiet machine, or compare
with `--threads 1`, which suffers less.

    python bench/models.py [--quick] [--rounds 3] [--repeats 3] [--threads 2]
                           [--only NAME] [--numpy resnet18] [--no-torch]
"""
import argparse
import hashlib
import importlib
import importlib.util
import json
import statistics
import sys
import types

import numpy as np

import harness

BATCH, SIZE = 16, 64
# name: (number of classes, segmentation?, goal: at most this many times PyTorch's time)
MODELS = {
    "resnet18": (10, False, 1.5),
    "mobilenet_v2": (10, False, 2.0),
    "densenet121": (10, False, 2.0),
    "unet": (4, True, 1.5),
    "deeplabv3plus": (4, True, None),
}
MINIGRAD_MODULES = {"resnet18": "minigrad.models.resnet",
                    "mobilenet_v2": "minigrad.models.mobilenet",
                    "densenet121": "minigrad.models.densenet",
                    "unet": "minigrad.models.segmentation",
                    "deeplabv3plus": "minigrad.models.segmentation"}
FRAMEWORKS = {"numba": "minigrad", "numpy": "minigrad NumPy", "torch": "PyTorch"}


def torchvision(module):
    """torchvision.<module>. torchvision's compiled ops do not load beside the CPU build of
    torch; its models are pure Python and import once `_meta_registrations` is registered
    as an empty module (as in tests/conftest.py)."""
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    return importlib.import_module("torchvision." + module)


def torch_unet(num_classes, base_channels=16, depth=4):
    """minigrad's `unet(num_classes)` in torch.nn: inc, `depth` (max-pool, double conv)
    downs, `depth` ups (2x2 stride-2 ConvTranspose2d, concatenation [skip, up], double
    conv), 1x1 outc; the same module names. (minigrad's Up pads odd sizes; 64x64 has none.)"""
    import torch
    from torch import nn

    def double_conv(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                             nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    class Up(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
            self.conv = double_conv(cin, cout)

        def forward(self, x, skip):
            return self.conv(torch.cat([skip, self.up(x)], dim=1))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [base_channels * 2 ** level for level in range(depth + 1)]
            self.inc = double_conv(3, widths[0])
            self.downs = nn.ModuleList([nn.Sequential(nn.MaxPool2d(2), double_conv(c, 2 * c))
                                        for c in widths[:-1]])
            self.ups = nn.ModuleList([Up(2 * c, c) for c in reversed(widths[:-1])])
            self.outc = nn.Conv2d(widths[0], num_classes, 1)

        def forward(self, x):
            x = self.inc(x)
            skips = []
            for down in self.downs:
                skips.append(x)
                x = down(x)
            for up, skip in zip(self.ups, reversed(skips)):
                x = up(x, skip)
            return self.outc(x)

    return UNet()


def torch_deeplabv3plus(num_classes, b=16, rates=(6, 12, 18)):
    """minigrad's `deeplabv3plus(num_classes)` (output stride 16) with torchvision's
    Conv2dNormActivation and ASPP, which minigrad's mirror: backbone (stem /2, layer1 /4,
    layer2 /8, layer3 /16, layer4 dilated 2), ASPP to 8b channels, the stride-4 features
    projected to 3b/2, two 3x3 conv-BN-ReLU and a 1x1 conv, bilinear upsampling."""
    import torch
    from torch import nn
    from torch.nn.functional import interpolate
    ASPP = torchvision("models.segmentation.deeplabv3").ASPP
    CNA = torchvision("ops.misc").Conv2dNormActivation

    class Backbone(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = CNA(3, b, stride=2)
            self.layer1 = nn.Sequential(CNA(b, 2 * b, stride=2), CNA(2 * b, 2 * b))
            self.layer2 = nn.Sequential(CNA(2 * b, 4 * b, stride=2), CNA(4 * b, 4 * b))
            self.layer3 = nn.Sequential(CNA(4 * b, 8 * b, stride=2), CNA(8 * b, 8 * b))
            self.layer4 = nn.Sequential(CNA(8 * b, 8 * b, dilation=2),
                                        CNA(8 * b, 8 * b, dilation=2))

        def forward(self, x):
            low_level = self.layer1(self.stem(x))
            return low_level, self.layer4(self.layer3(self.layer2(low_level)))

    class DeepLabV3Plus(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = Backbone()
            self.aspp = ASPP(8 * b, rates, 8 * b)
            self.low_level = CNA(2 * b, 3 * b // 2, kernel_size=1)
            self.decoder = nn.Sequential(CNA(8 * b + 3 * b // 2, 8 * b), CNA(8 * b, 8 * b),
                                         nn.Conv2d(8 * b, num_classes, 1))

        def forward(self, x):
            low_level, out = self.backbone(x)
            low_level = self.low_level(low_level)
            y = interpolate(self.aspp(out), size=low_level.shape[-2:], mode="bilinear",
                            align_corners=False)
            y = self.decoder(torch.cat([y, low_level], dim=1))
            return interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)

    return DeepLabV3Plus()


def build(framework, name):
    """The model `name` of `framework` ("numba"/"numpy": minigrad, "torch": PyTorch)."""
    classes = MODELS[name][0]
    if framework != "torch":
        return getattr(importlib.import_module(MINIGRAD_MODULES[name]), name)(
            num_classes=classes)
    if name == "unet":
        return torch_unet(classes)
    if name == "deeplabv3plus":
        return torch_deeplabv3plus(classes)
    return getattr(torchvision("models"), name)(num_classes=classes)


def batch(name):
    """The fixed float32 images and int64 labels (per image or per pixel)."""
    classes, segmentation, _ = MODELS[name]
    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, 3, SIZE, SIZE)).astype(np.float32)
    labels = rng.integers(0, classes, (BATCH, SIZE, SIZE) if segmentation else (BATCH,))
    return images, labels


def worker(framework, name, repeats, threads):
    """Time `repeats` steps of one model in this process (after a warm-up step), with
    harness.measure_step's peak memory, and print the median time and CPU time, the peak,
    the parameter count and a digest of the state_dict's keys and shapes as a JSON line."""
    images, labels = batch(name)
    if framework == "torch":
        torch = harness.load_torch(False, threads)
        torch.manual_seed(0)
        x, target = torch.from_numpy(images), torch.from_numpy(labels)
        cross_entropy = torch.nn.functional.cross_entropy
    else:
        import minigrad as mg
        import minigrad.nn.functional as F
        mg.set_jit(framework == "numba")
        mg.manual_seed(0)
        x, target = mg.Tensor(images), mg.Tensor(labels)
        cross_entropy = F.cross_entropy
    model = build(framework, name)
    model.train()

    def step():
        cross_entropy(model(x), target).backward()

    result = harness.measure_step(step, repeats,
                                  before_step=lambda: model.zero_grad(set_to_none=True))
    layout = [(key, tuple(value.shape)) for key, value in model.state_dict().items()]
    print(json.dumps(dict(
        ms=1e3 * result["seconds"], cpu_ms=1e3 * result["cpu_seconds"],
        peak_mib=result["peak_mib"],
        parameters=sum(int(np.prod(p.shape)) for p in model.parameters()),
        layout=hashlib.sha1(repr(layout).encode()).hexdigest())))


def main():
    args = harness.parse_compare_args(
        __doc__, repeats=3, quick_repeats=2,
        only=dict(help="only the models whose name contains this"),
        numpy=dict(default="resnet18", help="comma-separated models also timed on "
                   "minigrad's NumPy reference kernels ('' for none)"),
        model=dict(choices=MODELS, help=argparse.SUPPRESS))
    if args.worker:
        worker(args.worker, args.model, args.repeats, args.threads)
        return
    if args.quick:
        args.numpy = ""
    names = [name for name in MODELS if not args.only or args.only in name]
    with_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    if not with_torch and not args.no_torch:
        print("PyTorch is not installed: minigrad's figures only")
    frameworks = {name: ["numba"] + ["numpy"] * (name in args.numpy.split(","))
                  + ["torch"] * with_torch for name in names}
    print(f"one training step (forward + cross-entropy + backward, no optimizer step), batch "
          f"{BATCH}x3x{SIZE}x{SIZE} float32, {args.threads} threads in every pool; per worker "
          f"process the median time of {args.repeats} steps after a warm-up and the largest "
          f"peak memory above the step's start; {args.rounds} rounds alternating which "
          f"framework goes first; load average {harness.load_average()} at the start",
          flush=True)

    results = {name: {framework: [] for framework in frameworks[name]} for name in names}
    for round_ in range(args.rounds):
        for name in names:
            order = frameworks[name][::-1 if round_ % 2 else 1]
            for framework in order:
                results[name][framework].append(harness.run_worker(
                    [__file__, "--worker", framework, "--model", name,
                     "--repeats", args.repeats, "--threads", args.threads], args.threads))
        print(f"round {round_ + 1}/{args.rounds} done, load average {harness.load_average()}",
              flush=True)

    columns = [("model", 25), ("parameters", 10), ("ms", 8), ("MiB", 6)]
    if with_torch:
        columns += [("PyTorch ms", 10), ("/ PyTorch", 19), ("CPU / PyTorch", 13),
                    ("goal", 7), ("", 6), ("PyTorch MiB", 11), ("MiB / PyTorch", 19),
                    ("same layout", 11)]
    table = harness.Table(*columns)
    for name in names:
        runs = results[name]
        torch_runs = runs.get("torch")
        for framework in frameworks[name][:-1] if with_torch else frameworks[name]:
            label = name if framework == "numba" else f"{name} ({FRAMEWORKS[framework]})"
            cells = [label, f"{runs[framework][0]['parameters']:,}",
                     harness.ms(statistics.median(r["ms"] for r in runs[framework])),
                     f"{statistics.median(r['peak_mib'] for r in runs[framework]):.0f}"]
            if with_torch:
                def ratio(key):
                    return harness.median_spread(
                        [r[key] / t[key] for r, t in zip(runs[framework], torch_runs)])
                time_ratio, memory_ratio = ratio("ms"), ratio("peak_mib")
                goal = MODELS[name][2] if framework == "numba" else None
                cells += [harness.ms(statistics.median(t["ms"] for t in torch_runs)),
                          "{:.2f}x [{:.2f}-{:.2f}]".format(*time_ratio),
                          f"{ratio('cpu_ms')[0]:.2f}x",
                          f"<= {goal}x" if goal else "",
                          ("met" if round(time_ratio[0], 2) <= goal else "missed")
                          if goal else "",
                          f"{statistics.median(t['peak_mib'] for t in torch_runs):.0f}",
                          "{:.2f}x [{:.2f}-{:.2f}]".format(*memory_ratio),
                          "yes" if runs[framework][0]["layout"] == torch_runs[0]["layout"]
                          else "NO"]
            table.row(*cells)
    print(f"load average {harness.load_average()} at the end.")
    if with_torch:
        print("'same layout': minigrad's and PyTorch's "
              "state_dicts have the same keys and shapes; unet and deeplabv3plus's PyTorch "
              "models are this script's twins of minigrad's, the others torchvision's. "
              "CPU: process time of all threads (it leaves out waiting for a core, counts "
              "spinning). MiB: peak resident memory of a step above its start "
              "(harness.measure_step)")


if __name__ == "__main__":
    main()
