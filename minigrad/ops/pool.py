"""Pooling and unpooling over (N, C, H, W) planes.

A pooling window is the product of a row window and a column window, so each axis is
described by a table of taps: `taps[o, t]` is the input index of the t-th element of
output o's window, or -1 where the window lies in the padding (or past the end of a
shorter adaptive window). Windows are scanned row by row, as PyTorch scans them.

Max pooling finds each window's winner (its flat position h*W + w in the input plane, not
differentiable) and the winner's value in one kernel pass; its backward is a scatter to
those positions, and max unpooling IS that scatter, with a gather of the winners as its
backward (DESIGN.md rule 4). Average pooling is linear and separable per axis, so it is a
`SeparableMap` (ops/resample.py) whose weights are 1/window size.
"""
import numpy as np

from .. import kernels
from ..tensor import Function, Tensor
from .resample import separable_map


class MaxPool(Function):
    """out[n, c].flat[i] = x[n, c].flat[indices[n, c].flat[i]]: max pooling, once the kernel
    has found the winners `indices` and, in the same pass, their `values` (that gather).

    Shapes: x (N, C, H, W), values and indices (N, C, Ho, Wo), indices int64 in [0, H*W)
    -> (N, C, Ho, Wo).
    Backward: dx = scatter-add of grad to `indices` (a position that won several
    overlapping windows collects the gradient of each).
    """

    def forward(self, x, values, indices):
        self.indices, self.input_size = indices, x.shape[2:]
        return values

    def backward(self, grad):
        return kernels.scatter_planes(np.ascontiguousarray(grad), self.indices,
                                      *self.input_size, True)


class ScatterPlanes(Function):
    """out[n, c].flat[indices[n, c].flat[i]] = x[n, c].flat[i], zeros elsewhere: max unpooling.

    Shapes: x (N, C, h, w), indices (N, C, h, w) int64 in [0, H*W) -> (N, C, H, W).
    Backward: dx = grad gathered at `indices`. Where indices repeat (overlapping pooling
    windows), the forward writes one copy and every copy receives the gradient, as PyTorch.
    """

    def forward(self, x, indices, size):
        self.indices = indices
        return kernels.scatter_planes(np.ascontiguousarray(x), indices, *size, False)

    def backward(self, grad):
        return kernels.gather_planes(np.ascontiguousarray(grad), self.indices)


# --- window geometry, one axis at a time ----------------------------------------------------

def pooled_size(size, kernel, stride, padding, dilation, ceil_mode):
    """H_out = floor_or_ceil((H + 2P - D(K-1) - 1) / S) + 1; with ceil_mode a last window
    that would start in the right padding is dropped (PyTorch's rule)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def window_taps(size, kernel, stride, padding, dilation, out_size):
    """Taps of sliding windows: input index o*S - P + t*D of tap t, -1 outside [0, size)."""
    taps = (np.arange(out_size)[:, None] * stride - padding
            + np.arange(kernel)[None, :] * dilation)  # (out, K)
    return np.where((taps >= 0) & (taps < size), taps, -1)


def adaptive_taps(size, out_size):
    """Taps of adaptive windows [floor(o*size/out), ceil((o+1)*size/out)), -1 past the end."""
    o = np.arange(out_size)
    start = o * size // out_size
    end = -(-(o + 1) * size // out_size)  # ceil division
    taps = start[:, None] + np.arange((end - start).max())[None, :]  # (out, longest window)
    return np.where(taps < end[:, None], taps, -1)


def window_spans(taps):
    """(start, length) per window of its taps inside the input, which are consecutive taps:
    the window as the max-pooling kernel reads it, clipped once instead of tested per tap."""
    inside = taps >= 0
    start = taps[np.arange(len(taps)), np.argmax(inside, axis=1)]  # the first tap inside
    return start, inside.sum(axis=1)


def window_lengths(taps, include_pad):
    """The divisor of each window's mean: its taps inside the input and those `include_pad`
    (an (out, T) mask) marks. Shapes: taps (out, T) -> (out,)."""
    return ((taps >= 0) | include_pad).sum(axis=1)


def average_weights(taps, lengths):
    """Weight 1/length for each tap that reads the input, 0 for the others."""
    return np.where(taps >= 0, 1.0 / lengths[:, None], 0.0)


def integer_window_means(x, taps_h, lengths_h, taps_w, lengths_w):
    """Window means of integers as PyTorch computes them: the exact sum divided by the
    window's length, truncated toward zero (C's integer division). The sums run in float64,
    exact below 2**53; integers have no gradient, so this is no op, just an array.

    Shapes: x (N, C, H, W) integers -> (N, C, Ho, Wo) of x's dtype.
    """
    sums = kernels.separable_map(x.astype(np.float64), taps_h, (taps_h >= 0).astype(np.float64),
                                 taps_w, (taps_w >= 0).astype(np.float64))
    return np.trunc(sums / np.outer(lengths_h, lengths_w)).astype(x.dtype)


# --- the ops; arguments are pairs, checked in functional.py ---------------------------------

def max_pool_taps(x, taps_h, taps_w, dilation):
    """Max over the windows given by the taps, `dilation` apart: (values, indices), both
    (N, C, Ho, Wo), values a Tensor and indices the ndarray that its backward scatters
    through (a caller that hands them out must copy them)."""
    values, indices = kernels.window_max(np.ascontiguousarray(x.data), *window_spans(taps_h),
                                         *window_spans(taps_w), dilation)
    return MaxPool.apply(x, values=values, indices=indices), indices


def max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    """(values, indices) of max pooling with -infinity padding."""
    taps = [window_taps(size, k, s, p, d, pooled_size(size, k, s, p, d, ceil_mode))
            for size, k, s, p, d in zip(x.shape[2:], kernel_size, stride, padding, dilation)]
    return max_pool_taps(x, *taps, tuple(dilation))


def adaptive_max_pool2d(x, output_size):
    taps = [adaptive_taps(size, out) for size, out in zip(x.shape[2:], output_size)]
    return max_pool_taps(x, *taps, (1, 1))


def max_unpool2d(x, indices, output_size):
    return ScatterPlanes.apply(x, indices=indices, size=tuple(output_size))


def avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad):
    """Window means. A window is clipped to the padded input; `count_include_pad` divides by
    that clipped size, otherwise by the number of input elements in the window. Either
    count is a row count times a column count, so the weights factor per axis. Integer x
    gets PyTorch's truncated integer means (integer_window_means)."""
    axes = []
    for size, k, s, p in zip(x.shape[2:], kernel_size, stride, padding):
        taps = window_taps(size, k, s, p, 1, pooled_size(size, k, s, p, 1, ceil_mode))
        positions = np.arange(taps.shape[0])[:, None] * s - p + np.arange(k)  # (out, K)
        in_padded = (positions < size + p) & count_include_pad
        axes += [taps, window_lengths(taps, in_padded)]
    if x.dtype.kind in "iu":
        return Tensor(integer_window_means(x.data, *axes))
    taps_h, lengths_h, taps_w, lengths_w = axes
    return separable_map(x, taps_h, average_weights(taps_h, lengths_h),
                         taps_w, average_weights(taps_w, lengths_w))


def adaptive_avg_pool2d(x, output_size):
    axes = []
    for size, out in zip(x.shape[2:], output_size):
        taps = adaptive_taps(size, out)
        axes += [taps, average_weights(taps, window_lengths(taps, False))]
    return separable_map(x, *axes)
