"""Panoptic quality on hand-worked segmentations: matching at IoU > 0.5, things and stuff,
void pixels taken out of predictions and unmatched predictions that are mostly void."""
import numpy as np
import pytest

from minigrad.data import ShapesDataset
from minigrad.vision import instances_to_panoptic, panoptic_quality

V = 9  # a category in neither things nor stuffs: void in the ground truth
# category 0 (background) is stuff; 1 and 2 are things. Each cell: (category, instance id)
TARGET = np.array([[(1, 1), (1, 1), (0, 0), (0, 0), (2, 2), (2, 2)],
                   [(1, 1), (1, 1), (0, 0), (0, 0), (2, 2), (2, 2)],
                   [(0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (V, 0)],
                   [(0, 0), (0, 0), (0, 0), (0, 0), (V, 0), (V, 0)]])
PRED = np.array([[(1, 5), (1, 5), (0, 3), (0, 3), (1, 6), (1, 6)],
                 [(1, 5), (1, 5), (1, 5), (0, 3), (1, 6), (1, 6)],
                 [(0, 3), (0, 3), (0, 3), (0, 3), (0, 4), (2, 7)],
                 [(0, 3), (0, 3), (0, 3), (0, 4), (2, 7), (2, 7)]])


def test_panoptic_quality_by_hand():
    result = panoptic_quality(PRED, TARGET, things=[1, 2], stuffs=[0])
    # class 1: the circle (4 pixels) and prediction 5 (those 4 and one more): IoU 4/5, a TP;
    #   prediction 6 (class 1) lies on the square: unmatched, not void -> FP.
    #   PQ = .8 / (1 + 1/2), SQ = .8, RQ = 1 / 1.5
    # class 2: the square is matched by nothing -> FN, PQ = SQ = RQ = 0; prediction 7 lies
    #   entirely on void pixels: not a false positive
    # class 0 (stuff: instance ids 3 and 4 are one segment): 12 predicted pixels, all inside
    #   the 13 of the target -> IoU 12/13, a TP
    assert result["per_class"][1] == {"pq": pytest.approx(0.8 / 1.5), "sq": pytest.approx(0.8),
                                      "rq": pytest.approx(2 / 3), "tp": 1, "fp": 1, "fn": 0}
    assert result["per_class"][2] == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "tp": 0, "fp": 0,
                                      "fn": 1}
    assert result["per_class"][0] == {"pq": pytest.approx(12 / 13), "sq": pytest.approx(12 / 13),
                                      "rq": 1.0, "tp": 1, "fp": 0, "fn": 0}
    assert result["pq"] == pytest.approx((12 / 13 + 8 / 15 + 0) / 3, rel=1e-12)
    assert result["sq"] == pytest.approx((12 / 13 + 0.8 + 0) / 3, rel=1e-12)
    assert result["rq"] == pytest.approx((1 + 2 / 3 + 0) / 3, rel=1e-12)
    assert result["pq_things"] == pytest.approx(4 / 15, rel=1e-12)
    assert result["pq_stuff"] == pytest.approx(12 / 13, rel=1e-12)


def test_panoptic_void_rules():
    # the stuff prediction gives (2, 4) to prediction 7 and takes the void pixel (2, 5)
    pred = PRED.copy()
    pred[2, 5] = (0, 3)
    pred[2, 4] = (2, 7)
    pred[3, 4] = pred[3, 5] = (2, 7)
    result = panoptic_quality(pred, TARGET, things=[1, 2], stuffs=[0])
    # stuff: 12 predicted pixels, one void; the 11 others inside the target's 13:
    # IoU = 11 / (12 + 13 - 11 - 1 void) = 11/13
    assert result["per_class"][0]["sq"] == pytest.approx(11 / 13, rel=1e-12)
    # prediction 7: (2, 4) (stuff in the target), (3, 4) and (3, 5) (void): 2 of 3 pixels
    # void -> not a false positive
    assert result["per_class"][2]["fp"] == 0
    # without (3, 5) it is 1 void pixel of 2, not more than half: a false positive
    pred[3, 5] = (0, 3)
    result = panoptic_quality(pred, TARGET, things=[1, 2], stuffs=[0])
    assert result["per_class"][2] == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "tp": 0, "fp": 1,
                                      "fn": 1}


