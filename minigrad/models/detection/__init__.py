"""Detectors with torchvision's detection-model convention: in train mode
`model(images, targets)` returns a dict of scalar losses, in eval mode `model(images)` one
dict of "boxes", "scores", "labels" (and "masks") per image. `yolo`: YOLOv1-style, one
stage; `mask_rcnn_lite`: a small two-stage Mask R-CNN."""
from .mask_rcnn import MaskRCNNLite, mask_rcnn_lite
from .yolo import YOLO, yolo

__all__ = ["MaskRCNNLite", "YOLO", "mask_rcnn_lite", "yolo"]
