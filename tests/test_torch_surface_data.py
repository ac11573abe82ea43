"""torch.utils.data, torch.amp, torch.cuda and torch.backends under minigrad: one test per
construct, against PyTorch where it is installed, and hand-worked checks without it."""
import collections
import importlib
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.amp
import minigrad.backends
import minigrad.cuda
import minigrad.cuda.amp
import minigrad.utils.data as data
from minigrad import nn, optim

Point = collections.namedtuple("Point", "x y")


def as_numpy(value):
    """A minigrad or torch tensor's values as an ndarray."""
    return value.data if isinstance(value, mg.Tensor) else value.numpy()


def assert_same_batch(ours, theirs):
    """Same structure, container types, dtypes, shapes and values as PyTorch's batch."""
    torch = pytest.importorskip("torch")
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, mg.Tensor), type(ours)
        assert np.dtype(ours.dtype).name == str(theirs.dtype).removeprefix("torch."), \
            (ours.dtype, theirs.dtype)
        np.testing.assert_array_equal(as_numpy(ours), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            assert_same_batch(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)) and not isinstance(theirs, str):
        assert type(ours).__name__ == type(theirs).__name__ and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_batch(a, b)
    else:
        assert ours == theirs


# --- import paths ------------------------------------------------------------------------

def test_utils_data_paths_reach_the_one_implementation():
    utils = importlib.import_module("minigrad.utils")
    assert utils.data.DataLoader is mg.data.DataLoader is data.DataLoader
    from minigrad.utils.data import TensorDataset, random_split  # noqa: F401 (the spelling)
    assert TensorDataset is mg.data.TensorDataset
    assert data.get_worker_info() is None


# --- default_collate -----------------------------------------------------------------------

MIXED_SAMPLES = [
    (1, 2.0, True, "a", np.float32(1.5), np.int32(3), np.arange(2, dtype=np.int16),
     {"k": [1.5, 2.5], "m": Point(1, 2.0)}),
    (2, 3.0, False, "b", np.float32(2.5), np.int32(4), np.arange(2, 4, dtype=np.int16),
     {"k": [3.5, 4.5], "m": Point(3, 4.0)}),
]


def test_default_collate_dtypes_by_hand():
    (ints, floats, bools, strings, f32, i32, arrays,
     nested) = data.default_collate(MIXED_SAMPLES)
    assert ints.dtype == np.int64 and list(ints.data) == [1, 2]
    assert floats.dtype == np.float64 and list(floats.data) == [2.0, 3.0]
    assert bools.dtype == np.bool_ and list(bools.data) == [True, False]
    assert tuple(strings) == ("a", "b")
    assert f32.dtype == np.float32 and i32.dtype == np.int32
    assert arrays.dtype == np.int16 and arrays.shape == (2, 2)
    np.testing.assert_array_equal(arrays.data, [[0, 1], [2, 3]])
    assert nested["m"].x.dtype == np.int64 and nested["m"].y.dtype == np.float64
    # a list field is transposed: element j of every sample forms one batch
    np.testing.assert_array_equal(nested["k"][0].data, [1.5, 3.5])
    # torch.tensor's rule: an int batch with a float in it is float32
    assert data.default_collate([2, 1.5]).dtype == np.float32


def test_default_collate_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate
    assert_same_batch(data.default_collate(MIXED_SAMPLES), default_collate(MIXED_SAMPLES))
    half = [np.arange(3, dtype=np.float16).reshape(1, 3) + i for i in range(4)]
    ours = data.default_collate([mg.Tensor(h) for h in half])
    assert_same_batch(ours, default_collate([torch.from_numpy(h) for h in half]))
    assert ours.shape == (4, 1, 3)


def test_default_collate_stacks_tensors_differentiably():
    w = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    batch = data.default_collate([w * 2.0, w * 3.0])  # (2, 2): rows 2w and 3w
    batch.sum().backward()
    np.testing.assert_array_equal(w.grad, [5.0, 5.0])


@pytest.mark.parametrize("samples, error, match", [
    ([np.zeros(1), np.zeros(2)], ValueError, r"shapes \[\(1,\), \(2,\)\].*collate_fn"),
    ([[1, 2], [3]], ValueError, r"different numbers of fields \[1, 2\]"),
    ([object(), object()], TypeError, "found object"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "dtype <U1"),
])
def test_default_collate_rejects_what_pytorch_rejects(samples, error, match):
    with pytest.raises(error, match=match):
        data.default_collate(samples)


