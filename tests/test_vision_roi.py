"""ROI Pool and ROI Align: torchvision's rules worked by hand (torchvision cannot be
installed here), properties (identity, block max), gradcheck over drawn boxes, and the
Numba and NumPy kernels side by side."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.kernels import jit as jit_kernels
from minigrad.kernels import reference
from minigrad.testing import arrays, assert_gradcheck
from minigrad.vision import roi_align, roi_pool

# v[h, w] = 4h + w: a linear map, which bilinear interpolation reproduces exactly, so an
# in-map sample at (y, x) reads 4y + x and a bin's mean of symmetric samples reads its centre
LINEAR = np.arange(16.0).reshape(1, 1, 4, 4)


def test_roi_pool_by_hand(jit):
    # box (x1, y1, x2, y2) = (0.4, 0.5, 2.4, 3.4) rounds (halves away from 0, as C's round;
    # NumPy's half-to-even would give row 0) to columns 0..2 and rows 1..3 inclusive: 3 x 3
    # pixels, 2x2 bins of 1.5: rows [1, ceil 2.5 = 3) and [1 + floor 1.5 = 2, 1 + 3 = 4),
    # cols [0, 2) and [1, 3). Maxima of 4h + w: rows 1-2 cols 0-1 -> 9, cols 1-2 -> 10;
    # rows 2-3 -> 13 and 14.
    out = roi_pool(LINEAR, np.array([[0, 0.4, 0.5, 2.4, 3.4]]), 2)
    np.testing.assert_array_equal(out.data, [[[[9, 10], [13, 14]]]])


def test_roi_pool_empty_bins_give_zero(jit):
    # box rows/cols 2..5 inclusive on a 4x4 map: 4 pixels, bins of 2: [2, 4) and [4, 6) ->
    # clipped to [4, 4), empty. Values -1 - v are all negative, so a 0 can only be "empty".
    x = -1.0 - LINEAR
    out = roi_pool(x, np.array([[0, 2.0, 2.0, 5.0, 5.0], [0, 9.0, 9.0, 12.0, 12.0]]), 2)
    np.testing.assert_array_equal(out.data, [[[[-11, 0], [0, 0]]], [[[0, 0], [0, 0]]]])


def test_roi_pool_backward_accumulates_on_a_shared_max(jit):
    # the 2x2 bins of box (0, 1, 2, 2) (3 x 2 pixels, bins 1.5 wide) are cols [0, 2) and
    # [1, 3): both contain pixel (1, 1) = 100, so it receives both bins' gradients.
    x = mg.Tensor(np.zeros((1, 1, 4, 4)), requires_grad=True)
    x.data[0, 0, 1, 1] = 100.0
    out = roi_pool(x, np.array([[0, 0.0, 1.0, 2.0, 2.0]]), (1, 2))
    np.testing.assert_array_equal(out.data, [[[[100, 100]]]])
    out.backward(np.array([[[[2.0, 3.0]]]]))
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 1, 1] = 5.0
    np.testing.assert_array_equal(x.grad, expected)


@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_roi_pool_on_the_whole_map_is_block_max_pooling(blocks_h, blocks_w, data):
    # a box of corners (0, 0) and (W - 1, H - 1) covers H x W pixels; with output (H/2, W/2)
    # every bin is exactly one 2x2 block, as in max_pool2d(kernel 2, stride 2)
    x = data.draw(arrays((2, 3, 2 * blocks_h, 2 * blocks_w)))
    box = np.array([[1, 0, 0, 2 * blocks_w - 1, 2 * blocks_h - 1]], dtype=np.float64)
    blocks = x[1].reshape(3, blocks_h, 2, blocks_w, 2).max(axis=(2, 4))
    np.testing.assert_array_equal(roi_pool(x, box, (blocks_h, blocks_w)).data[0], blocks)


def test_roi_align_by_hand(jit):
    # box (0.5, 0.5)-(2.5, 2.5), 2x2 bins of 1x1, 2x2 samples per bin at 0.75, 1.25 (bin 0)
    # and 1.75, 2.25 (bin 1) on each axis; on the linear map a bin reads 4 * centre_y +
    # centre_x with centres 1 and 2: [[5, 6], [9, 10]]
    box = np.array([[0, 0.5, 0.5, 2.5, 2.5]])
    out = roi_align(LINEAR, box, 2, sampling_ratio=2)
    np.testing.assert_allclose(out.data, [[[[5, 6], [9, 10]]]], rtol=1e-15)
    # the same box in image coordinates of a stride-2 map
    out = roi_align(LINEAR, box * [1, 2, 2, 2, 2], 2, spatial_scale=0.5, sampling_ratio=2)
    np.testing.assert_allclose(out.data, [[[[5, 6], [9, 10]]]], rtol=1e-15)


def test_roi_align_adaptive_sampling_count(jit):
    # x[h, w] = h^2 (not linear, so the number of samples matters). Box (0, 0)-(3, 3), one
    # bin, sampling_ratio=-1: ceil(3 / 1) = 3 samples per axis at 0.5, 1.5, 2.5, reading
    # (0 + 1)/2, (1 + 4)/2, (4 + 9)/2 = 0.5, 2.5, 6.5; mean 9.5 / 3
    x = np.repeat((np.arange(4.0) ** 2)[:, None], 4, axis=1)[None, None]
    out = roi_align(x, np.array([[0, 0.0, 0.0, 3.0, 3.0]]), 1)
    np.testing.assert_allclose(out.data, [[[[9.5 / 3]]]], rtol=1e-15)


def test_roi_align_outside_samples_are_zero_or_clamped(jit):
    # box x from -3 to 1 (2 bins of 2), y from 0 to 2 (one bin), one sample per bin:
    # y = 1; x = -2 (< -1: counts 0) and x = 0 (row 1 reads 4).
    out = roi_align(LINEAR, np.array([[0, -3.0, 0.0, 1.0, 2.0]]), (1, 2), sampling_ratio=1)
    np.testing.assert_array_equal(out.data, [[[[0.0, 4.0]]]])
    # x = -0.5 is within one pixel of the map: clamped to 0, reads 4 (not the extrapolated 3.5)
    out = roi_align(LINEAR, np.array([[0, -1.5, 0.0, 0.5, 2.0]]), 1, sampling_ratio=1)
    np.testing.assert_array_equal(out.data, [[[[4.0]]]])
    # y = 4 = H is still in (clamped to row 3: 12 + 1); y = 4.25 > H counts 0
    out = roi_align(LINEAR, np.array([[0, 0.0, 3.0, 2.0, 5.0], [0, 0.0, 3.5, 2.0, 5.0]]), 1,
                    sampling_ratio=1)
    np.testing.assert_array_equal(out.data, [[[[13.0]]], [[[0.0]]]])


def test_roi_align_aligned_shift_and_legacy_minimum_size(jit):
    # a point box at (2, 2): legacy (aligned=False) stretches it to 1x1: one sample at
    # (2.5, 2.5) -> 4 * 2.5 + 2.5 = 12.5; aligned=True keeps size 0: no samples -> 0
    box = np.array([[0, 2.0, 2.0, 2.0, 2.0]])
    np.testing.assert_allclose(roi_align(LINEAR, box, 1).data, [[[[12.5]]]], rtol=1e-15)
    np.testing.assert_array_equal(roi_align(LINEAR, box, 1, aligned=True).data, [[[[0.0]]]])
    # aligned shifts by -0.5: box (1, 1)-(3, 3) samples (1.5 .. 2.5) - 0.5 -> centre 1.5
    box = np.array([[0, 1.0, 1.0, 3.0, 3.0]])
    np.testing.assert_allclose(roi_align(LINEAR, box, 1, aligned=True).data,
                               [[[[4 * 1.5 + 1.5]]]], rtol=1e-15)


@given(st.integers(1, 5), st.integers(1, 5), st.data())
def test_roi_align_full_box_aligned_is_identity(height, width, data):
    # box (0, 0)-(W, H) with aligned=True and output H x W: bins of one pixel, one sample
    # each at pixel centre - 0.5 = the pixel itself
    x = data.draw(arrays((2, 2, height, width)))
    out = roi_align(x, np.array([[1, 0, 0, width, height]], dtype=np.float64), (height, width),
                    aligned=True)
    np.testing.assert_allclose(out.data[0], x[1], rtol=1e-14)


def test_list_of_boxes_equals_rows(jit):
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 6))
    per_image = [np.array([[0.5, 1.0, 4.0, 5.0]]), np.array([[1.0, 0.0, 3.5, 2.0],
                                                            [0.0, 0.0, 5.0, 5.0]])]
    rows = np.array([[0, 0.5, 1.0, 4.0, 5.0], [1, 1.0, 0.0, 3.5, 2.0], [1, 0.0, 0.0, 5.0, 5.0]])
    for op in (roi_pool, roi_align):
        np.testing.assert_array_equal(op(x, per_image, 2).data, op(x, rows, 2).data)


def test_float32_and_no_boxes():
    x = np.ones((1, 2, 4, 4), np.float32)
    out = roi_align(x, np.array([[0, 0.0, 0.0, 3.0, 3.0]]), 2)
    assert out.dtype == np.float32 and out.shape == (1, 2, 2, 2)
    assert roi_pool(x, np.zeros((0, 5)), 3).shape == (0, 2, 3, 3)


def test_bad_arguments():
    x = np.zeros((1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"roi_align: input must be .* got shape \(2, 4, 4\)"):
        roi_align(x[0], np.zeros((1, 5)), 2)
    with pytest.raises(ValueError, match=r"roi_pool: boxes of shape \(1, 4\); expected \(K, 5\)"):
        roi_pool(x, np.zeros((1, 4)), 2)
    with pytest.raises(ValueError, match=r"image indices in \[0, 1\), got \[1.\]"):
        roi_pool(x, np.array([[1.0, 0, 0, 1, 1]]), 2)
    with pytest.raises(ValueError, match="output_size must be a positive int"):
        roi_align(x, np.zeros((1, 5)), (2, 0))
    with pytest.raises(TypeError, match="sampling_ratio must be an int"):
        roi_align(x, np.zeros((1, 5)), 2, sampling_ratio=2.0)
    with pytest.raises(ValueError, match=r"boxes\[0\] has shape \(4,\)"):
        roi_align(x, [np.zeros(4)], 2)


@st.composite
def roi_geometry(draw):
    """A small feature-map shape and K boxes with corners from 2 pixels outside the map to
    2 outside the far side (so clamping, the zero rule and empty bins all occur)."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    k = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1.0, 0.5]))
    xs = np.sort(rng.uniform(-2, w + 2, size=(k, 2)), axis=1) / scale
    ys = np.sort(rng.uniform(-2, h + 2, size=(k, 2)), axis=1) / scale
    rois = np.stack([rng.integers(0, n, k), xs[:, 0], ys[:, 0], xs[:, 1], ys[:, 1]], axis=1)
    output_size = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return (n, c, h, w), rois, output_size, scale


