"""Devices and memory formats on a CPU-only framework: PyTorch's names, one real device.

`mg.device("cpu")` is the only place a tensor can live. `device("cuda")` can be written
(code often builds it before asking `cuda.is_available()`), but moving anything there
raises a clear error. Memory formats are accepted and change nothing: a minigrad tensor is
a NumPy array in its own layout.
"""


class device:
    """A device name, as `torch.device`: `device("cpu")`, `device("cuda", 0)`, "cuda:0"."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got "
                            f"{builtin_type(type).__name__}")
        if ":" in type:
            type, _, number = type.partition(":")
            if index is not None or not number.isdigit():
                raise ValueError(f"device: cannot parse {type}:{number!r}; expected 'name' "
                                 f"or 'name:index'")
            index = int(number)
        self.type, self.index = type, index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


builtin_type = type
cpu = device("cpu")


def check_device(where, target):
    """`target` (a device, a string or None) as the CPU device; anything else raises."""
    if target is None:
        return cpu
    if not isinstance(target, (str, device)):
        raise TypeError(f"{where}: device must be a string or minigrad.device, got "
                        f"{builtin_type(target).__name__}")
    target = device(target)
    if target.type != "cpu":
        raise RuntimeError(f"{where}: device {str(target)!r} is not available; minigrad "
                           f"computes on the CPU only (use 'cpu', or "
                           f"'cuda' if torch.cuda.is_available() else 'cpu')")
    return cpu


class memory_format:
    """A memory layout name (`channels_last`, ...): accepted, and the layout is unchanged."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"minigrad.{self.name}"


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
preserve_format = memory_format("preserve_format")
