"""Segmentation results: the course's five nets trained on the same shapes data with the same
recipe, validation mIoU and time per epoch, minigrad against PyTorch.

Each of fcn8s, unet, segnet, deeplabv3plus and pspnet (minigrad.models.segmentation's
defaults, base_channels 16, 4 classes: background, circle, square, triangle) is trained by
`python -m minigrad train segment` itself, called in a worker process of its own: the
ShapesSegmentation data (64x64, 1-4 shapes, a horizontal flip as augmentation, the fixed
validation split of the seed), Adam at --lr with a cosine schedule over the epochs, batches
of 16. Its metrics.json gives the validation mIoU and the seconds of every epoch (training
pass plus validation).

The PyTorch twin of each net (bench/models.py's unet and deeplabv3plus, bench/
segmentation_torch.py's fcn8s, segnet and pspnet; the same module names, and the table says
whether both state_dicts have the same keys and shapes) runs the same recipe in a worker of
its own: the same Dataset and DataLoader (minigrad's, so that both read the same batches in
the same order and spend the same time on data), torch.optim.Adam and CosineAnnealingLR,
the same per-epoch validation. By default it runs --torch-epochs epochs (2): enough for the
time per epoch, which is the median over the epochs run on each side; `--torch-epochs 0`
runs the whole recipe and also reports its mIoU.

Goals (issue 10, on the 2-core laptop): val mIoU >= 0.90 for unet and deeplabv3plus and
>= 0.85 for fcn8s, segnet and pspnet, each within 15 minutes of training; minigrad's time
per epoch <= 1.5x PyTorch's. `--profile NAME` instead prints where one training step of
minigrad's NAME spends its time (cProfile, by own time). `--stop-at-goal` ends minigrad's
training after the first epoch that reaches the goal and `--minutes M` after M minutes, as
Ctrl-C would (the finished epochs count): the table then says how soon, or whether within
the time goal, each net gets there, in a fraction of the full recipe's time.

    python bench/segmentation.py [--quick] [--only NAME] [--epochs 10] [--threads 2]
                                 [--stop-at-goal] [--minutes M] [--torch-epochs 2]
                                 [--no-torch] [--profile NAME]
"""
import _thread
import argparse
import cProfile
import hashlib
import importlib.util
import json
import os
import pstats
import signal
import statistics
import sys
import tempfile
import threading
import time

import numpy as np

import harness

CLASSES = 4
# name: the val mIoU it should reach
GOALS = {"fcn8s": 0.85, "unet": 0.90, "segnet": 0.85, "deeplabv3plus": 0.90, "pspnet": 0.85}
TIME_GOAL = 1.5  # minigrad's seconds per epoch, at most this many times PyTorch's
MINUTES_GOAL = 15
FULL = dict(size=64, train_images=2000, val_images=200, epochs=10, batch_size=16, lr=1e-3,
            base_channels=16, seed=0)
QUICK = dict(FULL, size=32, train_images=48, val_images=16, epochs=2)


def layout_digest(model):
    """A digest of the state_dict's keys and shapes, equal for two frameworks' twins."""
    layout = [(key, tuple(value.shape)) for key, value in model.state_dict().items()]
    return hashlib.sha1(repr(layout).encode()).hexdigest()


def stop_training(metrics_path, epochs, goal, minutes, finished):
    """Interrupt the main thread as Ctrl-C would (the train command then saves the finished
    epochs and exits with 130) once the last epoch in `metrics_path` reaches `goal` (None:
    never) or `minutes` of training have passed (None: never), unless all `epochs` are
    done; return when `finished` is set."""
    start = time.perf_counter()
    while not finished.wait(1.0):
        history = []
        if os.path.exists(metrics_path):
            with open(metrics_path) as file:  # written whole or not at all: no partial read
                history = json.load(file)
        if len(history) == epochs:
            return  # the run is ending on its own: an interrupt now would land outside fit
        reached = goal is not None and history and history[-1]["val_miou"] >= goal
        if reached or (minutes is not None and time.perf_counter() - start > 60 * minutes):
            _thread.interrupt_main()
            return


