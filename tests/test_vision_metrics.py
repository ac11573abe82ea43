"""Detection and segmentation metrics on hand-worked examples; every expected number is
derived in the comments (pycocotools' and voc_eval's rules, SEMANTICS.md 2.7)."""
import numpy as np
import pytest

from minigrad.vision import (average_precision, confusion_matrix, mean_average_precision,
                             mean_iou, pixel_accuracy, precision_recall_curve)

# Three detections of one class, 2 ground truths. By decreasing score: TP, FP, TP.
#   rank      1     2     3
#   tp, fp    1,0   1,1   2,1
#   precision 1     1/2   2/3
#   recall    1/2   1/2   1
# Interpolated precision (best precision at recall >= r): 1 for r <= 1/2, 2/3 above.
SCORES = [0.7, 0.9, 0.8]  # given out of order: the functions rank them
HITS = [True, True, False]


def test_precision_recall_curve_by_hand():
    precision, recall, ranked = precision_recall_curve(SCORES, HITS, 2)
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3], rtol=1e-15)
    np.testing.assert_allclose(recall, [1 / 2, 1 / 2, 1], rtol=1e-15)
    np.testing.assert_array_equal(ranked, [0.9, 0.8, 0.7])


def test_average_precision_three_ways_by_hand():
    # COCO, 101 points r = 0, .01, ..., 1: the 51 points r <= .5 read 1, the 50 above read
    # 2/3 (pycocotools divides by tp + fp + 2^-52): AP = (51 + 50 * 2/3) / 101 = 0.83498
    coco = (51 + 50 * 2 / (3 + np.spacing(1))) / 101
    assert average_precision(SCORES, HITS, 2) == pytest.approx(coco, rel=1e-15)
    # VOC 11 points 0, .1, ..., 1: six points (0 .. .5) read 1, five (.6 .. 1) read 2/3:
    # (6 + 5 * 2/3) / 11 = 0.84848
    assert average_precision(SCORES, HITS, 2, "voc11") == pytest.approx(
        (6 + 5 * 2 / 3) / 11, rel=1e-15)
    # VOC all-point: area under the envelope, recall steps 0 -> .5 at 1 and .5 -> 1 at 2/3
    assert average_precision(SCORES, HITS, 2, "voc") == pytest.approx(
        0.5 * 1 + 0.5 * 2 / 3, rel=1e-15)


def test_voc11_grid_is_voc_evals_arange():
    # 3 hits out of 10 GT: recall 0.3 at precision 1. voc_eval's grid np.arange(0, 1.1, .1)
    # holds 0.30000000000000004 > 0.3, so only t = 0, .1, .2 see the hits: AP = 3/11
    assert average_precision([3, 2, 1], [1, 1, 1], 10, "voc11") == pytest.approx(3 / 11)


def test_average_precision_bad_arguments():
    with pytest.raises(ValueError, match="method='voc12'"):
        average_precision(SCORES, HITS, 2, "voc12")
    with pytest.raises(ValueError, match="n_ground_truth must be >= 1, got 0"):
        average_precision(SCORES, HITS, 0)
    with pytest.raises(ValueError, match=r"got shapes \(3,\) and \(2,\)"):
        average_precision(SCORES, HITS[:2], 2)


def _image(det_boxes, scores, gt_boxes, det_labels=None, gt_labels=None):
    pred = dict(boxes=np.array(det_boxes, dtype=float).reshape(-1, 4), scores=np.array(scores),
                labels=np.zeros(len(scores), int) if det_labels is None else np.array(det_labels))
    target = dict(boxes=np.array(gt_boxes, dtype=float).reshape(-1, 4),
                  labels=np.zeros(len(gt_boxes), int) if gt_labels is None else
                  np.array(gt_labels))
    return pred, target


