"""PyTorch's optim surface: the schedulers, maximize, the extra keyword arguments, errors.

Hand-worked trajectories run without PyTorch; the parity tests (`torch =
pytest.importorskip("torch")` inside) compare with PyTorch 2.x number for number.
"""
import math
import pickle

import numpy as np
import pytest

from minigrad import nn, optim
from minigrad.optim import lr_scheduler

STEPS = 30


def two_group_sgd(lib, param):
    """SGD with two groups (lr 1.0 and 0.3) over one-element parameters made by `param`."""
    return lib.SGD([{"params": [param()]}, {"params": [param()], "lr": 0.3}], lr=1.0,
                   momentum=0.9)


def our_optimizer():
    return two_group_sgd(optim, lambda: nn.Parameter(np.zeros(1)))


def rates(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


def trajectory(optimizer, scheduler, steps=STEPS, step=lambda scheduler, i: scheduler.step()):
    """The groups' rates after construction and after each of `steps` scheduler steps, with
    the scheduler's last_epoch and get_last_lr() at the end."""
    out = [rates(optimizer)]
    for i in range(steps):
        optimizer.step()  # no gradients: nothing moves, but the order is PyTorch's
        step(scheduler, i)
        out.append(rates(optimizer))
    return np.array(out), scheduler.last_epoch, scheduler.get_last_lr()


def lr_path(make, steps, lr=1.0):
    """First-group rates of a one-group SGD under the scheduler `make(optimizer)`."""
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=lr)
    path, _, _ = trajectory(opt, make(opt), steps)
    return list(path[:, 0])


# --- schedulers, hand-worked ---------------------------------------------------------------

def test_multistep_lr_by_hand():
    # lr = 1 * 0.1 ** (number of milestones <= epoch), milestones [2, 4]:
    # epochs 0 1 -> 1;  2 3 -> 0.1;  4 5 -> 0.01
    assert lr_path(lambda o: lr_scheduler.MultiStepLR(o, [2, 4], gamma=0.1), 5) == \
        pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01], rel=1e-12)


def test_lambda_lr_by_hand():
    # lr = 0.6 * 1 / (epoch + 1): 0.6, 0.3, 0.2, 0.15
    assert lr_path(lambda o: lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1)), 3, lr=0.6) == \
        pytest.approx([0.6, 0.3, 0.2, 0.15], rel=1e-12)


def test_multiplicative_lr_by_hand():
    # the constructor leaves lr = 1; each step multiplies by lambda(epoch) = 0.5 + 0.1 epoch:
    # 1, 1 * 0.6 = 0.6, 0.6 * 0.7 = 0.42, 0.42 * 0.8 = 0.336
    assert lr_path(lambda o: lr_scheduler.MultiplicativeLR(o, lambda e: 0.5 + 0.1 * e), 3) == \
        pytest.approx([1, 0.6, 0.42, 0.336], rel=1e-12)


def test_exponential_lr_by_hand():
    # lr = 2 * 0.5 ** epoch
    assert lr_path(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.5), 3, lr=2.0) == \
        pytest.approx([2, 1, 0.5, 0.25], rel=1e-12)


def test_linear_lr_by_hand():
    # factor from 0.25 to 1 in 3 epochs: 0.25, 0.5, 0.75, 1, then stays 1
    assert lr_path(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=3),
                   4) == pytest.approx([0.25, 0.5, 0.75, 1, 1], rel=1e-12)


def test_constant_lr_by_hand():
    # factor 0.5 for epochs 0 and 1 (total_iters 2), then the full rate
    assert lr_path(lambda o: lr_scheduler.ConstantLR(o, factor=0.5, total_iters=2), 3) == \
        pytest.approx([0.5, 0.5, 1, 1], rel=1e-12)


def test_polynomial_lr_by_hand():
    # (1 - epoch / 4) ** 2: 1, 0.5625, 0.25, 0.0625, 0, and 0 after total_iters
    assert lr_path(lambda o: lr_scheduler.PolynomialLR(o, total_iters=4, power=2.0), 5) == \
        pytest.approx([1, 0.5625, 0.25, 0.0625, 0, 0], rel=1e-12, abs=1e-15)


