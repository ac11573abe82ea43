"""A tiny U-Net: double-conv blocks (Conv2d, BatchNorm2d, ReLU(inplace=True)), max-pool
downsampling, ConvTranspose2d upsampling with torch.cat skip connections, trained on a
binary mask with BCE-with-logits plus a hand-written Dice loss and Adam.

The same file runs under `import torch` and `import minigrad as torch`; only the import
lines differ between the two copies in tests/porting/.
"""
import numpy as np
import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim


def double_conv(in_channels, out_channels):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class TinyUNet(nn.Module):
    def __init__(self, in_channels=3, out_channels=1, width=4):
        super().__init__()
        self.enc1 = double_conv(in_channels, width)
        self.enc2 = double_conv(width, 2 * width)
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = double_conv(2 * width, 4 * width)
        self.up2 = nn.ConvTranspose2d(4 * width, 2 * width, kernel_size=2, stride=2)
        self.dec2 = double_conv(4 * width, 2 * width)
        self.up1 = nn.ConvTranspose2d(2 * width, width, kernel_size=2, stride=2)
        self.dec1 = double_conv(2 * width, width)
        self.head = nn.Conv2d(width, out_channels, kernel_size=1)

    def forward(self, x):
        skip1 = self.enc1(x)
        skip2 = self.enc2(self.pool(skip1))
        x = self.bottleneck(self.pool(skip2))
        x = self.dec2(torch.cat([skip2, self.up2(x)], dim=1))
        x = self.dec1(torch.cat([skip1, self.up1(x)], dim=1))
        return self.head(x)


def dice_loss(logits, targets, smooth=1.0):
    probs = logits.sigmoid()
    intersection = (probs * targets).sum(dim=(2, 3))
    cardinality = probs.sum(dim=(2, 3)) + targets.sum(dim=(2, 3))
    dice = (2.0 * intersection + smooth) / (cardinality + smooth)
    return 1.0 - dice.mean()


def build_model():
    return TinyUNet()


def make_data(n=2, size=16):
    torch.manual_seed(0)
    images = torch.randn(n, 3, size, size)
    masks = (images.mean(dim=1, keepdim=True) > 0).float()
    return {"images": images, "masks": masks}


def run(state_dict=None, data=None, steps=3):
    """A few Adam steps; return the losses, first logits, last gradients, final weights
    (with the BatchNorm running statistics) and the eval-mode logits."""
    if data is None:
        data = make_data()
    images = torch.as_tensor(data["images"])
    masks = torch.as_tensor(data["masks"])

    model = build_model()
    if state_dict is not None:
        model.load_state_dict({k: torch.as_tensor(v) for k, v in state_dict.items()})
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    model.train()
    losses, bce_losses, dice_losses = [], [], []
    first_logits = None
    for step in range(steps):
        optimizer.zero_grad()
        logits = model(images)
        if first_logits is None:
            first_logits = logits.detach().clone()
        bce = F.binary_cross_entropy_with_logits(logits, masks)
        dice = dice_loss(logits, masks)
        loss = bce + dice
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        bce_losses.append(bce.item())
        dice_losses.append(dice.item())
    last_grads = {name: param.grad for name, param in model.named_parameters()}

    model.eval()
    with torch.no_grad():
        eval_logits = model(images)
        predicted_masks = (eval_logits.sigmoid() > 0.5).long()

    return {
        "losses": np.array(losses),
        "bce": np.array(bce_losses),
        "dice": np.array(dice_losses),
        "first_logits": first_logits,
        "eval_logits": eval_logits,
        "predicted_masks": predicted_masks,
        "grads": last_grads,
        "params": model.state_dict(),
    }
