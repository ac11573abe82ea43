"""Making tensors, as PyTorch's factory functions: `mg.tensor`, `mg.zeros`, `mg.randn`, ...

Every factory takes PyTorch's keywords `dtype`, `device` (the CPU only) and
`requires_grad`. Floating-point results default to `dtypes.get_default_dtype()` (float32);
random draws come from `generator` or the default one (`mg.manual_seed`).
"""
import math

import numpy as np

from . import dtypes
from .device import check_device
from .errors import InvalidArgument
from .random import rng
from .tensor import Tensor, _as_array, _numeric_dtype, _shape


def _make(where, array, dtype=None, device=None, requires_grad=False):
    check_device(where, device)
    if dtype is not None:
        array = array.astype(_numeric_dtype(dtype), copy=False)
    out = Tensor(array)
    return out.requires_grad_(True) if requires_grad else out


def _float(dtype):
    return dtype if dtype is not None else dtypes.get_default_dtype()


def _floating(where, dtype):
    """The dtype of random floats: the default one, or `dtype` if it is floating-point
    (PyTorch has no uniform or normal draws of integers or bools)."""
    dtype = _numeric_dtype(_float(dtype))
    if dtype.kind not in "fc":
        raise TypeError(f"{where}: dtype={dtype} is not a floating-point dtype; draw floats "
                        f"and convert, or use randint for integers")
    return dtype


def _finite(where, **numbers):
    for name, value in numbers.items():
        if not math.isfinite(value):
            raise ValueError(f"{where}: {name} must be finite, got {value}")


def _count(where, name, n):
    """`n` as a count: an int >= 0."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an int, got {n!r} ({type(n).__name__})")
    if n < 0:
        raise ValueError(f"{where}: {name} must be greater or equal to 0, got {n}")
    return int(n)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data`, its dtype inferred as torch.tensor's: Python
    floats -> float32, ints -> int64, bools -> bool; arrays and tensors keep theirs."""
    array = np.array(_as_array(data, dtype), copy=True)
    return _make("tensor", array, None, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """A tensor sharing `data`'s memory where it can (an ndarray or tensor of that dtype)."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return _make("as_tensor", _as_array(data, dtype), None, device)


def from_numpy(array):
    """A tensor whose `.data` is `array` itself: writes to either show in both."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _make("zeros", np.zeros(_shape("zeros", size), _numeric_dtype(_float(dtype))), None,
                 device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _make("ones", np.ones(_shape("ones", size), _numeric_dtype(_float(dtype))), None,
                 device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Uninitialised in PyTorch; zeros here (reproducible, and no cheaper in NumPy to skip)."""
    return _make("empty", np.zeros(_shape("empty", size), _numeric_dtype(_float(dtype))), None,
                 device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """`size` filled with `fill_value`; the dtype follows the value (bool, int64, float32)."""
    value = _as_array(fill_value)
    dtype = value.dtype if dtype is None else _numeric_dtype(dtype)
    if dtype.kind in "iub" and value.dtype.kind in "fc" and not np.isfinite(value).all():
        raise ValueError(f"full: fill_value {fill_value} cannot be converted to dtype {dtype}")
    return _make("full", np.full(_shape("full", (size,)), value, dtype), None, device,
                 requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    n = _count("eye", "n", n)
    m = n if m is None else _count("eye", "m", m)
    return _make("eye", np.eye(n, m, dtype=_numeric_dtype(_float(dtype))), None, device,
                 requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """start, start + step, ... below end; int64 when every bound is an int, else float32."""
    if end is None:
        start, end = 0, start
    _finite("arange", start=start, end=end, step=step)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and lower bound inconsistent with step sign: "
                         f"start={start}, end={end}, step={step}")
    integral = all(isinstance(x, (int, np.integer)) for x in (start, end, step))
    if dtype is None:
        dtype = dtypes.int64 if integral else dtypes.get_default_dtype()
    return _make("arange", np.arange(start, end, step, dtype=np.float64 if not integral
                                     else np.int64), dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    steps = _count("linspace", "steps", steps)
    return _make("linspace", np.linspace(start, end, steps), _float(dtype), device,
                 requires_grad)


def _like(input, dtype):
    return input.dtype if dtype is None else dtype


def zeros_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return zeros(input.shape, dtype=_like(input, dtype), device=device,
                 requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return ones(input.shape, dtype=_like(input, dtype), device=device,
                requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return zeros_like(input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    return full(input.shape, fill_value, dtype=_like(input, dtype), device=device,
                requires_grad=requires_grad)


# --- random ------------------------------------------------------------------------------

def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    return _make("rand", rng(generator).random(_shape("rand", size)), _floating("rand", dtype),
                 device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    return _make("randn", rng(generator).standard_normal(_shape("randn", size)),
                 _floating("randn", dtype), device, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high): `randint(high, size)` or `randint(low, high, size)`."""
    if size is None:  # randint(high, size): the two-argument form
        low, high, size = 0, low, high
    if size is None or high is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    low, high = (_integer_bound("randint", name, x) for name, x in (("low", low),
                                                                    ("high", high)))
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be larger than low ({low})")
    return _make("randint", rng(generator).integers(low, high, _shape("randint", (size,))),
                 dtype or dtypes.int64, device, requires_grad)


def _integer_bound(where, name, x):
    """An integer bound of randint: an int, or a float with an integral value."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or \
            not (isinstance(x, (int, np.integer)) or float(x).is_integer()):
        raise TypeError(f"{where}: {name} must be an integer, got {x!r}")
    return int(x)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    n = _count("randperm", "n", n)
    return _make("randperm", rng(generator).permutation(n), dtype or dtypes.int64, device,
                 requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal draws: `normal(mean, std, size)` with numbers, or tensors of means and stds
    (broadcast together) giving one draw each."""
    mean_array = mean.data if isinstance(mean, Tensor) else mean
    std_array = std.data if isinstance(std, Tensor) else std
    if not np.all(np.asarray(std_array) >= 0):  # NaN fails too
        raise ValueError(f"normal: std must be >= 0, got {std_array}")
    if size is not None:
        shape = _shape("normal", (size,))
    else:
        try:
            shape = np.broadcast_shapes(np.shape(mean_array), np.shape(std_array))
        except ValueError:
            raise InvalidArgument(f"normal: mean of shape {np.shape(mean_array)} and std of "
                                  f"shape {np.shape(std_array)} do not broadcast") from None
    like = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    return _make("normal", rng(generator).normal(mean_array, std_array, shape),
                 _floating("normal", dtype or (like.dtype if like is not None else None)),
                 device, requires_grad)


def rand_like(input, generator=None, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, generator=generator, dtype=_like(input, dtype), device=device,
                requires_grad=requires_grad)


def randn_like(input, generator=None, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, generator=generator, dtype=_like(input, dtype), device=device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=_like(input, dtype),
                   device=device)