@given(roi_geometry(), st.sampled_from([-1, 1, 2]), st.booleans(), st.data())
def test_roi_align_gradcheck(geometry, sampling_ratio, aligned, data):
    # roi_align is linear in the features, so finite differences are exact anywhere
    shape, rois, output_size, scale = geometry
    x = mg.Tensor(data.draw(arrays(shape)), requires_grad=True)
    assert_gradcheck(lambda t: roi_align(t, rois, output_size, scale, sampling_ratio, aligned),
                     x)


@given(roi_geometry(), st.data())
def test_roi_pool_gradcheck(geometry, data):
    # distinct values 0.02 apart: a perturbation of 1e-6 never changes a bin's argmax
    shape, rois, output_size, scale = geometry
    x = mg.Tensor(data.draw(arrays(shape, min_gap=0.02)), requires_grad=True)
    assert_gradcheck(lambda t: roi_pool(t, rois, output_size, scale), x)


@given(roi_geometry(), st.sampled_from([-1, 1, 3]), st.booleans(), st.data())
def test_numba_and_numpy_kernels_agree(geometry, sampling_ratio, aligned, data):
    shape, rois, (ph, pw), scale = geometry
    x = data.draw(arrays(shape, min_gap=0.01))
    batch_index, boxes = rois[:, 0].astype(np.int64), np.ascontiguousarray(rois[:, 1:])
    grad = data.draw(arrays((len(rois), shape[1], ph, pw)))
    align = (scale, sampling_ratio, aligned)
    results = []
    for kernels in (reference, jit_kernels):
        pooled, argmax = kernels.roi_pool_forward(x, batch_index, boxes, ph, pw, scale)
        results.append((
            pooled, argmax, kernels.roi_pool_backward(grad, argmax, batch_index, shape),
            kernels.roi_align_forward(x, batch_index, boxes, ph, pw, *align),
            kernels.roi_align_backward(grad, batch_index, boxes, shape, *align)))
    for from_numpy, from_numba in zip(*results):
        np.testing.assert_allclose(from_numba, from_numpy, rtol=1e-12, atol=1e-14)
