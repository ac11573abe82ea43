"""Utilities over a model's parameters."""
import numpy as np

from ..tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale all gradients together so their joint norm is at most `max_norm`, in place.

    The norm is taken over all gradients as if concatenated into one vector; when it exceeds
    max_norm every gradient is multiplied by max_norm / (norm + 1e-6), as PyTorch (the 1e-6
    keeps the division safe; the result is a hair under max_norm). Returns the norm before
    clipping. Parameters without a gradient are skipped.
    """
    if norm_type != 2.0:
        raise NotImplementedError(f"clip_grad_norm_: norm_type={norm_type} is not supported; "
                                  f"only the 2-norm")
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return 0.0
    total_norm = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads)))
    clip_coef = max_norm / (total_norm + 1e-6)
    if clip_coef < 1.0:
        for g in grads:
            g *= g.dtype.type(clip_coef)
    return total_norm


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)
