"""`train segment`: semantic segmentation of the shapes data (background, circle, square,
triangle) with the course's encoder-decoders, scored by mIoU."""
import matplotlib.pyplot as plt
import numpy as np

from .. import functional as F
from ..data import ShapesSegmentation
from ..data.transforms import RandomHorizontalFlip
from ..models import segmentation
from ..tensor import Tensor
from ..vision import confusion_matrix, mean_iou, overlay_mask, pixel_accuracy
from .loop import Task, size_error

CLASSES = ShapesSegmentation.classes

# the top-level submodules that make up each net's encoder (what --freeze-encoder freezes)
ENCODERS = {"fcn8s": ["features"], "unet": ["inc", "downs"], "segnet": ["encoders"],
            "deeplabv3plus": ["backbone"], "pspnet": ["backbone"]}
# the input size must be a multiple of the net's total downsampling
STRIDES = {"fcn8s": 32, "unet": 16, "segnet": 32, "deeplabv3plus": 16, "pspnet": 8}


def _constructor(name):
    def build(task):
        return getattr(segmentation, name)(len(CLASSES), base_channels=task.args.base_channels)
    return build


class SegmentTask(Task):
    """Per-pixel cross-entropy on ShapesSegmentation (1-4 shapes per image), a horizontal
    flip as augmentation; metrics: mIoU, pixel accuracy and each class's IoU."""

    name = "segment"
    models = {name: _constructor(name) for name in ENCODERS}
    default_model = "unet"
    metrics = ("val_miou", "val_pixel_accuracy")

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--base-channels", type=int, default=16,
                            help="width of the net's first stage (default 16)")
        parser.add_argument("--background-weight", type=float, default=1.0,
                            help="weight of background pixels in the cross-entropy, the "
                                 "shapes' pixels weighing 1 (default 1: the plain loss)")

    @classmethod
    def check_args(cls, args):
        error = size_error(args.model, args.size, STRIDES[args.model])
        if error:
            return error
        if args.base_channels < 2:
            return f"argument --base-channels: must be at least 2, got {args.base_channels}"
        if not 0 < args.background_weight <= 1:
            return (f"argument --background-weight: must be in (0, 1], got "
                    f"{args.background_weight}")
        return None

    def datasets(self):
        args = self.args
        train = ShapesSegmentation(args.train_images, args.size, train=True, seed=args.seed,
                                   transforms=RandomHorizontalFlip())
        val = ShapesSegmentation(args.val_images, args.size, train=False, seed=args.seed)
        return train, val

    def encoder(self, model):
        return ENCODERS[self.args.model]

    def loss(self, model, batch):
        """Per-pixel cross-entropy. About four pixels in five are background, so with the
        plain loss most of the gradient says "background" and the shapes, told apart by a
        few corner pixels, are learnt slowly; --background-weight below 1 rebalances it
        (the weighted mean divides by the sum of the pixels' weights)."""
        images, masks = batch
        weight = Tensor(np.array([self.args.background_weight] + [1.0] * (len(CLASSES) - 1),
                                 np.float32))
        return F.cross_entropy(model(images), masks, weight=weight)  # (N, C, H, W), (N, H, W)

    def evaluate(self, model, loader):
        """val_loss (mean per pixel), val_miou, val_pixel_accuracy and val_class_iou (one
        IoU per class name) over the whole validation set."""
        total, predictions, targets = 0.0, [], []
        for images, masks in loader:
            logits = model(images)  # (N, C, H, W)
            total += F.cross_entropy(logits, masks).item() * len(masks)
            predictions.append(logits.data.argmax(axis=1))  # (N, H, W)
            targets.append(masks.data)
        pred, target = np.concatenate(predictions), np.concatenate(targets)
        counts = confusion_matrix(pred, target, len(CLASSES))  # (true, predicted)
        hits = np.diag(counts)
        union = counts.sum(axis=0) + counts.sum(axis=1) - hits
        return {"val_loss": total / len(target),
                "val_miou": mean_iou(pred, target, len(CLASSES)),
                "val_pixel_accuracy": pixel_accuracy(pred, target, len(CLASSES)),
                "val_class_iou": {name: float(hits[k] / union[k]) if union[k] else None
                                  for k, name in enumerate(CLASSES)}}

    def plot_predictions(self, model, dataset, path, count=6):
        save_predictions(model, dataset, path, count)


def save_predictions(model, dataset, path, count=6, title=None):
    """A figure of `count` samples of `dataset`: images (top row), true masks, predicted
    masks (bottom row, each with its own IoU over the classes present); returns the mIoU of
    the samples shown."""
    count = min(count, len(dataset))
    images = np.stack([dataset[i][0] for i in range(count)])  # (count, 3, H, W)
    masks = np.stack([dataset[i][1] for i in range(count)])  # (count, H, W)
    predicted = model(Tensor(images)).data.argmax(axis=1)  # (count, H, W)
    fig, axes = plt.subplots(3, count, figsize=(1.9 * count, 6), squeeze=False)
    for i in range(count):
        axes[0, i].imshow(images[i].transpose(1, 2, 0))
        overlay_mask(None, masks[i], len(CLASSES), alpha=1.0, ax=axes[1, i])
        overlay_mask(None, predicted[i], len(CLASSES), alpha=1.0, ax=axes[2, i])
        axes[2, i].set_xlabel(f"IoU {mean_iou(predicted[i], masks[i], len(CLASSES)):.2f}",
                              fontsize=9)
    for row, label in enumerate(("image", "true mask", "predicted")):
        axes[row, 0].set_ylabel(label)
    for ax in axes.ravel():
        ax.set(xticks=[], yticks=[])
    colours = plt.get_cmap("tab10")(np.arange(len(CLASSES)))
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[k]) for k in range(1, len(CLASSES))]
    fig.legend(handles, CLASSES[1:], loc="lower center", ncol=len(CLASSES) - 1)
    miou = mean_iou(predicted, masks, len(CLASSES))
    fig.suptitle(title or f"predictions on validation images (mIoU of these {count}: "
                          f"{miou:.3f})")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return miou
