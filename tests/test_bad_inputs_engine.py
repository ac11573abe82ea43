"""Bad and degenerate inputs to the engine and its state (issue 13, the engine half).

Hypothesis throws invalid inputs at the public functions of the engine (Tensor, the
elementwise, reduction and movement ops, the factories, backward with hooks and custom
Functions), of saving and loading, of `load_state_dict` and of the optimisers. Each either
gives PyTorch's result (compared with PyTorch where it is installed) or raises a clear
exception whose message names the argument. Run with HYPOTHESIS_PROFILE=thorough for 400
examples per property.
"""
import io
import os
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import nn

NUMERIC_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64, np.float16,
                  np.float32, np.float64, np.complex64]
NON_NUMERIC = [np.array(["a", "bc"]), np.array([b"a", b"bc"]), np.array([None, 1.0]),
               np.array([1.0, "x"], dtype=object), np.zeros(2, dtype=[("a", "f4"), ("b", "O")]),
               np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]),
               np.array(["2020-01-01"], dtype="datetime64[D]")]


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=3):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def floats_with_specials(shape):
    """float64 arrays of `shape` whose elements may be NaN, +-inf or huge."""
    return hnp.arrays(np.float64, shape, elements=st.floats(allow_nan=True,
                                                            allow_infinity=True, width=64))


# --- Tensor construction ----------------------------------------------------------------

@given(index=st.integers(0, len(NON_NUMERIC) - 1),
       make=st.sampled_from([mg.Tensor, mg.tensor, mg.as_tensor, mg.from_numpy]))
def test_tensors_of_strings_objects_and_records_are_refused_naming_the_dtype(index, make):
    array = NON_NUMERIC[index]
    with pytest.raises(TypeError, match="dtype") as error:
        make(array)
    assert str(array.dtype) in str(error.value)


@given(dtype=st.sampled_from([object, "U3", "S2", "datetime64[s]"]),
       make=st.sampled_from(["Tensor", "tensor", "zeros", "ones", "full", "new_zeros"]))
def test_a_non_numeric_dtype_keyword_is_refused(dtype, make):
    calls = {"Tensor": lambda: mg.Tensor([1.0, 2.0], dtype=dtype),
             "tensor": lambda: mg.tensor([1.0, 2.0], dtype=dtype),
             "zeros": lambda: mg.zeros(2, dtype=dtype),
             "ones": lambda: mg.ones(2, dtype=dtype),
             "full": lambda: mg.full((2,), 1, dtype=dtype),
             "new_zeros": lambda: mg.ones(1).new_zeros(2, dtype=dtype)}
    with pytest.raises(TypeError, match=r"dtype=.* is not a tensor dtype"):
        calls[make]()


@given(array=hnp.arrays(st.sampled_from(NUMERIC_DTYPES), shapes()))
def test_numeric_arrays_keep_their_dtype_and_values(array):
    torch = pytest.importorskip("torch")
    t = mg.from_numpy(array)
    assert t.dtype == array.dtype and t.shape == array.shape
    expected = torch.from_numpy(array.copy())
    assert str(expected.dtype) == f"torch.{t.dtype}"
    np.testing.assert_array_equal(t.data, expected.numpy())


@given(sizes=st.lists(st.integers(-3, 3), min_size=1, max_size=3))
def test_factories_refuse_negative_sizes_naming_them(sizes):
    assume(min(sizes) < 0)
    for factory in (mg.zeros, mg.ones, mg.empty, mg.rand, mg.randn):
        with pytest.raises(ValueError, match=rf"{factory.__name__}: .*negative dimension"):
            factory(*sizes)
    with pytest.raises(ValueError, match="full: .*negative dimension"):
        mg.full(sizes, 1.0)
    with pytest.raises(ValueError, match="new_ones: .*negative dimension"):
        mg.ones(1).new_ones(sizes)


@given(size=st.one_of(st.floats(allow_nan=True), st.text(max_size=2), st.none()))
def test_factories_refuse_sizes_that_are_not_ints(size):
    with pytest.raises(TypeError, match="zeros: size must be ints"):
        mg.zeros(2, size)


