"""Optimisers and schedules without PyTorch: hand-worked steps, state_dict, groups, errors.

(Step-for-step agreement with PyTorch is in test_torch_parity_optim.py.)
"""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim import lr_scheduler


def run_on_square(optimizer_cls, steps=2, p0=1.0, **options):
    """Minimise f(p) = p^2 (gradient 2p) from p0; return p after each step."""
    p = nn.Parameter(np.array([p0]))
    opt = optimizer_cls([p], **options)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
        trajectory.append(p.data[0])
    return trajectory


def test_sgd_momentum_two_steps_by_hand():
    # g1 = 2*1 = 2;      b1 = g1 = 2 (the first buffer is the gradient);  p1 = 1 - 0.1*2 = 0.8
    # g2 = 2*0.8 = 1.6;  b2 = 0.9*2 + 1.6 = 3.4;                           p2 = 0.8 - 0.34 = 0.46
    assert run_on_square(optim.SGD, lr=0.1, momentum=0.9) == pytest.approx([0.8, 0.46], 1e-12)


def test_sgd_nesterov_two_steps_by_hand():
    # g1 = 2;    b1 = 2;                       d1 = g1 + 0.9*b1 = 3.8;     p1 = 1 - 0.38 = 0.62
    # g2 = 1.24; b2 = 0.9*2 + 1.24 = 3.04;     d2 = 1.24 + 0.9*3.04 = 3.976; p2 = 0.62 - 0.3976
    assert run_on_square(optim.SGD, lr=0.1, momentum=0.9, nesterov=True) == pytest.approx(
        [0.62, 0.2224], 1e-12)


def test_sgd_weight_decay_and_dampening_by_hand():
    # wd 0.5 adds 0.5 p: g1 = 2 + 0.5 = 2.5; b1 = 2.5; p1 = 1 - 0.25 = 0.75
    # g2 = 1.5 + 0.375 = 1.875; dampening 0.5: b2 = 0.9*2.5 + 0.5*1.875 = 3.1875; p2 = 0.43125
    assert run_on_square(optim.SGD, lr=0.1, momentum=0.9, dampening=0.5,
                         weight_decay=0.5) == pytest.approx([0.75, 0.43125], 1e-12)


def test_adam_two_steps_by_hand():
    # lr 0.1, betas (0.9, 0.999), eps 1e-8.
    # step 1: g = 2; m = 0.1*2 = 0.2; v = 0.001*4 = 0.004; bias-corrected m^ = 0.2/0.1 = 2,
    #   v^ = 0.004/0.001 = 4; p = 1 - 0.1 * 2/(sqrt(4) + 1e-8) = 1 - 0.1*(1 - 5e-9) = 0.9000000005
    #   (Adam's first step is lr * sign(g), whatever the gradient's size).
    # step 2: g = 1.800000001; m = 0.18 + 0.1800000001 = 0.3600000001;
    #   v = 0.999*0.004 + 0.001*1.800000001^2 = 0.0072360000036;
    #   m^ = m / (1 - 0.81) = 1.8947368426; v^ = v / (1 - 0.998001) = 3.6198099067, sqrt 1.9025798;
    #   p = 0.9000000005 - 0.1 * 1.8947368426 / 1.9025798 = 0.9000000005 - 0.0995877718
    assert run_on_square(optim.Adam, lr=0.1) == pytest.approx([0.9000000005, 0.8004122287],
                                                              abs=1e-10)


def test_adamw_decays_weights_before_the_adam_step():
    # with a zero gradient Adam's step is 0 (m = 0), so only the decoupled decay acts:
    # p <- p (1 - lr wd) = 2 * (1 - 0.1*0.5) = 1.9 per step
    p = nn.Parameter(np.array([2.0]))
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    for expected in (1.9, 1.805):
        p.grad = np.zeros(1)
        opt.step()
        assert p.data[0] == pytest.approx(expected, 1e-12)


