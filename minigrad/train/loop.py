"""The training loop behind `python -m minigrad train TASK`, and the interface a task fills in.

The loop knows no task: it builds what the `Task` gives it (model, data, loss, metrics,
pictures), runs the epochs with a progress bar, and after each epoch writes into the output
folder `metrics.json`, `checkpoint.npz` (atomically: a crash mid-write leaves the previous
one readable) and `curves.png`; at the end `predictions.png`. `--resume DIR` restores the
model, the optimiser, the schedule, the epoch and every random state, so the resumed run
gives the same numbers as one that was never stopped.

Optimisation is the same for every task: Adam with two parameter groups, the encoder's at
`lr * encoder_lr_scale` and the rest at `lr`, and a cosine schedule over the epochs, stepped
once per epoch. A frozen encoder (`--freeze-encoder`, until `--unfreeze-at`) gets no
gradients and runs in eval mode, so neither its weights nor its BatchNorm running
statistics change.
"""
import contextlib
import json
import os
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

from .. import nn, optim
from ..data import DataLoader
from ..diagnostics import (Monitor, plot_activation_histograms, plot_gradient_histograms,
                           plot_update_ratios)
from ..random import Generator, default_generator, manual_seed
from ..serialization import load, save
from ..tensor import no_grad

CHECKPOINT, METRICS = "checkpoint.npz", "metrics.json"
MONITORED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)  # the layers --diagnostics draws


class OptionError(ValueError):
    """A command-line option found wrong only once the model or the files are there (a
    --pretrained file that fits nothing); `python -m minigrad` prints it as a usage error."""


def size_error(model, size, stride):
    """The --size error for a net that downsamples by `stride`, or None if size fits."""
    if size % stride:
        return (f"argument --size: {model} downsamples by {stride}, so the size must be a "
                f"multiple of {stride}, got {size}")
    return None


class Task:
    """What one kind of training needs; a subclass per task (classify.py, segment.py, ...)
    and one entry in `minigrad.train.TASKS` make `python -m minigrad train NAME` work.

    Class attributes:
      name           the sub-command, e.g. "segment"
      models         {model name: constructor(task) -> nn.Module}, the --model choices
      default_model  the --model default
      metrics        keys of `evaluate`'s dict drawn in curves.png beside the losses; the
                     first is the headline metric (e.g. "val_miou")
      collate_fn     the DataLoader's collate_fn (None: default_collate; `list` for
                     samples that do not stack, such as detection targets)

    `self.args` holds the parsed options (model, size, train_images, val_images,
    batch_size, seed, ...). Methods to write:
      add_arguments(parser)      classmethod; the task's own options (optional)
      check_args(args)           classmethod; an error message naming the bad option, or None
                                 (`python -m minigrad` prints it as an argparse error)
      datasets()                 (train, val) Datasets; train with its augmentation
      build_model()              the network, freshly initialised from the global generator
                                 (default: models[args.model](self))
      encoder(model)             names of the top-level submodules --freeze-encoder freezes
                                 (and --pretrained may load under), e.g. ["backbone"]
      loss(model, batch)         a scalar Tensor for one batch from the train loader; the
                                 model is in train mode (a frozen encoder in eval mode)
      evaluate(model, loader)    {"val_loss": ..., metric: ...} over the val loader, plain
                                 floats (or dicts of them); called in eval mode, no_grad
      plot_predictions(model, dataset, path)  write a picture of predictions on a few
                                 samples of `dataset` (val) to `path`; eval mode, no_grad
    """

    name = None
    models = {}
    default_model = None
    metrics = ()
    collate_fn = None

    def __init__(self, args):
        self.args = args

    @classmethod
    def add_arguments(cls, parser):
        """Add the task's own options to its argparse parser (none by default)."""

    @classmethod
    def check_args(cls, args):
        return None

    def build_model(self):
        return type(self).models[self.args.model](self)

    def datasets(self):
        raise NotImplementedError(f"{type(self).__name__} must define datasets")

    def encoder(self, model):
        raise NotImplementedError(f"{type(self).__name__} must define encoder")

    def loss(self, model, batch):
        raise NotImplementedError(f"{type(self).__name__} must define loss")

    def evaluate(self, model, loader):
        raise NotImplementedError(f"{type(self).__name__} must define evaluate")

    def plot_predictions(self, model, dataset, path):
        raise NotImplementedError(f"{type(self).__name__} must define plot_predictions")