# --- datasets ------------------------------------------------------------------------------

def test_subset_concat_and_add_index_like_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import ConcatDataset, Subset, TensorDataset
    a, b = np.arange(5.0), np.arange(10.0, 13.0)
    ours = data.ConcatDataset([data.TensorDataset(a), data.TensorDataset(b)])
    theirs = ConcatDataset([TensorDataset(torch.from_numpy(a)), TensorDataset(torch.from_numpy(b))])
    assert len(ours) == len(theirs) == 8 and ours.cumulative_sizes == theirs.cumulative_sizes
    for i in [0, 4, 5, 7, -1, -8]:
        assert float(ours[i][0].item()) == theirs[i][0].item()
    sub, their_sub = data.Subset(ours, [7, 0, 5]), Subset(theirs, [7, 0, 5])
    assert [float(sub[i][0].item()) for i in range(3)] == [their_sub[i][0].item()
                                                            for i in range(3)] == [12, 0, 10]
    assert len(data.TensorDataset(a) + data.TensorDataset(b)) == 8
    with pytest.raises(ValueError, match="index -9 is out of range for 8 samples"):
        ours[-9]


def test_subset_and_concat_by_hand():
    ds = data.ConcatDataset([data.TensorDataset(np.arange(3)), data.TensorDataset(np.arange(3, 5))])
    assert [int(ds[i][0].item()) for i in range(len(ds))] == [0, 1, 2, 3, 4]
    sub = data.Subset(ds, [4, 1])
    assert len(sub) == 2 and int(sub[0][0].item()) == 4 and int(sub[-1][0].item()) == 1
    assert [int(s[0].item()) for s in sub[[1, 0]]] == [1, 4]  # a batched fetch
    with pytest.raises(ValueError, match="datasets is empty"):
        data.ConcatDataset([])


def test_tensor_dataset_returns_tensors():
    ds = data.TensorDataset(mg.Tensor(np.arange(6.0).reshape(3, 2)), np.array([7, 8, 9]))
    x, y = ds[1]
    assert isinstance(x, mg.Tensor) and x.shape == (2,) and list(x.data) == [2.0, 3.0]
    assert isinstance(y, mg.Tensor) and y.dtype == np.int64 and int(y.item()) == 8


# --- random_split --------------------------------------------------------------------------

@pytest.mark.parametrize("n, fractions, lengths", [
    (10, [0.33, 0.33, 0.34], [4, 3, 3]),  # floors 3, 3, 3; the one left over goes first
    (5, [0.5, 0.5], [3, 2]),
    (7, [0.6, 0.2, 0.2], [5, 1, 1]),  # floors 4, 1, 1; one left over
    (8, [0.25, 0.25, 0.25, 0.25], [2, 2, 2, 2]),
])
def test_random_split_fraction_rounding(n, fractions, lengths):
    parts = data.random_split(data.TensorDataset(np.arange(n)), fractions,
                              generator=mg.Generator().manual_seed(0))
    assert [len(p) for p in parts] == lengths
    indices = sorted(i for p in parts for i in p.indices)
    assert indices == list(range(n))  # disjoint and complete


@pytest.mark.parametrize("n, fractions", [(10, [0.33, 0.33, 0.34]), (101, [0.7, 0.2, 0.1]),
                                          (3, [0.5, 0.5]), (17, [0.1] * 10)])
def test_random_split_lengths_match_pytorch(n, fractions):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-length splits warn in both
        theirs = torch.utils.data.random_split(range(n), fractions)
        ours = data.random_split(range(n), fractions)
    assert [len(p) for p in ours] == [len(p) for p in theirs]


def test_random_split_is_reproducible_and_checks_lengths():
    ds = data.TensorDataset(np.arange(20))
    first = data.random_split(ds, [15, 5], generator=mg.Generator().manual_seed(3))
    again = data.random_split(ds, [15, 5], generator=mg.Generator().manual_seed(3))
    assert [p.indices for p in first] == [p.indices for p in again]
    assert first[0].indices != list(range(15))  # shuffled (1 chance in 20!/5!15! to fail)
    with pytest.raises(ValueError, match=r"lengths \[15, 4\] sum to 19; expected the "
                                         r"dataset's length 20"):
        data.random_split(ds, [15, 4])
    with pytest.raises(ValueError, match=r"lengths\[0\] = 1.5 is not a fraction"):
        data.random_split(ds, [1.5, -0.5])
    with pytest.warns(UserWarning, match="split at index 2 is 0"):  # floors 1, 1, 0; +1
        assert [len(p) for p in data.random_split(range(3), [0.5, 0.5, 0.0])] == [2, 1, 0]


