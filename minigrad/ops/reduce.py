"""Reductions over axes (`axis` is a dim or a tuple of them; `keepdims` keeps them as size 1).
The adjoint of a reduction broadcasts the gradient back over the reduced axes."""
import warnings
from collections import namedtuple

import numpy as np

from ..errors import DimOutOfRange, InvalidArgument
from ..tensor import Function, Tensor
from . import movement  # (a cycle: movement takes normalize_axis from here; used at call time)
from .elementwise import exp, log


def normalize_axis(axis, ndim):
    """`axis` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else \
        tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    bound = ndim or 1  # NumPy accepts axis 0 (or -1) of a 0-d array
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"dim must be an int or a tuple of ints, got {axis!r} "
                            f"({type(a).__name__})")
        if not -bound <= a < bound:
            raise DimOutOfRange(f"dim {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % bound)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(out))


def integer(where, name, value, low=None):
    """`value` as an int (a Python or NumPy integer, not a bool or float), at least `low`;
    else a TypeError or ValueError naming `where` and the argument `name`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an int, got {value!r} "
                        f"({type(value).__name__})")
    if low is not None and value < low:
        raise ValueError(f"{where}: {name} must be >= {low}, got {value}")
    return int(value)


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
    """sum / count; over no elements NaN (0 / 0), as PyTorch."""
    axes = normalize_axis(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes]))
    return sum(a, axes, keepdims) * (1.0 / count if count else float("nan"))


class Var(Function):
    """Variance with `ddof`.  d var / d a = 2 (a - mean) / (n - ddof); with no degrees of
    freedom left (n - ddof <= 0, as for one element or none) it divides by 0, giving NaN
    or inf, as PyTorch (which warns, as `var` does)."""

    def forward(self, a, axes, ddof, keepdims):
        self.axes, self.keepdims = axes, keepdims
        count = int(np.prod([a.shape[i] for i in axes]))
        dof = count - ddof if count > ddof else 0
        with np.errstate(divide="ignore", invalid="ignore"):
            centered = a - a.sum(axis=axes, keepdims=True) / count
            self.save_for_backward(centered * (2.0 / dof if dof else float("inf")))
            return np.asarray((centered ** 2).sum(axis=axes, keepdims=keepdims) / dof)

    def backward(self, grad):
        return expand_reduced(grad, self.axes, self.keepdims) * self.saved_tensors[0]


def var(a, axis=None, ddof=0, keepdims=False):
    axes = normalize_axis(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes]))
    if count - ddof <= 0:
        warnings.warn(f"var(): degrees of freedom is <= 0: correction {ddof} for {count} "
                      f"elements; the result is NaN or inf (as in PyTorch)", UserWarning,
                      stacklevel=3)
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
    """max, min, argmax, ... have no value over no elements (PyTorch raises too)."""
    if any(a.shape[i] == 0 for i in axes):
        raise InvalidArgument(f"{name}(): cannot reduce over an empty dim: dims {axes} of a "
                              f"tensor of shape {tuple(a.shape)}; specify a dim of nonzero "
                              f"size")


def max(a, axis=None, keepdims=False):
    axes = normalize_axis(axis, a.ndim)
    _check_nonempty("max", a, axes)
    return Max.apply(a, axes=axes, keepdims=keepdims)


def min(a, axis=None, keepdims=False):
    axes = normalize_axis(axis, a.ndim)
    _check_nonempty("min", a, axes)
    return -Max.apply(-a, axes=axes, keepdims=keepdims)


def argmax(a, axis=None, keepdims=False, name="argmax", pick=np.argmax):
    """Index of the first maximum (not differentiable), int64; with no `axis`, into the
    flattened tensor."""
    axes = normalize_axis(axis, a.ndim)
    _check_nonempty(name, a, axes)
    if axis is not None:
        axis = axes[0]
    return Tensor(pick(a.data, axis=axis, keepdims=keepdims).astype(np.int64))


def argmin(a, axis=None, keepdims=False):
    return argmax(a, axis, keepdims, "argmin", np.argmin)


values_indices = {name: namedtuple(name, ["values", "indices"])
                  for name in ("max", "min", "sort", "topk")}


def max_along(a, dim, keepdim=False, largest=True):
    """torch.max(a, dim) (or min): the named tuple (values, indices) along one dim; the
    gradient goes to the element at the index alone."""
    (dim,) = normalize_axis(dim, a.ndim)
    _check_nonempty("max" if largest else "min", a, (dim,))
    pick = np.argmax if largest else np.argmin
    indices = pick(a.data, axis=dim, keepdims=True).astype(np.int64)
    values = movement.gather(a, dim, indices)
    if not keepdim:
        values, indices = movement.squeeze(values, dim), np.squeeze(indices, dim)
    return values_indices["max" if largest else "min"](values, Tensor(indices))


