"""python -m minigrad {demo,gradcheck,train,convert}

`gradcheck` checks every op of the catalog (minigrad/catalog.py) against finite
differences and prints one table row per op. `demo` trains a small MLP (nn.Linear layers,
optim.Adam) on three interleaved spirals, saves a picture of the decision regions it
learnt, trains a small U-Net on the shapes data and draws its masks (the `train segment`
command on a small configuration), then runs the same gradchecks and prints their summary
(the table is `gradcheck`'s). `train TASK` trains a network of the zoo on generated data
(minigrad/train/: the loop and one class per task), writing metrics, checkpoints and
pictures into --out. `convert FILE.pth OUT.npz` turns a PyTorch checkpoint's state_dict
into the .npz that `mg.load` reads (needs torch).
"""
import argparse
import os
import sys
import time
from collections import OrderedDict

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import functional as F
from . import nn, optim
from .catalog import CASES
from .data import make_spirals
from .random import manual_seed
from .serialization import load, save
from .tensor import Tensor, no_grad
from .train import CHECKPOINT, TASKS, OptionError, Run, read_meta
from .train.segment import save_predictions
from .viz import plot_decision_boundary


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigrad",
                                     description="minigrad from the command line")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("gradcheck", help="gradcheck every op in the catalog, print a table")
    demo = commands.add_parser("demo", help="train an MLP on three spirals and a U-Net on "
                                            "shapes, plot what they learnt, then gradcheck "
                                            "every op")
    demo.add_argument("--epochs", type=_at_least(1), default=200,
                      help="full-batch steps, at least 1 (default 200)")
    demo.add_argument("--out", type=_folder, default="out",
                      help="folder for the picture (default out/)")
    demo.add_argument("--seed", type=_at_least(0), default=0,
                      help="data and initialisation seed, at least 0 (default 0)")
    train_parsers = add_train_parser(commands)
    convert = commands.add_parser("convert", help="write a PyTorch checkpoint's state_dict "
                                                  "as a .npz for mg.load (needs torch)")
    convert.add_argument("checkpoint", help="the .pth file, read with "
                                            "torch.load(weights_only=True)")
    convert.add_argument("out", help="the .npz file to write")
    args = parser.parse_args(argv)

    if args.command == "train":
        return train(args, train_parsers[args.task])
    if args.command == "convert":
        return convert_checkpoint(args.checkpoint, args.out)
    if args.command == "gradcheck":
        return 0 if gradcheck_table() else 1
    # the demo: learning first, then the evidence that the gradients it used are right
    predict, X, y = train_spirals(args.epochs, args.seed)
    print(f"wrote {save_decision_boundary(predict, X, y, args.out)}")
    picture = train_segmentation(train_parsers["segment"], args.out, args.seed)
    if picture is None:  # Ctrl-C while training: the run kept its last epoch
        return 130
    print(f"wrote {picture}")
    return 0 if gradcheck_summary() else 1


