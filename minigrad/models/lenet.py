"""LeNet-5 (LeCun, Bottou, Bengio and Haffner, 1998, "Gradient-Based Learning Applied to
Document Recognition", fig. 2), laid out as torchvision's models: `features`, `classifier`.
"""
import minigrad as mg

from .. import nn


class LeNet5(nn.Module):
    """C1 conv 5x5 (6 maps), S2 2x2 pool, C3 conv 5x5 (16 maps), S4 2x2 pool, C5 conv 5x5
    (120 maps, 1x1 on a 32x32 input), F6 120-84, output 84-num_classes (logits).

    Activation and pooling: tanh and 2x2 average pooling, the paper's squashing function
    and subsampling, so the net is the 1998 one that later ReLU/max-pool nets are compared
    with. Simplified as is usual: C3 connects to all 6 maps (the paper's connection table
    has 60 of 96 pairs), S2/S4 have no trainable coefficient and bias per map, tanh is not
    scaled by 1.7159, the output is a Linear layer, not RBF units, and the init is PyTorch's
    default.

    Shapes: (N, 1, 32, 32) -> (N, num_classes); features (N, 120, 1, 1).
    """

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5), nn.Tanh(),  # C1: (N, 6, 28, 28)
            nn.AvgPool2d(kernel_size=2, stride=2),  # S2: (N, 6, 14, 14)
            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(),  # C3: (N, 16, 10, 10)
            nn.AvgPool2d(kernel_size=2, stride=2),  # S4: (N, 16, 5, 5)
            nn.Conv2d(16, 120, kernel_size=5), nn.Tanh())  # C5: (N, 120, 1, 1)
        self.classifier = nn.Sequential(
            nn.Linear(120, 84), nn.Tanh(),  # F6
            nn.Linear(84, num_classes))

    def forward(self, x):
        if tuple(x.shape[-3:]) != (1, 32, 32):
            raise ValueError(f"LeNet5: expected input of shape (N, 1, 32, 32), got "
                             f"{tuple(x.shape)}")
        return self.classifier(mg.flatten(self.features(x), 1))


def lenet5(num_classes=10):
    """LeNet-5 on 32x32 one-channel images, 61,706 parameters with 10 classes."""
    return LeNet5(num_classes=num_classes)
