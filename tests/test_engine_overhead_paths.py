"""The engine's fast paths (issue 14): each must give exactly what the general path gives.

- `elementwise.promote` answers a Python number beside a tensor without `result_type`;
- `Function.apply` walks its inputs in one loop (constants wrapped, parents and
  needs_input_grad recorded only when a gradient flows);
- `Tensor.backward` sends gradients along the graph (accumulation over several paths,
  constants skipped, dtypes and shapes kept).

Expected dtypes are PyTorch's rule (checked against PyTorch when it is installed), expected
values are worked by hand in the comments.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad.ops import elementwise

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]
NUMBERS = [True, 3, 2.5]  # (complex numbers: see test_complex_number_beside_a_tensor)


def pytorch_rule(dtype, number):
    """The dtype PyTorch gives `tensor(dtype) op number`: the tensor's dtype unless the number
    is of a higher category (bool < int < float), then that category's default dtype."""
    category = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    number_category, default = {bool: (0, "bool"), int: (1, "int64"),
                                float: (2, "float32")}[type(number)]
    return dtype if number_category <= category[np.dtype(dtype).kind] else default


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("number", NUMBERS, ids=repr)
@pytest.mark.parametrize("shape", [(), (2,)], ids=["0-d", "1-d"])
def test_number_beside_a_tensor_promotes_as_pytorch(dtype, number, shape):
    tensor = mg.zeros(shape, dtype=getattr(mg, dtype))
    expected = np.dtype(pytorch_rule(dtype, number))
    for a, b in ((tensor, number), (number, tensor)):
        left, right = elementwise.promote(a, b)
        assert left.dtype == right.dtype == expected
        assert elementwise.result_type(a, b) == expected  # the general path agrees
    assert (tensor + number).dtype == (number * tensor).dtype == expected


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("number", NUMBERS, ids=repr)
def test_number_promotion_matches_torch(dtype, number):
    torch = pytest.importorskip("torch")
    for shape in ((), (2,)):
        ours = mg.zeros(shape, dtype=getattr(mg, dtype)) + number
        theirs = torch.zeros(shape, dtype=getattr(torch, dtype)) + number
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


# A complex number beside a tensor: complex64, or complex128 beside float64 (PyTorch gives
# the complex dtype of a float tensor's precision). float16 would give PyTorch's complex32,
# which NumPy and so minigrad do not have: complex64 is the nearest wider dtype.
COMPLEX_RULE = {"bool": "complex64", "int64": "complex64", "float16": "complex64",
                "float32": "complex64", "float64": "complex128", "complex64": "complex64",
                "complex128": "complex128"}


@pytest.mark.parametrize("dtype", COMPLEX_RULE)
@pytest.mark.parametrize("shape", [(), (2,)], ids=["0-d", "1-d"])
def test_complex_number_beside_a_tensor(dtype, shape):
    tensor = mg.zeros(shape, dtype=getattr(mg, dtype))
    assert (tensor * 1j).dtype == (1j + tensor).dtype == np.dtype(COMPLEX_RULE[dtype])
    torch = pytest.importorskip("torch")
    if dtype != "float16":
        theirs = torch.zeros(shape, dtype=getattr(torch, dtype)) * 1j
        assert str(theirs.dtype) == f"torch.{COMPLEX_RULE[dtype]}"


@pytest.mark.parametrize("float_shape, float_dtype, complex_shape, complex_dtype, expected", [
    ((2,), "float64", (2,), "complex64", "complex128"),  # equal rank: the wider of the two
    ((2,), "float32", (), "complex128", "complex64"),  # a 0-d complex takes the float's
    ((), "float64", (2,), "complex64", "complex64"),  # a 0-d float does not widen
])
def test_float_and_complex_tensors_promote_as_pytorch(float_shape, float_dtype, complex_shape,
                                                      complex_dtype, expected):
    a = mg.zeros(float_shape, dtype=getattr(mg, float_dtype))
    b = mg.zeros(complex_shape, dtype=getattr(mg, complex_dtype))
    assert (a + b).dtype == (b * a).dtype == np.dtype(expected)
    torch = pytest.importorskip("torch")
    theirs = (torch.zeros(float_shape, dtype=getattr(torch, float_dtype))
              + torch.zeros(complex_shape, dtype=getattr(torch, complex_dtype)))
    assert str(theirs.dtype) == f"torch.{expected}"


