"""Detectors trained on the shapes data: wall time and COCO box and mask mAP of each.

Each detector is trained by the train command (`python -m minigrad train detect`, 64x64
images with 1-4 shapes, validation on images of an independent stream) into a temporary
folder; the table gives its wall time (training and the per-epoch validation) and the last
epoch's metrics. Goals on the course's 2-core machine: YOLO box mAP@.5 >= 0.80; the
two-stage detector box mAP@.5 >= 0.85 and mask mAP@.5 >= 0.75; each within 20 minutes.

    python bench/detection.py [--quick] [--models yolo mask_rcnn_lite] [--seed 0]

--quick trains on fewer images for fewer epochs (a check that everything runs, minutes
instead of tens of minutes); its mAPs are not the goals'.
"""
import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time

import harness

# (train images, epochs, batch size, lr) per model: full run, then --quick; mask_rcnn_lite's
# as its docstring's recipe (batch 4, lr 4e-3; the train task sets its ROI sampling)
RECIPES = {"yolo": {"full": (2000, 6, 16, 3e-3), "quick": (800, 1, 16, 3e-3)},
           "mask_rcnn_lite": {"full": (1000, 3, 4, 4e-3), "quick": (160, 2, 4, 4e-3)}}
GOALS = {"yolo": {"val_map_50": 0.80}, "mask_rcnn_lite": {"val_map_50": 0.85,
                                                          "val_mask_map_50": 0.75}}
TIME_GOAL_S = 20 * 60
VAL_IMAGES = {"full": 200, "quick": 100}
COLUMNS = ("val_map_50", "val_map", "val_mask_map_50", "val_mask_map")


def train(model, recipe, val_images, out, seed):
    """Run the train command; returns (wall seconds, the last epoch's metrics)."""
    from minigrad.__main__ import main
    images, epochs, batch, lr = recipe
    argv = ["train", "detect", "--model", model, "--size", "64", "--train-images",
            str(images), "--val-images", str(val_images), "--epochs", str(epochs),
            "--batch-size", str(batch), "--lr", str(lr), "--seed", str(seed), "--out", out]
    start = time.perf_counter()
    log = io.StringIO()  # the command's epoch lines and progress bars stay out of the table
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = main(argv)
    seconds = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"train detect --model {model} exited with {code}:\n"
                           f"{log.getvalue()[-2000:]}")
    with open(os.path.join(out, "metrics.json")) as file:
        return seconds, json.load(file)[-1]


def verdict(model, seconds, metrics):
    """'met' or the goals missed."""
    missed = [f"{key} {metrics[key]:.2f} < {goal:.2f}" for key, goal in GOALS[model].items()
              if metrics[key] < goal]
    if seconds > TIME_GOAL_S:
        missed.append(f"{seconds / 60:.1f} min > {TIME_GOAL_S // 60} min")
    return "met" if not missed else "missed: " + "; ".join(missed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and epochs")
    parser.add_argument("--models", nargs="+", choices=sorted(RECIPES), default=list(RECIPES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    print(f"detectors on shapes (64x64, 1-4 shapes), {mode} recipes, {VAL_IMAGES[mode]} "
          f"validation images, load average {harness.load_average()}")
    header = (f"{'model':16}{'images x epochs':>17}{'wall':>9}{'box@.5':>8}{'box@.5:.95':>11}"
              f"{'mask@.5':>9}{'mask@.5:.95':>12}  goal")
    print(header)
    print("-" * len(header))
    for model in args.models:
        recipe = RECIPES[model][mode]
        with tempfile.TemporaryDirectory() as out:
            seconds, metrics = train(model, recipe, VAL_IMAGES[mode], out, args.seed)
        cells = [f"{metrics[key]:.3f}" if key in metrics else "-" for key in COLUMNS]
        print(f"{model:16}{f'{recipe[0]} x {recipe[1]}':>17}{seconds / 60:>7.1f} m"
              f"{cells[0]:>8}{cells[1]:>11}{cells[2]:>9}{cells[3]:>12}  "
              f"{verdict(model, seconds, metrics)}", flush=True)
    print(f"load average after: {harness.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
