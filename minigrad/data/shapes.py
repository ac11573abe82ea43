"""Procedural images of circles, squares and triangles on textured backgrounds, with
everything a vision model trains on: class labels, semantic masks, instance masks, boxes.

Generated on the spot from a seed (nothing downloaded), small enough to train on a laptop,
and the same data serve classification, detection and segmentation.
"""
import numpy as np

from .dataset import Dataset
from .transforms import Image, Mask

SHAPE_CLASSES = ("circle", "square", "triangle")


def make_shapes(n, size=32, min_shapes=1, max_shapes=1, seed=None):
    """`n` images of `size` x `size` pixels, each with min_shapes..max_shapes shapes that do
    not overlap.

    Returns a dict:
      images          float32 (n, 3, size, size) in [0, 1]
      semantic_masks  int64 (n, size, size): 0 background, 1 + class index on a shape
      labels          list of n int64 arrays (k,): class indices (see SHAPE_CLASSES)
      boxes           list of n float32 arrays (k, 4): (x1, y1, x2, y2) in pixels, the
                      outer edges of the shape's pixels (a shape on columns 3..7 has x1=3, x2=8)
      instance_masks  list of n bool arrays (k, size, size)
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"make_shapes: n must be a positive integer, got {n!r}")
    if size < 8:
        raise ValueError(f"make_shapes: size must be at least 8 pixels, got {size}")
    if not 1 <= min_shapes <= max_shapes:
        raise ValueError(f"make_shapes: need 1 <= min_shapes <= max_shapes, got "
                         f"min_shapes={min_shapes}, max_shapes={max_shapes}")
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size] + 0.5  # pixel centres, (size, size) each
    # a single shape is drawn large: its radius is at least a fifth of the image, so that even
    # at 20-24 pixels the corners that tell the classes apart span several pixels; several
    # shapes are smaller to fit
    radius_range = (0.2 * size, 0.35 * size) if max_shapes == 1 else (0.1 * size, 0.2 * size)
    out = {"images": np.empty((n, 3, size, size), np.float32),
           "semantic_masks": np.zeros((n, size, size), np.int64),
           "labels": [], "boxes": [], "instance_masks": []}
    for i in range(n):
        background = _texture(rng, xs, ys, size)  # (3, size, size)
        image = background.copy()
        occupied = np.zeros((size, size), bool)
        labels, masks = [], []
        for _ in range(rng.integers(min_shapes, max_shapes + 1)):
            for _attempt in range(20):  # rejection sampling for a place that is free
                label = int(rng.integers(len(SHAPE_CLASSES)))
                radius = rng.uniform(*radius_range)
                cx, cy = rng.uniform(radius, size - radius, 2)
                mask = _rasterise(label, cx, cy, radius, xs, ys)
                if mask.any() and not (_grow(mask) & occupied).any():
                    break
            else:
                continue  # no free place: this image gets fewer shapes
            colour = _contrasting_colour(rng, background[:, mask].mean(axis=1))
            image[:, mask] = (colour[:, None] + rng.normal(0, 0.03, (3, mask.sum()))).clip(0, 1)
            occupied |= mask
            labels.append(label)
            masks.append(mask)
            out["semantic_masks"][i][mask] = label + 1
        if not labels:  # the first shape always fits an empty image, so this cannot happen
            raise RuntimeError("make_shapes: could not place a shape")
        out["images"][i] = image
        out["labels"].append(np.array(labels, np.int64))
        out["instance_masks"].append(np.stack(masks))
        out["boxes"].append(np.array([_box(m) for m in masks], np.float32).reshape(-1, 4))
    return out


def _texture(rng, xs, ys, size):
    """A random base colour with a soft stripe pattern and pixel noise: (3, size, size)."""
    base = rng.uniform(0.2, 0.8, 3)
    angle, frequency, phase = rng.uniform(0, np.pi), rng.uniform(1, 4), rng.uniform(0, 2 * np.pi)
    stripes = np.sin(2 * np.pi * frequency / size * (xs * np.cos(angle) + ys * np.sin(angle))
                     + phase)  # (size, size)
    noise = rng.normal(0, 0.04, (3, size, size))
    return (base[:, None, None] + 0.12 * stripes + noise).clip(0, 1)


def _rasterise(label, cx, cy, r, xs, ys):
    """Pixels whose centre lies inside the shape of class `label` around (cx, cy)."""
    if SHAPE_CLASSES[label] == "circle":
        return (xs - cx) ** 2 + (ys - cy) ** 2 <= r ** 2
    if SHAPE_CLASSES[label] == "square":
        half = 0.9 * r  # about the circle's area
        return (np.abs(xs - cx) <= half) & (np.abs(ys - cy) <= half)
    # an upright triangle, apex at the top, height 2r, base 2.2r
    top, height = cy - r, 2 * r
    depth = (ys - top) / height  # 0 at the apex, 1 at the base
    return (depth >= 0) & (depth <= 1) & (np.abs(xs - cx) <= 1.1 * r * depth)


def _grow(mask):
    """The mask and its 4-neighbours: shapes keep a pixel of background between them."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


