"""ROI Pool and ROI Align: a fixed-size feature grid for each box, cut out of a feature map.

Both follow torchvision.ops exactly (SEMANTICS.md 2.6). Boxes are (K, 5) rows
(batch_index, x1, y1, x2, y2) in image coordinates, or a list with one (L, 4) array of
boxes per image; `spatial_scale` maps image coordinates to feature-map coordinates (1/16
for a stride-16 map). The loops live in kernels (roi_pool_* and roi_align_*). Gradients
flow to the feature map only, as in torchvision: box coordinates are data.
"""
import numpy as np

from .. import kernels
from ..tensor import Function, Tensor


class RoIPool(Function):
    """Max over each bin of each box, the box rounded to whole pixels.

    Shapes: x (N, C, H, W) -> (K, C, oh, ow).
    Backward: each output's gradient goes to the pixel that was its max (kept as argmax);
    an empty bin sends nothing.
    """

    def forward(self, x, batch_index, boxes, output_size, spatial_scale):
        x = np.ascontiguousarray(x)  # the kernels index flat planes
        out, argmax = kernels.roi_pool_forward(x, batch_index, boxes, *output_size,
                                               spatial_scale)
        self.save_for_backward(argmax, batch_index)
        self.input_shape = x.shape
        return out

    def backward(self, grad):
        argmax, batch_index = self.saved_tensors
        return (kernels.roi_pool_backward(np.ascontiguousarray(grad), argmax, batch_index,
                                          self.input_shape),)


def roi_pool(x, boxes, output_size, spatial_scale=1.0):
    """torchvision.ops.roi_pool: the max over each of output_size bins of each box.

    Box corners are scaled, then rounded (halves away from zero) to pixel indices, and the
    box covers the pixels from start to end INCLUSIVE, at least 1 x 1. Bin (i, j) covers
    rows [floor(i * h / oh), ceil((i + 1) * h / oh)) of the box's h rows, clipped to the
    map (likewise columns); an empty bin gives 0.
    Shapes: x (N, C, H, W), boxes (K, 5) or a list of (L_n, 4) -> (K, C, oh, ow).
    """
    x = _features(x, "roi_pool")
    spatial_scale = _scale(spatial_scale, "roi_pool")
    batch_index, corners = _rois(boxes, x.shape[0], spatial_scale, "roi_pool")
    return RoIPool.apply(x, batch_index=batch_index, boxes=corners,
                         output_size=_pair(output_size, "roi_pool"),
                         spatial_scale=spatial_scale)


class RoIAlign(Function):
    """Average of bilinearly interpolated samples in each bin of each box.

    Shapes: x (N, C, H, W) -> (K, C, oh, ow).
    Backward: the output is linear in x, out[k] = rows @ x[b] @ cols.T, so
    grad_x[b] += rows.T @ grad[k] @ cols: each sample's gradient is split over its four
    neighbouring pixels with the same bilinear weights.
    """

    def forward(self, x, batch_index, boxes, output_size, spatial_scale, sampling_ratio,
                aligned):
        self.geometry = (spatial_scale, sampling_ratio, aligned)
        self.save_for_backward(batch_index, boxes)
        self.input_shape = x.shape
        x = np.ascontiguousarray(x)  # the kernels index flat planes
        return kernels.roi_align_forward(x, batch_index, boxes, *output_size, *self.geometry)

    def backward(self, grad):
        batch_index, boxes = self.saved_tensors
        return (kernels.roi_align_backward(np.ascontiguousarray(grad), batch_index, boxes,
                                           self.input_shape, *self.geometry),)


def roi_align(x, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    """torchvision.ops.roi_align: each bin of each box is the mean of a grid of bilinear samples.

    The box is scaled (and shifted by -0.5 when `aligned`, so that pixel centres sit at
    integer + 0.5; otherwise, the legacy behaviour, a box is made at least 1 x 1). Each of
    the oh x ow bins holds sampling_ratio x sampling_ratio samples, or when sampling_ratio
    <= 0, ceil(box_h / oh) x ceil(box_w / ow), placed at the centres of a regular grid. A
    sample beyond one pixel outside the map (y < -1 or y > H) counts as 0; others are
    clamped into the map and interpolated bilinearly.
    Shapes: x (N, C, H, W), boxes (K, 5) or a list of (L_n, 4) -> (K, C, oh, ow).
    """
    x = _features(x, "roi_align")
    spatial_scale = _scale(spatial_scale, "roi_align")
    batch_index, corners = _rois(boxes, x.shape[0], spatial_scale, "roi_align")
    if isinstance(sampling_ratio, bool) or not isinstance(sampling_ratio, (int, np.integer)):
        raise TypeError(f"roi_align: sampling_ratio must be an int, got {sampling_ratio!r}")
    return RoIAlign.apply(x, batch_index=batch_index, boxes=corners,
                          output_size=_pair(output_size, "roi_align"),
                          spatial_scale=spatial_scale,
                          sampling_ratio=int(sampling_ratio), aligned=bool(aligned))


# --- argument checking: everything the kernels assume is checked here -----------------------
# The kernels index the planes with pixel positions computed from the boxes, without bounds
# tests; they may do so because every map has at least one pixel (the positions are clamped
# into it), every box coordinate is finite, and scaled coordinates stay below 2**24, where
# float64 -> int64 conversions are exact on both paths and sample counts cannot overflow.

_LARGEST_COORDINATE = 2.0 ** 24


def _features(x, fn):
    """The feature map as a floating-point 4-D Tensor with at least one pixel per plane."""
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x))
    if x.ndim != 4:
        raise ValueError(f"{fn}: input must be an (N, C, H, W) feature map, got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be a floating-point feature map, got dtype {x.dtype}")
    if min(x.shape[2:]) == 0:
        raise ValueError(f"{fn}: input of shape {x.shape} has an empty plane; expected H and W "
                         f"of at least 1")
    return x


