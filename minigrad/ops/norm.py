"""Normalisation: one op for every normalisation layer.

Batch, layer, instance and group normalisation all compute x_hat = (x - mean) / sqrt(var + eps)
and differ only in which axes the statistics run over (and in their parameters, which
functional.py applies afterwards with ordinary broadcasting ops). So there is one Function,
`Normalize`, and the four layers are four choices of `axes`.

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
        x3 = x.reshape(view)  # (A, K, B)
        x_hat = x3 - mean.astype(x.dtype)[:, None]
        x_hat *= rstd.astype(x.dtype)[:, None]
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
