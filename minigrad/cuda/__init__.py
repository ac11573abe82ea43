"""`torch.cuda` on a CPU-only framework: no GPU, and the calls scripts make without one.

`is_available()` is False and `device_count()` 0, so `"cuda" if torch.cuda.is_available()
else "cpu"` picks the CPU. Seeding, `synchronize` and `empty_cache` have nothing to act on
and do nothing; asking for the current device raises.
"""
from . import amp


def is_available():
    """False: minigrad runs on the CPU only."""
    return False


def device_count():
    """0: there is no GPU."""
    return 0


def manual_seed(seed):
    """Accepted, as PyTorch without CUDA: there is no GPU generator to seed."""
    int(seed)  # PyTorch rejects what int() rejects


def manual_seed_all(seed):
    """Accepted, as PyTorch without CUDA: there is no GPU generator to seed."""
    int(seed)


def synchronize(device=None):
    """Nothing to wait for: every minigrad op has finished when it returns."""


def empty_cache():
    """Nothing to free: minigrad keeps no GPU memory."""


def _no_gpu(where):
    return RuntimeError(f"torch.cuda.{where}: minigrad has no CUDA device (it runs on the "
                        f"CPU only); check torch.cuda.is_available() first")


def current_device():
    raise _no_gpu("current_device()")


def get_device_name(device=None):
    raise _no_gpu("get_device_name()")