def _scale(spatial_scale, fn):
    if isinstance(spatial_scale, bool) or not isinstance(spatial_scale, (int, float, np.number)):
        raise TypeError(f"{fn}: spatial_scale must be a number, got {spatial_scale!r}")
    if not 0 < spatial_scale < float("inf"):  # NaN fails this too
        raise ValueError(f"{fn}: spatial_scale must be a positive finite number, got "
                         f"{spatial_scale!r}")
    return float(spatial_scale)


def _pair(size, fn):
    pair = (size, size) if isinstance(size, (int, np.integer)) else size
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(
            isinstance(s, (int, np.integer)) and s > 0 for s in pair):
        raise ValueError(f"{fn}: output_size must be a positive int or a pair of them, "
                         f"got {size!r}")
    return int(pair[0]), int(pair[1])


def _rois(boxes, n_images, spatial_scale, fn):
    """Boxes in either torchvision form -> (batch_index (K,) int64, corners (K, 4) float64),
    private copies, checked: finite corners within 2**24 once scaled, image indices that exist."""
    batch_index, corners = _parse_rois(boxes, n_images, fn)
    with np.errstate(over="ignore"):  # an overflow to inf is refused just below
        scaled = np.abs(corners) * spatial_scale
    if not np.all(scaled < _LARGEST_COORDINATE):  # NaN fails this too
        bad = corners[~np.all(scaled < _LARGEST_COORDINATE, axis=1)][0]
        raise ValueError(f"{fn}: boxes must hold finite coordinates below {_LARGEST_COORDINATE:g} "
                         f"in magnitude once multiplied by spatial_scale={spatial_scale}, got "
                         f"box {bad.tolist()}")
    return batch_index, corners


def _parse_rois(boxes, n_images, fn):
    """Boxes in either torchvision form -> (batch_index (K,) int64, corners (K, 4) float64)."""
    if isinstance(boxes, (list, tuple)):
        parts = [np.asarray(b.data if isinstance(b, Tensor) else b, dtype=np.float64)
                 for b in boxes]
        for n, part in enumerate(parts):
            if part.ndim != 2 or part.shape[1] != 4:
                raise ValueError(f"{fn}: boxes[{n}] has shape {part.shape}; a list of boxes "
                                 f"needs one (L, 4) array of (x1, y1, x2, y2) per image")
        if len(parts) != n_images:
            raise ValueError(f"{fn}: a list of {len(parts)} box arrays for {n_images} images")
        batch_index = np.concatenate([np.full(len(p), n) for n, p in enumerate(parts)] +
                                     [np.zeros(0)]).astype(np.int64)
        corners = np.concatenate(parts + [np.zeros((0, 4))])  # (K, 4)
        return batch_index, np.ascontiguousarray(corners)
    rois = np.array(boxes.data if isinstance(boxes, Tensor) else boxes, dtype=np.float64)
    if rois.ndim != 2 or rois.shape[1] != 5:
        raise ValueError(f"{fn}: boxes of shape {rois.shape}; expected (K, 5) rows "
                         f"(batch_index, x1, y1, x2, y2) or a list of (L, 4) arrays")
    with np.errstate(invalid="ignore"):  # a NaN or infinite index is caught just below
        batch_index = rois[:, 0].astype(np.int64)
    if np.any(batch_index != rois[:, 0]) or np.any((batch_index < 0) | (batch_index >= n_images)):
        raise ValueError(f"{fn}: boxes[:, 0] must be image indices in [0, {n_images}), got "
                         f"{np.unique(rois[:, 0])}")
    return batch_index, np.ascontiguousarray(rois[:, 1:])
