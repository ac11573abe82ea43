"""torch.nn.functional, by name: argument checking and normalisation at the boundary,
then a call into ops/. `import minigrad.functional as F` (also `minigrad.nn.functional`).

Each section belongs to one op family; errors name the argument and the shapes.
"""
import numbers as _numbers
import os as _os
import warnings as _warnings

import numpy as _np

from .ops.linalg import matmul as _matmul
from .ops import sigmoid, tanh  # noqa: F401  (re-exported)
from . import ops as _ops
from .ops import activation as _activation
from .ops import pool as _pool
from .ops import resample as _resample
from .ops.reduce import normalize_axis as _normalize_axis
from .tensor import Tensor as _Tensor
from .random import rng as _rng


def linear(x, weight, bias=None):
    """x @ weight.T + bias.  Shapes: x (*, in), weight (out, in), bias (out,) -> (*, out)."""
    if weight.ndim != 2 or x.shape[-1:] != weight.shape[1:]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{weight.shape}; expected weight (out_features, {x.shape[-1]})")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"linear: bias of shape {bias.shape} does not fit weight of shape "
                         f"{weight.shape}; expected ({weight.shape[0]},)")
    out = _matmul(x, weight.T)
    return out if bias is None else out + bias


# --- activations, softmax, dropout and normalize ------------------------------------------
# `inplace=True` is accepted for PyTorch's signatures and computed out of place: the result
# is a new tensor, the input is unchanged (writing into an input the graph saved for backward
# would corrupt its gradient).

def relu(input, inplace=False):
    """max(x, 0); gradient 0 at 0, as PyTorch.  Shapes: any -> same."""
    return _ops.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x.  Shapes: any -> same."""
    return _ops.leaky_relu(input, negative_slope=float(negative_slope))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clip(x, min_val, max_val); the gradient passes strictly inside (min_val, max_val).
    Shapes: any -> same."""
    if not min_val <= max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val="
                         f"{min_val} and max_val={max_val}")
    return _activation.hardtanh(input, float(min_val), float(max_val))


def relu6(input, inplace=False):
    """min(max(x, 0), 6) = hardtanh(x, 0, 6): gradient 1 strictly inside (0, 6), else 0."""
    return hardtanh(input, 0.0, 6.0)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha (e^x - 1); gradient alpha e^x for x <= 0 (alpha at 0, as
    PyTorch).  Shapes: any -> same."""
    return _activation.elu(input, float(alpha))


def silu(input, inplace=False):
    """x * sigmoid(x) (swish).  Shapes: any -> same."""
    return _activation.silu(input)


def hardsigmoid(input, inplace=False):
    """clip(x / 6 + 1/2, 0, 1), the piecewise-linear sigmoid; gradient 1/6 strictly inside
    (-3, 3).  Shapes: any -> same."""
    return _activation.hardsigmoid(input)


def hardswish(input, inplace=False):
    """x * hardsigmoid(x) (MobileNetV3); gradient x/3 + 1/2 on (-3, 3), 0 at and below -3,
    1 from 3 on, as PyTorch.  Shapes: any -> same."""
    return _activation.hardswish(input)


def gelu(x, approximate="none"):
    """x * Phi(x) with Phi the standard normal CDF (the exact erf form, PyTorch's default)."""
    if approximate != "none":
        raise NotImplementedError(f"gelu: approximate={approximate!r} is not supported; "
                                  f"only the exact form, approximate='none'")
    return _ops.gelu(x)


def _softmax_dim(name, ndim, dim, axis, stacklevel):
    """The dim to normalise over: `dim`, its alias `axis`, or PyTorch's deprecated implicit
    choice (0 for 0-, 1- and 3-d inputs, else 1) with PyTorch's warning."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name}: got both dim={dim} and its alias axis={axis}; give one")
        dim = axis
    if dim is None:
        _warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                       f"call to include dim=X as an argument.", stacklevel=stacklevel)
        return 0 if ndim in (0, 1, 3) else 1
    if isinstance(dim, bool) or not isinstance(dim, (int, _np.integer)):
        raise TypeError(f"{name}: dim must be an int, got {dim!r}")
    return _normalize_axis(dim, ndim)[0]  # in range, or DimOutOfRange naming dim and ndim


def _softmax_input(input, dtype):
    """input as a Tensor, cast to `dtype` first if given (PyTorch's dtype argument)."""
    input = _as_tensor(input)
    return input if dtype is None else _ops.astype(input, dtype)


def softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):
    """e^x / sum(e^x) along `dim` (alias `axis`), computed with the max subtracted.
    Shapes: any -> same.  Backward: s * (g - sum(g * s))."""
    input = _softmax_input(input, dtype)
    return _ops.softmax(input, _softmax_dim("softmax", input.ndim, dim, axis, _stacklevel))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):
    """x - log(sum(e^x)) along `dim` (alias `axis`), via log-sum-exp.
    Shapes: any -> same.  Backward: g - softmax(x) * sum(g)."""
    input = _softmax_input(input, dtype)
    return _ops.log_softmax(input,
                            _softmax_dim("log_softmax", input.ndim, dim, axis, _stacklevel))


