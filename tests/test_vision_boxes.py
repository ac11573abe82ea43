"""Boxes: area, IoU, conversions, the R-CNN box coding, NMS and batched NMS against
hand-worked numbers, torchvision's BoxCoder and a brute-force greedy written from the
definition."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.kernels import jit as jit_kernels
from minigrad.kernels import reference
from minigrad.vision import (batched_nms, box_area, box_convert, box_iou, decode_boxes,
                             encode_boxes, nms)


@st.composite
def box_sets(draw, max_boxes=12, integer=False):
    """(boxes (N, 4) xyxy, scores (N,)): corners on a coarse grid so that overlaps, equal
    boxes, zero-area boxes and equal scores all happen."""
    n = draw(st.integers(0, max_boxes))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    corners = rng.integers(0, 8, size=(n, 2, 2)).astype(np.float64)
    if not integer:
        corners += rng.choice([0.0, 0.5, 0.25], size=corners.shape)
    boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)  # (N, 4)
    scores = rng.integers(0, 5, size=n) / 4.0
    return boxes, scores


def test_box_area_and_iou_by_hand():
    a = np.array([[0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 5.0, 5.0]])
    b = np.array([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 1.0], [5.0, 5.0, 5.0, 5.0]])
    np.testing.assert_array_equal(box_area(b), [4.0, 2.0, 0.0])
    iou = box_iou(a, b)
    assert iou.shape == (2, 3)
    # [0,0,2,2] vs [1,1,3,3]: intersection 1x1 = 1, union 4 + 4 - 1 = 7
    # [0,0,2,2] vs [0,0,2,1]: intersection 2 (the second box), union 4
    # a point vs a point at the same place: union 0 -> IoU 0 by convention, not NaN
    np.testing.assert_allclose(iou, [[1 / 7, 0.5, 0.0], [0.0, 0.0, 0.0]], rtol=1e-15)


@given(box_sets())
def test_box_iou_properties(data):
    boxes, _ = data
    iou = box_iou(boxes, boxes)
    assert np.all(np.isfinite(iou)) and np.all((0 <= iou) & (iou <= 1))
    np.testing.assert_array_equal(iou, iou.T)
    positive = box_area(boxes) > 0
    np.testing.assert_allclose(np.diag(iou)[positive], 1.0, rtol=1e-15)


def test_box_convert_by_hand():
    xyxy = np.array([[1.0, 2.0, 5.0, 8.0]])  # width 4, height 6, centre (3, 5)
    np.testing.assert_array_equal(box_convert(xyxy, "xyxy", "xywh"), [[1, 2, 4, 6]])
    np.testing.assert_array_equal(box_convert(xyxy, "xyxy", "cxcywh"), [[3, 5, 4, 6]])
    np.testing.assert_array_equal(box_convert([[3, 5, 4, 6]], "cxcywh", "xywh"), [[1, 2, 4, 6]])
    np.testing.assert_array_equal(box_convert([[1, 2, 4, 6]], "xywh", "xyxy"), xyxy)


@given(box_sets(), st.sampled_from(["xyxy", "xywh", "cxcywh"]))
def test_box_convert_round_trip(data, fmt):
    boxes, _ = data
    np.testing.assert_allclose(box_convert(box_convert(boxes, "xyxy", fmt), fmt, "xyxy"), boxes,
                               atol=1e-12)


def test_bad_boxes_and_formats():
    with pytest.raises(ValueError, match="box_convert: out_fmt='xy'"):
        box_convert(np.zeros((1, 4)), "xyxy", "xy")
    with pytest.raises(ValueError, match=r"boxes1: expected .* \(N, 4\), got shape \(2, 3\)"):
        box_iou(np.zeros((2, 3)), np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"nms: scores of shape \(3,\) do not fit boxes"):
        nms(np.zeros((2, 4)), np.zeros(3), 0.5)
    with pytest.raises(ValueError, match="batched_nms: idxs must be integers"):
        batched_nms(np.zeros((2, 4)), np.zeros(2), np.zeros(2), 0.5)


def test_encode_boxes_by_hand():
    anchor = np.array([[0.0, 0.0, 4.0, 4.0]])  # centre (2, 2), 4 x 4
    box = np.array([[1.0, 2.0, 5.0, 8.0]])  # centre (3, 5), 4 x 6
    # dx = (3 - 2) / 4, dy = (5 - 2) / 4, dw = log(4 / 4), dh = log(6 / 4)
    expected = np.array([[0.25, 0.75, 0.0, np.log(1.5)]])
    np.testing.assert_allclose(encode_boxes(box, anchor), expected, rtol=1e-15)
    # the box head's weights (10, 10, 5, 5) scale each coordinate
    np.testing.assert_allclose(encode_boxes(box, anchor, (10, 10, 5, 5)),
                               expected * [10, 10, 5, 5], rtol=1e-15)
    np.testing.assert_allclose(decode_boxes(expected, anchor), box, rtol=1e-15)


@st.composite
def coded_boxes(draw):
    """(boxes, reference boxes, weights): sizes 1..40, so that no size ratio reaches decoding's
    clamp at 1000 / 16."""
    n = draw(st.integers(0, 10))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    def random_boxes():
        corner = rng.uniform(-50, 50, (n, 2))
        return np.concatenate([corner, corner + rng.uniform(1, 40, (n, 2))], axis=1)
    weights = draw(st.sampled_from([(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0),
                                    (0.5, 2.0, 3.0, 0.25)]))
    return random_boxes(), random_boxes(), weights


@given(coded_boxes())
def test_encode_and_decode_are_inverses(data):
    boxes, reference, weights = data
    deltas = encode_boxes(boxes, reference, weights)
    assert deltas.shape == boxes.shape
    np.testing.assert_allclose(decode_boxes(deltas, reference, weights), boxes, atol=1e-9)
    np.testing.assert_allclose(encode_boxes(decode_boxes(deltas, reference, weights), reference,
                                            weights), deltas, atol=1e-9)


def test_decode_clamps_the_log_scale():
    # dw = 100 would be a box e^100 times wider; decoding stops at 1000 / 16 times
    box = decode_boxes([[0.0, 0.0, 100.0, 0.0]], [[0.0, 0.0, 16.0, 16.0]])
    np.testing.assert_allclose(box, [[8 - 500, 0, 8 + 500, 16]], rtol=1e-12)


def test_box_coding_matches_torchvision(torchvision_models):
    import torch
    from torchvision.models.detection._utils import BoxCoder
    rng = np.random.default_rng(0)
    reference = np.concatenate([rng.uniform(0, 30, (20, 2)), rng.uniform(31, 64, (20, 2))], 1)
    boxes = np.concatenate([rng.uniform(0, 30, (20, 2)), rng.uniform(31, 64, (20, 2))], 1)
    deltas = rng.normal(0, 2, (20, 4))
    for weights in ((1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)):
        coder = BoxCoder(weights)
        expected = coder.encode_single(torch.tensor(boxes), torch.tensor(reference)).numpy()
        np.testing.assert_allclose(encode_boxes(boxes, reference, weights), expected,
                                   rtol=1e-12, atol=1e-12)
        expected = coder.decode_single(torch.tensor(deltas), torch.tensor(reference)).numpy()
        np.testing.assert_allclose(decode_boxes(deltas, reference, weights), expected,
                                   rtol=1e-12, atol=1e-12)


def test_bad_box_coding_arguments():
    unit = np.array([[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=r"encode_boxes: boxes must have positive widths"):
        encode_boxes([[0.0, 0.0, 0.0, 1.0]], unit)
    with pytest.raises(ValueError, match=r"encode_boxes: reference_boxes must have positive"):
        encode_boxes(unit, [[0.0, 0.0, 1.0, -1.0]])
    with pytest.raises(ValueError, match=r"decode_boxes: weights must be 4 positive numbers"):
        decode_boxes(unit, unit, (1.0, 1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match=r"decode_boxes: deltas of shape \(2, 4\) and "
                                         r"reference_boxes of shape \(1, 4\)"):
        decode_boxes(np.zeros((2, 4)), unit)


def test_nms_refuses_nan():
    boxes = np.array([[0.0, 0.0, 2.0, 2.0], [0.0, np.nan, 2.0, 2.0]])
    with pytest.raises(ValueError, match=r"nms: iou_threshold must be a number, got nan"):
        nms(boxes[:1], [0.5], float("nan"))
    with pytest.raises(ValueError, match=r"nms: boxes contain NaN \(rows \[1\]\)"):
        nms(boxes, [0.5, 0.4], 0.5)
    with pytest.raises(ValueError, match=r"batched_nms: scores contain NaN \(entries \[0\]\)"):
        batched_nms(boxes[:1], [np.nan], [0], 0.5)
    with pytest.raises(ValueError, match=r"batched_nms: iou_threshold must be a number, got"):
        batched_nms(boxes[:1], [0.5], [0], None)


def test_nms_by_hand(jit):
    boxes = np.array([[0, 0, 10, 10],     # 0: score .9, kept first
                      [1, 0, 11, 10],     # 1: IoU with 0 = 90 / 110 = .82 > .5 -> suppressed
                      [20, 20, 30, 30],   # 2: touches nothing -> kept
                      [5, 0, 15, 10],     # 3: IoU with 0 = 50 / 150 = .33 -> kept (1 is gone)
                      [20, 20, 30, 30]],  # 4: same box as 2, lower score -> suppressed
                     dtype=np.float64)
    scores = np.array([0.9, 0.8, 0.6, 0.7, 0.5])
    keep = nms(boxes, scores, 0.5)
    assert keep.dtype == np.int64
    np.testing.assert_array_equal(keep, [0, 3, 2])  # by decreasing score


def test_nms_threshold_is_strict_and_ties_go_by_index(jit):
    # [0,0,2,1] and [1,0,2,1]: intersection 1, union 2, IoU exactly 0.5
    boxes = np.array([[0.0, 0.0, 2.0, 1.0], [1.0, 0.0, 2.0, 1.0]])
    np.testing.assert_array_equal(nms(boxes, [0.5, 0.5], 0.5), [0, 1])  # 0.5 is not > 0.5
    np.testing.assert_array_equal(nms(boxes, [0.5, 0.5], 0.49), [0])  # equal scores: index 0 first
    np.testing.assert_array_equal(nms(boxes, [0.4, 0.5], 0.49), [1])


def test_nms_zero_area_and_empty(jit):
    points = np.array([[3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0], [0.0, 0.0, 6.0, 6.0]])
    # points have IoU 0 with everything: nothing suppresses them, they suppress nothing
    np.testing.assert_array_equal(nms(points, [0.9, 0.8, 0.7], 0.0), [0, 1, 2])
    empty = nms(np.zeros((0, 4)), np.zeros(0), 0.5)
    assert empty.shape == (0,) and empty.dtype == np.int64


def test_batched_nms_by_hand(jit):
    boxes = np.array([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 4.0]])
    scores = np.array([0.6, 0.9, 0.7])
    # box 1 (class 0) suppresses box 0 (class 0, same box); box 2 is class 1: kept
    np.testing.assert_array_equal(batched_nms(boxes, scores, [0, 0, 1], 0.5), [1, 2])
    np.testing.assert_array_equal(batched_nms(boxes, scores, [0, 1, 2], 0.5), [1, 2, 0])


def _greedy_by_definition(boxes, scores, classes, threshold):
    """Visit boxes by (decreasing score, index); keep one unless a kept box of its class has
    IoU > threshold with it. IoU from Python floats, 0 for an empty union."""
    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
        return w * h / union if union > 0 else 0.0
    kept = []
    for i in sorted(range(len(boxes)), key=lambda i: (-scores[i], i)):
        if all(classes[j] != classes[i] or iou(boxes[i], boxes[j]) <= threshold for j in kept):
            kept.append(i)
    return kept


@given(box_sets(), st.sampled_from([0.0, 0.3, 0.5, 0.7]), st.booleans())
def test_nms_matches_the_definition(data, threshold, per_class):
    boxes, scores = data
    classes = np.arange(len(boxes)) % 2 if per_class else np.zeros(len(boxes), np.int64)
    expected = _greedy_by_definition(boxes.tolist(), scores.tolist(), classes.tolist(), threshold)
    order = np.argsort(-scores, kind="stable").astype(np.int64)
    for kernels in (reference, jit_kernels):
        np.testing.assert_array_equal(kernels.nms_keep(boxes, order, classes, threshold),
                                      expected)
    np.testing.assert_array_equal(batched_nms(boxes, scores, classes, threshold), expected)
