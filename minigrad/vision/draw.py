"""Pictures for detection and segmentation (matplotlib): boxes with labels and scores, a
segmentation mask over an image, a precision-recall curve. Each returns the Axes."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..tensor import Tensor
from .boxes import as_boxes


def _axes(ax):
    return plt.subplots()[1] if ax is None else ax


def _image(image):
    """An (H, W) or (H, W, 3) array for imshow; a (3, H, W) CHW image is transposed."""
    image = np.asarray(image.data if isinstance(image, Tensor) else image)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[2] not in (1, 3):
        image = image.transpose(1, 2, 0)  # (H, W, C)
    return image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image


def draw_boxes(image, boxes, labels=None, scores=None, class_names=None, ax=None,
               color=None):
    """Show `image` (may be None) with each box (xyxy pixels) outlined and captioned
    "name score". One colour per class unless `color` is given. With `image` None the boxes
    go on `ax` as it is (over an image shown there before), y pointing down."""
    ax = _axes(ax)
    if image is not None:
        ax.imshow(_image(image), cmap="gray")
    boxes = as_boxes(boxes)
    palette = plt.get_cmap("tab10")
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        label = None if labels is None else int(labels[i])
        edge = color or palette((label or 0) % 10)
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=edge,
                               linewidth=1.5))
        caption = [] if label is None else [class_names[label] if class_names else str(label)]
        if scores is not None:
            caption.append(f"{float(scores[i]):.2f}")
        if caption:
            ax.text(x1, y1, " ".join(caption), color="white", fontsize=8, va="bottom",
                    bbox=dict(facecolor=edge, edgecolor="none", pad=1))
    if image is None:
        ax.autoscale_view()
        # Image coordinates: y grows downwards. Axes that show an image (an imshow here or
        # before, a previous call) already point down; flipping them again would draw the
        # image upside down under its boxes.
        if not ax.yaxis_inverted():
            ax.invert_yaxis()
    return ax


def overlay_mask(image, mask, num_classes=None, alpha=0.5, ax=None):
    """Show `image` with a class-index `mask` (H, W) painted over it, one colour per class,
    class c in draw_boxes' colour of label c - 1; class 0 (background) is left transparent."""
    ax = _axes(ax)
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if image is not None:
        ax.imshow(_image(image), cmap="gray")
    n = int(mask.max()) + 1 if num_classes is None else num_classes
    # class c > 0 in the colour draw_boxes gives label c - 1 (0-based labels: a shape's mask
    # and box then match, its class in a mask being 1 + its label)
    palette = plt.get_cmap("tab10" if n <= 11 else "tab20")
    colours = palette((np.arange(n) - 1) % palette.N)  # (n, 4)
    colours[:, 3] = alpha
    colours[0, 3] = 0.0
    ax.imshow(colours[mask], interpolation="nearest")  # (H, W, 4) RGBA
    return ax


def plot_precision_recall(precision, recall, ax=None, label=None, interpolated=True):
    """The precision-recall curve (points after each ranked detection), and with
    `interpolated` the envelope AP integrates: the best precision at recall >= r."""
    ax = _axes(ax)
    precision, recall = np.asarray(precision, float), np.asarray(recall, float)
    line, = ax.plot(recall, precision, "o-", markersize=3, label=label)
    if interpolated and precision.size:
        envelope = np.maximum.accumulate(precision[::-1])[::-1]
        ax.step(np.concatenate([[0.0], recall]), np.concatenate([envelope[:1], envelope]),
                where="pre", color=line.get_color(), alpha=0.5, linestyle="--",
                label=None if label is None else f"{label} (interpolated)")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.05))
    if label is not None:
        ax.legend()
    return ax
