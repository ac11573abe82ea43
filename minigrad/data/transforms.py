"""Joint transforms for an image and its mask, with torchvision.transforms.v2's names and call
convention: `transform(image, mask)` returns `(image, mask)`, both moved by the same random
draw (one flip, one crop), so the mask stays on the pixels it labels.

What an input is decides what happens to it, as v2's `tv_tensors`: an `Image` is resampled
bilinearly and normalised, a `Mask` (class indices) is resampled by nearest neighbour and
never normalised or rescaled. A plain ndarray counts as the image when no `Image` is given
(v2's rule for a pure tensor); any other input passes through untouched. Arrays are NumPy,
channels first: Image (C, H, W), Mask (H, W) or (1, H, W); `DataLoader` turns them into
Tensors when it batches.

Random draws come from minigrad's generators (`generator=`, default the global one that
`mg.manual_seed` seeds), so an augmented run repeats exactly.
"""
import math

import numpy as np

from .. import functional as F
from ..random import rng
from ..tensor import Tensor


class Image(np.ndarray):
    """An ndarray marked as an image (C, H, W): `Image(array)`, as v2's tv_tensors.Image."""

    def __new__(cls, array):
        return np.asarray(array).view(cls)


class Mask(np.ndarray):
    """An ndarray marked as a segmentation mask of class indices: (H, W) or (1, H, W)."""

    def __new__(cls, array):
        return np.asarray(array).view(cls)


def _kinds(inputs):
    """Per input: "image", "mask" or None (passed through), by type and v2's heuristic."""
    has_image = any(isinstance(x, Image) for x in inputs)
    kinds, image_seen = [], has_image
    for x in inputs:
        if isinstance(x, Image):
            kinds.append("image")
        elif isinstance(x, Mask):
            kinds.append("mask")
        elif isinstance(x, np.ndarray) and not image_seen:
            kinds.append("image")  # the first plain array is the image
            image_seen = True
        else:
            kinds.append(None)
    return kinds


class Transform:
    """Base class. A subclass draws its random parameters once per call in `params(image)`
    (from the first image's size) and applies them to each input in `transform(x, kind,
    params)`; inputs of kinds it does not touch pass through. A `geometric` transform moves
    pixels, so its image and mask must have the same height and width."""

    geometric = False

    def params(self, image):
        return {}

    def transform(self, x, kind, params):
        raise NotImplementedError(f"{type(self).__name__} must define transform")

    def __call__(self, *inputs):
        kinds = _kinds(inputs)
        if "image" not in kinds and "mask" not in kinds:
            raise TypeError(f"{type(self).__name__}: no image or mask among the inputs "
                            f"({', '.join(type(x).__name__ for x in inputs)}); expected "
                            f"ndarrays (Image, Mask or plain)")
        sizes = {x.shape[-2:] for x, kind in zip(inputs, kinds) if kind is not None}
        if self.geometric and len(sizes) > 1:
            raise ValueError(f"{type(self).__name__}: the image and mask must have the same "
                             f"height and width, got sizes {sorted(sizes)}")
        first = next(x for x, kind in zip(inputs, kinds) if kind is not None)
        params = self.params(first)
        outputs = tuple(x if kind is None else self.transform(x, kind, params)
                        for x, kind in zip(inputs, kinds))
        return outputs[0] if len(outputs) == 1 else outputs

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({fields})"


class Compose:
    """Apply `transforms` in order to the same inputs: `Compose([...])(image, mask)`."""

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)) or not all(callable(t) for t in transforms):
            raise TypeError(f"Compose: transforms must be a list of callables, got "
                            f"{transforms!r}")
        self.transforms = list(transforms)

    def __call__(self, *inputs):
        for t in self.transforms:
            inputs = t(*inputs)
            inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        return inputs[0] if len(inputs) == 1 else inputs

    def __repr__(self):
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"


def _keep_kind(result, like):
    return type(like)(result) if isinstance(like, (Image, Mask)) else np.asarray(result)


def _check_probability(owner, p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{owner}: p must be a probability in [0, 1], got {p!r}")


class _RandomFlip(Transform):
    """Mirror along `axis` with probability p, image and mask together."""

    geometric = True
    axis = None

    def __init__(self, p=0.5, generator=None):
        _check_probability(type(self).__name__, p)
        self.p, self.generator = p, generator

    def params(self, image):
        return {"flip": rng(self.generator).random() < self.p}

    def transform(self, x, kind, params):
        return _keep_kind(np.flip(x, axis=self.axis).copy(), x) if params["flip"] else x


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right (the last axis) with probability p, image and mask together."""

    axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom (the second last axis) with probability p, image and mask together."""

    axis = -2


def _pair(owner, name, value):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"{owner}: {name} must be a positive int or a pair (h, w) of them, "
                         f"got {value!r}")
    return pair


def _range(owner, name, value):
    low, high = value
    if not 0 < low <= high:
        raise ValueError(f"{owner}: {name} must be (low, high) with 0 < low <= high, got "
                         f"{value!r}")
    return float(low), float(high)


