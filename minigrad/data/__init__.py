"""Data: Dataset, DataLoader, generated data sets (nothing downloaded) and file readers."""
from .dataset import DataLoader, Dataset, TensorDataset, default_collate
from .formats import CIFAR10_CLASSES, load_cifar10, load_mnist, read_idx
from .shapes import SHAPE_CLASSES, ShapesDataset, make_shapes
from .synthetic import make_moons, make_spirals
