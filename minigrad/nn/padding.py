"""2-d padding modules over F.pad: ZeroPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d.

`padding` is an int (all four sides) or PyTorch's (left, right, top, bottom).
Shapes: (N, C, H, W) or (C, H, W) -> (..., H + top + bottom, W + left + right).
"""
import numpy as np

from .. import functional as F
from .module import Module


def _padding(name, padding):
    """An int as (p, p, p, p); a sequence of ints as a tuple (F.pad checks its length)."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return (int(padding),) * 4
    if isinstance(padding, (tuple, list)) and all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in padding):
        return tuple(int(p) for p in padding)
    raise TypeError(f"{name}: padding must be an int or a tuple (left, right, top, bottom) of "
                    f"ints, got {padding!r}")


class _Pad2d(Module):
    mode = None  # F.pad's mode, set by each subclass

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(type(self).__name__, padding)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad2d(_Pad2d):
    """Mirror the input at its border, without repeating the edge row or column."""

    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """Repeat the edge row or column."""

    mode = "replicate"


class ConstantPad2d(_Pad2d):
    """Pad with the constant `value`."""

    mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, self.mode, self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Pad with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"
