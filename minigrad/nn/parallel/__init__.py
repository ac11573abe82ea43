"""`torch.nn.parallel` on one CPU: DataParallel is a pass-through, DistributedDataParallel
cannot be built.

PyTorch's DataParallel with no GPU available keeps the module and runs it unchanged; so does
minigrad's. Wrapping keeps PyTorch's state_dict keys (`module.` + the inner keys), so
checkpoints saved from a wrapped model load into a wrapped one, as with PyTorch.
"""
from ..module import Module


class DataParallel(Module):
    """Runs `module` unchanged (one CPU: nothing to split); `device_ids`, `output_device` and
    `dim` are accepted for PyTorch's signature. The wrapped model is `self.module`."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []  # PyTorch's value when no GPU is available

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    """Exists for `isinstance` checks; building one raises: minigrad runs in one process."""

    def __init__(self, module, *args, **kwargs):
        raise RuntimeError("DistributedDataParallel: minigrad runs in a single CPU process "
                           "with no torch.distributed process group; use the module itself "
                           "(or DataParallel, a pass-through)")