@given(bound=st.sampled_from([float("nan"), float("inf"), -float("inf")]),
       which=st.sampled_from(["start", "end", "step"]))
def test_arange_refuses_non_finite_bounds_naming_them(bound, which):
    args = dict(start=0.0, end=5.0, step=1.0)
    args[which] = bound
    with pytest.raises(ValueError, match=f"arange: {which} must be finite"):
        mg.arange(**args)


@given(start=st.integers(-5, 5), end=st.integers(-5, 5), step=st.integers(-3, 3))
def test_arange_follows_torch_on_step_signs(start, end, step):
    torch = pytest.importorskip("torch")
    try:
        expected = torch.arange(start, end, step).numpy()
    except RuntimeError:
        with pytest.raises(ValueError, match="arange: .*step"):
            mg.arange(start, end, step)
    else:
        np.testing.assert_array_equal(mg.arange(start, end, step).data, expected)


@given(n=st.integers(-5, -1))
def test_counts_must_not_be_negative(n):
    for call, name in ((lambda: mg.eye(n), "eye: n"), (lambda: mg.eye(2, n), "eye: m"),
                       (lambda: mg.linspace(0, 1, n), "linspace: steps"),
                       (lambda: mg.randperm(n), "randperm: n")):
        with pytest.raises(ValueError, match=f"{name} must be greater or equal to 0"):
            call()


@given(dtype=st.sampled_from([np.int64, np.int32, np.bool_, np.uint8]),
       factory=st.sampled_from(["rand", "randn", "normal"]))
def test_random_floats_refuse_integer_dtypes(dtype, factory):
    # PyTorch: "check_uniform_bounds" / "normal_kernel_cpu" not implemented for integers
    call = {"rand": lambda: mg.rand(3, dtype=dtype), "randn": lambda: mg.randn(3, dtype=dtype),
            "normal": lambda: mg.normal(0.0, 1.0, (3,), dtype=dtype)}[factory]
    with pytest.raises(TypeError, match=f"{factory}: dtype=.* is not a floating-point"):
        call()


@given(std=st.sampled_from([float("nan"), -1.0, -1e-9]))
def test_normal_refuses_a_negative_or_nan_std(std):
    with pytest.raises(ValueError, match="normal: std must be >= 0"):
        mg.normal(0.0, std, (2,))
    with pytest.raises(ValueError, match="normal: std must be >= 0"):
        mg.normal(mg.zeros(3), mg.tensor([1.0, std, 1.0]))


# --- elementwise ops ------------------------------------------------------------------

BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
          "maximum": lambda a, b: a.maximum(b), "minimum": lambda a, b: a.minimum(b),
          "lt": lambda a, b: a < b, "eq": lambda a, b: a == b,
          "where": lambda a, b: mg.where(a > 0, a, b)}


@st.composite
def clashing_shapes(draw):
    """Two shapes that do not broadcast together."""
    a, b = draw(shapes(min_dims=1)), draw(shapes(min_dims=1))
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return a, b
    axis = draw(st.integers(1, min(len(a), len(b))))
    size = a[-axis]
    b = list(b)
    b[-axis] = size + 2 if size > 1 else 3  # neither 1 nor a's size: a clash
    a = list(a)
    a[-axis] = max(size, 2)
    return tuple(a), tuple(b)


@given(pair=clashing_shapes(), name=st.sampled_from(sorted(BINARY)))
def test_mismatched_shapes_raise_torchs_message(pair, name):
    torch = pytest.importorskip("torch")
    a_shape, b_shape = pair
    with pytest.raises(RuntimeError) as expected:
        BINARY[name](torch.ones(a_shape), torch.ones(b_shape))
    with pytest.raises(ValueError) as error:  # ValueError and RuntimeError at once
        BINARY[name](mg.ones(a_shape), mg.ones(b_shape))
    assert isinstance(error.value, RuntimeError)
    assert str(error.value).startswith(str(expected.value))
    assert f"{a_shape}, {b_shape}" in str(error.value)  # and both shapes


