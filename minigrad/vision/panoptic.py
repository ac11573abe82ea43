"""Panoptic quality (Kirillov, He, Girshick, Rother and Dollar, 2019, "Panoptic
Segmentation"): one number for a segmentation that gives every pixel a class and, for
countable "things", an instance.

A panoptic segmentation is an integer array (..., H, W, 2): [..., 0] the category of each
pixel, [..., 1] its instance id (torchmetrics' layout). A segment is the set of pixels
with one (category, instance id) for a thing category, or with one category for a stuff
category (its instance ids are ignored: stuff is uncountable).
"""
import numpy as np

from ..tensor import Tensor


def _segments(panoptic, stuffs):
    """Segment index per pixel (-1 where none), and each segment's category and area.
    Shapes: (H, W, 2) -> (H*W,), (K,), (K,)."""
    category, instance = panoptic[..., 0].reshape(-1), panoptic[..., 1].reshape(-1)
    instance = np.where(np.isin(category, stuffs), 0, instance)  # one segment per stuff class
    keys, index = np.unique(np.stack([category, instance], axis=1), axis=0, return_inverse=True)
    index = index.reshape(-1)
    return index, keys[:, 0], np.bincount(index, minlength=len(keys))


def _read(panoptic, name):
    array = np.asarray(panoptic.data if isinstance(panoptic, Tensor) else panoptic)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != 2:
        raise ValueError(f"panoptic_quality: {name} of shape {array.shape}; expected "
                         f"(N, H, W, 2) or (H, W, 2): a category and an instance id per pixel")
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"panoptic_quality: {name} must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64)


def panoptic_quality(preds, targets, things, stuffs):
    """PQ = SQ x RQ over a data set (Kirillov et al. 2019, eq. 1, with their void rules).

    In each image, a predicted and a ground-truth segment of one category match when their
    IoU > 0.5; no segment can have two such partners, so the matching is unique. Per category,
    over all images, with TP the matched pairs, FP the unmatched predicted segments and FN
    the unmatched ground-truth segments:

        SQ = sum_TP IoU / |TP|    (segmentation quality: how well matches overlap)
        RQ = |TP| / (|TP| + |FP|/2 + |FN|/2)    (recognition quality: an F1 score)
        PQ = sum_TP IoU / (|TP| + |FP|/2 + |FN|/2) = SQ x RQ

    Void: ground-truth pixels whose category is in neither `things` nor `stuffs`. They
    are taken out of every predicted segment before the IoU, and a predicted segment more
    than half void is not counted as a false positive (an unlabelled region is not an
    error). Predictions must use known categories. (No crowd regions: the shapes have none.)

    preds, targets: integer arrays (N, H, W, 2) or (H, W, 2); things, stuffs: the category
    ids of each kind (disjoint). Returns a dict: pq, sq, rq (means over the categories that
    occur, TP + FP + FN > 0), the same over things (pq_things, ...) and stuff (pq_stuff,
    ...), NaN for an empty mean, and per_class {category: {pq, sq, rq, tp, fp, fn}}.
    """
    preds, targets = _read(preds, "preds"), _read(targets, "targets")
    if preds.shape != targets.shape:
        raise ValueError(f"panoptic_quality: preds of shape {preds.shape} and targets of "
                         f"shape {targets.shape}; expected the same shape")
    things = np.asarray(sorted(set(int(c) for c in things)), np.int64)
    stuffs = np.asarray(sorted(set(int(c) for c in stuffs)), np.int64)
    if (things < 0).any() or (stuffs < 0).any():
        raise ValueError(f"panoptic_quality: categories must be >= 0, got things "
                         f"{things.tolist()} and stuffs {stuffs.tolist()}")
    if np.intersect1d(things, stuffs).size:
        raise ValueError(f"panoptic_quality: categories {np.intersect1d(things, stuffs)} are "
                         f"both things and stuffs")
    known = np.concatenate([things, stuffs])
    unknown = np.setdiff1d(preds[..., 0], known)
    if unknown.size:
        raise ValueError(f"panoptic_quality: preds use categories {unknown}, neither in things "
                         f"{things.tolist()} nor in stuffs {stuffs.tolist()}")
    iou_sum, tp, fp, fn = (dict.fromkeys(known.tolist(), 0.0) for _ in range(4))
    for pred, target in zip(preds, targets):
        void = ~np.isin(target[..., 0], known).reshape(-1)  # (H*W,)
        target = np.where(void[:, None], -1, target.reshape(-1, 2)).reshape(target.shape)
        p_index, p_category, p_area = _segments(pred, stuffs)
        t_index, t_category, t_area = _segments(target, stuffs)
        is_void = t_category == -1
        # overlap[i, j]: pixels in predicted segment i and ground-truth segment j
        overlap = np.zeros((len(p_area), len(t_area)), np.int64)
        np.add.at(overlap, (p_index, t_index), 1)
        p_void = overlap[:, is_void].sum(axis=1)  # (P,) void pixels inside each prediction
        union = p_area[:, None] + t_area[None, :] - overlap - p_void[:, None]
        comparable = (p_category[:, None] == t_category[None, :]) & ~is_void[None, :]
        iou = np.divide(overlap, union, out=np.zeros(union.shape), where=comparable)
        matched = iou > 0.5  # (P, T), at most one True per row and per column
        for p, t in zip(*np.nonzero(matched)):
            tp[t_category[t]] += 1
            iou_sum[t_category[t]] += iou[p, t]
        for t in np.nonzero(~matched.any(axis=0) & ~is_void)[0]:
            fn[t_category[t]] += 1
        for p in np.nonzero(~matched.any(axis=1) & (p_void <= 0.5 * p_area))[0]:
            fp[p_category[p]] += 1
    per_class = {}
    for c in known.tolist():
        if tp[c] + fp[c] + fn[c] == 0:
            continue  # a category in neither: left out of the means
        denominator = tp[c] + 0.5 * fp[c] + 0.5 * fn[c]
        per_class[c] = {"pq": iou_sum[c] / denominator,
                        "sq": iou_sum[c] / tp[c] if tp[c] else 0.0,
                        "rq": tp[c] / denominator,
                        "tp": int(tp[c]), "fp": int(fp[c]), "fn": int(fn[c])}
    result = {}
    for suffix, group in (("", known), ("_things", things), ("_stuff", stuffs)):
        rows = [per_class[c] for c in group.tolist() if c in per_class]
        for key in ("pq", "sq", "rq"):
            result[key + suffix] = float(np.mean([row[key] for row in rows])) if rows \
                else float("nan")
    result["per_class"] = per_class
    return result