def test_rmsprop_first_step_by_hand():
    # v = 0.01 * g^2 with alpha 0.99; p = p - lr g / (sqrt(v) + eps) = 1 - 0.01 * 2/(0.2 + 1e-8)
    assert run_on_square(optim.RMSprop, steps=1)[0] == pytest.approx(1 - 0.02 / (0.2 + 1e-8),
                                                                     abs=1e-12)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.05, weight_decay=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.05),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
], ids=["sgd", "adam", "adamw", "rmsprop"])
def test_optimizer_state_dict_resumes_the_same_trajectory(make):
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(3, 2)), rng.normal(size=4)]

    def train(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            sum(((p * p * p).sum() for p in params), mg.Tensor(0.0)).backward()
            opt.step()

    params = [nn.Parameter(a.copy()) for a in start]
    opt = make(params)
    train(params, opt, 3)
    saved_params = [p.data.copy() for p in params]
    saved_state = opt.state_dict()
    train(params, opt, 3)

    resumed = [nn.Parameter(a) for a in saved_params]
    opt2 = make(resumed)
    opt2.load_state_dict(saved_state)
    train(resumed, opt2, 3)
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p.data, q.data)


def test_param_groups_override_defaults_and_frozen_parameters_are_skipped():
    a, b = nn.Parameter(np.array([1.0])), nn.Parameter(np.array([1.0]))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    a.grad, b.grad = np.array([1.0]), None  # b has no gradient: left alone
    opt.step()
    assert a.data[0] == pytest.approx(0.9) and b.data[0] == 1.0


def test_optimizer_errors():
    p = nn.Parameter(np.ones(1))
    with pytest.raises(ValueError, match="nesterov needs momentum > 0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def lrs(scheduler, optimizer, steps):
    out = [optimizer.param_groups[0]["lr"]]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        out.append(optimizer.param_groups[0]["lr"])
    return out


def make_sgd(**options):
    return optim.SGD([nn.Parameter(np.zeros(1))], **options)


def test_step_lr_by_hand():
    opt = make_sgd(lr=1.0)
    # gamma^(epoch // 2): 1, 1, 0.5, 0.5, 0.25
    assert lrs(lr_scheduler.StepLR(opt, step_size=2, gamma=0.5), opt, 4) == pytest.approx(
        [1, 1, 0.5, 0.5, 0.25])


def test_cosine_annealing_by_hand():
    opt = make_sgd(lr=1.0)
    # eta_min + (1 - eta_min)(1 + cos(pi t / 4))/2 with eta_min 0.2, t = 0..4, then back up at 5
    c = math.cos(math.pi / 4)
    expected = [1.0, 0.2 + 0.8 * (1 + c) / 2, 0.6, 0.2 + 0.8 * (1 - c) / 2, 0.2,
                0.2 + 0.8 * (1 - c) / 2]
    assert lrs(lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.2), opt, 5) == \
        pytest.approx(expected)


def test_one_cycle_by_hand():
    opt = make_sgd(lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3,
                                    anneal_strategy="linear")
    # warm-up from 1/25 = 0.04 to 1.0 over steps 0..2 (pct_start*10 - 1 = 2), then down to
    # 0.04/1e4 = 4e-6 at step 9; the momentum goes 0.95 -> 0.85 -> 0.95 the other way.
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    got = lrs(sched, opt, 9)
    assert got[:3] == pytest.approx([0.04, 0.52, 1.0])
    assert got[9] == pytest.approx(4e-6)
    assert got[5] == pytest.approx(1.0 + (4e-6 - 1.0) * 3 / 7)  # 3 of the 7 annealing steps
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="total_steps is 10"):
        sched.step()
        sched.step()


def test_one_cycle_needs_momentum_or_betas():
    class PlainDescent(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1))

        def update(self, param, grad, state, group):
            param -= group["lr"] * grad

    opt = PlainDescent([nn.Parameter(np.zeros(1))])
    with pytest.raises(ValueError, match="'momentum' or 'betas'"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)