@given(other=st.sampled_from(["a", None, object(), [1.0, "x"], {"k": 1}]),
       name=st.sampled_from(["add", "mul", "lt", "pow"]))
def test_operands_that_are_not_numbers_are_refused(other, name):
    with pytest.raises(TypeError, match="unsupported operand"):
        BINARY[name](mg.ones(3), other)


@given(x=floats_with_specials(shapes(max_side=3)))
def test_nan_and_inf_propagate_as_in_torch(x):
    torch = pytest.importorskip("torch")
    t, m = torch.from_numpy(x), mg.from_numpy(x)
    with np.errstate(all="ignore"):
        for f in (lambda v: v * 2 + 1, lambda v: v.exp(), lambda v: v.abs().sqrt(),
                  lambda v: v.tanh(), lambda v: v.sigmoid(), lambda v: v.clamp(-1, 1),
                  lambda v: v.relu()):
            np.testing.assert_allclose(f(m).data, f(t).numpy(), rtol=1e-12, atol=0,
                                       equal_nan=True)


# --- reductions -----------------------------------------------------------------------

REDUCTIONS = {"sum": lambda v, d: v.sum(d), "mean": lambda v, d: v.mean(d),
              "prod": lambda v, d: v.prod() if d is None else v.prod(d),
              "amax": lambda v, d: v.amax(d),
              "amin": lambda v, d: v.amin(d), "argmax": lambda v, d: v.argmax(d),
              "logsumexp": lambda v, d: v.logsumexp(d), "std": lambda v, d: v.std(d),
              "norm": lambda v, d: v.norm(dim=d), "cumsum": lambda v, d: v.cumsum(d)}


@given(shape=shapes(min_dims=1, max_side=2), data=st.data(),
       name=st.sampled_from(sorted(REDUCTIONS)))
def test_reductions_over_empty_and_zero_size_axes_match_torch(shape, data, name):
    torch = pytest.importorskip("torch")
    shape = tuple(data.draw(st.sampled_from([0, n])) for n in shape)  # zero-size axes
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    if name in ("logsumexp", "cumsum") and dim is None:
        dim = 0
    x = np.random.default_rng(0).normal(size=shape)
    # std over too few elements warns in both (tests/test_ops.py checks minigrad's warning)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", UserWarning)
        try:
            expected = REDUCTIONS[name](torch.from_numpy(x), dim)
        except (RuntimeError, IndexError):
            with pytest.raises((ValueError, RuntimeError, IndexError),
                               match=rf"{name}\(\)|dim"):
                REDUCTIONS[name](mg.from_numpy(x), dim)
            return
        out = REDUCTIONS[name](mg.from_numpy(x), dim)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12, equal_nan=True)


@given(shape=shapes(min_dims=0, max_dims=3, min_side=1), data=st.data(),
       name=st.sampled_from(sorted(REDUCTIONS) + ["all", "any", "max", "squeeze", "flip",
                                                   "softmax", "transpose", "unsqueeze"]))
def test_out_of_range_and_non_integer_dims_are_refused_naming_dim(shape, data, name):
    bad = data.draw(st.one_of(st.integers(len(shape) + 1, 9), st.integers(-9, -len(shape) - 2),
                              st.floats(-3, 3), st.just("0")))
    calls = dict(REDUCTIONS, all=lambda v, d: v.all(d), any=lambda v, d: v.any(d),
                 max=lambda v, d: v.max(d), squeeze=lambda v, d: v.squeeze(d),
                 flip=lambda v, d: v.flip(d), softmax=lambda v, d: v.softmax(d),
                 transpose=lambda v, d: v.transpose(0, d) if v.ndim else v.transpose(d, 0),
                 unsqueeze=lambda v, d: v.unsqueeze(d))
    with pytest.raises((TypeError, IndexError, ValueError), match="dim"):
        calls[name](mg.ones(shape), bad)


def test_mean_of_an_empty_tensor_is_nan_and_its_gradient_empty():
    x = mg.zeros(0, 3, requires_grad=True)
    out = x.mean()
    assert np.isnan(out.item())
    out.backward()
    assert x.grad.shape == (0, 3)


