"""Data: datasets, samplers, DataLoader, generated data sets (nothing downloaded) and file
readers. The torch.utils.data names are also reachable as `minigrad.utils.data`."""
from .dataset import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler, Sampler,
                      SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                      default_collate, default_convert, get_worker_info, random_split)
from .formats import CIFAR10_CLASSES, load_cifar10, load_mnist, read_idx
from . import transforms
from .shapes import SHAPE_CLASSES, ShapesDataset, ShapesSegmentation, make_shapes
from .synthetic import make_moons, make_spirals
