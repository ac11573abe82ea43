"""Ops that move elements without arithmetic: their backward moves the gradient back."""
import numpy as np

from ..tensor import Function, Tensor
from .reduce import normalize_axis


class Reshape(Function):
    def forward(self, a, shape):
        self.input_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.input_shape)


def reshape(a, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return Reshape.apply(a, shape=shape)
    except (ValueError, TypeError):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {a.shape} "
                         f"({a.size} elements) into shape {shape}") from None


class Permute(Function):
    def forward(self, a, dims):
        self.dims = dims
        return np.transpose(a, dims)

    def backward(self, grad):
        return np.transpose(grad, np.argsort(self.dims))


def permute(a, *dims):
    """Reorder the axes: output axis i is input axis dims[i] (torch.permute). No dims
    reverses them (NumPy's transpose, PyTorch's `.T`)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if not dims:
        dims = tuple(reversed(range(a.ndim)))
    in_range = all(-a.ndim <= d < a.ndim for d in dims) if a.ndim else dims in ((), (0,), (-1,))
    if not in_range or sorted(int(d) % (a.ndim or 1) for d in dims) != list(range(a.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the "
                         f"{a.ndim} dims of shape {tuple(a.shape)}")
    return Permute.apply(a, dims=tuple(int(d) % a.ndim for d in dims))


def transpose(a, dim0, dim1):
    """Swap two dims (torch.transpose); dims may be negative."""
    dim0, dim1 = (normalize_axis(d, a.ndim)[0] for d in (dim0, dim1))
    dims = list(range(a.ndim))
    dims[dim0], dims[dim1] = dim1, dim0
    return permute(a, dims)


def flatten(a, start_axis=0, end_axis=-1):
    """Merge axes start_axis..end_axis (inclusive) into one, as torch.flatten."""
    if a.ndim == 0:
        return reshape(a, (1,))
    start, end = (normalize_axis(x, a.ndim)[0] for x in (start_axis, end_axis))
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    return reshape(a, a.shape[:start] + (-1,) + a.shape[end + 1:])


def squeeze(a, axis=None):
    """Remove size-1 axes (all of them, or the ones in `axis`)."""
    if axis is None:
        axes = tuple(i for i, n in enumerate(a.shape) if n == 1)
    else:
        axes = normalize_axis(axis, a.ndim)
        if any(a.shape[i] != 1 for i in axes):
            raise ValueError(f"squeeze: axis {axis} of shape {a.shape} does not have size 1")
    return reshape(a, tuple(n for i, n in enumerate(a.shape) if i not in axes))


def unsqueeze(a, axis):
    """Insert a size-1 axis at `axis` (which may be a.ndim, or negative)."""
    if not -a.ndim - 1 <= axis <= a.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for shape {a.shape}")
    axis = axis % (a.ndim + 1)
    return reshape(a, a.shape[:axis] + (1,) + a.shape[axis:])


class GetItem(Function):
    """a[index]. The gradient scatters back with np.add.at, so repeated indices accumulate."""

    def forward(self, a, index):
        self.input_shape, self.index = a.shape, index
        return np.asarray(a[index])

    def backward(self, grad):
        full = np.zeros(self.input_shape, dtype=grad.dtype)
        np.add.at(full, self.index, grad)
        return full


def _plain_index(index):
    """Replace Tensors inside an index by their arrays (lists of ints become arrays)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(a, index):
    index = _plain_index(index)
    try:
        a.data[index]
    except IndexError as error:
        raise IndexError(f"index {index!r} does not fit a tensor of shape {a.shape}: "
                         f"{error}") from None
    return GetItem.apply(a, index=index)


class Concatenate(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        self.splits = np.cumsum([x.shape[axis] for x in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.splits, axis=self.axis))


def concatenate(tensors, axis=0):
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    ndim = tensors[0].ndim
    axis = normalize_axis(axis, ndim)[0]
    for t in tensors:
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != \
                tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]:
            raise ValueError(f"concatenate: shapes {[x.shape for x in tensors]} differ outside "
                             f"axis {axis}")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join along a new axis: unsqueeze each, then concatenate."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in tensors]}")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis=axis)


class Pad(Function):
    """Constant padding with NumPy's pad_width; backward slices the interior back out."""

    def forward(self, a, pad_width, value):
        self.interior = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, a.shape))
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    def backward(self, grad):
        return grad[self.interior]


def pad(a, pad_width, constant_values=0):
    """mg.pad(x, pad_width): NumPy's pad_width forms (int, (before, after), or one per axis)."""
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (a.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape "
                         f"{a.shape}; give one (before, after) pair per axis") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width {pad_width!r} has a negative width")
    return Pad.apply(a, pad_width=tuple(map(tuple, widths.tolist())), value=constant_values)
