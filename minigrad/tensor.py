"""The autograd engine: Tensor, Function, no_grad and backward, readable top to bottom.

A Tensor wraps a NumPy array. An op is a `Function` subclass; `Function.apply` runs its
forward on the arrays and, when a gradient is wanted, keeps the Function instance as the
output's `_ctx`. The graph is made of these contexts: each holds whatever its forward
saved and, in `parents`, one node per input: the Function that computed it, the input
itself if it is a leaf that requires grad, or None (as PyTorch's `grad_fn.next_functions`).
A context does not hold its inputs' values, so an intermediate result is freed as soon as
nothing but the graph would refer to it. A backward pass walks the contexts from the output
to the leaves in topological order.

No node refers back to its output, so graphs contain no reference cycles and Python's
reference counting frees them the moment the last Tensor of a step goes out of scope.
"""
import contextlib
import weakref

import numpy as np

from . import dtypes
from .device import cpu, check_device
from .device import device as Device
from .random import rng

_grad_enabled = True


def is_grad_enabled():
    """True unless inside `no_grad()` (or `set_grad_enabled(False)`)."""
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Sets grad mode inside a `with` block or a decorated function (with or without
    parentheses: `@no_grad` and `@no_grad()`); `mode` None leaves it as it is."""

    mode = None

    def __new__(cls, func=None, *args, **kwargs):
        self = super().__new__(cls)
        if callable(func):  # used bare, as @no_grad: decorate at once
            self.__init__()
            return self(func)
        return self

    def __enter__(self):
        global _grad_enabled
        self._previous = _grad_enabled
        if self.mode is not None:
            _grad_enabled = self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._previous

    def _recreate_cm(self):
        # a fresh context for every call of a decorated function, so recursion unwinds right
        fresh = object.__new__(type(self))
        fresh.mode = self.mode
        return fresh


class no_grad(_GradMode):
    """Inside `with no_grad():` (or a function decorated `@no_grad()`) ops record no graph."""

    def __init__(self, func=None):
        self.mode = False


class enable_grad(_GradMode):
    """Record graphs again inside a `no_grad()` block."""

    def __init__(self, func=None):
        self.mode = True


class inference_mode(_GradMode):
    """`no_grad()` under PyTorch's other name; `inference_mode(False)` changes nothing."""

    def __init__(self, mode=True):
        self.mode = False if mode else None


class set_grad_enabled(_GradMode):
    """Switch gradient recording on or off: at once when called as a function; for the
    block or the decorated function's calls when used as a context or decorator."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        global _grad_enabled
        self.mode = bool(mode)
        self._previous, _grad_enabled = _grad_enabled, self.mode

    def __enter__(self):
        pass  # the mode was set when this object was made; __exit__ restores the one before

    def __call__(self, func):
        global _grad_enabled
        _grad_enabled = self._previous  # a decorator changes the mode only inside func
        return super().__call__(func)

    def _recreate_cm(self):
        return (enable_grad if self.mode else no_grad)()


# --- the version counter -----------------------------------------------------------------
# An in-place write changes an array that a graph may have saved for backward. PyTorch keeps
# a version number per tensor; here the unit is the memory buffer (views share it): each
# write stamps its buffer with the running count of writes, each recorded op notes the
# count when it ran, and backward refuses a node whose saved arrays were stamped later.

_writes = 0
_write_stamps = {}  # id(buffer) -> [writes to this buffer, global count at the latest]


def _buffer(array):
    """The ndarray that owns `array`'s memory (itself, or the base at the end of its views)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def mark_written(array):
    """Record an in-place write into `array` (and so into every view of its buffer)."""
    global _writes
    _writes += 1
    buffer = _buffer(array)
    stamp = _write_stamps.get(id(buffer))
    if stamp is None:
        stamp = _write_stamps[id(buffer)] = [0, 0]
        weakref.finalize(buffer, _write_stamps.pop, id(buffer), None)  # ids are reused
    stamp[0] += 1
    stamp[1] = _writes


def _check_saved_unchanged(node):
    """Raise if an array `node` saved for backward was written in place after it ran."""
    for array in node.saved_tensors:
        if isinstance(array, np.ndarray):
            stamp = _write_stamps.get(id(_buffer(array)))
            if stamp is not None and stamp[1] > node._writes_seen:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: an array of shape {list(array.shape)} that "
                    f"{type(node).__name__} saved for backward was written after the forward "
                    f"pass. Hint: use the out-of-place op, or clone() the tensor before "
                    f"modifying it.")


