"""Detection and segmentation metrics: precision-recall, AP (COCO 101-point, VOC 11-point,
VOC all-point), COCO-style mAP on boxes or instance masks, confusion matrix, mean IoU and
pixel accuracy.

Conventions, stated once: boxes are (x1, y1, x2, y2) in continuous coordinates (area
(x2 - x1)(y2 - y1), no "+1 pixel", for COCO and VOC alike); detections are ranked by
decreasing score with a stable sort, so equal scores keep image order, then their order
within the image (pycocotools' mergesort). The COCO path reproduces pycocotools'
COCOeval (matching, accumulate, summarize) number for number, including its float grids
np.linspace(0, 1, 101) and np.linspace(.5, .95, 10); the VOC path reproduces
py-faster-rcnn's voc_eval, including its 11-point grid np.arange(0, 1.1, 0.1), whose
0.3, 0.6 and 0.7 are a hair above those numbers.
"""
import numpy as np

from ..tensor import Tensor
from .boxes import as_boxes, box_area, box_iou

COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
COCO_RECALL_POINTS = np.linspace(0.0, 1.0, 101)
VOC11_RECALL_POINTS = np.arange(0.0, 1.1, 0.1)
COCO_AREA_RANGES = {"all": (0.0, 1e5 ** 2), "small": (0.0, 32.0 ** 2),
                    "medium": (32.0 ** 2, 96.0 ** 2), "large": (96.0 ** 2, 1e5 ** 2)}
METHODS = ("coco", "voc11", "voc")


def _array(x, dtype=None):
    return np.asarray(x.data if isinstance(x, Tensor) else x, dtype=dtype)


def _ranked_counts(scores, is_true_positive, fn):
    """Cumulative true and false positives down the ranking by decreasing score."""
    scores = _array(scores, np.float64)
    hits = _array(is_true_positive, bool)
    if scores.ndim != 1 or hits.shape != scores.shape:
        raise ValueError(f"{fn}: scores and is_true_positive must be 1-D of one length, got "
                         f"shapes {scores.shape} and {hits.shape}")
    order = np.argsort(-scores, kind="mergesort")
    hits = hits[order]
    return np.cumsum(hits).astype(np.float64), np.cumsum(~hits).astype(np.float64), scores[order]


def precision_recall_curve(scores, is_true_positive, n_ground_truth):
    """Precision tp / (tp + fp) and recall tp / n_ground_truth after each detection, in order
    of decreasing score.  Shapes: (D,), (D,) -> precision (D,), recall (D,), scores (D,)."""
    _check_n_ground_truth(n_ground_truth, "precision_recall_curve")
    tp, fp, ranked = _ranked_counts(scores, is_true_positive, "precision_recall_curve")
    return tp / (tp + fp), tp / n_ground_truth, ranked


def _check_n_ground_truth(n, fn):
    if not n >= 1:
        raise ValueError(f"{fn}: n_ground_truth must be >= 1, got {n} (AP is undefined "
                         f"without ground truth)")


def _coco_interpolated_precision(tp, fp, n_ground_truth):
    """pycocotools' accumulate for one class: precision made non-increasing from the right,
    read at the 101 recall points (0 beyond the last recall reached)."""
    recall = tp / n_ground_truth
    precision = tp / (tp + fp + np.spacing(1))
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at recall >= r
    at = np.searchsorted(recall, COCO_RECALL_POINTS, side="left")  # first rank reaching r
    return np.append(precision, 0.0)[at]  # at == len(precision): r is never reached -> 0