def _contrasting_colour(rng, behind):
    """A colour at least 0.35 away (mean absolute difference) from the background's."""
    while True:
        colour = rng.uniform(0, 1, 3)
        if np.abs(colour - behind).mean() > 0.35:
            return colour


def _box(mask):
    rows, cols = np.nonzero(mask)
    return cols.min(), rows.min(), cols.max() + 1, rows.max() + 1


class ShapesDataset(Dataset):
    """`make_shapes` as a Dataset. With one shape per image (max_shapes=1) sample i is
    `(image, class_index)`, for classification; otherwise `(image, target)` with target a
    dict of `boxes`, `labels`, `masks` (instance) and `semantic_mask`, as torchvision's
    detection data sets (batch such samples with `DataLoader(..., collate_fn=list)`)."""

    classes = SHAPE_CLASSES

    def __init__(self, n, size=32, min_shapes=1, max_shapes=1, seed=None):
        data = make_shapes(n, size, min_shapes, max_shapes, seed)
        self.images, self.semantic_masks = data["images"], data["semantic_masks"]
        self.labels, self.boxes = data["labels"], data["boxes"]
        self.instance_masks = data["instance_masks"]
        self.single_shape = max_shapes == 1

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        if self.single_shape:
            return self.images[index], self.labels[index][0]
        return self.images[index], {"boxes": self.boxes[index], "labels": self.labels[index],
                                    "masks": self.instance_masks[index],
                                    "semantic_mask": self.semantic_masks[index]}


class ShapesSegmentation(Dataset):
    """Semantic segmentation on `make_shapes`: sample i is `(image, mask)`, image float32
    (3, size, size) in [0, 1], mask int64 (size, size) with 0 background and 1 + class index
    (so `num_classes` = 4 counting the background).

    `train` picks one of two disjoint streams of the same `seed`, as torchvision's
    `train=True/False`: `ShapesSegmentation(200, train=False, seed=0)` is the same fixed
    validation set in every run, and no training set of that seed shares its images.
    `transforms(image, mask)` is a joint transform (minigrad.data.transforms) applied each
    time a sample is read, so its draws differ epoch to epoch.
    """

    classes = ("background",) + SHAPE_CLASSES
    num_classes = len(classes)

    def __init__(self, n, size=64, train=True, seed=0, transforms=None, min_shapes=1,
                 max_shapes=4):
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"ShapesSegmentation: seed must be an int >= 0, got {seed!r}")
        # [seed, 0] and [seed, 1] seed independent NumPy streams: train and validation
        data = make_shapes(n, size, min_shapes, max_shapes, seed=[int(seed), 0 if train else 1])
        self.images, self.masks = data["images"], data["semantic_masks"]
        self.train, self.transforms = train, transforms

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image, mask = self.images[index], self.masks[index]
        if self.transforms is None:
            return image, mask
        image, mask = self.transforms(Image(image), Mask(mask))
        return np.asarray(image), np.asarray(mask)