def test_coco_map_across_iou_thresholds_by_hand():
    # GTs A = [0,0,10,10], B = [20,0,30,10]. Detections by score:
    #   d1 .9 [0,0,10,8]:   IoU with A = 80/100 = .8
    #   d2 .8 [20,0,30,6]:  IoU with B = 60/100 = .6
    #   d3 .7 far away:     FP everywhere
    # t = .50 .55 .60: TP TP FP, precision 1 1 2/3, recall .5 1 1 -> AP 1 (recall 1 at p 1)
    # t = .65 .. .80:  TP FP FP, recall stops at .5 -> 51 of 101 points read 1: AP 51/101
    # t = .85 .. .95:  nothing matches -> AP 0
    # map = (3 * 1 + 4 * 51/101 + 3 * 0) / 10; recall per t: 1 (x3), .5 (x4), 0 (x3)
    pred, target = _image([[0, 0, 10, 8], [20, 0, 30, 6], [50, 50, 60, 60]], [0.9, 0.8, 0.7],
                          [[0, 0, 10, 10], [20, 0, 30, 10]])
    result = mean_average_precision([pred], [target])
    expected_map = (3 + 4 * 51 / 101) / 10
    assert result["map"] == pytest.approx(expected_map, rel=1e-12)
    assert result["map_50"] == pytest.approx(1.0, rel=1e-12)
    assert result["map_75"] == pytest.approx(51 / 101, rel=1e-12)
    assert result["mar_100"] == pytest.approx((3 + 4 * 0.5) / 10, rel=1e-12)
    # all boxes have area 100 < 32^2: small only
    assert result["map_small"] == pytest.approx(expected_map, rel=1e-12)
    assert result["map_medium"] == -1 and result["map_large"] == -1
    assert result["per_class"] == {0: pytest.approx(expected_map, rel=1e-12)}
    # the same detections split over two images give the same numbers
    first, first_target = _image([[0, 0, 10, 8], [50, 50, 60, 60]], [0.9, 0.7], [[0, 0, 10, 10]])
    second, second_target = _image([[20, 0, 30, 6]], [0.8], [[20, 0, 30, 10]])
    split = mean_average_precision([first, second], [first_target, second_target])
    assert split["map"] == pytest.approx(expected_map, rel=1e-12)


def test_coco_and_voc_matching_rules_differ():
    # GTs A = [0,0,10,10], B = [5,0,15,10]. d1 .9 = A exactly. d2 .8 = [2,0,12,10]:
    # IoU with A = 80/120 = .67 (taken by d1), with B = 70/130 = .54.
    # COCO lets d2 fall back to B (>= .5): TP TP -> AP50 = 1.
    # VOC only looks at d2's best GT, A, already taken: FP. Precision 1, 1/2; recall .5, .5:
    # all-point AP = .5 * 1 = .5
    pred, target = _image([[0, 0, 10, 10], [2, 0, 12, 10]], [0.9, 0.8],
                          [[0, 0, 10, 10], [5, 0, 15, 10]])
    assert mean_average_precision([pred], [target])["map_50"] == pytest.approx(1.0)
    assert mean_average_precision([pred], [target], method="voc")["map"] == pytest.approx(0.5)
    # IoU exactly .5 ([0,0,10,10] vs [0,0,20,10]: 100/200): COCO's >= matches, VOC's > does not
    pred, target = _image([[0, 0, 10, 10]], [0.9], [[0, 0, 20, 10]])
    assert mean_average_precision([pred], [target])["map_50"] == pytest.approx(1.0)
    assert mean_average_precision([pred], [target], method="voc")["map"] == 0.0
    assert mean_average_precision([pred], [target], iou_thresholds=[0.4],
                                  method="voc11")["map"] == pytest.approx(1.0)


def test_coco_area_ranges_by_hand():
    # GTs: S = [0,0,10,10] (area 100, small), M = [100,100,140,140] (1600, medium).
    # Detections: d2 .95 [50,50,90,90] (area 1600, matches nothing), d1 .9 = M, d3 .7 = S.
    # all:    FP TP TP, precision 0 1/2 2/3, recall 0 .5 1 -> envelope 2/3 everywhere: 2/3
    # small:  M ignored; d1 matched an ignored GT and d2 unmatched but medium: both ignored;
    #         d3 TP -> AP 1
    # medium: S ignored; d3 ignored (matched S); FP TP, recall 0 1 -> envelope .5: AP .5
    # large:  no GT -> -1
    pred, target = _image([[50, 50, 90, 90], [100, 100, 140, 140], [0, 0, 10, 10]],
                          [0.95, 0.9, 0.7], [[0, 0, 10, 10], [100, 100, 140, 140]])
    result = mean_average_precision([pred], [target])
    assert result["map"] == pytest.approx(2 / (3 + np.spacing(1)), rel=1e-12)
    assert result["map_small"] == pytest.approx(1.0, rel=1e-12)
    assert result["map_medium"] == pytest.approx(0.5, rel=1e-12)
    assert result["map_large"] == -1