# --- movement ops ----------------------------------------------------------------------

@given(value=st.one_of(st.floats(-3, 3).filter(lambda v: not float(v).is_integer()),
                       st.just("1"), st.none()))
def test_movement_ops_refuse_non_integer_arguments_naming_them(value):
    x = mg.ones(4, 3)
    for call, name in ((lambda: x.permute(0, value), "permute: dims"),
                       (lambda: x.narrow(0, value, 1), "narrow: start"),
                       (lambda: x.narrow(0, 0, value), "narrow: length"),
                       (lambda: x.split(value), "split: split_size"),
                       (lambda: x.chunk(value), "chunk: chunks"),
                       (lambda: x.topk(value), "topk: k"),
                       (lambda: x.expand(value, 4, 3), "expand: sizes"),
                       (lambda: x.repeat(value, 1), "repeat: sizes"),
                       (lambda: x.unsqueeze(value), "unsqueeze: dim")):
        with pytest.raises(TypeError, match=name):
            call()


@given(n=st.integers(-9, -1))
def test_movement_ops_refuse_negative_counts_naming_them(n):
    x = mg.ones(4, 3)
    for call, name in ((lambda: x.chunk(n), "chunk: chunks must be >= 1"),
                       (lambda: x.split(n), "split: split_size must be >= 1"),
                       (lambda: x.split([5, n]), "split: split_size_or_sections must be >= 0"),
                       (lambda: x.repeat(n, 1), "repeat: sizes must be >= 0"),
                       (lambda: x.expand(n - 1, 4, 3), "expand: sizes must be >= -1")):
        with pytest.raises(ValueError, match=name):
            call()


# --- backward: 0-d gradients, custom Functions and hooks --------------------------------

ZERO_D = {"mul": lambda x: x * x, "add": lambda x: x + x, "pow": lambda x: x ** 3,
          "exp": lambda x: x.exp(), "sum": lambda x: x.sum(), "mean": lambda x: x.mean(),
          "max": lambda x: x.max(), "prod": lambda x: x.prod(), "div": lambda x: 1 / x,
          "tanh": lambda x: x.tanh(), "reshape": lambda x: x.reshape(1).sum(),
          "abs": lambda x: x.abs(), "clamp": lambda x: x.clamp(-1, 1)}


@given(value=st.floats(0.1, 2.0), names=st.lists(st.sampled_from(sorted(ZERO_D)), min_size=1,
                                                 max_size=3))
def test_gradients_of_0d_tensors_are_0d_arrays(value, names):
    torch = pytest.importorskip("torch")
    x = mg.tensor(value, dtype=mg.float64, requires_grad=True)
    t = torch.tensor(value, dtype=torch.float64, requires_grad=True)
    y, ty = x, t
    for name in names:
        y, ty = ZERO_D[name](y), ZERO_D[name](ty)
    y.retain_grad()
    (y * 2 + y).backward()  # two uses: the gradients of y add up
    (ty * 2 + ty).backward()
    for grad in (x.grad, y.grad):
        assert type(grad) is np.ndarray and grad.shape == ()
    # (atol: 1 - tanh(x)^2 near saturation cancels, in PyTorch's formula as in ours)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-13)


class Twice(mg.Function):
    """2a + 3b, whose backward returns the gradients it is told to."""

    def forward(self, a, b, returned):
        self.returned = returned
        return 2 * a + 3 * b

    def backward(self, grad):
        return self.returned(grad)


@given(count=st.integers(0, 4))
def test_a_backward_returning_too_few_gradients_is_refused(count):
    a, b = mg.ones(3, requires_grad=True), mg.ones(3, requires_grad=True)
    out = Twice.apply(a, b, returned=lambda g: (2 * g,) * count if count <= 2 else
                      (2 * g, 3 * g) + (None,) * (count - 2))
    if count < 2:
        with pytest.raises(RuntimeError, match=rf"Twice.backward returned an incorrect number "
                                               rf"of gradients \(expected 2.*got {count}\)"):
            out.sum().backward()
    else:  # extra Nones are allowed, as in PyTorch
        out.sum().backward()
        np.testing.assert_array_equal(b.grad, [3.0] * 3 if count > 2 else [2.0] * 3)