def minigrad_worker(name, recipe, stop_at_goal=False, minutes=None):
    """Train minigrad's `name` with the train command into a temporary folder; print the
    per-epoch seconds and mIoU, the parameter count and the layout digest as JSON. With
    `stop_at_goal` training stops after the first epoch that reaches the net's goal, and
    with `minutes` after that much training (the epoch under way is not counted)."""
    from minigrad.__main__ import main as minigrad_main
    from minigrad.models import segmentation

    with tempfile.TemporaryDirectory() as out:
        argv = ["train", "segment", "--model", name, "--out", out]
        for key, value in recipe.items():
            argv += ["--" + key.replace("_", "-"), str(value)]
        # A worker started from a background job inherits SIGINT ignored, and
        # interrupt_main does nothing then: stop_training needs Ctrl-C's default handler.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        finished = threading.Event()
        threading.Thread(target=stop_training, daemon=True, args=(
            os.path.join(out, "metrics.json"), recipe["epochs"],
            GOALS[name] if stop_at_goal else None, minutes, finished)).start()
        start = time.perf_counter()
        try:
            code = minigrad_main(argv)
        finally:
            finished.set()
        wall = time.perf_counter() - start
        if code not in (0, 130):  # 130: stopped by stop_training
            sys.exit(f"python -m minigrad {' '.join(argv)} exited with {code}")
        history = []  # stays empty when --minutes ends the run inside its first epoch
        if os.path.exists(os.path.join(out, "metrics.json")):
            with open(os.path.join(out, "metrics.json")) as file:
                history = json.load(file)
    model = getattr(segmentation, name)(CLASSES, base_channels=recipe["base_channels"])
    print(json.dumps(dict(
        seconds=[epoch["seconds"] for epoch in history],
        miou=[epoch["val_miou"] for epoch in history], wall=wall,
        parameters=sum(p.numel() for p in model.parameters()),
        layout=layout_digest(model))))


def torch_model(name, base_channels):
    """The PyTorch twin of minigrad's `name` (call harness.load_torch first)."""
    import models
    import segmentation_torch
    if name == "unet":
        return models.torch_unet(CLASSES, base_channels)
    if name == "deeplabv3plus":
        return models.torch_deeplabv3plus(CLASSES, base_channels)
    twin = {"fcn8s": segmentation_torch.FCN8s, "segnet": segmentation_torch.SegNet,
            "pspnet": segmentation_torch.PSPNet}[name]
    return twin(CLASSES, base_channels)


def torch_worker(name, recipe, epochs, threads):
    """The train command's recipe in PyTorch for `epochs` epochs; prints as minigrad_worker.
    Data come from minigrad's Dataset and DataLoader, seeded as the train command seeds
    them, so both frameworks see the same batches."""
    torch = harness.load_torch(False, threads)
    from torch.nn.functional import cross_entropy

    from minigrad.data import DataLoader, ShapesSegmentation
    from minigrad.data.transforms import RandomHorizontalFlip
    from minigrad.random import Generator, manual_seed
    from minigrad.vision import mean_iou

    manual_seed(recipe["seed"])
    torch.manual_seed(recipe["seed"])
    train = ShapesSegmentation(recipe["train_images"], recipe["size"], train=True,
                               seed=recipe["seed"], transforms=RandomHorizontalFlip())
    val = ShapesSegmentation(recipe["val_images"], recipe["size"], train=False,
                             seed=recipe["seed"])
    train_loader = DataLoader(train, recipe["batch_size"], shuffle=True,
                              generator=Generator().manual_seed(recipe["seed"]))
    val_loader = DataLoader(val, recipe["batch_size"])
    model = torch_model(name, recipe["base_channels"])
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe["lr"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, recipe["epochs"])
    seconds, miou = [], []
    start = time.perf_counter()
    for _ in range(epochs):
        epoch_start = time.perf_counter()
        model.train()
        for images, masks in train_loader:
            loss = cross_entropy(model(torch.from_numpy(images.data)),
                                 torch.from_numpy(masks.data))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        model.eval()
        predictions, targets = [], []
        with torch.no_grad():
            for images, masks in val_loader:
                predictions.append(model(torch.from_numpy(images.data)).argmax(1).numpy())
                targets.append(masks.data)
        miou.append(mean_iou(np.concatenate(predictions), np.concatenate(targets), CLASSES))
        seconds.append(time.perf_counter() - epoch_start)
    print(json.dumps(dict(seconds=seconds, miou=miou, wall=time.perf_counter() - start,
                          parameters=sum(p.numel() for p in model.parameters()),
                          layout=layout_digest(model))))


def profile_step(name, recipe):
    """Print the functions one minigrad training step of `name` spends most time in."""
    import minigrad as mg
    import minigrad.nn.functional as F
    from minigrad import optim
    from minigrad.data import ShapesSegmentation
    from minigrad.models import segmentation

    data = ShapesSegmentation(recipe["batch_size"], recipe["size"], seed=recipe["seed"])
    images, masks = mg.tensor(data.images), mg.tensor(data.masks)
    model = getattr(segmentation, name)(CLASSES, base_channels=recipe["base_channels"])
    optimizer = optim.Adam(model.parameters(), lr=recipe["lr"])

    def step():
        loss = F.cross_entropy(model(images), masks)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()  # warm-up: Numba kernels loaded, buffers allocated
    profiler = cProfile.Profile()
    profiler.runcall(step)
    print(f"one training step of {name}, batch {recipe['batch_size']}x3x{recipe['size']}x"
          f"{recipe['size']}: the functions with the most own time")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def first_reaching(miou, seconds, goal):
    """'epoch E, M min' where the mIoU first reaches `goal` (time of the epochs so far),
    or 'not reached'."""
    for epoch, (value, elapsed) in enumerate(zip(miou, np.cumsum(seconds)), start=1):
        if value >= goal:
            return f"epoch {epoch}, {elapsed / 60:.1f} min"
    return "not reached"


