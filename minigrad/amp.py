"""`torch.amp` on a CPU-only framework: autocast and GradScaler with PyTorch's behaviour.

minigrad computes every op in the dtype of its tensors; lower precision is not simulated.
What each object does, by its device and `enabled`:
- `enabled=False`: an exact no-op, as in PyTorch.
- device "cuda" (any device but the CPU): what PyTorch does on a machine without CUDA, a
  UserWarning and then the no-op, so that an AMP training script runs unchanged.
- `autocast("cpu")` enabled: NotImplementedError, since PyTorch would compute matmuls and
  convolutions in bfloat16 there and minigrad cannot.
- `GradScaler("cpu")` enabled: PyTorch's loss scaling, which is plain arithmetic in any
  dtype: multiply the loss by the scale, divide the gradients by it, skip a step whose
  gradients hold inf or NaN, back the scale off then and grow it after
  `growth_interval` clean steps.
"""
import contextlib
import warnings

import numpy as np

from .device import device as _device
from .tensor import Tensor


def _disabled_off_cpu(where, device_type, enabled):
    """`enabled`, switched off with PyTorch's warning when the device is not the CPU."""
    if not isinstance(enabled, bool):
        raise TypeError(f"{where}: enabled must be a bool, got {enabled!r}")
    if not isinstance(device_type, str):
        raise TypeError(f"{where}: device_type must be a string such as 'cuda' or 'cpu', got "
                        f"{type(device_type).__name__}")
    kind = _device(device_type).type
    if enabled and kind != "cpu":
        warnings.warn(f"{where}: device {device_type!r} is not available (minigrad runs on "
                      f"the CPU only); disabling, as PyTorch does without that device")
        return False
    return enabled


def _dtype_name(dtype):
    try:
        return np.dtype(dtype).name
    except TypeError:  # a name NumPy lacks, such as bfloat16
        return str(dtype).rsplit(".", 1)[-1]


class autocast(contextlib.ContextDecorator):
    """`with autocast(device_type, dtype=None, enabled=True, cache_enabled=None):`, also a
    decorator. A no-op when disabled or off the CPU (see the module docstring)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        self._enabled = _disabled_off_cpu("autocast", device_type, enabled)
        if self._enabled:
            if dtype is not None and _dtype_name(dtype) not in ("bfloat16", "float16"):
                # PyTorch's CPU autocast switches itself off for any other dtype
                warnings.warn(f"autocast: CPU autocast supports bfloat16 and float16, got "
                              f"dtype={dtype!r}; disabling autocast")
                self._enabled = False
            else:
                raise NotImplementedError(
                    "autocast('cpu') with enabled=True: minigrad computes in the dtype of "
                    "its tensors and does not simulate mixed precision; use "
                    "enabled=False, or convert the model and inputs with .half()/.to(dtype)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class GradScaler:
    """Loss scaling, as `torch.amp.GradScaler(device="cuda", init_scale=2.**16,
    growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True)`.

    `scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()`. Disabled (by
    `enabled=False`, or on a device other than the CPU) every method is a no-op: `scale`
    returns its input, `step` calls `optimizer.step()`, `get_scale()` is 1.0.
    """

    def __init__(self, device="cuda", init_scale=2.0**16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._enabled = _disabled_off_cpu("GradScaler", device, enabled)
        if not growth_factor > 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor!r}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be between 0 and 1, got "
                             f"{backoff_factor!r}")
        if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) \
                or growth_interval < 1:
            raise ValueError(f"GradScaler: growth_interval must be a positive int, got "
                             f"{growth_interval!r}")
        self._device = device
        self._scale = self._float32(init_scale)
        self._growth_factor, self._backoff_factor = growth_factor, backoff_factor
        self._growth_interval, self._growth_tracker = growth_interval, 0
        # per optimizer (by id) since the last update(): "unscaled" or "stepped", and
        # whether its gradients held an inf or NaN
        self._stage, self._found_inf = {}, {}

    @staticmethod
    def _float32(value):
        # PyTorch keeps the scale in a float32 tensor: round as it does
        return float(np.float32(value))

    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        """The current scale (a float); 1.0 when disabled."""
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """`outputs` (a Tensor, or lists/tuples of them) multiplied by the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(output) for output in outputs)
        raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of "
                         f"Tensors, got {type(outputs).__name__}")

    def unscale_(self, optimizer):
        """Divide the gradients of `optimizer`'s parameters by the scale, in place, and
        note whether any holds an inf or NaN (then `step` skips the update)."""
        if not self._enabled:
            return
        stage = self._stage.get(id(optimizer))
        if stage == "unscaled":
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if stage == "stepped":
            raise RuntimeError("unscale_() is being called after step().")
        # the reciprocal in float32, as PyTorch; a Python float keeps each gradient's dtype
        inverse = self._float32(1.0 / self._scale)
        params = [p for group in optimizer.param_groups for p in group["params"]
                  if p.grad is not None]
        for param in params:
            param.grad = param.grad * inverse
        self._stage[id(optimizer)] = "unscaled"
        if params:  # with no gradient there is nothing to check, and step() refuses
            self._found_inf[id(optimizer)] = not all(np.isfinite(p.grad).all() for p in params)

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless `unscale_` was called) and `optimizer.step(*args, **kwargs)`,
        skipped when a gradient holds an inf or NaN; returns what step returned, or None."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        if self._stage.get(id(optimizer)) == "stepped":
            raise RuntimeError("step() has already been called since the last update().")
        if self._stage.get(id(optimizer)) is None:
            self.unscale_(optimizer)
        if id(optimizer) not in self._found_inf:
            raise RuntimeError("GradScaler.step: no inf checks were recorded for this "
                               "optimizer: none of its parameters has a gradient")
        self._stage[id(optimizer)] = "stepped"
        return None if self._found_inf[id(optimizer)] else optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Set the scale to `new_scale` (a number or one-element Tensor), or else back it
        off if any step since the last update found an inf or NaN, and grow it after
        `growth_interval` clean updates in a row."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = self._float32(new_scale.item() if isinstance(new_scale, Tensor)
                                        else new_scale)
        elif not self._found_inf:
            raise RuntimeError("GradScaler.update: no inf checks were recorded prior to "
                               "update(); call step(optimizer) after scale(loss).backward()")
        elif any(self._found_inf.values()):
            self._scale = self._float32(self._scale * self._backoff_factor)
            self._growth_tracker = 0
        elif self._growth_tracker + 1 == self._growth_interval:
            grown = self._float32(self._scale * self._growth_factor)
            self._scale = grown if np.isfinite(grown) else self._scale
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
        self._stage, self._found_inf = {}, {}

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def state_dict(self):
        """PyTorch's keys; empty when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("GradScaler.load_state_dict: the state dict is empty, possibly "
                               "because it was saved from a disabled GradScaler.")
        self._scale = self._float32(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._growth_tracker = state_dict["_growth_tracker"]
