"""The torch.* and Tensor surface of issue 8: `import minigrad as torch` runs PyTorch code.

Most tests take the `lib` fixture and run the same code once on minigrad and once on
PyTorch (skipped where torch is not installed), checking both against values worked by
hand in the comments: so the suite proves minigrad's behaviour without torch, and that the
hand-worked values are PyTorch's when torch is there. `test_*_matches_torch` tests compare
the two libraries directly on random input.

nn, optim, utils.data and amp have their own files (test_torch_surface_{nn,optim,data}.py).
"""
import math
import operator
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad


# --- running the same code on both libraries --------------------------------------------

@pytest.fixture(params=["minigrad", "torch"])
def lib(request):
    """minigrad, then PyTorch when it is installed: `lib.tensor`, `lib.no_grad`, ..."""
    if request.param == "torch":
        return pytest.importorskip("torch")
    return minigrad


@pytest.fixture(autouse=True)
def grad_mode_restored():
    """A failing grad-mode test must not leave gradients off for the tests after it."""
    yield
    minigrad.set_grad_enabled(True)
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_grad_enabled"):
        torch.set_grad_enabled(True)


def A(t):
    """The values of a tensor of either library, or of its `.grad`, as an ndarray."""
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


def dt(t):
    """A tensor's dtype as a NumPy dtype (`str(torch.float32)` is 'torch.float32')."""
    return np.dtype(str(t.dtype).replace("torch.", ""))


def leaf(lib, values, dtype=None):
    """A float64 leaf that requires grad (float64 so hand-worked values compare exactly)."""
    return lib.tensor(values, dtype=dtype or lib.float64, requires_grad=True)


def value_and_grad(lib, fn, values, weights=None):
    """fn(x) and d sum(weights * fn(x)) / dx at `values` (weights default to ones)."""
    x = leaf(lib, values)
    out = fn(x)
    w = lib.ones_like(out) if weights is None else lib.tensor(weights, dtype=lib.float64)
    (out * w).sum().backward()
    return A(out), A(x.grad)


def close(actual, expected):
    np.testing.assert_allclose(A(actual), np.asarray(expected, dtype=np.float64),
                               rtol=1e-6, atol=1e-12)




# ===========================================================================================
# Top level
# ===========================================================================================

# --- making tensors -----------------------------------------------------------------------

@pytest.mark.parametrize("data, dtype", [
    ([0, 1], np.int64),          # Python ints -> int64
    ([0.5], np.float32),         # Python floats -> float32 (the default dtype)
    ([1, 2.0], np.float32),      # one float makes the list float
    (3, np.int64),
    (2.5, np.float32),
    (True, np.bool_),
    ([[True, False]], np.bool_),
    (np.zeros(2, np.float64), np.float64),  # an ndarray keeps its dtype
    (np.zeros(2, np.int32), np.int32),
])
def test_tensor_infers_the_dtype_as_torch_tensor(lib, data, dtype):
    assert dt(lib.tensor(data)) == dtype


@pytest.mark.parametrize("data", [[0, 1], [0.5, 1.5], [[True, False]], [[1, 2], [3, 4]]])
def test_legacy_constructor_makes_float32(lib, data):
    t = lib.Tensor(data)
    assert dt(t) == np.float32 and A(t).tolist() == np.float32(data).tolist()


def test_legacy_constructor_with_sizes_makes_an_uninitialised_float32_tensor(lib):
    t = lib.Tensor(2, 3)  # old code: nn.Parameter(torch.Tensor(out_features, in_features))
    assert tuple(t.shape) == (2, 3) and dt(t) == np.float32 and not t.requires_grad
    assert tuple(lib.Tensor(3).shape) == (3,)  # one int is a size too, not a value


def test_tensor_copies_while_as_tensor_and_from_numpy_share_memory(lib):
    array = np.zeros(3)
    copied, shared, wrapped = lib.tensor(array), lib.as_tensor(array), lib.from_numpy(array)
    array[0] = 5.0
    assert A(copied)[0] == 0 and A(shared)[0] == 5 and A(wrapped)[0] == 5
    wrapped.add_(1)  # a write through from_numpy's tensor shows in the array
    assert array.tolist() == [6.0, 1.0, 1.0]
    assert dt(shared) == np.float64 and dt(wrapped) == np.float64
    other = lib.as_tensor(array, dtype=lib.float32)  # a dtype change must copy
    array[1] = 7.0
    assert dt(other) == np.float32 and A(other)[1] == 1.0


@pytest.mark.filterwarnings("ignore:To copy construct from a tensor")
def test_tensor_of_a_tensor_is_a_copy_and_as_tensor_of_a_list_infers(lib):
    t = lib.zeros(2)
    copy = lib.tensor(t)
    copy.add_(1)
    assert A(t).tolist() == [0, 0] and dt(lib.as_tensor([1, 2])) == np.int64


def test_from_numpy_needs_an_ndarray(lib):
    with pytest.raises(TypeError):
        lib.from_numpy([1.0, 2.0])


@pytest.mark.parametrize("make, shape, dtype, values", [
    (lambda L: L.zeros(2, 3), (2, 3), np.float32, 0.0),
    (lambda L: L.zeros((2, 3)), (2, 3), np.float32, 0.0),   # sizes as one tuple
    (lambda L: L.zeros([2]), (2,), np.float32, 0.0),
    (lambda L: L.ones(2, dtype=L.int64), (2,), np.int64, 1),
    (lambda L: L.full((2, 2), 1.5), (2, 2), np.float32, 1.5),
    (lambda L: L.full((2,), 3), (2,), np.int64, 3),         # the dtype follows the value
    (lambda L: L.full([2], True), (2,), np.bool_, True),
    (lambda L: L.full((2,), 3, dtype=L.float64), (2,), np.float64, 3.0),
    (lambda L: L.empty(4, 5), (4, 5), np.float32, None),    # any values
    (lambda L: L.empty((1, 2), dtype=L.float16), (1, 2), np.float16, None),
])
def test_constant_factories(lib, make, shape, dtype, values):
    t = make(lib)
    assert tuple(t.shape) == shape and dt(t) == dtype
    if values is not None:
        assert (A(t) == values).all()


@pytest.mark.parametrize("make, dtype, expected", [
    (lambda L: L.eye(2), np.float32, [[1, 0], [0, 1]]),
    (lambda L: L.eye(2, 3), np.float32, [[1, 0, 0], [0, 1, 0]]),
    (lambda L: L.eye(2, dtype=L.int64), np.int64, [[1, 0], [0, 1]]),
    (lambda L: L.arange(5), np.int64, [0, 1, 2, 3, 4]),        # int bounds -> int64
    (lambda L: L.arange(2, 8, 3), np.int64, [2, 5]),
    (lambda L: L.arange(5, 0, -2), np.int64, [5, 3, 1]),
    (lambda L: L.arange(3.0), np.float32, [0, 1, 2]),          # a float bound -> float32
    (lambda L: L.arange(0, 1, 0.25), np.float32, [0, 0.25, 0.5, 0.75]),  # end excluded
    (lambda L: L.arange(4, dtype=L.float64), np.float64, [0, 1, 2, 3]),
    (lambda L: L.linspace(0, 1, 5), np.float32, [0, 0.25, 0.5, 0.75, 1]),  # end included
    (lambda L: L.linspace(-1, 1, 3, dtype=L.float64), np.float64, [-1, 0, 1]),
])
def test_eye_arange_linspace(lib, make, dtype, expected):
    t = make(lib)
    assert dt(t) == dtype and A(t).tolist() == expected


@pytest.mark.parametrize("make, dtype, fill", [
    (lambda L, x: L.zeros_like(x), np.int64, 0),                 # the input's dtype
    (lambda L, x: L.ones_like(x), np.int64, 1),
    (lambda L, x: L.ones_like(x, dtype=L.float64), np.float64, 1),
    (lambda L, x: L.full_like(x, 7), np.int64, 7),
    (lambda L, x: L.full_like(x, 2.7), np.int64, 2),             # cast to the input's dtype
    (lambda L, x: L.empty_like(x), np.int64, None),
    (lambda L, x: L.rand_like(x, dtype=L.float64), np.float64, None),
    (lambda L, x: L.randn_like(x.float()), np.float32, None),
    (lambda L, x: L.randint_like(x, 5), np.int64, None),
])
def test_like_factories_take_the_shape_and_dtype_of_their_input(lib, make, dtype, fill):
    t = make(lib, lib.tensor([[1, 2, 3], [4, 5, 6]]))
    assert tuple(t.shape) == (2, 3) and dt(t) == dtype
    if fill is not None:
        assert (A(t) == fill).all()


