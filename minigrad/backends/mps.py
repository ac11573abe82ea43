"""`torch.backends.mps`: Apple's GPU backend, which minigrad does not have."""


def is_available():
    """False: minigrad runs on the CPU only."""
    return False


def is_built():
    """False: minigrad runs on the CPU only."""
    return False