def test_cosine_warm_restarts_by_hand():
    # T_0 2, T_mult 2: cycles [0, 2), [2, 6), [6, 14); lr = (1 + cos(pi T_cur / T_i)) / 2
    # epochs 0..6 -> T_cur/T_i = 0/2, 1/2, 0/4, 1/4, 2/4, 3/4, 0/8
    c = math.cos(math.pi / 4)
    expected = [1, 0.5, 1, (1 + c) / 2, 0.5, (1 - c) / 2, 1]
    assert lr_path(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
                   6) == pytest.approx(expected, rel=1e-12)


def test_cosine_warm_restarts_fractional_epochs_by_hand():
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.2)
    # epoch 0.5: T_cur 0.5 of T_i 2 -> 0.2 + 0.8 (1 + cos(pi / 4)) / 2
    sched.step(0.5)
    assert rates(opt)[0] == pytest.approx(0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2, 1e-12)
    # epoch 2.5: the second cycle (T_i 4) began at 2, so T_cur 0.5 -> cos(pi / 8)
    sched.step(2.5)
    assert rates(opt)[0] == pytest.approx(0.2 + 0.8 * (1 + math.cos(math.pi / 8)) / 2, 1e-12)
    assert (sched.T_i, sched.last_epoch) == (4, 2)
    # a plain step continues from there: T_cur 1.5 -> cos(3 pi / 8)
    sched.step()
    assert rates(opt)[0] == pytest.approx(0.2 + 0.8 * (1 + math.cos(3 * math.pi / 8)) / 2,
                                          1e-12)


def test_sequential_lr_by_hand():
    # ConstantLR(0.1) for epochs 0, 1; at milestone 2 ExponentialLR(0.5) restarts from its
    # epoch 0 at the base rate: 0.1, 0.1, 1, 0.5, 0.25
    def make(o):
        return lr_scheduler.SequentialLR(
            o, [lr_scheduler.ConstantLR(o, factor=0.1, total_iters=5),
                lr_scheduler.ExponentialLR(o, gamma=0.5)], milestones=[2])
    assert lr_path(make, 4) == pytest.approx([0.1, 0.1, 1, 0.5, 0.25], rel=1e-12)


def test_schedulers_on_one_optimizer_chain_by_hand():
    # each scheduler rescales the current rate: x0.5 every epoch, and x0.1 more at epoch 2:
    # 1, 0.5, 0.5 * 0.5 * 0.1 = 0.025, 0.0125
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    schedulers = [lr_scheduler.ExponentialLR(opt, gamma=0.5),
                  lr_scheduler.MultiStepLR(opt, milestones=[2], gamma=0.1)]
    got = [rates(opt)[0]]
    for _ in range(3):
        for s in schedulers:
            s.step()
        got.append(rates(opt)[0])
    assert got == pytest.approx([1, 0.5, 0.025, 0.0125], rel=1e-12)


def test_cosine_annealing_follows_a_rate_changed_by_hand():
    # chainable: after lr is set to 0.5 at epoch 1 (eta_min 0), epoch 2 scales it by
    # (1 + cos(2 pi / 4)) / (1 + cos(pi / 4)) = 1 / (1 + sqrt(1/2))
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    sched.step()
    opt.param_groups[0]["lr"] = 0.5
    sched.step()
    assert rates(opt)[0] == pytest.approx(0.5 / (1 + math.sqrt(0.5)), rel=1e-12)


def test_reduce_lr_on_plateau_by_hand():
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1,
                                           min_lr=0.2)
    # step:      1    2    3     4     5     6     7     8     9     10
    # metric:    1    1    1     0.5   0.5   0.5   0.5   0.5   0.5   0.5
    # bad:       0    1    2->0  0     1     2->0  1->0  1     2->0  1->0
    # cooldown:  0    0    1     1->0  0     1     1->0  0     1     1->0
    # lr:        1    1    0.5   0.5   0.5   0.25  0.25  0.25  0.2   0.2
    # (more than patience=1 bad epochs halve the rate; the epoch after a reduction is a
    #  cooldown, whose bad epoch does not count; 0.25 / 2 is below min_lr, so 0.2)
    got = []
    for metric in [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]:
        sched.step(metric)
        got.append(rates(opt)[0])
    assert got == pytest.approx([1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2], rel=1e-12)
    assert sched.get_last_lr() == [0.2] and sched.last_epoch == 10


