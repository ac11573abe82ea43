"""Dataset, DataLoader, the generated shapes set and the MNIST / CIFAR-10 file readers."""
import gzip
import struct

import numpy as np
import pytest

import minigrad as mg
from minigrad import data


def test_tensor_dataset_and_errors():
    ds = data.TensorDataset(np.arange(10).reshape(5, 2), mg.Tensor(np.arange(5.0)))
    assert len(ds) == 5
    x, y = ds[3]
    np.testing.assert_array_equal(x, [6, 7])
    assert y == 3.0
    with pytest.raises(ValueError, match=r"different first-axis lengths \[5, 4\]"):
        data.TensorDataset(np.zeros(5), np.zeros(4))


def test_loader_batches_in_order_as_tensors():
    ds = data.TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
    batches = list(data.DataLoader(ds, batch_size=2))
    assert len(batches) == 3 == len(data.DataLoader(ds, batch_size=2))
    x, y = batches[0]
    assert isinstance(x, mg.Tensor) and x.dtype == np.float32 and x.shape == (2, 2)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(batches[2][1].data, [4])  # the last, smaller batch
    dropped = data.DataLoader(ds, batch_size=2, drop_last=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2


def test_shuffle_visits_every_sample_once_and_seed_repeats_epochs():
    ds = data.TensorDataset(np.arange(20))
    loader = data.DataLoader(ds, batch_size=6, shuffle=True, seed=3)
    first_epoch = np.concatenate([b[0].data for b in loader])
    second_epoch = np.concatenate([b[0].data for b in loader])
    assert sorted(first_epoch) == list(range(20)) and sorted(second_epoch) == list(range(20))
    assert not np.array_equal(first_epoch, second_epoch)  # a new order every epoch
    again = data.DataLoader(ds, batch_size=6, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([b[0].data for b in again]), first_epoch)
    mg.manual_seed(0)
    unseeded = [b[0].data for b in data.DataLoader(ds, batch_size=20, shuffle=True)]
    mg.manual_seed(0)
    np.testing.assert_array_equal(
        [b[0].data for b in data.DataLoader(ds, batch_size=20, shuffle=True)][0], unseeded[0])


def test_transform_applies_to_inputs_and_collate_handles_dicts_and_ragged_fields():
    ds = data.TensorDataset(np.ones((4, 3)), np.arange(4))
    x, y = next(iter(data.DataLoader(ds, batch_size=4, transform=lambda a: 2 * a)))
    assert np.all(x.data == 2) and list(y.data) == [0, 1, 2, 3]
    batch = data.default_collate([{"a": np.zeros(2), "b": 1}, {"a": np.ones(2), "b": 2}])
    assert batch["a"].shape == (2, 2) and list(batch["b"].data) == [1, 2]
    with pytest.raises(ValueError, match=r"shapes \[\(1,\), \(2,\)\].*collate_fn"):
        data.default_collate([np.zeros(1), np.zeros(2)])
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        data.DataLoader(ds, batch_size=0)


def test_shapes_single_shape_classification_set():
    ds = data.ShapesDataset(60, size=24, seed=0)
    image, label = ds[0]
    assert image.shape == (3, 24, 24) and image.dtype == np.float32
    assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
    assert label in (0, 1, 2)
    counts = np.bincount([ds[i][1] for i in range(len(ds))], minlength=3)
    assert counts.min() >= 10  # 60 uniform draws over 3 classes
    x, y = next(iter(data.DataLoader(ds, batch_size=8)))
    assert x.shape == (8, 3, 24, 24) and y.shape == (8,)
    np.testing.assert_array_equal(data.make_shapes(5, 24, seed=0)["images"], ds.images[:5])


def test_shapes_segmentation_samples_and_splits():
    train = data.ShapesSegmentation(30, size=32, seed=5)
    image, mask = train[0]
    assert image.shape == (3, 32, 32) and image.dtype == np.float32
    assert mask.shape == (32, 32) and mask.dtype == np.int64
    assert train.classes == ("background", "circle", "square", "triangle")
    assert train.num_classes == 4 and set(np.unique(train.masks)) <= {0, 1, 2, 3}
    # 1 to 4 shapes per image: the masks are make_shapes' with that range, whose labels say
    shapes = data.make_shapes(30, 32, 1, 4, seed=[5, 0])
    np.testing.assert_array_equal(shapes["semantic_masks"], train.masks)
    counts = [len(labels) for labels in shapes["labels"]]
    assert min(counts) == 1 and max(counts) == 4
    # the validation set: the same every time, and none of its images is a training image
    val = data.ShapesSegmentation(10, size=32, train=False, seed=5)
    np.testing.assert_array_equal(val.images,
                                  data.ShapesSegmentation(10, 32, train=False, seed=5).images)
    distances = np.abs(val.images[:, None] - train.images[None]).reshape(10, 30, -1).max(-1)
    assert distances.min() > 0.1
    batch_images, batch_masks = next(iter(data.DataLoader(val, batch_size=4)))
    assert batch_images.shape == (4, 3, 32, 32) and batch_masks.shape == (4, 32, 32)
    with pytest.raises(ValueError, match="seed must be an int >= 0, got -1"):
        data.ShapesSegmentation(2, seed=-1)


def test_shape_geometry_matches_the_class():
    # the fraction of its box a shape fills: a disc pi/4 = 0.785, a square 1, a triangle 1/2
    shapes = data.make_shapes(90, size=48, seed=1)
    expected = {0: np.pi / 4, 1: 1.0, 2: 0.5}
    for labels, masks, boxes in zip(shapes["labels"], shapes["instance_masks"],
                                    shapes["boxes"]):
        (label,), (mask,), ((x1, y1, x2, y2),) = labels, masks, boxes
        fill = mask.sum() / ((x2 - x1) * (y2 - y1))
        assert fill == pytest.approx(expected[label], abs=0.12), (label, fill)


def test_single_shapes_are_large():
    # one shape per image has radius r in [0.2, 0.35] * size; its box's longer side is 2r for
    # a disc, 2 * 0.9r for a square, 2.2r for a triangle's base, give or take a pixel of
    # rasterisation: at size 40 between 1.8 * 8 - 1 = 13.4 and 2.2 * 14 + 1 = 31.8 pixels
    shapes = data.make_shapes(120, size=40, seed=3)
    sides = np.array([max(x2 - x1, y2 - y1) for ((x1, y1, x2, y2),) in shapes["boxes"]])
    assert sides.min() >= 13.4 and sides.max() <= 31.8
    assert sides.min() <= 16 and sides.max() >= 26  # the whole range is drawn

def test_multi_shape_targets_are_consistent():
    shapes = data.make_shapes(40, size=48, min_shapes=2, max_shapes=4, seed=2)
    for i in range(40):
        labels, masks, boxes = (shapes["labels"][i], shapes["instance_masks"][i],
                                shapes["boxes"][i])
        assert 1 <= len(labels) <= 4 and masks.shape == (len(labels), 48, 48)
        assert boxes.shape == (len(labels), 4) and boxes.dtype == np.float32
        assert masks.sum(axis=0).max() <= 1  # instances never overlap
        semantic = shapes["semantic_masks"][i]
        np.testing.assert_array_equal(semantic, (masks * (labels[:, None, None] + 1)).sum(0))
        for mask, (x1, y1, x2, y2) in zip(masks, boxes):
            rows, cols = np.nonzero(mask)
            assert (x1, y1, x2, y2) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    ds = data.ShapesDataset(3, size=32, max_shapes=3, seed=0)
    image, target = ds[1]
    assert set(target) == {"boxes", "labels", "masks", "semantic_mask"}
    batch = next(iter(data.DataLoader(ds, batch_size=3, collate_fn=list)))
    assert len(batch) == 3


def test_make_shapes_errors():
    with pytest.raises(ValueError, match="min_shapes <= max_shapes"):
        data.make_shapes(2, min_shapes=3, max_shapes=2)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        data.make_shapes(0)


def write_idx(path, array, type_code):
    """The IDX layout by hand: 0, 0, type code, ndim; big-endian uint32 sizes; the data."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as file:
        file.write(header + array.tobytes())


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_mnist_reader(tmp_path, suffix):
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images.astype(np.uint8), 0x08)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", np.array([7, 0, 9], np.uint8), 0x08)
    x, y = data.load_mnist(tmp_path, train=False)
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0], images / 255.0, rtol=1e-6)
    assert y.dtype == np.int64 and list(y) == [7, 0, 9]
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.load_mnist(tmp_path, train=True)


def test_idx_reader_big_endian_types_and_errors(tmp_path):
    values = np.array([[1.5, -2.25], [1e6, 3.0]])
    write_idx(tmp_path / "f.idx", values.astype(">f4"), 0x0D)
    write_idx(tmp_path / "i.idx", np.array([-70000, 5], ">i4"), 0x0C)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "f.idx"), values)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "i.idx"), [-70000, 5])
    (tmp_path / "bad.idx").write_bytes(b"\x00\x01\x08\x01abcd")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad.idx")
    (tmp_path / "short.idx").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + b"abc")
    with pytest.raises(ValueError, match=r"declares shape \(5,\)"):
        data.read_idx(tmp_path / "short.idx")


def test_cifar10_reader(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
    # record = label byte, then the red, green and blue planes, row-major
    records = b"".join(bytes([label]) + pixels[i].tobytes() for i, label in enumerate([3, 8]))
    (folder / "test_batch.bin").write_bytes(records)
    x, y = data.load_cifar10(tmp_path, train=False)
    assert x.shape == (2, 3, 32, 32) and list(y) == [3, 8]
    np.testing.assert_allclose(x, pixels / 255.0, rtol=1e-6)
    assert data.CIFAR10_CLASSES[y[0]] == "cat"
    (folder / "test_batch.bin").write_bytes(records[:-1])
    with pytest.raises(ValueError, match="not a multiple of the 3073-byte record"):
        data.load_cifar10(tmp_path, train=False)
