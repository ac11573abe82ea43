"""Errors that are two things at once: minigrad's rule for bad input is a ValueError naming
the argument and the shapes, and PyTorch raises RuntimeError (or IndexError) for the same
mistakes. Each class here is both, so code written against either catches it."""


class InvalidArgument(ValueError, RuntimeError):
    """Arguments that do not fit together (shapes, sizes, bounds): ValueError and RuntimeError."""


class DimOutOfRange(ValueError, IndexError):
    """A dim outside a tensor's dims: ValueError, and IndexError as in PyTorch."""
