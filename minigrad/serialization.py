"""mg.save / mg.load: a state_dict (a dict of ndarrays) as a NumPy .npz file, never pickled.

Pickle runs arbitrary code on load; a .npz of plain numeric arrays cannot, so loading a file
from elsewhere is safe. Both directions accept only plain numbers and bools (no object,
string, bytes or structured arrays). Keys keep their dotted PyTorch names.

`save` is atomic: it writes a temporary file beside the target, flushes it to disk and
renames it over the target, so a failure halfway (a full disk, a value that cannot be
saved) leaves the previous file as it was. `load` reads each member's header first and
checks that the declared shape and dtype fit the bytes the member holds before allocating,
so a damaged or hostile file gives a clear error, not a MemoryError or a crash.
"""
import os
import secrets
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

_NUMERIC_KINDS = "biufc"  # bool, signed and unsigned integers, floats, complex


def _numeric_array(key, value):
    """`value` (an ndarray, a Tensor or a number) as an ndarray of plain numbers or bools."""
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"save: value for key {key!r} is not a numeric array (type "
                        f"{type(value).__name__}, dtype {array.dtype}); only arrays of numbers "
                        f"or bools are saved, nothing is pickled")
    return array


def _check_key(key):
    if not isinstance(key, str):
        raise TypeError(f"save: keys must be strings, got {key!r} ({type(key).__name__})")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"save: key {key!r} cannot be encoded as UTF-8 (a lone surrogate?), "
                         f"so it cannot name a member of the .npz file") from None


def save(obj, path):
    """Write a dict {name: ndarray or Tensor} (e.g. `model.state_dict()`) to `path` (.npz),
    atomically: the previous file at `path` is replaced only once the new one is complete."""
    if not isinstance(obj, dict):
        raise TypeError(f"save: expected a dict of arrays such as model.state_dict(), got "
                        f"{type(obj).__name__}")
    arrays = {}
    for key, value in obj.items():
        _check_key(key)
        arrays[key] = _numeric_array(key, value)
    path = os.fspath(path)
    temporary = os.path.join(os.path.dirname(path) or ".",
                             f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never write through a file (or link) that is already there; mode 0o666 so the
    # umask applies, as to a file opened with open()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:  # a file object: NumPy adds no ".npz"
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load(path):
    """Read a file written by `save`: an OrderedDict {name: ndarray} in the saved order."""
    path = os.fspath(path)
    with open(path, "rb") as file:
        if file.read(2) != b"PK":  # every zip file starts so (an empty one too)
            raise ValueError(f"load: {path!r} is not a .npz archive (written by mg.save); a "
                             f".npy file holds one array: read it with numpy.load")
    try:
        with zipfile.ZipFile(path) as archive:
            return OrderedDict(_read_member(path, archive, info) for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as error:
        raise ValueError(f"load: {path!r} is damaged or truncated ({error})") from None


def _read_member(path, archive, info):
    """(key, array) of one `key.npy` member, its header checked against its size first."""
    if not info.filename.endswith(".npy"):
        raise ValueError(f"load: {path!r} holds {info.filename!r}, which is not a .npy array: "
                         f"not a file written by mg.save")
    key = info.filename[:-len(".npy")]
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran_order, dtype = read_header(member)
        except ValueError as error:
            raise ValueError(f"load: the header of key {key!r} in {path!r} is not a valid "
                             f".npy header ({error})") from None
        if dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"load: key {key!r} in {path!r} holds an array of dtype {dtype}; "
                            f"only arrays of numbers or bools are loaded, nothing is unpickled")
        declared = int(np.prod(shape, dtype=object)) * dtype.itemsize  # Python ints: no overflow
        held = info.file_size - member.tell()
        if declared != held:
            raise ValueError(f"load: key {key!r} in {path!r} declares shape {shape} of dtype "
                             f"{dtype} ({declared} bytes) but holds {held} bytes: the file is "
                             f"damaged")
        buffer = bytearray(declared)
        if member.readinto(buffer) != declared:
            raise ValueError(f"load: key {key!r} in {path!r} is truncated")
    array = np.frombuffer(buffer, dtype).reshape(shape, order="F" if fortran_order else "C")
    return key, array
