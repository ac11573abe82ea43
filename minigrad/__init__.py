"""minigrad: a deep-learning framework written from scratch in NumPy, to be read.

The public surface is the one in API.md; everything else is reached through submodules.
"""
from . import kernels
from .gradcheck import GradcheckError, gradcheck
from .kernels import jit_enabled, set_jit
from .ops import (abs, concatenate, exp, log, matmul, maximum, minimum, pad, relu, sigmoid,
                  sqrt, stack, tanh, where)
from .tensor import Function, Tensor, is_grad_enabled, manual_seed, no_grad, rng, tensor
from .serialization import load, save
from . import nn

__version__ = "0.1.0"