def test_numpy_scalars_are_not_python_numbers():
    # a NumPy float64 ranks as a 0-d array: beside a 0-d float32 tensor the wider dtype wins
    # (torch.tensor(1., dtype=float32) + torch.tensor(2., dtype=float64) is float64)
    assert (mg.zeros((), dtype=mg.float32) + np.float64(2.0)).dtype == np.float64
    # beside a tensor with dims it does not
    assert (mg.zeros(2, dtype=mg.float32) + np.float64(2.0)).dtype == np.float32


def test_number_values_are_exact_in_the_tensors_dtype():
    # 0.1 in float32 is 0.100000001490116..., so y * 0.1 is the float32 product
    y = mg.tensor([3.0])
    np.testing.assert_array_equal((y * 0.1).data, np.float32(3.0) * np.float32(0.1))
    assert (1 - mg.tensor([2], dtype=mg.int16)).data.tolist() == [-1]


def test_apply_wraps_constants_and_records_parents_only_for_gradients():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])
    out = elementwise.Mul.apply(x, np.array([3.0, 4.0], dtype=np.float32))  # ndarray input
    assert out.requires_grad and out.grad_fn.parents == (x, None)
    assert out.grad_fn.needs_input_grad == (True, False)
    np.testing.assert_array_equal(out.data, [3.0, 8.0])
    constant = elementwise.Mul.apply(c, c)  # nothing requires grad: no graph
    assert not constant.requires_grad and constant.grad_fn is None
    with mg.no_grad():
        assert elementwise.Mul.apply(x, c).grad_fn is None
    # a computed input's parent is the Function that computed it
    y = x * c
    z = elementwise.Add.apply(c, y)
    assert z.grad_fn.parents == (None, y.grad_fn) and z.grad_fn.needs_input_grad == (False, True)


@given(st.integers(1, 40), st.sampled_from(["tensor", "number"]))
def test_backward_of_a_chain_is_the_product_of_its_factors(n_ops, operand):
    # y = ((x * a + b) * a + b) ...: dy/dx = a ** n, whatever b is
    a, b = 0.5, 0.25
    x = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
    if operand == "tensor":
        a, b = mg.tensor(a, dtype=mg.float64), mg.tensor(b, dtype=mg.float64)
    y = x
    for _ in range(n_ops):
        y = y * a + b
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.5 ** n_ops] * 2, rtol=1e-12)
    assert x.grad.dtype == np.float64


def test_gradients_of_several_paths_add_up_and_keep_the_leafs_dtype():
    # z = x*x + 3x + x: dz/dx = 2x + 4 = [6, 8] at x = [1, 2]
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x + 3 * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 8.0])
    assert x.grad.dtype == np.float32
    # a broadcast input's gradient is summed back to its shape: d/dw sum(w * m) = sum over
    # rows of m = [4, 6] for m = [[1, 2], [3, 4]]
    w = mg.tensor([1.0, 1.0], requires_grad=True)
    (w * mg.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(w.grad, [4.0, 6.0])


def test_zero_dim_gradients_from_two_paths_are_arrays():
    # z = 3x, w = z*z + z: dw/dz = 2z + 1 = 13 at x = 2 (z = 6), dw/dx = 3 * 13 = 39; the
    # sum of the two 0-d gradients reaching z is an array for its hook as for every other
    x = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
    z = x * 3
    seen = []
    z.register_hook(lambda grad: seen.append(grad))
    z.retain_grad()
    (z * z + z).backward()
    assert type(seen[0]) is np.ndarray and seen[0].shape == () and seen[0] == 13.0
    assert type(z.grad) is np.ndarray and z.grad == 13.0
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad == 39.0
