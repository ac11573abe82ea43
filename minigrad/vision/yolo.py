"""YOLO (v1) tensor encoding: ground-truth boxes to an S x S x (B*5 + C) target, a
predicted tensor of that layout back to scored boxes (threshold, then per-class NMS), and
the YOLOv1 loss between the two.

Cell (row, col) of an S x S grid over the image is responsible for the boxes whose centre
falls in it. Its vector holds B slots (x, y, w, h, confidence) then C class scores:
x, y is the centre's offset inside the cell in [0, 1), w, h the box size as a fraction of
the image (no square root), confidence 1 for an object. Images are (height, width).
"""
import numpy as np

from ..tensor import Tensor
from .boxes import as_boxes, batched_nms


def yolo_encode(boxes, labels, grid_size, num_boxes, num_classes, image_size):
    """The YOLO training target for one image.

    Each box is written into slot 0 of the cell holding its centre, with a one-hot class;
    the other slots stay 0. One box per cell: a later box whose centre falls in a cell
    already taken is dropped (YOLOv1 can detect one object per cell).
    Shapes: boxes (G, 4) xyxy in pixels, labels (G,) -> (S, S, B*5 + C).
    """
    boxes = as_boxes(boxes)
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels).reshape(-1)
    if len(labels) != len(boxes):
        raise ValueError(f"yolo_encode: {len(boxes)} boxes and {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"yolo_encode: labels must be in [0, {num_classes}), got "
                         f"[{labels.min()}, {labels.max()}]")
    height, width = image_size
    s = grid_size
    target = np.zeros((s, s, num_boxes * 5 + num_classes))
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2 / width * s  # in cells
    centre_y = (boxes[:, 1] + boxes[:, 3]) / 2 / height * s
    for g in range(len(boxes)):
        # a centre exactly on the far edge belongs to the last cell
        col = min(int(np.floor(centre_x[g])), s - 1)
        row = min(int(np.floor(centre_y[g])), s - 1)
        if target[row, col, 4] == 1.0:
            continue
        target[row, col, :5] = (centre_x[g] - col, centre_y[g] - row,
                                (boxes[g, 2] - boxes[g, 0]) / width,
                                (boxes[g, 3] - boxes[g, 1]) / height, 1.0)
        target[row, col, num_boxes * 5 + labels[g]] = 1.0
    return target


def yolo_decode(prediction, num_boxes, image_size, score_threshold=0.25, iou_threshold=0.5):
    """Scored boxes from a YOLO output tensor: every slot of every cell proposes its box with
    score = confidence * (highest class probability) and that class; proposals with score >
    score_threshold go through per-class NMS.
    Shapes: prediction (S, S, B*5 + C) -> dict boxes (D, 4) xyxy pixels, scores (D,),
    labels (D,) by decreasing score (the format mean_average_precision takes).
    """
    prediction = np.asarray(prediction.data if isinstance(prediction, Tensor) else prediction,
                            dtype=np.float64)
    s = prediction.shape[0]
    if prediction.ndim != 3 or prediction.shape[1] != s or prediction.shape[2] <= num_boxes * 5:
        raise ValueError(f"yolo_decode: prediction of shape {prediction.shape}; expected "
                         f"(S, S, {num_boxes}*5 + C) with C >= 1")
    height, width = image_size
    slots = prediction[..., :num_boxes * 5].reshape(s, s, num_boxes, 5)  # (S, S, B, 5)
    class_probs = prediction[..., num_boxes * 5:]  # (S, S, C)
    rows, cols = np.meshgrid(np.arange(s), np.arange(s), indexing="ij")  # (S, S) each
    centre_x = (cols[..., None] + slots[..., 0]) / s * width  # (S, S, B)
    centre_y = (rows[..., None] + slots[..., 1]) / s * height
    half_w, half_h = slots[..., 2] * width / 2, slots[..., 3] * height / 2
    boxes = np.stack([centre_x - half_w, centre_y - half_h, centre_x + half_w,
                      centre_y + half_h], axis=-1).reshape(-1, 4)  # (S*S*B, 4)
    labels = np.repeat(class_probs.argmax(axis=-1)[..., None], num_boxes, axis=2).reshape(-1)
    scores = (slots[..., 4] * class_probs.max(axis=-1)[..., None]).reshape(-1)  # (S*S*B,)
    confident = scores > score_threshold
    boxes, scores, labels = boxes[confident], scores[confident], labels[confident]
    keep = batched_nms(boxes, scores, labels, iou_threshold)
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}


