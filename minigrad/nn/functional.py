"""`minigrad.nn.functional` is `minigrad.functional` (as torch.nn.functional)."""
from ..functional import *  # noqa: F401,F403
