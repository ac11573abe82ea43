"""A CIFAR-10-tutorial-style classifier: a small LeNet on 3x16x16 images, trained with
SGD and momentum from a DataLoader, then evaluated under no_grad for accuracy.

The same file runs under `import torch` and `import minigrad as torch`; only the import
lines differ between the two copies in tests/porting/.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)          # 16x16 -> 12x12
        self.pool = nn.MaxPool2d(2, 2)           # 12x12 -> 6x6, later 4x4 -> 2x2
        self.conv2 = nn.Conv2d(6, 16, 3)         # 6x6 -> 4x4
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 24)
        self.fc3 = nn.Linear(24, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def build_model():
    return Net()


def make_data(n=8):
    torch.manual_seed(0)
    images = torch.randn(n, 3, 16, 16)
    labels = torch.randint(0, 10, (n,))
    return {"images": images, "labels": labels}


def run(state_dict=None, data=None, epochs=3):
    """Train for a few epochs; return the losses, the last batch's gradients, the final
    weights, the evaluation logits and the accuracy."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if data is None:
        data = make_data()
    images = torch.as_tensor(data["images"])
    labels = torch.as_tensor(data["labels"])
    trainset = TensorDataset(images, labels)
    trainloader = DataLoader(trainset, batch_size=4, shuffle=False)

    net = build_model()
    if state_dict is not None:
        net.load_state_dict({k: torch.as_tensor(v) for k, v in state_dict.items()})
    net.to(device)

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    epoch_losses = []
    batch_losses = []
    for epoch in range(epochs):
        net.train()
        running_loss = 0.0
        for i, (inputs, targets) in enumerate(trainloader, 0):
            inputs, targets = inputs.to(device), targets.to(device)

            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
            batch_losses.append(loss.item())
        epoch_losses.append(running_loss / len(trainloader))
    last_grads = {name: p.grad for name, p in net.named_parameters()}

    net.eval()
    correct = 0
    total = 0
    agree = 0
    with torch.no_grad():
        for inputs, targets in DataLoader(trainset, batch_size=4):
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = net(inputs)
            _, predicted = torch.max(outputs.data, 1)
            values, predicted_too = outputs.max(1)
            total += targets.size(0)
            correct += (predicted == targets).sum().item()
            agree += (predicted_too == predicted).sum().item()
        logits = net(images.to(device))

    return {
        "batch_losses": np.array(batch_losses),
        "epoch_losses": np.array(epoch_losses),
        "logits": logits,
        "predicted": logits.argmax(dim=1),
        "accuracy": correct / total,
        "agree": agree,
        "grads": last_grads,
        "params": net.state_dict(),
    }
