"""Utilities over a model's parameters."""
import numpy as np

from ..tensor import Tensor
from .conv import Conv2d


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


def fuse_conv_bn(conv, bn):
    """A Conv2d equal to bn(conv(x)) with both in evaluation mode: batch norm with running
    statistics is an affine map per channel, so it folds into the convolution before it,
    W' = W * s (per output channel) and b' = (b - running_mean) * s + beta, with
    s = gamma / sqrt(running_var + eps); a missing conv bias is 0, missing gamma/beta 1/0.
    """
    if type(conv) is not Conv2d:
        raise TypeError(f"fuse_conv_bn: conv must be an nn.Conv2d, got {type(conv).__name__}")
    if conv.training or bn.training:
        raise ValueError("fuse_conv_bn: fusion holds only in evaluation mode; call .eval() on "
                         "both modules first")
    if bn.running_mean is None:
        raise ValueError("fuse_conv_bn: bn keeps no running statistics "
                         "(track_running_stats=False), so it is not an affine map")
    if bn.num_features != conv.out_channels:
        raise ValueError(f"fuse_conv_bn: bn has {bn.num_features} features, conv has "
                         f"{conv.out_channels} output channels")
    dtype = conv.weight.dtype
    gamma = 1.0 if bn.weight is None else bn.weight.data.astype(np.float64)
    beta = 0.0 if bn.bias is None else bn.bias.data.astype(np.float64)
    bias = 0.0 if conv.bias is None else conv.bias.data.astype(np.float64)
    scale = gamma / np.sqrt(bn.running_var.astype(np.float64) + bn.eps)  # (Cout,)
    fused = Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                   conv.padding, conv.dilation, conv.groups, bias=True, dtype=dtype)
    fused.weight.data[...] = conv.weight.data * scale.reshape(-1, 1, 1, 1)
    fused.bias.data[...] = (bias - bn.running_mean) * scale + beta
    fused.eval()
    return fused