@pytest.mark.parametrize("mode, threshold_mode, threshold, second, improves", [
    ("min", "rel", 0.1, 8.9, True),    # 8.9 < 10 (1 - 0.1) = 9
    ("min", "rel", 0.1, 9.1, False),   # lower than 10, but not by 10%
    ("min", "abs", 0.5, 9.4, True),    # 9.4 < 10 - 0.5
    ("min", "abs", 0.5, 9.6, False),
    ("max", "rel", 0.1, 11.1, True),   # 11.1 > 10 (1 + 0.1) = 11
    ("max", "rel", 0.1, 10.9, False),
    ("max", "abs", 0.5, 10.6, True),   # 10.6 > 10 + 0.5
    ("max", "abs", 0.5, 10.4, False),
])
def test_reduce_lr_on_plateau_threshold_modes_by_hand(mode, threshold_mode, threshold, second,
                                                      improves):
    # best is 10 after the first step; with patience 0 one bad epoch cuts lr to 0.1
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode=mode, patience=0, threshold=threshold,
                                           threshold_mode=threshold_mode)
    sched.step(10.0)
    sched.step(second)
    assert rates(opt)[0] == pytest.approx(1.0 if improves else 0.1)


def test_step_with_an_epoch_warns_and_jumps_to_the_closed_form():
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    # base * 0.5 ** (5 // 2)
    assert rates(opt)[0] == pytest.approx(0.25) and sched.last_epoch == 5


SCHEDULERS = {
    "LambdaLR": lambda o, m: m.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (e + 1)]),
    "MultiplicativeLR": lambda o, m: m.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 1.01),
    "StepLR": lambda o, m: m.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda o, m: m.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3),
    "ExponentialLR": lambda o, m: m.ExponentialLR(o, gamma=0.87),
    "LinearLR": lambda o, m: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=7),
    "ConstantLR": lambda o, m: m.ConstantLR(o, factor=0.25, total_iters=6),
    "PolynomialLR": lambda o, m: m.PolynomialLR(o, total_iters=12, power=2.0),
    "CosineAnnealingLR": lambda o, m: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "CosineAnnealingWarmRestarts": lambda o, m: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.01),
    "SequentialLR": lambda o, m: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
            m.CosineAnnealingLR(o, T_max=10, eta_min=0.01), m.ExponentialLR(o, gamma=0.9)],
        milestones=[5, 15]),
    "SequentialLR-restarts": lambda o, m: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=3), m.MultiplicativeLR(o, lambda e: 0.8),
            m.PolynomialLR(o, total_iters=4), m.LambdaLR(o, lambda e: 0.1 * (e + 1))],
        milestones=[4, 10, 20]),
    "OneCycleLR": lambda o, m: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS + 1),
}


class CallableLambda:
    """A callable object: its attributes go into LambdaLR's state_dict, as in PyTorch."""

    def __init__(self, warmup):
        self.warmup = warmup

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.warmup)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_state_dict_resumes_the_same_rates(name):
    make = SCHEDULERS[name]
    opt = our_optimizer()
    sched = make(opt, lr_scheduler)
    trajectory(opt, sched, steps=8)
    saved_opt, saved_sched = opt.state_dict(), pickle.loads(pickle.dumps(sched.state_dict()))
    expected, _, _ = trajectory(opt, sched, steps=8)

    opt2 = our_optimizer()
    sched2 = make(opt2, lr_scheduler)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    got, _, _ = trajectory(opt2, sched2, steps=8)
    np.testing.assert_array_equal(got, expected)


