"""DenseNet-BC (Huang et al. 2017, "Densely Connected Convolutional Networks"), laid out as
torchvision's densenet.py: same module names, state_dict keys
(`features.denseblock1.denselayer1.norm1.weight`, ...) and initialisation, so torchvision's
weights load unchanged. torchvision's private `_DenseLayer`, `_DenseBlock` and `_Transition`
are public here as `DenseLayer`, `DenseBlock` and `Transition`."""
import warnings
from collections import OrderedDict

import minigrad as mg

from .. import nn
from ._weights import refuse_weights

__all__ = ["DenseLayer", "DenseBlock", "Transition", "DenseNet", "densenet121", "densenet169"]


class DenseLayer(nn.Module):
    """One layer of a dense block: BN-ReLU-Conv1x1 to `bn_size * growth_rate` channels (the
    "B" bottleneck), then BN-ReLU-Conv3x3 to `growth_rate` new feature maps, then dropout
    with `drop_rate`. It reads the concatenation of every earlier output of its block and
    returns only its own new maps. Huang et al. 2017, Sections 3 (Bottleneck layers).

    Shapes: a Tensor (N, num_input_features, H, W), or a list of Tensors whose channels sum
    to num_input_features -> (N, growth_rate, H, W).
    """

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate,
                 memory_efficient=False):
        super().__init__()
        if not 0.0 <= drop_rate < 1.0:
            raise ValueError(f"DenseLayer: drop_rate must lie in [0, 1), got {drop_rate!r}")
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1,
                               stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        if memory_efficient:
            warnings.warn("DenseLayer: memory_efficient=True is accepted for torchvision's "
                          "signature, but minigrad has no activation checkpointing: the "
                          "layer keeps its activations (outputs and gradients are the same)",
                          stacklevel=2)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs):
        """The bottleneck: conv1(relu1(norm1(cat(inputs)))), (N, bn_size * growth_rate, H, W)."""
        return self.conv1(self.relu1(self.norm1(mg.cat(inputs, 1))))

    def forward(self, input):
        prev_features = [input] if isinstance(input, mg.Tensor) else list(input)
        new_features = self.conv2(self.relu2(self.norm2(self.bn_function(prev_features))))
        if self.drop_rate > 0:
            new_features = nn.functional.dropout(new_features, p=self.drop_rate,
                                                 training=self.training)
        return new_features


class DenseBlock(nn.ModuleDict):
    """`num_layers` DenseLayers ("denselayer1", ...), layer i reading the block input and
    the i - 1 earlier outputs, so its input has num_input_features + (i - 1) * growth_rate
    channels; the block returns all of them concatenated. Huang et al. 2017, Figure 1.

    Shapes: (N, num_input_features, H, W)
    -> (N, num_input_features + num_layers * growth_rate, H, W).
    """

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate,
                 memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}",
                            DenseLayer(num_input_features + i * growth_rate,
                                       growth_rate=growth_rate, bn_size=bn_size,
                                       drop_rate=drop_rate, memory_efficient=memory_efficient))

    def forward(self, init_features):
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return mg.cat(features, 1)


class Transition(nn.Sequential):
    """Between dense blocks: BN, ReLU, a 1x1 conv to `num_output_features` (half the
    channels in DenseNet-BC, the "C" compression) and 2x2 average pooling.
    Huang et al. 2017, Section 3 (Pooling layers, Compression).

    Shapes: (N, num_input_features, H, W) -> (N, num_output_features, H // 2, W // 2).
    """

    def __init__(self, num_input_features, num_output_features):
        super().__init__(OrderedDict([
            ("norm", nn.BatchNorm2d(num_input_features)),
            ("relu", nn.ReLU(inplace=True)),
            ("conv", nn.Conv2d(num_input_features, num_output_features, kernel_size=1,
                               stride=1, bias=False)),
            ("pool", nn.AvgPool2d(kernel_size=2, stride=2)),
        ]))


class DenseNet(nn.Module):
    """DenseNet-BC: a 7x7 stride-2 conv with `num_init_features` maps and a 3x3 stride-2 max
    pool, then dense blocks of `block_config` layers (each adding `growth_rate` maps, k in
    the paper) separated by halving Transitions, a final BN, ReLU, global average pooling
    and a linear classifier. Huang et al. 2017, Table 1.

    Shapes: (N, 3, H, W) -> (N, num_classes); H, W >= 29 for the four-block networks.
    """

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64,
                 bn_size=4, drop_rate=0, num_classes=1000, memory_efficient=False):
        super().__init__()
        if len(block_config) == 0 or any(isinstance(n, bool) or not isinstance(n, int)
                                         or n < 1 for n in block_config):
            raise ValueError(f"DenseNet: block_config must be a non-empty sequence of "
                             f"positive ints (layers per dense block), got {block_config!r}")
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3,
                                bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", DenseBlock(
                num_layers=num_layers, num_input_features=num_features, bn_size=bn_size,
                growth_rate=growth_rate, drop_rate=drop_rate,
                memory_efficient=memory_efficient))
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}",
                                         Transition(num_features, num_features // 2))
                num_features //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)

        # the original Torch implementation's init; the classifier's weight keeps Linear's
        # default U(+-1/sqrt(in_features))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        out = nn.functional.relu(self.features(x))
        out = nn.functional.adaptive_avg_pool2d(out, (1, 1))
        out = mg.flatten(out, 1)  # (N, num_features)
        return self.classifier(out)


def _densenet(name, growth_rate, block_config, num_init_features, kwargs):
    return DenseNet(growth_rate, block_config, num_init_features,
                    **refuse_weights(name, kwargs))


def densenet121(**kwargs):
    """DenseNet-121 (k = 32, blocks of 6, 12, 24, 16 layers, 64 initial maps); `kwargs` go to
    `DenseNet` (bn_size, drop_rate, num_classes, memory_efficient). No `weights`: load a
    state_dict. Huang et al. 2017."""
    return _densenet("densenet121", 32, (6, 12, 24, 16), 64, kwargs)


def densenet169(**kwargs):
    """DenseNet-169 (k = 32, blocks of 6, 12, 32, 32 layers, 64 initial maps); `kwargs` as
    densenet121. Huang et al. 2017."""
    return _densenet("densenet169", 32, (6, 12, 32, 32), 64, kwargs)
