"""The normalisation layers: PyTorch's constructors, parameters and buffers over
minigrad.functional, where all four are one `normalize` op over different axes.

Running statistics are plain ndarrays registered as buffers (never Parameters), so
`state_dict()` has PyTorch's keys: weight, bias, running_mean, running_var,
num_batches_tracked.
"""
import warnings

import numpy as np

from .. import functional as F
from ..dtypes import get_default_dtype
from .module import Module, Parameter


class _NormBase(Module):
    """What BatchNorm and InstanceNorm share: per-channel affine parameters and running buffers."""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, dtype):
        super().__init__()
        dtype = get_default_dtype() if dtype is None else dtype
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features, dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype)) if affine else None
        tracked = track_running_stats
        self.register_buffer("running_mean", np.zeros(num_features, dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, dtype) if tracked else None)
        self.register_buffer("num_batches_tracked",
                             np.array(0, dtype=np.int64) if tracked else None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            self.bias.data[...] = 0

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    dims = ()  # the input ranks this layer accepts

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        if device not in (None, "cpu"):
            raise NotImplementedError(f"{type(self).__name__}: device={device!r} is not "
                                      f"supported; only 'cpu'")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)

    def forward(self, x):
        if x.ndim not in self.dims:
            raise ValueError(f"{type(self).__name__}: expected an input of "
                             f"{' or '.join(map(str, self.dims))} dimensions, "
                             f"got shape {x.shape}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:  # a cumulative average: the k-th batch weighs 1/k
                momentum = 1.0 / float(self.num_batches_tracked)
        # without running stats (track_running_stats=False) batch statistics are used in
        # evaluation too, as PyTorch
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    """torch.nn.BatchNorm1d: per-feature statistics over the batch (and length) axes.
    Shapes: (N, C) or (N, C, L) -> same."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """torch.nn.BatchNorm2d: per-channel statistics over the batch and spatial axes.
    Shapes: (N, C, H, W) -> same."""

    dims = (4,)


class InstanceNorm2d(_NormBase):
    """torch.nn.InstanceNorm2d: statistics per sample and channel over (H, W); no affine and
    no running statistics unless asked. Shapes: (N, C, H, W) or (C, H, W) -> same."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        if device not in (None, "cpu"):
            raise NotImplementedError(f"InstanceNorm2d: device={device!r} is not supported; "
                                      f"only 'cpu'")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"InstanceNorm2d: expected an input of 3 or 4 dimensions, "
                             f"got shape {x.shape}")
        if x.shape[-3] != self.num_features:
            message = (f"InstanceNorm2d: input of shape {x.shape} has {x.shape[-3]} channels, "
                       f"the layer was built for num_features={self.num_features}")
            if self.affine:
                raise ValueError(message)
            warnings.warn(message, stacklevel=2)  # PyTorch only warns without affine
        unbatched = x.ndim == 3
        if unbatched:
            x = x.unsqueeze(0)
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class LayerNorm(Module):
    """torch.nn.LayerNorm: statistics per sample over the last len(normalized_shape) axes,
    with an elementwise affine of shape normalized_shape. Shapes: (*, *normalized_shape)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if device not in (None, "cpu"):
            raise NotImplementedError(f"LayerNorm: device={device!r} is not supported; "
                                      f"only 'cpu'")
        dtype = get_default_dtype() if dtype is None else dtype
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = (Parameter(np.ones(self.normalized_shape, dtype))
                       if elementwise_affine else None)
        self.bias = (Parameter(np.zeros(self.normalized_shape, dtype))
                     if elementwise_affine and bias else None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """torch.nn.GroupNorm: statistics per sample over groups of num_channels/num_groups
    channels, with a per-channel affine. Shapes: (N, C, *) -> same."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None):
        super().__init__()
        if device not in (None, "cpu"):
            raise NotImplementedError(f"GroupNorm: device={device!r} is not supported; "
                                      f"only 'cpu'")
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by "
                             f"num_groups={num_groups}")
        dtype = get_default_dtype() if dtype is None else dtype
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        self.weight = Parameter(np.ones(num_channels, dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_channels, dtype)) if affine else None

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
