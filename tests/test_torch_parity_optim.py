"""Optimisers and schedules follow PyTorch's trajectory step for step (20 steps)."""
import numpy as np
import pytest

from minigrad import nn, optim
from minigrad.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 20


def gradient(p):
    """A fixed non-linear gradient field, so the path depends on every detail of the update."""
    return 2 * (p - 0.5) + 0.3 * p ** 3 + 0.1 * np.cos(3 * p)


def start_arrays():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(3, 4)), rng.normal(size=5)]


def trajectories(make_ours, make_theirs, make_schedules=None, groups=False, steps=STEPS):
    """Run both optimisers from the same start on `gradient`; yield both states each step."""
    ours = [nn.Parameter(a.copy()) for a in start_arrays()]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start_arrays()]
    if groups:  # two groups, the second with its own learning rate
        our_opt = make_ours([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.02}])
        their_opt = make_theirs([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.02}])
    else:
        our_opt, their_opt = make_ours(ours), make_theirs(theirs)
    our_sched, their_sched = make_schedules(our_opt, their_opt) if make_schedules else (None,
                                                                                       None)
    for _ in range(steps):
        for p, q in zip(ours, theirs):
            p.grad = gradient(p.data)
            q.grad = torch.from_numpy(gradient(q.detach().numpy()))
        our_opt.step()
        their_opt.step()
        if our_sched is not None:
            our_sched.step()
            their_sched.step()
        yield our_opt, their_opt, ours, theirs


def assert_same_path(make_ours, make_theirs, **kwargs):
    for our_opt, their_opt, ours, theirs in trajectories(make_ours, make_theirs, **kwargs):
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-8, atol=1e-12)
        for ours_group, theirs_group in zip(our_opt.param_groups, their_opt.param_groups):
            assert ours_group["lr"] == pytest.approx(theirs_group["lr"], rel=1e-10, abs=1e-15)


SGD_OPTIONS = [dict(), dict(momentum=0.9), dict(momentum=0.9, dampening=0.3),
               dict(momentum=0.8, nesterov=True), dict(weight_decay=0.05),
               dict(momentum=0.9, dampening=0.1, weight_decay=0.05),
               dict(momentum=0.9, nesterov=True, weight_decay=0.05)]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
@pytest.mark.parametrize("groups", [False, True])
def test_sgd(options, groups):
    assert_same_path(lambda ps: optim.SGD(ps, lr=0.05, **options),
                     lambda ps: torch.optim.SGD(ps, lr=0.05, **options), groups=groups)


ADAM_OPTIONS = [dict(), dict(lr=0.05), dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
                dict(lr=0.05, weight_decay=0.1), dict(lr=0.05, amsgrad=True),
                dict(lr=0.05, weight_decay=0.1, amsgrad=True)]


@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_and_adamw(name, options):
    assert_same_path(lambda ps: getattr(optim, name)(ps, **options),
                     lambda ps: getattr(torch.optim, name)(ps, **options))


def test_adam_param_groups():
    assert_same_path(lambda ps: optim.Adam(ps, lr=0.05), lambda ps: torch.optim.Adam(ps, lr=0.05),
                     groups=True)


RMSPROP_OPTIONS = [dict(), dict(alpha=0.9, eps=1e-6), dict(momentum=0.9), dict(centered=True),
                   dict(weight_decay=0.1), dict(momentum=0.5, centered=True, weight_decay=0.1)]


@pytest.mark.parametrize("options", RMSPROP_OPTIONS, ids=str)
def test_rmsprop(options):
    assert_same_path(lambda ps: optim.RMSprop(ps, lr=0.01, **options),
                     lambda ps: torch.optim.RMSprop(ps, lr=0.01, **options))


def test_defaults_match_pytorch():
    p = nn.Parameter(np.zeros(1))
    q = torch.zeros(1, requires_grad=True)
    for name in ("SGD", "Adam", "AdamW", "RMSprop"):
        ours = getattr(optim, name)([p]).defaults
        theirs = getattr(torch.optim, name)([q]).defaults
        for key, value in ours.items():
            assert theirs[key] == value, (name, key)


SCHEDULES = {
    "step": lambda o, t, m: m.StepLR(o, step_size=3, gamma=0.5),
    "cosine": lambda o, t, m: m.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "onecycle": lambda o, t, m: m.OneCycleLR(o, max_lr=0.2, total_steps=STEPS),
    "onecycle-linear-3phase": lambda o, t, m: m.OneCycleLR(
        o, max_lr=[0.2, 0.1], epochs=4, steps_per_epoch=5, pct_start=0.25,
        anneal_strategy="linear", three_phase=True, div_factor=10, final_div_factor=100),
    "onecycle-fixed-momentum": lambda o, t, m: m.OneCycleLR(
        o, max_lr=0.2, total_steps=STEPS + 3, cycle_momentum=False),
}


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_schedules(schedule, optimizer):
    options = dict(lr=0.05, momentum=0.9) if optimizer == "SGD" else dict(lr=0.05)
    make = SCHEDULES[schedule]
    for our_opt, their_opt, ours, theirs in trajectories(
            lambda ps: getattr(optim, optimizer)(ps, **options),
            lambda ps: getattr(torch.optim, optimizer)(ps, **options),
            make_schedules=lambda o, t: (make(o, t, lr_scheduler),
                                         make(t, o, torch.optim.lr_scheduler)),
            groups=True, steps=STEPS - 1):
        for g, h in zip(our_opt.param_groups, their_opt.param_groups):
            assert g["lr"] == pytest.approx(h["lr"], rel=1e-10, abs=1e-15)
            momentum = "momentum" if optimizer == "SGD" else "betas"
            assert g[momentum] == pytest.approx(h[momentum], rel=1e-12)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-8, atol=1e-12)
