"""`torch.utils.data` under minigrad: the classes of `minigrad.data` (one implementation)."""
from ..data.dataset import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler,
                            Sampler, SequentialSampler, Subset, SubsetRandomSampler,
                            TensorDataset, default_collate, default_convert, get_worker_info,
                            random_split)

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
           "default_collate", "default_convert", "get_worker_info", "random_split"]
