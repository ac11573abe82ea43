"""PyTorch's dtype names, as NumPy dtypes: `t.dtype == mg.float32` compares as in PyTorch."""
import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)  # noqa: A001  (PyTorch's names, shadowing on purpose)
float64 = double = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)  # noqa: A001
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001
complex64 = cfloat = np.dtype(np.complex64)
complex128 = cdouble = np.dtype(np.complex128)

_default = float32


def get_default_dtype():
    """The dtype of floating-point tensors made from Python numbers (float32 at start)."""
    return _default


def set_default_dtype(dtype):
    global _default
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point dtypes, got {dtype}")
    _default = dtype
