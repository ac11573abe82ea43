"""Piecewise and gated activations, and binary cross entropy on probabilities.

Each is one Function because the composition of primitives would give the wrong gradient
at a kink (clip passes the gradient at its bounds, PyTorch's hardtanh does not) or would
store several intermediates where one suffices. Gradients at the kinks are PyTorch's:
hardtanh and hardsigmoid pass the gradient strictly inside their linear piece, hardswish
takes the right-hand piece at 3 and 0 at -3, elu takes the negative piece at 0.
"""
import numpy as np

from ..tensor import Function


class Hardtanh(Function):
    """clip(a, min_val, max_val).  backward: g where min_val < a < max_val, else 0."""

    def forward(self, a, min_val, max_val):
        self.save_for_backward((a > min_val) & (a < max_val))
        return np.clip(a, min_val, max_val)

    def backward(self, grad):
        return grad * self.saved_tensors[0]


def hardtanh(a, min_val=-1.0, max_val=1.0):
    return Hardtanh.apply(a, min_val=min_val, max_val=max_val)


class Hardsigmoid(Function):
    """clip(a + 3, 0, 6) / 6.  backward: g / 6 where -3 < a < 3, else 0."""

    def forward(self, a):
        self.save_for_backward((a > -3) & (a < 3))
        return np.clip(a + 3, 0, 6) / 6

    def backward(self, grad):
        return grad * self.saved_tensors[0] / 6


def hardsigmoid(a):
    return Hardsigmoid.apply(a)


class Hardswish(Function):
    """a * clip(a + 3, 0, 6) / 6.

    backward: g * (0 if a <= -3, a / 3 + 1/2 if -3 < a < 3, 1 if a >= 3).
    """

    def forward(self, a):
        self.save_for_backward(a)
        return a * np.clip(a + 3, 0, 6) / 6

    def backward(self, grad):
        (a,) = self.saved_tensors
        slope = np.where(a <= -3, 0, np.where(a < 3, a / 3 + 0.5, 1))
        return grad * slope


def hardswish(a):
    return Hardswish.apply(a)


class Elu(Function):
    """a if a > 0 else alpha (e^a - 1).

    backward: g * (1 if a > 0 else alpha e^a = out + alpha), so only the output is kept.
    """

    def forward(self, a, alpha):
        positive = a > 0
        # expm1 of min(a, 0): accurate near 0 and no overflow on the positive side
        out = np.where(positive, a, alpha * np.expm1(np.minimum(a, 0)))
        self.save_for_backward(positive, out)
        self.alpha = alpha
        return out

    def backward(self, grad):
        positive, out = self.saved_tensors
        return grad * np.where(positive, 1, out + self.alpha)


def elu(a, alpha=1.0):
    return Elu.apply(a, alpha=alpha)


class Silu(Function):
    """a * sigmoid(a) = a / (1 + e^-a).  backward: g * s (1 + a (1 - s)), s = sigmoid(a)."""

    def forward(self, a):
        with np.errstate(over="ignore"):  # e^-a = inf for a << 0 gives s = 0, the limit
            s = 1 / (1 + np.exp(-a))
        self.save_for_backward(a, s)
        return a * s

    def backward(self, grad):
        a, s = self.saved_tensors
        return grad * s * (1 + a * (1 - s))


def silu(a):
    return Silu.apply(a)