def test_panoptic_perfect_and_over_images():
    # the target, with its void pixels predicted as background: they leave the union, so
    # every IoU is 1; the stuff category V + 1 that occurs nowhere is left out of the means
    pred = np.where(TARGET[..., :1] == V, 0, TARGET)
    perfect = panoptic_quality(np.stack([pred, pred]), np.stack([TARGET, TARGET]),
                               things=[1, 2], stuffs=[0, V + 1])
    assert perfect["pq"] == perfect["sq"] == perfect["rq"] == 1.0
    assert sorted(perfect["per_class"]) == [0, 1, 2]
    assert perfect["per_class"][1]["tp"] == 2  # counted over both images
    # instance ids name segments only: renumbering the predicted things changes nothing
    renumbered = pred.copy()
    renumbered[..., 1] = np.where(renumbered[..., 0] == 1, 42, renumbered[..., 1])
    assert panoptic_quality(renumbered, TARGET, [1, 2], [0])["pq"] == 1.0
    # two circles predicted as one: its IoU with each is 1/2, not > 1/2 -> no match
    target = np.zeros((1, 4, 2), np.int64)
    target[0, :2], target[0, 2:] = (1, 1), (1, 2)
    pred = np.zeros_like(target)
    pred[0, :] = (1, 1)
    result = panoptic_quality(pred, target, things=[1], stuffs=[0])
    assert result["per_class"][1] == {"pq": 0.0, "sq": 0.0, "rq": 0.0, "tp": 0, "fp": 1,
                                      "fn": 2}
    assert np.isnan(result["pq_stuff"])  # no stuff segment anywhere


def test_panoptic_refuses_bad_input():
    with pytest.raises(ValueError, match=r"preds of shape \(4, 6\)"):
        panoptic_quality(PRED[..., 0], TARGET, [1, 2], [0])
    with pytest.raises(ValueError, match=r"preds of shape \(1, 4, 6, 2\) and targets of shape "
                                         r"\(1, 3, 6, 2\)"):
        panoptic_quality(PRED, TARGET[:3], [1, 2], [0])
    with pytest.raises(TypeError, match="targets must hold integers"):
        panoptic_quality(PRED, TARGET.astype(float), [1, 2], [0])
    with pytest.raises(ValueError, match=r"preds use categories \[2\]"):
        panoptic_quality(PRED, TARGET, [1], [0])
    with pytest.raises(ValueError, match=r"categories \[1\] are both things and stuffs"):
        panoptic_quality(PRED, TARGET, [1, 2], [0, 1])
    with pytest.raises(ValueError, match="categories must be >= 0"):
        panoptic_quality(PRED, TARGET, [1, 2], [-1, 0])


def test_instances_to_panoptic_by_hand():
    # two overlapping 2x2 instances on a 3x3 image; the second scores higher and keeps the
    # shared pixel (1, 1); a third scores below the threshold and is dropped
    masks = np.zeros((3, 3, 3), bool)
    masks[0, :2, :2] = masks[1, 1:, 1:] = masks[2, 0, 2] = True
    panoptic = instances_to_panoptic(masks, [0, 2, 1], scores=[0.6, 0.9, 0.3])
    np.testing.assert_array_equal(panoptic[..., 0], [[1, 1, 0], [1, 3, 3], [0, 3, 3]])
    np.testing.assert_array_equal(panoptic[..., 1], [[1, 1, 0], [1, 2, 2], [0, 2, 2]])
    with pytest.raises(ValueError, match="3 masks, 2 labels and 3 scores"):
        instances_to_panoptic(masks, [0, 2], scores=[0.6, 0.9, 0.3])


def test_instances_to_panoptic_follows_the_semantic_masks():
    data = ShapesDataset(3, 32, 1, 4, seed=0)
    for i in range(3):
        _, target = data[i]
        panoptic = instances_to_panoptic(target["masks"], target["labels"])
        np.testing.assert_array_equal(panoptic[..., 0], target["semantic_mask"])
        assert len(np.unique(panoptic[..., 1])) == len(target["labels"]) + 1  # + background
        result = panoptic_quality(panoptic, panoptic, things=[1, 2, 3], stuffs=[0])
        assert result["pq"] == 1.0
