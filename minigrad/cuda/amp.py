"""`torch.cuda.amp`: PyTorch's deprecated spellings of `minigrad.amp`'s objects for "cuda".

As in PyTorch, they warn that they are deprecated; then, with no GPU, they are disabled
(a warning) and act as exact no-ops.
"""
import warnings

from .. import amp


class autocast(amp.autocast):
    """`torch.cuda.amp.autocast(enabled=True, dtype=float16, cache_enabled=True)`, that is
    `minigrad.amp.autocast("cuda", ...)`."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn("torch.cuda.amp.autocast(args...) is deprecated; use "
                      "torch.amp.autocast('cuda', args...)", FutureWarning, stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """`torch.cuda.amp.GradScaler(...)`, that is `minigrad.amp.GradScaler("cuda", ...)`."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        warnings.warn("torch.cuda.amp.GradScaler(args...) is deprecated; use "
                      "torch.amp.GradScaler('cuda', args...)", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)
