"""Ops that move elements without arithmetic: their backward moves the gradient back."""
import weakref

import numpy as np

from ..errors import DimOutOfRange, InvalidArgument
from ..tensor import Function, Tensor
from .elementwise import lift
from .reduce import integer, normalize_axis


class Reshape(Function):
    is_view = True

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
        raise InvalidArgument(f"reshape: cannot reshape a tensor of shape {a.shape} "
                         f"({a.numel()} elements) into shape {shape}") from None


class Permute(Function):
    is_view = True

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
    dims = tuple(integer("permute", "dims", d) for d in dims)
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
    """Remove size-1 axes: all of them, or those in `axis` that have size 1 (others stay,
    as torch.squeeze)."""
    axes = range(a.ndim) if axis is None else normalize_axis(axis, a.ndim)
    drop = {i for i in axes if a.shape[i] == 1}
    return reshape(a, tuple(n for i, n in enumerate(a.shape) if i not in drop))


def unsqueeze(a, axis):
    """Insert a size-1 axis at `axis` (which may be a.ndim, or negative)."""
    axis = integer("unsqueeze", "dim", axis)
    if not -a.ndim - 1 <= axis <= a.ndim:
        raise DimOutOfRange(f"unsqueeze: dim {axis} is out of range for shape {a.shape} "
                            f"(expected -{a.ndim + 1} <= dim <= {a.ndim})")
    axis = axis % (a.ndim + 1)
    return reshape(a, a.shape[:axis] + (1,) + a.shape[axis:])


class GetItem(Function):
    """a[index]. The gradient scatters back with np.add.at, so repeated indices accumulate."""

    def forward(self, a, index):
        self.input_shape, self.index = a.shape, index
        out = np.asarray(a[index])
        self.is_view = np.may_share_memory(out, a)  # basic indexing gives a view
        return out

    def backward(self, grad):
        full = np.zeros(self.input_shape, dtype=grad.dtype)
        np.add.at(full, self.index, grad)
        return full


def plain_index(index):
    """Replace Tensors inside an index by their arrays (lists of ints become arrays)."""
    if isinstance(index, tuple):
        return tuple(plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(a, index):
    index = plain_index(index)
    try:
        a.data[index]
    except IndexError as error:
        raise IndexError(f"index {index!r} does not fit a tensor of shape {a.shape}: "
                         f"{error}") from None
    out = GetItem.apply(a, index=index)
    if out._ctx is not None and out._ctx.is_view:
        out._ctx.base = weakref.ref(a)  # in-place ops on the view write through it (Tensor._write)
    return out


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
            shapes = [tuple(x.shape) for x in tensors]
            raise InvalidArgument(f"concatenate: shapes {shapes} differ outside dim {axis}")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join along a new axis: unsqueeze each, then concatenate."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    if len({t.shape for t in tensors}) > 1:
        raise InvalidArgument(f"stack: all tensors need the same shape, got "
                              f"{[tuple(t.shape) for t in tensors]}")
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


def unflatten(a, dim, sizes):
    """Split axis `dim` into `sizes` (one may be -1), as torch.unflatten."""
    (dim,) = normalize_axis(dim, a.ndim)
    return reshape(a, a.shape[:dim] + tuple(sizes) + a.shape[dim + 1:])


class Expand(Function):
    """Broadcast to a larger shape without copying; the engine sums the gradient back."""

    is_view = True

    def forward(self, a, shape):
        return np.broadcast_to(a, shape)

    def backward(self, grad):
        return grad


def expand(a, sizes):
    """torch.expand: size-1 axes stretch, -1 keeps an axis, new axes may lead."""
    sizes = tuple(integer("expand", "sizes", n, low=-1) for n in sizes)
    lead = len(sizes) - a.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {tuple(sizes)} are fewer than the "
                         f"{a.ndim} dims of shape {tuple(a.shape)}")
    shape = tuple(n if (i < lead or n != -1) else a.shape[i - lead] for i, n in enumerate(sizes))
    for i, n in enumerate(a.shape):
        if n != 1 and n != shape[lead + i]:
            raise ValueError(f"expand: shape {tuple(a.shape)} cannot be expanded to "
                             f"{tuple(sizes)}: dim {i} has size {n}, not 1")
    return Expand.apply(a, shape=shape)


class Repeat(Function):
    """Tile the tensor `sizes` times along each axis; the gradient sums the copies."""

    def forward(self, a, sizes):
        self.input_shape, self.sizes = a.shape, sizes
        return np.tile(a, sizes)

    def backward(self, grad):
        shape = (1,) * (len(self.sizes) - len(self.input_shape)) + self.input_shape
        # (r0, s0, r1, s1, ...): copies r_i of the input's axis of size s_i
        copies = grad.reshape([n for pair in zip(self.sizes, shape) for n in pair])
        return copies.sum(axis=tuple(range(0, copies.ndim, 2))).reshape(self.input_shape)


def repeat(a, sizes):
    sizes = tuple(integer("repeat", "sizes", n, low=0) for n in sizes)
    if len(sizes) < a.ndim:
        raise ValueError(f"repeat: {len(sizes)} repeats {tuple(sizes)} are fewer than the "
                         f"{a.ndim} dims of shape {tuple(a.shape)}")
    return Repeat.apply(a, sizes=tuple(sizes))


class Flip(Function):
    is_view = True

    def forward(self, a, axes):
        self.axes = axes
        return np.flip(a, axes)

    def backward(self, grad):
        return np.flip(grad, self.axes)


def flip(a, dims):
    return Flip.apply(a, axes=normalize_axis(dims, a.ndim))