def test_max_detections_and_classes_without_ground_truth():
    # class 0: one GT; detections FP (.9) then TP (.8): precision 0, 1/2, recall 0, 1 ->
    # AP .5. With max_detections=1 only the FP counts: AP 0.
    # class 1: predictions only -> left out. class 2: a GT and no prediction -> AP 0.
    pred, target = _image([[20, 20, 30, 30], [0, 0, 10, 10], [0, 0, 5, 5]], [0.9, 0.8, 0.9],
                          [[0, 0, 10, 10], [40, 40, 50, 50]], det_labels=[0, 0, 1],
                          gt_labels=[0, 2])
    result = mean_average_precision([pred], [target], iou_thresholds=[0.5])
    assert result["per_class"] == {0: pytest.approx(0.5), 2: 0.0}
    assert result["map"] == pytest.approx(0.25)
    capped = mean_average_precision([pred], [target], iou_thresholds=[0.5], max_detections=1)
    assert capped["per_class"] == {0: 0.0, 2: 0.0}
    voc = mean_average_precision([pred], [target], method="voc")
    assert voc["per_class"] == {0: pytest.approx(0.5), 2: 0.0}


def test_mean_average_precision_bad_arguments():
    pred, target = _image([[0, 0, 1, 1]], [0.5], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="1 predictions for 2 targets"):
        mean_average_precision([pred], [target, target])
    with pytest.raises(ValueError, match="scores at one IoU threshold"):
        mean_average_precision([pred], [target], iou_thresholds=[0.5, 0.7], method="voc")
    with pytest.raises(ValueError, match="preds\\[0\\] has 1 boxes, 2 scores"):
        mean_average_precision([dict(pred, scores=[0.5, 0.4])], [target])


# target and pred of a 2x3 image, 3 classes
TARGET = np.array([[0, 0, 1], [1, 2, 2]])
PRED = np.array([[0, 1, 1], [1, 2, 0]])


