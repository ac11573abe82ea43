"""Vision ops: minigrad's Numba kernels against its NumPy reference (and torchvision when
it is installed; PyTorch alone has no NMS or ROI ops).

NMS on 10,000 boxes; ROI Align and ROI Pool forward and forward+backward on a
2x256x64x64 float32 feature map with 512 boxes, 7x7 output. Median of several repeats
after a warm-up, all in one process so the ratios compare like with like.

    python bench/vision.py [--repeats 5] [--no-torch]
"""
import time

import numpy as np

import harness
import minigrad.vision as vision


def random_boxes(n, image_size, rng):
    """n boxes (x1, y1, x2, y2) of 4..48 pixels, clustered around n/20 objects so that NMS
    has real work: many overlaps, many suppressions."""
    centres = rng.uniform(0, image_size, size=(max(n // 20, 1), 2))
    centre = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 6, size=(n, 2))
    size = rng.uniform(4, 48, size=(n, 2))
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1)


def nms_pass(nms, boxes, scores):
    """A `once` for harness.median_ms: (seconds,) of one NMS call at IoU 0.5."""
    def once():
        start = time.perf_counter()
        nms(boxes, scores, 0.5)
        return (time.perf_counter() - start,)
    return once


def load_torchvision(torch):
    """torchvision, or None when PyTorch was not loaded or torchvision is not installed."""
    if torch is None:
        return None
    try:
        import torchvision
    except ImportError:
        print("torchvision is not installed: minigrad's figures only")
        return None
    return torchvision


def main():
    args = harness.parse_args(__doc__, repeats=5)
    torch = harness.load_torch(args.no_torch)
    torchvision = load_torchvision(torch)
    rng = np.random.default_rng(0)
    boxes = random_boxes(10_000, 512, rng)
    scores = rng.uniform(size=10_000)
    x = rng.standard_normal((2, 256, 64, 64)).astype(np.float32)
    rois = np.concatenate([rng.integers(0, 2, (512, 1)),
                           random_boxes(512, 256, rng).clip(0, 256)], axis=1)  # image coords
    roi_args = dict(spatial_scale=0.25)
    align_args = dict(sampling_ratio=2, aligned=True, **roi_args)
    # (name, minigrad's once, a function making torchvision's once when it is installed)
    cases = [
        ("nms, 10000 boxes, IoU 0.5", nms_pass(vision.nms, boxes, scores),
         lambda: nms_pass(torchvision.ops.nms, torch.tensor(boxes), torch.tensor(scores))),
        ("roi_align 2x256x64x64, 512 boxes, 7x7, s.r.2",
         harness.minigrad_pass(lambda t: vision.roi_align(t, rois, 7, **align_args), x),
         lambda: harness.torch_pass(lambda t: torchvision.ops.roi_align(
             t, torch.tensor(rois, dtype=torch.float32), 7, **align_args), x)),
        ("roi_align, adaptive sampling",
         harness.minigrad_pass(lambda t: vision.roi_align(t, rois, 7, **roi_args), x),
         lambda: harness.torch_pass(lambda t: torchvision.ops.roi_align(
             t, torch.tensor(rois, dtype=torch.float32), 7, **roi_args), x)),
        ("roi_pool 2x256x64x64, 512 boxes, 7x7",
         harness.minigrad_pass(lambda t: vision.roi_pool(t, rois, 7, **roi_args), x),
         lambda: harness.torch_pass(lambda t: torchvision.ops.roi_pool(
             t, torch.tensor(rois, dtype=torch.float32), 7, **roi_args), x)),
    ]
    print(f"milliseconds, median of {args.repeats} (forward / forward+backward for ROI ops); "
          "each ratio column says what is over what")
    table = harness.paths_table(46, "torchvision" if torchvision else None)
    for name, minigrad_once, torchvision_once in cases:
        numpy_ms, numba_ms = harness.numpy_and_numba(minigrad_once, args.repeats)
        reference_ms = (harness.median_ms(torchvision_once(), args.repeats)
                        if torchvision else None)
        harness.paths_row(table, name, numpy_ms, numba_ms, reference_ms)


if __name__ == "__main__":
    main()
