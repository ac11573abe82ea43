"""minigrad.data.transforms: joint image/mask transforms keep the two aligned (hypothesis),
resample as torchvision's v2 does, and repeat under a seed."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import ShapesSegmentation
from minigrad.data.transforms import (Compose, Image, Mask, Normalize, RandomHorizontalFlip,
                                      RandomResizedCrop, RandomVerticalFlip, ToDtype, ToImage,
                                      resized_crop)


@pytest.fixture(scope="module")
def torchvision_functional():
    """torchvision.transforms.v2.functional (skips without torch/torchvision); the compiled
    ops are not needed for resizing, see conftest's torchvision_models."""
    import sys
    import types

    torch = pytest.importorskip("torch")
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    functional = pytest.importorskip("torchvision.transforms.v2.functional")
    modes = pytest.importorskip("torchvision.transforms").InterpolationMode
    return torch, functional, modes


@st.composite
def painted_pairs(draw):
    """A random mask (H, W) of classes 0..3 and an image whose every channel is the mask's
    class times a channel factor: wherever the image goes, its value says which class the
    mask should have there."""
    h, w = draw(st.integers(4, 20)), draw(st.integers(4, 20))
    seed = draw(st.integers(0, 2**31))
    mask = np.random.default_rng(seed).integers(0, 4, (h, w))
    image = (mask[None] * np.array([1.0, 10.0, 100.0])[:, None, None]).astype(np.float32)
    return image, mask


def joint_transforms(size):
    """Every geometric transform, image resampled by nearest so that values stay exact."""
    return [RandomHorizontalFlip(p=0.5), RandomVerticalFlip(p=0.5),
            RandomResizedCrop(size, scale=(0.1, 1.0), ratio=(0.5, 2.0),
                              interpolation="nearest"),
            Compose([RandomHorizontalFlip(), RandomResizedCrop(size, interpolation="nearest"),
                     RandomVerticalFlip()])]


@given(painted_pairs(), st.integers(0, 2**31), st.tuples(st.integers(3, 24),
                                                             st.integers(3, 24)))
def test_every_transform_keeps_the_painted_mask_under_the_image(pair, seed, size):
    image, mask = pair
    mg.manual_seed(seed)
    for transform in joint_transforms(size):
        out_image, out_mask = transform(Image(image), Mask(mask))
        assert isinstance(out_image, Image) and isinstance(out_mask, Mask)
        assert out_mask.dtype == mask.dtype
        np.testing.assert_array_equal(out_image[0], out_mask)  # channel 0 is the class
        np.testing.assert_array_equal(out_image, out_mask[None] * np.array(
            [1.0, 10.0, 100.0], np.float32)[:, None, None])


@given(painted_pairs(), st.integers(0, 2**31))
def test_a_mask_marked_by_position_follows_the_same_draws(pair, seed):
    """A plain first array is the image; a Mask after it gets the same flip and crop."""
    image, mask = pair
    transform = Compose([RandomHorizontalFlip(), RandomResizedCrop(6, interpolation="nearest")])
    mg.manual_seed(seed)
    out_image, out_mask = transform(image, Mask(mask))
    assert type(out_image) is np.ndarray
    np.testing.assert_array_equal(out_image[0], out_mask)


def test_flips_by_hand():
    image = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    mask = np.arange(12).reshape(3, 4)
    flipped_image, flipped_mask = RandomHorizontalFlip(p=1.0)(Image(image), Mask(mask))
    np.testing.assert_array_equal(flipped_mask, [[3, 2, 1, 0], [7, 6, 5, 4], [11, 10, 9, 8]])
    np.testing.assert_array_equal(flipped_image[0], flipped_mask)
    np.testing.assert_array_equal(RandomVerticalFlip(p=1.0)(Mask(mask)),
                                  [[8, 9, 10, 11], [4, 5, 6, 7], [0, 1, 2, 3]])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(Mask(mask)), mask)


def test_flip_probability_is_p():
    flip = RandomHorizontalFlip(p=0.3, generator=mg.Generator().manual_seed(0))
    mask = Mask(np.array([[0, 1]]))
    flips = sum(flip(mask)[0, 0] == 1 for _ in range(4000))
    assert abs(flips / 4000 - 0.3) < 0.03  # 4 standard deviations of a binomial mean


