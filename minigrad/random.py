"""Random number generation: PyTorch's `Generator` and `manual_seed` over NumPy's generators.

Every random draw in minigrad (initialisers, dropout, shuffling, `mg.randn`, ...) comes from
a `Generator`: the one passed as `generator=`, or else `default_generator`, the one
`mg.manual_seed(seed)` reseeds (with NumPy's global generator, for code that uses it).
"""
import numpy as np


class Generator:
    """A source of random numbers, as `torch.Generator`: `Generator().manual_seed(0)`.

    `device` is accepted for PyTorch's signature; only "cpu" exists. The draws come from
    `self.rng`, a `numpy.random.Generator` (PCG64), so the numbers differ from PyTorch's.
    """

    def __init__(self, device="cpu"):
        if str(device) != "cpu":
            raise RuntimeError(f"Generator: device {device!r} is not available; minigrad "
                               f"runs on the CPU only")
        self.device = device
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))

    def manual_seed(self, seed):
        """Reseed; returns the generator, so `Generator().manual_seed(0)` works."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
        self._initial_seed = int(seed)
        self.rng = np.random.default_rng(self._initial_seed % 2**64)
        return self

    def seed(self):
        """Reseed from fresh entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))
        return self._initial_seed

    def initial_seed(self):
        return self._initial_seed

    def get_state(self):
        """The generator's state (a dict, NumPy's bit-generator state)."""
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed every random source minigrad uses (`default_generator` and NumPy's global one);
    returns `default_generator`, as PyTorch."""
    np.random.seed(seed % 2**32)
    return default_generator.manual_seed(seed)


def seed():
    """Seed `default_generator` from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def rng(generator=None):
    """The NumPy generator behind `generator` (default: `default_generator`)."""
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a minigrad.Generator, got "
                        f"{type(generator).__name__}")
    return generator.rng