def yolo_loss(prediction, target, num_boxes, lambda_coord=5.0, lambda_noobj=0.5, rescore=True,
              return_terms=False):
    """The YOLOv1 sum-squared loss (Redmon et al. 2016, eq. 3), in yolo_encode's layout.

    In each cell holding an object (target confidence 1), of the B predicted boxes the one
    with the highest IoU with the target box is "responsible" for it (the first among
    equals); every other slot of every cell counts as holding no object:

        box       = lambda_coord * sum_resp [(x - x*)^2 + (y - y*)^2
                                             + (sqrt w - sqrt w*)^2 + (sqrt h - sqrt h*)^2]
        object    = sum_resp (C - C*)^2,  C* = IoU(predicted, target box) (rescore=True,
                    the paper's Pr(object) * IoU) or 1 (rescore=False, darknet's option)
        no_object = lambda_noobj * sum_not_resp C^2
        class     = sum_cells_with_object sum_c (p(c) - p*(c))^2

    Each term is summed over cells and slots and averaged over the batch. The square roots
    make an error of a few pixels cost more on a small box than on a large one. The choice
    of the responsible box and C* are constants of the prediction (no gradient flows
    through the IoU), as in the paper.

    prediction: a Tensor (N, S, S, B*5 + C) or (S, S, B*5 + C), each slot (x, y, w, h, C)
    with w, h > 0 at responsible slots (the gradient of sqrt is infinite at 0); target:
    yolo_encode's arrays of the same shape (an array or Tensor, no gradient).
    Returns the loss, a scalar Tensor, or with return_terms=True a dict of the four terms
    "loss_box", "loss_object", "loss_no_object", "loss_class" (their sum is the loss).
    """
    if not isinstance(prediction, Tensor):
        raise TypeError(f"yolo_loss: prediction must be a Tensor, got "
                        f"{type(prediction).__name__}")
    target = np.asarray(target.data if isinstance(target, Tensor) else target, np.float64)
    shape = tuple(prediction.shape)
    if (prediction.ndim not in (3, 4) or shape[-3] != shape[-2]
            or shape[-1] <= num_boxes * 5 or target.shape != shape):
        raise ValueError(f"yolo_loss: prediction of shape {shape} and target of shape "
                         f"{target.shape}; expected both (N, S, S, {num_boxes}*5 + C) or "
                         f"(S, S, {num_boxes}*5 + C) with C >= 1")
    if prediction.ndim == 3:
        prediction, target = prediction.unsqueeze(0), target[None]
    n, s = prediction.shape[0], prediction.shape[1]
    slots = prediction[..., :num_boxes * 5].reshape(n, s, s, num_boxes, 5)
    has_object = target[..., 4] == 1.0  # (N, S, S)
    target_box = target[..., :4]  # (N, S, S, 4): slot 0 holds the object
    iou = _cell_iou(slots.data[..., :4], target_box[..., None, :], s)  # (N, S, S, B)
    best = iou.argmax(axis=-1)  # (N, S, S)
    responsible = has_object[..., None] & (np.arange(num_boxes) == best[..., None])
    chosen = slots[responsible]  # (M, 5): the responsible slots, in order
    chosen_target = target_box[has_object]  # (M, 4), the same order
    if (chosen.data[:, 2:4] < 0).any():
        raise ValueError("yolo_loss: prediction has a negative width or height at a "
                         "responsible slot; w and h are fractions of the image, >= 0")
    confidence = slots[..., 4]  # (N, S, S, B)
    dtype = prediction.dtype
    object_target = iou[responsible] if rescore else np.ones(len(chosen_target))
    terms = {
        "loss_box": lambda_coord * (
            ((chosen[:, 0:2] - Tensor(chosen_target[:, 0:2], dtype=dtype)) ** 2).sum()
            + ((chosen[:, 2:4].sqrt() - Tensor(np.sqrt(chosen_target[:, 2:4]), dtype=dtype))
               ** 2).sum()),
        "loss_object": ((chosen[:, 4] - Tensor(object_target, dtype=dtype)) ** 2).sum(),
        "loss_no_object": lambda_noobj * (confidence[~responsible] ** 2).sum(),
        "loss_class": ((prediction[..., num_boxes * 5:][has_object]
                        - Tensor(target[..., num_boxes * 5:][has_object], dtype=dtype))
                       ** 2).sum(),
    }
    terms = {name: term / n for name, term in terms.items()}
    return terms if return_terms else sum(terms.values())


def _cell_iou(boxes, target_boxes, grid_size):
    """IoU of predicted and target boxes in the same cell (x, y offsets in cells, w, h
    fractions of the image), measured in image fractions. Shapes: broadcastable (..., 4)."""
    def corners(box):
        centre = box[..., :2] / grid_size  # the cell's own corner cancels out
        half = np.abs(box[..., 2:4]) / 2
        return centre - half, centre + half

    low_a, high_a = corners(boxes)
    low_b, high_b = corners(target_boxes)
    sides = np.clip(np.minimum(high_a, high_b) - np.maximum(low_a, low_b), 0.0, None)
    intersection = sides[..., 0] * sides[..., 1]
    union = np.prod(high_a - low_a, axis=-1) + np.prod(high_b - low_b, axis=-1) - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
