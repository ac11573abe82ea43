"""YOLO encoding (hand-worked cell and offsets, round trip through decode) and the drawing
helpers (the artists they add match the boxes given)."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.vision import (draw_boxes, overlay_mask, plot_precision_recall, yolo_decode,
                             yolo_encode)


def test_yolo_encode_by_hand():
    # image 100 high x 200 wide, 4x4 grid: cells 50 wide, 25 high. Box (60, 30)-(100, 80):
    # centre (80, 55) -> column 80/50 = 1.6 -> 1, offset .6; row 55/25 = 2.2 -> 2, offset .2;
    # size 40/200 = .2 by 50/100 = .5; class 2 of 3 one-hot after B = 2 slots of 5
    target = yolo_encode([[60, 30, 100, 80]], [2], grid_size=4, num_boxes=2, num_classes=3,
                         image_size=(100, 200))
    assert target.shape == (4, 4, 13)
    np.testing.assert_allclose(target[2, 1], [0.6, 0.2, 0.2, 0.5, 1, 0, 0, 0, 0, 0, 0, 0, 1],
                               atol=1e-15)
    target[2, 1] = 0
    assert not target.any()  # every other cell is empty


def test_yolo_one_box_per_cell():
    # both centres fall in cell (0, 0) of a 2x2 grid over 10x10: the first box wins
    target = yolo_encode([[0, 0, 4, 4], [1, 1, 3, 3]], [0, 1], 2, 1, 2, (10, 10))
    np.testing.assert_allclose(target[0, 0], [0.4, 0.4, 0.4, 0.4, 1, 1, 0])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\), got \[0, 5\]"):
        yolo_encode([[0, 0, 4, 4], [1, 1, 3, 3]], [0, 5], 2, 1, 2, (10, 10))


@given(st.integers(2, 7), st.integers(1, 2), st.data())
def test_yolo_round_trip(grid, num_boxes, data):
    # one box per cell, centred at a random point of a random subset of cells
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    height, width = 64.0, 96.0
    cells = rng.permutation(grid * grid)[:rng.integers(1, grid * grid + 1)]
    centre = np.stack([(cells % grid + rng.uniform(0.05, 0.95, len(cells))) * width / grid,
                       (cells // grid + rng.uniform(0.05, 0.95, len(cells))) * height / grid], 1)
    size = rng.uniform(2, 30, (len(cells), 2))
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)  # (G, 4)
    labels = rng.integers(0, 3, len(cells))
    target = yolo_encode(boxes, labels, grid, num_boxes, 3, (height, width))
    # as a prediction the target has confidence 1 and class probability 1: score 1; boxes of
    # one class may overlap, so suppression is switched off (threshold 1 never exceeded)
    decoded = yolo_decode(target, num_boxes, (height, width), 0.5, iou_threshold=1.0)
    order = np.lexsort(decoded["boxes"].T[::-1])
    expected = np.lexsort(boxes.T[::-1])
    np.testing.assert_allclose(decoded["boxes"][order], boxes[expected], atol=1e-9)
    np.testing.assert_array_equal(decoded["labels"][order], labels[expected])
    np.testing.assert_array_equal(decoded["scores"], 1.0)


def test_yolo_decode_scores_threshold_and_nms():
    # 1x2 grid over 10 x 20, B = 1, C = 2. Cell 0: conf .9, classes (.2, .8) -> score .72,
    # class 1. Cell 1: conf .5 * .6 = .3, class 0. Threshold .4 keeps only cell 0.
    prediction = np.array([[[0.5, 0.5, 0.5, 1.0, 0.9, 0.2, 0.8],
                            [0.5, 0.5, 0.5, 1.0, 0.5, 0.6, 0.4]]])
    with pytest.raises(ValueError, match=r"prediction of shape \(1, 2, 7\)"):
        yolo_decode(prediction, 1, (10, 20))
    grid = np.concatenate([prediction, prediction], axis=0)  # (2, 2, 7): a 2x2 grid
    out = yolo_decode(grid, 1, (10, 20), score_threshold=0.4)
    # cells (0, 0) and (1, 0): centres (5, 2.5) and (5, 7.5), 10 wide, 10 high; they overlap
    # with IoU 5*10 / (100 + 100 - 50) = 1/3 <= .5: both kept, equal scores by index
    np.testing.assert_allclose(out["boxes"], [[0, -2.5, 10, 7.5], [0, 2.5, 10, 12.5]])
    np.testing.assert_allclose(out["scores"], [0.72, 0.72])
    np.testing.assert_array_equal(out["labels"], [1, 1])
    assert len(yolo_decode(grid, 1, (10, 20), 0.4, iou_threshold=0.3)["boxes"]) == 1


def test_draw_boxes_adds_one_rectangle_and_caption_per_box():
    fig, ax = plt.subplots()
    draw_boxes(np.zeros((3, 20, 30)), [[1, 2, 11, 7], [5, 5, 25, 15]], labels=[0, 1],
               scores=[0.9, 0.25], class_names=["circle", "square"], ax=ax)
    rectangles = [p for p in ax.patches]
    assert [(r.get_x(), r.get_y(), r.get_width(), r.get_height()) for r in rectangles] == \
        [(1, 2, 10, 5), (5, 5, 20, 10)]
    assert [t.get_text() for t in ax.texts] == ["circle 0.90", "square 0.25"]
    plt.close(fig)


def test_overlay_mask_and_pr_curve():
    fig, (left, right) = plt.subplots(1, 2)
    mask = np.array([[0, 1], [2, 1]])
    overlay_mask(np.ones((2, 2)), mask, num_classes=3, alpha=0.4, ax=left)
    painted = left.images[-1].get_array()
    assert painted.shape == (2, 2, 4)
    np.testing.assert_allclose(painted[..., 3], [[0, 0.4], [0.4, 0.4]])  # background clear
    np.testing.assert_array_equal(painted[0, 1], painted[1, 1])  # one colour per class
    plot_precision_recall([1, 0.5, 2 / 3], [0.5, 0.5, 1], ax=right, label="AP")
    envelope = right.lines[1].get_ydata()
    np.testing.assert_allclose(envelope, [1, 1, 2 / 3, 2 / 3])
    plt.close(fig)


def test_a_mask_class_has_the_colour_of_its_box():
    # class c of a mask is label c - 1 of a box (ShapesDataset: mask 1 + label)
    fig, ax = plt.subplots()
    draw_boxes(None, [[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]], [0, 1, 2], ax=ax)
    overlay_mask(None, np.array([[1, 2, 3]]), num_classes=4, alpha=1.0, ax=ax)
    painted = ax.images[-1].get_array()[0]  # (3, 4) RGBA
    for patch, colour in zip(ax.patches, painted):
        np.testing.assert_allclose(patch.get_edgecolor(), colour)
    plt.close(fig)


# --- draw_boxes keeps images upright --------------------------------------------------------
# A 40x40 black image with a white 10x10 block in its top-left corner (rows and columns 0-9)
# and a red box [1, 1, 9, 9] inside the block. On screen both must sit at the top-left: the
# rendered figure is read back and the red and white pixels located within the axes.

def _block_image():
    image = np.zeros((40, 40))
    image[:10, :10] = 1.0
    return image


def _screen_centre(ax, rgb_test):
    """Centre of the axes' pixels passing `rgb_test`, as (fraction from the left, fraction
    from the top) of the axes; the buffer's row 0 is the top of the figure."""
    ax.figure.canvas.draw()
    pixels = np.asarray(ax.figure.canvas.buffer_rgba())[..., :3].astype(int)  # (rows, cols, 3)
    x0, y0, x1, y1 = np.round(ax.bbox.extents).astype(int)  # display: y grows upwards
    top = pixels.shape[0] - y1
    inside = pixels[top:top + (y1 - y0), x0:x1]
    rows, cols = np.nonzero(rgb_test(inside[..., 0], inside[..., 1], inside[..., 2]))
    assert rows.size > 0
    return cols.mean() / inside.shape[1], rows.mean() / inside.shape[0]


