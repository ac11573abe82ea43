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
import functools
import operator

import numpy as np

_grad_enabled = True


def is_grad_enabled():
    """True unless inside `no_grad()`."""
    return _grad_enabled


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) inside which ops record no graph."""

    def __enter__(self):
        global _grad_enabled
        self._previous, _grad_enabled = _grad_enabled, False

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._previous


def _as_array(data, dtype=None):
    """Apply API.md's dtype rules: ndarrays keep theirs, Python floats -> float32, ints -> int64."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "b":
        return array
    raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} "
                    f"(NumPy dtype {array.dtype}); expected numbers, lists or ndarrays")


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


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    `Tensor(data, requires_grad=False, dtype=None)`; `data` is an ndarray (kept as is, not
    copied), a nested list, a scalar or a Tensor.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_hooks", "__weakref__")
    __array_priority__ = 100  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _as_array(data, dtype)
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

    def requires_grad_(self, flag=True):
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(f"requires_grad: only floating-point tensors can require "
                            f"gradients, got dtype {self.data.dtype}")
        self.requires_grad = bool(flag)
        return self

    # --- array-like attributes -------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    T = property(lambda self: ops.transpose(self))

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, prefix='Tensor(')}, dtype={self.dtype}{grad})"

    def numpy(self):
        return self.data

    def item(self):
        return self.data.item()

    def detach(self):
        return Tensor._wrap(self.data, False, None)

    def zero_grad(self):
        self.grad = None

    def register_hook(self, fn):
        """Call `fn(grad)` with this tensor's gradient during backward; a returned array
        replaces it. The hook lives on the tensor's graph node (its Function, or itself)."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no "
                               "gradient will reach it")
        node = _graph_node(self)
        node._hooks = (node._hooks or []) + [fn]

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
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, self.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward: grad has shape {grad.shape}, "
                                 f"expected the output's shape {self.shape}")
        root = _graph_node(self)
        pending = _count_consumers(root)
        grads = {id(root): grad}
        ready = [root]
        while ready:
            node = ready.pop()
            g = grads.pop(id(node))
            if node._hooks:
                for hook in node._hooks:
                    replaced = hook(g)
                    g = g if replaced is None else replaced
            if isinstance(node, Tensor):  # a leaf: accumulate, as PyTorch does
                node.grad = g.copy() if node.grad is None else node.grad + g
                continue
            if node.saved_tensors is None:
                raise RuntimeError(f"backward: trying to backward through {type(node).__name__} "
                                   "a second time; its saved values were freed by the first "
                                   "backward(). Pass retain_graph=True to the first call.")
            parent_grads = node.backward(g)
            if not isinstance(parent_grads, tuple):
                parent_grads = (parent_grads,)
            if not retain_graph and node.saved_tensors:
                node.saved_tensors = None
            for parent, pg in zip(node.parents, parent_grads):
                if pg is None or parent is None:
                    continue
                shape, dtype = (parent.data.shape, parent.data.dtype) \
                    if isinstance(parent, Tensor) else parent._output
                if pg.shape != shape:
                    pg = unbroadcast(pg, shape)
                    if pg.shape != shape:
                        raise RuntimeError(f"{type(node).__name__}.backward returned a gradient "
                                           f"of shape {pg.shape} for an input of shape {shape}")
                if pg.dtype != dtype:
                    pg = pg.astype(dtype)
                key = id(parent)
                grads[key] = grads[key] + pg if key in grads else pg
                pending[key] -= 1
                if pending[key] == 0:
                    ready.append(parent)

    # --- operators and methods (all in ops/) -----------------------------------------
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
    def __neg__(self): return ops.neg(self)
    def __getitem__(self, index): return ops.getitem(self, index)
    def __lt__(self, other): return ops.compare(np.less, self, other)
    def __le__(self, other): return ops.compare(np.less_equal, self, other)
    def __gt__(self, other): return ops.compare(np.greater, self, other)
    def __ge__(self, other): return ops.compare(np.greater_equal, self, other)
    def __eq__(self, other): return ops.compare(np.equal, self, other)
    def __ne__(self, other): return ops.compare(np.not_equal, self, other)
    __hash__ = object.__hash__

    def sum(self, axis=None, keepdims=False): return ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return ops.mean(self, axis, keepdims)
    def var(self, axis=None, ddof=0, keepdims=False): return ops.var(self, axis, ddof, keepdims)
    def max(self, axis=None, keepdims=False): return ops.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return ops.min(self, axis, keepdims)
    def argmax(self, axis=None, keepdims=False): return ops.argmax(self, axis, keepdims)
    def argmin(self, axis=None, keepdims=False): return ops.argmin(self, axis, keepdims)
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def transpose(self, *axes): return ops.transpose(self, *axes)
    def flatten(self, start_axis=0, end_axis=-1): return ops.flatten(self, start_axis, end_axis)
    def squeeze(self, axis=None): return ops.squeeze(self, axis)
    def unsqueeze(self, axis): return ops.unsqueeze(self, axis)
    def astype(self, dtype): return ops.astype(self, dtype)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.abs(self)
    def clip(self, min=None, max=None): return ops.clip(self, min, max)
    def relu(self): return ops.relu(self)
    def sigmoid(self): return ops.sigmoid(self)
    def tanh(self): return ops.tanh(self)


tensor = Tensor


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
                if key not in pending:
                    pending[key] = 0
                    stack.append(parent)
                pending[key] += 1
    return pending


# map over these runs in C: Function.apply is the engine's per-op cost
_data = operator.attrgetter("data")
_is_not_none = functools.partial(operator.is_not, None)


class Function:
    """Base of every differentiable op; the instance is the backward context.

    Subclasses write `forward(self, *arrays, **params) -> ndarray` and
    `backward(self, grad) -> tuple` (one ndarray or None per input) and are called as
    `MyOp.apply(*tensors, **params)`.
    """

    _hooks = None  # gradient hooks of the tensor this Function computed (register_hook)

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    @classmethod
    def apply(cls, *inputs, **params):
        ctx = cls()
        try:
            parents = tuple(map(_graph_node, inputs))
        except AttributeError:  # a number or an ndarray among the inputs: wrap it first
            inputs = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
            parents = tuple(map(_graph_node, inputs))
        ctx.parents = parents
        ctx.saved_tensors = ()
        out = ctx.forward(*map(_data, inputs), **params)
        if _grad_enabled:
            # one flag per input: does a gradient flow to it (backward skips the others)
            ctx.needs_input_grad = needs = tuple(map(_is_not_none, parents))
            if True in needs:
                ctx._output = out.shape, out.dtype  # what a gradient sent here must be
                return Tensor._wrap(out, True, ctx)
        return Tensor._wrap(out, False, None)

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must define backward")


from . import ops  # noqa: E402  (ops subclass Function, so they load after it)
