"""Optimisers and learning-rate schedules: `import minigrad.optim as optim`."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
