"""Activation and dropout modules: thin wrappers over minigrad.functional."""
from .. import functional as F
from .module import Module


def _no_inplace(layer, inplace):
    if inplace:
        raise NotImplementedError(f"{layer}: inplace=True is not supported (minigrad never "
                                  f"overwrites an input array)")


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        _no_inplace("ReLU", inplace)

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        _no_inplace("LeakyReLU", inplace)
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate != "none":
            raise NotImplementedError(f"GELU: approximate={approximate!r} is not supported; "
                                      f"only the exact form, approximate='none'")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Dropout(Module):
    """Inverted dropout while training; the identity in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _no_inplace("Dropout", inplace)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace=False"
