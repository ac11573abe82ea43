"""YOLO: vision.yolo_loss on a hand-worked cell and gradchecked in float64 over random grids;
the detector's two modes (losses in train mode, detections in eval mode) and its grid."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.models import detection
from minigrad.testing import assert_allclose, assert_gradcheck
from minigrad.vision import yolo_encode, yolo_loss

# A 2x2 grid, B = 2 slots, C = 2 classes. The target is one box in cell (0, 0): centre in
# the middle of the cell (x, y = .5, .5), a quarter of the image wide and high, class 1.
TARGET_CELL = [0.5, 0.5, 0.25, 0.25, 1.0, 0, 0, 0, 0, 0, 0.0, 1.0]
# slot 0: same centre, .09 x .16: IoU = (.09 * .16) / .25^2 = .2304
# slot 1: right size, centre a quarter cell (= 1/8 image) to the right: the boxes overlap
#         1/8 x 1/4 of the image, IoU = (1/32) / (2/16 - 1/32) = 1/3 -> slot 1 is responsible
PRED_CELL = [0.5, 0.5, 0.09, 0.16, 0.6, 0.75, 0.5, 0.25, 0.25, 0.9, 0.3, 0.7]
OTHER_CELL = [0.5, 0.5, 0.5, 0.5, 0.2, 0.5, 0.5, 0.5, 0.5, 0.2, 0.5, 0.5]


def hand_example():
    target = np.zeros((2, 2, 12))
    target[0, 0] = TARGET_CELL
    prediction = np.tile(np.array(OTHER_CELL), (2, 2, 1))
    prediction[0, 0] = PRED_CELL
    return prediction, target


def test_yolo_loss_by_hand():
    prediction, target = hand_example()
    terms = yolo_loss(mg.Tensor(prediction), target, num_boxes=2, return_terms=True)
    # box: 5 * [(.75 - .5)^2 + 0 + (sqrt .25 - sqrt .25)^2 + 0]
    assert_allclose(terms["loss_box"], 5 * 0.0625, rtol=1e-12)
    # object: the responsible slot's confidence .9 against its IoU 1/3
    assert_allclose(terms["loss_object"], (0.9 - 1 / 3) ** 2, rtol=1e-12)
    # no object: .5 * (slot 0's .6^2 + six slots of the other cells at .2^2)
    assert_allclose(terms["loss_no_object"], 0.5 * (0.36 + 6 * 0.04), rtol=1e-12)
    # class: (.3 - 0)^2 + (.7 - 1)^2 in the object's cell only
    assert_allclose(terms["loss_class"], 0.18, rtol=1e-12)
    total = 0.3125 + (0.9 - 1 / 3) ** 2 + 0.3 + 0.18
    assert_allclose(yolo_loss(mg.Tensor(prediction), target, 2), total, rtol=1e-12)
    # darknet's rescore=False: the confidence target is 1
    assert_allclose(yolo_loss(mg.Tensor(prediction), target, 2, rescore=False,
                              return_terms=True)["loss_object"], 0.01, rtol=1e-12)
    # lambdas scale their terms
    terms = yolo_loss(mg.Tensor(prediction), target, 2, lambda_coord=1.0, lambda_noobj=1.0,
                      return_terms=True)
    assert_allclose(terms["loss_box"], 0.0625, rtol=1e-12)
    assert_allclose(terms["loss_no_object"], 0.6, rtol=1e-12)


def test_yolo_loss_averages_over_the_batch_and_picks_by_iou():
    prediction, target = hand_example()
    empty = np.zeros_like(target)
    batch = mg.Tensor(np.stack([prediction, np.tile(np.array(OTHER_CELL), (2, 2, 1))]))
    # the second image has no object: only its eight confidences count, .5 * 8 * .2^2
    expected = (0.3125 + (0.9 - 1 / 3) ** 2 + 0.3 + 0.18 + 0.16) / 2
    assert_allclose(yolo_loss(batch, np.stack([target, empty]), 2), expected, rtol=1e-12)
    # swap the slots: slot 0 is now responsible, the loss is the same
    swapped = prediction.copy()
    swapped[0, 0, :10] = np.concatenate([PRED_CELL[5:10], PRED_CELL[:5]])
    assert_allclose(yolo_loss(mg.Tensor(swapped), target, 2),
                    yolo_loss(mg.Tensor(prediction), target, 2), rtol=1e-12)


def _random_problem(seed, n, grid, num_boxes, num_classes):
    """yolo_encode targets of random boxes and a prediction with every value in (.05, .95)
    (continuous draws: no two slots tie for responsibility)."""
    rng = np.random.default_rng(seed)
    targets = []
    for _ in range(n):
        k = rng.integers(0, 4)
        corner = rng.uniform(0, 40, (k, 2))
        boxes = np.concatenate([corner, corner + rng.uniform(2, 24, (k, 2))], axis=1)
        targets.append(yolo_encode(boxes, rng.integers(0, num_classes, k), grid, num_boxes,
                                   num_classes, (64, 64)))
    prediction = rng.uniform(0.05, 0.95, (n, grid, grid, num_boxes * 5 + num_classes))
    return prediction, np.stack(targets)


problems = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 2), st.integers(1, 4),
                     st.integers(1, 3), st.integers(1, 3))


@given(problems, st.floats(0.5, 10), st.floats(0.1, 2))
def test_yolo_loss_gradcheck(problem, lambda_coord, lambda_noobj):
    prediction, target = _random_problem(*problem)
    num_boxes = problem[3]
    # rescore=False: the loss is a function of the prediction alone
    assert_gradcheck(lambda p: yolo_loss(p, target, num_boxes, lambda_coord, lambda_noobj,
                                         rescore=False),
                     mg.Tensor(prediction, requires_grad=True))


@given(problems)
def test_yolo_loss_gradcheck_rescore(problem):
    # with rescore=True the confidence target is the IoU, a constant of the prediction (no
    # gradient flows through it): check the gradient of the confidences with the boxes held
    prediction, target = _random_problem(*problem)
    n, grid, num_boxes = problem[1], problem[2], problem[3]
    slots = prediction[..., :num_boxes * 5].reshape(n, grid, grid, num_boxes, 5)

    def loss(confidence):
        with_confidence = mg.cat([mg.Tensor(slots[..., :4]), confidence.unsqueeze(-1)], dim=-1)
        full = mg.cat([with_confidence.reshape(n, grid, grid, num_boxes * 5),
                       mg.Tensor(prediction[..., num_boxes * 5:])], dim=-1)
        return yolo_loss(full, target, num_boxes)

    assert_gradcheck(loss, mg.Tensor(slots[..., 4].copy(), requires_grad=True))


def test_yolo_loss_refuses_bad_input():
    prediction, target = hand_example()
    with pytest.raises(TypeError, match="prediction must be a Tensor"):
        yolo_loss(prediction, target, 2)
    with pytest.raises(ValueError, match=r"target of shape \(2, 2, 11\)"):
        yolo_loss(mg.Tensor(prediction), target[..., :11], 2)
    with pytest.raises(ValueError, match=r"expected both \(N, S, S, 3\*5 \+ C\)"):
        yolo_loss(mg.Tensor(prediction), target, 3)
    prediction[0, 0, 7] = -0.25  # the responsible slot's width
    with pytest.raises(ValueError, match="negative width or height"):
        yolo_loss(mg.Tensor(prediction), target, 2)


@pytest.fixture
def shapes_batch():
    from minigrad.data import ShapesDataset
    data = ShapesDataset(3, 64, 1, 3, seed=0)
    targets = [{"boxes": b, "labels": l} for b, l in zip(data.boxes, data.labels)]
    return mg.Tensor(data.images), targets


def test_yolo_model_modes(shapes_batch):
    images, targets = shapes_batch
    mg.manual_seed(0)
    model = detection.yolo(num_classes=3, grid_size=8, num_boxes=2, width=4)
    grid = model.predict_grid(images)
    assert grid.shape == (3, 8, 8, 13)
    slots = grid.data[..., :10].reshape(3, 8, 8, 2, 5)
    assert ((slots > 0) & (slots < 1)).all()  # offsets, sizes, confidences in (0, 1)
    assert_allclose(grid.data[..., 10:].sum(axis=-1), np.ones((3, 8, 8)), rtol=1e-6)
    losses = model(images, targets)
    assert sorted(losses) == ["loss_box", "loss_class", "loss_no_object", "loss_object"]
    assert all(loss.shape == () for loss in losses.values())
    encoded = np.stack([yolo_encode(t["boxes"], t["labels"], 8, 2, 3, (64, 64))
                        for t in targets])
    # train mode's losses are yolo_loss of the grid (BatchNorm uses batch statistics: same
    # batch, same statistics)
    assert_allclose(sum(losses.values()), yolo_loss(model.predict_grid(images), encoded, 2),
                    rtol=1e-5)
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match="targets must be given"):
        model(images)
    model.eval()
    model.score_threshold = 0.0
    model.detections_per_img = 5
    detections = model(images)
    assert len(detections) == 3
    for found in detections:
        assert sorted(found) == ["boxes", "labels", "scores"]
        assert found["boxes"].shape == (len(found["scores"]), 4) and len(found["scores"]) <= 5
        assert (np.diff(found["scores"]) <= 0).all()


def test_yolo_model_refuses_bad_input(shapes_batch):
    images, _ = shapes_batch
    model = detection.yolo(3, grid_size=4, width=4)
    with pytest.raises(ValueError, match=r"grid_size 4 needs \(N, 3, 32, 32\)"):
        model.predict_grid(images)
    with pytest.raises(ValueError, match="num_classes"):
        detection.yolo(0)