def _dropout(name, x, p, training, mask_shape):
    """Inverted dropout with one Bernoulli(1 - p) draw per element of `mask_shape` (which
    broadcasts to x), kept elements scaled by 1/(1-p); x itself in eval or with p = 0."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: p must be a probability in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    keep = _rng().random(mask_shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)  # p = 1 drops everything, as PyTorch
    return _ops.mul(x, (keep * scale).astype(x.dtype))


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p), so
    the expected output equals x and evaluation needs no rescaling.  Shapes: any -> same.

    The mask comes from `mg.rng()`; in eval (training=False) or with p=0, x is returned.
    """
    return _dropout("dropout", input, p, training, input.shape)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout: zero each whole channel (one draw per sample and channel) with
    probability p, scale the rest by 1/(1-p).  Shapes: (N, C, H, W) -> same.

    As PyTorch 2.x, a 3-d input is taken as (N, C, L) (a warning says so) and other ranks
    of at least 2 drop per (N, C) entry with a deprecation warning.
    """
    ndim = len(input.shape)
    if ndim < 2:
        raise ValueError(f"dropout2d: input of shape {tuple(input.shape)} has no channel "
                         f"axis; expected (N, C, H, W)")
    if ndim == 3:
        _warnings.warn("dropout2d: received a 3-d input; as PyTorch, it is taken as (N, C, L) "
                       "and whole rows x[n, c] are dropped (use dropout1d for that, or "
                       "unsqueeze a (C, H, W) sample to (1, C, H, W))", stacklevel=2)
    elif ndim != 4:
        _warnings.warn(f"dropout2d: received a {ndim}-d input, which PyTorch deprecates; "
                       f"expected (N, C, H, W)", stacklevel=2)
    return _dropout("dropout2d", input, p, training, tuple(input.shape[:2]) + (1,) * (ndim - 2))


def one_hot(tensor, num_classes=-1):
    """Class indices as one-hot vectors: out[..., c] = 1 if tensor[...] == c else 0, int64,
    no gradient. num_classes=-1 takes max(tensor) + 1.  Shapes: (*) -> (*, num_classes)."""
    index = tensor.data if isinstance(tensor, _Tensor) else _np.asarray(tensor)
    if index.dtype.kind not in "iu":
        raise TypeError(f"one_hot: tensor must hold integer class indices, got dtype "
                        f"{index.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, _np.integer)):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if num_classes == -1:
        if index.size == 0:
            raise ValueError(f"one_hot: cannot infer the number of classes from an empty "
                             f"tensor of shape {index.shape}; pass num_classes")
        num_classes = int(index.max()) + 1
    if index.size and index.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {index.min()}")
    if index.size and index.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes="
                         f"{num_classes}, got {index.max()}")
    return _Tensor((index[..., None] == _np.arange(num_classes)).astype(_np.int64))


def _power_of_nonnegative(t, exponent):
    """t ** exponent for t >= 0, with gradient 0 where t == 0. The slope of t^e is infinite
    at 0 for e < 1, and inf * 0 = nan would spoil the whole gradient, so zeros are routed
    around the power (PyTorch's norm backward is finite there too)."""
    positive = t.data > 0
    return _ops.where(positive, _ops.pow(_ops.where(positive, t, 1.0), exponent), 0.0)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p, eps) along `dim` (int or tuple): unit vectors, zero vectors stay 0.

    ||x||_p = (sum |x|^p)^(1/p), or max |x| for p = inf.  Shapes: any -> same.
    """
    x = _as_tensor(input)
    if p == float("inf"):
        norm = _ops.max(_ops.abs(x), dim, True)
    elif p > 0:
        total = _ops.sum(_power_of_nonnegative(_ops.abs(x), float(p)), dim, True)
        norm = _power_of_nonnegative(total, 1.0 / p)
    else:
        raise NotImplementedError(f"normalize: p={p} is not supported; expected p > 0 or inf")
    return _ops.div(x, _ops.clip(norm, min=eps))


# --- losses -------------------------------------------------------------------------------

def _as_tensor(x):
    return x if isinstance(x, _Tensor) else _Tensor(x)


def _constant(name, value, dtype):
    """A non-differentiable argument (class weights, running stats) as an ndarray of dtype."""
    if isinstance(value, _Tensor):
        if value.requires_grad:
            raise NotImplementedError(f"{name}: gradients with respect to {name} are not "
                                      f"supported; pass it detached")
        value = value.data
    return _np.asarray(value, dtype=dtype)


def _reduce(loss, reduction, name, denominator=None):
    """Apply `reduction` to per-element losses; "mean" divides by `denominator` if given."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction != "mean":
        raise ValueError(f"{name}: reduction must be 'none', 'mean' or 'sum', "
                         f"got {reduction!r}")
    if denominator is None and loss.numel():
        return loss.mean()
    if not denominator:  # no element, or every target ignored: 0/0 is nan (gradient 0), as
        return loss.sum() * 0.0 + _np.nan  # PyTorch
    return loss.sum() * (1.0 / denominator)


