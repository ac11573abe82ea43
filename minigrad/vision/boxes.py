"""Boxes: areas, IoU, format conversion, the (dx, dy, dw, dh) box coding of R-CNN and
non-maximum suppression (torchvision's names).

Boxes are float arrays of shape (N, 4) in the (x1, y1, x2, y2) format with x1 <= x2,
y1 <= y2, in continuous coordinates: the area is (x2 - x1) * (y2 - y1), no "+1 pixel".
These are NumPy functions (Tensors are accepted and read); they are not differentiable.
"""
import numpy as np

from .. import kernels
from ..tensor import Tensor

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


def as_boxes(boxes, name="boxes"):
    """`boxes` as a float64 (N, 4) array; a Tensor is read, anything else must have that shape."""
    array = np.asarray(boxes.data if isinstance(boxes, Tensor) else boxes, dtype=np.float64)
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name}: expected boxes of shape (N, 4), got shape {array.shape}")
    return array


def box_area(boxes):
    """(x2 - x1) * (y2 - y1) for each box.  Shapes: (N, 4) -> (N,)."""
    boxes = as_boxes(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1, boxes2):
    """Pairwise intersection over union.  Shapes: (N, 4), (M, 4) -> (N, M).

    A pair whose union is 0 (two zero-area boxes) gets IoU 0, not 0/0 = NaN as in
    torchvision: two points do not overlap.
    """
    a, b = as_boxes(boxes1, "boxes1"), as_boxes(boxes2, "boxes2")
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])  # (N, M, 2)
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])  # (N, M, 2)
    sides = np.clip(bottom_right - top_left, 0.0, None)  # (N, M, 2); 0 where they do not meet
    inter = sides[..., 0] * sides[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_convert(boxes, in_fmt, out_fmt):
    """Convert between 'xyxy' (corners), 'xywh' (top-left corner, size) and 'cxcywh'
    (centre, size), torchvision's format names.  Shapes: (N, 4) -> (N, 4)."""
    for name, fmt in (("in_fmt", in_fmt), ("out_fmt", out_fmt)):
        if fmt not in BOX_FORMATS:
            raise ValueError(f"box_convert: {name}={fmt!r}, expected one of {BOX_FORMATS}")
    boxes = as_boxes(boxes)
    a, b, c, d = boxes.T
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    # now (a, b, c, d) = (x1, y1, x2, y2)
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return np.stack([a, b, c, d], axis=1)


# a decoded log-scale above log(1000 / 16) would grow a 16-pixel anchor past 1000 pixels and
# overflow exp() for wild predictions early in training; torchvision clamps there too
BOX_SCALE_CLAMP = float(np.log(1000.0 / 16))


def _coding_weights(weights, fn):
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (4,) or not np.all(np.isfinite(weights) & (weights > 0)):
        raise ValueError(f"{fn}: weights must be 4 positive numbers (wx, wy, ww, wh), got "
                         f"{weights.tolist()}")
    return weights


def _centres_and_sizes(boxes):
    """(cx, cy, w, h) columns of (N, 4) xyxy boxes."""
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + widths / 2, boxes[:, 1] + heights / 2, widths, heights


def encode_boxes(boxes, reference_boxes, weights=(1.0, 1.0, 1.0, 1.0)):
    """The regression target that moves each reference box (an anchor or a proposal) onto
    its box (Girshick et al., R-CNN appendix C; torchvision's BoxCoder.encode_single):

        dx = wx (cx - cx_ref) / w_ref      dw = ww log(w / w_ref)
        dy = wy (cy - cy_ref) / h_ref      dh = wh log(h / h_ref)

    Offsets are measured in units of the reference's size, so a target does not depend on
    the object's scale. Faster R-CNN uses weights (1, 1, 1, 1) in the RPN and (10, 10, 5, 5)
    in the box head (the targets then have roughly unit variance).
    Shapes: boxes (N, 4), reference_boxes (N, 4) xyxy with positive sizes -> (N, 4).
    """
    boxes = as_boxes(boxes)
    reference = as_boxes(reference_boxes, "reference_boxes")
    wx, wy, ww, wh = _coding_weights(weights, "encode_boxes")
    if boxes.shape != reference.shape:
        raise ValueError(f"encode_boxes: boxes of shape {boxes.shape} and reference_boxes of "
                         f"shape {reference.shape}; expected one reference per box")
    for name, array in (("boxes", boxes), ("reference_boxes", reference)):
        if not np.all((array[:, 2] > array[:, 0]) & (array[:, 3] > array[:, 1])):
            raise ValueError(f"encode_boxes: {name} must have positive widths and heights "
                             "(x2 > x1, y2 > y1): the coding takes log(w) and divides by w")
    cx, cy, w, h = _centres_and_sizes(boxes)
    ref_cx, ref_cy, ref_w, ref_h = _centres_and_sizes(reference)
    return np.stack([wx * (cx - ref_cx) / ref_w, wy * (cy - ref_cy) / ref_h,
                     ww * np.log(w / ref_w), wh * np.log(h / ref_h)], axis=1)


def decode_boxes(deltas, reference_boxes, weights=(1.0, 1.0, 1.0, 1.0)):
    """The inverse of `encode_boxes`: apply (dx, dy, dw, dh) to each reference box,

        cx = cx_ref + (dx / wx) w_ref      w = w_ref exp(dw / ww)
        cy = cy_ref + (dy / wy) h_ref      h = h_ref exp(dh / wh)

    with dw / ww and dh / wh clamped at log(1000 / 16), as torchvision's BoxCoder.decode.
    Shapes: deltas (N, 4), reference_boxes (N, 4) xyxy -> (N, 4) xyxy.
    """
    deltas = as_boxes(deltas, "deltas")
    reference = as_boxes(reference_boxes, "reference_boxes")
    wx, wy, ww, wh = _coding_weights(weights, "decode_boxes")
    if deltas.shape != reference.shape:
        raise ValueError(f"decode_boxes: deltas of shape {deltas.shape} and reference_boxes "
                         f"of shape {reference.shape}; expected one reference per row")
    ref_cx, ref_cy, ref_w, ref_h = _centres_and_sizes(reference)
    cx = ref_cx + deltas[:, 0] / wx * ref_w
    cy = ref_cy + deltas[:, 1] / wy * ref_h
    w = ref_w * np.exp(np.minimum(deltas[:, 2] / ww, BOX_SCALE_CLAMP))
    h = ref_h * np.exp(np.minimum(deltas[:, 3] / wh, BOX_SCALE_CLAMP))
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def _check_scores(boxes, scores, fn):
    scores = np.asarray(scores.data if isinstance(scores, Tensor) else scores, dtype=np.float64)
    if scores.shape != boxes.shape[:1]:
        raise ValueError(f"{fn}: scores of shape {scores.shape} do not fit boxes of shape "
                         f"{boxes.shape}; expected ({len(boxes)},)")
    return scores


def _check_suppression(boxes, scores, iou_threshold, fn):
    """NaN has no order, so neither a sort by score nor an IoU test can be made with it."""
    if isinstance(iou_threshold, (bool, np.bool_)) or not isinstance(
            iou_threshold, (int, float, np.integer, np.floating)) or np.isnan(iou_threshold):
        raise ValueError(f"{fn}: iou_threshold must be a number, got {iou_threshold!r}")
    if np.isnan(boxes).any():
        rows = np.flatnonzero(np.isnan(boxes).any(axis=1))
        raise ValueError(f"{fn}: boxes contain NaN (rows {rows[:5].tolist()}); their IoU is "
                         "undefined")
    if np.isnan(scores).any():
        rows = np.flatnonzero(np.isnan(scores))
        raise ValueError(f"{fn}: scores contain NaN (entries {rows[:5].tolist()}); they "
                         "cannot be ranked")


def _suppress(boxes, scores, classes, iou_threshold):
    """Greedy NMS within each class; kept indices by decreasing score (ties: lower index)."""
    # a stable sort of -score keeps equal scores in index order, so the result is unique
    order = np.argsort(-scores, kind="stable").astype(np.int64)
    return kernels.nms_keep(np.ascontiguousarray(boxes), order, classes, float(iou_threshold))


def nms(boxes, scores, iou_threshold):
    """Non-maximum suppression: repeatedly keep the highest-scoring box left and discard the
    boxes whose IoU with it is > iou_threshold (strictly).

    Returns the int64 indices of the kept boxes, by decreasing score; equal scores are
    visited in index order. Zero-area boxes have IoU 0 with everything, so they never
    suppress nor get suppressed.  Shapes: boxes (N, 4), scores (N,) -> (n_kept,).
    """
    boxes = as_boxes(boxes)
    scores = _check_scores(boxes, scores, "nms")
    _check_suppression(boxes, scores, iou_threshold, "nms")
    return _suppress(boxes, scores, np.zeros(len(boxes), np.int64), iou_threshold)


def batched_nms(boxes, scores, idxs, iou_threshold):
    """NMS done independently for each category `idxs[i]`: a box only suppresses boxes of
    its own category. Returns kept indices by decreasing score, as `nms`.

    torchvision offsets each category's boxes far apart and runs one NMS; that changes the
    coordinates' rounding and fails for negative coordinates, so here the suppression test
    itself compares the categories.  Shapes: boxes (N, 4), scores (N,), idxs (N,) -> (n_kept,).
    """
    boxes = as_boxes(boxes)
    scores = _check_scores(boxes, scores, "batched_nms")
    idxs = np.asarray(idxs.data if isinstance(idxs, Tensor) else idxs)
    if idxs.shape != scores.shape or (idxs.size and idxs.dtype.kind not in "iu"):
        raise ValueError(f"batched_nms: idxs must be integers of shape {scores.shape}, got "
                         f"shape {idxs.shape} and dtype {idxs.dtype}")
    _check_suppression(boxes, scores, iou_threshold, "batched_nms")
    return _suppress(boxes, scores, idxs.astype(np.int64), iou_threshold)