@given(st.integers(0, 2**31), st.integers(8, 40), st.integers(8, 40))
def test_crop_parameters_obey_scale_and_ratio(seed, h, w):
    crop = RandomResizedCrop(5, scale=(0.25, 0.5), ratio=(0.5, 2.0),
                             generator=mg.Generator().manual_seed(seed))
    top, left, height, width = crop.params(np.zeros((3, h, w)))["crop"]
    assert 0 <= top and top + height <= h and 0 <= left and left + width <= w
    if (height, width) != (h, w) and (top, left) != ((h - height) // 2, (w - width) // 2):
        # a drawn crop (not the central fallback): the unrounded sides it came from lie within
        # half a pixel, and their area and ratio in the ranges asked for
        assert (height - 0.5) * (width - 0.5) <= 0.5 * h * w <= 2 * (height + 0.5) * (
            width + 0.5)
        assert (width - 0.5) / (height + 0.5) <= 2.0 and (width + 0.5) / (height - 0.5) >= 0.5


def test_crop_falls_back_to_the_central_crop():
    # no crop of area >= 27 with ratio w/h in 4..5 fits a 10x3 image (w would be over 10):
    # the whole width, and the height the smallest ratio allows, h = round(3 / 4), centred
    crop = RandomResizedCrop(4, scale=(0.9, 1.0), ratio=(4.0, 5.0))
    assert crop.params(np.zeros((1, 10, 3)))["crop"] == (4, 0, 1, 3)
    wide = RandomResizedCrop(4, scale=(0.9, 1.0), ratio=(0.5, 1.0))
    assert wide.params(np.zeros((1, 4, 12)))["crop"] == (0, 4, 4, 4)  # w = H * max ratio


@given(st.integers(0, 2**31), st.integers(2, 12), st.integers(2, 12), st.integers(2, 16),
       st.integers(2, 16))
def test_resized_crop_matches_torchvision(torchvision_functional, seed, height, width, out_h,
                                          out_w):
    torch, TF, modes = torchvision_functional
    rng = np.random.default_rng(seed)
    H, W = height + 3, width + 2
    top, left = int(rng.integers(0, H - height + 1)), int(rng.integers(0, W - width + 1))
    image = rng.random((3, H, W)).astype(np.float32)
    mask = rng.integers(0, 5, (H, W))
    ours = resized_crop(image, top, left, height, width, (out_h, out_w), "bilinear")
    theirs = TF.resized_crop(torch.from_numpy(image), top, left, height, width, [out_h, out_w],
                             interpolation=modes.BILINEAR, antialias=False).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    ours = resized_crop(mask, top, left, height, width, (out_h, out_w), "nearest")
    theirs = TF.resized_crop(torch.from_numpy(mask)[None], top, left, height, width,
                             [out_h, out_w], interpolation=modes.NEAREST)[0].numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_normalize_touches_the_image_only():
    image = np.stack([np.full((2, 2), 0.5), np.full((2, 2), 1.0)]).astype(np.float32)
    mask = np.ones((2, 2), np.int64)
    out_image, out_mask = Normalize([0.25, 0.5], [0.5, 0.25])(Image(image), Mask(mask))
    np.testing.assert_allclose(out_image[0], 0.5)  # (0.5 - 0.25) / 0.5
    np.testing.assert_allclose(out_image[1], 2.0)  # (1.0 - 0.5) / 0.25
    np.testing.assert_array_equal(out_mask, mask)
    with pytest.raises(TypeError, match="float image"):
        Normalize([0.5], [0.5])(Image(np.zeros((1, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match="C = 2"):
        Normalize([0.5, 0.5], [1, 1])(Image(image[:1]))


def test_to_image_and_to_dtype_as_to_tensor():
    """ToImage + ToDtype(float32, scale=True) is v2's replacement for ToTensor: (H, W, C)
    uint8 -> (C, H, W) float in [0, 1]; a mask keeps its integers."""
    pixels = np.array([[[0, 255, 51]]], np.uint8)  # (1, 1, 3)
    mask = np.array([[2]])
    image, out_mask = Compose([ToImage(), ToDtype(np.float32, scale=True)])(pixels, Mask(mask))
    assert isinstance(image, Image) and image.shape == (3, 1, 1) and image.dtype == np.float32
    np.testing.assert_allclose(image.ravel(), [0.0, 1.0, 0.2])
    np.testing.assert_array_equal(out_mask, mask)
    assert ToImage()(np.zeros((4, 5))).shape == (1, 4, 5)
    both = ToDtype({Image: np.float64, Mask: np.uint8})(Image(image), Mask(mask))
    assert both[0].dtype == np.float64 and both[1].dtype == np.uint8
    # back to integers: [0, 1] in 256 equal bins, 1.0 in the top one (v2's rule)
    back = ToDtype(np.uint8, scale=True)(Image(np.array([[[0.0, 0.5, 1.0]]], np.float32)))
    np.testing.assert_array_equal(back.ravel(), [0, 127, 255])


def test_same_seed_same_augmentation():
    transform = Compose([RandomHorizontalFlip(), RandomResizedCrop(8, scale=(0.3, 1.0))])
    image, mask = np.random.default_rng(0).random((3, 16, 16)), np.arange(256).reshape(16, 16)
    mg.manual_seed(3)
    first = [transform(Image(image), Mask(mask)) for _ in range(5)]
    mg.manual_seed(3)
    second = [transform(Image(image), Mask(mask)) for _ in range(5)]
    for (a_image, a_mask), (b_image, b_mask) in zip(first, second):
        np.testing.assert_array_equal(a_image, b_image)
        np.testing.assert_array_equal(a_mask, b_mask)
    assert len({m.tobytes() for _, m in first}) > 1  # the draws do vary call to call


def test_refusals():
    with pytest.raises(ValueError, match="same height and width"):
        RandomHorizontalFlip()(Image(np.zeros((3, 4, 4))), Mask(np.zeros((4, 5))))
    with pytest.raises(TypeError, match="no image or mask"):
        RandomHorizontalFlip()("text")
    with pytest.raises(ValueError, match="p must be a probability"):
        RandomVerticalFlip(p=1.5)
    with pytest.raises(ValueError, match="size must be a positive int"):
        RandomResizedCrop(0)
    with pytest.raises(ValueError, match="scale must be"):
        RandomResizedCrop(4, scale=(0.9, 0.1))
    with pytest.raises(NotImplementedError, match="antialias"):
        RandomResizedCrop(4, antialias=True)
    with pytest.raises(TypeError, match="list of callables"):
        Compose(RandomHorizontalFlip())


def test_segmentation_dataset_applies_the_joint_transform():
    plain = ShapesSegmentation(3, size=16, seed=0)
    flipped = ShapesSegmentation(3, size=16, seed=0, transforms=RandomHorizontalFlip(p=1.0))
    image, mask = flipped[1]
    assert type(image) is np.ndarray and type(mask) is np.ndarray
    np.testing.assert_array_equal(mask, plain[1][1][:, ::-1])
    np.testing.assert_array_equal(image, plain[1][0][:, :, ::-1])