# --- samplers ------------------------------------------------------------------------------

def test_samplers_yield_pytorch_index_sequences():
    torch = pytest.importorskip("torch")
    from torch.utils.data import BatchSampler, SequentialSampler
    ds = list(range(7))
    for drop_last in (False, True):
        ours = data.BatchSampler(data.SequentialSampler(ds), 3, drop_last)
        theirs = BatchSampler(SequentialSampler(ds), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_random_samplers_cover_every_index():
    generator = mg.Generator().manual_seed(1)
    sampler = data.RandomSampler(range(10), generator=generator)
    epochs = [list(sampler) for _ in range(2)]
    assert all(sorted(e) == list(range(10)) for e in epochs) and epochs[0] != epochs[1]
    chained = list(data.RandomSampler(range(4), num_samples=10, generator=generator))
    # two whole permutations, then two indices of a third
    assert sorted(chained[:8]) == sorted(list(range(4)) * 2) and len(set(chained[8:])) == 2
    drawn = list(data.RandomSampler(range(3), replacement=True, num_samples=50,
                                    generator=generator))
    assert len(drawn) == 50 and set(drawn) == {0, 1, 2}  # misses one with prob ~3 * (2/3)^50
    subset = list(data.SubsetRandomSampler([10, 20, 30], generator=generator))
    assert sorted(subset) == [10, 20, 30]


@pytest.mark.parametrize("make, error, match", [
    (lambda: data.BatchSampler(range(3), 0, False), ValueError, "batch_size=0"),
    (lambda: data.BatchSampler(range(3), 2, 1), ValueError, "drop_last=1"),
    (lambda: data.RandomSampler(range(3), replacement=1), TypeError, "replacement=1"),
    (lambda: data.RandomSampler(range(3), num_samples=0), ValueError, "num_samples=0"),
    (lambda: data.RandomSampler(range(3), generator=3), TypeError, "minigrad.Generator"),
])
def test_sampler_argument_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


# --- DataLoader ----------------------------------------------------------------------------

@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True),
                                                      (9, 3, True), (2, 5, False)])
def test_loader_batches_match_pytorch(n, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    ours = data.DataLoader(data.TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    batches = list(ours)
    assert len(batches) == len(theirs)
    for a, b in zip(batches, theirs):
        assert_same_batch(a, b)


def test_loader_with_sampler_and_batch_sampler_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.arange(8.0)
    ours_ds, their_ds = data.TensorDataset(x), torch.utils.data.TensorDataset(torch.from_numpy(x))
    order = [5, 1, 7, 0, 2]
    pairs = [
        (data.DataLoader(ours_ds, batch_size=2, sampler=order),
         torch.utils.data.DataLoader(their_ds, batch_size=2, sampler=order)),
        (data.DataLoader(ours_ds, batch_sampler=[[3, 1], [0, 6, 2]]),
         torch.utils.data.DataLoader(their_ds, batch_sampler=[[3, 1], [0, 6, 2]])),
        (data.DataLoader(ours_ds, batch_size=None, sampler=[4, 2]),
         torch.utils.data.DataLoader(their_ds, batch_size=None, sampler=[4, 2])),
    ]
    for ours, theirs in pairs:
        assert len(ours) == len(theirs)
        for a, b in zip(list(ours), list(theirs), strict=True):
            assert_same_batch(a, b)


INCOMPATIBLE = [
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(num_workers=-1),
    dict(timeout=-1),
    dict(prefetch_factor=2),
    dict(persistent_workers=True),
    dict(batch_size=0),
    dict(batch_size=1.5),
]


@pytest.mark.parametrize("kwargs", INCOMPATIBLE, ids=lambda k: ",".join(k))
def test_loader_rejects_what_pytorch_rejects(kwargs):
    ds = data.TensorDataset(np.arange(4))
    with pytest.raises(ValueError):
        data.DataLoader(ds, **kwargs)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(4)), **kwargs)


def test_loader_error_messages_name_the_arguments():
    ds = data.TensorDataset(np.arange(4))
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        data.DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but "
                                         "got batch_size=0"):
        data.DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="give seed or generator, not both"):
        data.DataLoader(ds, seed=0, generator=mg.Generator())