def _voc_average_precision(tp, fp, n_ground_truth, method):
    """voc_eval's voc_ap: 11-point (VOC2007) or the area under the precision envelope."""
    recall = tp / n_ground_truth
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    if method == "voc11":
        return float(sum(precision[recall >= t].max(initial=0.0) / 11.0
                         for t in VOC11_RECALL_POINTS))
    recall = np.concatenate([[0.0], recall, [1.0]])
    precision = np.concatenate([[0.0], precision, [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # the envelope
    steps = np.nonzero(recall[1:] != recall[:-1])[0]  # where recall changes
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def average_precision(scores, is_true_positive, n_ground_truth, method="coco"):
    """AP of one class from its ranked detections.

    method "coco": the mean of the interpolated precision (the best precision at recall
    >= r) at the 101 recall points r = 0, 0.01, ..., 1; "voc11": the same at 11 points
    0, 0.1, ..., 1; "voc": the exact area under the interpolated curve (VOC2010+).
    Shapes: scores (D,), is_true_positive (D,) -> float.
    """
    _check_method(method, "average_precision")
    _check_n_ground_truth(n_ground_truth, "average_precision")
    tp, fp, _ = _ranked_counts(scores, is_true_positive, "average_precision")
    if method == "coco":
        return float(np.mean(_coco_interpolated_precision(tp, fp, n_ground_truth)))
    return _voc_average_precision(tp, fp, n_ground_truth, method)


def _check_method(method, fn):
    if method not in METHODS:
        raise ValueError(f"{fn}: method={method!r}, expected one of {METHODS}")


# --- mean average precision over images and classes --------------------------------------

IOU_TYPES = ("bbox", "segm")


def _read_labels(labels, name):
    """Class labels as int64; whole-number floats are accepted, fractions are refused (they
    would be truncated into another class)."""
    labels = _array(labels).reshape(-1)
    if labels.dtype.kind == "f":
        if not np.array_equal(labels, np.floor(labels)):  # also false for NaN and inf
            raise ValueError(f"mean_average_precision: {name} must hold whole-number class "
                             f"labels, got {labels[labels != np.floor(labels)][:3]}")
    elif labels.size and labels.dtype.kind not in "iub":
        raise TypeError(f"mean_average_precision: {name} must hold integer class labels, got "
                        f"dtype {labels.dtype}")
    return labels.astype(np.int64)


def _read_masks(masks, name):
    """Instance masks as (K, H*W) bool rows and their (H, W); probabilities (float masks,
    torchvision's (K, 1, H, W) included) are binarised at 0.5 as COCO's evaluation does."""
    masks = _array(masks)
    if masks.ndim == 4 and masks.shape[1] == 1:
        masks = masks[:, 0]
    if masks.ndim != 3:
        raise ValueError(f"mean_average_precision: {name} of shape {masks.shape}; expected "
                         f"(K, H, W) or (K, 1, H, W)")
    binary = masks if masks.dtype == bool else masks > 0.5
    return binary.reshape(len(binary), int(np.prod(masks.shape[1:]))), masks.shape[1:]


def _read_regions(entry, name, iou_type):
    """What IoU is measured on: boxes (K, 4), or masks as (K, H*W) bool rows with their
    (H, W)."""
    if iou_type == "bbox":
        return as_boxes(entry["boxes"], f"{name}['boxes']"), None
    return _read_masks(entry["masks"], f"{name}['masks']")


def _read_detections(preds, targets, iou_type):
    """Validate and unpack; a missing key is an error naming the dict and the key.
    Predictions are sorted by decreasing score within each image."""
    if len(preds) != len(targets):
        raise ValueError(f"mean_average_precision: {len(preds)} predictions for "
                         f"{len(targets)} targets; expected one dict of each per image")
    region = "boxes" if iou_type == "bbox" else "masks"
    images = []
    for i, (pred, target) in enumerate(zip(preds, targets)):
        for name, entry, keys in ((f"preds[{i}]", pred, (region, "scores", "labels")),
                                  (f"targets[{i}]", target, (region, "labels"))):
            missing = [key for key in keys if key not in entry]
            if missing:
                raise ValueError(f"mean_average_precision: {name} has no {missing}; expected "
                                 f"a dict with {list(keys)} (iou_type={iou_type!r})")
        p_regions, p_size = _read_regions(pred, f"preds[{i}]", iou_type)
        scores = _array(pred["scores"], np.float64).reshape(-1)
        p_labels = _read_labels(pred["labels"], f"preds[{i}]['labels']")
        t_regions, t_size = _read_regions(target, f"targets[{i}]", iou_type)
        t_labels = _read_labels(target["labels"], f"targets[{i}]['labels']")
        if not len(p_regions) == len(scores) == len(p_labels):
            raise ValueError(f"mean_average_precision: preds[{i}] has {len(p_regions)} "
                             f"{region}, {len(scores)} scores and {len(p_labels)} labels")
        if len(t_regions) != len(t_labels):
            raise ValueError(f"mean_average_precision: targets[{i}] has {len(t_regions)} "
                             f"{region} and {len(t_labels)} labels")
        if p_size != t_size:
            raise ValueError(f"mean_average_precision: preds[{i}]['masks'] are {p_size} and "
                             f"targets[{i}]['masks'] {t_size}; expected the same image size")
        order = np.argsort(-scores, kind="mergesort")
        images.append((p_regions[order], scores[order], p_labels[order], t_regions, t_labels))
    return images


def _region_iou(a, b):
    """Pairwise IoU of boxes (K, 4) or of masks (K, H*W) bool. Shapes: (D, .), (G, .) -> (D, G)."""
    if a.dtype != bool:
        return box_iou(a, b)
    intersection = a.astype(np.float64) @ b.T.astype(np.float64)  # pixels in both
    union = _region_area(a)[:, None] + _region_area(b)[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


def _region_area(regions):
    """Box areas, or mask areas in pixels (COCO's segment area)."""
    return regions.sum(axis=1, dtype=np.float64) if regions.dtype == bool else box_area(regions)


def _check_map_arguments(iou_thresholds, max_detections, method, iou_type):
    """The validated thresholds (None for the method's default) and cap (None: no cap)."""
    _check_method(method, "mean_average_precision")
    if iou_type not in IOU_TYPES:
        raise ValueError(f"mean_average_precision: iou_type={iou_type!r}, expected one of "
                         f"{IOU_TYPES}")
    if max_detections is not None and (isinstance(max_detections, bool) or not
                                       isinstance(max_detections, (int, np.integer))):
        raise TypeError(f"mean_average_precision: max_detections must be an int or None, got "
                        f"{max_detections!r}")
    if max_detections is not None and max_detections < 1:
        raise ValueError(f"mean_average_precision: max_detections must be at least 1 (or None "
                         f"for no cap), got {max_detections}")
    if iou_thresholds is None:
        return None, max_detections
    thresholds = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
    if thresholds.size == 0 or not ((thresholds >= 0) & (thresholds <= 1)).all():
        raise ValueError(f"mean_average_precision: iou_thresholds must be numbers in [0, 1], "
                         f"got {iou_thresholds!r}")
    return thresholds, max_detections


def _coco_match(iou, gt_ignore, thresholds):
    """pycocotools' evaluateImg matching for one image and class.

    Detections (rows of iou, by decreasing score) each take the not yet matched GT with the
    highest IoU >= t, preferring GTs that are not ignored (they come first and a match to
    one is never traded for an ignored one); among equal IoUs the later GT wins.
    Returns matched (T, D) bool and matched_ignored (T, D) bool.
    """
    n_det, n_gt = iou.shape
    matched = np.zeros((len(thresholds), n_det), bool)
    matched_ignored = np.zeros((len(thresholds), n_det), bool)
    for t, threshold in enumerate(thresholds):
        gt_taken = np.zeros(n_gt, bool)
        for d in range(n_det):
            best_iou, best = min(threshold, 1 - 1e-10), -1
            for g in range(n_gt):
                if gt_taken[g]:
                    continue
                if best > -1 and not gt_ignore[best] and gt_ignore[g]:
                    break
                if iou[d, g] < best_iou:
                    continue
                best_iou, best = iou[d, g], g
            if best > -1:
                gt_taken[best] = True
                matched[t, d] = True
                matched_ignored[t, d] = gt_ignore[best]
    return matched, matched_ignored


def _coco_evaluate(images, classes, thresholds, max_detections):
    """COCOeval's evaluate + accumulate: precision (T, R, K, A) and recall (T, K, A), -1
    where a class has no (non-ignored) ground truth in that area range."""
    n_t, n_r, n_k = len(thresholds), len(COCO_RECALL_POINTS), len(classes)
    precision = -np.ones((n_t, n_r, n_k, len(COCO_AREA_RANGES)))
    recall = -np.ones((n_t, n_k, len(COCO_AREA_RANGES)))
    for k, label in enumerate(classes):
        per_image = []
        for p_boxes, scores, p_labels, t_boxes, t_labels in images:
            dets, gts = p_labels == label, t_labels == label
            if not dets.any() and not gts.any():
                continue  # pycocotools skips image/class pairs with neither
            det_boxes = p_boxes[dets][:max_detections]
            per_image.append((det_boxes, scores[dets][:max_detections], t_boxes[gts]))
        for a, (low, high) in enumerate(COCO_AREA_RANGES.values()):
            all_scores, all_matched, all_ignored, n_gt = [], [], [], 0
            for det_boxes, det_scores, gt_boxes in per_image:
                gt_area, det_area = _region_area(gt_boxes), _region_area(det_boxes)
                gt_ignore = (gt_area < low) | (gt_area > high)
                gt_order = np.argsort(gt_ignore, kind="mergesort")  # counted GTs first
                iou = _region_iou(det_boxes, gt_boxes[gt_order])  # (D, G)
                matched, ignored = _coco_match(iou, gt_ignore[gt_order], thresholds)
                # an unmatched detection outside the area range is not counted either
                ignored |= ~matched & ((det_area < low) | (det_area > high))
                all_scores.append(det_scores)
                all_matched.append(matched)
                all_ignored.append(ignored)
                n_gt += int(np.count_nonzero(~gt_ignore))
            if n_gt == 0:
                continue
            order = np.argsort(-np.concatenate(all_scores), kind="mergesort")
            matched = np.concatenate(all_matched, axis=1)[:, order]  # (T, D)
            ignored = np.concatenate(all_ignored, axis=1)[:, order]
            tps = np.cumsum(matched & ~ignored, axis=1).astype(np.float64)
            fps = np.cumsum(~matched & ~ignored, axis=1).astype(np.float64)
            for t in range(n_t):
                recall[t, k, a] = tps[t, -1] / n_gt if tps.shape[1] else 0.0
                precision[t, :, k, a] = _coco_interpolated_precision(tps[t], fps[t], n_gt)
    return precision, recall


def _mean_valid(values):
    """COCOeval.summarize: the mean over entries > -1, or -1 if there are none."""
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def mean_average_precision(preds, targets, iou_thresholds=None, max_detections=100,
                           method="coco", iou_type="bbox"):
    """mAP of a detector over a data set (API.md), COCO's or PASCAL VOC's way.

    preds: one dict per image with "boxes" (D, 4), "scores" (D,), "labels" (D,); targets:
    one dict per image with "boxes" (G, 4), "labels" (G,). Labels are integers (whole-number
    floats are accepted). Only the `max_detections` (>= 1) highest-scoring detections of
    each class in each image count (COCO's maxDets; None for no cap). Classes without ground
    truth are left out of every mean.

    iou_type "bbox" measures overlap by box IoU; "segm" by mask IoU (pixels in both / pixels
    in either), with "masks" in every dict instead of "boxes": preds (D, H, W) or
    torchvision's (D, 1, H, W), probabilities binarised at 0.5, targets (G, H, W); the area
    ranges then use the mask area, as COCO's segment evaluation does.

    method "coco" (pycocotools' COCOeval): per IoU threshold (default .50:.05:.95, each in
    [0, 1]), each detection in order of score takes the unmatched GT of highest IoU >= t; AP
    is the 101-point interpolated precision. Returns a dict: map (mean over thresholds and
    classes), map_50, map_75, map_small / map_medium / map_large (GT of area < 32^2,
    32^2..96^2, > 96^2; for "bbox" the box area stands in for COCO's segment area), mar_100
    (recall at max_detections, mean over thresholds and classes) and per_class {label: AP}.
    An entry without any ground truth (for example map_large with no large box) is -1, as
    in pycocotools.

    method "voc11" / "voc" (py-faster-rcnn's voc_eval) at one IoU threshold (default 0.5):
    each detection looks only at the GT of highest IoU in its image; it is a true
    positive if that IoU is > the threshold (strictly) and that GT is not taken yet. AP is
    11-point or all-point. Returns {"map", "per_class"}.
    """
    thresholds, cap = _check_map_arguments(iou_thresholds, max_detections, method, iou_type)
    images = _read_detections(preds, targets, iou_type)
    classes = np.unique(np.concatenate([image[4] for image in images] + [np.zeros(0, int)]))
    if method == "coco":
        thresholds = COCO_IOU_THRESHOLDS if thresholds is None else thresholds
        precision, recall = _coco_evaluate(images, classes, thresholds, cap)

        def at_threshold(value):
            hit = np.nonzero(np.isclose(thresholds, value, rtol=0, atol=1e-12))[0]
            return _mean_valid(precision[hit, :, :, 0]) if hit.size else -1.0

        return {"map": _mean_valid(precision[..., 0]), "map_50": at_threshold(0.5),
                "map_75": at_threshold(0.75), "map_small": _mean_valid(precision[..., 1]),
                "map_medium": _mean_valid(precision[..., 2]),
                "map_large": _mean_valid(precision[..., 3]),
                "mar_100": _mean_valid(recall[:, :, 0]),
                "per_class": {int(label): _mean_valid(precision[:, :, k, 0])
                              for k, label in enumerate(classes)}}
    if thresholds is not None and thresholds.size != 1:
        raise ValueError(f"mean_average_precision: method={method!r} scores at one IoU "
                         f"threshold, got iou_thresholds={iou_thresholds!r}")
    threshold = 0.5 if thresholds is None else float(thresholds[0])
    per_class = {int(label): _voc_class_ap(images, label, threshold, cap, method)
                 for label in classes}
    return {"map": float(np.mean(list(per_class.values()))) if per_class else -1.0,
            "per_class": per_class}


def _voc_class_ap(images, label, threshold, max_detections, method):
    """voc_eval for one class: detections of all images by decreasing score; each is TP if
    the GT it overlaps most (first among equals) has IoU > threshold and is still free."""
    scores, hits, n_gt = [], [], 0
    for p_boxes, p_scores, p_labels, t_boxes, t_labels in images:
        dets = p_labels == label
        det_boxes, det_scores = p_boxes[dets][:max_detections], p_scores[dets][:max_detections]
        gt_boxes = t_boxes[t_labels == label]
        n_gt += len(gt_boxes)
        scores.append(det_scores)
        hits.append(np.zeros(len(det_boxes), bool))
        if len(gt_boxes) == 0:
            continue
        iou = _region_iou(det_boxes, gt_boxes)  # (D, G), rows already by decreasing score
        taken = np.zeros(len(gt_boxes), bool)
        for d, best in enumerate(iou.argmax(axis=1)):
            if iou[d, best] > threshold and not taken[best]:
                taken[best] = hits[-1][d] = True
    # within an image the rows are already ranked, so only the order across images matters,
    # and voc_eval ranks all detections of the class together: a stable sort does that
    tp, fp, _ = _ranked_counts(np.concatenate(scores), np.concatenate(hits), "voc_eval")
    return _voc_average_precision(tp, fp, n_gt, method)


# --- segmentation ------------------------------------------------------------------------

def confusion_matrix(pred, target, num_classes, ignore_index=None):
    """counts[i, j] = number of pixels of true class i predicted as class j; pixels whose
    target is `ignore_index` are skipped.  Shapes: pred, target (any, same) of class
    indices -> (num_classes, num_classes) int64."""
    pred, target = _array(pred), _array(target)
    if pred.shape != target.shape:
        raise ValueError(f"confusion_matrix: pred of shape {pred.shape} and target of shape "
                         f"{target.shape}; expected the same shape")
    for name, labels in (("pred", pred), ("target", target)):
        if labels.size and labels.dtype.kind not in "iu":
            raise TypeError(f"confusion_matrix: {name} must hold integer class indices, "
                            f"got dtype {labels.dtype}")
    keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
    pred, target = pred[keep].astype(np.int64), target[keep].astype(np.int64)
    for name, labels in (("pred", pred), ("target", target)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} holds classes in [{labels.min()}, "
                             f"{labels.max()}], expected [0, {num_classes})")
    counts = np.bincount(target * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)  # (true class, predicted class)


def mean_iou(pred, target, num_classes, ignore_index=None):
    """Mean over classes of TP / (TP + FP + FN). A class absent from both pred and target
    (union 0) is left out of the mean rather than counted as 0 or 1."""
    counts = confusion_matrix(pred, target, num_classes, ignore_index)
    hits = np.diag(counts)
    union = counts.sum(axis=0) + counts.sum(axis=1) - hits
    present = union > 0
    return float(np.mean(hits[present] / union[present])) if present.any() else float("nan")


def pixel_accuracy(pred, target, num_classes, ignore_index=None):
    """The fraction of (non-ignored) pixels whose predicted class is right."""
    counts = confusion_matrix(pred, target, num_classes, ignore_index)
    total = counts.sum()
    return float(np.trace(counts) / total) if total else float("nan")