def _class_rows(name, x, target):
    """Logits (N, C, *) and targets (N, *) as rows (M, C) and (M,), class axis last."""
    x = _as_tensor(x)
    target = target.data if isinstance(target, _Tensor) else _np.asarray(target)
    if target.dtype.kind == "f":
        raise NotImplementedError(f"{name}: class-probability targets (a float target of "
                                  f"shape {target.shape}) are not supported; give class indices")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got {target.dtype}")
    if x.ndim == 1:  # one unbatched sample: (C,) logits and a scalar target
        x, target = _ops.reshape(x, (1, x.shape[0])), target.reshape(1)
    if x.ndim < 2 or target.shape != x.shape[:1] + x.shape[2:]:
        raise ValueError(f"{name}: input of shape {x.shape} needs target of shape "
                         f"{x.shape[:1] + x.shape[2:]} (input without the class axis 1), "
                         f"got target of shape {target.shape}")
    if x.ndim > 2:
        x = _ops.permute(x, (0, *range(2, x.ndim), 1))  # (N, *, C)
    rows = _ops.reshape(x, (-1, x.shape[-1]))  # (M, C)
    return rows, target.reshape(-1)  # (M,)


def _class_weight(name, weight, n_classes, dtype):
    if weight is None:
        return _np.ones(n_classes, dtype=dtype)
    weight = _constant("weight", weight, dtype)
    if weight.shape != (n_classes,):
        raise ValueError(f"{name}: weight of shape {weight.shape} does not fit {n_classes} "
                         f"classes; expected ({n_classes},)")
    return weight


