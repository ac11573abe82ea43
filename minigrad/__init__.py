"""minigrad: a deep-learning framework written from scratch in NumPy, to be read.

The public surface is the one in API.md; everything else is reached through submodules.
"""
import gc

from . import dtypes, kernels, ops
from .conv_matrix import conv_matrix
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, normal, ones, ones_like, rand, rand_like, randint,
                       randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .device import channels_last, contiguous_format, device, memory_format, preserve_format
from .dtypes import (bool, cdouble, cfloat, complex64, complex128, double, float, float16,
                     float32, float64, get_default_dtype, half, int, int8, int16, int32,
                     int64, long, set_default_dtype, short, uint8)
from .gradcheck import GradcheckError, gradcheck
from .kernels import jit_enabled, set_jit
from .ops import abs, exp, log, matmul, maximum, minimum, pad, relu, sigmoid, sqrt, tanh
from .random import Generator, default_generator, initial_seed, manual_seed, rng, seed
from .tensor import (Function, Size, Tensor, enable_grad, inference_mode, is_grad_enabled,
                     no_grad, set_grad_enabled)
from .tensor_functions import *  # noqa: F401,F403  (torch.sum, torch.cat, ...: listed there)
from .serialization import load, save
from . import nn, optim, utils, amp, backends, cuda, functional  # noqa: E402
from .amp import autocast
from .models.summary import summary  # noqa: E402  (models are written with nn)

__version__ = "0.1.0"

# Everything loaded by now (NumPy, minigrad, what the program imported before) lives for
# the whole run. Freezing it keeps the cyclic garbage collector, which the many small
# autograd nodes trigger often, from walking it again on every full collection: ~2x per
# op with a large heap (docs/performance.md). minigrad's graphs hold no reference cycles,
# so reference counting alone frees them.
gc.freeze()
