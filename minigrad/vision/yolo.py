"""YOLO (v1) tensor encoding: ground-truth boxes to an S x S x (B*5 + C) target, and a
predicted tensor of that layout back to scored boxes (threshold, then per-class NMS).

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