def main():
    args = harness.parse_args(
        __doc__, repeats=1,
        quick=dict(action="store_true", help=f"a smoke run: {QUICK['train_images']} "
                   f"{QUICK['size']}x{QUICK['size']} images, {QUICK['epochs']} epochs"),
        only=dict(help="only the models whose name contains this"),
        epochs=dict(type=int, default=None, help=f"minigrad's epochs (default "
                    f"{FULL['epochs']}, the schedule's length on both sides)"),
        torch_epochs=dict(type=int, default=2, help="PyTorch's epochs (0: all)"),
        threads=dict(type=int, default=2, help="threads of every pool, both frameworks"),
        stop_at_goal=dict(action="store_true", help="stop minigrad's training after the first "
                          "epoch that reaches the net's goal"),
        minutes=dict(type=float, default=None, help="stop minigrad's training after this "
                     "many minutes (the epoch under way is not counted)"),
        profile=dict(choices=GOALS, help="profile one minigrad training step of this net"),
        worker=dict(choices=("minigrad", "torch"), help=argparse.SUPPRESS),
        model=dict(choices=GOALS, help=argparse.SUPPRESS),
        recipe=dict(help=argparse.SUPPRESS))
    recipe = dict(QUICK if args.quick else FULL)
    if args.epochs:
        recipe["epochs"] = args.epochs
    if args.recipe:
        recipe = json.loads(args.recipe)
    if args.worker == "minigrad":
        return minigrad_worker(args.model, recipe, args.stop_at_goal, args.minutes)
    if args.worker == "torch":
        return torch_worker(args.model, recipe, args.torch_epochs or recipe["epochs"],
                            args.threads)
    if args.profile:
        return profile_step(args.profile, recipe)

    names = [name for name in GOALS if not args.only or args.only in name]
    with_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    if not with_torch and not args.no_torch:
        print("PyTorch is not installed: minigrad's figures only")
    torch_epochs = min(args.torch_epochs or recipe["epochs"], recipe["epochs"])
    stopping = "".join([", stopping at its goal" if args.stop_at_goal else "",
                        f", stopping after {args.minutes:g} min" if args.minutes else ""])
    print(f"recipe: {json.dumps(recipe)}; {args.threads} threads in every pool; minigrad runs "
          f"{recipe['epochs']} epochs{stopping}; PyTorch runs {torch_epochs}; load average "
          f"{harness.load_average()} at the start", flush=True)

    columns = [("model", 13), ("parameters", 10), ("epochs", 6), ("wall min", 8),
               ("val mIoU", 8), ("goal", 6), ("reached at", 19), ("s/epoch", 7)]
    if with_torch:
        columns += [("PyTorch s/epoch", 15), ("/ PyTorch", 9), ("PyTorch mIoU", 12),
                    ("same layout", 11)]
    table = harness.Table(*columns)
    for name in names:
        stops = (["--stop-at-goal"] if args.stop_at_goal else []) + \
            (["--minutes", args.minutes] if args.minutes else [])
        run = harness.run_worker([__file__, "--worker", "minigrad", "--model", name,
                                  "--recipe", json.dumps(recipe), *stops], args.threads)
        if not run["seconds"]:
            table.row(name, f"{run['parameters']:,}", 0, f"{run['wall'] / 60:.1f}", "-",
                      f">= {GOALS[name]}", "not reached", "-", *["-"] * (4 * with_torch))
            continue
        per_epoch = statistics.median(run["seconds"])
        cells = [name, f"{run['parameters']:,}", len(run["miou"]), f"{run['wall'] / 60:.1f}",
                 f"{run['miou'][-1]:.3f}", f">= {GOALS[name]}",
                 first_reaching(run["miou"], run["seconds"], GOALS[name]), f"{per_epoch:.1f}"]
        if with_torch:
            twin = harness.run_worker([__file__, "--worker", "torch", "--model", name,
                                       "--recipe", json.dumps(recipe), "--torch-epochs",
                                       torch_epochs, "--threads", args.threads], args.threads)
            torch_per_epoch = statistics.median(twin["seconds"])
            cells += [f"{torch_per_epoch:.1f}", f"{per_epoch / torch_per_epoch:.2f}x",
                      f"{twin['miou'][-1]:.3f}" + ("" if len(twin["miou"]) == recipe["epochs"]
                                                   else f" ({len(twin['miou'])} ep)"),
                      "yes" if run["layout"] == twin["layout"] else "NO"]
        table.row(*cells)
    print(f"load average {harness.load_average()} at the end. Goals: the val mIoU above within "
          f"{MINUTES_GOAL} min of training; s/epoch (training pass + validation, median "
          f"over the epochs) <= {TIME_GOAL}x PyTorch's.")


if __name__ == "__main__":
    main()
