"""AlexNet as torchvision has it: the one-GPU variant of Krizhevsky's "One weird trick"
paper (2014), with 64-192-384-256-256 maps, rather than the two-tower net of Krizhevsky,
Sutskever and Hinton (2012)."""
import minigrad as mg

from .. import nn
from ._weights import refuse_weights


class AlexNet(nn.Module):
    """Five convolutions (11x11/4, 5x5, three 3x3) with three 3x3/2 max-pools, a 6x6
    adaptive average pool, and the classifier 9216-4096-4096-classes with dropout.
    PyTorch's default layer init (torchvision sets none).

    Shapes: (N, 3, H, W) -> (N, num_classes), H, W >= 63.
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        # fixes the classifier's input at 256*6*6 whatever the image size
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = mg.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def alexnet(*, num_classes=1000, **kwargs):
    """AlexNet, 61,100,840 parameters."""
    return AlexNet(num_classes=num_classes, **refuse_weights("alexnet", kwargs))
