"""Elementwise ops. Each Function's forward and backward sit together; broadcasting is
undone by the engine (`tensor.unbroadcast`), so a backward returns full-shape gradients."""
import functools

import numpy as np

from .. import dtypes, kernels
from ..errors import InvalidArgument
from ..tensor import Function, Tensor, _numeric_dtype


# PyTorch's type promotion. Operands rank by kind: tensors with dims, then 0-d tensors, then
# Python numbers. The result takes the highest-ranked operands' dtype unless a lower-ranked
# one is of a higher category (bool < integer < floating < complex): then that one's dtype,
# or for a Python number its category's default (int64, float32, complex64). So
# `int64_tensor * 0.5` is float32 and `float32_tensor + float64_scalar_tensor` float32.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _rank_and_dtype(x):
    if isinstance(x, Tensor):
        x = x.data
    if isinstance(x, (np.ndarray, np.generic)):  # (np.float64 is also a Python float)
        return (2 if x.ndim else 1), x.dtype
    if isinstance(x, bool):
        return 0, np.dtype(np.bool_)
    if isinstance(x, int):
        return 0, np.dtype(np.int64)
    if isinstance(x, float):
        return 0, dtypes.get_default_dtype()
    if isinstance(x, complex):
        return 0, np.dtype(np.complex64)
    array = np.asarray(x)
    if array.dtype.kind not in _CATEGORY:
        raise TypeError(f"unsupported operand: {type(x).__name__} {x!r:.60} (NumPy dtype "
                        f"{array.dtype}); expected a Tensor, a number or an array of numbers")
    return (2 if array.ndim else 1), array.dtype


def _promote_pair(p, q):
    (rank_p, dtype_p), (rank_q, dtype_q) = sorted((p, q), key=lambda r: -r[0])
    if {dtype_p.kind, dtype_q.kind} == {"f", "c"} and (rank_p == rank_q or dtype_p.kind == "f"):
        # a float beside a complex of no higher rank: the complex dtype of at least the
        # float's precision (PyTorch's toComplexType: float64 beside 1j is complex128, float32
        # beside a 0-d complex128 tensor complex64); NumPy's table agrees at equal rank
        return rank_p, np.promote_types(dtype_p, dtype_q if rank_p == rank_q else np.complex64)
    higher_category = _CATEGORY[dtype_q.kind] > _CATEGORY[dtype_p.kind]
    if rank_p == rank_q:
        dtype = dtype_q if higher_category else (
            dtype_p if _CATEGORY[dtype_p.kind] > _CATEGORY[dtype_q.kind]
            else np.promote_types(dtype_p, dtype_q))
    else:
        dtype = dtype_q if higher_category else dtype_p
    return rank_p, dtype


def result_type(*operands):
    """The dtype PyTorch computes `operands` (tensors, arrays, numbers) in."""
    return functools.reduce(_promote_pair, map(_rank_and_dtype, operands))[1]


def cast(x, dtype):
    """`x` as a Tensor of `dtype`: a number or array wrapped, a tensor converted (through
    AsType, so a gradient finds its way back)."""
    if isinstance(x, Tensor):
        return x if x.data.dtype == dtype else astype(x, dtype)
    return Tensor._wrap(np.asarray(x, dtype), False, None)


def lift(x, like):
    """Make `x` a Tensor, of the dtype promotion gives it beside `like` (a number next to a
    float32 tensor is float32; next to an int64 tensor a float is float32)."""
    if isinstance(x, Tensor):
        return x
    return cast(x, result_type(x, like))


# The category of a Python number (exactly these types: a NumPy scalar is ranked as a 0-d
# array by `_rank_and_dtype`, so it takes the general path).
_NUMBER_CATEGORY = {bool: 0, int: 1, float: 2, complex: 3}


def _takes_dtype_of(tensor, x):
    """True if `x` is a Python number of `tensor`'s category or a lower one: beside a tensor
    a number ranks lowest, so the result is `tensor`'s dtype (`result_type` would say so)."""
    category = _NUMBER_CATEGORY.get(type(x))
    return category is not None and category <= _CATEGORY[tensor.data.dtype.kind]


