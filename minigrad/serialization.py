"""mg.save / mg.load: a state_dict (a dict of ndarrays) as a NumPy .npz file, never pickled.

Pickle runs arbitrary code on load; a .npz of plain arrays cannot, so loading a file
from elsewhere is safe. Keys keep their dotted PyTorch names.
"""
from collections import OrderedDict

import numpy as np

from .tensor import Tensor


def save(obj, path):
    """Write a dict {name: ndarray or Tensor} (e.g. `model.state_dict()`) to `path` (.npz)."""
    if not isinstance(obj, dict):
        raise TypeError(f"save: expected a dict of arrays such as model.state_dict(), got "
                        f"{type(obj).__name__}")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r}")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype == object:
            raise TypeError(f"save: value for {key!r} is not a numeric array "
                            f"(type {type(value).__name__}); only arrays are saved, no pickle")
        arrays[key] = array
    with open(path, "wb") as file:  # a file object, so NumPy does not append ".npz" to path
        np.savez(file, **arrays)


def load(path):
    """Read a file written by `save`: an OrderedDict {name: ndarray} in the saved order."""
    with np.load(path, allow_pickle=False) as archive:
        return OrderedDict((key, archive[key]) for key in archive.files)
