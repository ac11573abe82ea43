"""Data: generated data sets (and, from the data issue, Dataset and DataLoader)."""
from .synthetic import make_moons, make_spirals
