"""Semantic-segmentation training steps in the style of torchvision's reference script: a
strided backbone and a classifier head whose logits are upsampled with bilinear
F.interpolate to the input size, CrossEntropyLoss(ignore_index=255), SGD with momentum
and weight decay over two parameter groups (the head at 10x the learning rate) and a
"poly" LambdaLR stepped every iteration.

The same file runs under `import torch` and `import minigrad as torch`; only the import
lines differ between the two copies in tests/porting/.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

NUM_CLASSES = 4
IGNORE_INDEX = 255


class Backbone(nn.Module):
    def __init__(self, in_channels=3, width=8):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        )
        self.layer1 = nn.Sequential(
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(inplace=True),
        )
        self.out_channels = 2 * width

    def forward(self, x):
        return self.layer1(self.stem(x))


class SegHead(nn.Sequential):
    def __init__(self, in_channels, num_classes):
        super().__init__(
            nn.Conv2d(in_channels, in_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(in_channels),
            nn.ReLU(),
            nn.Conv2d(in_channels, num_classes, 1),
        )


class SegModel(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        self.backbone = Backbone()
        self.classifier = SegHead(self.backbone.out_channels, num_classes)

    def forward(self, x):
        input_shape = x.shape[-2:]
        features = self.backbone(x)
        x = self.classifier(features)
        return F.interpolate(x, size=input_shape, mode="bilinear", align_corners=False)


def build_model():
    return SegModel()


def make_data(n=2, size=16):
    torch.manual_seed(0)
    images = torch.randn(n, 3, size, size)
    targets = torch.randint(0, NUM_CLASSES, (n, size, size))
    targets[:, :3, :] = IGNORE_INDEX
    targets[0, :, -2:] = IGNORE_INDEX
    return {"images": images, "targets": targets}


def run(state_dict=None, data=None, iters=4, lr=0.01):
    """`iters` training iterations on one batch; return the losses, the learning rates
    seen, the first logits, the last gradients, the final weights and the eval-mode
    predictions."""
    if data is None:
        data = make_data()
    images = torch.as_tensor(data["images"])
    targets = torch.as_tensor(data["targets"]).long()

    model = build_model()
    if state_dict is not None:
        model.load_state_dict({k: torch.as_tensor(v) for k, v in state_dict.items()})

    params_to_optimize = [
        {"params": [p for p in model.backbone.parameters() if p.requires_grad]},
        {"params": [p for p in model.classifier.parameters() if p.requires_grad],
         "lr": 10 * lr},
    ]
    optimizer = optim.SGD(params_to_optimize, lr=lr, momentum=0.9, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.LambdaLR(
        optimizer, lambda it: (1 - it / iters) ** 0.9)
    criterion = nn.CrossEntropyLoss(ignore_index=IGNORE_INDEX)

    losses, lrs, group_lrs = [], [], []
    first_logits = None
    model.train()
    for it in range(iters):
        output = model(images)
        if first_logits is None:
            first_logits = output.detach().clone()
        loss = criterion(output, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        lrs.append(scheduler.get_last_lr())
        group_lrs.append([group["lr"] for group in optimizer.param_groups])
    last_grads = {name: p.grad for name, p in model.named_parameters()}

    model.eval()
    with torch.no_grad():
        logits = model(images)
        predictions = logits.argmax(1)
        valid = targets != IGNORE_INDEX
        pixel_accuracy = (predictions[valid] == targets[valid]).float().mean().item()

    return {
        "losses": np.array(losses),
        "lrs": np.array(lrs),
        "group_lrs": np.array(group_lrs),
        "first_logits": first_logits,
        "eval_logits": logits,
        "predictions": predictions,
        "pixel_accuracy": pixel_accuracy,
        "grads": last_grads,
        "params": model.state_dict(),
    }
