"""`train detect`: object detection (and, for mask_rcnn_lite, instance segmentation) of the
shapes data (1-4 circles, squares and triangles per image) with models.detection, scored by
COCO's box mAP (and mask mAP) from vision.mean_average_precision."""
import matplotlib.pyplot as plt
import numpy as np

from ..data import SHAPE_CLASSES, ShapesDataset
from ..models import detection
from ..nn.norm import _BatchNorm
from ..tensor import Tensor
from ..vision import draw_boxes, mean_average_precision, overlay_mask
from .loop import Task, size_error

# the input size must be a multiple of each net's total downsampling
STRIDES = {"yolo": 8, "mask_rcnn_lite": 4}
# mask_rcnn_lite with its docstring's recipe: half of the 32 ROIs per image positive
MODELS = {"yolo": lambda size: detection.yolo(len(SHAPE_CLASSES), grid_size=size // 8),
          "mask_rcnn_lite": lambda size: detection.mask_rcnn_lite(
              len(SHAPE_CLASSES), box_batch_size=32, box_positive_fraction=0.5)}
SHOWN_SCORE = 0.5  # predictions.png draws the detections scoring at least this


def _constructor(name):
    def build(task):
        return MODELS[name](task.args.size)
    return build


def _stack(batch):
    """A list of (image, target) samples -> images (N, 3, H, W) and the list of targets."""
    return Tensor(np.stack([image for image, _ in batch])), [target for _, target in batch]


class DetectTask(Task):
    """The detector's own losses (summed; torchvision's convention: `model(images, targets)`
    in train mode) on ShapesDataset with 1-4 shapes per image, new images being the only
    augmentation; metrics: box mAP@.5 and @.5:.95, and mask mAP for models that give masks.
    """

    name = "detect"
    models = {name: _constructor(name) for name in STRIDES}
    default_model = "yolo"
    collate_fn = list  # detection targets do not stack

    def __init__(self, args):
        super().__init__(args)
        self.masks = args.model == "mask_rcnn_lite"
        self.metrics = ("val_map_50", "val_map") + (
            ("val_mask_map_50", "val_mask_map") if self.masks else ())

    @classmethod
    def check_args(cls, args):
        return size_error(args.model, args.size, STRIDES[args.model])

    def datasets(self):
        args = self.args
        # [seed, 0] and [seed, 1]: independent streams, so no validation image is a training one
        train = ShapesDataset(args.train_images, args.size, 1, 4, seed=[args.seed, 0])
        val = ShapesDataset(args.val_images, args.size, 1, 4, seed=[args.seed, 1])
        return train, val

    def encoder(self, model):
        return ["backbone"]

    def loss(self, model, batch):
        images, targets = _stack(batch)
        return sum(model(images, targets).values())

    def evaluate(self, model, loader):
        """val_loss (the summed losses, mean per image), val_map_50 and val_map (COCO box
        mAP at IoU .5 and over .50:.95), with masks val_mask_map_50 and val_mask_map, and
        val_class_ap (box AP over .50:.95 per class name) over the validation set."""
        total, n, detections, targets = 0.0, 0, [], []
        for batch in loader:
            images, batch_targets = _stack(batch)
            total += validation_loss(model, images, batch_targets) * len(batch)
            n += len(batch)
            detections += model(images)
            targets += batch_targets
        boxes = mean_average_precision(detections, targets)
        metrics = {"val_loss": total / n, "val_map_50": boxes["map_50"],
                   "val_map": boxes["map"],
                   "val_class_ap": {SHAPE_CLASSES[k]: ap for k, ap in boxes["per_class"].items()}}
        if self.masks:
            masks = mean_average_precision(detections, targets, iou_type="segm")
            metrics.update(val_mask_map_50=masks["map_50"], val_mask_map=masks["map"])
        return metrics

    def plot_predictions(self, model, dataset, path, count=6):
        save_predictions(model, dataset, path, count)


def validation_loss(model, images, targets):
    """The summed training losses of a batch without changing the model: the losses exist in
    train mode only (torchvision's convention), so the model runs in train mode with its
    BatchNorm layers in eval mode (running statistics used, not updated); the caller's mode
    is restored. Call it under no_grad."""
    was_training = model.training
    model.train()
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.eval()
    try:
        return sum(loss.item() for loss in model(images, targets).values())
    finally:
        model.train(was_training)


def save_predictions(model, dataset, path, count=6):
    """A figure of `count` samples of `dataset`: true boxes (top row) and the model's
    detections scoring at least SHOWN_SCORE (bottom row) with class names and scores, masks
    painted under them when the model gives masks; each column titled with the image's box
    AP@.5. Returns the mAP@.5 of the samples shown."""
    count = min(count, len(dataset))
    samples = [dataset[i] for i in range(count)]
    images, targets = _stack(samples)
    detections = model(images)
    fig, axes = plt.subplots(2, count, figsize=(2.2 * count, 4.8), squeeze=False)
    for i, (found, target) in enumerate(zip(detections, targets)):
        image = images.data[i]
        draw_boxes(image, target["boxes"], target["labels"], class_names=SHAPE_CLASSES,
                   ax=axes[0, i])
        shown = found["scores"] >= SHOWN_SCORE
        axes[1, i].imshow(image.transpose(1, 2, 0))
        if "masks" in found and shown.any():
            # each shown instance painted in its class's colour (1 + class: 0 is clear)
            masks = found["masks"][shown][:, 0] > 0.5  # (D, H, W)
            painted = np.max(masks * (1 + found["labels"][shown])[:, None, None], axis=0)
            overlay_mask(None, painted, 1 + len(SHAPE_CLASSES), ax=axes[1, i])
        draw_boxes(None, found["boxes"][shown], found["labels"][shown],
                   found["scores"][shown], class_names=SHAPE_CLASSES, ax=axes[1, i])
        ap = mean_average_precision([found], [target], iou_thresholds=[0.5])["map"]
        axes[0, i].set_title(f"AP@.5 {ap:.2f}", fontsize=9)
    for row, label in enumerate(("true boxes", f"detections >= {SHOWN_SCORE}")):
        axes[row, 0].set_ylabel(label)
    for ax in axes.ravel():
        ax.set(xticks=[], yticks=[])
    map_50 = mean_average_precision(detections, targets)["map_50"]
    fig.suptitle(f"predictions on validation images (box mAP@.5 of these {count}: "
                 f"{map_50:.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return map_50
