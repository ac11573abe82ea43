"""`torch.backends` on a CPU-only framework: the flags scripts set, and nothing to enable."""
from . import cudnn, mps
