"""Segmentation networks: torchvision's `fcn_resnet50/101` and `deeplabv3_resnet50/101`
(forward returns {"out", "aux"}, torchvision's state_dict keys) and the course's nets sized
for a laptop, `fcn8s`, `unet`, `segnet`, `deeplabv3plus`, `pspnet` (forward returns the
logits (N, num_classes, H, W) at the input size)."""
from ._utils import IntermediateLayerGetter
from .deeplabv3 import (ASPP, ASPPConv, ASPPPooling, DeepLabHead, DeepLabV3,
                        deeplabv3_resnet50, deeplabv3_resnet101)
from .deeplabv3plus import DeepLabV3Plus, DilatedBackbone, deeplabv3plus
from .fcn import FCN, FCN8s, FCNHead, fcn8s, fcn_resnet50, fcn_resnet101
from .pspnet import PSPNet, PyramidPooling, pspnet
from .segnet import SegNet, segnet
from .unet import DoubleConv, UNet, Up, unet

__all__ = ["ASPP", "ASPPConv", "ASPPPooling", "DeepLabHead", "DeepLabV3",
           "DeepLabV3Plus", "DilatedBackbone", "DoubleConv", "FCN", "FCN8s", "FCNHead",
           "IntermediateLayerGetter", "PSPNet", "PyramidPooling", "SegNet", "UNet", "Up",
           "deeplabv3_resnet50", "deeplabv3_resnet101", "deeplabv3plus", "fcn8s",
           "fcn_resnet50", "fcn_resnet101", "pspnet", "segnet", "unet"]