def _as_array(data, dtype=None, legacy=False):
    """The ndarray behind a new Tensor. ndarrays (and NumPy scalars) keep their dtype and are
    not copied; Python data follows `torch.tensor` (floats -> float32, ints -> int64, bools
    -> bool), or with `legacy` the `torch.Tensor(...)` constructor (float32 always); float32
    is `dtypes.get_default_dtype()`, as in PyTorch."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return _numeric(np.asarray(data, dtype=_numeric_dtype(dtype)), data)
    if isinstance(data, np.ndarray):
        return _numeric(data, data)
    if isinstance(data, np.generic):
        return _numeric(np.asarray(data), data)
    array = np.asarray(data)
    if array.dtype.kind == "f" or (legacy and array.dtype.kind in "biu"):
        return array.astype(dtypes.get_default_dtype())
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "b":
        return array
    if array.dtype.kind == "c":
        return array.astype(np.complex64)
    return _numeric(array, data)


_NUMERIC_KINDS = "biufc"  # bool, signed and unsigned integers, floats, complex: tensor dtypes


def _numeric_dtype(dtype):
    """`dtype` as a NumPy dtype, refused (TypeError naming it) unless a tensor can have it."""
    dtype = np.dtype(dtype)
    if dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"Tensor: dtype={dtype} is not a tensor dtype; expected a bool, "
                        f"integer, floating-point or complex dtype")
    return dtype


def _numeric(array, data):
    """`array` if it holds plain numbers or bools; strings, bytes, objects, structured
    records and dates have no tensor dtype (as in PyTorch), and are refused."""
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} of NumPy "
                        f"dtype {array.dtype}; expected numbers or bools (lists, ndarrays)")
    return array


def _check_gradient_count(node, parent_grads):
    """A backward must return one gradient (or None) per input; extra ones must be None
    (PyTorch's rule: they stand for non-tensor arguments)."""
    inputs = len(node.parents)
    if len(parent_grads) < inputs or any(g is not None for g in parent_grads[inputs:]):
        raise RuntimeError(f"function {type(node).__name__}.backward returned an incorrect "
                           f"number of gradients (expected {inputs}, one per input, got "
                           f"{len(parent_grads)})")


def _fit_gradient(node, parent_grads, grad, shape):
    """`grad`, one of the `parent_grads` that `node.backward` returned, as an ndarray of its
    input's `shape`: a NumPy scalar or Tensor converted, a broadcast one summed back to
    `shape` (as PyTorch does); anything else refused, naming the op, input and shapes."""
    name = type(node).__name__
    index = next(i for i, g in enumerate(parent_grads) if g is grad)
    if isinstance(grad, Tensor):
        grad = grad.data
    if not isinstance(grad, (np.ndarray, np.generic)):
        raise TypeError(f"function {name}.backward returned a {type(grad).__name__} as the "
                        f"gradient of input {index}; expected an ndarray (or None)")
    grad = _numeric(np.asarray(grad), grad)
    fitted = grad
    if grad.shape != shape and grad.ndim >= len(shape):
        fitted = unbroadcast(grad, shape)  # any size-1 or missing axis of `shape` is summed
    if fitted.shape != shape:
        raise RuntimeError(f"function {name}.backward returned an invalid gradient for input "
                           f"{index}: got shape {grad.shape}, expected shape {shape} (or one "
                           f"it broadcasts to)")
    return fitted


def hook_result(hook, replaced, grad):
    """The gradient after a hook ran: `grad`, or the array the hook returned in its place,
    which must have the same shape (PyTorch refuses a hook that changes the size)."""
    if replaced is None:
        return grad
    value = replaced.data if isinstance(replaced, Tensor) else replaced
    if not isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        raise TypeError(f"hook {getattr(hook, '__qualname__', hook)!r} returned a "
                        f"{type(replaced).__name__}; a hook returns None or a gradient array")
    value = _numeric(np.asarray(value), replaced)
    if value.shape != grad.shape:
        raise RuntimeError(f"hook {getattr(hook, '__qualname__', hook)!r} has changed the size "
                           f"of the gradient: it returned shape {value.shape}, the gradient has "
                           f"shape {grad.shape}")
    return value.astype(grad.dtype, copy=False)


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: the adjoint of broadcasting is a sum over broadcast axes."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


class Size(tuple):
    """A tensor's shape, as `torch.Size`: a tuple of ints with `numel()`. Its repr is
    PyTorch's form; `str()` (and so every error message) reads as a plain tuple."""

    def numel(self):
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self):
        return f"minigrad.Size({list(self)})"

    def __str__(self):
        return tuple.__repr__(self)

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))


def _one_element(t, what, error=RuntimeError):
    if t.data.size != 1:
        raise error(f"a Tensor with {t.data.size} elements cannot be converted to {what}; "
                    f"only one-element tensors can")
    return t.data.reshape(()).item()