def _at_least(minimum):
    """An argparse type: a whole number >= minimum (argparse turns the error into usage)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _positive_float(text):
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _npz_file(text):
    """An argparse type: an existing .npz file."""
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    return text


def _folder(text):
    """An argparse type: a folder to write into (created if missing), not an existing file."""
    if not text:
        raise argparse.ArgumentTypeError("expected a folder, got an empty name")
    existing = os.path.abspath(text)
    while not os.path.exists(existing):  # the part of the path that is already there
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise argparse.ArgumentTypeError(f"{text!r}: {existing} is a file, not a folder")
    return text


def add_train_parser(commands):
    """`train TASK` with the options every task shares, then the task's own; returns
    {task: its parser}."""
    train_parser = commands.add_parser("train", help="train a model on generated data, "
                                                     "with checkpoints, metrics and pictures")
    tasks = train_parser.add_subparsers(dest="task", required=True)
    parsers = {}
    for name, task in TASKS.items():
        p = tasks.add_parser(name, help=(task.__doc__ or "").split("\n")[0])
        p.add_argument("--model", choices=sorted(task.models), default=task.default_model,
                       help=f"the network (default {task.default_model})")
        p.add_argument("--size", type=_at_least(8), default=64,
                       help="image height and width in pixels (default 64)")
        p.add_argument("--train-images", type=_at_least(1), default=2000,
                       help="generated training images (default 2000)")
        p.add_argument("--val-images", type=_at_least(1), default=200,
                       help="generated validation images, the same every run (default 200)")
        p.add_argument("--epochs", type=_at_least(1), default=10, help="default 10")
        p.add_argument("--batch-size", type=_at_least(1), default=16, help="default 16")
        p.add_argument("--lr", type=_positive_float, default=1e-3,
                       help="Adam's learning rate, cosine-annealed to 0 (default 1e-3)")
        p.add_argument("--out", type=_folder, default=None,
                       help="folder for metrics.json, checkpoint.npz, curves.png and "
                            "predictions.png (default runs/TASK_MODEL)")
        p.add_argument("--seed", type=_at_least(0), default=0,
                       help="data, initialisation and augmentation seed (default 0)")
        p.add_argument("--resume", metavar="DIR", default=None,
                       help="continue the run saved in DIR with its own options")
        p.add_argument("--freeze-encoder", action="store_true",
                       help="train without changing the encoder (weights and BatchNorm "
                            "statistics)")
        p.add_argument("--unfreeze-at", metavar="EPOCH", type=_at_least(2), default=None,
                       help="with --freeze-encoder: train the encoder too from this epoch on")
        p.add_argument("--encoder-lr-scale", type=_positive_float, default=1.0,
                       help="the encoder's learning rate as a fraction of --lr (default 1)")
        p.add_argument("--pretrained", metavar="FILE.npz", type=_npz_file, default=None,
                       help="initial weights (a whole model's, or its encoder's) from mg.save")
        p.add_argument("--diagnostics", action="store_true",
                       help="also write activation/gradient histograms and update ratios "
                            "for the first and last epochs")
        task.add_arguments(p)
        parsers[name] = p
    return parsers


def train(args, usage):
    """Check the options (`usage`, the task's parser, reports a bad one as an argparse error
    naming it), then run the task's training; returns the exit code."""
    task_class = TASKS[args.task]
    options = vars(args)
    if args.resume is not None:
        given = [f"--{key.replace('_', '-')}" for key, value in options.items()
                 if key not in ("command", "task", "resume") and value != usage.get_default(key)]
        if given:
            usage.error(f"argument --resume: continues the saved run with its own options; "
                        f"do not also give {', '.join(given)}")
        path = os.path.join(args.resume, CHECKPOINT)
        if not os.path.isfile(path):
            usage.error(f"argument --resume: no {CHECKPOINT} in {args.resume!r}")
        meta = read_meta(load(path))
        if meta["task"] != args.task:
            usage.error(f"argument --resume: {args.resume} holds a {meta['task']} run, not "
                        f"{args.task}")
        args = argparse.Namespace(**{**meta["args"], "out": args.resume,
                                     "resume": args.resume})
    else:
        if args.out is None:
            args.out = os.path.join("runs", f"{args.task}_{args.model}")
        if args.unfreeze_at is not None and not args.freeze_encoder:
            usage.error("argument --unfreeze-at: needs --freeze-encoder")
        if args.unfreeze_at is not None and args.unfreeze_at > args.epochs:
            usage.error(f"argument --unfreeze-at: epoch {args.unfreeze_at} comes after the "
                        f"last (--epochs {args.epochs})")
        problem = task_class.check_args(args)
        if problem:
            usage.error(problem)
    try:
        run = Run(task_class(args), resume=args.resume is not None)
    except OptionError as error:
        usage.error(str(error))
    done = "continuing" if run.epoch else "training"
    print(f"{done} {args.model} ({args.task}) from epoch {run.epoch + 1} to {args.epochs}: "
          f"{len(run.train_set)} training and {len(run.val_set)} validation images of "
          f"{args.size}x{args.size}, batch {args.batch_size}, Adam lr {args.lr}; "
          f"writing into {args.out}")
    return run.fit()


def gradcheck_rows():
    """Gradcheck every catalog entry (float64): (name, shapes, max error, passed) per op."""
    rows = []
    for case in CASES:
        error, passed = case.check()
        rows.append((case.name, ", ".join(str(shape) for shape in case.shapes), error, passed))
    return rows