class RandomResizedCrop(Transform):
    """Crop a random area and aspect ratio, then resize it to `size`, as v2's.

    The crop's area is a uniform fraction in `scale` of the image's and its aspect ratio
    w/h log-uniform in `ratio`; 10 draws are tried for a crop that fits, else the largest
    central crop with the ratio clipped into `ratio`. The image is resized bilinearly
    (align_corners=False), the mask by nearest neighbour so that it keeps class indices.
    Shapes: image (C, H, W) -> (C, *size); mask (H, W) -> size.

    `antialias`: torchvision's default is True (a low-pass filter before downsampling);
    minigrad's interpolate has no antialiasing, so only antialias=False is accepted and it
    is the default here.
    """

    geometric = True

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), interpolation="bilinear",
                 antialias=False, generator=None):
        owner = "RandomResizedCrop"
        self.size = _pair(owner, "size", size)
        self.scale, self.ratio = _range(owner, "scale", scale), _range(owner, "ratio", ratio)
        if interpolation not in ("bilinear", "nearest", "bicubic"):
            raise ValueError(f"{owner}: interpolation must be 'bilinear', 'nearest' or "
                             f"'bicubic', got {interpolation!r}")
        if antialias:
            raise NotImplementedError(f"{owner}: antialias=True is not supported (minigrad's "
                                      f"interpolate does not antialias); pass antialias=False")
        self.interpolation, self.antialias, self.generator = interpolation, antialias, generator

    def params(self, image):
        """The crop (top, left, height, width) in pixels."""
        H, W = image.shape[-2:]
        draws = rng(self.generator)
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            area = H * W * draws.uniform(*self.scale)
            aspect = math.exp(draws.uniform(*log_ratio))
            w, h = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if 0 < w <= W and 0 < h <= H:
                top, left = int(draws.integers(0, H - h + 1)), int(draws.integers(0, W - w + 1))
                return {"crop": (top, left, h, w)}
        # no draw fitted: the whole image, cut to the nearest allowed aspect ratio
        if W / H < self.ratio[0]:
            w, h = W, round(W / self.ratio[0])
        elif W / H > self.ratio[1]:
            w, h = round(H * self.ratio[1]), H
        else:
            w, h = W, H
        return {"crop": ((H - h) // 2, (W - w) // 2, h, w)}

    def transform(self, x, kind, params):
        return _keep_kind(resized_crop(x, *params["crop"], self.size,
                                       "nearest" if kind == "mask" else self.interpolation), x)


def resized_crop(x, top, left, height, width, size, mode):
    """Rows top..top+height and columns left..left+width of `x`, resized to `size` (h, w)
    with F.interpolate's `mode`. Shapes: (..., H, W) -> (..., *size); dtype kept."""
    crop = np.asarray(x)[..., top:top + height, left:left + width]
    lead = crop.shape[:-2]
    planes = crop.reshape(1, -1, height, width)  # (1, prod(lead), height, width)
    resized = F.interpolate(Tensor(planes.astype(np.float64)), size=tuple(size), mode=mode,
                            align_corners=None if mode == "nearest" else False).data
    return resized.reshape(*lead, *size).astype(crop.dtype)  # (..., h, w)


class Normalize(Transform):
    """(image - mean) / std per channel; masks pass through. Shapes: image (C, H, W)."""

    def __init__(self, mean, std):
        self.mean, self.std = list(mean), list(std)
        if len(self.mean) != len(self.std) or any(s <= 0 for s in self.std):
            raise ValueError(f"Normalize: mean and std need one value per channel and std "
                             f"> 0, got mean={mean!r}, std={std!r}")

    def transform(self, x, kind, params):
        if kind != "image":
            return x
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a float image, got dtype {x.dtype}; "
                            f"convert it first with ToDtype(np.float32, scale=True)")
        if x.ndim != 3 or x.shape[0] != len(self.mean):
            raise ValueError(f"Normalize: expected an image (C, H, W) with C = "
                             f"{len(self.mean)}, got shape {x.shape}")
        mean = np.asarray(self.mean, x.dtype)[:, None, None]  # (C, 1, 1)
        std = np.asarray(self.std, x.dtype)[:, None, None]
        return _keep_kind((np.asarray(x) - mean) / std, x)


class ToImage(Transform):
    """A plain array image becomes an `Image` (C, H, W): (H, W, C) is moved channels first,
    (H, W) gets one channel, as v2 reads NumPy images. An Image is left as it is."""

    def transform(self, x, kind, params):
        if kind != "image" or isinstance(x, Image):
            return x
        if x.ndim == 2:
            return Image(x[None])  # (1, H, W)
        if x.ndim != 3:
            raise ValueError(f"ToImage: expected an (H, W, C) or (H, W) array, got shape "
                             f"{x.shape}")
        return Image(np.ascontiguousarray(x.transpose(2, 0, 1)))  # (C, H, W)


class ToDtype(Transform):
    """Convert to `dtype`: a single dtype converts images only (as v2); a dict {Image: ...,
    Mask: ..., "others": ...} converts each kind (None: leave it). With `scale`, an image's
    values are rescaled between the integer range [0, max] and the float range [0, 1]."""

    def __init__(self, dtype, scale=False):
        self.dtype, self.scale = dtype, scale

    def _target(self, kind):
        if not isinstance(self.dtype, dict):
            return self.dtype if kind == "image" else None
        key = {"image": Image, "mask": Mask}[kind]
        return self.dtype.get(key, self.dtype.get("others"))

    def transform(self, x, kind, params):
        dtype = self._target(kind)
        if dtype is None:
            return x
        dtype, array = np.dtype(dtype), np.asarray(x)
        if self.scale and kind == "image" and array.dtype.kind != dtype.kind:
            if array.dtype.kind in "ui" and dtype.kind == "f":
                array = array / np.iinfo(array.dtype).max
            elif array.dtype.kind == "f" and dtype.kind in "ui":
                # as v2: [0, 1] spread over max + 1 equal bins, 1.0 in the top one
                array = array * (np.iinfo(dtype).max + 1.0 - 1e-3)
        return _keep_kind(array.astype(dtype), x)
