"""NumPy reference kernels: the specification of every kernel, written to be read.

Each function here has a twin of the same name and signature in `jit.py`.
"""
