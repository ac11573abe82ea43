"""`train classify`: which shape (circle, square, triangle) is in the image, one shape per
image, with the classification models of the zoo, scored by accuracy."""
import matplotlib.pyplot as plt
import numpy as np

from .. import functional as F
from .. import models
from ..data import SHAPE_CLASSES, ShapesDataset
from ..tensor import Tensor
from .loop import Task

# each net's classifier head: everything else at the top level is its encoder
HEADS = {"resnet18": "fc", "resnet34": "fc", "cifar_resnet8": "fc", "cifar_resnet20": "fc",
         "lenet5": "classifier", "mobilenet_v2": "classifier", "vgg11_bn": "classifier",
         "densenet121": "classifier"}
CONSTRUCTORS = {"cifar_resnet8": lambda classes: models.cifar_resnet(8, num_classes=classes),
                "cifar_resnet20": lambda classes: models.cifar_resnet(20, num_classes=classes),
                "lenet5": lambda classes: models.lenet5(num_classes=classes)}


def _constructor(name):
    def build(task):
        if name in CONSTRUCTORS:
            return CONSTRUCTORS[name](len(SHAPE_CLASSES))
        return getattr(models, name)(num_classes=len(SHAPE_CLASSES))
    return build


class ClassifyTask(Task):
    """Cross-entropy on ShapesDataset (one shape per image); metric: accuracy. LeNet-5 reads
    one channel at 32x32, so it gets the images' grey level (the channels' mean)."""

    name = "classify"
    models = {name: _constructor(name) for name in HEADS}
    default_model = "cifar_resnet20"
    metrics = ("val_accuracy",)

    @classmethod
    def check_args(cls, args):
        if args.model == "lenet5" and args.size != 32:
            return f"argument --size: lenet5 reads 32x32 images, got --size {args.size}"
        return None

    def datasets(self):
        args = self.args
        # [seed, 0] and [seed, 1]: independent streams, so no validation image is a training one
        train = ShapesDataset(args.train_images, args.size, seed=[args.seed, 0])
        val = ShapesDataset(args.val_images, args.size, seed=[args.seed, 1])
        if args.model == "lenet5":
            for dataset in (train, val):
                dataset.images = dataset.images.mean(axis=1, keepdims=True)  # (N, 1, H, W)
        return train, val

    def encoder(self, model):
        head = HEADS[self.args.model]
        return [name for name, _ in model.named_children() if name != head]

    def loss(self, model, batch):
        images, labels = batch
        return F.cross_entropy(model(images), labels)

    def evaluate(self, model, loader):
        total, correct, n = 0.0, 0, 0
        for images, labels in loader:
            logits = model(images)  # (N, classes)
            total += F.cross_entropy(logits, labels).item() * len(labels)
            correct += int((logits.data.argmax(axis=1) == labels.data).sum())
            n += len(labels)
        return {"val_loss": total / n, "val_accuracy": correct / n}

    def plot_predictions(self, model, dataset, path, count=12):
        count = min(count, len(dataset))
        images = np.stack([dataset[i][0] for i in range(count)])  # (count, C, H, W)
        labels = [int(dataset[i][1]) for i in range(count)]
        predicted = model(Tensor(images)).data.argmax(axis=1)
        fig, axes = plt.subplots(2, (count + 1) // 2, figsize=(1.6 * count / 2 + 1, 4),
                                 squeeze=False)
        for ax in axes.ravel():
            ax.axis("off")
        for i, ax in enumerate(axes.ravel()[:count]):
            picture = images[i].transpose(1, 2, 0)  # (H, W, C)
            ax.imshow(picture[..., 0] if picture.shape[-1] == 1 else picture, cmap="gray")
            right = predicted[i] == labels[i]
            ax.set_title(f"{SHAPE_CLASSES[predicted[i]]}\n(true: {SHAPE_CLASSES[labels[i]]})",
                         fontsize=8, color="black" if right else "red")
        fig.suptitle("predictions on validation images (red: wrong)")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
