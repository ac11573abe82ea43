"""PyTorch's `torch.utils` path: `minigrad.utils.data`."""
from . import data
