"""Softmax family and losses. Each is fused where the fused gradient is simpler than the
chain of primitives (softmax + log + gather would store three intermediates)."""
import numpy as np

from ..tensor import Function


class LogSoftmax(Function):
    """log softmax(a) along `axis`, via log-sum-exp with the max subtracted (no overflow).

    backward: g - softmax(a) * sum(g).
    """

    def forward(self, a, axis):
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=self.axis, keepdims=True)


def log_softmax(a, axis=-1):
    return LogSoftmax.apply(a, axis=axis)


class Softmax(Function):
    """softmax(a) = e^a / sum(e^a) along `axis`.  backward: s * (g - sum(g * s))."""

    def forward(self, a, axis):
        self.axis = axis
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (s,) = self.saved_tensors
        return s * (grad - (grad * s).sum(axis=self.axis, keepdims=True))


def softmax(a, axis=-1):
    return Softmax.apply(a, axis=axis)
