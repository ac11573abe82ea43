"""Vision ops: minigrad's Numba kernels against its NumPy reference, and torchvision where
its compiled ops load (PyTorch alone has no NMS or ROI ops; torchvision's ops do not load
beside the CPU build of torch installed here, and the script then says so).

NMS on 10,000 boxes; ROI Align and ROI Pool forward and forward+backward on a
2x256x64x64 float32 feature map with 512 boxes, 7x7 output. Each framework runs in a
worker process of its own (harness.compare): the median of `--repeats` runs after a
warm-up; the ratios are medians over `--rounds` rounds alternating the workers' order.

    python bench/vision.py [--repeats 5] [--rounds 3] [--threads 2] [--quick] [--no-torch]
"""
import time

import numpy as np

import harness

FRAMEWORKS = {harness.MINIGRAD: harness.FRAMEWORKS[harness.MINIGRAD],
              harness.NUMPY: harness.FRAMEWORKS[harness.NUMPY],
              "torchvision": ("torchvision", {})}
COMPARISONS = ((harness.MINIGRAD, "torchvision"), (harness.NUMPY, harness.MINIGRAD))


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


def load_ops(framework, args):
    """(nms, roi_align, roi_pool, to_tensor) of `framework`; Unavailable when torchvision
    or its compiled ops cannot be loaded."""
    if framework != "torchvision":
        import minigrad.vision as vision
        return vision.nms, vision.roi_align, vision.roi_pool, np.asarray
    torch = harness.require_torch(args)
    try:
        import torchvision
        torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)  # are its C++ ops there?
    except (ImportError, RuntimeError) as error:
        raise harness.Unavailable(f"torchvision's ops do not load here ({error})") from None
    return (torchvision.ops.nms, torchvision.ops.roi_align, torchvision.ops.roi_pool,
            lambda array: torch.tensor(array, dtype=torch.float32))


def measure(framework, args):
    """{case: {pass: ms}} of every case on `framework`."""
    nms, roi_align, roi_pool, tensor = load_ops(framework, args)
    rng = np.random.default_rng(0)
    boxes = random_boxes(10_000, 512, rng)
    scores = rng.uniform(size=10_000)
    x = rng.standard_normal((2, 256, 64, 64)).astype(np.float32)
    rois = tensor(np.concatenate([rng.integers(0, 2, (512, 1)),
                                  random_boxes(512, 256, rng).clip(0, 256)], axis=1))
    roi_args = dict(spatial_scale=0.25)
    align_args = dict(sampling_ratio=2, aligned=True, **roi_args)
    roi_cases = {
        "roi_align 2x256x64x64, 512 boxes, 7x7, s.r.2":
            lambda t: roi_align(t, rois, 7, **align_args),
        "roi_align, adaptive sampling": lambda t: roi_align(t, rois, 7, **roi_args),
        "roi_pool 2x256x64x64, 512 boxes, 7x7": lambda t: roi_pool(t, rois, 7, **roi_args),
    }
    torch_framework = harness.TORCH if framework == "torchvision" else framework
    (nms_ms,) = harness.median_ms(nms_pass(nms, tensor(boxes), tensor(scores)), args.repeats)
    return {"nms, 10000 boxes, IoU 0.5": {"call": nms_ms},
            **{name: harness.op_pass_ms(torch_framework, args.repeats, fn, fn, x)
               for name, fn in roi_cases.items()}}


def main():
    args = harness.parse_compare_args(__doc__, repeats=5)
    harness.compare(__file__, args, measure, FRAMEWORKS, COMPARISONS, case_width=44, title=(
        "vision ops, milliseconds: NMS per call; ROI ops forward, forward+backward and the "
        "process time of forward+backward (all threads)"))


if __name__ == "__main__":
    main()