def test_lambda_lr_state_dict_leaves_out_functions_and_keeps_callable_objects():
    opt = our_optimizer()
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, CallableLambda(4)])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"warmup": 4}]
    other = lr_scheduler.LambdaLR(our_optimizer(), [lambda e: 1.0, CallableLambda(10)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].warmup == 4


# --- schedulers against PyTorch --------------------------------------------------------------

def assert_same_rates(make, steps=STEPS, step=lambda scheduler, i: scheduler.step()):
    """Run `make(optimizer, lr_scheduler module)` on two-group SGDs in both libraries."""
    torch = pytest.importorskip("torch")
    ours = our_optimizer()
    theirs = two_group_sgd(torch.optim, lambda: torch.zeros(1, requires_grad=True))
    our_path, our_epoch, our_last = trajectory(ours, make(ours, lr_scheduler), steps, step)
    their_path, their_epoch, their_last = trajectory(
        theirs, make(theirs, torch.optim.lr_scheduler), steps, step)
    np.testing.assert_allclose(our_path, their_path, rtol=1e-10, atol=1e-15)
    assert our_epoch == their_epoch
    np.testing.assert_allclose(our_last, their_last, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_matches_pytorch(name):
    assert_same_rates(SCHEDULERS[name])


def test_milestone_at_epoch_zero_matches_pytorch():
    assert_same_rates(lambda o, m: m.MultiStepLR(o, milestones=[0, 5], gamma=0.3))


class TwoSchedulers:
    """Two schedulers stepped together on one optimizer (PyTorch's chaining idiom)."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    def step(self):
        self.first.step()
        self.second.step()

    @property
    def last_epoch(self):
        return self.second.last_epoch

    def get_last_lr(self):
        return self.second.get_last_lr()


@pytest.mark.parametrize("pair", [
    lambda o, m: (m.ExponentialLR(o, gamma=0.9), m.MultiStepLR(o, milestones=[4, 9])),
    lambda o, m: (m.LinearLR(o, start_factor=0.5, total_iters=4),
                  m.CosineAnnealingLR(o, T_max=6, eta_min=0.05)),
    lambda o, m: (m.PolynomialLR(o, total_iters=8, power=0.5),
                  m.ConstantLR(o, factor=0.5, total_iters=4)),
], ids=["exponential+multistep", "linear+cosine", "polynomial+constant"])
def test_chained_schedulers_match_pytorch(pair):
    assert_same_rates(lambda o, m: TwoSchedulers(*pair(o, m)))


@pytest.mark.filterwarnings("ignore::UserWarning")  # step(epoch) is deprecated in both
@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
                                  "ConstantLR", "PolynomialLR", "CosineAnnealingLR",
                                  "MultiplicativeLR"])
def test_step_to_an_epoch_matches_pytorch(name):
    assert_same_rates(SCHEDULERS[name], step=lambda s, i: s.step((7 * i) % 13))


@pytest.mark.parametrize("T_mult", [1, 3])
def test_warm_restarts_with_fractional_epochs_match_pytorch(T_mult):
    # four batches an epoch, as PyTorch's docstring example
    assert_same_rates(lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=T_mult,
                                                                 eta_min=0.1),
                      step=lambda s, i: s.step(i / 4))


def test_warm_restarts_jump_then_step_matches_pytorch():
    # PyTorch's interleaved example: step(26) jumps, the next step() continues from 26
    assert_same_rates(lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
                      step=lambda s, i: s.step(26) if i == 10 else s.step())


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8,
                   0.8] + [0.8] * 15


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
def test_reduce_lr_on_plateau_matches_pytorch(mode, threshold_mode):
    sign = 1 if mode == "min" else -1
    assert_same_rates(
        lambda o, m: m.ReduceLROnPlateau(o, mode=mode, factor=0.5, patience=2, threshold=0.05,
                                         threshold_mode=threshold_mode, cooldown=1,
                                         min_lr=[0.05, 0.1]),
        step=lambda s, i: s.step(sign * PLATEAU_METRICS[i]))


@pytest.mark.parametrize("name", ["ExponentialLR", "LinearLR", "CosineAnnealingLR",
                                  "PolynomialLR", "CosineAnnealingWarmRestarts"])
def test_resuming_with_last_epoch_matches_pytorch(name):
    # a scheduler created with last_epoch=4 over groups that carry initial_lr
    def make(optimizer, module):
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"]
            group["lr"] *= 0.5
        return SCHEDULERS[name](optimizer, _Resume(module, 4))
    assert_same_rates(make, steps=10)


class _Resume:
    """The lr_scheduler module with last_epoch fixed, for the resuming test."""

    def __init__(self, module, last_epoch):
        self.module, self.last_epoch = module, last_epoch

    def __getattr__(self, name):
        cls = getattr(self.module, name)
        return lambda *args, **kwargs: cls(*args, last_epoch=self.last_epoch, **kwargs)


def test_scheduler_state_dict_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = our_optimizer()
    theirs = two_group_sgd(torch.optim, lambda: torch.zeros(1, requires_grad=True))
    our_sched = lr_scheduler.LambdaLR(ours, [lambda e: 0.5, CallableLambda(4)])
    their_sched = torch.optim.lr_scheduler.LambdaLR(theirs, [lambda e: 0.5, CallableLambda(4)])
    for _ in range(3):
        ours.step()
        theirs.step()
        our_sched.step()
        their_sched.step()
    our_state, their_state = our_sched.state_dict(), their_sched.state_dict()
    assert our_state["lr_lambdas"] == their_state["lr_lambdas"] == [None, {"warmup": 4}]
    assert our_state["last_epoch"] == their_state["last_epoch"]
    for key in ("base_lrs", "_last_lr"):
        assert our_state[key] == pytest.approx(their_state[key], rel=1e-12)


# --- scheduler errors ------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, match", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "step_size must be >= 1, got 0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.5), TypeError, "step_size must be an int"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, r"start_factor .*got 0"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), ValueError, "end_factor .*got 1.5"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=2), ValueError, "factor must be .*got 2"),
    (lambda o: lr_scheduler.PolynomialLR(o, total_iters=0), ValueError, "total_iters"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1, lambda e: 1]), ValueError,
     "2 functions for 1 parameter groups"),
    (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError, "lr_lambda must be a function"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), TypeError,
     "T_mult must be an int"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2).step(-1), ValueError,
     "epoch must be a finite number >= 0, got -1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="low"), ValueError,
     "mode must be 'min' or 'max', got 'low'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError,
     "threshold_mode must be 'rel' or 'abs', got 'pct'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError,
     "factor must be >= 0.0 and < 1.0, got 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0, 0]), ValueError,
     "min_lr has 2 values for 1 parameter groups"),
    (lambda o: lr_scheduler.StepLR("sgd", step_size=1), TypeError,
     "optimizer must be an Optimizer, got str"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ExponentialLR(o, 0.9)], [3]),
     ValueError, r"milestones must be 0 increasing epochs for 1 schedulers, got \[3\]"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], []),
     ValueError, r"schedulers\[0\] is a ReduceLROnPlateau"),
    (lambda o: lr_scheduler.SequentialLR(
        o, [lr_scheduler.ExponentialLR(optim.SGD([nn.Parameter(np.zeros(1))]), 0.9)], []),
     ValueError, r"schedulers\[0\] \(ExponentialLR\) belongs to another optimizer"),
    (lambda o: lr_scheduler.SequentialLR(o, [], []), ValueError, "schedulers is empty"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.SequentialLR(
        o, [lr_scheduler.ExponentialLR(o, 0.9)], [])], []), NotImplementedError,
     r"schedulers\[0\] is a SequentialLR; nesting them is not supported"),
])
def test_scheduler_errors(make, error, match):
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    with pytest.raises(error, match=match):
        make(opt)


def test_reduce_lr_on_plateau_with_a_min_lr_list_refuses_a_new_group():
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.01])
    opt.add_param_group({"params": [nn.Parameter(np.zeros(1))]})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="min_lr has 1 values but the optimizer now has 2"):
        sched.step(2.0)


# --- optimisers: maximize, PyTorch's extra keyword arguments ----------------------------------

OPTIMIZERS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05, betas=(0.8, 0.99))),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
]
OPTIMIZER_IDS = [f"{name}-{options}" for name, options in OPTIMIZERS]


def field(p, sign=1.0):
    """The gradient of a convex loss with a non-linear field, so that every detail of an update
    shows in the path; maximize=True is given -field, the gradient of a concave objective."""
    return np.asarray(sign * (2 * (p - 0.5) + 0.3 * p ** 3 + 0.1 * np.cos(3 * p)))


def start_arrays():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(3, 4)), rng.normal(size=5), np.array(0.7)]


def path(make, sign=1.0, steps=10):
    """Parameters after each of `steps` steps of `make(params)` on the gradient sign * field."""
    params = [nn.Parameter(a.copy()) for a in start_arrays()]
    opt = make(params)
    out = []
    for _ in range(steps):
        for p in params:
            p.grad = field(p.data, sign)
        opt.step()
        out.append([p.data.copy() for p in params])
    return out


def assert_same_path(ours, theirs, **tolerance):
    for our_step, their_step in zip(ours, theirs):
        for a, b in zip(our_step, their_step):
            if tolerance:
                np.testing.assert_allclose(a, b, **tolerance)
            else:
                np.testing.assert_array_equal(a, b)


def test_sgd_maximize_by_hand():
    # gradient 2p from p = 1, lr 0.1, ascent: p1 = 1 + 0.1 * 2 = 1.2, p2 = 1.2 + 0.1 * 2.4
    p = nn.Parameter(np.array([1.0]))
    opt = optim.SGD([p], lr=0.1, maximize=True)
    got = []
    for _ in range(2):
        p.grad = 2 * p.data
        opt.step()
        got.append(p.data[0])
    assert got == pytest.approx([1.2, 1.44], rel=1e-12)


@pytest.mark.parametrize("name, options", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_maximize_is_descent_on_the_negated_gradient(name, options):
    # weight decay, momentum and moments all see -grad, exactly as if the loss were negated
    cls = getattr(optim, name)
    assert_same_path(path(lambda ps: cls(ps, maximize=True, **options), sign=-1.0),
                     path(lambda ps: cls(ps, **options)))


@pytest.mark.parametrize("name, options", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_maximize_matches_pytorch(name, options):
    torch = pytest.importorskip("torch")

    def theirs(make):
        params = [torch.tensor(a.copy(), requires_grad=True) for a in start_arrays()]
        opt = make(params)
        out = []
        for _ in range(10):
            for q in params:
                q.grad = torch.from_numpy(field(q.detach().numpy(), -1.0))
            opt.step()
            out.append([q.detach().numpy().copy() for q in params])
        return out

    assert_same_path(path(lambda ps: getattr(optim, name)(ps, maximize=True, **options),
                          sign=-1.0),
                     theirs(lambda ps: getattr(torch.optim, name)(ps, maximize=True, **options)),
                     rtol=1e-10, atol=1e-10)


ACCEPTED_FLAGS = {
    "SGD": [dict(foreach=True), dict(foreach=False), dict(fused=True), dict(fused=False),
            dict(differentiable=False)],
    "Adam": [dict(foreach=True), dict(fused=True), dict(capturable=False),
             dict(differentiable=False)],
    "AdamW": [dict(foreach=False), dict(fused=True), dict(capturable=False),
              dict(differentiable=False)],
    "RMSprop": [dict(foreach=True), dict(capturable=False), dict(differentiable=False)],
}


@pytest.mark.parametrize("name, flags", [(n, f) for n, fs in ACCEPTED_FLAGS.items() for f in fs],
                         ids=str)
def test_extra_keyword_arguments_are_accepted_and_change_nothing(name, flags):
    cls = getattr(optim, name)
    assert_same_path(path(lambda ps: cls(ps, **flags)), path(cls))
    group = cls([nn.Parameter(np.zeros(1))], **flags).param_groups[0]
    assert {k: group[k] for k in flags} == flags


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_defaults_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    ours = getattr(optim, name)([nn.Parameter(np.zeros(1))]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
    assert ours == theirs


def test_adam_with_decoupled_weight_decay_is_adamw():
    assert_same_path(path(lambda ps: optim.Adam(ps, lr=0.05, weight_decay=0.1,
                                                decoupled_weight_decay=True)),
                     path(lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1)))


@pytest.mark.parametrize("make, error, match", [
    (lambda ps: optim.Adam(ps, capturable=True), NotImplementedError,
     "Adam: capturable=True is not supported"),
    (lambda ps: optim.RMSprop(ps, capturable=True), NotImplementedError,
     "RMSprop: capturable=True is not supported"),
    (lambda ps: optim.SGD(ps, differentiable=True), NotImplementedError,
     "SGD: differentiable=True is not supported"),
    (lambda ps: optim.AdamW(ps, differentiable=True), NotImplementedError,
     "AdamW: differentiable=True is not supported"),
    (lambda ps: optim.SGD([{"params": ps, "differentiable": True}]), NotImplementedError,
     "SGD: differentiable=True"),
    (lambda ps: optim.Adam(ps, foreach=True, fused=True), ValueError,
     "foreach=True and fused=True cannot be used together"),
    (lambda ps: optim.SGD(ps, capturable=False), TypeError, "capturable"),  # as PyTorch
    (lambda ps: optim.RMSprop(ps, fused=False), TypeError, "fused"),  # as PyTorch
    (lambda ps: optim.SGD(ps, lr=-0.1), ValueError, "SGD: lr must be >= 0.0, got -0.1"),
    (lambda ps: optim.SGD(ps, lr="0.1"), TypeError, "SGD: lr must be a real number, got '0.1'"),
    (lambda ps: optim.Adam(ps, betas=(0.9, 1.0)), ValueError,
     r"Adam: betas\[1\] must be >= 0.0 and < 1.0, got 1.0"),
    (lambda ps: optim.Adam(ps, betas=(0.9,)), ValueError, r"betas must be a pair"),
    (lambda ps: optim.AdamW(ps, eps=-1e-8), ValueError, "AdamW: eps must be >= 0.0"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.5), ValueError,
     "RMSprop: alpha must be >= 0.0, got -0.5"),
    (lambda ps: optim.SGD([("w", ps[0]), ps[0]]), ValueError, "got 1 named of 2"),
])
def test_optimizer_errors_name_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make([nn.Parameter(np.zeros(1))])


def test_zero_grad_set_to_none_false_zeroes_in_place():
    a, b = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))
    opt = optim.SGD([a, b])
    a.grad = grad = np.full(3, 5.0)
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and not grad.any() and b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_named_parameters_are_kept_as_param_names():
    w, bias = nn.Parameter(np.ones((1, 2))), nn.Parameter(np.zeros(1))
    opt = optim.SGD([("weight", w), ("bias", bias)], lr=0.1)
    kept = opt.param_groups[0]["params"]
    assert len(kept) == 2 and kept[0] is w and kept[1] is bias
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_state_is_keyed_by_parameter_as_pytorch():
    # SGD's first momentum buffer is the gradient itself
    p = nn.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.array([3.0, -1.0])
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [3.0, -1.0])


def test_state_dict_carries_maximize_and_older_ones_keep_the_current_value():
    maximizing = path(lambda ps: optim.Adam(ps, lr=0.05, maximize=True), sign=-1.0, steps=6)

    params = [nn.Parameter(a.copy()) for a in start_arrays()]
    first = optim.Adam(params, lr=0.05, maximize=True)
    for _ in range(3):
        for p in params:
            p.grad = field(p.data, -1.0)
        first.step()
    saved = first.state_dict()
    second = optim.Adam(params, lr=0.05)  # maximize=False until the state_dict says otherwise
    second.load_state_dict(saved)
    assert second.param_groups[0]["maximize"] is True
    for _ in range(3):
        for p in params:
            p.grad = field(p.data, -1.0)
        second.step()
    assert_same_path([[p.data for p in params]], [maximizing[-1]])

    older = {"state": saved["state"], "param_groups": [
        {k: v for k, v in g.items() if k != "maximize"} for g in saved["param_groups"]]}
    third = optim.Adam(params, lr=0.05, maximize=True)
    third.load_state_dict(older)
    assert third.param_groups[0]["maximize"] is True
