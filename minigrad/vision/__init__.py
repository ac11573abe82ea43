"""Detection and segmentation tools: boxes, NMS, ROI Pool / ROI Align, metrics, YOLO
encoding and drawing. `import minigrad.vision as vision`."""
from .boxes import as_boxes, batched_nms, box_area, box_convert, box_iou, nms
from .roi import RoIAlign, RoIPool, roi_align, roi_pool
