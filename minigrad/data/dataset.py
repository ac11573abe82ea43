"""Datasets, samplers, collation and DataLoader, as torch.utils.data.

A DataLoader asks its batch sampler for lists of indices, fetches those samples from the
dataset and collates them: samples `(x, y)` become a batch `[X, Y]` with a new first axis.
The same classes are reachable as `minigrad.utils.data`, PyTorch's path.
"""
import collections.abc
import math
import warnings
from typing import Generic, TypeVar

import numpy as np

from .. import ops
from ..random import Generator, rng
from ..tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A sized collection of samples: subclasses define `__len__` and `__getitem__(i)`.

    `a + b` is `ConcatDataset([a, b])`; `Dataset[T]` may be written in type hints.
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Sample i is `tuple(t[i] for t in tensors)`; the tensors share their first dimension.

    ndarrays are accepted too (wrapped without a copy, keeping their dtype).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t))
                             for t in tensors)
        lengths = [len(t) for t in self.tensors]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: arrays have different first-axis lengths "
                             f"{lengths}; expected one length")

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: `Subset(ds, [4, 1])[0] is ds[4]`."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, list):  # PyTorch's batched fetch: a list of positions
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]


class ConcatDataset(Dataset):
    """The samples of several datasets one after another; `cumulative_sizes[k]` is the
    number of samples in datasets 0..k."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets is empty; expected at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError(f"ConcatDataset: index {index} is out of range for "
                                 f"{len(self)} samples")
            index += len(self)
        # the first dataset whose cumulative size exceeds the index holds it
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][index - start]


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping random Subsets of the given `lengths`.

    `lengths` are sample counts summing to `len(dataset)`, or fractions summing to 1: then
    each split gets `floor(fraction * len(dataset))` samples and the samples left over go
    one each to the first splits, round-robin (PyTorch's rule). The order is a permutation
    drawn from `generator` (default: the global generator, `mg.manual_seed`).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: lengths[{i}] = {fraction} is not a fraction "
                                 f"between 0 and 1")
        counts = [math.floor(n * fraction) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this split "
                              f"will be empty")
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} sum to {sum(lengths)}; expected "
                         f"the dataset's length {n}, or fractions summing to 1")
    order = rng(generator).permutation(n).tolist()
    ends = np.cumsum(lengths).tolist()
    return [Subset(dataset, order[end - length:end]) for length, end in zip(lengths, ends)]


# --- samplers: iterables of indices (or, for BatchSampler, of lists of indices) --------

class Sampler(Generic[T_co]):
    """Base class: subclasses define `__iter__` (and `__len__` when they know it)."""

    def __init__(self, data_source=None):
        pass  # PyTorch's subclasses may still call super().__init__(data_source)

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _check_positive_int(where, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{where}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")


def _check_bool(where, name, value, error=ValueError):
    if not isinstance(value, bool):
        raise error(f"{where}: {name} should be a boolean value, but got {name}={value!r}")


class RandomSampler(Sampler):
    """A fresh random order every epoch, drawn from `generator` (default: the global one).

    Without replacement, `num_samples` (default `len(data_source)`) larger than the data
    set chains whole permutations; with replacement, indices are drawn independently.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        _check_bool("RandomSampler", "replacement", replacement, TypeError)
        if num_samples is not None:
            _check_positive_int("RandomSampler", "num_samples", num_samples)
        rng(generator)  # a wrong generator fails here rather than at the first epoch
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator

    @property
    def num_samples(self):
        # read each epoch: the data source may grow or shrink between epochs
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, draws = len(self.data_source), rng(self.generator)
        if self.replacement:
            return iter(draws.integers(0, n, size=self.num_samples).tolist())
        whole, rest = divmod(self.num_samples, n)
        orders = [draws.permutation(n) for _ in range(whole)]
        if rest:
            orders.append(draws.permutation(n)[:rest])
        return iter(np.concatenate(orders).tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given `indices` in a fresh random order every epoch."""

    def __init__(self, indices, generator=None):
        rng(generator)
        self.indices, self.generator = indices, generator

    def __iter__(self):
        return (self.indices[i] for i in rng(self.generator).permutation(len(self.indices)))

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Group the indices of `sampler` into lists of `batch_size`; `drop_last` drops a
    last, shorter list."""

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int("BatchSampler", "batch_size", batch_size)
        _check_bool("BatchSampler", "drop_last", drop_last)
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        whole, rest = divmod(len(self.sampler), self.batch_size)
        return whole + (1 if rest and not self.drop_last else 0)


# --- collation ---------------------------------------------------------------------------

def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _numeric_array(array):
    if array.dtype.kind in "SUO":  # strings and objects cannot become a tensor
        raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                        f"or lists; found an array of dtype {array.dtype}")
    return array


def _rebuild(template, items):
    """`items` in a container of `template`'s type, or a plain one if that type cannot be
    built from a dict or list (as PyTorch falls back)."""
    try:
        return type(template)(items)
    except TypeError:
        return dict(items) if isinstance(template, collections.abc.Mapping) else list(items)