def test_factories_accept_requires_grad_and_the_cpu_device(lib):
    for t in (lib.zeros(2, requires_grad=True), lib.rand(2, requires_grad=True),
              lib.ones(2, device="cpu", requires_grad=True),
              lib.tensor([1.0], device=lib.device("cpu"), requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.device == lib.device("cpu")


# --- random tensors -----------------------------------------------------------------------

def test_random_factories_shapes_dtypes_and_ranges(lib):
    lib.manual_seed(0)
    u = lib.rand(2000)
    assert dt(u) == np.float32 and 0 <= A(u).min() and A(u).max() < 1
    assert tuple(lib.rand(2, 3).shape) == (2, 3) and tuple(lib.rand((2, 3)).shape) == (2, 3)
    assert dt(lib.rand(2, dtype=lib.float64)) == np.float64
    n = lib.randn(4, 5)
    assert tuple(n.shape) == (4, 5) and dt(n) == np.float32
    ints = A(lib.randint(0, 10, (1000,)))
    assert ints.dtype == np.int64 and set(ints.tolist()) == set(range(10))  # [low, high)
    assert set(A(lib.randint(5, (500,))).tolist()) == set(range(5))      # randint(high, size)
    assert tuple(lib.randint(3, 10, size=(2, 2)).shape) == (2, 2)
    p = lib.randperm(6)
    assert dt(p) == np.int64 and sorted(A(p).tolist()) == list(range(6))


def test_normal_draws_have_the_mean_and_std_asked_for(lib):
    lib.manual_seed(0)
    draws = lib.normal(2.0, 3.0, size=(20000,))
    assert dt(draws) == np.float32 and tuple(draws.shape) == (20000,)
    # the standard error of the mean is 3 / sqrt(20000) = 0.02; of the std about 0.015
    assert abs(float(draws.mean()) - 2.0) < 0.1 and abs(float(draws.std()) - 3.0) < 0.1
    per_element = lib.normal(lib.tensor([0.0, 100.0], dtype=lib.float64),
                             lib.tensor([0.0, 0.0], dtype=lib.float64))
    assert dt(per_element) == np.float64 and A(per_element).tolist() == [0.0, 100.0]  # std 0
    assert tuple(lib.normal(lib.zeros(3), 1.0).shape) == (3,)


DRAWS = {
    "randn": lambda L, g: L.randn(4, generator=g),
    "rand": lambda L, g: L.rand(2, 2, generator=g),
    "randint": lambda L, g: L.randint(0, 100, (5,), generator=g),
    "randperm": lambda L, g: L.randperm(9, generator=g),
    "normal": lambda L, g: L.normal(0.0, 1.0, (3,), generator=g),
    "normal_": lambda L, g: L.empty(3).normal_(generator=g),
    "uniform_": lambda L, g: L.empty(3).uniform_(generator=g),
}


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_manual_seed_reproduces_draws(lib, draw):
    assert isinstance(lib.manual_seed(0), lib.Generator)  # returns the default generator
    first = A(draw(lib, None)).copy()
    lib.manual_seed(0)
    assert np.array_equal(A(draw(lib, None)), first)
    assert not np.array_equal(A(draw(lib, None)), first)  # the stream moved on


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_a_seeded_generator_reproduces_draws_and_leaves_the_default_alone(lib, draw):
    first = A(draw(lib, lib.Generator().manual_seed(0))).copy()
    assert np.array_equal(A(draw(lib, lib.Generator().manual_seed(0))), first)
    lib.manual_seed(1)
    expected = A(lib.randn(3)).copy()
    lib.manual_seed(1)
    draw(lib, lib.Generator().manual_seed(0))  # draws from its own stream only
    assert np.array_equal(A(lib.randn(3)), expected)


# --- joining and reshaping functions ------------------------------------------------------

def test_cat_and_concat_join_along_an_existing_dim(lib):
    a, b = lib.tensor([[1, 2]]), lib.tensor([[3, 4]])
    assert A(lib.cat([a, b])).tolist() == [[1, 2], [3, 4]]
    assert A(lib.cat((a, b), dim=1)).tolist() == [[1, 2, 3, 4]]
    assert A(lib.concat([a, b], -1)).tolist() == [[1, 2, 3, 4]]
    assert A(lib.cat([lib.tensor([1]), lib.tensor([2, 3])])).tolist() == [1, 2, 3]
    out, grad = value_and_grad(lib, lambda x: lib.cat([x, 2 * x]), [1.0, 2.0],
                               [1.0, 2.0, 3.0, 4.0])
    assert out.tolist() == [1, 2, 2, 4] and grad.tolist() == [1 + 2 * 3, 2 + 2 * 4]


def test_stack_joins_along_a_new_dim(lib):
    a, b = lib.tensor([1, 2]), lib.tensor([3, 4])
    assert A(lib.stack([a, b])).tolist() == [[1, 2], [3, 4]]
    assert A(lib.stack((a, b), dim=1)).tolist() == [[1, 3], [2, 4]]
    assert tuple(lib.stack([lib.zeros(2, 3)] * 4, dim=-1).shape) == (2, 3, 4)
    out, grad = value_and_grad(lib, lambda x: lib.stack([x, 2 * x]), [1.0, 2.0],
                               [[1.0, 2.0], [3.0, 4.0]])
    assert out.tolist() == [[1, 2], [2, 4]] and grad.tolist() == [1 + 2 * 3, 2 + 2 * 4]


@pytest.mark.parametrize("fn, shape", [
    (lambda L, x: L.flatten(x), (24,)),
    (lambda L, x: L.flatten(x, 1), (2, 12)),
    (lambda L, x: L.flatten(x, start_dim=0, end_dim=1), (6, 4)),
    (lambda L, x: L.reshape(x, (4, -1)), (4, 6)),
    (lambda L, x: L.reshape(x, (24,)), (24,)),
    (lambda L, x: L.unsqueeze(x, 0), (1, 2, 3, 4)),
    (lambda L, x: L.unsqueeze(x, -1), (2, 3, 4, 1)),
    (lambda L, x: L.squeeze(L.unsqueeze(x, 1)), (2, 3, 4)),
    (lambda L, x: L.squeeze(L.unsqueeze(x, 1), 1), (2, 3, 4)),
    (lambda L, x: L.squeeze(x, 0), (2, 3, 4)),           # a dim that is not 1 stays
    (lambda L, x: L.squeeze(x[:1, :, :1], (0, 2)), (3,)),
])
def test_flatten_reshape_squeeze_unsqueeze_functions(lib, fn, shape):
    x = lib.arange(24).reshape(2, 3, 4)
    out = fn(lib, x)
    assert tuple(out.shape) == shape
    assert A(out).ravel().tolist() == sorted(A(out).ravel().tolist())  # order kept


def test_where_with_three_arguments_picks_and_routes_the_gradient(lib):
    cond = lib.tensor([True, False, True])
    picked = lib.where(cond, lib.tensor([1.0, 2.0, 3.0]), lib.tensor([10.0, 20.0, 30.0]))
    assert A(picked).tolist() == [1, 20, 3]
    x = leaf(lib, [-1.0, 2.0])
    relu = lib.where(x > 0, x, 0.0)  # a Python number as one branch keeps x's dtype
    assert A(relu).tolist() == [0, 2] and dt(relu) == np.float64
    relu.sum().backward()
    assert A(x.grad).tolist() == [0, 1]


def test_where_with_one_argument_gives_the_indices_per_dim(lib):
    rows, cols = lib.where(lib.tensor([[0, 1], [1, 0]]))
    assert dt(rows) == np.int64 and A(rows).tolist() == [0, 1] and A(cols).tolist() == [1, 0]


def test_clamp_function(lib):
    x = leaf(lib, [-2.0, -1.0, 0.5, 1.0, 3.0])
    out = lib.clamp(x, min=-1, max=1)
    assert A(out).tolist() == [-1, -1, 0.5, 1, 1]
    out.sum().backward()
    assert A(x.grad).tolist() == [0, 1, 1, 1, 0]  # passes where min <= x <= max
    assert A(lib.clamp(lib.tensor([-2.0, 3.0]), min=0)).tolist() == [0, 3]
    assert A(lib.clamp(lib.tensor([-2.0, 3.0]), None, 1)).tolist() == [-2, 1]
    assert dt(lib.clamp(lib.tensor([-2, 5]), 0, 3)) == np.int64


# --- reductions as functions --------------------------------------------------------------
# x = [[1, 5, 2], [7, 0, 3]]: row means 8/3 and 10/3; row variances (unbiased, n - 1 = 2):
# ((1-8/3)^2 + (5-8/3)^2 + (2-8/3)^2) / 2 = (25 + 49 + 4) / 18 = 13/3 and (121+100+1)/18 = 37/3

X = [[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]


@pytest.mark.parametrize("name, args, kwargs, expected", [
    ("sum", (), {}, 18),
    ("sum", (1,), {}, [8, 10]),
    ("sum", (), {"dim": 0, "keepdim": True}, [[8, 5, 5]]),
    ("sum", (), {"dim": (0, 1)}, 18),
    ("sum", (), {"axis": 1}, [8, 10]),                  # PyTorch accepts axis= too
    ("mean", (), {}, 3),
    ("mean", (), {"dim": 1}, [8 / 3, 10 / 3]),
    ("prod", (1,), {}, [10, 0]),
    ("var", (1,), {}, [13 / 3, 37 / 3]),                # unbiased by default
    ("std", (), {"dim": 1}, [math.sqrt(13 / 3), math.sqrt(37 / 3)]),
    ("var", (1,), {"unbiased": False}, [26 / 9, 74 / 9]),
    ("var", (1,), {"correction": 0}, [26 / 9, 74 / 9]),
    ("amax", (1,), {}, [5, 7]),
    ("amin", (), {"dim": 0}, [1, 0, 2]),
    ("max", (), {}, 7),
    ("min", (), {}, 0),
    ("argmax", (), {}, 3),                             # the flat index of 7
    ("argmax", (), {"dim": 1}, [1, 0]),
    ("argmax", (1,), {"keepdim": True}, [[1], [0]]),
    ("argmin", (), {"dim": 1}, [0, 1]),
    ("all", (), {}, False),                            # there is a 0
    ("any", (), {}, True),
    ("all", (), {"dim": 0}, [True, False, True]),
    ("norm", (), {}, math.sqrt(1 + 25 + 4 + 49 + 0 + 9)),
    ("norm", (), {"dim": 1}, [math.sqrt(30), math.sqrt(58)]),
    ("norm", (), {"p": 1}, 18),
])
def test_reductions_as_functions_and_methods(lib, name, args, kwargs, expected):
    x = lib.tensor(X, dtype=lib.float64)
    for out in (getattr(lib, name)(x, *args, **kwargs), getattr(x, name)(*args, **kwargs)):
        close(out, expected)
        assert A(out).shape == np.shape(expected)


def test_max_and_min_with_a_dim_as_functions_return_values_and_indices(lib):
    x = lib.tensor(X)
    values, indices = lib.max(x, dim=1)
    assert A(values).tolist() == [5, 7] and A(indices).tolist() == [1, 0]
    result = lib.min(x, 0, keepdim=True)
    assert A(result.values).tolist() == [[1, 0, 2]] and A(result.indices).tolist() == [[0, 1, 0]]
    assert A(lib.max(lib.tensor([1.0, 5.0]), lib.tensor([3.0, 2.0]))).tolist() == [3, 5]


# --- elementwise functions ----------------------------------------------------------------

@pytest.mark.parametrize("name, values, expected, grad", [
    ("sigmoid", [0.0, math.log(3)], [0.5, 0.75], [0.25, 0.75 * 0.25]),  # s (1 - s)
    ("tanh", [0.0], [0.0], [1.0]),                                        # 1 - tanh^2
    ("relu", [-1.0, 0.0, 2.0], [0, 0, 2], [0, 0, 1]),                     # 0 at the kink
    ("exp", [0.0, 1.0], [1, math.e], [1, math.e]),
    ("log", [1.0, 4.0], [0, math.log(4)], [1, 0.25]),
    ("abs", [-2.0, 0.0, 3.0], [2, 0, 3], [-1, 0, 1]),                     # sign, 0 at 0
    ("sqrt", [4.0, 9.0], [2, 3], [1 / 4, 1 / 6]),                         # 1 / (2 sqrt x)
])
def test_elementwise_functions_and_methods(lib, name, values, expected, grad):
    for fn in (getattr(lib, name), lambda x: getattr(x, name)()):
        out, g = value_and_grad(lib, fn, values)
        close(out, expected)
        close(g, grad)


# --- grad modes ---------------------------------------------------------------------------

def test_no_grad_context_records_nothing(lib):
    x = leaf(lib, [1.0])
    with lib.no_grad():
        y = x * 2
        assert not lib.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and lib.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_as_a_decorator_with_and_without_parentheses(lib):
    x = leaf(lib, [1.0])

    @lib.no_grad()
    def called():
        return (x * 2).requires_grad

    @lib.no_grad
    def bare():
        return (x * 2).requires_grad

    assert called() is False and bare() is False
    assert called.__name__ == "called" and bare.__name__ == "bare"
    assert lib.is_grad_enabled() and (x * 2).requires_grad


def test_a_no_grad_function_calling_itself_restores_grad_mode(lib):
    @lib.no_grad()
    def depth(n):
        return depth(n - 1) if n else lib.is_grad_enabled()

    assert depth(2) is False
    assert lib.is_grad_enabled()


def test_grad_mode_is_restored_when_the_block_raises(lib):
    with pytest.raises(KeyError):
        with lib.no_grad():
            raise KeyError
    assert lib.is_grad_enabled()


def test_enable_grad_inside_no_grad(lib):
    x = leaf(lib, [1.0])

    @lib.enable_grad()
    def recorded():
        return (x * 2).requires_grad

    with lib.no_grad():
        with lib.enable_grad():
            inside = x * 2
        assert recorded() is True
        after = x * 2
    assert inside.requires_grad and not after.requires_grad


def test_inference_mode(lib):
    x = leaf(lib, [1.0])
    with lib.inference_mode():
        assert not (x * 2).requires_grad
    with lib.inference_mode(False):
        assert (x * 2).requires_grad

    @lib.inference_mode()
    def predict():
        return (x * 2).requires_grad

    assert predict() is False and lib.is_grad_enabled()


def test_set_grad_enabled_called_as_a_function(lib):
    x = leaf(lib, [1.0])
    lib.set_grad_enabled(False)
    assert not lib.is_grad_enabled() and not (x * 2).requires_grad
    lib.set_grad_enabled(True)
    assert lib.is_grad_enabled() and (x * 2).requires_grad


@pytest.mark.parametrize("training", [True, False])
def test_set_grad_enabled_as_a_context_manager(lib, training):
    x = leaf(lib, [1.0])
    with lib.set_grad_enabled(training):  # the train/eval loop idiom
        assert (x * 2).requires_grad is training
        with lib.set_grad_enabled(not training):
            assert (x * 2).requires_grad is not training
        assert (x * 2).requires_grad is training
    assert lib.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator(lib):
    x = leaf(lib, [1.0])

    @lib.set_grad_enabled(False)
    def predict():
        return (x * 2).requires_grad

    assert lib.is_grad_enabled()  # decorating changes nothing yet
    assert predict() is False
    assert lib.is_grad_enabled()


# --- dtypes, devices, Size ----------------------------------------------------------------

@pytest.mark.parametrize("name, dtype", [
    ("float32", np.float32), ("float", np.float32), ("float64", np.float64),
    ("double", np.float64), ("float16", np.float16), ("half", np.float16),
    ("int64", np.int64), ("long", np.int64), ("int32", np.int32), ("int", np.int32),
    ("int16", np.int16), ("short", np.int16), ("int8", np.int8), ("uint8", np.uint8),
    ("bool", np.bool_),
])
def test_dtype_names(lib, name, dtype):
    t = lib.zeros(2, dtype=getattr(lib, name))
    assert dt(t) == dtype and t.dtype == getattr(lib, name)


def test_dtype_aliases_are_equal_and_tensors_compare_with_them(lib):
    assert lib.long == lib.int64 and lib.int == lib.int32 and lib.float == lib.float32
    assert lib.double == lib.float64 and lib.half == lib.float16 and lib.float32 != lib.float64
    assert lib.tensor([1.0]).dtype == lib.float32 and lib.tensor([1]).dtype == lib.long
    assert lib.get_default_dtype() == lib.float32
    assert lib.tensor([1.0]).is_floating_point() and not lib.tensor([1]).is_floating_point()
    assert lib.is_tensor(lib.zeros(1)) and not lib.is_tensor([1.0])


def test_device_cpu(lib):
    cpu = lib.device("cpu")
    assert cpu == lib.device("cpu") and cpu.type == "cpu" and cpu.index is None
    assert str(cpu) == "cpu" and cpu != lib.device("cuda")
    t = lib.zeros(2)
    assert t.device == cpu and t.device.type == "cpu" and t.is_cuda is False
    assert t.to(cpu).device == cpu and t.to("cpu").device == cpu


def test_a_cuda_device_can_be_named(lib):
    assert lib.device("cuda:1").type == "cuda" and lib.device("cuda:1").index == 1
    assert str(lib.device("cuda", 0)) == "cuda:0" and lib.device("cuda:0") == lib.device("cuda", 0)


def test_cuda_is_not_available_and_moving_there_raises(lib):
    assert lib.cuda.is_available() is False and lib.cuda.device_count() == 0
    device = "cuda" if lib.cuda.is_available() else "cpu"  # the usual idiom picks the CPU
    assert lib.zeros(2).to(device).device.type == "cpu"
    # minigrad: RuntimeError; PyTorch built without CUDA: AssertionError
    for move in (lambda: lib.zeros(2).to(lib.device("cuda")), lambda: lib.zeros(2).to("cuda"),
                 lambda: lib.zeros(2).cuda(), lambda: lib.zeros(2, device="cuda")):
        with pytest.raises((RuntimeError, AssertionError), match="(?i)cuda"):
            move()


def test_size(lib):
    x = lib.zeros(2, 3, 4)
    size = x.size()
    assert isinstance(size, lib.Size) and isinstance(size, tuple) and size == (2, 3, 4)
    assert x.size(1) == 3 and x.size(-1) == 4 and isinstance(x.size(0), int)
    assert x.numel() == 24 and x.dim() == 3 and x.ndim == 3 and size.numel() == 24
    assert lib.Size([2, 3]) == (2, 3) and lib.Size((2, 3)).numel() == 6
    assert lib.Size([]).numel() == 1 and list(lib.Size([2, 3])) == [2, 3]
    assert tuple(lib.zeros(lib.Size([2, 3])).shape) == (2, 3)
    assert isinstance(x.shape, lib.Size) and x.shape == x.size() and x.shape.numel() == 24


def test_sliced_and_joined_sizes_are_sizes(lib):
    size = lib.zeros(2, 3, 4).size()
    assert isinstance(size[1:], lib.Size) and size[1:] == (3, 4)
    assert isinstance(lib.Size([2]) + lib.Size([3]), lib.Size)


# ===========================================================================================
# Tensor methods
# ===========================================================================================

@pytest.mark.parametrize("fn, shape", [
    (lambda x: x.view(2, 3), (2, 3)),
    (lambda x: x.view((3, 2)), (3, 2)),
    (lambda x: x.view(-1, 2), (3, 2)),
    (lambda x: x.view(6), (6,)),
    (lambda x: x.reshape(2, 3), (2, 3)),
    (lambda x: x.reshape((1, -1)), (1, 6)),
])
def test_view_and_reshape(lib, fn, shape):
    x = lib.arange(6)
    out = fn(x)
    assert tuple(out.shape) == shape and A(out).ravel().tolist() == [0, 1, 2, 3, 4, 5]


def test_view_shares_memory_and_passes_the_gradient(lib):
    x = lib.arange(6)
    x.view(2, 3)[0, 0] = 9
    assert int(x[0]) == 9
    out, grad = value_and_grad(lib, lambda t: t.view(2, 2), [1.0, 2.0, 3.0, 4.0],
                               [[1.0, 2.0], [3.0, 4.0]])
    assert out.tolist() == [[1, 2], [3, 4]] and grad.tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("fn, shape", [
    (lambda x: x.flatten(), (120,)),
    (lambda x: x.flatten(1), (2, 60)),
    (lambda x: x.flatten(start_dim=1, end_dim=2), (2, 12, 5)),
    (lambda x: x.flatten(0, -2), (24, 5)),
    (lambda x: x.flatten(2, 2), (2, 3, 4, 5)),
    (lambda x: x.unflatten(1, (3, 1)), (2, 3, 1, 4, 5)),
    (lambda x: x.flatten(1).unflatten(1, (3, -1)), (2, 3, 20)),
    (lambda x: x.unflatten(-1, (5, 1)), (2, 3, 4, 5, 1)),
])
def test_flatten_and_unflatten(lib, fn, shape):
    x = lib.arange(120).reshape(2, 3, 4, 5)
    out = fn(x)
    assert tuple(out.shape) == shape and A(out).ravel().tolist() == list(range(120))


def test_flatten_of_a_0d_tensor_is_1d(lib):
    assert tuple(lib.tensor(1.0).flatten().shape) == (1,)


def test_permute(lib):
    x = lib.arange(6).view(1, 2, 3)
    # out[i, j, k] = x[j, k, i]
    assert A(x.permute(2, 0, 1)).tolist() == [[[0, 3]], [[1, 4]], [[2, 5]]]
    assert tuple(x.permute((1, 2, 0)).shape) == (2, 3, 1)
    assert tuple(x.permute(-1, 0, 1).shape) == (3, 1, 2)
    assert tuple(lib.permute(x, (2, 1, 0)).shape) == (3, 2, 1)
    _, grad = value_and_grad(lib, lambda t: t.permute(1, 0), [[1.0, 2.0]], [[1.0], [2.0]])
    assert grad.tolist() == [[1, 2]]


def test_transpose_swaps_two_dims(lib):
    x = lib.tensor([[1, 2, 3], [4, 5, 6]])
    assert A(x.transpose(0, 1)).tolist() == [[1, 4], [2, 5], [3, 6]]
    assert A(lib.transpose(x, 1, 0)).tolist() == [[1, 4], [2, 5], [3, 6]]
    assert A(x.T).tolist() == [[1, 4], [2, 5], [3, 6]] and A(x.t()).tolist() == A(x.T).tolist()
    assert tuple(lib.zeros(2, 3, 4).transpose(-1, -3).shape) == (4, 3, 2)
    assert tuple(lib.zeros(2, 3, 4).mT.shape) == (2, 4, 3)
    _, grad = value_and_grad(lib, lambda t: t.transpose(0, 1), [[1.0, 2.0]], [[3.0], [4.0]])
    assert grad.tolist() == [[3, 4]]


def test_contiguous_keeps_the_values(lib):
    x = lib.arange(6).view(2, 3).t()
    assert A(x.contiguous()).tolist() == [[0, 3], [1, 4], [2, 5]]
    y = lib.arange(6)
    assert A(y.contiguous()).tolist() == A(y).tolist()


def test_is_contiguous(lib):
    x = lib.arange(6).view(2, 3)
    assert x.is_contiguous() and x.t().contiguous().is_contiguous()


def test_expand(lib):
    assert A(lib.tensor([[1], [2]]).expand(2, 3)).tolist() == [[1, 1, 1], [2, 2, 2]]
    assert tuple(lib.tensor([1, 2]).expand(3, -1).shape) == (3, 2)  # -1 keeps a dim
    assert tuple(lib.zeros(3, 1).expand((2, 3, 4)).shape) == (2, 3, 4)  # new dims lead
    _, grad = value_and_grad(lib, lambda t: t.expand(3, 2), [[1.0, 2.0]])
    assert grad.tolist() == [[3, 3]]  # the three copies' gradients add up


def test_repeat(lib):
    assert A(lib.tensor([[1, 2]]).repeat(2, 2)).tolist() == [[1, 2, 1, 2], [1, 2, 1, 2]]
    assert A(lib.tensor([1, 2]).repeat((2,))).tolist() == [1, 2, 1, 2]
    assert tuple(lib.tensor([1, 2]).repeat(3, 1, 2).shape) == (3, 1, 4)
    _, grad = value_and_grad(lib, lambda t: t.repeat(2, 3), [[1.0, 2.0]])
    assert grad.tolist() == [[6, 6]]


@pytest.mark.parametrize("fn, expected", [
    (lambda x: x.chunk(3), [[0, 1, 2], [3, 4, 5], [6]]),    # pieces of ceil(7 / 3)
    (lambda x: x[:6].chunk(4), [[0, 1], [2, 3], [4, 5]]),   # ceil(6 / 4) = 2: 3 pieces
    (lambda x: x.split(3), [[0, 1, 2], [3, 4, 5], [6]]),
    (lambda x: x.split([1, 4, 2]), [[0], [1, 2, 3, 4], [5, 6]]),
    (lambda x: x.split(7), [[0, 1, 2, 3, 4, 5, 6]]),
])
def test_chunk_and_split(lib, fn, expected):
    assert [A(piece).tolist() for piece in fn(lib.arange(7))] == expected


def test_chunk_and_split_along_a_dim_pass_the_gradient(lib):
    x = lib.zeros(2, 5)
    assert [tuple(p.shape) for p in x.chunk(2, dim=1)] == [(2, 3), (2, 2)]
    assert [tuple(p.shape) for p in x.split(3, dim=1)] == [(2, 3), (2, 2)]
    assert [tuple(p.shape) for p in lib.split(x, [1, 4], 1)] == [(2, 1), (2, 4)]
    _, grad = value_and_grad(lib, lambda t: t.chunk(2)[1], [1.0, 2.0, 3.0, 4.0], [5.0, 6.0])
    assert grad.tolist() == [0, 0, 5, 6]


@pytest.mark.parametrize("method, dtype, expected", [
    ("float", np.float32, [1.7, -1.2, 0.0]),
    ("double", np.float64, [1.7, -1.2, 0.0]),
    ("half", np.float16, [1.7, -1.2, 0.0]),
    ("long", np.int64, [1, -1, 0]),          # truncation toward 0
    ("int", np.int32, [1, -1, 0]),
    ("bool", np.bool_, [True, True, False]),
])
def test_dtype_conversion_methods(lib, method, dtype, expected):
    t = getattr(lib.tensor([1.7, -1.2, 0.0], dtype=lib.float64), method)()
    assert dt(t) == dtype
    np.testing.assert_allclose(A(t).astype(np.float64), np.asarray(expected, np.float64),
                               rtol=1e-3)


def test_type_and_type_as(lib):
    x = lib.zeros(2)
    assert dt(x.type(lib.float64)) == np.float64
    assert dt(x.type_as(lib.zeros(1, dtype=lib.int64))) == np.int64


def test_to_a_dtype_a_device_or_another_tensor(lib):
    x = lib.zeros(2)
    assert dt(x.to(lib.float64)) == np.float64
    assert dt(x.to(lib.tensor([1]))) == np.int64
    assert dt(x.to("cpu", lib.float16)) == np.float16
    assert dt(x.to(device="cpu", dtype=lib.int32)) == np.int32
    assert dt(x.to(lib.device("cpu"), non_blocking=True)) == np.float32
    assert dt(x.to(dtype=lib.float64, memory_format=lib.preserve_format)) == np.float64
    assert x.to("cpu") is x and x.to(lib.float32) is x and x.cpu() is x  # nothing to change
    copy = x.to("cpu", copy=True)
    copy.add_(1)
    assert copy is not x and A(x).tolist() == [0, 0]


def test_to_a_dtype_passes_the_gradient_in_the_input_dtype(lib):
    x = lib.ones(2, requires_grad=True)  # float32
    (x.to(lib.float64) * 2).sum().backward()
    assert dt(x.grad) == np.float32 and A(x.grad).tolist() == [2, 2]


def test_float_of_a_float32_tensor_is_the_tensor_itself(lib):
    x = lib.zeros(2)
    assert x.float() is x


def test_integer_casts_of_a_tensor_that_requires_grad_leave_the_graph(lib):
    x = lib.tensor([1.7, -1.2], requires_grad=True)
    for method, expected in [("long", [1, -1]), ("int", [1, -1]), ("bool", [True, True])]:
        out = getattr(x, method)()
        assert not out.requires_grad and A(out).tolist() == expected


def test_detach_shares_the_values_outside_the_graph(lib):
    x = lib.ones(2, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d.zero_()
    assert A(x).tolist() == [0, 0]


def test_clone_copies_and_stays_in_the_graph(lib):
    x = lib.ones(2, requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c.requires_grad
    (c * 3).sum().backward()
    assert A(x.grad).tolist() == [3, 3]
    c = lib.zeros(2).clone()
    c.add_(1)
    assert A(c).tolist() == [1, 1]


def test_item_and_tolist(lib):
    assert lib.tensor(2.5).item() == 2.5 and type(lib.tensor(2.5).item()) is float
    assert type(lib.tensor([3]).item()) is int and lib.tensor([[3]]).item() == 3
    assert type(lib.tensor(True).item()) is bool
    assert lib.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert lib.tensor(1.5).tolist() == 1.5 and type(lib.tensor([1.5]).tolist()[0]) is float


def test_argmax_with_a_dim(lib):
    x = lib.tensor(X, requires_grad=True)
    assert A(x.argmax(1)).tolist() == [1, 0] and A(x.argmax(dim=0)).tolist() == [1, 0, 1]
    assert dt(x.argmax(1)) == np.int64 and not x.argmax(1).requires_grad
    assert int(x.argmax()) == 3


@pytest.mark.parametrize("compare, expected", [
    (lambda x: x == 2, [False, True, False]), (lambda x: x.eq(2), [False, True, False]),
    (lambda x: x != 2, [True, False, True]), (lambda x: x.ne(2), [True, False, True]),
    (lambda x: x < 2, [True, False, False]), (lambda x: x.lt(2), [True, False, False]),
    (lambda x: x > 2, [False, False, True]), (lambda x: x.gt(2), [False, False, True]),
    (lambda x: x <= 2, [True, True, False]), (lambda x: x.le(2), [True, True, False]),
    (lambda x: x >= 2, [False, True, True]), (lambda x: x.ge(2), [False, True, True]),
    (lambda x: x.eq(x.flip(0)), [False, True, False]),     # against a tensor
    (lambda x: (x > 1) & (x < 3), [False, True, False]),
    (lambda x: (x < 2) | (x > 2), [True, False, True]),
    (lambda x: ~(x == 2), [True, False, True]),
])
def test_comparisons_give_bool_tensors_outside_the_graph(lib, compare, expected):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = compare(x)
    assert dt(out) == np.bool_ and not out.requires_grad and A(out).tolist() == expected


def test_masked_fill(lib):
    mask = lib.tensor([True, False, True])
    out, grad = value_and_grad(lib, lambda x: x.masked_fill(mask, -1.0), [1.0, 2.0, 3.0])
    assert out.tolist() == [-1, 2, -1] and grad.tolist() == [0, 1, 0]
    scores = lib.zeros(2, 2).masked_fill(lib.tensor([[True], [False]]), float("-inf"))
    assert A(scores).tolist() == [[-math.inf, -math.inf], [0, 0]]  # the mask broadcasts


def test_gather(lib):
    # out[i][j] = x[i][index[i][j]]
    index = lib.tensor([[0, 0], [1, 0]])
    assert A(lib.tensor([[1, 2], [3, 4]]).gather(1, index)).tolist() == [[1, 1], [4, 3]]
    _, grad = value_and_grad(lib, lambda x: x.gather(1, index), [[1.0, 2.0], [3.0, 4.0]])
    assert grad.tolist() == [[2, 0], [1, 1]]  # repeated indices add up


def test_scatter_makes_a_one_hot_matrix_from_a_float_value(lib):
    y = lib.tensor([0, 3, 1])
    one_hot = lib.zeros(3, 4).scatter_(1, y.unsqueeze(1), 1.0)
    assert A(one_hot).tolist() == [[1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]]


def test_scatter_with_a_value_keyword_or_a_source_tensor(lib):
    y = lib.tensor([0, 3, 1])
    target = lib.zeros(3, 4)
    assert target.scatter_(1, y.unsqueeze(1), value=1.0) is target
    assert A(target).tolist() == [[1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]]
    # along dim 0: out[index[i][j]][j] = src[i][j]
    src = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = lib.zeros(3, 2).scatter_(0, lib.tensor([[2, 0], [0, 1]]), src)
    assert A(out).tolist() == [[3, 2], [0, 4], [1, 0]]


def test_softmax_and_log_softmax_along_a_dim(lib):
    x = [[0.0, 0.0], [0.0, math.log(3)]]
    # softmax of (0, log 3) is (1/4, 3/4); of (0, 0) is (1/2, 1/2)
    close(lib.tensor(x).softmax(1), [[0.5, 0.5], [0.25, 0.75]])
    close(lib.tensor(x).softmax(dim=-1), [[0.5, 0.5], [0.25, 0.75]])
    close(lib.tensor(x).softmax(0), [[0.5, 0.25], [0.5, 0.75]])
    close(lib.tensor(x).log_softmax(1), np.log([[0.5, 0.5], [0.25, 0.75]]))
    close(lib.softmax(lib.tensor(x), 1), [[0.5, 0.5], [0.25, 0.75]])
    # d softmax_0 / dx = (p0 (1 - p0), -p0 p1) = (3/16, -3/16) at p = (1/4, 3/4)
    _, grad = value_and_grad(lib, lambda t: t.softmax(0), [0.0, math.log(3)], [1.0, 0.0])
    close(grad, [3 / 16, -3 / 16])
    # d log_softmax_0 / dx = (1 - p0, -p1) = (3/4, -3/4)
    _, grad = value_and_grad(lib, lambda t: t.log_softmax(0), [0.0, math.log(3)], [1.0, 0.0])
    close(grad, [0.75, -0.75])


def test_softmax_needs_a_dim(lib):
    with pytest.raises(TypeError):
        lib.tensor([0.0, 0.0]).softmax()


def test_clamp_method(lib):
    x = lib.tensor([-2.0, 0.5, 3.0])
    assert A(x.clamp(-1, 1)).tolist() == [-1, 0.5, 1]
    assert A(x.clamp(min=0)).tolist() == [0, 0.5, 3] and A(x.clamp(max=0)).tolist() == [-2, 0, 0]
    assert A(x.clamp(min=lib.tensor([0.0, 1.0, 0.0]))).tolist() == [0, 1, 3]  # tensor bounds


def test_pow(lib):
    out, grad = value_and_grad(lib, lambda x: x.pow(3), [1.0, 2.0])
    assert out.tolist() == [1, 8] and grad.tolist() == [3, 12]  # 3 x^2
    assert A(lib.tensor([2.0, 3.0]).pow(lib.tensor([3.0, 0.0]))).tolist() == [8, 1]
    assert A(lib.tensor([2.0, 3.0]) ** 2).tolist() == [4, 9]
    assert A(2 ** lib.tensor([1.0, 3.0])).tolist() == [2, 8]
    assert dt(lib.tensor([2, 3]).pow(2)) == np.int64


def test_requires_grad_(lib):
    x = lib.zeros(2)
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    assert x.requires_grad_(False) is x and not x.requires_grad
    # PyTorch: RuntimeError; minigrad: TypeError (API.md)
    with pytest.raises((TypeError, RuntimeError), match="(?i)floating.point"):
        lib.tensor([1, 2]).requires_grad_()
    with pytest.raises((TypeError, RuntimeError), match="(?i)floating.point"):
        lib.tensor([1, 2], requires_grad=True)


def test_retain_grad_keeps_an_intermediate_gradient(lib):
    x = leaf(lib, [1.0, 2.0])
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    assert A(y.grad).tolist() == [4, 8]     # d sum(y^2) / dy = 2 y
    assert A(x.grad).tolist() == [8, 16]    # times dy/dx = 2
    assert x.grad_fn is None and y.grad_fn is not None


def test_grad_fn_and_next_functions_describe_the_graph(lib):
    x, w = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
    assert x.grad_fn is None and x.is_leaf
    y = x * 2
    z = (y + w).sum()
    assert not y.is_leaf and "Mul" in y.grad_fn.name()
    # x * 2: a leaf that requires grad (an AccumulateGrad holding it), then the constant
    (node, slot), (constant, _) = y.grad_fn.next_functions
    assert node.variable is x and slot == 0 and constant is None
    ((add, _),) = z.grad_fn.next_functions  # sum's one input: the add
    (mul, _), (accumulate, _) = add.next_functions
    assert mul is y.grad_fn and accumulate.variable is w
    assert lib.zeros(2).grad_fn is None and (lib.zeros(2) * 2).grad_fn is None


def test_max_with_a_dim_is_a_named_tuple_and_only_the_index_gets_the_gradient(lib):
    x = leaf(lib, X)
    result = x.max(1)
    values, indices = result
    assert result.values is values and result.indices is indices and result[0] is values
    assert A(values).tolist() == [5, 7] and A(indices).tolist() == [1, 0]
    assert dt(indices) == np.int64 and not indices.requires_grad
    values.sum().backward()
    assert A(x.grad).tolist() == [[0, 1, 0], [1, 0, 0]]
    low = lib.tensor(X).min(dim=1, keepdim=True)
    assert A(low.values).tolist() == [[1], [0]] and A(low.indices).tolist() == [[0], [1]]


def test_max_with_a_dim_and_ties_sends_the_gradient_to_one_element(lib):
    x = leaf(lib, [[1.0, 5.0, 5.0]])
    values, indices = x.max(dim=1)
    values.sum().backward()
    assert A(x.grad).sum() == 1 and A(x.grad)[0, int(indices[0])] == 1


def test_max_without_a_dim_shares_the_gradient_between_ties(lib):
    out, grad = value_and_grad(lib, lambda x: x.max(), [1.0, 3.0, 3.0])
    assert float(out) == 3 and grad.tolist() == [0, 0.5, 0.5]


def test_std_and_var_are_unbiased_by_default(lib):
    # [1, 2, 3, 4]: mean 2.5, squared deviations add up to 2.25 + 0.25 + 0.25 + 2.25 = 5
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64)
    close(x.var(), 5 / 3)
    close(x.std(), math.sqrt(5 / 3))
    close(x.var(unbiased=False), 5 / 4)
    close(x.std(correction=0), math.sqrt(5 / 4))
    # d var / dx = 2 (x - mean) / (n - 1)
    _, grad = value_and_grad(lib, lambda t: t.var(), [1.0, 2.0, 3.0, 4.0])
    close(grad, [-1, -1 / 3, 1 / 3, 1])


# --- one element as a Python number, len, iteration ---------------------------------------

@pytest.mark.parametrize("convert, expected", [
    (lambda L: bool(L.Tensor([0.0])), False),
    (lambda L: bool(L.tensor([0.0])), False),
    (lambda L: bool(L.tensor(0.5)), True),
    (lambda L: bool(L.tensor([[1]])), True),
    (lambda L: int(L.tensor([2.7])), 2),
    (lambda L: int(L.tensor(-2.7)), -2),        # truncation toward 0
    (lambda L: float(L.tensor([[1.5]])), 1.5),
    (lambda L: float(L.tensor(3)), 3.0),
    (lambda L: [10, 20, 30][L.tensor(1)], 20),  # __index__
    (lambda L: [10, 20, 30][L.tensor([2])], 30),
    (lambda L: operator.index(L.tensor([2])), 2),
    (lambda L: list(range(L.tensor(3))), [0, 1, 2]),
])
def test_one_element_converts_to_a_python_number(lib, convert, expected):
    result = convert(lib)
    assert result == expected and type(result) is type(expected)


def test_bool_of_many_elements_is_ambiguous(lib):
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(lib.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        if lib.tensor([0.0, 0.0]) > 1:
            pass
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(lib.tensor([]))


def test_index_of_a_float_or_of_many_elements_raises(lib):
    with pytest.raises(TypeError):
        operator.index(lib.tensor(2.0))
    with pytest.raises(TypeError):
        operator.index(lib.tensor([1, 2]))


def test_len_and_iteration_go_over_the_first_dim(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(x) == 3 and len(lib.zeros(0, 2)) == 0
    rows = list(x)
    assert len(rows) == 3 and all(tuple(r.shape) == (2,) for r in rows)
    assert [A(r).tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    assert [float(v) for v in lib.tensor([1.0, 2.0])] == [1.0, 2.0]
    assert 2 in lib.tensor([1, 2]) and 5 not in lib.tensor([1, 2])
    with pytest.raises(TypeError):
        len(lib.tensor(2.0))
    with pytest.raises(TypeError):
        iter(lib.tensor(2.0))


# ===========================================================================================
# In-place ops with PyTorch's safety
# ===========================================================================================
# (op, values after it on t = [1, 2, 3], x.grad after it on y = x * 1 with
#  sum(y * [1, 10, 100]).backward(): the op's derivative times the weights)

INPLACE = {
    "zero_": (lambda t, L: t.zero_(), [0, 0, 0], [0, 0, 0]),
    "fill_": (lambda t, L: t.fill_(2.0), [2, 2, 2], [0, 0, 0]),
    "copy_": (lambda t, L: t.copy_(L.tensor([4.0, 5.0, 6.0])), [4, 5, 6], [0, 0, 0]),
    "copy_ broadcast": (lambda t, L: t.copy_(L.tensor(7.0)), [7, 7, 7], [0, 0, 0]),
    "add_ alpha": (lambda t, L: t.add_(L.tensor([1.0, 1.0, 1.0]), alpha=2), [3, 4, 5],
                   [1, 10, 100]),
    "add_ number": (lambda t, L: t.add_(1), [2, 3, 4], [1, 10, 100]),
    "sub_": (lambda t, L: t.sub_(1), [0, 1, 2], [1, 10, 100]),
    "sub_ alpha": (lambda t, L: t.sub_(L.tensor([1.0, 1.0, 1.0]), alpha=0.5), [0.5, 1.5, 2.5],
                   [1, 10, 100]),
    "mul_": (lambda t, L: t.mul_(2), [2, 4, 6], [2, 20, 200]),
    "div_": (lambda t, L: t.div_(2), [0.5, 1, 1.5], [0.5, 5, 50]),
    "clamp_": (lambda t, L: t.clamp_(1.5, 2.5), [1.5, 2, 2.5], [0, 10, 0]),
    "clamp_ min": (lambda t, L: t.clamp_(min=2), [2, 2, 3], [0, 10, 100]),
    "masked_fill_": (lambda t, L: t.masked_fill_(L.tensor([True, False, True]), 0.0),
                     [0, 2, 0], [0, 10, 0]),
    "t[0] = 9": (lambda t, L: t.__setitem__(0, 9.0), [9, 2, 3], [0, 10, 100]),
    "t[1:] = tensor": (lambda t, L: t.__setitem__(slice(1, None), L.tensor([5.0, 6.0])),
                       [1, 5, 6], [1, 0, 0]),
    "t[mask] = 0": (lambda t, L: t.__setitem__(L.tensor([False, True, True]), 0.0),
                    [1, 0, 0], [1, 0, 0]),
    "+=": (lambda t, L: operator.iadd(t, 1), [2, 3, 4], [1, 10, 100]),
    "-=": (lambda t, L: operator.isub(t, 1), [0, 1, 2], [1, 10, 100]),
    "*=": (lambda t, L: operator.imul(t, 2), [2, 4, 6], [2, 20, 200]),
    "/=": (lambda t, L: operator.itruediv(t, 2), [0.5, 1, 1.5], [0.5, 5, 50]),
}
RANDOM_INPLACE = {
    "normal_": lambda t, L: t.normal_(),
    "uniform_": lambda t, L: t.uniform_(),
}
ALL_INPLACE = {**{k: v[0] for k, v in INPLACE.items()}, **RANDOM_INPLACE}


@pytest.mark.parametrize("op, values", [v[:2] for v in INPLACE.values()], ids=INPLACE.keys())
def test_inplace_ops_write_into_the_tensor_and_count_a_version(lib, op, values):
    t = lib.tensor([1.0, 2.0, 3.0])
    assert t._version == 0
    result = op(t, lib)
    assert result is None or result is t  # methods return the tensor itself
    assert A(t).tolist() == values and t._version == 1 and dt(t) == np.float32


def test_normal_and_uniform_fill_with_the_distribution_asked_for(lib):
    lib.manual_seed(0)
    t = lib.empty(20000)
    assert t.normal_(2.0, 3.0) is t and dt(t) == np.float32
    assert abs(float(t.mean()) - 2.0) < 0.1 and abs(float(t.std()) - 3.0) < 0.1
    assert t.uniform_(-1, 3) is t
    assert A(t).min() >= -1 and A(t).max() < 3 and abs(float(t.mean()) - 1.0) < 0.05


@pytest.mark.parametrize("op", ALL_INPLACE.values(), ids=ALL_INPLACE.keys())
def test_inplace_ops_under_no_grad_write_into_a_leaf_that_requires_grad(lib, op):
    w = leaf(lib, [1.0, 2.0, 3.0])
    before = A(w).copy()
    with lib.no_grad():
        op(w, lib)
    assert not np.array_equal(A(w), before)
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    (w * 2).sum().backward()  # still a usable leaf
    assert A(w.grad).tolist() == [2, 2, 2]


@pytest.mark.parametrize("op", ALL_INPLACE.values(), ids=ALL_INPLACE.keys())
def test_inplace_ops_on_a_leaf_that_requires_grad_raise(lib, op):
    w = leaf(lib, [1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        op(w, lib)


def test_scatter_into_a_leaf_that_requires_grad_raises(lib):
    w = lib.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.scatter_(1, lib.tensor([[0], [1]]), lib.ones(2, 1))


@pytest.mark.parametrize("op, grad", [(v[0], v[2]) for v in INPLACE.values()],
                         ids=INPLACE.keys())
def test_inplace_ops_on_a_non_leaf_rebase_the_graph(lib, op, grad):
    x = leaf(lib, [1.0, 2.0, 3.0])
    y = x * 1
    op(y, lib)
    assert y.grad_fn is not None and y._version == 1
    (y * lib.tensor([1.0, 10.0, 100.0], dtype=lib.float64)).sum().backward()
    assert A(x.grad).tolist() == grad


def test_add_into_a_product_gives_the_sum_of_both_paths(lib):
    x = leaf(lib, [1.0, 2.0])
    y = x * 2
    y.add_(x)  # y = 3 x
    y.sum().backward()
    assert A(y).tolist() == [3, 6] and A(x.grad).tolist() == [3, 3]


def test_mul_by_the_input_in_place_uses_the_old_values(lib):
    x = leaf(lib, [1.0, 2.0])
    y = x * 1
    y.mul_(x)  # y = x^2: d/dx = 2 x needs y's value before the write
    y.sum().backward()
    assert A(y).tolist() == [1, 4] and A(x.grad).tolist() == [2, 4]


def exp_then_scale_its_output(x):
    y = x.exp()  # exp saves its output
    y.mul_(2)
    return y


def sigmoid_then_scale_its_output(x):
    z = x.sigmoid()  # sigmoid saves its output
    z.mul_(2)
    return z


def log_then_shift_its_input(x):
    y = x * 1
    z = y.log()  # log saves its input
    y.add_(1)
    return z


def square_then_overwrite_its_input(x):
    y = x * 1
    z = y * y  # mul saves both inputs
    y[:] = 5.0  # the silent hazard: the gradient would use 5, not x
    return z


def square_then_overwrite_one_element(x):
    y = x * 1
    z = y * y
    y[0] = 5.0
    return z


MODIFIED_SAVED = [exp_then_scale_its_output, sigmoid_then_scale_its_output,
                  log_then_shift_its_input, square_then_overwrite_its_input,
                  square_then_overwrite_one_element]


@pytest.mark.parametrize("forward", MODIFIED_SAVED, ids=lambda f: f.__name__)
def test_modifying_a_tensor_saved_for_backward_raises_at_backward(lib, forward):
    x = leaf(lib, [0.5, 1.0])
    out = forward(x)  # the in-place write itself is allowed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_modifying_an_input_that_was_not_saved_is_fine(lib):
    x = leaf(lib, [0.0])
    y = x * 1
    z = y.sigmoid()  # sigmoid saves its output, not y
    y.add_(1)
    z.sum().backward()
    assert A(x.grad).tolist() == [0.25]  # sigmoid'(0) = 1/4, at the value before the write


def test_version_counter_counts_writes_through_views(lib):
    x = lib.zeros(3)
    assert x._version == 0
    x.add_(1)
    x[0] = 5
    assert x._version == 2
    view = x[1:]
    view.mul_(2)  # a view shares its base's counter
    assert x._version == 3 and view._version == 3 and A(x).tolist() == [5, 2, 2]
    with lib.no_grad():
        x.zero_()  # writes under no_grad count too
    x += 1
    assert x._version == 5 and (x + 1)._version == 0


def test_writes_under_no_grad_are_seen_through_views(lib):
    base = lib.zeros(2, 3)
    row = base[0]
    base.fill_(2.0)
    assert A(row).tolist() == [2, 2, 2]
    row.add_(1)
    assert A(base).tolist() == [[3, 3, 3], [2, 2, 2]]
    w = lib.ones(2, 3, requires_grad=True)
    with lib.no_grad():
        flat = w.view(6)
        w.mul_(3)
    assert A(flat).tolist() == [3] * 6 and w.is_leaf and w.requires_grad


def test_setitem_with_a_value_that_requires_grad_gives_it_the_gradient(lib):
    t = lib.zeros(3)
    v = lib.tensor(2.0, requires_grad=True)
    t[1] = v
    assert t.requires_grad and not t.is_leaf and A(t).tolist() == [0, 2, 0]
    (t * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert float(v.grad) == 2.0
    x = leaf(lib, [1.0, 2.0, 3.0])
    y = x * 1
    u = leaf(lib, [5.0, 6.0])
    y[0:2] = u
    (y * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
    assert A(y).tolist() == [5, 6, 3]
    assert A(u.grad).tolist() == [1, 2] and A(x.grad).tolist() == [0, 0, 3]


def test_inplace_op_on_a_view_of_a_non_leaf_rebases_its_base(lib):
    x = leaf(lib, [[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    y[:, :1] *= 3
    y.sum().backward()
    assert A(y).tolist() == [[3, 2], [9, 4]] and A(x.grad).tolist() == [[3, 1], [3, 1]]


def test_optimizer_style_update_through_data_under_no_grad(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()  # grad 2 w = [2, 4]
    with lib.no_grad():
        w.data -= 0.1 * w.grad  # minigrad: ndarrays; PyTorch: tensors; the same line
    np.testing.assert_allclose(A(w), [0.8, 1.6], rtol=1e-6)
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_inplace_ops_keep_the_dtype_and_shape(lib):
    t = lib.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        t.add_(0.5)  # an int64 tensor cannot hold the float result
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        lib.zeros(2).add_(lib.zeros(3, 2))


# ===========================================================================================
# PyTorch wins where NumPy and PyTorch disagree
# ===========================================================================================

def test_the_silent_numpy_hazards_are_gone(lib):
    assert bool(lib.Tensor([0.0])) is False                        # NumPy-ish: True
    assert A(lib.tensor([[1, 2], [3, 4]]).transpose(0, 1)).tolist() == [[1, 3], [2, 4]]
    assert lib.zeros(2, 3).size() == (2, 3) and lib.zeros(2, 3).size(1) == 3
    close(lib.tensor([1.0, 2.0, 3.0, 4.0]).std(), math.sqrt(5 / 3))  # NumPy: ddof=0
    assert len(lib.tensor([[1.0, 5.0]]).max(1)) == 2                # (values, indices)
    assert dt(lib.Tensor([0, 1])) == np.float32 and dt(lib.tensor([0, 1])) == np.int64
    assert dt(lib.tensor([0.5])) == np.float32                       # NumPy: float64


PROMOTION = [
    ("float32 * 2", lambda L: L.zeros(2) * 2, np.float32),
    ("float32 * 2.5", lambda L: L.zeros(2) * 2.5, np.float32),
    ("float16 + 1.0", lambda L: L.zeros(2, dtype=L.float16) + 1.0, np.float16),
    ("float64 * 2.5", lambda L: L.zeros(2, dtype=L.float64) * 2.5, np.float64),
    ("int64 * 2", lambda L: L.tensor([1, 2]) * 2, np.int64),
    ("int64 // 2", lambda L: L.tensor([7]) // 2, np.int64),
    ("bool + 1", lambda L: L.tensor([True]) + 1, np.int64),
    ("float32 @ float32", lambda L: L.ones(2, 2) @ L.ones(2), np.float32),
    ("int64 / 2", lambda L: L.tensor([1, 2]) / 2, np.float32),
    ("int64 / int64", lambda L: L.tensor([1, 2]) / L.tensor([2, 2]), np.float32),
    ("int64 * 0.5", lambda L: L.tensor([1, 2]) * 0.5, np.float32),
    ("int64 + float32", lambda L: L.tensor([1, 2]) + L.tensor([0.5]), np.float32),
    ("float32 + int64", lambda L: L.ones(2) + L.tensor([1, 2]), np.float32),
    ("float32 + 0-d float64", lambda L: L.zeros(2) + L.tensor(1.0, dtype=L.float64), np.float32),
    ("sqrt(int64)", lambda L: L.sqrt(L.tensor([4])), np.float32),
    ("exp(int64)", lambda L: L.tensor([0]).exp(), np.float32),
    ("int64.masked_fill(0.5)", lambda L: L.tensor([1, 2]).masked_fill(L.tensor([True, False]),
                                                                      0.5), np.int64),
    ("clamp(int64, 0.5, 3)", lambda L: L.clamp(L.tensor([-2, 5]), 0.5, 3), np.float32),
]
@pytest.mark.parametrize("case, make, dtype", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_result_dtypes_follow_pytorchs_promotion(lib, case, make, dtype):
    assert dt(make(lib)) == dtype


ERRORS = [
    ("cat of mismatched shapes", lambda L: L.cat([L.zeros(2, 3), L.zeros(3, 2)]), RuntimeError),
    ("stack of unequal shapes", lambda L: L.stack([L.zeros(2), L.zeros(3)]), RuntimeError),
    ("view to a wrong size", lambda L: L.zeros(2, 3).view(4), RuntimeError),
    ("dim out of range", lambda L: L.zeros(2, 3).sum(dim=2), IndexError),
    ("size(d) out of range", lambda L: L.zeros(2, 3).size(2), IndexError),
    ("clamp without bounds", lambda L: L.clamp(L.tensor([1.0])), RuntimeError),
    ("int negative power", lambda L: L.tensor([2, 3]).pow(-1), RuntimeError),
    ("int() of many", lambda L: int(L.tensor([1, 2])), ValueError),
    ("float() of many", lambda L: float(L.tensor([1.0, 2.0])), ValueError),
    ("item() of many", lambda L: L.tensor([1.0, 2.0]).item(), RuntimeError),
    ("bool() of many", lambda L: bool(L.tensor([1.0, 2.0])), RuntimeError),
    ("index of a float", lambda L: operator.index(L.tensor(2.0)), TypeError),
    ("len of 0-d", lambda L: len(L.tensor(2.0)), TypeError),
    ("from_numpy of a list", lambda L: L.from_numpy([1.0]), TypeError),
    ("softmax without dim", lambda L: L.tensor([1.0]).softmax(), TypeError),
    ("add_ that broadcasts out", lambda L: L.zeros(2).add_(L.zeros(3, 2)), RuntimeError),
    ("float add_ into int", lambda L: L.tensor([1, 2]).add_(0.5), RuntimeError),
    ("in-place on a leaf", lambda L: L.ones(2, requires_grad=True).mul_(2), RuntimeError),
    ("mean of int", lambda L: L.tensor([1, 2]).mean(), RuntimeError),
    ("backward of non-scalar", lambda L: (L.ones(2, requires_grad=True) * 2).backward(),
     RuntimeError),
    ("backward without a graph", lambda L: L.ones(2).sum().backward(), RuntimeError),
]
@pytest.mark.parametrize("case, fn, error", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_raises_pytorchs_error_type(lib, case, fn, error):
    with pytest.raises(error):
        fn(lib)


# ===========================================================================================
# Direct comparison with PyTorch on random input
# ===========================================================================================

METHODS = {
    "softmax(1)": lambda x, L: x.softmax(1),
    "log_softmax(0)": lambda x, L: x.log_softmax(0),
    "std(1)": lambda x, L: x.std(1),
    "var(0, keepdim)": lambda x, L: x.var(0, keepdim=True),
    "norm(dim=1)": lambda x, L: x.norm(dim=1),
    "sum((0, 1))": lambda x, L: x.sum((0, 1)),
    "mean(1)": lambda x, L: x.mean(1),
    "prod(1)": lambda x, L: x.prod(1),
    "amax(0)": lambda x, L: x.amax(0),
    "max(1).values": lambda x, L: x.max(1).values,
    "min(0).values": lambda x, L: x.min(0).values,
    "clamp": lambda x, L: x.clamp(-0.5, 0.5),
    "pow(3)": lambda x, L: x.pow(3),
    "abs": lambda x, L: x.abs(),
    "exp": lambda x, L: x.exp(),
    "log": lambda x, L: (x.abs() + 0.1).log(),
    "sqrt": lambda x, L: (x.abs() + 0.1).sqrt(),
    "sigmoid": lambda x, L: x.sigmoid(),
    "tanh": lambda x, L: x.tanh(),
    "relu": lambda x, L: x.relu(),
    "gather": lambda x, L: x.gather(1, L.tensor([[3, 0], [1, 1], [2, 0]])),
    "masked_fill": lambda x, L: x.masked_fill(x > 0, 0.0),
    "expand": lambda x, L: x[:, :1].expand(3, 5),
    "repeat": lambda x, L: x.repeat(2, 1),
    "transpose": lambda x, L: x.transpose(0, 1),
    "permute": lambda x, L: x.unsqueeze(0).permute(2, 0, 1),
    "flatten": lambda x, L: x.flatten(),
    "unflatten": lambda x, L: x.unflatten(1, (2, 2)),
    "view": lambda x, L: x.view(2, 6),
    "T": lambda x, L: x.T,
    "chunk": lambda x, L: x.chunk(2, dim=1)[1],
    "split": lambda x, L: x.split([1, 3], dim=1)[1],
    "cat": lambda x, L: L.cat([x, x * x], dim=1),
    "stack": lambda x, L: L.stack([x, x.exp()], dim=-1),
    "where": lambda x, L: L.where(x > 0, x, x * x),
    "in-place chain": lambda x, L: (lambda y: y.mul_(x).add_(1).clamp_(max=2.0))(x * 2),
}


@pytest.mark.parametrize("fn", METHODS.values(), ids=METHODS.keys())
def test_methods_match_torch_on_random_input(fn):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((3, 4))
    runs = []
    for L in (minigrad, torch):
        x = L.tensor(values, requires_grad=True)
        runs.append((L, x, fn(x, L)))
    weights = np.random.default_rng(1).standard_normal(tuple(runs[0][2].shape))
    for L, x, out in runs:
        (out * L.tensor(weights)).sum().backward()
    (_, mg_x, mg_out), (_, th_x, th_out) = runs
    assert dt(mg_out) == dt(th_out) == np.float64 and A(mg_out).shape == A(th_out).shape
    np.testing.assert_allclose(A(mg_out), A(th_out), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A(mg_x.grad), A(th_x.grad), rtol=1e-12, atol=1e-12)


# ===========================================================================================
# Submodule imports
# ===========================================================================================

REACHABLE = ["nn", "nn.functional", "nn.init", "nn.parallel", "nn.parallel.DataParallel",
             "optim", "optim.lr_scheduler", "optim.lr_scheduler.StepLR", "utils.data",
             "utils.data.DataLoader", "utils.data.TensorDataset", "amp", "amp.autocast",
             "amp.GradScaler", "cuda.amp", "cuda.amp.GradScaler", "backends.cudnn", "cuda"]
SPELLINGS = """
import {L}.utils.data
import {L}.nn.functional as F
import {L}.nn.init
import {L}.optim.lr_scheduler
import {L}.nn.parallel
import {L}.backends.cudnn
import {L}.amp
import {L}.cuda.amp
from {L}.utils.data import DataLoader, Dataset, TensorDataset, random_split, Subset
from {L}.utils.data import ConcatDataset
from {L}.nn import functional, init, parallel
from {L}.nn.parallel import DataParallel
from {L}.optim import lr_scheduler
from {L}.optim.lr_scheduler import StepLR
from {L}.backends import cudnn
from {L}.amp import autocast, GradScaler
from {L}.cuda.amp import autocast, GradScaler
from {L}.cuda import amp
from {L} import nn, optim
assert F is torch.nn.functional and DataLoader is torch.utils.data.DataLoader
"""


def test_submodules_are_reachable_after_a_bare_import_and_import_by_their_torch_paths(lib):
    """In a fresh interpreter: `import L as torch` alone makes every submodule an attribute,
    then each import spelling that PyTorch code uses resolves."""
    name = lib.__name__
    script = (f"import functools\nimport {name} as torch\n"
              f"for path in {REACHABLE!r}:\n"
              f"    functools.reduce(getattr, path.split('.'), torch)\n"
              + SPELLINGS.format(L=name))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr

