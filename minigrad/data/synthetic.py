"""Small two-dimensional classification problems, generated on the spot (nothing downloaded).

Both return `(X, y)`: points `X` float32 of shape (N, 2) and labels `y` int64 of shape (N,),
sorted by class (shuffle them, or let a DataLoader do it). A fixed `seed` gives the same
points every time.
"""
import numpy as np


def make_spirals(n_per_class=100, n_classes=3, noise=0.2, seed=None):
    """Interleaved spiral arms, one per class: a problem no linear model can solve.

    Arm k holds `n_per_class` points at radius r = 0 ... 1 (evenly spaced) and angle
    2*pi*k / n_classes + 4 r + noise * N(0, 1): the noise jitters the angle, in radians,
    so points near the centre, where the arms meet, are the ambiguous ones.
    Shapes: X (n_classes * n_per_class, 2) float32, y (n_classes * n_per_class,) int64.
    """
    _check_count("make_spirals", "n_per_class", n_per_class)
    _check_count("make_spirals", "n_classes", n_classes)
    _check_noise("make_spirals", noise)
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)  # (N,)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)  # (N,)
    angle = 2 * np.pi * y / n_classes + 4 * radius + noise * rng.standard_normal(y.size)
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)  # (N, 2)
    return X.astype(np.float32), y


def make_moons(n=200, noise=0.1, seed=None):
    """Two interleaving half circles: class 0 the upper one, class 1 the lower one.

    Class 0 has `ceil(n/2)` points (cos t, sin t), class 1 has `floor(n/2)` points
    (1 - cos t, 1/2 - sin t), t evenly spaced in [0, pi]; then Gaussian noise of standard
    deviation `noise` is added to both coordinates.
    Shapes: X (n, 2) float32, y (n,) int64.
    """
    _check_count("make_moons", "n", n)
    _check_noise("make_moons", noise)
    rng = np.random.default_rng(seed)
    n_upper = n - n // 2
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n // 2)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)  # (n_upper, 2)
    lower = np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)  # (n//2, 2)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))  # (n, 2)
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n // 2, np.int64)])
    return X.astype(np.float32), y


def _check_count(function, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{function}: {name} must be a positive integer, got {value!r}")


def _check_noise(function, noise):
    if not noise >= 0:  # also rejects NaN
        raise ValueError(f"{function}: noise must be >= 0, got {noise!r}")
