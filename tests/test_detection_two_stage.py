"""The two-stage detector (mask_rcnn_lite): anchors, matching and sampling by hand-worked
examples, every loss against its formula and gradchecked in float64, mask pasting by hand,
the model's outputs in train and eval mode, and that a few steps reduce its loss."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import ShapesDataset
from minigrad.models.detection.mask_rcnn import (anchor_grid, box_head_loss, mask_loss,
                                                 mask_rcnn_lite, match_boxes, paste_masks,
                                                 rpn_loss, sample_balanced)
from minigrad.testing import arrays, assert_gradcheck


def bce_with_logits(z, y):
    """-y log σ(z) - (1 - y) log(1 - σ(z)), written out."""
    sigma = 1 / (1 + np.exp(-z))
    return -(y * np.log(sigma) + (1 - y) * np.log(1 - sigma))


def smooth_l1(d, beta=1 / 9):
    d = np.abs(d)
    return np.where(d < beta, 0.5 * d ** 2 / beta, d - 0.5 * beta)


# ---- anchors, matching, sampling ------------------------------------------------------

def test_anchor_grid_by_hand():
    # a 1 x 2 map of stride 4: cell centres (2, 2) and (6, 2)
    np.testing.assert_allclose(anchor_grid((1, 2), 4, sizes=(2,)),
                               [[1, 1, 3, 3], [5, 1, 7, 3]])
    # size 4, height / width = 4: area 16 as a 2 x 8 box; two sizes per cell, size fastest
    anchors = anchor_grid((1, 1), 4, sizes=(2, 4), aspect_ratios=(1.0, 4.0))
    np.testing.assert_allclose(anchors, [[1, 1, 3, 3],          # size 2, ratio 1
                                         [1.5, 0, 2.5, 4],      # size 2, ratio 4: 1 x 4
                                         [0, 0, 4, 4],          # size 4, ratio 1
                                         [1, -2, 3, 6]])        # size 4, ratio 4: 2 x 8
    # rows then columns: the third anchor of a 2 x 2 map is the lower-left cell's
    np.testing.assert_allclose(anchor_grid((2, 2), 8, sizes=(4,))[2], [2, 10, 6, 14])
    with pytest.raises(ValueError, match="anchor_grid: sizes and aspect_ratios must be positive"):
        anchor_grid((2, 2), 4, sizes=(0,))


def test_match_boxes_by_hand():
    iou = np.array([[0.9, 0.5, 0.1, 0.0, 0.2],     # box 0
                    [0.8, 0.6, 0.25, 0.0, 0.2]])   # box 1
    # best IoU per candidate: .9 (box 0), .6 (box 1), .25, 0, .2
    np.testing.assert_array_equal(match_boxes(iou, 0.7, 0.3), [0, -2, -1, -1, -1])
    # low-quality matches: box 1's best candidate (0.8) is candidate 0, already box 0's;
    # box 0's best is candidate 0 too - nothing changes. With box 1 best at candidate 2:
    iou[1] = [0.1, 0.2, 0.25, 0.0, 0.25]
    # box 1's highest IoU 0.25 is reached by candidates 2 and 4 (a tie: both match)
    np.testing.assert_array_equal(match_boxes(iou, 0.7, 0.3, allow_low_quality=True),
                                  [0, -2, 1, -1, 1])
    np.testing.assert_array_equal(match_boxes(iou, 0.7, 0.3), [0, -2, -1, -1, -1])
    # the head's rule: IoU >= 0.5 positive, else background, no band in between
    np.testing.assert_array_equal(match_boxes(iou, 0.5, 0.5), [0, 0, -1, -1, -1])
    np.testing.assert_array_equal(match_boxes(np.zeros((0, 3)), 0.7, 0.3), [-1, -1, -1])


def test_sample_balanced_by_hand():
    rng = np.random.default_rng(0)
    matches = np.array([0, -1, -2, 1, -1, -1, 0, -1, -2, -1])  # positives 0, 3, 6
    positive, negative = sample_balanced(matches, 4, 0.5, rng)
    # at most 4 * 0.5 = 2 of the 3 positives, then 2 negatives; never an ignored candidate
    assert len(positive) == 2 and set(positive) <= {0, 3, 6}
    assert len(negative) == 2 and set(negative) <= {1, 4, 5, 7, 9}
    # few positives: negatives fill the batch
    positive, negative = sample_balanced(matches, 8, 0.5, rng)
    np.testing.assert_array_equal(positive, [0, 3, 6])
    np.testing.assert_array_equal(negative, [1, 4, 5, 7, 9])  # only 5 exist: all of them
    positive, negative = sample_balanced(matches, 6, 0.25, rng)
    assert len(positive) == 1 and len(negative) == 5


def test_sampling_draws_every_positive_over_time():
    rng = np.random.default_rng(1)
    matches = np.array([0] * 10 + [-1] * 10)
    seen = set()
    for _ in range(50):
        seen |= set(sample_balanced(matches, 4, 0.5, rng)[0].tolist())
    assert seen == set(range(10))


# ---- losses -----------------------------------------------------------------------------

def test_rpn_loss_by_formula():
    objectness = np.array([2.0, -1.0, 0.5])
    labels = np.array([1.0, 0.0, 1.0])
    deltas = np.array([[0.1, 0.0, 0.0, 0.0], [9.0, 9.0, 9.0, 9.0], [0.5, -0.2, 0.0, 1.0]])
    targets = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.05, 0.0]])
    loss_objectness, loss_box = rpn_loss(mg.tensor(objectness), mg.tensor(deltas), labels,
                                         targets)
    np.testing.assert_allclose(loss_objectness.item(),
                               bce_with_logits(objectness, labels).mean(), rtol=1e-12)
    # the negative's deltas (row 1) do not count; the sum is divided by all 3 samples
    expected = (smooth_l1(deltas[0] - targets[0]).sum()
                + smooth_l1(deltas[2] - targets[2]).sum()) / 3
    np.testing.assert_allclose(loss_box.item(), expected, rtol=1e-12)


def test_box_head_loss_by_formula():
    logits = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 0.5]])  # 2 proposals, 2 classes + bg
    regression = np.arange(24, dtype=np.float64).reshape(2, 12) / 10
    labels = np.array([0, 2])
    targets = np.array([[5.0, 5.0, 5.0, 5.0], [1.0, 1.0, 1.0, 1.0]])
    loss_classifier, loss_box = box_head_loss(mg.tensor(logits), mg.tensor(regression),
                                              labels, targets)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(loss_classifier.item(), -(log_p[0, 0] + log_p[1, 2]) / 2,
                               rtol=1e-12)
    # proposal 1 is class 2: its deltas are columns 8..11 of its row; proposal 0 is background
    expected = smooth_l1(regression[1, 8:12] - targets[1]).sum() / 2
    np.testing.assert_allclose(loss_box.item(), expected, rtol=1e-12)


def test_mask_loss_by_formula():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 4, 3, 3))
    targets = rng.uniform(size=(2, 3, 3))
    loss = mask_loss(mg.tensor(logits), np.array([3, 1]), targets)
    # only the ground-truth class's map of each ROI counts
    expected = np.concatenate([bce_with_logits(logits[0, 3], targets[0]).ravel(),
                               bce_with_logits(logits[1, 1], targets[1]).ravel()]).mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)


def test_losses_without_positives_are_zero_and_connected():
    deltas = mg.tensor(np.ones((2, 4)), requires_grad=True)
    _, loss_box = rpn_loss(mg.tensor(np.zeros(2)), deltas, np.zeros(2), np.zeros((2, 4)))
    loss_box.backward()
    assert loss_box.item() == 0.0
    np.testing.assert_array_equal(np.asarray(deltas.grad), np.zeros((2, 4)))
    logits = mg.tensor(np.ones((0, 2, 3, 3)), requires_grad=True)
    assert mask_loss(logits, np.zeros(0, np.int64), np.zeros((0, 3, 3))).item() == 0.0


@st.composite
def sampled_problems(draw):
    """S sampled candidates with a mix of positive and negative labels, C classes."""
    s, c = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return s, c, rng


@settings(deadline=None)
@given(sampled_problems(), st.data())
def test_rpn_loss_gradcheck(problem, data):
    s, _, rng = problem
    objectness = data.draw(arrays((s,), low=-3, high=3))
    deltas = data.draw(arrays((s, 4), low=-1, high=1))
    labels = rng.integers(0, 2, s).astype(np.float64)
    targets = rng.uniform(-1, 1, (s, 4))
    for which in (0, 1):
        assert_gradcheck(lambda o, d: rpn_loss(o, d, labels, targets)[which],
                         mg.tensor(objectness, requires_grad=True),
                         mg.tensor(deltas, requires_grad=True))


@settings(deadline=None)
@given(sampled_problems(), st.data())
def test_box_head_loss_gradcheck(problem, data):
    s, c, rng = problem
    logits = data.draw(arrays((s, c + 1), low=-3, high=3))
    regression = data.draw(arrays((s, (c + 1) * 4), low=-1, high=1))
    labels = rng.integers(0, c + 1, s)
    targets = rng.uniform(-1, 1, (s, 4))
    for which in (0, 1):
        assert_gradcheck(lambda z, r: box_head_loss(z, r, labels, targets)[which],
                         mg.tensor(logits, requires_grad=True),
                         mg.tensor(regression, requires_grad=True))


@settings(deadline=None)
@given(sampled_problems(), st.integers(1, 4), st.data())
def test_mask_loss_gradcheck(problem, m, data):
    p, c, rng = problem
    logits = data.draw(arrays((p, c + 1, m, m), low=-3, high=3))
    labels = rng.integers(1, c + 1, p)
    targets = rng.uniform(0, 1, (p, m, m))
    assert_gradcheck(lambda z: mask_loss(z, labels, targets),
                     mg.tensor(logits, requires_grad=True))


# ---- masks into the image ---------------------------------------------------------------

def test_paste_masks_by_hand():
    # a 2-cell mask [0, 1] (every row) over the whole 4 x 4 image: cell centres at x = 1, 3;
    # pixel centres 0.5, 1.5, 2.5, 3.5 read 0 (held), 0.25, 0.75, 1 (held)
    pasted = paste_masks(np.array([[[0.0, 1.0], [0.0, 1.0]]]), [[0, 0, 4, 4]], (4, 4))
    assert pasted.shape == (1, 1, 4, 4)
    np.testing.assert_allclose(pasted[0, 0], np.tile([0, 0.25, 0.75, 1], (4, 1)))
    # a constant mask fills exactly the pixels whose centre lies in the box
    pasted = paste_masks(np.full((1, 3, 3), 0.5), [[1, 0.2, 3, 2.6]], (4, 5))
    expected = np.zeros((4, 5))
    expected[0:3, 1:3] = 0.5  # centres y = 0.5..2.5 in [0.2, 2.6), x = 1.5, 2.5 in [1, 3)
    np.testing.assert_allclose(pasted[0, 0], expected)


# ---- the model ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shapes32():
    """Eight 32 x 32 images with one or two shapes (the model takes any multiple of 4)."""
    data = ShapesDataset(8, size=32, min_shapes=1, max_shapes=2, seed=3)
    return [data[i][0] for i in range(8)], [data[i][1] for i in range(8)]


LOSS_NAMES = {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg",
              "loss_mask"}


@pytest.mark.parametrize("roi_op", ["align", "pool"])
def test_train_and_eval_outputs(shapes32, roi_op):
    images, targets = shapes32
    mg.manual_seed(0)
    model = mask_rcnn_lite(3, roi_op=roi_op, anchor_sizes=(8, 12))
    losses = model(images[:2], targets[:2])
    assert set(losses) == LOSS_NAMES
    for value in losses.values():
        assert value.shape == () and np.isfinite(value.item())
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    detections = model(mg.tensor(np.stack(images[:3])))
    assert len(detections) == 3
    for d in detections:
        n = len(d["boxes"])
        assert d["boxes"].shape == (n, 4) and d["scores"].shape == (n,)
        assert d["labels"].shape == (n,) and d["labels"].dtype == np.int64
        assert d["masks"].shape == (n, 1, 32, 32)
        assert np.all((d["masks"] >= 0) & (d["masks"] <= 1))
        assert np.all((d["labels"] >= 0) & (d["labels"] < 3))
        assert np.all(np.diff(d["scores"]) <= 0)
        assert np.all((d["boxes"] >= 0) & (d["boxes"] <= 32))


def test_a_few_steps_reduce_the_loss(shapes32):
    images, targets = shapes32
    mg.manual_seed(0)
    model = mask_rcnn_lite(3, anchor_sizes=(8, 12))
    optimizer = mg.optim.Adam(model.parameters(), lr=3e-3)
    totals = []
    for _ in range(12):
        loss = sum(model(images, targets).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        totals.append(loss.item())
    # sampling makes single steps noisy: compare the first and last three
    assert np.mean(totals[-3:]) < 0.8 * np.mean(totals[:3]), totals


def test_bad_arguments(shapes32):
    images, targets = shapes32
    with pytest.raises(ValueError, match="roi_op"):
        mask_rcnn_lite(3, roi_op="warp")
    with pytest.raises(ValueError, match="num_classes"):
        mask_rcnn_lite(0)
    model = mask_rcnn_lite(3)
    with pytest.raises(ValueError, match="in training mode targets are required"):
        model(images[:1])
    with pytest.raises(ValueError, match=r"images must be \(N, 3, H, W\), got shape"):
        model(np.zeros((1, 1, 32, 32)), targets[:1])
    wrong = dict(targets[0], labels=np.full(len(targets[0]["labels"]), 3))
    with pytest.raises(ValueError, match=r"targets\[0\] labels must be 0-based classes in"):
        model(images[:1], [wrong])
    with pytest.raises(ValueError, match=r"targets\[0\] must be a dict with 'boxes'"):
        model(images[:1], [{"boxes": targets[0]["boxes"]}])
    with pytest.raises(ValueError, match="2 images but 1 targets"):
        model(images[:2], targets[:1])
