"""Normalisation: one op for every normalisation layer.

Batch, layer, instance and group normalisation all compute x_hat = (x - mean) / sqrt(var + eps)
and differ only in which axes the statistics run over and in the shape of their parameters.
So there is one Function, `Normalize`, and the four layers are four choices of `axes`,
followed by one `ScaleShift` (x_hat * weight + bias) whose parameters lie along some of
x's axes.

The kernels see every input as a 3-D array (A, K, B): K counts the independent statistics,
A and B the axes reduced before and after them. BatchNorm on (N, C, H, W) is (N, C, H*W);
LayerNorm over (C, H, W) is (1, N, C*H*W); InstanceNorm is (1, N*C, H*W). This works because
every normalisation keeps a contiguous block of axes.
"""
import numpy as np

from .. import kernels
from ..tensor import Function
from .reduce import normalize_axis


def _kernel_shape(shape, axes):
    """(A, K, B) such that reshaping x of `shape` to it puts the kept axes in the middle."""
    kept = [i for i in range(len(shape)) if i not in axes]
    if kept and kept != list(range(kept[0], kept[-1] + 1)):
        raise ValueError(f"normalize: the axes kept by axes={axes} in shape {shape} must be "
                         f"contiguous, so that the statistics form one block")
    first, last = (kept[0], kept[-1] + 1) if kept else (0, 0)
    return (int(np.prod(shape[:first])), int(np.prod(shape[first:last])),
            int(np.prod(shape[last:])))


class Normalize(Function):
    """x_hat = (x - mean) * rstd, given `mean` and `rstd = 1 / sqrt(var + eps)` of x over `axes`.

    The statistics come in as constants, but they are functions of x, and backward
    differentiates through them; use `normalize`, which computes them.
    Shapes: x (any), mean and rstd (K,) for the (A, K, B) view -> x_hat (like x).
    backward: dx = (g - mean(g) - x_hat * mean(g * x_hat)) * rstd, means over `axes`.
    """

    def forward(self, x, mean, rstd, view):
        x3 = np.ascontiguousarray(x).reshape(view)  # (A, K, B)
        x_hat = kernels.standardize(x3, mean.astype(x.dtype), rstd.astype(x.dtype))
        self.save_for_backward(x_hat, rstd)
        return x_hat.reshape(x.shape)

    def backward(self, grad):
        x_hat, rstd = self.saved_tensors
        grad3 = np.ascontiguousarray(grad).reshape(x_hat.shape)  # (A, K, B)
        return kernels.norm_backward(grad3, x_hat, rstd).reshape(grad.shape)


def normalize(x, axes, eps=1e-5):
    """Standardise x over `axes` with the biased variance: (x_hat, mean, var).

    x_hat is a Tensor like x; mean and var are float64 ndarrays of shape (K,), one entry per
    independent statistic in the order of the kept axes (for callers that keep running stats).
    """
    axes = normalize_axis(axes, x.ndim)
    view = _kernel_shape(x.shape, axes)
    mean, var = kernels.norm_moments(np.ascontiguousarray(x.data).reshape(view))
    rstd = 1.0 / np.sqrt(var + eps)
    return Normalize.apply(x, mean=mean, rstd=rstd, view=view), mean, var


class ScaleShift(Function):
    """y = x * weight + bias, one weight and bias per slice p of the (A, P, B) view of x.

    The affine step of every normalisation layer. It is the same map as a broadcasting mul
    and add, made one op so that its backward reads the gradient once for all three results
    instead of twice more for the un-broadcasting sums (the mul and add cost as much as
    `Normalize` itself).
    Shapes: x (any), weight and bias (any, P elements), view (A, P, B) -> y (like x).
    backward: dx = g * weight, dweight = sum(g * x), dbias = sum(g), sums over A and B.
    """

    def forward(self, x, weight, bias, view):
        x3 = np.ascontiguousarray(x).reshape(view)  # (A, P, B)
        self.save_for_backward(x3, weight)
        y = kernels.scale_shift(x3, weight.astype(x.dtype, copy=False).reshape(-1),
                                bias.astype(x.dtype, copy=False).reshape(-1))  # (P,) each
        return y.reshape(x.shape)

    def backward(self, grad):
        x3, weight = self.saved_tensors
        grad3 = np.ascontiguousarray(grad).reshape(x3.shape)  # (A, P, B)
        dx, dweight, dbias = kernels.scale_shift_backward(
            grad3, x3, weight.astype(grad.dtype, copy=False).reshape(-1))  # (P,)
        return dx.reshape(grad.shape), dweight.reshape(weight.shape), dbias.reshape(weight.shape)


def scale_shift(x, weight, bias, axis):
    """x * weight + bias with the parameters' axes lying along x's axes axis, axis + 1, ...

    weight=None means 1 and bias=None means 0 (no gradient); both None returns x.
    Shapes: x (..., *S, ...) with S = weight.shape = bias.shape starting at `axis` -> like x.
    """
    if weight is None and bias is None:
        return x
    shape = tuple((bias if weight is None else weight).shape)
    end = axis + len(shape)
    if x.shape[axis:end] != shape:
        raise ValueError(f"scale_shift: parameters of shape {shape} do not fit the axes "
                         f"{axis}..{end - 1} of input of shape {x.shape}")
    view = (int(np.prod(x.shape[:axis])), int(np.prod(shape)), int(np.prod(x.shape[end:])))
    weight = np.ones(shape, x.dtype) if weight is None else weight
    bias = np.zeros(shape, x.dtype) if bias is None else bias
    return ScaleShift.apply(x, weight, bias, view=view)
