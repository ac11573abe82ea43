"""Every differentiable op, one file per family; each Function sits beside its wrapper."""
from .elementwise import (abs, add, astype, clip, compare, div, exp, gelu, leaky_relu, lift,
                          log, maximum, minimum, mul, neg, pow, relu, sigmoid, sqrt, sub, tanh,
                          where)
from .linalg import matmul
from .movement import (concatenate, flatten, getitem, pad, permute, reshape, squeeze, stack,
                       transpose, unsqueeze)
from .reduce import argmax, argmin, max, mean, min, sum, var
from .loss import (binary_cross_entropy_with_logits, class_targets, cross_entropy, log_softmax,
                   nll_loss, softmax)
from .norm import normalize, scale_shift
