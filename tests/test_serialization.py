"""mg.save / mg.load: .npz round trips without pickle, and the errors on bad input."""
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def model():
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_state_dict_round_trip_through_a_file(tmp_path):
    mg.manual_seed(0)
    source = model()
    path = tmp_path / "weights.npz"
    mg.save(source.state_dict(), path)
    loaded = mg.load(path)
    assert list(loaded) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # order kept
    mg.manual_seed(1)
    target = model()
    target.load_state_dict(loaded)
    x = mg.Tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32))
    np.testing.assert_array_equal(target(x).data, source(x).data)
    for key, value in source.state_dict().items():
        assert loaded[key].dtype == value.dtype


def test_the_file_is_a_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "w.npz"
    mg.save({"a.b": np.arange(3), "count": np.array(7, np.int64), "t": mg.Tensor([1.0])}, path)
    assert sorted(zipfile.ZipFile(path).namelist()) == ["a.b.npy", "count.npy", "t.npy"]
    loaded = mg.load(path)
    assert loaded["count"].shape == () and loaded["count"] == 7
    np.testing.assert_array_equal(loaded["t"], np.array([1.0], np.float32))


def test_loading_a_mismatched_file_lists_the_keys(tmp_path):
    path = tmp_path / "other.npz"
    mg.save({"0.weight": np.zeros((4, 3), np.float32), "5.bias": np.zeros(2)}, path)
    with pytest.raises(ValueError, match=r"missing keys: 0\.bias, 2\.weight, 2\.bias"
                                         r".*unexpected keys: 5\.bias"):
        model().load_state_dict(mg.load(path))


def test_save_refuses_what_would_need_pickle(tmp_path):
    with pytest.raises(TypeError, match="not a numeric array"):
        mg.save({"x": {"nested": 1}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="expected a dict of arrays"):
        mg.save([np.zeros(1)], tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be strings"):
        mg.save({1: np.zeros(1)}, tmp_path / "x.npz")


def test_round_trip_keeps_batch_norm_buffers_and_their_integer_dtype(tmp_path):
    mg.manual_seed(0)
    source = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
    x = mg.Tensor(np.random.default_rng(0).normal(size=(4, 2, 5, 5)).astype(np.float32))
    source(x)
    source(x)  # two training steps: running statistics moved, num_batches_tracked = 2
    mg.save(source.state_dict(), tmp_path / "bn.npz")
    loaded = mg.load(tmp_path / "bn.npz")
    assert list(loaded) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                            "1.running_var", "1.num_batches_tracked"]
    assert loaded["1.num_batches_tracked"].dtype == np.int64
    assert loaded["1.num_batches_tracked"] == 2
    target = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
    target.load_state_dict(loaded)
    assert target[1].num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(target[1].running_var, source[1].running_var)
    np.testing.assert_array_equal(target.eval()(x).data, source.eval()(x).data)