def sort(a, dim=-1, descending=False):
    """(values, indices) sorted along `dim`; equal elements keep their order (stable)."""
    (dim,) = normalize_axis(dim, a.ndim)
    order = np.argsort(-a.data if descending else a.data, axis=dim, kind="stable")
    return values_indices["sort"](movement.gather(a, dim, order), Tensor(order.astype(np.int64)))


def topk(a, k, dim=-1, largest=True):
    """The k largest (or smallest) elements along `dim`, largest first: (values, indices)."""
    (dim,) = normalize_axis(dim, a.ndim)
    k = integer("topk", "k", k)
    if not 0 <= k <= a.shape[dim]:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of shape {tuple(a.shape)}")
    order = np.argsort(-a.data if largest else a.data, axis=dim, kind="stable")
    order = np.take(order, np.arange(k), axis=dim).astype(np.int64)
    return values_indices["topk"](movement.gather(a, dim, order), Tensor(order))


class Prod(Function):
    """Product over axes.  d/da_i = prod_{j != i} a_j: the product of the elements before i
    times that of those after it (no division, so zeros are handled)."""

    def forward(self, a, axes, keepdims):
        self.save_for_backward(a)
        self.axes, self.keepdims = axes, keepdims
        return np.asarray(a.prod(axis=axes, keepdims=keepdims))

    def backward(self, grad):
        (a,) = self.saved_tensors
        order = [i for i in range(a.ndim) if i not in self.axes] + list(self.axes)
        count = int(np.prod([a.shape[i] for i in self.axes]))
        rows = np.transpose(a, order).reshape(-1, count)  # (M, K): reduced axes last
        ones = np.ones((rows.shape[0], 1), a.dtype)
        before = np.cumprod(np.concatenate([ones, rows[:, :-1]], axis=1), axis=1)
        after = np.cumprod(np.concatenate([ones, rows[:, :0:-1]], axis=1), axis=1)[:, ::-1]
        others = (before * after).reshape([a.shape[i] for i in order])
        return expand_reduced(grad, self.axes, self.keepdims) * np.transpose(
            others, np.argsort(order))


def prod(a, axis=None, keepdims=False):
    return Prod.apply(a, axes=normalize_axis(axis, a.ndim), keepdims=keepdims)


class Norm(Function):
    """||a||_p = (sum |a|^p)^(1/p) over axes, p >= 1.
    d/da = sign(a) |a|^(p-1) / ||a||^(p-1), taken as 0 where the norm is 0 (as PyTorch)."""

    def forward(self, a, p, axes, keepdims):
        norm = (np.abs(a) ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        self.save_for_backward(a, norm)
        self.p, self.axes, self.keepdims = p, axes, keepdims
        return norm if keepdims else np.squeeze(norm, axes)

    def backward(self, grad):
        a, norm = self.saved_tensors
        grad = expand_reduced(grad, self.axes, self.keepdims)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(norm > 0, grad / norm ** (self.p - 1), 0)
        return scale * np.sign(a) * np.abs(a) ** (self.p - 1)


def vector_norm(a, p="fro", axis=None, keepdims=False):
    """The p-norm over axes ("fro" is 2; inf the largest |a|), as torch.norm."""
    axes = normalize_axis(axis, a.ndim)
    if p == "fro":
        p = 2
    if p in (np.inf, float("inf")):
        return max(a.abs(), axes, keepdims)
    if not isinstance(p, (int, float)) or p < 1:
        raise ValueError(f"norm: p must be 'fro', inf or a number >= 1, got {p!r}")
    return Norm.apply(a, p=float(p), axes=axes, keepdims=keepdims)


def logsumexp(a, axis, keepdims=False):
    """log(sum(exp(a))) over axes, shifted by the (constant) maximum so nothing overflows."""
    axes = normalize_axis(axis, a.ndim)
    if a.data.size == 0:  # over no elements log(0) = -inf (as PyTorch); nothing to shift
        shift = np.zeros([1 if i in axes else n for i, n in enumerate(a.shape)], a.dtype)
    else:
        shift = a.data.max(axis=axes, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0)
    out = log(sum(exp(a - shift), axes, keepdims=True)) + shift
    return out if keepdims else movement.squeeze(out, axes)


class CumSum(Function):
    """Running sum along an axis; its adjoint is the running sum from the other end."""

    def forward(self, a, axis):
        self.axis = axis
        return np.cumsum(a, axis=axis)

    def backward(self, grad):
        return np.flip(np.cumsum(np.flip(grad, self.axis), axis=self.axis), self.axis)


def cumsum(a, axis):
    return CumSum.apply(a, axis=normalize_axis(axis, a.ndim)[0])

