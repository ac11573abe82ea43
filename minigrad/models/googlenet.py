"""GoogLeNet, Inception v1 (Szegedy et al. 2015, "Going Deeper with Convolutions"), laid
out as torchvision's googlenet.py: same module names, state_dict keys, initialisation and
outputs (`GoogLeNetOutputs` in training mode with the auxiliary heads), so torchvision's
weights load unchanged."""
from collections import namedtuple

import minigrad as mg

from .. import nn
from ._weights import refuse_weights

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux", "BasicConv2d",
           "googlenet"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])

# ImageNet's per-channel (mean, std): transform_input maps inputs normalised with these to
# the (x - 0.5) / 0.5 normalisation the original weights were trained on
_IMAGENET_STATS = ((0.485, 0.229), (0.456, 0.224), (0.406, 0.225))


class BasicConv2d(nn.Module):
    """Conv2d without bias (`kwargs` as Conv2d's), BatchNorm2d (eps 0.001), ReLU: every
    convolution of GoogLeNet (batch normalisation is torchvision's addition to the 2015
    network).

    Shapes: (N, in_channels, H, W) -> (N, out_channels, Ho, Wo) as the Conv2d.
    """

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return nn.functional.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """The Inception module: four parallel branches whose outputs are concatenated along
    the channels: a 1x1 conv (`ch1x1`); a 1x1 reduction (`ch3x3red`) then a 3x3 conv
    (`ch3x3`); a 1x1 reduction (`ch5x5red`) then a conv (`ch5x5`); a 3x3 stride-1 max pool
    then a 1x1 projection (`pool_proj`). The 1x1 reductions keep the wide convs cheap.
    Szegedy et al. 2015, Figure 2(b), Table 1.

    The third branch's conv is 3x3, not the paper's 5x5: torchvision's layout (its
    pretrained weights have that shape), kept so that they load.

    Shapes: (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                 conv_block=None):
        super().__init__()
        conv_block = BasicConv2d if conv_block is None else conv_block
        self.branch1 = conv_block(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(conv_block(in_channels, ch3x3red, kernel_size=1),
                                     conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(conv_block(in_channels, ch5x5red, kernel_size=1),
                                     conv_block(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            conv_block(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        return mg.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """An auxiliary classifier on an intermediate feature map, whose loss (weighted 0.3 in
    the paper) adds gradient to the lower layers while training: 4x4 adaptive average
    pooling, a 1x1 conv to 128 maps, a 1024-unit fully connected layer with ReLU, dropout
    and a linear classifier. Szegedy et al. 2015, Section 5.

    Shapes: (N, in_channels, H, W) -> (N, num_classes).
    """

    def __init__(self, in_channels, num_classes, conv_block=None, dropout=0.7):
        super().__init__()
        conv_block = BasicConv2d if conv_block is None else conv_block
        self.conv = conv_block(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = self.conv(nn.functional.adaptive_avg_pool2d(x, (4, 4)))
        x = mg.flatten(x, 1)  # (N, 128 * 4 * 4) = (N, 2048)
        x = self.dropout(nn.functional.relu(self.fc1(x)))
        return self.fc2(x)


class GoogLeNet(nn.Module):
    """GoogLeNet: a conv/pool stem, Inception modules 3a-3b, 4a-4e and 5a-5b separated by
    stride-2 max pools, global average pooling, dropout and a linear classifier; with
    `aux_logits`, auxiliary classifiers on the outputs of 4a and 4d. Szegedy et al. 2015,
    Table 1 and Figure 3.

    forward in training mode with `aux_logits` returns
    `GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`, otherwise the logits.
    `transform_input` re-normalises ImageNet-normalised input to (x - 0.5) / 0.5.

    Shapes: (N, 3, H, W) -> (N, num_classes) (each output); H, W >= 15.
    """

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False,
                 init_weights=True, blocks=None, dropout=0.2, dropout_aux=0.7):
        super().__init__()
        blocks = [BasicConv2d, Inception, InceptionAux] if blocks is None else blocks
        if len(blocks) != 3:
            raise ValueError(f"GoogLeNet: blocks must be [conv_block, inception_block, "
                             f"inception_aux_block], got {len(blocks)} entries")
        conv_block, inception_block, inception_aux_block = blocks
        self.aux_logits = aux_logits
        self.transform_input = transform_input

        self.conv1 = conv_block(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv_block(64, 64, kernel_size=1)
        self.conv3 = conv_block(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        # (in_channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj): Table 1
        self.inception3a = inception_block(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception_block(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception_block(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception_block(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception_block(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception_block(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception_block(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception_block(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception_block(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = inception_aux_block(512, num_classes, dropout=dropout_aux)
            self.aux2 = inception_aux_block(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

        if init_weights:
            # std 0.01 with bounds at +-2 (absolute): the truncation never bites, as in
            # torchvision; Linear biases keep their default init
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

    def _transform_input(self, x):
        if not self.transform_input:
            return x
        # x * std / 0.5 + (mean - 0.5) / 0.5 per channel: undo (x - mean) / std, apply
        # (x - 0.5) / 0.5
        return mg.cat([x[:, c:c + 1] * (std / 0.5) + (mean - 0.5) / 0.5
                       for c, (mean, std) in enumerate(_IMAGENET_STATS)], 1)

    def forward(self, x):
        x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        # the auxiliary heads run only while training, as in the paper
        aux_defined = self.training and self.aux_logits
        aux1 = self.aux1(x) if aux_defined and self.aux1 is not None else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if aux_defined and self.aux2 is not None else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = mg.flatten(self.avgpool(x), 1)  # (N, 1024)
        x = self.fc(self.dropout(x))
        return GoogLeNetOutputs(x, aux2, aux1) if aux_defined else x


def googlenet(*, num_classes=1000, aux_logits=True, transform_input=False, init_weights=True,
              **kwargs):
    """GoogLeNet with torchvision's defaults when built without weights (auxiliary heads
    on, no input transform, truncated-normal init); `kwargs` go to `GoogLeNet` (blocks,
    dropout, dropout_aux). No `weights`: load a state_dict. Szegedy et al. 2015."""
    return GoogLeNet(num_classes=num_classes, aux_logits=aux_logits,
                     transform_input=transform_input, init_weights=init_weights,
                     **refuse_weights("googlenet", kwargs))
