"""NumPy reference kernels: the specification of every kernel, written to be read.

Each function here has a twin of the same name and signature in `jit.py`.
"""
import math

import numpy as np


def erf(x):
    """The error function, elementwise, in float64 (NumPy has none; math.erf is libm's).

    Shapes: x (any) -> same shape, float64.
    """
    return np.vectorize(math.erf, otypes=[np.float64])(x)


# --- vision: non-maximum suppression, ROI Pool, ROI Align (minigrad/vision) ----------------
# Boxes are (x1, y1, x2, y2) in float64; `batch_index[k]` is the image box k belongs to.

def nms_keep(boxes, order, classes, iou_threshold):
    """Greedy non-maximum suppression; the indices of the kept boxes, in visiting order.

    Visit the boxes in `order` (decreasing score); keep a box unless an already kept box
    of the same class overlaps it with IoU > iou_threshold (strictly). A pair whose union
    is 0 (two zero-area boxes) has IoU 0: 0/0 is read as "no overlap".
    Shapes: boxes (N, 4), order (N,) int64, classes (N,) int64 -> (n_kept,) int64.
    """
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    keep = []
    remaining = order
    while remaining.size:
        best, rest = remaining[0], remaining[1:]
        keep.append(best)
        width = np.maximum(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0)
        height = np.maximum(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0)
        inter = width * height
        union = areas[best] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        suppressed = (iou > iou_threshold) & (classes[rest] == classes[best])
        remaining = rest[~suppressed]
    return np.array(keep, dtype=np.int64)


def _round_half_away(value):
    """C's round(): halves go away from zero (np.round would go to the even neighbour)."""
    return math.copysign(math.floor(abs(value) + 0.5), value)


def roi_pool_forward(x, batch_index, boxes, pooled_h, pooled_w, spatial_scale):
    """ROI Pool: the max over each of pooled_h x pooled_w bins of each box, and where it was.

    The scaled box corners are rounded to pixels and the box covers the pixels from its
    start to its end INCLUSIVE (so at least 1 x 1). Bin (ph, pw) covers rows
    [floor(ph * bin_h), ceil((ph + 1) * bin_h)) from the box start, clipped to the map; an
    empty bin gives 0 and argmax -1. Ties go to the first pixel in row-major order.
    Shapes: x (N, C, H, W), batch_index (K,), boxes (K, 4) -> out (K, C, pooled_h, pooled_w)
    of x's dtype, argmax (K, C, pooled_h, pooled_w) int64 flat positions h * W + w.
    """
    _, channels, height, width = x.shape
    n_boxes = len(boxes)
    out = np.zeros((n_boxes, channels, pooled_h, pooled_w), x.dtype)
    argmax = np.full((n_boxes, channels, pooled_h, pooled_w), -1, np.int64)
    every_channel = np.arange(channels)
    for k in range(n_boxes):
        start_w, start_h, end_w, end_h = (int(_round_half_away(v * spatial_scale))
                                          for v in boxes[k])
        bin_h = max(end_h - start_h + 1, 1) / pooled_h
        bin_w = max(end_w - start_w + 1, 1) / pooled_w
        for ph in range(pooled_h):
            h0 = min(max(start_h + math.floor(ph * bin_h), 0), height)
            h1 = min(max(start_h + math.ceil((ph + 1) * bin_h), 0), height)
            for pw in range(pooled_w):
                w0 = min(max(start_w + math.floor(pw * bin_w), 0), width)
                w1 = min(max(start_w + math.ceil((pw + 1) * bin_w), 0), width)
                if h1 <= h0 or w1 <= w0:
                    continue
                window = x[batch_index[k], :, h0:h1, w0:w1].reshape(channels, -1)  # (C, bin)
                first = window.argmax(axis=1)
                out[k, :, ph, pw] = window[every_channel, first]
                row, col = np.divmod(first, w1 - w0)
                argmax[k, :, ph, pw] = (h0 + row) * width + w0 + col
    return out, argmax


def roi_pool_backward(grad, argmax, batch_index, input_shape):
    """Send each output's gradient to the pixel that was its max (empty bins send nothing).

    Shapes: grad, argmax (K, C, ph, pw), batch_index (K,) -> (N, C, H, W) of grad's dtype.
    """
    n, channels, height, width = input_shape
    grad_x = np.zeros((n, channels, height * width), grad.dtype)
    found = argmax >= 0
    k, c, _, _ = np.nonzero(found)
    # one pixel can be the max of several bins and boxes: accumulate, never overwrite
    np.add.at(grad_x, (batch_index[k], c, argmax[found]), grad[found])
    return grad_x.reshape(input_shape)


