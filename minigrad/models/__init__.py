"""The course's networks with torchvision's names, arguments and state_dict keys:
`import minigrad.models as models` (laid out as torchvision/models). Weights come from a
state_dict (`model.load_state_dict(...)`), never from a download; `models.summary` prints
a network's layers with their shapes, parameters, mult-adds and receptive fields."""
from . import blocks, detection, segmentation
from .alexnet import AlexNet, alexnet
from .cifar import CifarResNet, cifar_resnet
from .densenet import DenseNet, densenet121, densenet169
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from .lenet import LeNet5, lenet5
from .mobilenet import MobileNetV2, mobilenet_v2
from .resnet import (ResNet, resnet18, resnet34, resnet50, resnet101, resnet152,
                     resnext50_32x4d, wide_resnet50_2)
from .summary import summary
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
