"""Normalisation: one op for every normalisation layer.

Batch, layer, instance and group normalisation all compute x_hat = (x - mean) / sqrt(var + eps)
and differ only in which axes the statistics run over and in the shape of their parameters.
So there is one Function, `Normalize`, and the four layers are four choices of `axes` and of
the axes along which weight and bias lie (y = x_hat * weight + bias). `ScaleShift` is that
affine step alone, for normalisation with fixed statistics (evaluation mode).

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


def _table_shape(shape, axes, axis, param_shape):
    """(Kp, Bp): parameters of `param_shape` along x's axes axis, axis + 1, ... as a table that
    the kernels index by row r % Kp of the (A*K, B) rows of x and by run b // (B / Bp) within
    a row (see kernels/reference.py).

    That needs the parameters to repeat along the (A, K, B) view: they lie along trailing kept
    axes (Kp: their size), followed by none (BatchNorm, InstanceNorm: Bp = 1), all (LayerNorm:
    Bp = B) or the leading ones (GroupNorm over (N, G, C/G, H*W): Bp = C/G) of the axes
    normalised over.
    """
    kept = [i for i in range(len(shape)) if i not in axes]
    first, last = (kept[0], kept[-1] + 1) if kept else (0, 0)
    end = axis + len(param_shape)
    if tuple(shape[axis:end]) != tuple(param_shape):
        raise ValueError(f"normalize: parameters of shape {param_shape} do not fit the axes "
                         f"{axis}..{end - 1} of input of shape {shape}")
    if not first <= axis <= last <= end:
        raise ValueError(f"normalize: parameters of shape {param_shape} along axes "
                         f"{axis}..{end - 1} of input of shape {shape} must lie along trailing "
                         f"kept axes, followed by none, some leading or all of the axes {axes} "
                         f"normalised over")
    return int(np.prod(shape[axis:last])), int(np.prod(shape[last:end]))


class Normalize(Function):
    """y = x_hat * weight + bias with x_hat = (x - mean) * rstd, the mean and
    `rstd = 1 / sqrt(var + eps)` of x over `axes`: every normalisation layer in one op.

    The statistics are computed in forward (`statistics` receives them: the float64 mean and
    biased variance, for callers that keep running buffers), and backward differentiates
    through them; use `normalize`. One op rather than a standardisation followed by an affine
    step, because together they read and write the tensor fewer times a step (measured in
    docs/performance.md).
    Shapes: x (any), weight and bias (any, Kp * Bp elements), view (A, K, B), table (Kp, Bp)
    (see _table_shape) -> y (like x); statistics gets mean and var (K,).
    backward: with g_hat = g * weight, dx = (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat))
    * rstd, means over `axes`; dweight = sum(g * x_hat), dbias = sum(g) over the elements that
    share a parameter.
    """

    def forward(self, x, weight, bias, view, table, eps, statistics):
        x3 = np.ascontiguousarray(x).reshape(view)  # (A, K, B)
        weight2 = weight.astype(x.dtype, copy=False).reshape(table)  # (Kp, Bp)
        bias2 = bias.astype(x.dtype, copy=False).reshape(table)  # (Kp, Bp)
        y, mean, var = kernels.normalize_affine(x3, weight2, bias2, eps)
        statistics.extend((mean, var))
        rstd = 1.0 / np.sqrt(var + eps)
        self.save_for_backward(x3, mean.astype(x.dtype), rstd.astype(x.dtype), weight2)
        self.param_shape = weight.shape
        return y.reshape(x.shape)

    def backward(self, grad):
        x3, mean, rstd, weight2 = self.saved_tensors
        grad3 = np.ascontiguousarray(grad).reshape(x3.shape)  # (A, K, B)
        dx, dweight, dbias = kernels.norm_affine_backward(grad3, x3, mean, rstd, weight2)
        return (dx.reshape(grad.shape), dweight.reshape(self.param_shape),
                dbias.reshape(self.param_shape))


def normalize(x, axes, weight=None, bias=None, axis=None, eps=1e-5):
    """Standardise x over `axes` with the biased variance, then x_hat * weight + bias:
    (y, mean, var).

    weight and bias lie along x's axes axis, axis + 1, ... (as in `scale_shift`; see
    _table_shape for where they may lie); None means 1 and 0 (no gradient). y is a Tensor
    like x; mean and var are float64 ndarrays of shape (K,), one entry per independent
    statistic in the order of the kept axes (for callers that keep running stats).
    """
    axes = normalize_axis(axes, x.ndim)
    view = _kernel_shape(x.shape, axes)
    if weight is None and bias is None:
        table = (1, 1)
        weight, bias = np.ones(table, x.dtype), np.zeros(table, x.dtype)
    else:
        shape = tuple((bias if weight is None else weight).shape)
        table = _table_shape(x.shape, axes, axis, shape)
        weight = np.ones(shape, x.dtype) if weight is None else weight
        bias = np.zeros(shape, x.dtype) if bias is None else bias
    statistics = []  # Normalize's forward puts the mean and the variance here
    y = Normalize.apply(x, weight, bias, view=view, table=table, eps=eps, statistics=statistics)
    mean, var = statistics
    return y, mean, var


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
