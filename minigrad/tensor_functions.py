"""PyTorch's functions on tensors, `mg.sum(x, dim=1)` for `x.sum(dim=1)`: each is the Tensor
method (or the op) of the same name, so there is one definition of what it does."""
import numpy as _np

from . import ops as _ops
from .tensor import Tensor as _Tensor


def _t(x):
    return x if isinstance(x, _Tensor) else _Tensor(x)


def is_tensor(obj):
    return isinstance(obj, _Tensor)


def numel(input):
    return _t(input).numel()


def cat(tensors, dim=0, *, axis=None):
    """Join tensors along an existing dim (`mg.concat` and `mg.concatenate` too)."""
    return _ops.concatenate(tensors, dim if axis is None else axis)


concat = concatenate = cat


def stack(tensors, dim=0, *, axis=None):
    """Join same-shaped tensors along a new dim."""
    return _ops.stack(tensors, dim if axis is None else axis)


def where(condition, input=None, other=None):
    """`input` where `condition` holds, else `other`; `where(condition)` alone gives the
    indices of the true elements, one tensor per dim, as torch.where."""
    if input is None and other is None:
        return tuple(_Tensor(i) for i in _np.nonzero(_t(condition).data))
    return _ops.where(condition, input, other)


def sum(input, *args, **kwargs): return _t(input).sum(*args, **kwargs)
def mean(input, *args, **kwargs): return _t(input).mean(*args, **kwargs)
def prod(input, *args, **kwargs): return _t(input).prod(*args, **kwargs)
def var(input, *args, **kwargs): return _t(input).var(*args, **kwargs)
def std(input, *args, **kwargs): return _t(input).std(*args, **kwargs)
def max(input, *args, **kwargs): return _t(input).max(*args, **kwargs)
def min(input, *args, **kwargs): return _t(input).min(*args, **kwargs)
def amax(input, *args, **kwargs): return _t(input).amax(*args, **kwargs)
def amin(input, *args, **kwargs): return _t(input).amin(*args, **kwargs)
def argmax(input, *args, **kwargs): return _t(input).argmax(*args, **kwargs)
def argmin(input, *args, **kwargs): return _t(input).argmin(*args, **kwargs)
def all(input, *args, **kwargs): return _t(input).all(*args, **kwargs)
def any(input, *args, **kwargs): return _t(input).any(*args, **kwargs)
def norm(input, *args, **kwargs): return _t(input).norm(*args, **kwargs)
def logsumexp(input, *args, **kwargs): return _t(input).logsumexp(*args, **kwargs)
def cumsum(input, *args, **kwargs): return _t(input).cumsum(*args, **kwargs)
def sort(input, *args, **kwargs): return _t(input).sort(*args, **kwargs)
def argsort(input, *args, **kwargs): return _t(input).argsort(*args, **kwargs)
def topk(input, *args, **kwargs): return _t(input).topk(*args, **kwargs)
def reshape(input, shape): return _t(input).reshape(shape)
def flatten(input, start_dim=0, end_dim=-1): return _t(input).flatten(start_dim, end_dim)
def unflatten(input, dim, sizes): return _t(input).unflatten(dim, sizes)
def squeeze(input, dim=None): return _t(input).squeeze(dim)
def unsqueeze(input, dim): return _t(input).unsqueeze(dim)
def permute(input, dims): return _t(input).permute(dims)
def transpose(input, dim0, dim1): return _t(input).transpose(dim0, dim1)
def t(input): return _t(input).t()
def flip(input, dims): return _t(input).flip(dims)
def chunk(input, chunks, dim=0): return _t(input).chunk(chunks, dim)
def split(input, split_size_or_sections, dim=0): return _t(input).split(split_size_or_sections, dim)
def unbind(input, dim=0): return _t(input).unbind(dim)
def narrow(input, dim, start, length): return _t(input).narrow(dim, start, length)
def gather(input, dim, index): return _t(input).gather(dim, index)
def index_select(input, dim, index): return _t(input).index_select(dim, index)
def masked_fill(input, mask, value): return _t(input).masked_fill(mask, value)
def clamp(input, min=None, max=None): return _t(input).clamp(min, max)
def clip(input, min=None, max=None): return _t(input).clamp(min, max)
def neg(input): return _t(input).neg()
def sign(input): return _t(input).sign()
def floor(input): return _t(input).floor()
def ceil(input): return _t(input).ceil()
def round(input): return _t(input).round()
def rsqrt(input): return _t(input).rsqrt()
def square(input): return _t(input).square()
def softmax(input, dim): return _t(input).softmax(dim)
def log_softmax(input, dim): return _t(input).log_softmax(dim)
def mm(input, mat2): return _ops.mm(input, mat2)
def bmm(input, mat2): return _ops.bmm(input, mat2)
def dot(input, other): return _ops.dot(input, other)
def add(input, other, alpha=1): return _t(input).add(other, alpha)
def sub(input, other, alpha=1): return _t(input).sub(other, alpha)
def mul(input, other): return _ops.mul(input, other)
def div(input, other, rounding_mode=None): return _ops.divide(input, other, rounding_mode)
def pow(input, exponent): return _ops.pow(input, exponent)
def eq(input, other): return _t(input) == other
def ne(input, other): return _t(input) != other
def lt(input, other): return _t(input) < other
def le(input, other): return _t(input) <= other
def gt(input, other): return _t(input) > other
def ge(input, other): return _t(input) >= other
def isnan(input): return _t(input).isnan()
def isinf(input): return _t(input).isinf()
def isfinite(input): return _t(input).isfinite()
def logical_not(input): return _t(input).logical_not()
def logical_and(input, other): return _t(input).logical_and(other)
def logical_or(input, other): return _t(input).logical_or(other)
def equal(input, other): return _t(input).equal(_t(other))
def clone(input): return _t(input).clone()
def detach(input): return _t(input).detach()
def expand_copy(input, size): return _t(input).expand(size).clone()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(_np.allclose(_t(input).data, _t(other).data, rtol, atol, equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _Tensor(_np.isclose(_t(input).data, _t(other).data, rtol, atol, equal_nan))