class Run:
    """One training run in `args.out`: the task's model and data, the optimiser, the
    schedule and the random sources, built fresh or restored from the folder's checkpoint."""

    def __init__(self, task, resume=False):
        args = self.args = task.args
        self.task, self.out = task, args.out
        os.makedirs(self.out, exist_ok=True)
        manual_seed(args.seed)  # initial weights and augmentation draws
        self.train_set, self.val_set = task.datasets()
        self.model = task.build_model()
        self.encoder_names = task.encoder(self.model)
        self.encoder_modules = [self.model.get_submodule(n) for n in self.encoder_names]
        if args.pretrained and not resume:
            print(load_pretrained(self.model, args.pretrained, self.encoder_names))
        encoder_params = {id(p) for m in self.encoder_modules for p in m.parameters()}
        params = list(self.model.parameters())
        groups = [{"params": [p for p in params if id(p) in encoder_params],
                   "lr": args.lr * args.encoder_lr_scale},
                  {"params": [p for p in params if id(p) not in encoder_params]}]
        self.optimizer = optim.Adam([g for g in groups if g["params"]], lr=args.lr)
        self.scheduler = optim.lr_scheduler.CosineAnnealingLR(self.optimizer, args.epochs)
        self.order = Generator().manual_seed(args.seed)  # the order of the training samples
        self.train_loader = DataLoader(self.train_set, args.batch_size, shuffle=True,
                                       generator=self.order, collate_fn=task.collate_fn)
        self.val_loader = DataLoader(self.val_set, args.batch_size, collate_fn=task.collate_fn)
        self.history, self.epoch = [], 0
        if resume:
            self.restore(load(os.path.join(self.out, CHECKPOINT)))

    # --- one epoch -------------------------------------------------------------------------
    def frozen(self, epoch):
        """Whether the encoder is frozen during `epoch` (1-based)."""
        return self.args.freeze_encoder and (self.args.unfreeze_at is None or
                                             epoch < self.args.unfreeze_at)

    def set_mode(self, epoch):
        """Train mode, except a frozen encoder: no gradients and eval mode, so BatchNorm uses
        and keeps its running statistics instead of updating them from the batch."""
        frozen = self.frozen(epoch)
        self.model.train()
        for module in self.encoder_modules:
            module.requires_grad_(not frozen)
            if frozen:
                module.eval()

    def train_epoch(self, epoch):
        """One pass over the training data; returns the mean loss per sample. With
        --diagnostics, the first and last epochs are recorded by a Monitor (figures in
        diagnostics/)."""
        self.set_mode(epoch)
        n, batch_size = len(self.train_set), self.args.batch_size
        total, seen = 0.0, 0
        monitor = (Monitor(self.model, MONITORED) if self.args.diagnostics
                   and epoch in (1, self.args.epochs) else None)
        bar = tqdm(total=n, desc=f"epoch {epoch}/{self.args.epochs}", unit="img",
                   leave=False, file=sys.stderr, dynamic_ncols=True)
        with bar:
            for batch in self.train_loader:
                size = min(batch_size, n - seen)  # the loader's batches, the last one short
                with monitor.record() if monitor else contextlib.nullcontext():
                    loss = self.task.loss(self.model, batch)
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
                total, seen = total + loss.item() * size, seen + size
                bar.set_postfix(loss=f"{loss.item():.4f}")
                bar.update(size)
        self.scheduler.step()
        if monitor:
            monitor.remove()
            save_diagnostics(monitor, os.path.join(self.out, "diagnostics"), epoch)
        return total / seen

    @no_grad()
    def validate(self):
        self.model.eval()
        return self.task.evaluate(self.model, self.val_loader)

    # --- the run -------------------------------------------------------------------------
    def fit(self):
        """Train from the epoch after the checkpoint's to args.epochs; returns the exit code
        (0, or 130 after Ctrl-C: the last finished epoch is saved, the run can resume)."""
        try:
            for epoch in range(self.epoch + 1, self.args.epochs + 1):
                start, lr = time.perf_counter(), self.optimizer.param_groups[-1]["lr"]
                train_loss = self.train_epoch(epoch)
                metrics = {"epoch": epoch, "train_loss": train_loss, **self.validate(),
                           "lr": lr}
                metrics["seconds"] = time.perf_counter() - start
                self.history.append(metrics)
                self.epoch = epoch
                self.save()
                print(epoch_line(metrics, self.args.epochs, self.task.metrics), flush=True)
        except KeyboardInterrupt:
            print(f"\ninterrupted in epoch {self.epoch + 1}; {self.out}/{CHECKPOINT} holds "
                  f"epoch {self.epoch}: continue with --resume {self.out}", file=sys.stderr)
            self.draw()
            return 130
        self.draw()
        return 0

    def draw(self):
        """curves.png from the history, predictions.png from the current model."""
        if not self.history:
            return
        plot_curves(self.history, self.task.metrics, os.path.join(self.out, "curves.png"))
        self.model.eval()
        with no_grad():
            self.task.plot_predictions(self.model, self.val_set,
                                       os.path.join(self.out, "predictions.png"))
        print(f"wrote {', '.join(sorted(os.listdir(self.out)))} in {self.out}")

    # --- checkpoints ---------------------------------------------------------------------
    def save(self):
        """checkpoint.npz and metrics.json, each written whole or not at all."""
        arrays = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        optimizer = self.optimizer.state_dict()
        state = {}
        for index, values in optimizer["state"].items():
            state[index] = {}
            for key, value in values.items():
                if isinstance(value, np.ndarray):
                    arrays[f"optimizer.state.{index}.{key}"] = value
                else:
                    state[index][key] = value
        meta = {"task": self.task.name, "args": vars(self.args), "epoch": self.epoch,
                "history": self.history, "scheduler": self.scheduler.state_dict(),
                "optimizer": {"state": state, "param_groups": optimizer["param_groups"]},
                "random": {"global": default_generator.get_state(),
                           "order": self.order.get_state()}}
        # the rest as JSON in UTF-8 bytes: .npz members hold numbers only, never pickles
        arrays["meta"] = np.frombuffer(json.dumps(meta, default=_plain).encode(), np.uint8)
        atomic_write(os.path.join(self.out, CHECKPOINT), lambda path: save(arrays, path))
        atomic_write(os.path.join(self.out, METRICS), lambda path: _write_json(self.history, path))

    def restore(self, checkpoint):
        meta = read_meta(checkpoint)
        self.model.load_state_dict({k[len("model."):]: v for k, v in checkpoint.items()
                                    if k.startswith("model.")})
        state = {int(i): dict(values) for i, values in meta["optimizer"]["state"].items()}
        for key, value in checkpoint.items():
            if key.startswith("optimizer.state."):
                index, name = key[len("optimizer.state."):].split(".", 1)
                state.setdefault(int(index), {})[name] = value.copy()
        self.optimizer.load_state_dict({"state": state,
                                        "param_groups": meta["optimizer"]["param_groups"]})
        self.scheduler.load_state_dict(meta["scheduler"])
        default_generator.set_state(meta["random"]["global"])
        self.order.set_state(meta["random"]["order"])
        self.history, self.epoch = meta["history"], meta["epoch"]