def _red(r, g, b):
    return (r > 200) & (g < 80) & (b < 80)


def _white(r, g, b):
    return (r > 240) & (g > 240) & (b > 240)


def _image_then_boxes_on_fresh_axes():
    return draw_boxes(_block_image(), [[1, 1, 9, 9]], color="red")


def _image_then_boxes_on_given_axes():
    ax = plt.subplots()[1]
    return draw_boxes(_block_image(), [[1, 1, 9, 9]], color="red", ax=ax)


def _imshow_then_boxes():
    ax = plt.subplots()[1]
    ax.imshow(_block_image(), cmap="gray")
    return draw_boxes(None, [[1, 1, 9, 9]], color="red", ax=ax)


def _truth_then_detections():  # notebook 07's pattern: an image with truth, then detections
    ax = draw_boxes(_block_image(), [[20, 20, 30, 30]], color="lime")
    return draw_boxes(None, [[1, 1, 9, 9]], color="red", ax=ax)


def _mask_then_boxes():
    ax = overlay_mask(_block_image(), np.zeros((40, 40), int), num_classes=2)
    return draw_boxes(None, [[1, 1, 9, 9]], color="red", ax=ax)


@pytest.mark.parametrize("draw", [_image_then_boxes_on_fresh_axes, _image_then_boxes_on_given_axes,
                                  _imshow_then_boxes, _truth_then_detections, _mask_then_boxes])
def test_draw_boxes_keeps_the_image_upright(draw):
    ax = draw()
    try:
        # data coordinates: row 0 of the image spans y in [-0.5, 0.5] (imshow's origin
        # "upper": extent (left, right, bottom, top) = (-0.5, 39.5, 39.5, -0.5)), the box
        # spans y in [1, 9], and the axes' y runs downwards over the image
        assert ax.images[0].get_extent() == [-0.5, 39.5, 39.5, -0.5]
        box = [p for p in ax.patches if p.get_x() == 1][0]
        assert (box.get_y(), box.get_height()) == (1, 8)
        bottom, top = ax.get_ylim()
        assert bottom > top and (bottom, top) == (39.5, -0.5)
        # on screen: the block and its box in the top-left corner, the box inside the block
        # (centres at about (5/40, 5/40) of the axes)
        white, red = _screen_centre(ax, _white), _screen_centre(ax, _red)
        np.testing.assert_allclose(white, (0.125, 0.125), atol=0.02)
        np.testing.assert_allclose(red, (0.125, 0.125), atol=0.02)
    finally:
        plt.close(ax.figure)


def test_draw_boxes_without_an_image_puts_y_down():
    # no image: a box at small y is at the top, as it would be over an image
    ax = draw_boxes(None, [[0, 0, 10, 10], [30, 30, 40, 40]], labels=[0, 3])  # blue, red
    try:
        bottom, top = ax.get_ylim()
        assert bottom > top
        assert bottom >= 40 and top <= 0  # every box in view
        blue = _screen_centre(ax, lambda r, g, b: (b > 150) & (r < 80))
        red = _screen_centre(ax, _red)
        assert blue[0] < 0.5 and blue[1] < 0.5  # tab10 colour 0: top-left
        assert red[0] > 0.5 and red[1] > 0.5  # tab10 colour 3: bottom-right
    finally:
        plt.close(ax.figure)
