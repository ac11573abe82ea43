"""Linear, Identity, Flatten and Unflatten: the layers that are not activations."""
import math

import numpy as np

from .. import functional as F
from .. import ops
from ..device import check_device
from ..dtypes import get_default_dtype
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b with W (out_features, in_features), as torch.nn.Linear.

    PyTorch's default init: kaiming_uniform_(a=sqrt(5)) on W, which is U(+-1/sqrt(in)), and
    b ~ U(+-1/sqrt(in)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        check_device("Linear", device)
        dtype = get_default_dtype() if dtype is None else dtype
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input; takes and ignores any constructor arguments, as PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Flattens axes start_dim..end_dim into one (default: all but the batch axis)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits axis `dim` into `unflattened_size` (one entry may be -1), as torch.nn.Unflatten.

    Shapes: (*, S, *) -> (*, *unflattened_size, *) with prod(unflattened_size) = S.
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, str):
            raise NotImplementedError(f"Unflatten: named dimension {dim!r} is not supported; "
                                      f"give an int dim")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, but found "
                            f"type {type(unflattened_size).__name__}")
        for i, size in enumerate(unflattened_size):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
                raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, but "
                                f"found element of type {type(size).__name__} at pos {i}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        shape = tuple(input.shape)
        dim = self.dim + len(shape) if self.dim < 0 else self.dim
        if not 0 <= dim < len(shape):
            raise ValueError(f"Unflatten: dim {self.dim} is out of range for an input of shape "
                             f"{shape}")
        sizes = tuple(self.unflattened_size)
        known = int(np.prod([s for s in sizes if s != -1]))  # the product without the -1
        if -1 in sizes:
            fits = sizes.count(-1) == 1 and known > 0 and shape[dim] % known == 0
        else:
            fits = known == shape[dim]
        if not fits:
            raise ValueError(f"Unflatten: unflattened_size {sizes} does not multiply up to "
                             f"the size {shape[dim]} of dim {self.dim} of the input of shape "
                             f"{shape}")
        return ops.reshape(input, shape[:dim] + sizes + shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