def read_meta(checkpoint):
    """The checkpoint's JSON part: task, args, epoch, history, optimiser and random states."""
    return json.loads(checkpoint["meta"].tobytes().decode())


def _plain(value):
    """JSON for NumPy scalars and tuples' cousins that json does not know."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to a checkpoint")


def _write_json(value, path):
    with open(path, "w") as file:
        json.dump(value, file, indent=1, default=_plain)


def atomic_write(path, write):
    """Call write(temporary path) in path's folder, then rename it over `path` in one step
    (os.replace is atomic): readers see the old file or the new one, never half of one."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def load_pretrained(model, path, encoder_names):
    """Copy the arrays of the .npz at `path` into `model` where name and shape match: under
    the model's own names (a whole model's state_dict), or under an encoder's name (a
    `model.backbone.state_dict()` saved alone). Returns a one-line report; a file that
    matches nothing is an error."""
    own = model.state_dict()
    arrays = load(path)
    best = {}
    for prefix in [""] + [f"{name}." for name in encoder_names]:
        matched = {prefix + k: v for k, v in arrays.items()
                   if prefix + k in own and own[prefix + k].shape == v.shape}
        if len(matched) > len(best):
            best = matched
    if not best:
        raise OptionError(f"argument --pretrained: {path}: none of its {len(arrays)} arrays "
                          f"matches a parameter or buffer of the model by name and shape "
                          f"(tried the model's names and under {', '.join(encoder_names)})")
    model.load_state_dict({**own, **best})
    return f"loaded {len(best)} of {len(own)} arrays of the model from {path}"


def save_diagnostics(monitor, folder, epoch):
    """Histograms of the monitored layers' outputs and output gradients, and |dw| / |w| per
    step, over one epoch: epoch{N}_activations.png, epoch{N}_gradients.png and
    epoch{N}_update_ratios.png in `folder`."""
    os.makedirs(folder, exist_ok=True)
    for name, plot in (("activations", plot_activation_histograms),
                       ("gradients", plot_gradient_histograms),
                       ("update_ratios", plot_update_ratios)):
        fig = plot(monitor)
        fig.savefig(os.path.join(folder, f"epoch{epoch}_{name}.png"), dpi=90)
        plt.close(fig)


def epoch_line(metrics, epochs, names):
    """`epoch 3/10  train_loss 0.4123  val_loss 0.3871  val_miou 0.7712 ... 12.3 s`."""
    fields = [f"epoch {metrics['epoch']}/{epochs}"]
    for key in ("train_loss", "val_loss") + tuple(names):
        fields.append(f"{key} {metrics[key]:.4f}")
    fields.append(f"{metrics['seconds']:.1f} s")
    return "  ".join(fields)


def plot_curves(history, names, path):
    """Train and val loss per epoch (left), the task's metrics per epoch (right)."""
    epochs = [m["epoch"] for m in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for key in ("train_loss", "val_loss"):
        left.plot(epochs, [m[key] for m in history], marker="o", label=key)
    left.set(xlabel="epoch", ylabel="loss (per sample)", title="loss")
    for key in names:
        right.plot(epochs, [m[key] for m in history], marker="o", label=key)
    right.set(xlabel="epoch", title="validation metrics", ylim=(0, 1))
    for ax in (left, right):
        ax.legend()
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