@given(shape=shapes(min_dims=1, max_side=4))
def test_a_backward_returning_a_wrong_shape_is_refused_naming_op_and_shapes(shape):
    a, b = mg.ones(3, requires_grad=True), mg.ones(3, requires_grad=True)
    out = Twice.apply(a, b, returned=lambda g: (np.ones(shape), 3 * g))
    try:
        np.broadcast_to(np.zeros(3), shape)
    except ValueError:  # the input does not broadcast to the gradient's shape
        with pytest.raises(RuntimeError, match=rf"Twice.backward returned an invalid gradient "
                                               rf"for input 0: got shape {re_shape(shape)}, "
                                               rf"expected shape \(3,\)"):
            out.sum().backward()
    else:  # it does: the gradient is summed back over the broadcast axes, as PyTorch does
        out.sum().backward()
        np.testing.assert_array_equal(a.grad, np.ones(shape).reshape(-1, 3).sum(0))


@given(returned=st.sampled_from(["text", [1.0, 2.0, 3.0], {"g": 1}]))
def test_a_backward_returning_something_else_is_refused(returned):
    a, b = mg.ones(3, requires_grad=True), mg.ones(3, requires_grad=True)
    with pytest.raises(TypeError, match="Twice.backward returned a"):
        Twice.apply(a, b, returned=lambda g: (returned, g)).sum().backward()


@given(shape=shapes(max_side=4), where=st.sampled_from(["leaf", "intermediate", "module"]))
def test_a_hook_changing_the_gradients_shape_is_refused(shape, where):
    assume(shape != (2, 3))
    x = mg.ones(2, 3, requires_grad=True)

    def hook(*args):
        return np.ones(shape)

    if where == "module":
        layer = nn.Tanh()
        layer.register_backward_hook(hook)
        y = layer(x)
    else:
        y = x * 2
        (x if where == "leaf" else y).register_hook(hook)
    with pytest.raises(RuntimeError, match=rf"hook .*hook.* has changed the size of the "
                                           rf"gradient: it returned shape {re_shape(shape)}, "
                                           rf"the gradient has shape \(2, 3\)"):
        y.sum().backward()


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_a_hook_must_be_callable():
    with pytest.raises(TypeError, match="register_hook: fn must be callable"):
        mg.ones(2, requires_grad=True).register_hook(3)


@given(grad=st.sampled_from([np.array(["a", "b"]), np.array([None, None])]))
def test_backward_refuses_a_non_numeric_seed_gradient(grad):
    x = mg.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="dtype"):
        (x * 2).backward(grad)


# --- save and load ---------------------------------------------------------------------

state_dicts = st.dictionaries(
    st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=8).filter(
        lambda key: "/" not in key and "\\" not in key and "\x00" not in key),
    hnp.arrays(st.sampled_from(NUMERIC_DTYPES), shapes(max_dims=3, max_side=3)),
    max_size=4)


@given(state=state_dicts)
def test_save_load_round_trips_every_numeric_array_in_order(state, tmp_path_factory):
    path = tmp_path_factory.mktemp("round") / "w.npz"
    mg.save(state, path)
    loaded = mg.load(path)
    assert list(loaded) == list(state)
    for key, array in state.items():
        assert loaded[key].dtype == array.dtype and loaded[key].shape == array.shape
        np.testing.assert_array_equal(loaded[key], array)
        assert loaded[key].flags.writeable


@pytest.fixture
def saved(tmp_path):
    """A file that already holds a model's weights: what a failed save must not destroy."""
    path = tmp_path / "model.npz"
    mg.save({"w": np.arange(6.0).reshape(2, 3), "b": np.ones(2, np.float32)}, path)
    return path