def promote(a, b):
    """Both operands as Tensors of their promoted dtype."""
    # The common cases, kept cheap: they run on every binary op. Two tensors of one dtype,
    # and a tensor beside a Python number that takes its dtype (`y * 0.5`, `1 - y`:
    # promote(y, 0.5) took 7.3 us of CPU through result_type, 2.5 us this way, measured on
    # a loaded machine)
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a.data.dtype == b.data.dtype:
                return a, b
        elif _takes_dtype_of(a, b):
            return a, cast(b, a.data.dtype)
    elif isinstance(b, Tensor) and _takes_dtype_of(b, a):
        return cast(a, b.data.dtype), b
    dtype = result_type(a, b)
    return cast(a, dtype), cast(b, dtype)


def floating(a):
    """`a`, or for an integer or bool tensor its values in the default float dtype (what
    PyTorch's exp, log, sqrt, division, ... compute in)."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    return a if a.data.dtype.kind in "fc" else cast(a, dtypes.get_default_dtype())


def check_broadcast(*shapes):
    """Raise PyTorch's error unless `shapes` broadcast together: it names the two sizes
    that clash and the dim of the result where they meet (counted as in the result)."""
    ndim = max(map(len, shapes))
    for dim in reversed(range(ndim)):  # the last dim first, as PyTorch reports it
        sizes = [(name, shape[dim - ndim]) for name, shape in zip("abcdefgh", shapes)
                 if dim - ndim >= -len(shape) and shape[dim - ndim] != 1]
        clash = next(((first, other) for first, other in zip(sizes, sizes[1:])
                      if other[1] != first[1]), None)
        if clash:
            (name_1, size_1), (name_2, size_2) = clash
            raise InvalidArgument(f"The size of tensor {name_1} ({size_1}) must match the "
                                  f"size of tensor {name_2} ({size_2}) at non-singleton "
                                  f"dimension {dim} (shapes {', '.join(map(str, shapes))})")


def binary(op, a, b):
    """Apply a two-input Function to the operands after type promotion."""
    a, b = promote(a, b)
    try:
        return op.apply(a, b)
    except ValueError:  # (free until raised) NumPy's "could not be broadcast": say which dims
        check_broadcast(tuple(a.shape), tuple(b.shape))
        raise


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


def add(a, b):
    return binary(Add, a, b)


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, -grad


def sub(a, b):
    return binary(Sub, a, b)


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved_tensors
        return (grad * b if self.needs_input_grad[0] else None,
                grad * a if self.needs_input_grad[1] else None)


def mul(a, b):
    return binary(Mul, a, b)


class Div(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad):
        a, b = self.saved_tensors
        grad_a = grad / b
        return grad_a, (-grad_a * a / b if self.needs_input_grad[1] else None)


def div(a, b):
    """True division: integer operands divide as floats, as PyTorch."""
    a, b = promote(a, b)
    if a.data.dtype.kind not in "fc":
        a, b = floating(a), floating(b)
    return binary(Div, a, b)


class Pow(Function):
    """a ** b.  d/da = b a^(b-1);  d/db = a^b log a (taken as 0 where a == 0)."""

    def forward(self, a, b):
        out = a ** b
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad):
        a, b, out = self.saved_tensors
        grad_a = grad * b * a ** (b - 1) if self.needs_input_grad[0] else None
        grad_b = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_b = grad * out * np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
        return grad_a, grad_b


def pow(a, b):
    a, b = promote(a, b)
    if a.data.dtype.kind in "iu" and (b.data < 0).any():
        raise InvalidArgument(f"pow: integers to negative integer powers are not allowed "
                              f"(exponent {b.data.min()}); use a float base")
    return binary(Pow, a, b)


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


def neg(a):
    return Neg.apply(a)


class Exp(Function):
    def forward(self, a):
        out = np.exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        return grad * self.saved_tensors[0]


def exp(a):
    return Exp.apply(floating(a))


class Log(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return np.log(a)

    def backward(self, grad):
        return grad / self.saved_tensors[0]


def log(a):
    return Log.apply(floating(a))


class Sqrt(Function):
    def forward(self, a):
        out = np.sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        return grad / (2 * self.saved_tensors[0])


def sqrt(a):
    return Sqrt.apply(floating(a))


class Abs(Function):
    """|a|; the gradient at 0 is 0 (sign(0) = 0), as PyTorch."""

    def forward(self, a):
        self.save_for_backward(a)
        return np.abs(a)

    def backward(self, grad):
        return grad * np.sign(self.saved_tensors[0])


def abs(a):
    return Abs.apply(a)


class Clip(Function):
    """clip(a, lo, hi); the gradient passes where lo <= a <= hi (inclusive, as torch.clamp)."""

    def forward(self, a, lo=None, hi=None):
        passes = np.ones(a.shape, dtype=bool)
        if lo is not None:
            passes &= a >= lo
        if hi is not None:
            passes &= a <= hi
        self.save_for_backward(passes)
        return np.clip(a, lo, hi)

    def backward(self, grad):
        return grad * self.saved_tensors[0]


class Relu(Function):
    """max(a, 0); the gradient at 0 is 0, as PyTorch."""

    def forward(self, a):
        self.save_for_backward(a > 0)
        return np.maximum(a, 0)

    def backward(self, grad):
        return grad * self.saved_tensors[0]


def relu(a):
    return Relu.apply(a)


class Sigmoid(Function):
    """1 / (1 + e^-a), computed without overflow; backward s (1 - s)."""

    def forward(self, a):
        e = np.exp(-np.abs(a))
        out = np.where(a >= 0, 1 / (1 + e), e / (1 + e))
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        s = self.saved_tensors[0]
        return grad * s * (1 - s)


def sigmoid(a):
    return Sigmoid.apply(floating(a))


class Tanh(Function):
    def forward(self, a):
        out = np.tanh(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        return grad * (1 - self.saved_tensors[0] ** 2)


def tanh(a):
    return Tanh.apply(floating(a))


class Maximum(Function):
    """Elementwise max; where a == b the gradient is split in half, as PyTorch."""

    def forward(self, a, b):
        self.save_for_backward(np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)))
        return np.maximum(a, b)

    def backward(self, grad):
        share_a = self.saved_tensors[0]
        return grad * share_a, grad * (1 - share_a)


def maximum(a, b):
    return binary(Maximum, a, b)


def minimum(a, b):
    """Elementwise min, as -max(-a, -b) (ties split in half)."""
    return neg(maximum(*(neg(x) for x in promote(a, b))))


class Where(Function):
    """cond ? a : b, with `cond` a constant boolean array."""

    def forward(self, a, b, cond):
        self.save_for_backward(cond)
        return np.where(cond, a, b)

    def backward(self, grad):
        cond = self.saved_tensors[0]
        return np.where(cond, grad, 0), np.where(cond, 0, grad)


def where(cond, a, b):
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond)
    if cond.dtype.kind not in "biuf":
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    cond = cond.astype(bool, copy=False)
    a, b = promote(a, b)
    check_broadcast(cond.shape, tuple(a.shape), tuple(b.shape))
    return Where.apply(a, b, cond=cond)


class AsType(Function):
    def forward(self, a, dtype):
        self.input_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.input_dtype)


def astype(a, dtype):
    """`a` in `dtype`; a cast to an integer or bool dtype leaves the graph (no gradient can
    flow through it), as in PyTorch."""
    dtype = _numeric_dtype(dtype)
    if dtype.kind not in "fc":
        return Tensor._wrap(a.data.astype(dtype), False, None)
    return AsType.apply(a, dtype=dtype)


def constant(fn, *args, **params):
    """`fn` on the arrays of `args` (numbers lifted beside a Tensor), as a Tensor that no
    gradient flows through: comparisons, logical ops, integer division, ..."""
    like = next((x for x in args if isinstance(x, Tensor)), None)
    arrays = [lift(x, like).data for x in args]
    try:
        return Tensor._wrap(np.asarray(fn(*arrays, **params)), False, None)
    except ValueError:  # NumPy's "could not be broadcast": say which dims
        check_broadcast(*(x.shape for x in arrays))
        raise


class Step(Function):
    """A piecewise-constant function (floor, round, sign, ...): its gradient is 0 everywhere
    it exists, as PyTorch defines it."""

    def forward(self, a, fn):
        return fn(a)

    def backward(self, grad):
        return np.zeros_like(grad)


def step(fn, a):
    return Step.apply(a, fn=fn)


class Clone(Function):
    """A copy of the values that stays in the graph: the gradient passes unchanged."""

    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return grad


def clone(a):
    return Clone.apply(a)


def divide(a, b, rounding_mode=None):
    """a / b; rounding_mode "trunc" or "floor" rounds the quotient (no gradient), as
    torch.div."""
    if rounding_mode is None:
        return div(a, b)
    rounding = {"trunc": np.trunc, "floor": np.floor}.get(rounding_mode)
    if rounding is None:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    a, b = lift(a, b), lift(b, a)
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        quotient = np.floor_divide(a.data, b.data)
        if rounding_mode == "trunc":  # floor and trunc differ where the signs differ
            quotient = np.where((quotient < 0) & (quotient * b.data != a.data), quotient + 1,
                                quotient)
        return Tensor._wrap(quotient, False, None)
    return step(rounding, div(a, b))


def clamp(a, min=None, max=None):
    """torch.clamp: numbers use Clip (the gradient passes where min <= a <= max); tensor
    bounds broadcast, through maximum and minimum."""
    if min is None and max is None:
        raise InvalidArgument("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = a if min is None else maximum(a, min)
        return out if max is None else minimum(out, max)
    a = cast(a, result_type(a, *(bound for bound in (min, max) if bound is not None)))
    return Clip.apply(a, lo=min, hi=max)


clip = clamp


class Fill(Function):
    """Every element of `a` replaced by `value` (broadcast): the in-place fill_ / copy_ /
    zero_. No gradient reaches `a`'s old values; `value`'s is summed by the engine."""

    def forward(self, a, value):
        return np.array(np.broadcast_to(value, a.shape), dtype=a.dtype)

    def backward(self, grad):
        return np.zeros_like(grad), grad


def fill(a, value):
    value = lift(value, a)
    try:
        np.broadcast_shapes(value.shape, a.shape)
    except ValueError:
        raise ValueError(f"copy_/fill_: a value of shape {tuple(value.shape)} does not "
                         f"broadcast to the tensor's shape {tuple(a.shape)}") from None
    return Fill.apply(a, value)


class LeakyRelu(Function):
    """a if a > 0 else slope * a.  backward: grad * (1 if a > 0 else slope); at 0 the slope,
    as PyTorch."""

    def forward(self, a, negative_slope):
        positive = a > 0
        self.save_for_backward(np.where(positive, 1.0, negative_slope).astype(a.dtype))
        return np.where(positive, a, a * negative_slope)

    def backward(self, grad):
        return grad * self.saved_tensors[0]


def leaky_relu(a, negative_slope=0.01):
    return LeakyRelu.apply(a, negative_slope=negative_slope)


class Gelu(Function):
    """a * Phi(a), Phi the standard normal CDF = (1 + erf(a / sqrt 2)) / 2 (PyTorch's exact form).

    backward: grad * (Phi(a) + a * phi(a)), phi(a) = exp(-a^2 / 2) / sqrt(2 pi).
    """

    def forward(self, a):
        cdf = (0.5 * (1.0 + kernels.erf(a / np.sqrt(2.0)))).astype(a.dtype)
        self.save_for_backward(a, cdf)
        return a * cdf

    def backward(self, grad):
        a, cdf = self.saved_tensors
        pdf = np.exp(-0.5 * a * a) / np.sqrt(2.0 * np.pi)
        return grad * (cdf + a * pdf)


def gelu(a):
    return Gelu.apply(floating(a))
