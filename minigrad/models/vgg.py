"""VGG (Simonyan and Zisserman, 2015, "Very Deep Convolutional Networks for Large-Scale Image
Recognition") with torchvision's arguments, module names and state_dict keys: stacks of 3x3
convolutions (two 3x3 see what one 5x5 sees, with fewer weights and one more ReLU) between
2x2 max-pools, then three fully connected layers.
"""
import minigrad as mg

from .. import nn
from ._weights import refuse_weights

# the paper's table 1, columns A, B, D, E: conv widths, "M" a 2x2 max-pool
cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
          512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """`features`, a 7x7 adaptive average pool, and the classifier 25088-4096-4096-classes
    with ReLU and dropout.

    Shapes: (N, 3, H, W) -> (N, num_classes), H, W >= 32 (five 2x2 pools).
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        # fixes the classifier's input at 512*7*7 whatever the image size
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = mg.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def make_layers(cfg, batch_norm=False):
    """The convolutional part from a cfgs column: 3x3 conv (padding 1, size kept)
    [+ BatchNorm] + ReLU per width, MaxPool2d(2, 2) per "M". Shapes: (N, 3, H, W) ->
    (N, 512, H/32, W/32)."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def _vgg(name, cfg, batch_norm, num_classes, kwargs):
    return VGG(make_layers(cfgs[cfg], batch_norm), num_classes=num_classes,
               **refuse_weights(name, kwargs))


def vgg11(*, num_classes=1000, **kwargs):
    """VGG-11 (configuration A), 132,863,336 parameters."""
    return _vgg("vgg11", "A", False, num_classes, kwargs)


def vgg11_bn(*, num_classes=1000, **kwargs):
    """VGG-11 with BatchNorm after every conv, 132,868,840 parameters."""
    return _vgg("vgg11_bn", "A", True, num_classes, kwargs)


def vgg13(*, num_classes=1000, **kwargs):
    """VGG-13 (configuration B), 133,047,848 parameters."""
    return _vgg("vgg13", "B", False, num_classes, kwargs)


def vgg13_bn(*, num_classes=1000, **kwargs):
    """VGG-13 with BatchNorm after every conv, 133,053,736 parameters."""
    return _vgg("vgg13_bn", "B", True, num_classes, kwargs)


def vgg16(*, num_classes=1000, **kwargs):
    """VGG-16 (configuration D), 138,357,544 parameters."""
    return _vgg("vgg16", "D", False, num_classes, kwargs)


def vgg16_bn(*, num_classes=1000, **kwargs):
    """VGG-16 with BatchNorm after every conv, 138,365,992 parameters."""
    return _vgg("vgg16_bn", "D", True, num_classes, kwargs)


def vgg19(*, num_classes=1000, **kwargs):
    """VGG-19 (configuration E), 143,667,240 parameters."""
    return _vgg("vgg19", "E", False, num_classes, kwargs)


def vgg19_bn(*, num_classes=1000, **kwargs):
    """VGG-19 with BatchNorm after every conv, 143,678,248 parameters."""
    return _vgg("vgg19_bn", "E", True, num_classes, kwargs)
