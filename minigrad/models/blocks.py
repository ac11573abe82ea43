"""The building blocks of the zoo in one place to import from. Each is defined beside the
network it belongs to (as in torchvision) and documented there with its shapes and paper."""
from .cifar import CifarBasicBlock, ZeroPadShortcut
from .densenet import DenseBlock, DenseLayer, Transition
from .googlenet import BasicConv2d, Inception, InceptionAux
from .mobilenet import Conv2dNormActivation, InvertedResidual
from .resnet import BasicBlock, Bottleneck
from .segmentation import ASPP, DoubleConv, PyramidPooling

__all__ = ["ASPP", "BasicBlock", "BasicConv2d", "Bottleneck", "CifarBasicBlock",
           "Conv2dNormActivation", "DenseBlock", "DenseLayer", "DoubleConv", "Inception",
           "InceptionAux", "InvertedResidual", "PyramidPooling", "Transition",
           "ZeroPadShortcut"]
