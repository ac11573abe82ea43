"""Dataset, TensorDataset and DataLoader, as in torch.utils.data.

A DataLoader draws indices (shuffled or not), fetches the samples, and stacks each field
along a new batch axis, yielding a tuple of Tensors per batch: `for x, y in loader`.
"""
import math

import numpy as np

from ..random import rng
from ..tensor import Tensor


class Dataset:
    """A sized collection of samples: subclasses define `__len__` and `__getitem__(i)`."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Sample i is `(a[i] for a in arrays)`; arrays (or Tensors) share their first axis."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        self.arrays = [a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays]
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: arrays have different first-axis lengths "
                             f"{lengths}; expected one length")

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


def default_collate(samples):
    """Stack samples into a batch: tuples field by field, dicts key by key, arrays and
    numbers along a new first axis, as Tensors (ints -> int64, floats keep their dtype)."""
    first = samples[0]
    if isinstance(first, tuple):
        return tuple(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"DataLoader: cannot stack samples of shapes {sorted(shapes)} into "
                         f"one batch; pass a collate_fn (e.g. `list`) for ragged targets")
    return Tensor(np.stack(arrays))


class DataLoader:
    """Iterate over `dataset` in batches of tuples of Tensors.

    shuffle: a new order every epoch, drawn from `np.random.default_rng(seed)` when a seed
    is given (the same sequence of epochs every run), else from `mg.rng()`.
    drop_last: skip the last, smaller batch. transform: applied to each sample's first
    field (the input), e.g. an augmentation. collate_fn: turns a list of samples into a
    batch (default: `default_collate`).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 transform=None, collate_fn=None):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.transform = transform
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self._generator = np.random.default_rng(seed) if seed is not None else None

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = (self._generator or rng()).permutation(n)
        else:
            order = np.arange(n)
        for batch in range(len(self)):
            indices = order[batch * self.batch_size:(batch + 1) * self.batch_size]
            yield self.collate_fn([self._sample(int(i)) for i in indices])

    def _sample(self, index):
        sample = self.dataset[index]
        if self.transform is None:
            return sample
        if isinstance(sample, tuple):
            return (self.transform(sample[0]),) + sample[1:]
        return self.transform(sample)