def narrow(a, dim, start, length):
    """Elements start..start+length-1 along `dim` (a view, as torch.narrow)."""
    (dim,) = normalize_axis(dim, a.ndim)
    start, length = integer("narrow", "start", start), integer("narrow", "length", length)
    if not (0 <= start and length >= 0 and start + length <= a.shape[dim]):
        raise ValueError(f"narrow: start {start} and length {length} do not fit dim {dim} "
                         f"of shape {tuple(a.shape)}")
    return getitem(a, (slice(None),) * dim + (slice(start, start + length),))


def split(a, split_size_or_sections, dim=0):
    """Pieces along `dim`: of split_size each (the last may be smaller), or of the listed
    sizes, which must add up to the dim's length (torch.split)."""
    (dim,) = normalize_axis(dim, a.ndim)
    n = a.shape[dim]
    if isinstance(split_size_or_sections, np.ndarray):
        split_size_or_sections = split_size_or_sections.tolist()
    if not isinstance(split_size_or_sections, (tuple, list)):
        size = integer("split", "split_size", split_size_or_sections, low=1)
        sizes = [min(size, n - i) for i in range(0, n, size)]
    else:
        sizes = [integer("split", "split_size_or_sections", k, low=0)
                 for k in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, not to the length "
                             f"{n} of dim {dim} of shape {tuple(a.shape)}")
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(narrow(a, dim, int(s), int(k)) for s, k in zip(starts, sizes))


def chunk(a, chunks, dim=0):
    """At most `chunks` pieces of ceil(n / chunks) along `dim` (torch.chunk)."""
    chunks = integer("chunk", "chunks", chunks, low=1)
    (dim,) = normalize_axis(dim, a.ndim)
    return split(a, max(1, -(-a.shape[dim] // chunks)), dim)


def unbind(a, dim=0):
    """The slices along `dim`, each without that dim."""
    (dim,) = normalize_axis(dim, a.ndim)
    return tuple(getitem(a, (slice(None),) * dim + (i,)) for i in range(a.shape[dim]))


def index_select(a, dim, index):
    """The entries of `index` (1-D integers) along `dim`; repeats accumulate in backward."""
    (dim,) = normalize_axis(dim, a.ndim)
    index = np.asarray(plain_index(index))
    if index.ndim != 1 or index.dtype.kind not in "iu":
        raise ValueError(f"index_select: index must be a 1-D integer tensor, got dtype "
                         f"{index.dtype} and shape {index.shape}")
    return getitem(a, (slice(None),) * dim + (index,))


def _along(name, a, dim, index):
    """The indexing tuple that picks a[..., index[i, j, ...], ...] along `dim`: open grids on
    every other axis (torch.gather's rule: index may be smaller than `a` off `dim`)."""
    index = np.asarray(plain_index(index))
    (dim,) = normalize_axis(dim, a.ndim)
    if index.dtype.kind not in "iu" or index.ndim != a.ndim:
        raise ValueError(f"{name}: index must be an integer tensor with as many dims as the "
                         f"input's {a.ndim}, got dtype {index.dtype} and shape {index.shape}")
    if any(index.shape[d] > a.shape[d] for d in range(a.ndim) if d != dim):
        raise ValueError(f"{name}: index of shape {index.shape} is larger than the input's "
                         f"shape {tuple(a.shape)} outside dim {dim}")
    if index.size and (index.min() < -a.shape[dim] or index.max() >= a.shape[dim]):
        raise IndexError(f"{name}: index out of range for dim {dim} of size {a.shape[dim]}")
    grid = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grid[dim] = index
    return tuple(grid)


class Gather(Function):
    """out[i][j] = a[index[i][j]][j] along dim 0 (likewise for any dim); the gradient is
    scattered back, repeated indices adding up."""

    def forward(self, a, where):
        self.input_shape, self.where = a.shape, where
        return a[where]

    def backward(self, grad):
        full = np.zeros(self.input_shape, grad.dtype)
        np.add.at(full, self.where, grad)
        return full


def gather(a, dim, index):
    return Gather.apply(a, where=_along("gather", a, dim, index))


def scatter(a, dim, index, src=None, value=None, reduce=None):
    """A copy of `a` with out[... index[i][j] ...] = src[i][j] along `dim` (or `value`);
    reduce="add" adds instead. Not differentiable."""
    if (src is None) == (value is None):
        raise ValueError("scatter: give exactly one of src and value")
    if isinstance(src, (int, float, bool)):  # scatter_(dim, index, 1.0): PyTorch's value form
        src, value = None, src
    if reduce not in (None, "add"):
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported; None or 'add'")
    if a.requires_grad or getattr(src, "requires_grad", False):
        raise NotImplementedError("scatter: minigrad does not differentiate scatter; call it "
                                  "on tensors that do not require grad")
    where = _along("scatter", a, dim, index)
    if value is not None:
        source = value
    else:
        src = np.asarray(plain_index(src))
        index_shape = np.asarray(plain_index(index)).shape
        source = src[tuple(slice(n) for n in index_shape)]
    out = a.data.copy()
    if reduce == "add":
        np.add.at(out, where, source)
    else:
        out[where] = source
    return Tensor(out)


class SetItem(Function):
    """A copy of `a` with a[index] = value: the gradient of the overwritten entries goes to
    `value` (summed over broadcasting by the engine), the rest to `a`."""

    def forward(self, a, value, index):
        self.index = index
        out = a.copy()
        out[index] = value
        return out

    def backward(self, grad):
        grad_a = grad.copy()
        grad_a[self.index] = 0
        return grad_a, grad[self.index]


def setitem(a, index, value):
    return SetItem.apply(a, lift(value, a), index=index)
