"""interpolate: hand-worked values of each mode, gradcheck over drawn sizes, the transposed
map as backward, NumPy and Numba kernels against each other, and errors."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.kernels import jit, reference
from minigrad.testing import arrays, assert_gradcheck

with_fixture = settings(suppress_health_check=[*settings().suppress_health_check,
                                               HealthCheck.function_scoped_fixture])

MODES = [("nearest", None), ("bilinear", False), ("bilinear", True), ("bicubic", False),
         ("bicubic", True)]


def row(values):
    return mg.Tensor(np.array(values, float)[None, None, None])  # (1, 1, 1, W)


def test_nearest_reads_floor_of_the_exact_ratio(jit):
    # size 3 -> 5: output i reads floor(3i/5) = 0, 0, 1, 1, 2.
    out = F.interpolate(row([10, 20, 30]), size=(1, 5))
    np.testing.assert_array_equal(out.data.ravel(), [10, 10, 20, 20, 30])
    # scale_factor 2.5 on 2: size floor(5.0) = 5, output i reads floor(i/2.5) = 0, 0, 0, 1, 1.
    out = F.interpolate(row([10, 20]), scale_factor=(1, 2.5))
    np.testing.assert_array_equal(out.data.ravel(), [10, 10, 10, 20, 20])


@given(size_in=st.integers(1, 40), size_out=st.integers(1, 40))
def test_nearest_indices_by_size_are_exact(size_in, size_out):
    # The definition in rational arithmetic (API.md): output i reads floor(i * in/out).
    by_size = F.interpolate(row(np.arange(size_in)), size=(1, size_out)).data.ravel()
    np.testing.assert_array_equal(by_size, [i * size_in // size_out for i in range(size_out)])


# --- nearest with a scale factor: the decimal the user wrote --------------------------------
# A scale written k/d (d = 10 or 100) means exactly k/d: output i reads floor(i * d / k).
# The output size is floor(in * scale) in float64, PyTorch's formula; an axis that keeps its
# size is copied and one that doubles reads i // 2, PyTorch's two shortcuts.

def decimal_scales(max_scale=4):
    """(k, d, the float the user types as k/d): tenths and hundredths up to max_scale."""
    return st.sampled_from([10, 100]).flatmap(lambda d: st.tuples(
        st.integers(1, max_scale * d), st.just(d))).map(lambda kd: (*kd, kd[0] / kd[1]))


def decimal_nearest_sources(size_in, k, d):
    """The input index each output reads, worked from the definition above."""
    size_out = int(size_in * (k / d))
    if size_out == size_in:
        return list(range(size_in))
    if size_out == 2 * size_in:
        return [i // 2 for i in range(size_out)]
    return [min(i * d // k, size_in - 1) for i in range(size_out)]


def test_nearest_scale_factor_is_the_decimal_written(jit):
    # (10, 9) by (0.35, 0.8): size (floor(3.5), floor(7.2)) = (3, 7). Rows read
    # floor(i / 0.35) = floor(20i/7) = 0, 2, 5; columns floor(j / 0.8) = floor(5j/4) =
    # 0, 1, 2, 3, 5, 6, 7. Column 4 reads 5 because 4 / 0.8 = 5 exactly; the double 0.8 is
    # 0.8000000000000000444, and 4 / that, floored exactly, would be 4.
    x = mg.Tensor(np.arange(90.0).reshape(1, 1, 10, 9))  # x[h, w] = 9h + w
    out = F.interpolate(x, scale_factor=(0.35, 0.8), mode="nearest")
    rows, columns = np.array([0, 2, 5]), np.array([0, 1, 2, 3, 5, 6, 7])
    np.testing.assert_array_equal(out.data[0, 0], 9 * rows[:, None] + columns[None, :])
    # 69 / 2.3 = 30 exactly: output 69 of 37 columns scaled by 2.3 reads column 30.
    out = F.interpolate(row(np.arange(37)), scale_factor=(1, 2.3))
    assert out.shape == (1, 1, 1, 85) and out.data[0, 0, 0, 69] == 30  # floor(37 * 2.3) = 85
    # 2.05 on 10 gives 20 = 2 * 10 outputs: output 2 reads 2 // 2 = 1, not floor(2/2.05) = 0.
    out = F.interpolate(row(np.arange(10)), scale_factor=(1, 2.05))
    np.testing.assert_array_equal(out.data.ravel(), np.arange(20) // 2)
    # any numeric type that spells a decimal means that decimal
    for scale in (np.float64(0.8), 4 / 5, Fraction(4, 5)):
        out = F.interpolate(row(np.arange(9)), scale_factor=(1, scale))
        np.testing.assert_array_equal(out.data.ravel(), [0, 1, 2, 3, 5, 6, 7])


@given(size=st.tuples(st.integers(1, 30), st.integers(1, 30)),
       scales=st.tuples(decimal_scales(), decimal_scales()))
def test_nearest_scale_factor_indices_by_hand(size, scales):
    assume(all(int(n * s) >= 1 for n, (_, _, s) in zip(size, scales)))
    x = mg.Tensor(np.arange(size[0] * size[1], dtype=float).reshape(1, 1, *size))
    out = F.interpolate(x, scale_factor=tuple(s for _, _, s in scales))
    rows, columns = (np.array(decimal_nearest_sources(n, k, d))
                     for n, (k, d, _) in zip(size, scales))
    np.testing.assert_array_equal(out.data[0, 0], size[1] * rows[:, None] + columns[None, :])


def read_sources(out, width):
    """The rows and columns an output of x[h, w] = width * h + w read (the map is separable)."""
    return out[:, 0] // width, out[0, :] % width


@given(size=st.tuples(st.integers(1, 30), st.integers(1, 30)),
       scales=st.tuples(decimal_scales(), decimal_scales()))
def test_nearest_scale_factor_against_pytorch(size, scales):
    torch = pytest.importorskip("torch")
    scale = tuple(s for _, _, s in scales)
    assume(all(int(n * s) >= 1 for n, s in zip(size, scale)))
    x = np.arange(size[0] * size[1], dtype=float).reshape(1, 1, *size)
    ours = F.interpolate(mg.Tensor(x), scale_factor=scale).data[0, 0]
    theirs = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=scale,
                                             mode="nearest").numpy()[0, 0]
    assert ours.shape == theirs.shape
    # PyTorch computes i * float32(1 / scale) in float32. Where i / scale is an integer that
    # product can land just below it and floor one short (37 columns by 2.3: 69 / 2.3 = 30,
    # PyTorch reads 29); elsewhere i / scale = i*d/k is at least 1/k from an integer, far
    # beyond float32's error, and the two must agree. The shortcuts involve no rounding.
    for n, (k, d, _), mine, torchs in zip(size, scales, read_sources(ours, size[1]),
                                          read_sources(theirs, size[1])):
        exact_integer = np.array([i * d % k == 0 for i in range(len(mine))])
        if len(mine) in (n, 2 * n):
            exact_integer[:] = False
        np.testing.assert_array_equal(mine[~exact_integer], torchs[~exact_integer])
        assert np.all(np.isin(torchs[exact_integer] - mine[exact_integer], (0, -1)))


def test_nearest_scale_factor_against_pytorch_by_hand():
    torch = pytest.importorskip("torch")
    x = np.arange(90.0).reshape(1, 1, 10, 9)
    theirs = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=(0.35, 0.8),
                                             mode="nearest").numpy()
    ours = F.interpolate(mg.Tensor(x), scale_factor=(0.35, 0.8), mode="nearest").data
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_an_axis_that_keeps_its_size_is_copied(jit, mode):
    # scale 1.3 on 3 rows gives floor(3.9) = 3 rows: PyTorch copies them instead of reading
    # at i / 1.3; the columns, 4 -> 5, are resampled.
    x = mg.Tensor(np.arange(12.0).reshape(1, 1, 3, 4))
    out = F.interpolate(x, scale_factor=1.3, mode=mode)
    expected = F.interpolate(x, scale_factor=(1.0, 1.3), mode=mode)  # rows read at i / 1
    np.testing.assert_array_equal(out.data[0, 0, :, 0], [0, 4, 8])
    np.testing.assert_array_equal(out.data, expected.data)


def test_bilinear_hand_worked(jit):
    # align_corners=True, 2x2 -> 3x3: the new pixels are midpoints of their neighbours.
    x = mg.Tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    out = F.interpolate(x, size=3, mode="bilinear", align_corners=True)
    np.testing.assert_allclose(out.data[0, 0], [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]])
    # align_corners=False, x2: output i sits at source (i + 0.5)/2 - 0.5 = -0.25 (clamped to
    # 0), 0.25, 0.75, 1.25 (clamped to the last pixel), so along an axis [0, 1] becomes
    # [0, 0.25, 0.75, 1]; x[h, w] = 2h + w gives out[i, j] = 2 a_i + a_j.
    out = F.interpolate(x, scale_factor=2, mode="bilinear")
    a = np.array([0, 0.25, 0.75, 1])
    np.testing.assert_allclose(out.data[0, 0], 2 * a[:, None] + a[None, :])


def test_bicubic_hand_worked(jit):
    # [0 0 1 0] -> 7 with align_corners=True: scale 3/6, output i at source i/2. At t = 0 the
    # weights are (0, 1, 0, 0); at t = 1/2 Keys' kernel with A = -0.75 gives
    # K2(1.5) = -0.09375 and K1(0.5) = 0.59375 for the taps (-1.5, -0.5, 0.5, 1.5) away.
    # i=1 (source 0.5, taps -1->0, 0, 1, 2): 1 * -0.09375; i=3 (source 1.5): 0.59375;
    # i=5 (source 2.5, taps 1, 2, 3, 4->3): 0.59375 * 1; the rest read a pixel exactly.
    out = F.interpolate(row([0, 0, 1, 0]), size=(1, 7), mode="bicubic", align_corners=True)
    np.testing.assert_allclose(out.data.ravel(), [0, -0.09375, 0, 0.59375, 1, 0.59375, 0],
                               atol=1e-15)


@pytest.mark.parametrize("mode, align_corners", MODES)
def test_constant_image_stays_constant(jit, mode, align_corners):
    # each mode's weights per output sum to 1, border taps included
    x = mg.Tensor(np.full((1, 2, 4, 5), 3.5))
    for kwargs in (dict(size=(9, 2)), dict(scale_factor=(1.7, 0.6))):
        out = F.interpolate(x, mode=mode, align_corners=align_corners, **kwargs)
        np.testing.assert_allclose(out.data, 3.5, rtol=1e-14)


def test_bilinear_reproduces_a_linear_ramp_with_align_corners(jit):
    # Linear interpolation of samples of a linear function is that function; align_corners
    # puts output i at input i*(H-1)/(Ho-1).
    h, w = np.meshgrid(np.arange(4.0), np.arange(6.0), indexing="ij")
    x = mg.Tensor((3 * h - 2 * w)[None, None])
    out = F.interpolate(x, size=(7, 11), mode="bilinear", align_corners=True)
    oh, ow = np.meshgrid(np.arange(7) * 3 / 6, np.arange(11) * 5 / 10, indexing="ij")
    np.testing.assert_allclose(out.data[0, 0], 3 * oh - 2 * ow, atol=1e-13)


@with_fixture
@given(mode=st.sampled_from(MODES), shape=st.tuples(st.integers(1, 2), st.integers(1, 2),
                                                     st.integers(1, 5), st.integers(1, 5)),
       by_scale=st.booleans(), out=st.tuples(st.integers(1, 7), st.integers(1, 7)),
       scale=st.tuples(st.sampled_from([0.5, 0.75, 1.5, 2.0, 3.0]),
                       st.sampled_from([0.6, 1.0, 2.0, 2.5])),
       data=st.data())
def test_interpolate_gradcheck(jit, mode, shape, by_scale, out, scale, data):
    size_kwargs = dict(scale_factor=scale) if by_scale else dict(size=out)
    if by_scale and min(int(n * s) for n, s in zip(shape[2:], scale)) < 1:
        size_kwargs = dict(size=out)
    x = mg.Tensor(data.draw(arrays(shape)), requires_grad=True)
    assert_gradcheck(lambda t: F.interpolate(t, mode=mode[0], align_corners=mode[1],
                                             **size_kwargs), x)


def test_backward_is_the_transpose(jit):
    # <interpolate(x), g> = <x, backward(g)> for any x, g: the adjoint identity.
    rng = np.random.default_rng(1)
    x = mg.Tensor(rng.standard_normal((2, 3, 5, 4)), requires_grad=True)
    for mode, align_corners in MODES:
        x.grad = None
        out = F.interpolate(x, size=(8, 3), mode=mode, align_corners=align_corners)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        np.testing.assert_allclose(np.sum(out.data * g), np.sum(x.data * x.grad), rtol=1e-12)


@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9),
                       st.integers(1, 9)),
       out=st.tuples(st.integers(1, 9), st.integers(1, 9)), taps=st.integers(1, 4),
       dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_separable_map_kernels_agree(shape, out, taps, dtype, data):
    # random taps, -1 (reads nothing) and repeated columns included
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = data.draw(arrays(shape, dtype=dtype))
    geometry = []
    for size_out, size_in in zip(out, shape[2:]):
        geometry += [rng.integers(-1, size_in, (size_out, taps)),
                     rng.uniform(-1, 1, (size_out, taps)).astype(dtype)]
    tolerance = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12,
                                                                           atol=1e-12)
    forward = [k.separable_map(x, *geometry) for k in (jit, reference)]
    np.testing.assert_allclose(forward[0], forward[1], **tolerance)
    g = rng.standard_normal(forward[1].shape).astype(dtype)
    backward = [k.separable_map_transpose(g, *geometry, *shape[2:]) for k in (jit, reference)]
    np.testing.assert_allclose(backward[0], backward[1], **tolerance)
    assert forward[0].dtype == backward[0].dtype == dtype


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(size=4, scale_factor=2), ValueError, "exactly one"),
    (dict(), ValueError, "exactly one"),
    (dict(size=4, align_corners=False), ValueError, "align_corners"),
    (dict(size=(4, 0)), ValueError, "size"),
    (dict(scale_factor=0.1), ValueError, "at least 1x1"),
    (dict(scale_factor=-2), ValueError, "scale_factor"),
    (dict(scale_factor=float("nan")), ValueError, "positive finite"),
    (dict(scale_factor=(2, float("inf"))), ValueError, "positive finite"),
    (dict(size=4, mode="cubic"), ValueError, "mode"),
    (dict(size=4, mode="area"), NotImplementedError, "area"),
    (dict(size=4, mode="bilinear", antialias=True), NotImplementedError, "antialias"),
    (dict(scale_factor=2, recompute_scale_factor=True), NotImplementedError, "recompute"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        F.interpolate(mg.Tensor(np.zeros((1, 1, 3, 3))), **kwargs)


def test_wrong_ndim():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(3, 3\)"):
        F.interpolate(mg.Tensor(np.zeros((3, 3))), size=4)


# --- the course's two constructions of bilinear upsampling from convolutions ----------------
# Small integer images keep every sum of products exact (multiples of 1/16), so the
# equalities are exact, not approximate.

integer_images = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 6),
                           st.integers(1, 6)).flatmap(
    lambda shape: st.integers(0, 2**32 - 1).map(
        lambda seed: np.random.default_rng(seed).integers(-8, 9, shape).astype(float)))


@given(x=integer_images)
def test_zero_insertion_and_tent_filter_is_bilinear_with_align_corners(x):
    # Insert a zero between neighbours: (H, W) -> (2H-1, 2W-1), the input on the even
    # positions. The tent [[1/4 1/2 1/4], [1/2 1 1/2], [1/4 1/2 1/4]] (padding 1) then keeps
    # each input pixel (centre weight 1, its neighbours are zeros) and fills a position
    # between two pixels with their mean and one between four with the mean of four: the
    # bilinear interpolation whose grid puts input pixel i at output 2i (align_corners).
    N, C, H, W = x.shape
    zeros_inserted = np.zeros((N, C, 2 * H - 1, 2 * W - 1))
    zeros_inserted[:, :, ::2, ::2] = x
    tent = np.outer([0.5, 1, 0.5], [0.5, 1, 0.5])
    weight = np.zeros((C, C, 3, 3))
    weight[np.arange(C), np.arange(C)] = tent  # each channel filtered on its own
    filtered = F.conv2d(mg.Tensor(zeros_inserted), mg.Tensor(weight), padding=1)
    bilinear = F.interpolate(mg.Tensor(x), size=(2 * H - 1, 2 * W - 1), mode="bilinear",
                             align_corners=True)
    np.testing.assert_array_equal(filtered.data, bilinear.data)


@given(x=integer_images)
def test_transposed_conv_with_bilinear_kernel_is_bilinear_x2_except_the_border(x):
    # Bilinear x2 with align_corners=False puts output 2i at input i - 1/4 and output 2i+1
    # at i + 1/4: out[2i] = x[i-1]/4 + 3x[i]/4, out[2i+1] = 3x[i]/4 + x[i+1]/4 per axis.
    # A stride-2 transposed convolution with the kernel [1/4 3/4 3/4 1/4] and padding 1
    # computes out[o] = sum_i x[i] k[o + 1 - 2i]: the same two sums (FCN's initialisation).
    N, C, H, W = x.shape
    weight = np.zeros((C, 1, 4, 4))
    taps = np.array([0.25, 0.75, 0.75, 0.25])
    weight[:, 0] = np.outer(taps, taps)
    transposed = F.conv_transpose2d(mg.Tensor(x), mg.Tensor(weight), stride=2, padding=1,
                                    groups=C).data
    bilinear = F.interpolate(mg.Tensor(x), scale_factor=2, mode="bilinear").data
    assert transposed.shape == bilinear.shape == (N, C, 2 * H, 2 * W)
    np.testing.assert_array_equal(transposed[:, :, 1:-1, 1:-1], bilinear[:, :, 1:-1, 1:-1])
    # The border differs. At output 0 the tap x[-1] lies outside the input: the transposed
    # convolution reads a zero there (3x[0]/4), interpolate clamps to the edge pixel
    # (x[0]/4 + 3x[0]/4 = x[0]). So along an edge the convolution gives 3/4 of bilinear's
    # value, and at a corner, short along both axes, 3/4 * 3/4 = 9/16.
    edge = np.ones((2 * H, 2 * W))
    edge[[0, -1], :] *= 0.75
    edge[:, [0, -1]] *= 0.75
    np.testing.assert_array_equal(transposed, bilinear * edge)
