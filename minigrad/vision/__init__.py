"""Detection and segmentation tools: boxes, box coding, NMS, ROI Pool / ROI Align, metrics
(panoptic quality included), YOLO encoding, decoding and loss, drawing.
`import minigrad.vision as vision`."""
from .boxes import (as_boxes, batched_nms, box_area, box_convert, box_iou, decode_boxes,
                    encode_boxes, nms)
from .roi import RoIAlign, RoIPool, roi_align, roi_pool
from .metrics import (average_precision, confusion_matrix, mean_average_precision, mean_iou,
                      pixel_accuracy, precision_recall_curve)
from .panoptic import instances_to_panoptic, panoptic_quality
from .yolo import yolo_decode, yolo_encode, yolo_loss
from .draw import draw_boxes, overlay_mask, plot_precision_recall