def _unchanged(path):
    loaded = mg.load(path)
    np.testing.assert_array_equal(loaded["w"], np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(loaded["b"], np.ones(2, np.float32))
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind


@given(index=st.integers(0, len(NON_NUMERIC) - 1), position=st.integers(0, 2))
def test_save_refuses_non_numeric_values_naming_the_key_and_keeps_the_old_file(
        index, position, tmp_path_factory):
    path = tmp_path_factory.mktemp("refuse") / "model.npz"
    mg.save({"w": np.arange(6.0).reshape(2, 3), "b": np.ones(2, np.float32)}, path)
    items = [("a", np.zeros(2)), ("c", np.ones(3))]
    items.insert(position, ("bad.key", NON_NUMERIC[index]))
    with pytest.raises(TypeError, match=r"save: value for key 'bad\.key' is not a numeric"):
        mg.save(dict(items), path)
    _unchanged(path)


@pytest.mark.parametrize("key", ["\udc80", "a\ud800b"])
def test_save_refuses_a_key_that_cannot_be_encoded_and_keeps_the_old_file(key, saved):
    with pytest.raises(ValueError, match="save: key .* cannot be encoded"):
        mg.save({"ok": np.zeros(1), key: np.zeros(1)}, saved)
    _unchanged(saved)


@given(written=st.integers(0, 400))
def test_a_save_failing_mid_write_leaves_the_old_file_intact(written, tmp_path_factory,
                                                             monkeypatch_module):
    path = tmp_path_factory.mktemp("full") / "model.npz"
    mg.save({"w": np.arange(6.0).reshape(2, 3), "b": np.ones(2, np.float32)}, path)
    real_savez = np.savez

    def savez_until_the_disk_is_full(file, **arrays):
        buffer = io.BytesIO()
        real_savez(buffer, **arrays)
        file.write(buffer.getvalue()[:written])
        raise OSError(28, "No space left on device")

    monkeypatch_module.setattr(np, "savez", savez_until_the_disk_is_full)
    try:
        with pytest.raises(OSError, match="No space left"):
            mg.save({"w": np.zeros((50, 50)), "b": np.zeros(2, np.float32)}, path)
    finally:
        monkeypatch_module.setattr(np, "savez", real_savez)
    _unchanged(path)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@given(cut=st.integers(0, 10_000))
def test_a_truncated_file_gives_a_clear_error(cut, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cut")
    whole = folder / "whole.npz"
    mg.save({"w": np.arange(60.0).reshape(6, 10), "b": np.ones(2, np.float32)}, whole)
    data = whole.read_bytes()
    cut = cut % len(data)
    path = folder / "cut.npz"
    path.write_bytes(data[:cut])
    with pytest.raises(ValueError, match=r"load: .*cut\.npz.*(damaged|truncated|not a \.npz)"):
        mg.load(path)


def _archive(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _npy(shape, descr="<f8", data=b""):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


@given(shape=st.lists(st.integers(0, 2 ** 20), min_size=1, max_size=3).map(tuple),
       held=st.integers(0, 64))
def test_a_header_declaring_more_bytes_than_the_file_holds_is_refused(shape, held,
                                                                     tmp_path_factory):
    assume(int(np.prod(shape, dtype=object)) * 8 != held)
    path = tmp_path_factory.mktemp("header") / "h.npz"
    _archive(path, {"w.npy": _npy(shape, data=b"\0" * held)})
    with pytest.raises(ValueError, match=rf"load: key 'w' .*declares shape .* holds {held} "
                                         rf"bytes"):
        mg.load(path)


def test_a_huge_declared_shape_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    _archive(path, {"w.npy": _npy((2 ** 40,), data=b"\0" * 8)})
    with pytest.raises(ValueError, match=r"declares shape \(1099511627776,\)"):
        mg.load(path)


@pytest.mark.parametrize("member, match", [
    (_npy((2,), "|S3", b"abcdef"), r"key 'w' .*dtype \|S3"),
    (_npy((1,), "<U2", b"\0" * 8), r"key 'w' .*dtype <U2"),
    (_npy((1,), "|O", b"\x80\x04N."), r"key 'w' .*dtype object"),  # a pickle: never run
])
def test_load_refuses_non_numeric_members_without_unpickling(member, match, tmp_path):
    path = tmp_path / "bad.npz"
    _archive(path, {"w.npy": member})
    with pytest.raises(TypeError, match=match):
        mg.load(path)


def test_load_refuses_members_that_are_not_arrays(tmp_path):
    path = tmp_path / "odd.npz"
    _archive(path, {"notes.txt": b"hello"})
    with pytest.raises(ValueError, match=r"'notes\.txt', which is not a \.npy array"):
        mg.load(path)


def test_load_of_a_npy_file_or_a_missing_file_says_what_it_is(tmp_path):
    np.save(tmp_path / "one.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"one\.npy.* is not a \.npz archive"):
        mg.load(tmp_path / "one.npy")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        mg.load(tmp_path / "missing.npz")


# --- load_state_dict --------------------------------------------------------------------

def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


BAD_VALUES = {"shape": lambda v: np.zeros(v.shape + (1,), v.dtype),
              "dtype": lambda v: np.zeros(v.shape, np.float64 if v.dtype.kind == "i"
                                          else np.complex64),
              "object": lambda v: np.full(v.shape, None, dtype=object),
              "string": lambda v: np.full(v.shape, "x"),
              "missing": None}


@given(position=st.integers(0, 8), kind=st.sampled_from(sorted(BAD_VALUES)),
       as_tensors=st.booleans())
def test_a_refused_state_dict_leaves_the_module_unchanged(position, kind, as_tensors):
    mg.manual_seed(0)
    model = _model()
    before = {key: value.copy() for key, value in model.state_dict().items()}
    state = {key: np.full(value.shape, 7, value.dtype) for key, value in before.items()}
    key = list(state)[position % len(state)]
    if kind == "missing":
        del state[key]
    else:
        state[key] = BAD_VALUES[kind](state[key])
    if as_tensors:
        state = {k: mg.Tensor(v) if v.dtype.kind in "biufc" else v for k, v in state.items()}
    error = TypeError if kind in ("object", "string") else ValueError
    with pytest.raises(error, match=key.replace(".", r"\.")):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


@given(as_tensors=st.booleans())
def test_load_state_dict_takes_tensors_as_well_as_arrays(as_tensors):
    model = _model()
    state = {key: np.full(value.shape, 3, value.dtype) for key, value in
             model.state_dict().items()}
    model.load_state_dict({k: mg.Tensor(v) for k, v in state.items()} if as_tensors else state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[key])


# --- optimisers -------------------------------------------------------------------------

OPTIMISERS = {"SGD": lambda p: mg.optim.SGD(p, lr=0.1, momentum=0.9),
              "Adam": lambda p: mg.optim.Adam(p), "AdamW": lambda p: mg.optim.AdamW(p),
              "RMSprop": lambda p: mg.optim.RMSprop(p)}


@given(name=st.sampled_from(sorted(OPTIMISERS)), grad_shape=shapes(max_side=3),
       named=st.booleans())
def test_a_gradient_of_the_wrong_shape_is_refused_naming_the_parameter(name, grad_shape,
                                                                       named):
    assume(grad_shape != (2, 3))
    w, b = mg.zeros(3, requires_grad=True), mg.ones(2, 3, requires_grad=True)
    params = [("w", w), ("b", b)] if named else [w, b]
    optimiser = OPTIMISERS[name](params)
    w.grad, b.grad = np.ones(3, np.float32), np.ones(grad_shape, np.float32)
    which = "'b'" if named else "1 of parameter group 0"
    with pytest.raises(ValueError, match=rf"{name}.step: the \.grad of parameter {which} has "
                                         rf"shape {re_shape(grad_shape)}, but the parameter "
                                         rf"has shape \(2, 3\)"):
        optimiser.step()
    np.testing.assert_array_equal(b.data, np.ones((2, 3)))


@given(name=st.sampled_from(["lr", "eps", "weight_decay", "momentum", "alpha"]),
       value=st.sampled_from([float("nan"), -1.0, float("-inf"), "0.1", None]),
       optimiser=st.sampled_from(["SGD", "Adam", "RMSprop"]))
def test_bad_hyperparameters_are_refused_naming_them(name, value, optimiser):
    accepted = {"SGD": {"lr", "momentum", "weight_decay"},
                "Adam": {"lr", "eps", "weight_decay"},
                "RMSprop": {"lr", "eps", "weight_decay", "momentum", "alpha"}}[optimiser]
    assume(name in accepted)
    with pytest.raises((ValueError, TypeError), match=f"{optimiser}: {name} must be"):
        getattr(mg.optim, optimiser)([mg.zeros(2, requires_grad=True)], **{name: value})


def test_optimiser_state_of_the_wrong_shape_is_refused_before_loading():
    p = mg.zeros(3, requires_grad=True)
    source = mg.optim.Adam([p])
    p.grad = np.ones(3, np.float32)
    source.step()
    state = source.state_dict()
    state["state"][0]["exp_avg"] = np.zeros(1)
    target = mg.optim.Adam([mg.zeros(3, requires_grad=True)], lr=0.5)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(1,\), "
                                         r"but the parameter has shape \(3,\)"):
        target.load_state_dict(state)
    assert not target.state and target.param_groups[0]["lr"] == 0.5  # nothing loaded


@given(value=st.sampled_from([float("nan"), -0.5, float("-inf"), "0.1"]),
       schedule=st.sampled_from(["StepLR", "MultiStepLR", "ExponentialLR", "OneCycleLR"]))
def test_schedules_refuse_nan_and_negative_rates_naming_them(value, schedule):
    sched = mg.optim.lr_scheduler
    optimiser = mg.optim.SGD([mg.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    make, name = {"StepLR": (lambda: sched.StepLR(optimiser, 2, gamma=value), "gamma"),
                  "MultiStepLR": (lambda: sched.MultiStepLR(optimiser, [2], gamma=value),
                                  "gamma"),
                  "ExponentialLR": (lambda: sched.ExponentialLR(optimiser, value), "gamma"),
                  "OneCycleLR": (lambda: sched.OneCycleLR(optimiser, value, total_steps=5),
                                 "max_lr")}[schedule]
    with pytest.raises((ValueError, TypeError), match=f"{schedule}: {name} must be"):
        make()


@given(milestone=st.sampled_from([2.5, "3", None, -1]))
def test_milestones_must_be_non_negative_ints(milestone):
    optimiser = mg.optim.SGD([mg.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises((ValueError, TypeError), match="MultiStepLR: milestones must be"):
        mg.optim.lr_scheduler.MultiStepLR(optimiser, [1, milestone])


# --- in-place draws and conversions ------------------------------------------------------

@given(std=st.sampled_from([float("nan"), -1.0, -1e-12]),
       bounds=st.sampled_from([(float("nan"), 1.0), (0.0, float("inf")), (2.0, 1.0),
                               (-float("inf"), 0.0)]),
       p=st.sampled_from([float("nan"), -0.5, 1.5]))
def test_in_place_draws_check_their_parameters(std, bounds, p):
    x = mg.zeros(4)
    with pytest.raises(ValueError, match="normal_: std must be >= 0"):
        x.normal_(0.0, std)
    with pytest.raises(ValueError, match="uniform_: expects a finite range a <= b"):
        x.uniform_(*bounds)
    with pytest.raises(ValueError, match=r"bernoulli_: p must be in \[0, 1\]"):
        x.bernoulli_(p)
    np.testing.assert_array_equal(x.data, np.zeros(4))  # nothing was written


@given(dtype=st.sampled_from([object, "U2", "S1", "datetime64[s]"]),
       how=st.sampled_from(["to", "astype", "type"]))
def test_converting_to_a_non_numeric_dtype_is_refused(dtype, how):
    with pytest.raises(TypeError, match="is not a tensor dtype"):
        getattr(mg.ones(2), how)(np.dtype(dtype))  # (a string in to() names a device)
