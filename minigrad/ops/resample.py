"""Resampling: every mode of `interpolate`, and average pooling, is a linear map that acts
on rows and columns separately, out = A_h @ x @ A_w^T for each (n, c) plane.

Each axis's matrix A is stored sparsely as taps: `taps[o, t]` is the input index of the
t-th input that output o reads, `weights[o, t]` its weight, and -1 marks a tap that reads
nothing (padding, or the unused end of a shorter window). The backward of such a map is
its transpose, dx = A_h^T @ grad @ A_w: each output's gradient goes back to the inputs it
read, with the same weights.
"""
import math
from fractions import Fraction

import numpy as np

from .. import kernels
from ..tensor import Function

CUBIC_A = -0.75  # PyTorch's bicubic coefficient (Pillow uses -0.5, so results differ from PIL)


class SeparableMap(Function):
    """out[n, c] = A_h @ x[n, c] @ A_w^T with A_h, A_w given as taps and weights.

    Shapes: x (N, C, H, W); taps_h, weights_h (Ho, Th); taps_w, weights_w (Wo, Tw)
    -> (N, C, Ho, Wo).
    Backward: dx[n, c] = A_h^T @ grad[n, c] @ A_w (the transposed map).
    """

    def forward(self, x, taps_h, weights_h, taps_w, weights_w):
        weights_h, weights_w = weights_h.astype(x.dtype), weights_w.astype(x.dtype)
        self.geometry = (taps_h, weights_h, taps_w, weights_w)
        self.input_size = x.shape[2:]
        return kernels.separable_map(np.ascontiguousarray(x), *self.geometry)

    def backward(self, grad):
        return kernels.separable_map_transpose(np.ascontiguousarray(grad), *self.geometry,
                                               *self.input_size)


def separable_map(x, taps_h, weights_h, taps_w, weights_w):
    return SeparableMap.apply(x, taps_h=taps_h, weights_h=weights_h, taps_w=taps_w,
                              weights_w=weights_w)


# --- one axis of each interpolation mode: (taps, weights), both (out_size, T) ---------------

def source_scale(in_size, out_size, align_corners, scale_factor):
    """Input pixels per output pixel (ATen's area_pixel_compute_scale)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale_factor is not None:  # PyTorch keeps the scale it was given, not in/out
        return 1.0 / scale_factor
    return in_size / out_size


def identity_taps(size):
    return np.arange(size)[:, None], np.ones((size, 1))  # (size, 1)


def nearest_taps(in_size, out_size, scale_factor):
    """Output o reads input floor(o * in/out), or floor(o / scale_factor) with the scale read
    as the decimal it was written as, in exact arithmetic.

    The decimal, not the double: 0.8 is stored as 0.8000000000000000444, and 4 divided by
    that is just below 5, so floor() would read column 4 where 4 / 0.8 = 5 is meant (and is
    what PyTorch reads). A float's shortest repr is the decimal that was typed.
    """
    if in_size == out_size:  # PyTorch copies an axis that keeps its size, whatever the scale
        return identity_taps(out_size)
    if out_size == 2 * in_size:  # and reads o // 2 on an axis that doubles, whatever the scale
        source = [o // 2 for o in range(out_size)]
    elif scale_factor is None:
        source = [o * in_size // out_size for o in range(out_size)]
    else:
        ratio = Fraction(repr(float(scale_factor)))  # "0.8" -> 4/5 exactly
        source = [o * ratio.denominator // ratio.numerator for o in range(out_size)]
    taps = np.minimum(np.array(source, dtype=np.int64), in_size - 1)[:, None]  # (out, 1)
    return taps, np.ones(taps.shape)


def linear_taps(in_size, out_size, align_corners, scale_factor):
    """Two taps, floor(src) and the next pixel (clamped), weighted 1 - t and t."""
    if in_size == out_size:  # as nearest (bicubic, below, has no such shortcut in PyTorch)
        return identity_taps(out_size)
    scale = source_scale(in_size, out_size, align_corners, scale_factor)
    dst = np.arange(out_size)
    if align_corners:
        source = scale * dst
    else:  # pixel centres; a source left of the first centre clamps to it
        source = np.maximum(scale * (dst + 0.5) - 0.5, 0.0)
    low = source.astype(np.int64)  # source >= 0, so truncation is floor
    frac = source - low
    taps = np.stack([low, np.minimum(low + 1, in_size - 1)], axis=1)  # (out, 2)
    return taps, np.stack([1.0 - frac, frac], axis=1)


def cubic_weights(t):
    """Keys' cubic convolution weights of the four taps at distances t+1, t, 1-t, 2-t."""
    a = CUBIC_A

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)  # (out, 4)


def cubic_taps(in_size, out_size, align_corners, scale_factor):
    """Four taps floor(src)-1 .. floor(src)+2, clamped to the border (the source itself is not
    clamped, so outputs near the edge still weight their taps by the true distance)."""
    scale = source_scale(in_size, out_size, align_corners, scale_factor)
    dst = np.arange(out_size)
    source = scale * dst if align_corners else scale * (dst + 0.5) - 0.5
    low = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    frac = np.clip(source - low, 0.0, 1.0)
    taps = np.clip(low[:, None] + np.arange(-1, 3), 0, in_size - 1)  # (out, 4)
    return taps, cubic_weights(frac)


def interpolate(x, size, mode, align_corners, scale_factor):
    """Resample the last two axes of x (N, C, H, W) to `size` (Ho, Wo); arguments already
    checked (functional.interpolate). `scale_factor` is a pair or None."""
    scales = scale_factor or (None, None)
    axes = []
    for in_size, out_size, scale in zip(x.shape[2:], size, scales):
        if mode == "nearest":
            axes.append(nearest_taps(in_size, out_size, scale))
        elif mode == "bilinear":
            axes.append(linear_taps(in_size, out_size, align_corners, scale))
        else:
            axes.append(cubic_taps(in_size, out_size, align_corners, scale))
    (taps_h, weights_h), (taps_w, weights_w) = axes
    return separable_map(x, taps_h, weights_h, taps_w, weights_w)


def scaled_size(in_size, scale_factor):
    """PyTorch's output size for a scale factor: floor(in * scale), in float64."""
    return int(math.floor(in_size * scale_factor))
