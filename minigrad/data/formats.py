"""Readers for the MNIST (IDX) and CIFAR-10 (binary) file formats, from a local folder.

Nothing is downloaded: put the files where you like and pass the folder. Images come back
as float32 in [0, 1], shaped (N, C, H, W) like torchvision's ToTensor; labels as int64.
"""
import gzip
import os

import numpy as np

# IDX type codes (the third byte of the magic number) and their big-endian dtypes
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read an IDX file (optionally .gz): magic 0 0 <type> <ndim>, ndim big-endian uint32
    sizes, then the data, row-major, big-endian. Returns an ndarray in native byte order."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as file:
        raw = file.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (magic bytes {raw[:4]!r})")
    ndim = raw[3]
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - offset != expected:
        raise ValueError(f"read_idx: {path} declares shape {shape} ({expected} bytes of "
                         f"data) but holds {len(raw) - offset}")
    return np.frombuffer(raw, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def _find(root, names):
    for name in names:
        for candidate in (name, name + ".gz"):
            path = os.path.join(root, candidate)
            if os.path.exists(path):
                return path
    raise FileNotFoundError(f"no {' or '.join(names)} (or .gz) in {root}")


def load_mnist(root, train=True):
    """MNIST (or Fashion-MNIST) from the IDX files in `root`.

    Returns images float32 (N, 1, 28, 28) in [0, 1] and labels int64 (N,).
    """
    prefix = "train" if train else "t10k"
    images = read_idx(_find(root, [f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"]))
    labels = read_idx(_find(root, [f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte"]))
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise ValueError(f"load_mnist: images of shape {images.shape} and labels of shape "
                         f"{labels.shape} do not pair up; expected (N, H, W) and (N,)")
    return (images[:, None] / np.float32(255)).astype(np.float32), labels.astype(np.int64)


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")


def load_cifar10(root, train=True):
    """CIFAR-10 from its binary version (data_batch_1..5.bin, test_batch.bin) in `root` or
    in `root/cifar-10-batches-bin`. Each record: 1 label byte, then 3072 bytes (the red,
    green and blue 32x32 planes, row-major).

    Returns images float32 (N, 3, 32, 32) in [0, 1] and labels int64 (N,).
    """
    folder = os.path.join(root, "cifar-10-batches-bin")
    folder = folder if os.path.isdir(folder) else root
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
    records = []
    for name in names:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"load_cifar10: no {name} in {folder}")
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size % 3073:
            raise ValueError(f"load_cifar10: {path} holds {raw.size} bytes, not a multiple of "
                             f"the 3073-byte record")
        records.append(raw.reshape(-1, 3073))  # (N, 1 + 3*32*32)
    records = np.concatenate(records)
    images = records[:, 1:].reshape(-1, 3, 32, 32)  # (N, C, H, W)
    return (images / np.float32(255)).astype(np.float32), records[:, 0].astype(np.int64)