def test_segmentation_metrics_by_hand():
    # pixel pairs (true, pred): (0,0) (0,1) (1,1) (1,1) (2,2) (2,0)
    counts = confusion_matrix(PRED, TARGET, 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    # IoU = TP / (row + column - TP): class 0: 1 / (2 + 2 - 1) = 1/3, class 1: 2 / (2 + 3 - 2)
    # = 2/3, class 2: 1 / (2 + 1 - 1) = 1/2; mean 1/2. 4 of 6 pixels right.
    assert mean_iou(PRED, TARGET, 3) == pytest.approx(0.5, rel=1e-15)
    assert pixel_accuracy(PRED, TARGET, 3) == pytest.approx(4 / 6, rel=1e-15)
    # a 4th class absent from both is left out of the mean, not counted as 0 or 1
    assert mean_iou(PRED, TARGET, 4) == pytest.approx(0.5, rel=1e-15)
    # ignore target 2: pairs (0,0) (0,1) (1,1) (1,1): class 0: 1/2, class 1: 2/3, class 2
    # now absent -> mean 7/12; 3 of 4 right
    assert mean_iou(PRED, TARGET, 3, ignore_index=2) == pytest.approx(7 / 12, rel=1e-15)
    assert pixel_accuracy(PRED, TARGET, 3, ignore_index=2) == pytest.approx(0.75, rel=1e-15)


def test_segmentation_bad_arguments():
    with pytest.raises(ValueError, match=r"pred of shape \(2, 3\) and target of shape \(3,\)"):
        confusion_matrix(PRED, TARGET[0], 3)
    with pytest.raises(ValueError, match=r"pred holds classes in \[0, 2\], expected \[0, 2\)"):
        confusion_matrix(PRED, TARGET, 2)
    with pytest.raises(TypeError, match="pred must hold integer class indices"):
        confusion_matrix(PRED.astype(float), TARGET, 3)


# --- mask mAP (iou_type="segm") and argument checks ---------------------------------------

ONE = pytest.approx(1.0, rel=1e-15)  # pycocotools' precision tp / (tp + fp + eps)

def _square_mask(size, rows, cols):
    mask = np.zeros((size, size), bool)
    mask[rows[0]:rows[1], cols[0]:cols[1]] = True
    return mask


def _segm(pred_masks, scores, target_masks, pred_labels=None, target_labels=None):
    pred = dict(masks=np.array(pred_masks), scores=np.array(scores, float),
                labels=np.zeros(len(scores), int) if pred_labels is None else pred_labels)
    target = dict(masks=np.array(target_masks),
                  labels=np.zeros(len(target_masks), int) if target_labels is None
                  else target_labels)
    return [pred], [target]


def test_mask_map_perfect_and_half_overlapping():
    target = _square_mask(20, (0, 10), (0, 10))
    result = mean_average_precision(*_segm([target], [0.9], [target]), iou_type="segm")
    # pycocotools divides by tp + fp + eps: "1" is 1 - 2e-16
    for key in ("map", "map_50", "map_75"):
        assert result[key] == pytest.approx(1.0, rel=1e-15)
    # the left half of the square: 50 pixels in both, 100 in either -> IoU exactly .5, a
    # match at .50 only: AP 1 at the first of the ten thresholds, 0 at the other nine
    half = _square_mask(20, (0, 10), (0, 5))
    result = mean_average_precision(*_segm([half], [0.9], [target]), iou_type="segm")
    assert result["map_50"] == ONE and result["map_75"] == 0.0
    assert result["map"] == pytest.approx(0.1, rel=1e-15)


def test_mask_map_differs_from_box_map():
    # a staircase triangle (row >= column) in a 10x10 square: its box is the square's, but
    # it covers 55 of its 100 pixels -> mask IoU .55
    triangle = np.tril(np.ones((10, 10), bool))
    target = np.zeros((20, 20), bool)
    target[:10, :10] = triangle
    square = _square_mask(20, (0, 10), (0, 10))
    preds, targets = _segm([square], [0.9], [target])
    preds[0]["boxes"], targets[0]["boxes"] = [[0, 0, 10, 10]], [[0, 0, 10, 10]]
    assert mean_average_precision(preds, targets)["map"] == ONE  # the boxes agree
    masks = mean_average_precision(preds, targets, iou_type="segm")
    assert masks["map_50"] == ONE and masks["map_75"] == 0.0
    assert masks["map"] == pytest.approx(0.2, rel=1e-15)  # .50 and .55 of the ten thresholds


def test_mask_map_area_is_the_mask_area():
    # a diagonal line across 40x40 pixels: its box is medium (1600 > 32^2), the mask small
    # (40 pixels < 32^2); COCO's segm evaluation ranges by the mask area
    line = np.zeros((64, 64), bool)
    line[np.arange(40), np.arange(40)] = True
    preds, targets = _segm([line], [0.9], [line])
    masks = mean_average_precision(preds, targets, iou_type="segm")
    assert masks["map_small"] == ONE and masks["map_medium"] == -1.0
    preds[0]["boxes"], targets[0]["boxes"] = [[0, 0, 40, 40]], [[0, 0, 40, 40]]
    boxes = mean_average_precision(preds, targets)
    assert boxes["map_small"] == -1.0 and boxes["map_medium"] == ONE


def test_mask_map_ranks_and_binarises_probabilities():
    # two GT squares of classes 0 and 1; predictions as torchvision's (D, 1, H, W)
    # probabilities: 0.6 on the square (kept), 0.4 around it (dropped at 0.5)
    first, second = _square_mask(20, (0, 8), (0, 8)), _square_mask(20, (10, 18), (10, 18))
    probabilities = np.stack([np.where(m, 0.6, 0.4) for m in (first, second)])[:, None]
    preds, targets = _segm(probabilities, [0.9, 0.8], [first, second], np.array([0, 1]),
                           np.array([0, 1]))
    result = mean_average_precision(preds, targets, iou_type="segm")
    assert result["per_class"] == {0: ONE, 1: ONE}
    # swapping the labels: each mask lands on the other class's square, IoU 0
    preds[0]["labels"] = np.array([1, 0])
    assert mean_average_precision(preds, targets, iou_type="segm")["map"] == 0.0
    # a false positive ranked above the true one: precision 1/2 at recall 1 for class 0
    preds, targets = _segm([second, first], [0.9, 0.8], [first])
    assert mean_average_precision(preds, targets, iou_thresholds=[0.5],
                                  iou_type="segm")["map"] == pytest.approx(0.5)
    # an image without detections (torchvision's empty (0, 1, H, W) masks) scores 0
    empty = dict(masks=np.zeros((0, 1, 20, 20)), scores=np.zeros(0), labels=np.zeros(0, int))
    assert mean_average_precision([empty], targets, iou_type="segm")["map"] == 0.0
    # VOC's way works on masks too
    assert mean_average_precision(preds, targets, method="voc",
                                  iou_type="segm")["map"] == pytest.approx(0.5)


@pytest.mark.parametrize("thresholds", [[1.5], [-0.1], [float("nan")], [0.5, float("nan")],
                                        []])
def test_mean_average_precision_refuses_bad_thresholds(thresholds):
    pred, target = _image([[0, 0, 1, 1]], [0.5], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match=r"iou_thresholds must be numbers in \[0, 1\]"):
        mean_average_precision([pred], [target], iou_thresholds=thresholds)


def test_mean_average_precision_refuses_bad_arguments():
    pred, target = _image([[0, 0, 1, 1]], [0.5], [[0, 0, 1, 1]])
    for cap in (-1, 0):
        with pytest.raises(ValueError, match=f"max_detections must be at least 1.*got {cap}"):
            mean_average_precision([pred], [target], max_detections=cap)
    with pytest.raises(TypeError, match="max_detections must be an int or None, got 2.5"):
        mean_average_precision([pred], [target], max_detections=2.5)
    with pytest.raises(ValueError, match=r"iou_type='mask', expected one of \('bbox', 'segm'"):
        mean_average_precision([pred], [target], iou_type="mask")
    with pytest.raises(ValueError, match=r"preds\[0\] has no \['scores'\]"):
        mean_average_precision([{"boxes": pred["boxes"], "labels": pred["labels"]}], [target])
    with pytest.raises(ValueError, match=r"targets\[0\] has no \['masks'\]"):
        mean_average_precision([dict(pred, masks=np.ones((1, 2, 2), bool))], [target],
                               iou_type="segm")
    with pytest.raises(ValueError, match=r"preds\[0\]\['labels'\] must hold whole-number"):
        mean_average_precision([dict(pred, labels=[0.5])], [target])
    with pytest.raises(TypeError, match=r"targets\[0\]\['labels'\] must hold integer"):
        mean_average_precision([pred], [dict(target, labels=["a"])])
    # whole-number floats are the integers they spell
    assert mean_average_precision([dict(pred, labels=[0.0])], [target])["map"] == ONE
    masks = dict(masks=np.ones((1, 4, 4), bool), scores=[0.5], labels=[0])
    with pytest.raises(ValueError, match=r"preds\[0\]\['masks'\] are \(4, 4\) and "
                                         r"targets\[0\]\['masks'\] \(5, 5\)"):
        mean_average_precision([masks], [dict(masks=np.ones((1, 5, 5), bool), labels=[0])],
                               iou_type="segm")
    with pytest.raises(ValueError, match=r"preds\[0\]\['masks'\] of shape \(4, 4\)"):
        mean_average_precision([dict(masks, masks=np.ones((4, 4)))],
                               [dict(masks=np.ones((1, 4, 4), bool), labels=[0])],
                               iou_type="segm")
