"""Reductions over axes (NumPy's `axis`/`keepdims`). The adjoint of a reduction broadcasts
the gradient back over the reduced axes."""
import numpy as np

from ..tensor import Function, Tensor


def normalize_axis(axis, ndim):
    """`axis` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    bound = ndim or 1  # NumPy accepts axis 0 (or -1) of a 0-d array
    out = []
    for a in axes:
        if not -bound <= a < bound:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % bound)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(out))


def expand_reduced(grad, axes, keepdims):
    """Re-insert the reduced axes as size 1 so `grad` broadcasts against the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    def forward(self, a, axes, keepdims):
        self.shape, self.axes, self.keepdims = a.shape, axes, keepdims
        return np.asarray(a.sum(axis=axes, keepdims=keepdims))

    def backward(self, grad):
        return np.broadcast_to(expand_reduced(grad, self.axes, self.keepdims), self.shape)


def sum(a, axis=None, keepdims=False):
    return Sum.apply(a, axes=normalize_axis(axis, a.ndim), keepdims=keepdims)


def mean(a, axis=None, keepdims=False):
    axes = normalize_axis(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes]))
    return sum(a, axes, keepdims) * (1.0 / count)


class Var(Function):
    """Variance with `ddof`.  d var / d a = 2 (a - mean) / (n - ddof)."""

    def forward(self, a, axes, ddof, keepdims):
        self.axes, self.keepdims = axes, keepdims
        count = int(np.prod([a.shape[i] for i in axes]))
        centered = a - a.mean(axis=axes, keepdims=True)
        self.save_for_backward(centered * (2.0 / (count - ddof)))
        return np.asarray((centered ** 2).sum(axis=axes, keepdims=keepdims) / (count - ddof))

    def backward(self, grad):
        return expand_reduced(grad, self.axes, self.keepdims) * self.saved_tensors[0]


def var(a, axis=None, ddof=0, keepdims=False):
    axes = normalize_axis(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes]))
    if count - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {count} elements")
    return Var.apply(a, axes=axes, ddof=ddof, keepdims=keepdims)


class Max(Function):
    """Max over axes; tied maxima share the gradient equally (as torch.amax)."""

    def forward(self, a, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims
        out = a.max(axis=axes, keepdims=True)
        is_max = a == out
        self.save_for_backward(is_max / is_max.sum(axis=axes, keepdims=True))
        return out if keepdims else np.squeeze(out, axes)

    def backward(self, grad):
        return expand_reduced(grad, self.axes, self.keepdims) * self.saved_tensors[0]


def _check_nonempty(name, a, axes):
    if any(a.shape[i] == 0 for i in axes):
        raise ValueError(f"{name}: cannot reduce over an empty axis of shape {a.shape}")


def max(a, axis=None, keepdims=False):
    axes = normalize_axis(axis, a.ndim)
    _check_nonempty("max", a, axes)
    return Max.apply(a, axes=axes, keepdims=keepdims)


def min(a, axis=None, keepdims=False):
    axes = normalize_axis(axis, a.ndim)
    _check_nonempty("min", a, axes)
    return -Max.apply(-a, axes=axes, keepdims=keepdims)


def argmax(a, axis=None, keepdims=False):
    """Index of the first maximum (not differentiable)."""
    return Tensor(np.argmax(a.data, axis=axis, keepdims=keepdims))


def argmin(a, axis=None, keepdims=False):
    return Tensor(np.argmin(a.data, axis=axis, keepdims=keepdims))
