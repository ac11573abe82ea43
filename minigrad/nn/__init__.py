"""Modules: `import minigrad.nn as nn`. Layers live in one file per family."""
from . import functional, init, parallel, utils
from .activation import (ELU, GELU, Dropout, Dropout2d, Hardsigmoid, Hardswish, Hardtanh,
                         LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Tanh)
from .conv import Conv2d, ConvTranspose2d
from .linear import Flatten, Identity, Linear, Unflatten
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm
from .padding import ConstantPad2d, ReflectionPad2d, ReplicationPad2d, ZeroPad2d
from .parallel import DataParallel
from .pooling import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d,
                      MaxUnpool2d, Upsample)
