"""The BLAS thread policy (minigrad/kernels/blas.py): the counts it picks at hand-worked
sizes, that it only ever lowers the library's count for one call and restores it, that it
respects a user's limit, its switch, and that the ops give the same results with it on and
off. The library is a recording fake where the test asserts what would be set, the real one
(through threadpoolctl) where it asserts numbers."""
import os
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import minigrad as mg
import minigrad.functional as F
from minigrad.kernels import blas


class FakeLibrary:
    """A threadpoolctl library controller that records the counts set on it."""

    def __init__(self, threads):
        self.threads = threads
        self.set_calls = []

    def get_num_threads(self):
        return self.threads

    def set_num_threads(self, threads):
        self.set_calls.append(threads)
        self.threads = threads


THRESHOLD = 2 * 2**22  # 8,388,608 flops: (64x64) @ (64x1024)


@pytest.fixture
def policy_on(monkeypatch):
    """The policy on, with the threshold these tests' sizes were worked out for (the
    measured value may move; test_the_shipped_threshold states it)."""
    monkeypatch.setattr(blas, "_enabled", True)
    monkeypatch.setattr(blas, "ONE_THREAD_BELOW_FLOPS", THRESHOLD)


@pytest.fixture
def fake_library(monkeypatch, policy_on):
    """A fake two-thread BLAS library in place of the process's."""
    library = FakeLibrary(2)
    monkeypatch.setattr(blas, "_libraries", [library])
    return library


def test_the_shipped_threshold():
    assert blas.ONE_THREAD_BELOW_FLOPS == 8_388_608  # 2 * 2**22: bench/gemm_threads.py
    # OpenBLAS runs m*n*k < 2**19 on one thread itself: 1,048,576 flops
    assert blas.POOL_FLOPS == 1_048_576


def test_counts_at_hand_worked_sizes(policy_on):
    # LeNet's forward GEMM (16x75) @ (75x784): 2*16*75*784 = 1,881,600 flops
    assert blas.gemm_threads(2 * 16 * 75 * 784, allowed=2) == 1
    # VGG's (64x576) @ (576x1024): 75,497,472 flops
    assert blas.gemm_threads(2 * 64 * 576 * 1024, allowed=2) == 2
    assert blas.gemm_threads(2 * 64 * 576 * 1024, allowed=8) == 8
    # the threshold itself, (64x64) @ (64x1024), gets all threads; one column less, one
    assert blas.gemm_threads(2 * 64 * 64 * 1024, allowed=2) == 2
    assert blas.gemm_threads(2 * 64 * 64 * 1023, allowed=2) == 1


def test_a_small_gemm_runs_on_one_thread_and_the_count_is_restored(fake_library):
    a, b = np.ones((64, 64), np.float32), np.ones((64, 512), np.float32)  # 4.2 MFLOP
    np.testing.assert_array_equal(blas.gemm(a, b), np.full((64, 512), 64, np.float32))
    assert fake_library.set_calls == [1, 2]


def test_each_gemm_of_a_stack_is_what_counts(fake_library):
    # 64 GEMMs of (64x64) @ (64x512): 268 MFLOP in all, 4.2 MFLOP each: one thread
    a, b = np.ones((64, 64), np.float32), np.ones((64, 64, 512), np.float32)
    out = np.empty((64, 64, 512), np.float32)
    blas.gemm(a, b, out=out)
    np.testing.assert_array_equal(out, 64)
    assert fake_library.set_calls == [1, 2]


def test_large_and_tiny_gemms_leave_the_library_alone(fake_library):
    blas.gemm(np.ones((64, 128)), np.ones((128, 1024)))  # 16.8 MFLOP: all threads
    blas.gemm(np.ones((8, 8)), np.ones((8, 8)))  # OpenBLAS runs this on one thread anyway
    blas.gemm(np.ones(300), np.ones(300))  # vectors: m = n = 1
    assert fake_library.set_calls == []


def test_a_user_limit_is_never_exceeded(fake_library):
    fake_library.threads = 1  # e.g. OPENBLAS_NUM_THREADS=1: nothing to lower
    blas.gemm(np.ones((64, 64)), np.ones((64, 512)))
    blas.gemm(np.ones((64, 128)), np.ones((128, 1024)))
    assert fake_library.set_calls == [] and fake_library.threads == 1