def test_loader_shuffle_follows_its_generator():
    ds = data.TensorDataset(np.arange(12))

    def epochs(loader):
        return [np.concatenate([as_numpy(b[0]) for b in loader]).tolist() for _ in range(2)]

    seeded = epochs(data.DataLoader(ds, batch_size=5, shuffle=True,
                                    generator=mg.Generator().manual_seed(4)))
    assert all(sorted(e) == list(range(12)) for e in seeded)  # every index once per epoch
    assert seeded[0] != seeded[1]  # a new order each epoch
    assert epochs(data.DataLoader(ds, batch_size=5, shuffle=True,
                                  generator=mg.Generator().manual_seed(4))) == seeded
    mg.manual_seed(9)
    default = epochs(data.DataLoader(ds, batch_size=5, shuffle=True))
    mg.manual_seed(9)
    assert epochs(data.DataLoader(ds, batch_size=5, shuffle=True)) == default


def test_loader_workers_load_in_process():
    ds = data.TensorDataset(np.arange(6))
    calls = []
    workers = data.DataLoader(ds, batch_size=4, num_workers=3, worker_init_fn=calls.append,
                              pin_memory=True, prefetch_factor=2, persistent_workers=True,
                              timeout=5)
    plain = data.DataLoader(ds, batch_size=4)
    for a, b in zip(workers, plain, strict=True):
        np.testing.assert_array_equal(as_numpy(a[0]), as_numpy(b[0]))
    assert calls == []  # no worker process to initialise: see the DataLoader docstring


def test_loader_custom_collate_and_namedtuple_samples():
    class Points(data.Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return Point(np.float32(i), i * 10)

    x, y = next(iter(data.DataLoader(Points(), batch_size=3)))
    assert x.dtype == np.float32 and list(y.data) == [0, 10, 20]
    assert next(iter(data.DataLoader(Points(), batch_size=2, collate_fn=len))) == 2
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        data.Dataset()[0]


# --- automatic mixed precision -------------------------------------------------------------

def quadratic_model(np_weights):
    """A minigrad parameter and its SGD optimizer (with momentum, so skips would show)."""
    w = nn.Parameter(np_weights.copy())
    return w, optim.SGD([w], lr=0.1, momentum=0.9)


def test_disabled_grad_scaler_mirrors_pytorch_step_by_step():
    torch = pytest.importorskip("torch")
    start, x = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.2, -1.0])
    w, opt = quadratic_model(start)
    tw = torch.nn.Parameter(torch.from_numpy(start.copy()))
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    ours, theirs = mg.amp.GradScaler(enabled=False), torch.amp.GradScaler(enabled=False)
    for _ in range(3):
        loss = ((w * mg.Tensor(x)).sum() - 1.0) ** 2
        tloss = ((tw * torch.from_numpy(x)).sum() - 1.0) ** 2
        assert ours.scale(loss) is loss and theirs.scale(tloss) is tloss
        ours.scale(loss).backward()
        theirs.scale(tloss).backward()
        assert ours.unscale_(opt) is None and theirs.unscale_(topt) is None
        ours.step(opt)
        theirs.step(topt)
        ours.update()
        theirs.update()
        opt.zero_grad()
        topt.zero_grad()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12)
    assert ours.get_scale() == theirs.get_scale() == 1.0
    assert ours.state_dict() == theirs.state_dict() == {}
    assert ours.is_enabled() is theirs.is_enabled() is False


def test_cpu_grad_scaler_matches_pytorch():
    torch = pytest.importorskip("torch")
    start = np.array([1.0, 2.0])
    w, opt = quadratic_model(start)
    tw = torch.nn.Parameter(torch.from_numpy(start.copy()))
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    ours = mg.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)
    theirs = torch.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)
    # three clean steps (the scale doubles after two), one with an inf gradient (skipped,
    # the scale halves), one clean step
    for factor in [1.0, 1.0, 1.0, float("inf"), 1.0]:
        loss, tloss = (w * w).sum() * factor, (tw * tw).sum() * factor
        scaled, tscaled = ours.scale(loss), theirs.scale(tloss)
        assert float(scaled.item()) == pytest.approx(tscaled.item(), rel=1e-12)
        scaled.backward()
        tscaled.backward()
        ours.unscale_(opt)
        theirs.unscale_(topt)
        np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-12)
        assert ours.step(opt) is theirs.step(topt) is None
        ours.update()
        theirs.update()
        opt.zero_grad()
        topt.zero_grad()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12)
        assert ours.state_dict() == theirs.state_dict()