def gradcheck_table():
    """Print `op | inputs | max error | pass` for every catalog entry; True if all pass."""
    rows = gradcheck_rows()
    cells = [(name, shapes, f"{error:.1e}", "ok" if passed else "FAIL")
             for name, shapes, error, passed in rows]
    header = ("op", "inputs (shapes)", "max error", "pass")
    widths = [max(len(row[i]) for row in cells + [header]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths)] + cells:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    failed = sum(not passed for *_, passed in rows)
    print(f"{len(rows) - failed} of {len(rows)} ops agree with finite differences")
    return failed == 0


def gradcheck_summary():
    """Print one verdict for the whole catalog (which ops failed, the worst error and where);
    True if all pass. The demo's short form of the table."""
    print(f"gradchecking {len(CASES)} ops against float64 finite differences ...")
    rows = gradcheck_rows()
    failed = [name for name, _, _, passed in rows if not passed]
    worst_name, _, worst_error, _ = max(rows, key=lambda row: row[2])
    verdict = (f"all {len(rows)} ops agree with finite differences" if not failed else
               f"{len(failed)} of {len(rows)} ops FAILED: {', '.join(failed)}")
    print(f"gradcheck: {verdict}; worst error {worst_error:.1e} ({worst_name})")
    print("the full table: python -m minigrad gradcheck")
    return not failed


def train_spirals(epochs, seed, lr=0.01):
    """Full-batch Adam on a 2 -> 64 -> 64 -> 3 ReLU MLP; returns (predict, X, y)."""
    X, y = make_spirals(n_per_class=100, n_classes=3, noise=0.2, seed=seed)
    manual_seed(seed)  # the layers' initial weights
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 3))
    optimizer = optim.Adam(model.parameters(), lr=lr)
    points = Tensor(X)
    start = time.perf_counter()
    print(f"training a 2-64-64-3 MLP on {len(y)} spiral points, full batch, Adam lr {lr}")
    for epoch in range(1, epochs + 1):
        logits = model(points)  # (N, 3)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % max(epochs // 10, 1) == 0 or epoch == epochs:
            accuracy = (logits.data.argmax(axis=1) == y).mean()
            print(f"epoch {epoch:4d}  loss {loss.item():.4f}  accuracy {accuracy:.1%}")

    @no_grad()
    def predict(points):
        return model(Tensor(points))

    accuracy = (predict(X).data.argmax(axis=1) == y).mean()
    print(f"final training accuracy {accuracy:.1%}, trained in "
          f"{time.perf_counter() - start:.1f} s")
    return predict, X, y


# the demo's segmentation run, about a minute on two quiet cores (its epochs took 5-8 s
# when the machine was not busy elsewhere): validation mIoU 0.87 and pixel accuracy 0.97
# after 8 epochs, background pixels weighted 0.2 (0.46 and 0.91 with the plain loss)
SEGMENTATION_DEMO = ["--model", "unet", "--base-channels", "8", "--size", "32",
                     "--train-images", "400", "--val-images", "100", "--epochs", "8",
                     "--background-weight", "0.2",
                     "--batch-size", "8", "--lr", "3e-3"]


def train_segmentation(parser, folder, seed):
    """`train segment` with SEGMENTATION_DEMO's options into folder/segmentation_run, then
    folder/segmentation.png: validation images, true and predicted masks, and the
    validation mIoU. Returns the picture's path, or None if Ctrl-C stopped the training."""
    args = parser.parse_args([*SEGMENTATION_DEMO, "--seed", str(seed), "--out",
                              os.path.join(folder, "segmentation_run")])
    run = Run(TASKS["segment"](args))
    print(f"training a U-Net (width {args.base_channels}) on {args.train_images} shapes "
          f"images of {args.size}x{args.size} for {args.epochs} epochs")
    start = time.perf_counter()
    if run.fit() != 0:
        return None
    miou = run.history[-1]["val_miou"]
    print(f"validation mIoU {miou:.3f} after {time.perf_counter() - start:.0f} s")
    path = os.path.join(folder, "segmentation.png")
    run.model.eval()
    with no_grad():
        save_predictions(run.model, run.val_set, path, count=8,
                         title=f"U-Net on {args.size}x{args.size} shapes: validation mIoU "
                               f"{miou:.3f} ({len(run.val_set)} images)")
    return path