def _check_result(t, out):
    """May `out` be written into tensor `t` in place (PyTorch's checks)?"""
    if out.shape != t.shape:
        raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast "
                           f"shape {list(out.shape)}")
    if not np.can_cast(out.dtype, t.dtype, "same_kind"):
        raise RuntimeError(f"result type {out.dtype} can't be cast to the desired output "
                           f"type {t.dtype}")
    _check_writeable(t)


def _check_writeable(t):
    if not t.data.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location (an expand()ed "
                           "tensor?); clone() it first")


def _dim_args(name, dim, keepdim, axis, keepdims):
    """PyTorch's `dim`/`keepdim`, with NumPy's `axis`/`keepdims` accepted as aliases."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name}: got both dim={dim!r} and its alias axis={axis!r}")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)


def _sizes(sizes):
    """`f(2, 3)` and `f((2, 3))` both give (2, 3), as PyTorch's size arguments."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return sizes


def _shape(where, sizes):
    """The shape a factory makes, from `f(2, 3)` or `f((2, 3))`: ints >= 0, else an error
    naming `where` and the sizes (NumPy would say only "negative dimensions")."""
    shape = _sizes(sizes)
    if not isinstance(shape, tuple):
        shape = (shape,)
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{where}: size must be ints, got {shape!r} (an element of type "
                            f"{type(n).__name__})")
        if n < 0:
            raise ValueError(f"{where}: trying to create a tensor with negative dimension "
                             f"{n}: size {list(shape)}")
    return tuple(int(n) for n in shape)


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    `Tensor(data, requires_grad=False, dtype=None)`; `data` is an ndarray (kept as is, not
    copied: `.data` is that array), a Tensor, or a nested list or number, which gives
    float32 as PyTorch's legacy `torch.Tensor([...])` (`mg.tensor` infers the dtype).
    Ints alone are the legacy sizes form: `Tensor(2, 3)` is a (2, 3) tensor (of zeros) and
    `Tensor(3)` has shape (3,), as in PyTorch; a float is a value (`Tensor(2.5)` is 0-d).
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_hooks", "__weakref__")
    __array_priority__ = 100  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data=(), *sizes, requires_grad=False, dtype=None, device=None):
        check_device("Tensor", device)
        if sizes or (isinstance(data, int) and not isinstance(data, bool)):
            shape = (data, *sizes)
            if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
                raise TypeError(f"Tensor: expected data, or sizes that are ints >= 0, got "
                                f"{shape}")
            data = np.zeros(shape, _numeric_dtype(dtype or dtypes.get_default_dtype()))
        self.data = _as_array(data, dtype, legacy=True)
        self.grad = None
        self._ctx = None
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data, requires_grad, ctx):
        """Fast constructor used by `Function.apply`: no dtype rules, no checks."""
        t = object.__new__(cls)
        t.data, t.grad, t.requires_grad, t._ctx, t._hooks = data, None, requires_grad, ctx, None
        return t

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(f"requires_grad: only floating-point tensors can require "
                            f"gradients, got dtype {self.data.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False): this tensor is computed by an op; "
                               "use detach() to get one outside the graph")
        self.requires_grad = bool(requires_grad)
        return self

    # --- what it is -------------------------------------------------------------------
    shape = property(lambda self: Size(self.data.shape))
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: cpu)
    is_cuda = False
    is_leaf = property(lambda self: self._ctx is None)
    grad_fn = property(lambda self: self._ctx, doc="The Function that computed this tensor.")
    T = property(lambda self: ops.permute(self))
    mT = property(lambda self: ops.transpose(self, -2, -1))
    _version = property(lambda self: (_write_stamps.get(id(_buffer(self.data))) or [0])[0],
                        doc="How many in-place writes its memory has had.")

    def size(self, dim=None):
        """The shape (a `Size`), or the length of axis `dim`."""
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[ops.normalize_axis(dim, self.ndim)[0]]

    def numel(self):
        return self.data.size

    nelement = numel

    def dim(self):
        return self.data.ndim

    ndimension = dim

    def element_size(self):
        return self.data.itemsize

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __contains__(self, element):
        return bool((self == element).data.any())

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, prefix='Tensor(')}, dtype={self.dtype}{grad})"

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    # --- one element as a Python number (PyTorch's rules) --------------------------------
    def __bool__(self):
        if self.data.size != 1:
            amount = "no values" if self.data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {amount} is ambiguous")
        return bool(self.data.reshape(()))

    def __int__(self):
        return int(_one_element(self, "a Python int", ValueError))

    def __float__(self):
        return float(_one_element(self, "a Python float", ValueError))

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to "
                            f"an index, got dtype {self.dtype} and shape {tuple(self.shape)}")
        return int(self.data.reshape(()))

    def item(self):
        return _one_element(self, "a Python scalar")

    def tolist(self):
        return self.data.tolist()

    def numpy(self):
        return self.data

    # --- copies, dtypes and devices -------------------------------------------------------
    def detach(self):
        """The same values (the same array) outside the graph."""
        return Tensor._wrap(self.data, False, None)

    def clone(self):
        return ops.clone(self)

    def contiguous(self, memory_format=None):
        """Itself if its array is C-contiguous, else a C-ordered copy (in the graph)."""
        return self if self.data.flags.c_contiguous else ops.clone(self)

    def is_contiguous(self, memory_format=None):
        return self.data.flags.c_contiguous

    def astype(self, dtype):
        return ops.astype(self, dtype)

    # each returns the tensor itself when it already has that dtype, as PyTorch
    def float(self): return self.to(np.float32)
    def double(self): return self.to(np.float64)
    def half(self): return self.to(np.float16)
    def long(self): return self.to(np.int64)
    def int(self): return self.to(np.int32)
    def short(self): return self.to(np.int16)
    def byte(self): return self.to(np.uint8)
    def bool(self): return self.to(np.bool_)

    def type(self, dtype=None):
        """With no argument the type's name ('minigrad.float32'); else `to(dtype)`."""
        if dtype is None:
            return f"minigrad.{self.dtype}"
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
           memory_format=None):
        """`to(dtype)`, `to(device)`, `to(other)`, `to(device, dtype)`: a tensor of that dtype
        on the CPU; `self` when nothing changes (a copy with copy=True), as PyTorch."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, (str, Device)):
                device = arg
            else:
                dtype = arg
        check_device("Tensor.to", device)
        out = self if dtype is None or np.dtype(dtype) == self.dtype else self.astype(dtype)
        return out.clone() if copy and out is self else out

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        check_device("Tensor.cuda", "cuda")

    def new_tensor(self, data, dtype=None):
        return Tensor(_as_array(data, dtype or self.dtype).copy())

    def new_zeros(self, *size, dtype=None):
        return Tensor(np.zeros(_shape("new_zeros", size), _numeric_dtype(dtype or self.dtype)))

    def new_ones(self, *size, dtype=None):
        return Tensor(np.ones(_shape("new_ones", size), _numeric_dtype(dtype or self.dtype)))

    def new_empty(self, *size, dtype=None):
        return Tensor(np.zeros(_shape("new_empty", size), _numeric_dtype(dtype or self.dtype)))

    def new_full(self, size, fill_value, dtype=None):
        return Tensor(np.full(_shape("new_full", (size,)), fill_value,
                              _numeric_dtype(dtype or self.dtype)))

    # --- gradients --------------------------------------------------------------------
    def zero_grad(self):
        self.grad = None

    def register_hook(self, fn):
        """Call `fn(grad)` with this tensor's gradient during backward; a returned array
        replaces it. The hook lives on the tensor's graph node (its Function, or itself)."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no "
                               "gradient will reach it")
        if not callable(fn):
            raise TypeError(f"register_hook: fn must be callable, got {type(fn).__name__}")
        node = _graph_node(self)
        node._hooks = (node._hooks or []) + [fn]

    def retain_grad(self):
        """Keep this intermediate tensor's gradient in `.grad` at backward (leaves do anyway)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        if self._ctx is None:
            return
        tensor = weakref.ref(self)  # the graph must not keep its outputs alive

        def keep(grad):
            t = tensor()
            if t is not None:
                t.grad = grad.copy() if t.grad is None else np.asarray(t.grad + grad)

        self._ctx._hooks = (self._ctx._hooks or []) + [keep]

    # --- backward --------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf), weighted by `grad`, into every leaf's `.grad`.

        The walk is iterative (no recursion limit): count how many consumers each node has
        in this graph, then release a node once all of its consumers have sent their
        gradient, so every node's gradient is complete (the sum of all paths) when used.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no graph "
                               "(was it computed under no_grad(), or from constants only?)")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward: grad can be implied only for a scalar output; "
                                   f"this output has shape {self.shape}, pass grad= of that shape")
            grad = np.ones_like(self.data)
        else:
            grad = _numeric(np.asarray(grad.data if isinstance(grad, Tensor) else grad), grad)
            if grad.shape != self.shape:
                raise ValueError(f"backward: grad has shape {grad.shape}, "
                                 f"expected the output's shape {self.shape}")
            grad = grad.astype(self.dtype, copy=False)
        root = _graph_node(self)
        pending = _count_consumers(root)
        grads = {id(root): grad}
        ready = [root]
        while ready:
            node = ready.pop()
            g = grads.pop(id(node))  # an ndarray: every gradient is made one as it is sent
            if node._hooks:
                for hook in node._hooks:
                    g = hook_result(hook, hook(g), g)
            if isinstance(node, Tensor):  # a leaf: accumulate, as PyTorch does
                # order="K" keeps g's memory layout: a transposed weight gradient is copied
                # straight through, not rearranged
                node.grad = g.copy(order="K") if node.grad is None \
                    else np.asarray(node.grad + g)
                continue
            if node._writes_seen != _writes:  # something was written in place since
                _check_saved_unchanged(node)
            if node.saved_tensors is None:
                raise RuntimeError(f"backward: trying to backward through {type(node).__name__} "
                                   "a second time; its saved values were freed by the first "
                                   "backward(). Pass retain_graph=True to the first call.")
            parent_grads = node.backward(g)
            if not isinstance(parent_grads, tuple):
                parent_grads = (parent_grads,)
            if len(parent_grads) != len(node.parents):
                _check_gradient_count(node, parent_grads)
            if not retain_graph and node.saved_tensors:
                node.saved_tensors = None
            for parent, pg in zip(node.parents, parent_grads):
                if pg is None or parent is None:
                    continue
                shape, dtype = (parent.data.shape, parent.data.dtype) \
                    if isinstance(parent, Tensor) else parent._output
                if type(pg) is not _ndarray or pg.shape != shape:
                    pg = _fit_gradient(node, parent_grads, pg, shape)
                if pg.dtype != dtype:
                    pg = pg.astype(dtype)
                key = id(parent)
                if key in grads:  # another path's: add (a 0-d sum is a NumPy scalar: an array)
                    grads[key] = np.asarray(grads[key] + pg)
                else:
                    grads[key] = pg
                pending[key] -= 1
                if pending[key] == 0:
                    ready.append(parent)

    # --- operators ----------------------------------------------------------------------
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __floordiv__(self, other): return ops.constant(np.floor_divide, self, other)
    def __rfloordiv__(self, other): return ops.constant(np.floor_divide, other, self)
    def __mod__(self, other): return ops.constant(np.mod, self, other)
    def __rmod__(self, other): return ops.constant(np.mod, other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __getitem__(self, index): return ops.getitem(self, index)
    def __lt__(self, other): return ops.constant(np.less, self, other)
    def __le__(self, other): return ops.constant(np.less_equal, self, other)
    def __gt__(self, other): return ops.constant(np.greater, self, other)
    def __ge__(self, other): return ops.constant(np.greater_equal, self, other)
    def __eq__(self, other): return ops.constant(np.equal, self, other)
    def __ne__(self, other): return ops.constant(np.not_equal, self, other)
    def __and__(self, other): return ops.constant(np.bitwise_and, self, other)
    def __or__(self, other): return ops.constant(np.bitwise_or, self, other)
    def __xor__(self, other): return ops.constant(np.bitwise_xor, self, other)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    def __invert__(self): return ops.constant(np.invert, self)
    __hash__ = object.__hash__

    def add(self, other, alpha=1): return ops.add(self, other if alpha == 1 else other * alpha)
    def sub(self, other, alpha=1): return ops.sub(self, other if alpha == 1 else other * alpha)
    def mul(self, other): return ops.mul(self, other)
    def div(self, other, rounding_mode=None): return ops.divide(self, other, rounding_mode)
    def pow(self, exponent): return ops.pow(self, exponent)
    def matmul(self, other): return ops.matmul(self, other)
    def mm(self, other): return ops.mm(self, other)
    def bmm(self, other): return ops.bmm(self, other)
    def dot(self, other): return ops.dot(self, other)
    def eq(self, other): return self == other
    def ne(self, other): return self != other
    def lt(self, other): return self < other
    def le(self, other): return self <= other
    def gt(self, other): return self > other
    def ge(self, other): return self >= other
    def equal(self, other): return self.shape == other.shape and bool((self == other).data.all())
    def logical_not(self): return ops.constant(np.logical_not, self)
    def logical_and(self, other): return ops.constant(np.logical_and, self, other)
    def logical_or(self, other): return ops.constant(np.logical_or, self, other)
    def isnan(self): return ops.constant(np.isnan, self)
    def isinf(self): return ops.constant(np.isinf, self)
    def isfinite(self): return ops.constant(np.isfinite, self)
    true_divide = div
    multiply, subtract, divide = mul, sub, div

    # --- elementwise math --------------------------------------------------------------
    def neg(self): return ops.neg(self)
    def abs(self): return ops.abs(self)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def rsqrt(self): return 1 / ops.sqrt(self)
    def square(self): return self * self
    def reciprocal(self): return 1 / self
    def sigmoid(self): return ops.sigmoid(self)
    def tanh(self): return ops.tanh(self)
    def relu(self): return ops.relu(self)
    def sign(self): return ops.step(np.sign, self)
    def floor(self): return ops.step(np.floor, self)
    def ceil(self): return ops.step(np.ceil, self)
    def round(self): return ops.step(np.round, self)
    def trunc(self): return ops.step(np.trunc, self)
    def maximum(self, other): return ops.maximum(self, other)
    def minimum(self, other): return ops.minimum(self, other)
    def clamp(self, min=None, max=None): return ops.clamp(self, min, max)
    clip = clamp
    def clamp_min(self, min): return ops.clamp(self, min, None)
    def clamp_max(self, max): return ops.clamp(self, None, max)
    def softmax(self, dim):
        ops.normalize_axis(dim, self.ndim)  # a float or out-of-range dim: an error naming it
        return ops.softmax(self, dim)

    def log_softmax(self, dim):
        ops.normalize_axis(dim, self.ndim)
        return ops.log_softmax(self, dim)
    def masked_fill(self, mask, value):
        """`value` where `mask` holds; a number takes this tensor's dtype (as PyTorch)."""
        return ops.where(mask, value if isinstance(value, Tensor) else ops.cast(value, self.dtype),
                         self)
    def where(self, condition, other): return ops.where(condition, self, other)

    # --- reductions (PyTorch's dim/keepdim; NumPy's axis/keepdims accepted) ---------------
    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        dim, keepdim = _dim_args("sum", dim, keepdim, axis, keepdims)
        return ops.sum(self if dtype is None else self.to(dtype), dim, keepdim)

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        dim, keepdim = _dim_args("mean", dim, keepdim, axis, keepdims)
        source = self if dtype is None else self.to(dtype)
        if source.dtype.kind not in "fc":
            raise RuntimeError(f"mean(): input dtype must be floating point, got "
                               f"{source.dtype}; pass dtype= or call .float() first")
        return ops.mean(source, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None, ddof=None):
        """Variance with `correction` (default 1: unbiased, as PyTorch); `unbiased=False`
        or NumPy's `ddof=0` give the population variance."""
        dim, keepdim = _dim_args("var", dim, keepdim, axis, keepdims)
        if sum(x is not None for x in (unbiased, correction, ddof)) > 1:
            raise TypeError("var: give at most one of unbiased, correction and ddof")
        if unbiased is not None:
            correction = int(bool(unbiased))
        elif ddof is not None:
            correction = ddof
        return ops.var(self, dim, 1 if correction is None else correction, keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None, ddof=None):
        return ops.sqrt(self.var(dim, unbiased, keepdim, correction=correction, axis=axis,
                                 keepdims=keepdims, ddof=ddof))

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return ops.prod(self if dtype is None else self.to(dtype), dim, keepdim)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """The largest element; with `dim`, the named tuple (values, indices) along it; with
        a tensor, the elementwise maximum (all as torch.max)."""
        if isinstance(dim, Tensor):
            return ops.maximum(self, dim)
        dim, keepdim = _dim_args("max", dim, keepdim, axis, keepdims)
        return ops.max(self) if dim is None else ops.max_along(self, dim, keepdim, largest=True)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if isinstance(dim, Tensor):
            return ops.minimum(self, dim)
        dim, keepdim = _dim_args("min", dim, keepdim, axis, keepdims)
        return ops.min(self) if dim is None else ops.max_along(self, dim, keepdim, largest=False)

    def amax(self, dim=(), keepdim=False):
        return ops.max(self, dim if dim != () else None, keepdim)

    def amin(self, dim=(), keepdim=False):
        return ops.min(self, dim if dim != () else None, keepdim)

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _dim_args("argmax", dim, keepdim, axis, keepdims)
        return ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _dim_args("argmin", dim, keepdim, axis, keepdims)
        return ops.argmin(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return ops.constant(np.all, self, axis=ops.normalize_axis(dim, self.ndim),
                            keepdims=keepdim)

    def any(self, dim=None, keepdim=False):
        return ops.constant(np.any, self, axis=ops.normalize_axis(dim, self.ndim),
                            keepdims=keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        return ops.vector_norm(self, p, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return ops.logsumexp(self, dim, keepdim)

    def cumsum(self, dim):
        return ops.cumsum(self, dim)

    def sort(self, dim=-1, descending=False, stable=False):
        return ops.sort(self, dim, descending)

    def argsort(self, dim=-1, descending=False, stable=False):
        return ops.sort(self, dim, descending).indices

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return ops.topk(self, k, dim, largest)

    # --- shapes and indexing -------------------------------------------------------------
    def view(self, *shape): return ops.reshape(self, *shape)
    def view_as(self, other): return ops.reshape(self, other.shape)
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def reshape_as(self, other): return ops.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def unflatten(self, dim, sizes): return ops.unflatten(self, dim, sizes)
    def permute(self, *dims): return ops.permute(self, *dims)
    def transpose(self, dim0, dim1): return ops.transpose(self, dim0, dim1)
    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape "
                             f"{tuple(self.shape)}; use transpose(dim0, dim1)")
        return ops.permute(self)

    def squeeze(self, dim=None): return ops.squeeze(self, dim)
    def unsqueeze(self, dim): return ops.unsqueeze(self, dim)
    def expand(self, *sizes): return ops.expand(self, _sizes(sizes))
    def expand_as(self, other): return ops.expand(self, other.shape)
    def broadcast_to(self, shape): return ops.expand(self, shape)
    def repeat(self, *sizes): return ops.repeat(self, _sizes(sizes))
    def flip(self, *dims): return ops.flip(self, _sizes(dims))
    def chunk(self, chunks, dim=0): return ops.chunk(self, chunks, dim)
    def split(self, split_size_or_sections, dim=0):
        return ops.split(self, split_size_or_sections, dim)
    def unbind(self, dim=0): return ops.unbind(self, dim)
    def narrow(self, dim, start, length): return ops.narrow(self, dim, start, length)
    def index_select(self, dim, index): return ops.index_select(self, dim, index)
    def gather(self, dim, index): return ops.gather(self, dim, index)
    def nonzero(self): return ops.constant(np.argwhere, self)

    # --- in place ---------------------------------------------------------------------
    def _write(self, compute, *operands):
        """An in-place op: run `compute(self_values, *operands)` with ops, write the result
        into this tensor's own array (views of it see the change) and count the write.

        When a gradient flows, the ops read a copy of the old values (so nothing saved for
        backward is overwritten) and the tensor takes the result's place in the graph, as in
        PyTorch. A view made by indexing writes through its base: `base[index] = result`
        rebases the base's graph too, and the view becomes a view of the new base.
        """
        records = _grad_enabled and (self.requires_grad or any(
            isinstance(x, Tensor) and x.requires_grad for x in operands))
        if not records:
            return self._store(compute(self, *operands))
        if self._ctx is None and self.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation; do it under no_grad(), or on a clone()")
        out = compute(Tensor._wrap(self.data.copy(), self.requires_grad, self._ctx), *operands)
        base = self._ctx.base() if getattr(self._ctx, "base", None) is not None else None
        if base is not None:
            _check_result(self, out)
            base[self._ctx.index] = out
            self._ctx = ops.getitem(base, self._ctx.index)._ctx
        elif getattr(self._ctx, "is_view", False) or (self._ctx is None
                                                      and self.data.base is not None):
            raise RuntimeError(
                "an in-place operation with a gradient on a reshaped, permuted or expanded "
                "view of another tensor is not supported by minigrad (its base would not see "
                "the gradient); write through the base tensor (base[index] = value) or use "
                "out-of-place ops")
        else:
            self._store(out)
            self._ctx = out._ctx
        self.requires_grad = True
        return self

    def _store(self, out):
        """Copy `out`'s values into this tensor's array and count the write."""
        _check_result(self, out)
        np.copyto(self.data, out.data, casting="same_kind")
        mark_written(self.data)
        return self

    def __setitem__(self, index, value):
        """`t[index] = value`, in place; differentiable in `value` and in the rest of `t`."""
        index = ops.plain_index(index)
        if _grad_enabled and (self.requires_grad or getattr(value, "requires_grad", False)):
            self._write(lambda t, v: ops.setitem(t, index, v), value)
            return
        _check_writeable(self)
        self.data[index] = value.data if isinstance(value, Tensor) else value
        mark_written(self.data)

    def add_(self, other, alpha=1): return self._write(lambda t, o: t.add(o, alpha), other)
    def sub_(self, other, alpha=1): return self._write(lambda t, o: t.sub(o, alpha), other)
    def mul_(self, other): return self._write(ops.mul, other)
    def div_(self, other, rounding_mode=None):
        return self._write(lambda t, o: ops.divide(t, o, rounding_mode), other)
    def pow_(self, exponent): return self._write(ops.pow, exponent)
    def clamp_(self, min=None, max=None): return self._write(lambda t: ops.clamp(t, min, max))
    clip_ = clamp_
    def relu_(self): return self._write(ops.relu)
    def neg_(self): return self._write(ops.neg)
    def exp_(self): return self._write(ops.exp)
    def sqrt_(self): return self._write(ops.sqrt)
    def masked_fill_(self, mask, value):
        return self._write(lambda t, v: t.masked_fill(mask, v), value)
    def copy_(self, src, non_blocking=False): return self._write(ops.fill, src)
    def fill_(self, value): return self._write(ops.fill, value)
    def zero_(self): return self._write(ops.fill, 0)
    __iadd__, __isub__, __imul__, __itruediv__, __ipow__ = add_, sub_, mul_, div_, pow_

    # PyTorch's checks on the parameters of the draws (NaN fails every comparison)
    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        if not std >= 0:
            raise ValueError(f"normal_: std must be >= 0, got {std}")
        return self.fill_(Tensor(rng(generator).normal(mean, std, self.shape), dtype=self.dtype))

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        if not (a <= b and np.isfinite(a) and np.isfinite(b)):
            raise ValueError(f"uniform_: expects a finite range a <= b, got a={a}, b={b}")
        return self.fill_(Tensor(rng(generator).uniform(a, b, self.shape), dtype=self.dtype))

    def bernoulli_(self, p=0.5, *, generator=None):
        if not np.all((np.asarray(p) >= 0) & (np.asarray(p) <= 1)):
            raise ValueError(f"bernoulli_: p must be in [0, 1], got {p}")
        return self.fill_(Tensor(rng(generator).random(self.shape) < p, dtype=self.dtype))

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """self[... index[i][j] ...] = src[i][j] along `dim` (not differentiable)."""
        return self._write(lambda t: ops.scatter(t, dim, index, src, value, reduce))

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return ops.scatter(self, dim, index, src, value, reduce)

    def scatter_add_(self, dim, index, src):
        return self._write(lambda t: ops.scatter(t, dim, index, src, None, "add"))




def _graph_node(t):
    """The node standing for tensor `t` in a graph: the Function that computed it, `t`
    itself if it is a leaf that requires grad, or None (no gradient flows to it)."""
    if t._ctx is not None:
        return t._ctx
    return t if t.requires_grad else None


def _count_consumers(root):
    """For every node reachable from `root`: how many uses it has in this graph."""
    pending = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Tensor):  # a leaf
            continue
        for parent in node.parents:
            if parent is not None:
                key = id(parent)
                uses = pending.get(key, 0)
                if uses == 0:  # first seen: walk on through it
                    stack.append(parent)
                pending[key] = uses + 1
    return pending


class AccumulateGrad:
    """A leaf's entry in `grad_fn.next_functions`: where its gradient accumulates."""

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"


_ndarray = np.ndarray  # (a global name: one lookup, not two, in the backward loop)


class Function:
    """Base of every differentiable op; the instance is the backward context.

    Subclasses write `forward(self, *arrays, **params) -> ndarray` and
    `backward(self, grad) -> tuple` (one ndarray or None per input) and are called as
    `MyOp.apply(*tensors, **params)`.
    """

    _hooks = None  # gradient hooks of the tensor this Function computed (register_hook)
    is_view = False  # True where the output shares the input's memory (in-place ops refuse)

    @property
    def next_functions(self):
        """One (node, 0) pair per input, as PyTorch: the Function that computed it, an
        `AccumulateGrad` for a leaf that requires grad, or None."""
        return tuple((AccumulateGrad(p) if isinstance(p, Tensor) else p, 0)
                     for p in self.parents)

    def name(self):
        return f"{type(self).__name__}Backward"

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    @classmethod
    def apply(cls, *inputs, **params):
        # one plain loop over the inputs (not map() with attrgetter and partial: for one or
        # two inputs the iterator objects cost more than the work; Mul.apply on 1-element
        # arrays took 6.4 us of CPU that way, 4.8 us this way, measured on a loaded machine)
        arrays, parents, needs = [], [], []
        for x in inputs:
            if not isinstance(x, Tensor):  # a number or an ndarray: a constant input
                x = Tensor(x)
            # its node in the graph (_graph_node(x), written out: a call per input is not free)
            node = x._ctx if x._ctx is not None else x if x.requires_grad else None
            arrays.append(x.data)
            parents.append(node)
            needs.append(node is not None)  # does a gradient flow to it (backward skips the others)
        ctx = cls()
        ctx.saved_tensors = ()
        out = ctx.forward(*arrays, **params)
        if _grad_enabled and True in needs:
            ctx.parents, ctx.needs_input_grad = tuple(parents), tuple(needs)
            ctx._output = out.shape, out.dtype  # what a gradient sent here must be
            ctx._writes_seen = _writes
            return Tensor._wrap(out, True, ctx)
        return Tensor._wrap(out, False, None)

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must define backward")


from . import ops  # noqa: E402  (ops subclass Function, so they load after it)
