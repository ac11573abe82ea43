"""What the segmentation models share: torchvision's backbone wrapper and model base (same
module names, so the same state_dict keys) and argument checks."""
from collections import OrderedDict

import minigrad.nn.functional as F

from ... import nn


class IntermediateLayerGetter(nn.ModuleDict):
    """The children of `model` up to the last one named in `return_layers`, run in order;
    forward returns {return_layers[name]: that child's output}, as torchvision's.

    The children keep their names, so a ResNet wrapped this way has the ResNet's keys
    (`conv1.weight`, `layer4.2.bn3.running_var`, ...) minus those of the dropped avgpool/fc.
    """

    def __init__(self, model, return_layers):
        names = [name for name, _ in model.named_children()]
        if not set(return_layers) <= set(names):
            raise ValueError(f"IntermediateLayerGetter: return_layers {sorted(return_layers)} "
                             f"are not all children of the model; its children are {names}")
        wanted = dict(return_layers)
        layers = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            wanted.pop(name, None)
            if not wanted:
                break
        super().__init__(layers)
        self.return_layers = {str(k): str(v) for k, v in return_layers.items()}

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


class _SimpleSegmentationModel(nn.Module):
    """backbone -> classifier (and aux_classifier on the backbone's "aux" features), each
    upsampled bilinearly to the input size, as torchvision's.

    Shapes: x (N, C, H, W) -> OrderedDict {"out": (N, K, H, W)} plus "aux": (N, K, H, W)
    when there is an aux_classifier.
    """

    def __init__(self, backbone, classifier, aux_classifier=None):
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x):
        size = x.shape[-2:]
        features = self.backbone(x)
        result = OrderedDict()
        result["out"] = F.interpolate(self.classifier(features["out"]), size=size,
                                      mode="bilinear", align_corners=False)
        if self.aux_classifier is not None:
            result["aux"] = F.interpolate(self.aux_classifier(features["aux"]), size=size,
                                          mode="bilinear", align_corners=False)
        return result


def check_positive_int(fn, name, value):
    """`value` if it is an int >= 1, else TypeError/ValueError naming `name` and the value."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{fn}: {name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{fn}: {name} must be at least 1, got {value}")
    return value


def check_choice(fn, name, value, choices):
    """`value` if it is one of `choices`, else ValueError naming `name`, value and choices."""
    if value not in choices:
        raise ValueError(f"{fn}: {name} must be one of {choices}, got {value!r}")
    return value