def decision_boundary_axes(predict, X, y):
    """The learnt regions with the training points, axes labelled, one legend entry per
    class: a dot (the training points' colour) beside a patch (its predicted region's)."""
    ax = plot_decision_boundary(predict, X, y)
    accuracy = (predict(X).data.argmax(axis=1) == y).mean()
    ax.set(title=f"minigrad MLP on three spirals (training accuracy {accuracy:.1%})",
           xlabel="$x_1$ (first input coordinate)", ylabel="$x_2$ (second input coordinate)")
    points = ax.collections[-1]  # the scatter, drawn over the regions
    handles = []
    for k in np.unique(y):
        colour = points.cmap(points.norm(k))  # the colour the scatter gives class k
        handles.append((Patch(facecolor=colour, alpha=0.35),
                        Line2D([], [], marker="o", linestyle="", markerfacecolor=colour,
                               markeredgecolor="k", markeredgewidth=0.4)))
    ax.legend(handles, [f"class {k}" for k in np.unique(y)], title="points / predicted region",
              handler_map={tuple: HandlerTuple(ndivide=None)}, loc="upper left",
              bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return ax


def save_decision_boundary(predict, X, y, folder):
    """Plot the learnt regions with the training points; returns the file's path."""
    os.makedirs(folder, exist_ok=True)
    ax = decision_boundary_axes(predict, X, y)
    path = os.path.join(folder, "decision_boundary.png")
    ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    return path


STATE_DICT_KEYS = ("state_dict", "model", "model_state_dict")  # where trainers nest one


def convert_checkpoint(path, out):
    """Write the state_dict in PyTorch checkpoint `path` to `out` (.npz, keys and order
    kept); returns the exit code: 0, or 2 with a message when torch is missing or the file
    holds no state_dict. torch.load(weights_only=True) rebuilds only tensors and plain
    containers, so a file from elsewhere cannot run code; plain pickle is never used."""
    try:
        import torch
    except ImportError:
        return _fail("convert: reading a .pth file needs PyTorch, which is not installed "
                     "(pip install torch); minigrad itself reads only the .npz it writes")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as error:
        return _fail(f"convert: cannot read {path}: {error}")
    except Exception as error:  # refused globals, a damaged archive...: torch's own types
        lines = str(error).splitlines() or [""]
        # a refused global is named on the "WeightsUnpickler error" line of torch's message
        reason = next((line.strip() for line in lines if "WeightsUnpickler" in line), lines[0])
        return _fail(f"convert: {path} is not a weights-only PyTorch checkpoint "
                     f"({type(error).__name__}: {reason})")
    state, where = _find_state_dict(checkpoint, torch.Tensor)
    if state is None:
        found = (f"a dict with keys {', '.join(map(repr, checkpoint))}"
                 if isinstance(checkpoint, dict) else f"a {type(checkpoint).__name__}")
        return _fail(f"convert: {path} holds no state_dict: expected a dict of tensors, or a "
                     f"dict holding one under {', '.join(map(repr, STATE_DICT_KEYS))}; found "
                     f"{found}")
    print(f"using {where}")
    # bfloat16 has no NumPy dtype; float32 holds every bfloat16 value exactly
    arrays = OrderedDict((key, (value.float() if value.dtype == torch.bfloat16 else value)
                          .detach().numpy()) for key, value in state.items())
    save(arrays, out)
    print(f"wrote {out}: {len(arrays)} arrays, {sum(a.size for a in arrays.values()):,} values")
    return 0


def _find_state_dict(checkpoint, tensor_type):
    """(state_dict, where it was found) in a loaded checkpoint, or (None, None)."""
    def is_state_dict(value):
        return (isinstance(value, dict) and len(value) > 0 and
                all(isinstance(k, str) and isinstance(v, tensor_type) for k, v in value.items()))
    if is_state_dict(checkpoint):
        return checkpoint, "the file's dict of tensors as the state_dict"
    for key in STATE_DICT_KEYS if isinstance(checkpoint, dict) else ():
        if is_state_dict(checkpoint.get(key)):
            others = ", ".join(repr(k) for k in checkpoint if k != key) or "nothing else"
            return checkpoint[key], f"checkpoint[{key!r}] as the state_dict (ignored: {others})"
    return None, None


def _fail(message):
    print(message, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
