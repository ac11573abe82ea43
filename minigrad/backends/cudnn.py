"""`torch.backends.cudnn`: settable flags with PyTorch's defaults; there is no cuDNN, so
setting them changes nothing (minigrad's kernels are deterministic already)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    """False: minigrad runs on the CPU only."""
    return False


def version():
    """None, as PyTorch without cuDNN."""
    return None