def default_collate(batch):
    """Turn a list of samples into a batch, by the type of the first sample (PyTorch's rules).

    Tensors are stacked along a new first axis, ndarrays become tensors keeping their dtype,
    NumPy scalars keep theirs; Python floats give float64, ints int64, bools bool (an int
    batch holding a float gives float32, as `torch.tensor`); strings and bytes stay as given.
    Dicts are collated key by key, namedtuples field by field, and other sequences
    (tuples, lists) are transposed into a list of collated fields. Shapes: B samples of
    shape S -> (B, *S).
    """
    first = batch[0]
    if isinstance(first, np.ndarray):
        batch = [Tensor(_numeric_array(a)) for a in batch]
        first = batch[0]
    if isinstance(first, Tensor):
        shapes = {tuple(t.shape) for t in batch}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: cannot stack samples of shapes "
                             f"{sorted(shapes)} into one batch; pass a collate_fn "
                             f"(e.g. `list`) for ragged samples")
        if any(t.requires_grad for t in batch):
            return ops.stack(list(batch))
        # nothing to differentiate: one np.stack rather than B unsqueeze ops and a concat
        return Tensor(np.stack([t.data for t in batch]))
    if isinstance(first, (np.bool_, np.number)):
        return Tensor(np.array(batch))
    if isinstance(first, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(first, int):  # bool is an int
        array = np.array(batch)
        return Tensor(array.astype({"b": np.bool_, "i": np.int64}.get(array.dtype.kind,
                                                                       np.float32)))
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, collections.abc.Mapping):
        return _rebuild(first, {key: default_collate([s[key] for s in batch]) for key in first})
    if isinstance(first, collections.abc.Sequence):
        sizes = {len(s) for s in batch}
        if len(sizes) != 1:
            raise ValueError(f"default_collate: samples have different numbers of fields "
                             f"{sorted(sizes)}; each element in list of batch should be of "
                             f"equal size")
        fields = [default_collate(field) for field in zip(*batch)]
        if _is_namedtuple(first):
            return type(first)(*fields)
        if isinstance(first, (tuple, list)):
            return fields
        return _rebuild(first, fields)
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first).__name__}")


def default_convert(sample):
    """Turn ndarrays and NumPy scalars in one sample into tensors (DataLoader's collate_fn
    when `batch_size=None`); tuples become lists, as PyTorch."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind not in "SUO":
        return Tensor(sample)
    if isinstance(sample, (np.bool_, np.number)):
        return Tensor(np.asarray(sample))
    if isinstance(sample, collections.abc.Mapping):
        return _rebuild(sample, {key: default_convert(value) for key, value in sample.items()})
    if _is_namedtuple(sample):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, (tuple, list)):
        return [default_convert(value) for value in sample]
    return sample


def get_worker_info():
    """None: minigrad's DataLoader loads every batch in the calling process."""
    return None


class DataLoader:
    """Iterate over `dataset` in batches, as torch.utils.data.DataLoader.

    `shuffle=True` draws a new order every epoch from `generator` (a `minigrad.Generator`;
    default: the global one, `mg.manual_seed`). `sampler` (indices) or `batch_sampler`
    (lists of indices) replace the built-in ones; `batch_size=None` yields single samples
    passed through `default_convert`. `collate_fn` turns a list of samples into a batch
    (default: `default_collate`); `drop_last` skips a last, smaller batch.

    Every batch is loaded in the calling process: `num_workers > 0` is accepted and loads
    exactly what `num_workers=0` loads, in the same order. There are no worker processes,
    so `worker_init_fn` is never called (calling it here would reseed the main process's
    random state every epoch), `get_worker_info()` returns None, and `timeout`,
    `prefetch_factor`, `persistent_workers`, `multiprocessing_context`, `in_order` are
    validated as PyTorch does and change nothing. `pin_memory` is accepted and changes
    nothing (there is no GPU to copy to).

    minigrad's additions: `seed` (an int) shuffles from a generator of its own, so the
    sequence of epochs repeats run to run; `transform` is applied to each sample's first
    field (the input), e.g. an augmentation.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, seed=None, transform=None):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative, got "
                             f"{num_workers!r}; use num_workers=0 to disable multiprocessing")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got "
                             f"{timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(f"DataLoader: prefetch_factor={prefetch_factor!r} needs "
                             f"num_workers > 0; set prefetch_factor to None")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: give seed or generator, not both")
            generator = Generator().manual_seed(seed)
        if sampler is not None and shuffle:
            raise ValueError(f"DataLoader: sampler option is mutually exclusive with "
                             f"shuffle, got shuffle={shuffle!r}")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive "
                                 "with batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_convert if batch_sampler is None else default_collate

        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.collate_fn, self.transform = collate_fn, transform
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.persistent_workers = persistent_workers
        self.multiprocessing_context, self.pin_memory_device = (multiprocessing_context,
                                                                pin_memory_device)
        self.in_order = in_order

    def __len__(self):
        return len(self.sampler if self.batch_sampler is None else self.batch_sampler)

    def __iter__(self):
        if self.batch_sampler is None:
            return (self.collate_fn(self._sample(i)) for i in self.sampler)
        return (self.collate_fn([self._sample(i) for i in indices])
                for indices in self.batch_sampler)

    def _sample(self, index):
        sample = self.dataset[index]
        if self.transform is None:
            return sample
        if isinstance(sample, tuple):
            return (self.transform(sample[0]),) + sample[1:]
        return self.transform(sample)
