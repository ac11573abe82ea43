"""minigrad: a deep-learning framework written from scratch in NumPy, to be read.

The public surface is the one in API.md; everything else is reached through submodules.
"""
import gc

from . import kernels
from .conv_matrix import conv_matrix
from .gradcheck import GradcheckError, gradcheck
from .kernels import jit_enabled, set_jit
from .ops import (abs, concatenate, exp, log, matmul, maximum, minimum, pad, relu, sigmoid,
                  sqrt, stack, tanh, where)
from .random import Generator, manual_seed, rng
from .tensor import Function, Tensor, is_grad_enabled, no_grad, tensor
from .serialization import load, save
from . import nn

__version__ = "0.1.0"

# Everything loaded by now (NumPy, minigrad, what the program imported before) lives for
# the whole run. Freezing it keeps the cyclic garbage collector, which the many small
# autograd nodes trigger often, from walking it again on every full collection: ~2x per
# op with a large heap (docs/performance.md). minigrad's graphs hold no reference cycles,
# so reference counting alone frees them.
gc.freeze()