def instances_to_panoptic(masks, labels, scores=None, score_threshold=0.5):
    """A panoptic segmentation (H, W, 2) from instance masks over one background stuff
    category: instance k paints its pixels with category 1 + labels[k] and instance id
    1 + k; where instances overlap, the higher score wins (the merging heuristic of
    Kirillov et al., sec. 7: things by confidence, each pixel given once); pixels no
    instance covers are background, category 0 and id 0.

    masks: (K, H, W) or (K, 1, H, W) bool, or probabilities binarised at 0.5; labels (K,)
    0-based classes; scores (K,) or None (ground truth: every instance, in order, none
    overlapping); instances scoring below score_threshold are dropped. The categories then
    follow ShapesDataset's semantic_mask (0 background, 1 + class): use
    panoptic_quality(..., things=range(1, C + 1), stuffs=[0]).
    """
    masks = np.asarray(masks.data if isinstance(masks, Tensor) else masks)
    if masks.ndim == 4 and masks.shape[1] == 1:
        masks = masks[:, 0]
    if masks.ndim != 3:
        raise ValueError(f"instances_to_panoptic: masks of shape {masks.shape}; expected "
                         f"(K, H, W) or (K, 1, H, W)")
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    scores = np.ones(len(masks)) if scores is None else np.asarray(scores, float).reshape(-1)
    if not len(masks) == len(labels) == len(scores):
        raise ValueError(f"instances_to_panoptic: {len(masks)} masks, {len(labels)} labels "
                         f"and {len(scores)} scores; expected one of each per instance")
    binary = masks if masks.dtype == bool else masks > 0.5
    panoptic = np.zeros(masks.shape[1:] + (2,), np.int64)
    taken = np.zeros(masks.shape[1:], bool)
    for k in np.argsort(-scores, kind="mergesort"):  # best first; ties keep their order
        if scores[k] < score_threshold:
            break
        paint = binary[k] & ~taken
        panoptic[paint] = (1 + labels[k], 1 + k)
        taken |= paint
    return panoptic
