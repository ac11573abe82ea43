"""The generated 2-D data sets: shapes, dtypes, class balance, geometry, determinism."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.data import make_moons, make_spirals


@given(n_per_class=st.integers(1, 50), n_classes=st.integers(1, 6),
       noise=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_spirals_shapes_dtypes_and_balance(n_per_class, n_classes, noise, seed):
    X, y = make_spirals(n_per_class, n_classes, noise, seed=seed)
    n = n_per_class * n_classes
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.array_equal(np.bincount(y, minlength=n_classes), [n_per_class] * n_classes)


def test_spirals_geometry_without_noise():
    # noise only turns the angle, so |x| is the radius, evenly spaced 0 ... 1 along each arm;
    # with noise 0 the angle measured from the y axis is 2 pi k / K + 4 r exactly
    X, y = make_spirals(n_per_class=11, n_classes=3, noise=0.0, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    expected_radius = np.tile(np.arange(11) / 10, 3)
    np.testing.assert_allclose(radius, expected_radius, atol=1e-6)
    away_from_centre = radius > 0
    angle = np.arctan2(X[:, 0], X[:, 1])[away_from_centre]
    expected = (2 * np.pi * y / 3 + 4 * expected_radius)[away_from_centre]
    np.testing.assert_allclose(np.cos(angle - expected), 1.0, atol=1e-6)


def test_spirals_noise_keeps_radius():
    X, _ = make_spirals(n_per_class=20, n_classes=2, noise=0.5, seed=1)
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.tile(np.arange(20) / 19, 2),
                               atol=1e-6)


@given(n=st.integers(1, 200), noise=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_moons_shapes_dtypes_and_balance(n, noise, seed):
    X, y = make_moons(n, noise, seed=seed)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.array_equal(np.bincount(y, minlength=2), [n - n // 2, n // 2])


def test_moons_geometry_without_noise():
    # upper moon: unit circle around (0, 0), y >= 0; lower moon: unit circle around
    # (1, 0.5), y <= 0.5; both run over half a turn, ends included
    X, y = make_moons(n=9, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (upper[:, 1] >= -1e-6).all() and (lower[:, 1] <= 0.5 + 1e-6).all()
    np.testing.assert_allclose(upper[[0, -1]], [[1, 0], [-1, 0]], atol=1e-6)
    np.testing.assert_allclose(lower[[0, -1]], [[0, 0.5], [2, 0.5]], atol=1e-6)


def test_moons_noise_has_requested_spread():
    clean, _ = make_moons(n=20000, noise=0.0)
    noisy, _ = make_moons(n=20000, noise=0.1, seed=3)
    # 40000 Gaussian draws: the sample std is within a few percent of 0.1
    assert abs(np.std(noisy - clean) - 0.1) < 0.003


@pytest.mark.parametrize("make", [make_spirals, make_moons])
def test_same_seed_same_points_different_seed_different_points(make):
    X1, y1 = make(seed=7)
    X2, y2 = make(seed=7)
    X3, _ = make(seed=8)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("call, message", [
    (lambda: make_spirals(n_per_class=0), "n_per_class"),
    (lambda: make_spirals(n_classes=2.5), "n_classes"),
    (lambda: make_spirals(noise=-0.1), "noise"),
    (lambda: make_moons(n=0), "n must"),
    (lambda: make_moons(noise=float("nan")), "noise"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