def test_a_threadpoolctl_limit_is_respected_by_the_real_library(policy_on):
    libraries = blas.blas_libraries()
    a, b = np.ones((64, 64), np.float32), np.ones((64, 512), np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        for big in (False, True):
            blas.gemm(a, np.ones((64, 2048), np.float32) if big else b)
            assert [library.get_num_threads() for library in libraries] == [1] * len(libraries)
    with threadpool_limits(limits=2, user_api="blas"):
        blas.gemm(a, b)  # lowered to 1 for the call, then restored
        assert [library.get_num_threads() for library in libraries] == [2] * len(libraries)


def test_the_switch_turns_it_off(fake_library):
    blas.set_blas_policy(False)
    assert not blas.blas_policy_enabled()
    assert blas.gemm_threads(2 * 16 * 75 * 784, allowed=2) == 2
    blas.gemm(np.ones((64, 64)), np.ones((64, 512)))
    assert fake_library.set_calls == []
    blas.set_blas_policy(True)
    blas.gemm(np.ones((64, 64)), np.ones((64, 512)))
    assert fake_library.set_calls == [1, 2]


def run_python(code, **environment):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, **environment), timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_environment_variable_is_read_at_import():
    code = "import minigrad.kernels.blas as blas; print(blas.blas_policy_enabled())"
    assert run_python(code, MINIGRAD_BLAS_POLICY="0") == ["False"]
    assert run_python(code, MINIGRAD_BLAS_POLICY="1") == ["True"]


def test_import_minigrad_does_not_load_threadpoolctl():
    code = "import sys, minigrad; print('threadpoolctl' in sys.modules)"
    assert run_python(code) == ["False"]


def test_without_a_blas_library_gemm_is_matmul(monkeypatch, policy_on):
    monkeypatch.setattr(blas, "_libraries", [])
    a = np.arange(64 * 64, dtype=np.float64).reshape(64, 64)
    b = np.arange(64 * 512, dtype=np.float64).reshape(64, 512) % 7
    np.testing.assert_array_equal(blas.gemm(a, b), a @ b)


def conv_and_linear_grads():
    """Outputs and gradients of conv2d, conv_transpose2d and linear on fixed float32 inputs
    whose GEMMs (1.6-2.5 MFLOP each) the policy runs on one thread."""
    rng = np.random.default_rng(0)
    x = mg.Tensor(rng.standard_normal((4, 3, 32, 32)).astype(np.float32), requires_grad=True)
    w = mg.Tensor(rng.standard_normal((16, 3, 5, 5)).astype(np.float32), requires_grad=True)
    wt = mg.Tensor(rng.standard_normal((3, 16, 4, 4)).astype(np.float32), requires_grad=True)
    v = mg.Tensor(rng.standard_normal((64, 256)).astype(np.float32), requires_grad=True)
    lw = mg.Tensor(rng.standard_normal((64, 256)).astype(np.float32), requires_grad=True)
    outputs = [F.conv2d(x, w, padding=2), F.conv_transpose2d(x, wt, stride=2, padding=1),
               F.linear(v, lw)]
    sum(out.sum() for out in outputs).backward()
    return [out.data for out in outputs] + [t.grad for t in (x, w, wt, v, lw)]


def test_ops_agree_with_the_policy_on_and_off(monkeypatch, policy_on):
    recorder = FakeLibrary(2)
    with threadpool_limits(limits=2, user_api="blas"):
        blas.set_blas_policy(False)
        off = conv_and_linear_grads()
        blas.set_blas_policy(True)
        # the real libraries, each wrapped so the test sees the policy act on them
        real = blas.blas_libraries()
        monkeypatch.setattr(blas, "_libraries", [*real, recorder])
        on = conv_and_linear_grads()
    for with_policy, without in zip(on, off):
        np.testing.assert_allclose(with_policy, without, rtol=1e-5, atol=1e-5)
    # conv2d's forward, input- and weight-gradient GEMMs, conv_transpose2d's three and
    # linear's three each went down to one thread and back
    assert recorder.set_calls == [1, 2] * 9