def cross_entropy(logits, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross entropy against integer class indices, fused (one op, stable).

    Shapes: logits (N, C) or (N, C, *) (a class score per position), target (N,) or (N, *)
    -> per position (reduction="none") or a scalar. With class weights w, "mean" divides by
    sum(w[target]) over the positions not ignored, and label smoothing e mixes in e/C of the
    uniform distribution (weighted by w), as PyTorch. No backward to `weight`.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], "
                         f"got {label_smoothing}")
    rows, target_rows = _class_rows("cross_entropy", logits, target)
    class_weight = _class_weight("cross_entropy", weight, rows.shape[1], rows.dtype)
    safe, keep, target_weight = _ops.class_targets(target_rows, rows.shape[1], class_weight,
                                                   ignore_index)
    loss = _ops.cross_entropy(rows, safe, keep, class_weight, float(label_smoothing))
    loss = _ops.reshape(loss, _np.shape(target))  # (N, *)
    return _reduce(loss, reduction, "cross_entropy", target_weight.sum())


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities `input` at the target classes.

    Shapes: input (N, C) or (N, C, *), target (N,) or (N, *) -> per position or a scalar;
    "mean" divides by sum(weight[target]) over the positions not ignored, as PyTorch.
    """
    rows, target_rows = _class_rows("nll_loss", input, target)
    class_weight = _class_weight("nll_loss", weight, rows.shape[1], rows.dtype)
    safe, _, target_weight = _ops.class_targets(target_rows, rows.shape[1], class_weight,
                                                ignore_index)
    loss = _ops.reshape(_ops.nll_loss(rows, safe, target_weight), _np.shape(target))  # (N, *)
    return _reduce(loss, reduction, "nll_loss", target_weight.sum())


def _difference(name, input, target):
    """input - target (both differentiable), warning like PyTorch when they broadcast."""
    input, target = _as_tensor(input), _as_tensor(target)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input has dtype {input.dtype}; expected a floating-point dtype")
    try:
        _np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(f"{name}: target of shape {target.shape} does not fit the input's "
                         f"shape {input.shape}; expected the same shape") from None
    if input.shape != target.shape:
        _warnings.warn(f"{name}: target shape {target.shape} differs from input shape "
                       f"{input.shape}; they are broadcast, which is rarely what you want",
                       stacklevel=3)
    return input - target


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2, reduced.  Shapes: input, target (any, the same) -> reduced."""
    diff = _difference("mse_loss", input, target)
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """|input - target|, reduced (gradient 0 where they are equal, as PyTorch)."""
    return _reduce(_difference("l1_loss", input, target).abs(), reduction, "l1_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Huber-like: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target).

    beta = 0 gives l1_loss.  Shapes: input, target (any, the same) -> reduced.
    """
    if not beta >= 0:  # NaN fails this too
        raise ValueError(f"smooth_l1_loss: beta must be a number >= 0, got {beta}")
    diff = _difference("smooth_l1_loss", input, target)
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction, "smooth_l1_loss")
    loss = _ops.where(size.data < beta, diff * diff * (0.5 / beta), size - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def _elementwise_weight(name, arg, value, input):
    """A constant weight (None: 1) as an ndarray of input's dtype that broadcasts to input's
    shape without enlarging it."""
    if value is None:
        return _np.asarray(1.0, input.dtype)
    weight = _constant(arg, value, input.dtype)
    try:
        fits = _np.broadcast_shapes(weight.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {arg} of shape {weight.shape} does not broadcast to the "
                         f"input's shape {input.shape}")
    return weight


def _same_shape(name, input, target):
    input, target = _as_tensor(input), _as_tensor(target)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input has dtype {input.dtype}; expected a floating-point dtype")
    if input.shape != target.shape:
        raise ValueError(f"{name}: target of shape {target.shape} must have the input's "
                         f"shape {input.shape}")
    return input, target


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-weight (t log p + (1 - t) log(1 - p)) for probabilities p = input, each log clamped
    at -100 as PyTorch (so p = 0 or 1 gives a finite loss).

    Shapes: input, target (any, the same); weight broadcasts to input -> reduced.
    Differentiates input and target; weight is a constant. For logits, use
    binary_cross_entropy_with_logits (stable, and no clamp).
    """
    input, target = _same_shape("binary_cross_entropy", input, target)
    if not ((input.data >= 0) & (input.data <= 1)).all():
        raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1], got "
                         f"values from {_np.nanmin(input.data)} to {_np.nanmax(input.data)} "
                         f"(for logits use binary_cross_entropy_with_logits)")
    weight = _elementwise_weight("binary_cross_entropy", "weight", weight, input)
    loss = _ops.binary_cross_entropy(input, target, weight)
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross entropy of sigmoid(input) against target, computed stably from logits.

    Shapes: input, target (any, the same); weight broadcasts to input; pos_weight (a weight
    for the positive term) broadcasts along the last axis (one per class) -> reduced.
    Differentiates input and target; weight and pos_weight are constants.
    """
    name = "binary_cross_entropy_with_logits"
    input, target = _same_shape(name, input, target)
    loss = _ops.binary_cross_entropy_with_logits(
        input, target, weight=_elementwise_weight(name, "weight", weight, input),
        pos_weight=_elementwise_weight(name, "pos_weight", pos_weight, input))
    return _reduce(loss, reduction, name)


# --- convolution --------------------------------------------------------------------------
# Argument checking and unbatched inputs are handled in ops/conv.py, which conv_matrix
# shares; the functions are re-exported here under PyTorch's names.
from .ops.conv import conv2d, conv_transpose2d  # noqa: E402,F401


# --- pooling, unpooling and upsampling ----------------------------------------------------
# Arguments are checked and made into pairs here; ops/pool.py and ops/resample.py take pairs.

def _pool_pair(fn, name, value, minimum):
    """An int or a pair of ints, as a pair, each at least `minimum`."""
    pair = (value, value) if isinstance(value, (int, _np.integer)) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(
            isinstance(v, (int, _np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{fn}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in pair)


def _as_planes(fn, x, integers=False, empty_channels=False):
    """(x as (N, C, H, W), whether it was one unbatched (C, H, W) sample, as PyTorch allows),
    checked here so that the kernels may assume it: a floating-point dtype, or an integer one
    where `integers` (ops that PyTorch also computes on integers); no empty plane, and as in
    PyTorch no empty channel axis unless `empty_channels` (only the batch may be empty)."""
    x = x if isinstance(x, _Tensor) else _Tensor(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: input must have shape (N, C, H, W) or (C, H, W), "
                         f"got shape {x.shape}")
    if x.dtype.kind not in ("fiu" if integers else "f"):
        expected = "a floating-point or integer" if integers else "a floating-point"
        raise TypeError(f"{fn}: input has dtype {x.dtype}; expected {expected} dtype")
    shape = x.shape
    x, unbatched = (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)
    if min(x.shape[2:]) == 0 or (x.shape[1] == 0 and not empty_channels):
        axes = "H and W" if empty_channels else "C, H and W"
        raise ValueError(f"{fn}: input of shape {shape} is empty; expected {axes} of at least "
                         f"1 (only the batch axis may be 0)")
    return x, unbatched


def _pool_geometry(fn, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Checked (kernel, stride, padding, dilation) pairs for a sliding-window pool."""
    kernel = _pool_pair(fn, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pool_pair(fn, "stride", stride, 1)
    padding = _pool_pair(fn, "padding", padding, 0)
    dilation = _pool_pair(fn, "dilation", dilation, 1)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{fn}: padding {padding} must be at most half of kernel_size {kernel}")
    size = x.shape[2:]
    out = tuple(_pool.pooled_size(*args, ceil_mode)
                for args in zip(size, kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ValueError(f"{fn}: input of shape {x.shape} gives an output of size {out} "
                         f"with kernel_size {kernel}, stride {stride}, padding {padding} "
                         f"and dilation {dilation}; expected at least 1x1")
    for args in zip(size, kernel, stride, padding, dilation, out):
        if not (_pool.window_taps(*args) >= 0).any(axis=1).all():
            # possible only with dilation: every tap of a window falls in the padding
            raise ValueError(f"{fn}: with kernel_size {kernel}, padding {padding} and "
                             f"dilation {dilation}, a window on the input of shape {x.shape} "
                             f"holds padding only; expected every window to reach the input")
    return kernel, stride, padding, dilation


def _adaptive_size(fn, x, output_size):
    """output_size as a pair; None keeps that input size."""
    if output_size is None or isinstance(output_size, (int, _np.integer)):
        output_size = (output_size, output_size)
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
        raise ValueError(f"{fn}: output_size must be an int or a pair, got {output_size!r}")
    size = tuple(n if out is None else out for n, out in zip(x.shape[2:], output_size))
    return _fits_in_memory(fn, "output_size", x, _pool_pair(fn, "output_size", size, 1))


def _fits_in_memory(fn, arg, x, size):
    """`size` (Ho, Wo), checked that an (N, C, Ho, Wo) output of x's dtype fits in this
    machine's memory: a size of 10**12 would otherwise spend hours building index tables
    before the allocation fails."""
    n_bytes = x.shape[0] * x.shape[1] * size[0] * size[1] * x.dtype.itemsize
    if n_bytes > _os.sysconf("SC_PAGE_SIZE") * _os.sysconf("SC_PHYS_PAGES"):
        raise ValueError(f"{fn}: {arg} gives an output of size {size} for the input of shape "
                         f"{x.shape}: {n_bytes // 2**30} GiB, more than this machine's memory")
    return size


def _pooled(out, indices, unbatched, return_indices):
    """A max pool's result, and with `return_indices` a copy of its winners' positions: the
    backward scatters through the op's own array, which the caller must not be able to write
    (an index written out of range would make the scatter write out of bounds)."""
    if unbatched:
        out, indices = out.squeeze(0), indices[0]
    return (out, _Tensor(indices.copy())) if return_indices else out


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over each (dilated) window, padding with -infinity.

    Shapes: x (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo), Ho = floor_or_ceil((H + 2P -
    D(K-1) - 1)/S) + 1; `return_indices` adds the int64 positions h*W + w of the maxima
    (first maximum in row-by-row order on ties, as PyTorch).
    Backward: the gradient goes to each window's maximum (summed where windows share it).
    """
    x, unbatched = _as_planes("max_pool2d", x, integers=True)
    geometry = _pool_geometry("max_pool2d", x, kernel_size, stride, padding, dilation,
                              ceil_mode)
    out, indices = _pool.max_pool2d(x, *geometry, ceil_mode)
    return _pooled(out, indices, unbatched, return_indices)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over each window, clipped to the zero-padded input; the divisor counts the
    padding only with `count_include_pad` (never the part of a ceil_mode window past it).

    Integers are averaged as PyTorch does: the exact sum divided by the count, truncated
    toward zero (C's integer division), without gradient.
    Shapes: x (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo) as in max_pool2d with D = 1.
    Backward: each output's gradient spread evenly over its window (divided the same way).
    """
    if divisor_override is not None:
        raise NotImplementedError("avg_pool2d: divisor_override is not supported")
    x, unbatched = _as_planes("avg_pool2d", x, integers=True)
    kernel, stride, padding, _ = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding,
                                                1, ceil_mode)
    out = _pool.avg_pool2d(x, kernel, stride, padding, ceil_mode, bool(count_include_pad))
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool2d(x, output_size):
    """Mean over the windows [floor(i*H/Ho), ceil((i+1)*H/Ho)) (PyTorch's adaptive windows,
    which overlap when H is not a multiple of Ho).

    Shapes: x (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo); None in output_size keeps H or W.
    Backward: each output's gradient spread evenly over its window.
    """
    x, unbatched = _as_planes("adaptive_avg_pool2d", x, empty_channels=True)
    out = _pool.adaptive_avg_pool2d(x, _adaptive_size("adaptive_avg_pool2d", x, output_size))
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Maximum over the adaptive windows of adaptive_avg_pool2d.

    Shapes: x (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo), and int64 positions h*W + w.
    Backward: the gradient goes to each window's maximum (summed where windows share it).
    """
    x, unbatched = _as_planes("adaptive_max_pool2d", x)
    size = _adaptive_size("adaptive_max_pool2d", x, output_size)
    out, indices = _pool.adaptive_max_pool2d(x, size)
    return _pooled(out, indices, unbatched, return_indices)


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value back at the position `indices` (from max_pool2d) names, zeros elsewhere.

    Shapes: x, indices (N, C, h, w) or (C, h, w) -> (N, C, H, W), H = (h-1)S - 2P + K unless
    `output_size` (H, W) says otherwise (needed when pooling dropped rows), within S of it.
    Backward: the gradient gathered at `indices`.
    """
    fn = "max_unpool2d"
    x, unbatched = _as_planes(fn, x, integers=True)
    indices = _np.asarray(indices.data if isinstance(indices, _Tensor) else indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{fn}: indices must be integers, got dtype {indices.dtype}")
    # a private copy, checked below: the backward gathers through it, and the caller's array
    # could be written after this call
    indices = _np.array(indices[None] if unbatched else indices, dtype=_np.int64, order="C")
    if indices.shape != x.shape:
        raise ValueError(f"{fn}: indices of shape {indices.shape} do not match the input of "
                         f"shape {x.shape}; expected the same shape")
    kernel = _pool_pair(fn, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pool_pair(fn, "stride", stride, 1)
    padding = _pool_pair(fn, "padding", padding, 0)
    default = tuple((n - 1) * s - 2 * p + k
                    for n, k, s, p in zip(x.shape[2:], kernel, stride, padding))
    if output_size is None:
        size = default
    else:
        size = tuple(output_size)[-2:]
        if len(tuple(output_size)) not in (2, 4) or any(
                not d - s < n < d + s for n, d, s in zip(size, default, stride)):
            raise ValueError(f"{fn}: output_size {tuple(output_size)} does not fit input of "
                             f"shape {x.shape} with kernel_size {kernel}, stride {stride}, "
                             f"padding {padding}; expected (H, W) within {stride} (exclusive) "
                             f"of {default}")
    if min(size) < 1:
        raise ValueError(f"{fn}: input of shape {x.shape} gives an output of size {size}; "
                         f"expected at least 1x1")
    # one pass: viewed as unsigned, a negative index is huge
    if indices.size and indices.view(_np.uint64).max() >= size[0] * size[1]:
        raise ValueError(f"{fn}: indices range over [{indices.min()}, {indices.max()}] but "
                         f"an output plane of size {size} has positions 0..{size[0] * size[1] - 1}")
    out = _pool.max_unpool2d(x, indices, size)
    return out.squeeze(0) if unbatched else out


_INTERPOLATE_MODES = ("nearest", "bilinear", "bicubic")


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample (N, C, H, W) to `size` or by `scale_factor` (exactly one of them).

    Modes: nearest (output i reads floor(i*H/Ho), or floor(i/scale_factor) with the scale
    taken as the decimal it is written as: 0.8 means 4/5, not the double just above it, so
    output 4 reads input 5 as in PyTorch; both computed exactly), bilinear and bicubic
    (Keys, A = -0.75, taps clamped to the border). With align_corners=True the corner pixels'
    centres line up; else the pixel areas do. As in PyTorch, nearest and bilinear copy an
    axis whose size does not change, and nearest reads i // 2 on an axis whose size doubles.
    Shapes: x (N, C, H, W) -> (N, C, Ho, Wo), Ho = size or floor(H * scale_factor).
    Backward: the transposed interpolation, each output's gradient sent back to the
    inputs it read with the same weights.
    """
    fn = "interpolate"
    if mode not in _INTERPOLATE_MODES:
        if mode in ("linear", "trilinear", "area", "nearest-exact"):
            raise NotImplementedError(f"{fn}: mode={mode!r} is not supported; "
                                      f"supported modes are {_INTERPOLATE_MODES}")
        raise ValueError(f"{fn}: unknown mode {mode!r}; expected one of {_INTERPOLATE_MODES}")
    if recompute_scale_factor:
        raise NotImplementedError(f"{fn}: recompute_scale_factor is not supported")
    if antialias:
        raise NotImplementedError(f"{fn}: antialias is not supported")
    x, unbatched = _as_planes(fn, x, integers=mode == "nearest")
    if unbatched:
        raise ValueError(f"{fn}: input must have shape (N, C, H, W), got shape "
                         f"{x.shape[1:]}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{fn}: align_corners can only be set with the interpolating modes "
                         f"bilinear and bicubic, got mode='nearest'")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{fn}: give exactly one of size and scale_factor, got size={size!r} "
                         f"and scale_factor={scale_factor!r}")
    if size is not None:
        size = _pool_pair(fn, "size", size, 1)
    else:
        if isinstance(scale_factor, _numbers.Real):
            scale_factor = (scale_factor, scale_factor)
        if not isinstance(scale_factor, (tuple, list)) or not all(
                isinstance(s, _numbers.Real) for s in scale_factor):
            raise TypeError(f"{fn}: scale_factor must be a number or a pair of numbers, got "
                            f"{scale_factor!r}")
        scale_factor = tuple(float(s) for s in scale_factor)
        # a NaN compares false with everything, so it fails this test as infinity does
        if len(scale_factor) != 2 or not all(0 < s < float("inf") for s in scale_factor):
            raise ValueError(f"{fn}: scale_factor must be a positive finite number or a "
                             f"pair of them, got {scale_factor!r}")
        size = tuple(_resample.scaled_size(n, s) for n, s in zip(x.shape[2:], scale_factor))
        if min(size) < 1:
            raise ValueError(f"{fn}: scale_factor {scale_factor} makes the input of shape "
                             f"{x.shape} into size {size}; expected at least 1x1")
    size = _fits_in_memory(fn, "size" if scale_factor is None else "scale_factor", x, size)
    return _resample.interpolate(x, size, mode, bool(align_corners), scale_factor)


# --- normalization ------------------------------------------------------------------------
# The four normalisations are one op, `normalize(x, axes, weight, bias, axis)`: they differ
# only in the axes the statistics run over and in the shape of their affine parameters, which
# lie along x's axes from `axis` on. With fixed statistics (evaluation) the layer is an affine
# map of x, and `scale_shift(x_hat, weight, bias, axis)` applies the parameters alone.
#   batch_norm     (N, C, *)  axes N and *        one mean per channel             weight (C,)
#   layer_norm     (*, D...)  the last axes D...  one mean per sample              weight (D...)
#   instance_norm  (N, C, *)  axes *              one mean per sample and channel  weight (C,)
#   group_norm     (N, C, *)  C/G channels and *  one mean per sample and group    weight (C,)

def _channel_shape(x):
    """The shape that broadcasts a per-channel (C,) vector against x (N, C, *)."""
    return (x.shape[1],) + (1,) * (x.ndim - 2)


def _check_vector(name, arg, value, expected):
    if value is not None and tuple(value.shape) != tuple(expected):
        raise ValueError(f"{name}: {arg} of shape {tuple(value.shape)} does not fit; "
                         f"expected {tuple(expected)}")


def _running(name, running_mean, running_var, n_channels):
    """The running buffers as ndarrays (updated in place), checked; None if not given."""
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{name}: give both running_mean and running_var, or neither")
    if running_mean is None:
        return None, None
    buffers = [b.data if isinstance(b, _Tensor) else b for b in (running_mean, running_var)]
    for arg, b in zip(("running_mean", "running_var"), buffers):
        if not isinstance(b, _np.ndarray):
            raise TypeError(f"{name}: {arg} must be an ndarray (it is updated in place), "
                            f"got {type(b).__name__}")
        if b.dtype.kind != "f":  # an integer buffer would truncate the statistics
            raise TypeError(f"{name}: {arg} has dtype {b.dtype}; expected a floating-point "
                            f"dtype")
        _check_vector(name, arg, b, (n_channels,))
    return buffers


def _update_running(buffer, batch_value, momentum):
    """buffer <- (1 - momentum) buffer + momentum batch_value, in place."""
    buffer[...] = (1 - momentum) * buffer + momentum * batch_value


def _normalize_with(x, mean, var, eps):
    """(x - mean) / sqrt(var + eps) with given per-channel statistics (constants): an affine
    map of x, as in evaluation mode."""
    shape = _channel_shape(x)
    rstd = 1.0 / _np.sqrt(var.astype(_np.float64) + eps)
    return (x - mean.reshape(shape).astype(x.dtype)) * rstd.reshape(shape).astype(x.dtype)


def _check_norm_input(name, x, min_ndim=2):
    if x.ndim < min_ndim:
        raise ValueError(f"{name}: input of shape {x.shape} needs at least {min_ndim} "
                         f"dimensions (N, C, ...)")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input has dtype {x.dtype}; expected a floating-point dtype")


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel over the batch and spatial axes, then weight * x_hat + bias.

    Training: batch statistics (biased variance); if running buffers are given they are
    updated in place, r <- (1 - momentum) r + momentum * batch value, with the *unbiased*
    variance n/(n-1) (n = values per channel), as PyTorch. nn.BatchNorm passes
    momentum = 1/num_batches_tracked for its cumulative average (momentum=None).
    Evaluation: the running statistics, so the layer is a fixed affine map of x.
    Shapes: x (N, C, *), running stats, weight, bias (C,) -> like x.
    """
    x = _as_tensor(x)
    _check_norm_input("batch_norm", x)
    n_channels = x.shape[1]
    running_mean, running_var = _running("batch_norm", running_mean, running_var, n_channels)
    _check_vector("batch_norm", "weight", weight, (n_channels,))
    _check_vector("batch_norm", "bias", bias, (n_channels,))
    if not training:
        if running_mean is None:
            raise ValueError("batch_norm: running_mean and running_var are needed in "
                             "evaluation mode (training=False)")
        x_hat = _normalize_with(x, running_mean, running_var, eps)
        return _ops.scale_shift(x_hat, weight, bias, 1)
    count = x.shape[0] * int(_np.prod(x.shape[2:]))  # values per channel
    if count <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {x.shape}")
    out, mean, var = _ops.normalize(x, (0, *range(2, x.ndim)), weight, bias, 1, eps)
    if running_mean is not None:
        if momentum is None:
            raise TypeError("batch_norm: momentum must be a number; for a cumulative average "
                            "pass 1/num_batches_tracked (nn.BatchNorm does this)")
        _update_running(running_mean, mean, momentum)
        _update_running(running_var, var * (count / (count - 1)), momentum)
    return out


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over its last len(normalized_shape) axes; elementwise affine.

    The same in training and evaluation.
    Shapes: x (*, *normalized_shape), weight, bias normalized_shape -> like x.
    """
    x = _as_tensor(x)
    _check_norm_input("layer_norm", x, 1)
    shape = ((normalized_shape,) if isinstance(normalized_shape, (int, _np.integer))
             else normalized_shape)
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(n, (int, _np.integer)) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"layer_norm: normalized_shape must be an int or a tuple of ints, got "
                        f"{normalized_shape!r}")
    shape = tuple(int(n) for n in shape)
    if not shape or len(shape) > x.ndim or x.shape[x.ndim - len(shape):] != shape:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end with "
                         f"normalized_shape {shape}")
    _check_vector("layer_norm", "weight", weight, shape)
    _check_vector("layer_norm", "bias", bias, shape)
    start = x.ndim - len(shape)
    return _ops.normalize(x, tuple(range(start, x.ndim)), weight, bias, start, eps)[0]


def instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial axes; per-channel affine.

    With use_input_stats and running buffers, the buffers move towards the batch average of
    the per-instance means and unbiased variances, as PyTorch; use_input_stats=False
    normalises with the running statistics instead.
    Shapes: x (N, C, *), running stats, weight, bias (C,) -> like x.
    """
    x = _as_tensor(x)
    _check_norm_input("instance_norm", x, 3)
    n, n_channels = x.shape[:2]
    running_mean, running_var = _running("instance_norm", running_mean, running_var,
                                         n_channels)
    _check_vector("instance_norm", "weight", weight, (n_channels,))
    _check_vector("instance_norm", "bias", bias, (n_channels,))
    if not use_input_stats:
        if running_mean is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when "
                             "use_input_stats=False")
        return _ops.scale_shift(_normalize_with(x, running_mean, running_var, eps), weight,
                                bias, 1)
    count = int(_np.prod(x.shape[2:]))  # values per sample and channel
    if count <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input of shape {x.shape}")
    out, mean, var = _ops.normalize(x, tuple(range(2, x.ndim)), weight, bias, 1, eps)
    if running_mean is not None:
        _update_running(running_mean, mean.reshape(n, n_channels).mean(axis=0), momentum)
        unbiased = var.reshape(n, n_channels) * (count / (count - 1))  # (N, C)
        _update_running(running_var, unbiased.mean(axis=0), momentum)
    return out


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each group of C/num_groups channels of each sample; per-channel affine.

    The same in training and evaluation.
    Shapes: x (N, C, *), weight, bias (C,) -> like x.
    """
    x = _as_tensor(x)
    _check_norm_input("group_norm", x)
    n, n_channels = x.shape[:2]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, _np.integer)):
        raise TypeError(f"group_norm: num_groups must be an int, got {num_groups!r}")
    if num_groups < 1 or n_channels % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the "
                         f"{n_channels} channels of input of shape {x.shape}")
    _check_vector("group_norm", "weight", weight, (n_channels,))
    _check_vector("group_norm", "bias", bias, (n_channels,))
    if x.numel() // num_groups == 1:  # N * C/G * H * W == 1: PyTorch refuses it, so do we
        raise ValueError(f"group_norm: expected more than 1 value per group over the batch, "
                         f"got input of shape {x.shape} with num_groups={num_groups}")
    plane_size = int(_np.prod(x.shape[2:]))  # H * W, from the shape: N may be 0
    grouped = _ops.reshape(x, (n, num_groups, n_channels // num_groups, plane_size))
    # statistics per (sample, group); the parameters lie along (group, channel in the group)
    weight, bias = (None if p is None else _ops.reshape(p, grouped.shape[1:3])
                    for p in (weight, bias))
    out, _, _ = _ops.normalize(grouped, (2, 3), weight, bias, 1, eps)
    return _ops.reshape(out, x.shape)


# --- padding ------------------------------------------------------------------------------

_INDEX_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x, pad, mode="constant", value=0.0):
    """PyTorch's F.pad: `pad` lists (before, after) pairs from the last axis backwards.

    constant: fill with `value` (negative widths crop, as PyTorch). reflect (mirror
    without repeating the edge), replicate (repeat the edge) and circular (wrap around)
    gather input elements by index, so the gradient of a padded element flows back to
    the element it copies. Shapes: x (*, H, W), pad (left, right, top, bottom) ->
    (*, H + top + bottom, W + left + right).
    """
    x = _as_tensor(x)
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, (int, _np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: pad {pad} must hold (before, after) pairs for at most the "
                         f"{x.ndim} axes of the input of shape {x.shape}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = pad[2 * i], pad[2 * i + 1]
    if mode == "constant":
        crop = tuple(slice(max(-before, 0), n - max(-after, 0))
                     for (before, after), n in zip(widths, x.shape))
        if any(s.start >= s.stop for s in crop):
            raise ValueError(f"pad: negative pad {pad} crops the input of shape {x.shape} "
                             f"to nothing")
        cropped = _ops.getitem(x, crop) if any(min(w) < 0 for w in widths) else x
        return _ops.pad(cropped, [(max(b, 0), max(a, 0)) for b, a in widths],
                        constant_values=value)
    if mode not in _INDEX_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    for (before, after), n in zip(widths, x.shape):
        if min(before, after) < 0:
            raise ValueError(f"pad: negative pad {pad} is only allowed in constant mode")
        limit = n - 1 if mode == "reflect" else n if mode == "circular" else None
        if limit is not None and max(before, after) > limit and before + after > 0:
            raise ValueError(f"pad: {mode} padding {pad} is too large for the input of shape "
                             f"{x.shape}: each width must be at most {limit} on that axis")
    # index arrays per axis: np.pad of 0..n-1 in the matching NumPy mode says which input
    # element each output position copies
    index = [_np.pad(_np.arange(n), w, mode=_INDEX_MODES[mode]) for w, n in zip(widths, x.shape)]
    return _ops.getitem(x, _np.ix_(*index))