def test_cpu_grad_scaler_by_hand():
    w, opt = quadratic_model(np.array([3.0]))
    scaler = mg.amp.GradScaler("cpu", init_scale=8.0, growth_interval=1)
    scaler.scale(w * 2.0).backward()
    assert float(w.grad[0]) == 16.0  # d(8 * 2w)/dw
    scaler.step(opt)  # unscales to 2, then w = 3 - 0.1 * 2
    assert float(w.data[0]) == pytest.approx(2.8, abs=1e-15)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 16.0  # growth_interval=1: every clean step doubles it
    scaler.update(3.0)
    assert scaler.get_scale() == 3.0
    opt.zero_grad()
    scaler.scale((w * float("nan")).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert float(w.data[0]) == pytest.approx(2.8, abs=1e-15) and scaler.get_scale() == 1.5
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: 0.0)
    restored = mg.amp.GradScaler("cpu")
    restored.load_state_dict(scaler.state_dict())
    assert restored.state_dict() == scaler.state_dict()
    with pytest.raises(ValueError, match="growth_factor must be > 1.0, got 0.5"):
        mg.amp.GradScaler("cpu", growth_factor=0.5)


def test_cuda_amp_is_disabled_with_a_warning_as_pytorch_without_cuda():
    with pytest.warns(UserWarning, match="'cuda' is not available"):
        scaler = mg.amp.GradScaler()
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0
    with pytest.warns(UserWarning, match="'cuda' is not available"):
        ctx = mg.amp.autocast("cuda", dtype=np.float16)
    with ctx:
        assert (mg.Tensor(np.ones((2, 2))) @ mg.Tensor(np.ones((2, 2)))).dtype == np.float64
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        with pytest.warns(UserWarning):
            assert not torch.amp.GradScaler().is_enabled()


def test_autocast_disabled_is_a_no_op_and_enabled_cpu_raises():
    @mg.amp.autocast("cpu", enabled=False)
    def matmul(a, b):
        return a @ b

    out = matmul(mg.Tensor(np.ones((2, 3), np.float32)), mg.Tensor(np.ones((3, 1), np.float32)))
    assert out.dtype == np.float32 and out.shape == (2, 1)
    with pytest.raises(NotImplementedError, match="computes in the dtype of its tensors"):
        mg.amp.autocast("cpu")
    with pytest.raises(TypeError, match="enabled must be a bool, got 1"):
        mg.amp.autocast("cpu", enabled=1)
    with pytest.warns(UserWarning, match="supports bfloat16 and float16"):
        mg.amp.autocast("cpu", dtype=np.float64)


def test_cuda_amp_spellings_warn_deprecated_and_are_disabled():
    with pytest.warns(FutureWarning, match="torch.amp.GradScaler\\('cuda'"), \
            pytest.warns(UserWarning, match="not available"):
        scaler = mg.cuda.amp.GradScaler(init_scale=2.0)
    assert isinstance(scaler, mg.amp.GradScaler) and not scaler.is_enabled()
    with pytest.warns(FutureWarning), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with mg.cuda.amp.autocast(enabled=True):
            pass
    with pytest.warns(FutureWarning):
        with mg.cuda.amp.autocast(enabled=False):
            pass


# --- devices ---------------------------------------------------------------------------------

def test_cuda_module_on_a_cpu_only_framework():
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0
    mg.cuda.manual_seed(0)
    mg.cuda.manual_seed_all(0)
    mg.cuda.synchronize()
    mg.cuda.empty_cache()
    with pytest.raises(ValueError):
        mg.cuda.manual_seed("a")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        mg.cuda.current_device()
    with pytest.raises(RuntimeError, match="no CUDA device"):
        mg.cuda.get_device_name(0)


def test_backends_flags():
    cudnn = importlib.import_module("minigrad.backends.cudnn")
    assert cudnn is mg.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (True, False, False)
    previous = cudnn.benchmark
    cudnn.benchmark = True
    assert mg.backends.cudnn.benchmark is True
    cudnn.benchmark = previous
    assert cudnn.is_available() is False and mg.backends.mps.is_available() is False
    torch = pytest.importorskip("torch")
    assert (torch.backends.cudnn.enabled, torch.backends.cudnn.deterministic) == (True, False)
