"""torch.nn.functional, by name: argument checking and normalisation at the boundary,
then a call into ops/. `import minigrad.functional as F` (also `minigrad.nn.functional`).

Each section belongs to one op family; errors name the argument and the shapes.
"""
from .ops.linalg import matmul as _matmul
from .ops import log_softmax, relu, sigmoid, softmax, tanh  # noqa: F401  (re-exported)


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


# --- convolution (convolution issue) ---------------------------------------------------


# --- pooling, unpooling and upsampling (convolution issue) --------------------------


# --- normalization (normalization/nn issue) ------------------------------------------
