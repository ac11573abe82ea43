"""Every differentiable op, one file per family; each Function sits beside its wrapper."""
from .elementwise import (abs, add, astype, cast, clamp, clip, clone, constant, div, divide,
                          exp, fill, floating, gelu, leaky_relu, lift, log, maximum, minimum,
                          mul, neg, pow, promote, relu, result_type, sigmoid, sqrt, step, sub,
                          tanh, where)
from .linalg import bmm, dot, matmul, mm
from .movement import (chunk, concatenate, expand, flatten, flip, gather, getitem, index_select,
                       narrow, pad, permute, plain_index, repeat, reshape, scatter, setitem,
                       split, squeeze, stack, transpose, unbind, unflatten, unsqueeze)
from .reduce import (argmax, argmin, cumsum, logsumexp, max, max_along, mean, min,
                     normalize_axis, prod, sort, sum, topk, var, vector_norm)
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, class_targets,
                   cross_entropy, log_softmax, nll_loss, softmax)
from .norm import normalize, scale_shift
