"""torch.nn.functional, by name: argument checking and normalisation at the boundary,
then a call into ops/. `import minigrad.functional as F` (also `minigrad.nn.functional`).

Each section belongs to one op family; errors name the argument and the shapes.
"""
from .ops.linalg import matmul as _matmul
from .ops import log_softmax, relu, sigmoid, softmax, tanh  # noqa: F401  (re-exported)
from . import ops as _ops
from .tensor import rng as _rng


def linear(x, weight, bias=None):
    """x @ weight.T + bias.  Shapes: x (*, in), weight (out, in), bias (out,) -> (*, out)."""
    if weight.ndim != 2 or x.shape[-1:] != weight.shape[1:]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{weight.shape}; expected weight (out_features, {x.shape[-1]})")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"linear: bias of shape {bias.shape} does not fit weight of shape "
                         f"{weight.shape}; expected ({weight.shape[0]},)")
    out = _matmul(x, weight.T)
    return out if bias is None else out + bias


# --- activations and losses (normalization/nn issue) --------------------------------
# activations and dropout (nn issue, helper D)

def leaky_relu(x, negative_slope=0.01):
    """x if x > 0 else negative_slope * x.  Shapes: any -> same."""
    return _ops.leaky_relu(x, negative_slope=float(negative_slope))


def gelu(x, approximate="none"):
    """x * Phi(x) with Phi the standard normal CDF (the exact erf form, PyTorch's default)."""
    if approximate != "none":
        raise NotImplementedError(f"gelu: approximate={approximate!r} is not supported; "
                                  f"only the exact form, approximate='none'")
    return _ops.gelu(x)


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p), so
    the expected output equals x and evaluation needs no rescaling.  Shapes: any -> same.

    The mask comes from `mg.rng()`; in eval (training=False) or with p=0, x is returned.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    keep = _rng().random(x.shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)  # p = 1 drops everything, as PyTorch
    return _ops.mul(x, (keep * scale).astype(x.dtype))


# --- convolution (convolution issue) ---------------------------------------------------
# Argument checking and unbatched inputs are handled in ops/conv.py, which conv_matrix
# shares; the functions are re-exported here under PyTorch's names.
from .ops.conv import conv2d, conv_transpose2d  # noqa: E402,F401


# --- pooling, unpooling and upsampling (convolution issue) --------------------------


# --- normalization (normalization/nn issue) ------------------------------------------