def _roi_align_axis(start, bin_size, n_bins, grid, size):
    """One axis of ROI Align's sampling as a matrix P of shape (n_bins, size).

    Bin p has `grid` samples at start + p * bin_size + (i + 0.5) * bin_size / grid. A
    sample outside [-1, size] is dropped; otherwise it is clamped into [0, size - 1] and
    split linearly between its two neighbouring pixels. P[p, j] is the total weight
    pixel j gets from the samples of bin p.
    """
    matrix = np.zeros((n_bins, size))
    if grid <= 0:  # an empty box with adaptive sampling takes no samples
        return matrix
    coords = (start + np.arange(n_bins)[:, None] * bin_size
              + (np.arange(grid) + 0.5) * bin_size / grid)  # (n_bins, grid)
    inside = (coords >= -1.0) & (coords <= size)
    coords = np.clip(coords, 0.0, size)
    low = np.floor(coords).astype(np.int64)
    at_edge = low >= size - 1  # past the last pixel centre: all weight on the last pixel
    low[at_edge] = size - 1
    high = np.where(at_edge, size - 1, low + 1)
    frac = np.where(at_edge, 0.0, coords - low)
    bins = np.broadcast_to(np.arange(n_bins)[:, None], coords.shape)  # (n_bins, grid)
    np.add.at(matrix, (bins, low), (1.0 - frac) * inside)
    np.add.at(matrix, (bins, high), frac * inside)
    return matrix


def _roi_align_matrices(box, height, width, pooled_h, pooled_w, spatial_scale, sampling_ratio,
                        aligned):
    """ROI Align for one box as two matrices: out[c] = rows @ x[c] @ cols.T.

    A sample's bilinear weight is (row weight) x (column weight) and it is dropped when
    either coordinate is outside, so the average over a bin's grid_h x grid_w samples
    factorises into one matrix per axis; the 1/count of the average goes into `rows`.
    Shapes: -> rows (pooled_h, height), cols (pooled_w, width).
    """
    offset = 0.5 if aligned else 0.0  # aligned: pixel centres sit at integer + 0.5
    x1, y1, x2, y2 = (v * spatial_scale - offset for v in box)
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:  # legacy behaviour: a malformed box is stretched to 1 x 1
        roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
    bin_h, bin_w = roi_h / pooled_h, roi_w / pooled_w
    grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / pooled_h)
    grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / pooled_w)
    count = max(grid_h * grid_w, 1)
    rows = _roi_align_axis(y1, bin_h, pooled_h, grid_h, height) / count
    cols = _roi_align_axis(x1, bin_w, pooled_w, grid_w, width)
    return rows, cols


def roi_align_forward(x, batch_index, boxes, pooled_h, pooled_w, spatial_scale,
                      sampling_ratio, aligned):
    """ROI Align: the average of bilinearly interpolated samples in each bin of each box.

    Shapes: x (N, C, H, W), batch_index (K,), boxes (K, 4) -> (K, C, pooled_h, pooled_w).
    """
    _, channels, height, width = x.shape
    out = np.zeros((len(boxes), channels, pooled_h, pooled_w), x.dtype)
    for k, box in enumerate(boxes):
        rows, cols = _roi_align_matrices(box, height, width, pooled_h, pooled_w,
                                         spatial_scale, sampling_ratio, aligned)
        out[k] = rows @ x[batch_index[k]] @ cols.T  # (ph, H) @ (C, H, W) @ (W, pw)
    return out


def roi_align_backward(grad, batch_index, boxes, input_shape, spatial_scale, sampling_ratio,
                       aligned):
    """The adjoint of roi_align_forward: grad_x[b] += rows.T @ grad[k] @ cols for each box.

    Shapes: grad (K, C, ph, pw), batch_index (K,), boxes (K, 4) -> (N, C, H, W).
    """
    _, _, height, width = input_shape
    _, _, pooled_h, pooled_w = grad.shape
    grad_x = np.zeros(input_shape, grad.dtype)
    for k, box in enumerate(boxes):
        rows, cols = _roi_align_matrices(box, height, width, pooled_h, pooled_w,
                                         spatial_scale, sampling_ratio, aligned)
        grad_x[batch_index[k]] += rows.T @ grad[k] @ cols  # (H, ph) @ (C, ph, pw) @ (pw, W)
    return grad_x
