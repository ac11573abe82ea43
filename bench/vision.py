"""Vision ops: minigrad's Numba kernels against its NumPy reference (and torchvision when
it is installed; PyTorch alone has no NMS or ROI ops).

NMS on 10,000 boxes; ROI Align and ROI Pool forward and forward+backward on a
2x256x64x64 float32 feature map with 512 boxes, 7x7 output. Median of several repeats
after a warm-up, all in one process so the ratios compare like with like.

    python bench/vision.py [--repeats 5]
"""
import argparse
import statistics
import time

import numpy as np

import minigrad as mg
import minigrad.vision as vision

torchvision = None  # imported in main() when available


def random_boxes(n, image_size, rng):
    """n boxes (x1, y1, x2, y2) of 4..48 pixels, clustered around n/20 objects so that NMS
    has real work: many overlaps, many suppressions."""
    centres = rng.uniform(0, image_size, size=(max(n // 20, 1), 2))
    centre = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 6, size=(n, 2))
    size = rng.uniform(4, 48, size=(n, 2))
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1)


def median_ms(once, repeats):
    once()  # warm-up: compiles or loads the Numba kernels, faults in the pages
    runs = [once() for _ in range(repeats)]
    return tuple(1e3 * statistics.median(run[i] for run in runs) for i in range(len(runs[0])))


def time_nms(boxes, scores):
    def once():
        start = time.perf_counter()
        vision.nms(boxes, scores, 0.5)
        return (time.perf_counter() - start,)
    return once


def time_roi(op, x, rois, **kwargs):
    """(forward, forward+backward) seconds of one call."""
    def once():
        t = mg.Tensor(x, requires_grad=True)
        start = time.perf_counter()
        out = op(t, rois, 7, **kwargs)
        middle = time.perf_counter()
        out.backward(np.ones(out.shape, np.float32))
        return middle - start, time.perf_counter() - start
    return once


def time_torchvision_nms(boxes, scores):
    import torch
    boxes, scores = torch.tensor(boxes), torch.tensor(scores)

    def once():
        start = time.perf_counter()
        torchvision.ops.nms(boxes, scores, 0.5)
        return (time.perf_counter() - start,)
    return once


def time_torchvision(op, x, rois, **kwargs):
    import torch

    def once():
        t = torch.tensor(x, requires_grad=True)
        start = time.perf_counter()
        out = op(t, torch.tensor(rois, dtype=torch.float32), 7, **kwargs)
        middle = time.perf_counter()
        out.backward(torch.ones_like(out))
        return middle - start, time.perf_counter() - start
    return once


def main():
    global torchvision
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    try:
        import torch
        import torchvision as imported
        torch.set_num_threads(2)
        torchvision = imported
    except ImportError:
        print("torchvision is not installed: minigrad's figures only")
    rng = np.random.default_rng(0)
    boxes = random_boxes(10_000, 512, rng)
    scores = rng.uniform(size=10_000)
    x = rng.standard_normal((2, 256, 64, 64)).astype(np.float32)
    rois = np.concatenate([rng.integers(0, 2, (512, 1)),
                           random_boxes(512, 256, rng).clip(0, 256)], axis=1)  # image coords
    roi_args = dict(spatial_scale=0.25)
    cases = [
        ("nms, 10000 boxes, IoU 0.5", time_nms(boxes, scores),
         lambda: time_torchvision_nms(boxes, scores)),
        ("roi_align 2x256x64x64, 512 boxes, 7x7, s.r.2",
         time_roi(vision.roi_align, x, rois, sampling_ratio=2, aligned=True, **roi_args),
         lambda: time_torchvision(torchvision.ops.roi_align, x, rois, sampling_ratio=2,
                                  aligned=True, **roi_args)),
        ("roi_align, adaptive sampling",
         time_roi(vision.roi_align, x, rois, **roi_args),
         lambda: time_torchvision(torchvision.ops.roi_align, x, rois, **roi_args)),
        ("roi_pool 2x256x64x64, 512 boxes, 7x7",
         time_roi(vision.roi_pool, x, rois, **roi_args),
         lambda: time_torchvision(torchvision.ops.roi_pool, x, rois, **roi_args)),
    ]
    print(f"milliseconds, median of {args.repeats} (forward / forward+backward for ROI ops); "
          "ratios are NumPy over Numba" + (" and Numba over torchvision" if torchvision else ""))
    for name, minigrad_once, torchvision_once in cases:
        results = {}
        for jit in (False, True):
            mg.set_jit(jit)
            results[jit] = median_ms(minigrad_once, args.repeats)
        numpy_ms, numba_ms = results[False], results[True]
        line = (f"{name:46} | NumPy {' / '.join(f'{v:7.1f}' for v in numpy_ms)}"
                f" | Numba {' / '.join(f'{v:6.1f}' for v in numba_ms)}"
                f" | NumPy/Numba {' / '.join(f'{a / b:5.1f}' for a, b in zip(numpy_ms, numba_ms))}")
        if torchvision:
            reference_ms = median_ms(torchvision_once(), args.repeats)
            line += (f" | torchvision {' / '.join(f'{v:6.1f}' for v in reference_ms)}"
                     f" | Numba/torchvision "
                     f"{' / '.join(f'{a / b:5.2f}' for a, b in zip(numba_ms, reference_ms))}")
        print(line)


if __name__ == "__main__":
    main()
