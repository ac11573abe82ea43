"""Learning-rate schedules, as torch.optim.lr_scheduler.

As in PyTorch, creating a scheduler sets the epoch-0 rates at once, and `scheduler.step()`
is called after `optimizer.step()`, once per epoch (or once per batch for OneCycleLR).
Most schedules are chainable, as PyTorch's: a step rescales each group's *current* rate,
so two schedulers on one optimizer compose, and a rate changed by hand is carried along.
`step(epoch)` (deprecated in PyTorch) jumps to an epoch with the closed form instead, from
the base rates; SequentialLR uses that jump to restart a schedule at its milestone.
"""
import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter

from .optimizer import Optimizer, check_number


class LRScheduler:
    """Base class. A subclass defines `get_lr()`: the rates at `self.last_epoch`, which may
    read each group's current rate (chainable) and `self._is_initial` (True during the
    constructor's step). `_closed_form_lr()`, used when jumping to an epoch, defaults to it.
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: optimizer must be an Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise ValueError(f"{type(self).__name__}: resuming (last_epoch={last_epoch}) "
                                 f"needs 'initial_lr' in every parameter group")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The constructor's step to epoch last_epoch + 1: it sets epoch 0's rates; when
        resuming, the chainable schedules leave the loaded rates as they are."""
        self._is_initial = True
        try:
            self._advance()
        finally:
            self._is_initial = False

    def get_lr(self):
        raise NotImplementedError(f"{type(self).__name__} must define get_lr")

    def _closed_form_lr(self):
        """The rates at `self.last_epoch` from the base rates alone; a schedule without a
        closed form takes its ordinary step instead (as in PyTorch)."""
        return self.get_lr()

    def step(self, epoch=None):
        """Advance one epoch. `epoch` (deprecated, as in PyTorch) jumps there instead, with
        the closed form where the schedule has one."""
        if epoch is not None:
            warnings.warn(f"{type(self).__name__}.step(epoch) is deprecated as in PyTorch: "
                          f"call step() once per epoch", UserWarning, stacklevel=2)
        self._advance(epoch)

    def _advance(self, epoch=None):
        """Move to the next epoch by the chainable rule, or jump to `epoch` by the closed
        form, and set the rates."""
        if epoch is None:
            self.last_epoch += 1
            self._set_rates(self.get_lr())
        else:
            self.last_epoch = epoch
            self._set_rates(self._closed_form_lr())

    def _set_rates(self, rates):
        for group, lr in zip(self.optimizer.param_groups, rates):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The rates set by the latest step."""
        return self._last_lr

    def state_dict(self):
        """Every attribute but the optimizer, as PyTorch."""
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        vars(self).update(state_dict)


_LRScheduler = LRScheduler  # the name older PyTorch code subclasses


class _ScaledLR(LRScheduler):
    """A schedule lr_t = eta_min + (base_lr - eta_min) * scale(t), stepped chainably:

        lr <- eta_min + (lr - eta_min) * scale(t) / scale(t - 1),   scale(-1) = 1

    so that it composes with other schedulers; where scale(t - 1) = 0 (the bottom of a
    cosine, the end of a polynomial decay) the ratio is undefined and the step adds
    (base_lr - eta_min) * (scale(t) - scale(t - 1)) instead. Jumps use the closed form.
    """

    eta_min = 0.0  # the floor the rate decays towards; 0 for the multiplicative schedules

    def scale(self, epoch):
        raise NotImplementedError(f"{type(self).__name__} must define scale")

    def get_lr(self):
        t, groups = self.last_epoch, self.optimizer.param_groups
        if self._is_initial and t > 0:
            return [group["lr"] for group in groups]  # resuming: keep the loaded rates
        before, now = (self.scale(t - 1) if t > 0 else 1.0), self.scale(t)
        if before == 0:
            return [group["lr"] + (base - self.eta_min) * (now - before)
                    for group, base in zip(groups, self.base_lrs)]
        return [self.eta_min + (group["lr"] - self.eta_min) * (now / before)
                for group in groups]

    def _closed_form_lr(self):
        return [self.eta_min + (base - self.eta_min) * self.scale(self.last_epoch)
                for base in self.base_lrs]


class StepLR(_ScaledLR):
    """scale = gamma ** (epoch // step_size): decay by gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        _check_count("StepLR", "step_size", step_size)
        check_number("StepLR", "gamma", gamma)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def scale(self, epoch):
        return self.gamma ** (epoch // self.step_size)


class MultiStepLR(_ScaledLR):
    """scale = gamma ** (number of milestones <= epoch): decay by gamma at each milestone
    (a milestone listed twice decays twice)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        for milestone in milestones:
            _check_count("MultiStepLR", "milestones", milestone, low=0)
        check_number("MultiStepLR", "gamma", gamma)
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def scale(self, epoch):
        return self.gamma ** sum(n for m, n in self.milestones.items() if m <= epoch)


class ConstantLR(_ScaledLR):
    """scale = `factor` before epoch total_iters, 1 from then on."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        check_number("ConstantLR", "factor", factor, high=1.0)
        _check_count("ConstantLR", "total_iters", total_iters)
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def scale(self, epoch):
        return self.factor if epoch < self.total_iters else 1.0


class LinearLR(_ScaledLR):
    """scale = start + (end - start) * min(epoch, total_iters) / total_iters: a linear
    ramp from start_factor to end_factor over total_iters epochs (a warm-up when rising)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must lie in (0, 1], got "
                             f"{start_factor!r}")
        check_number("LinearLR", "end_factor", end_factor, high=1.0)
        _check_count("LinearLR", "total_iters", total_iters)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def scale(self, epoch):
        progress = min(epoch, self.total_iters) / self.total_iters
        return self.start_factor + (self.end_factor - self.start_factor) * progress


class ExponentialLR(_ScaledLR):
    """scale = gamma ** epoch: decay by gamma every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        check_number("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def scale(self, epoch):
        return self.gamma ** epoch


class PolynomialLR(_ScaledLR):
    """scale = (1 - min(epoch, total_iters) / total_iters) ** power: down to 0 at
    total_iters (linearly for power 1)."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        _check_count("PolynomialLR", "total_iters", total_iters)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def scale(self, epoch):
        return (1.0 - min(epoch, self.total_iters) / self.total_iters) ** self.power


class CosineAnnealingLR(_ScaledLR):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2 (SGDR without
    restarts): from base_lr down to eta_min at epoch T_max, back up after it."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not 0 < T_max < math.inf:  # (NaN fails too)
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def scale(self, epoch):
        return (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class _LambdaScheduler(LRScheduler):
    """Shared by LambdaLR and MultiplicativeLR: one function of the epoch per group. Their
    state_dict leaves out plain functions and lambdas (None in their place) and keeps the
    attributes of callable objects, as PyTorch, so that it pickles."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        name, count = type(self).__name__, len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != count:
                raise ValueError(f"{name}: lr_lambda has {len(lr_lambda)} functions for "
                                 f"{count} parameter groups")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * count
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"{name}: lr_lambda must be a function of the epoch, got "
                                f"{type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        state = super().state_dict()
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else
                               fn.__dict__.copy() for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas")
        super().load_state_dict(state)
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class LambdaLR(_LambdaScheduler):
    """lr = base_lr * lr_lambda(epoch). It sets the rate outright (not chainable)."""

    def get_lr(self):
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """lr <- lr * lr_lambda(epoch) at every step (the constructor's step leaves it)."""

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        return [group["lr"] * fn(self.last_epoch) for fn, group in zip(self.lr_lambdas, groups)]


class SequentialLR(LRScheduler):
    """schedulers[i] runs from milestones[i-1] (0 for the first) until milestones[i]; at its
    milestone a scheduler restarts from its own epoch 0 (its closed form there, from the
    base rates), whatever the previous one left."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError("SequentialLR: schedulers is empty; give at least one")
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(f"SequentialLR: schedulers[{i}] must be an LRScheduler, got "
                                f"{type(scheduler).__name__}")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"SequentialLR: schedulers[{i}] is a ReduceLROnPlateau, "
                                 f"whose step needs a metric; it cannot be sequenced")
            if isinstance(scheduler, SequentialLR):
                raise NotImplementedError(f"SequentialLR: schedulers[{i}] is a SequentialLR; "
                                          f"nesting them is not supported (PyTorch's fails "
                                          f"at the inner one's milestone)")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: schedulers[{i}] "
                                 f"({type(scheduler).__name__}) belongs to another optimizer")
        if len(milestones) != len(schedulers) - 1 or milestones != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must be {len(schedulers) - 1} "
                             f"increasing epochs for {len(schedulers)} schedulers, got "
                             f"{milestones}")
        self.optimizer = optimizer
        self._schedulers, self._milestones = schedulers, milestones
        self.last_epoch = last_epoch + 1
        # Each scheduler's constructor already stepped once: undo that, start from the
        # base rates, and let only the scheduler of epoch 0 take its first step.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        first = schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        """One epoch on: the scheduler of the new epoch steps, or restarts at its milestone."""
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._advance(0)
        else:
            scheduler._advance()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        super().load_state_dict(state)
        for scheduler, scheduler_state in zip(self._schedulers, saved):
            scheduler.load_state_dict(scheduler_state)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): lr = eta_min + (base_lr - eta_min)
    (1 + cos(pi T_cur / T_i)) / 2, T_cur the epochs since the last restart and T_i =
    T_0 T_mult^i the length of the current cycle. `step(epoch)` takes fractional epochs
    (step(epoch + i / batches) once per batch), as PyTorch, without a deprecation warning.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        _check_count("CosineAnnealingWarmRestarts", "T_0", T_0)
        _check_count("CosineAnnealingWarmRestarts", "T_mult", T_mult)
        check_number("CosineAnnealingWarmRestarts", "eta_min", eta_min)
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]

    def step(self, epoch=None):
        """One epoch on, or to `epoch` (a float is fine), restarting the cosine as due."""
        self._advance(epoch)

    def _advance(self, epoch=None):
        """Move T_cur (and T_i) one epoch on, or place them for `epoch`; set the rates."""
        if epoch is None and self.last_epoch >= 0:
            self.last_epoch += 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:  # a restart; the next cycle is T_mult times longer
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            epoch = 0 if epoch is None else epoch  # the constructor's step starts at 0
            if not 0 <= epoch < math.inf:
                raise ValueError(f"CosineAnnealingWarmRestarts: epoch must be a finite "
                                 f"number >= 0, got {epoch}")
            # cycle i starts at T_0 (T_mult^i - 1) / (T_mult - 1), or at i T_0 for T_mult 1
            start, self.T_i = 0, self.T_0
            while epoch >= start + self.T_i:
                start += self.T_i
                self.T_i *= self.T_mult
            self.T_cur = epoch - start
            self.last_epoch = math.floor(epoch)
        self._set_rates(self.get_lr())


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith, 2018), as torch.optim.lr_scheduler.OneCycleLR, stepped
    once per batch for `total_steps` (or epochs * steps_per_epoch) steps.

    The rate warms up from max_lr / div_factor to max_lr over the first pct_start of the
    steps, then anneals to max_lr / (div_factor * final_div_factor); with three_phase it
    first comes back down to the initial rate, symmetrically, and only then anneals.
    With cycle_momentum the momentum (SGD) or beta1 (Adam) moves the opposite way,
    between max_momentum and base_momentum.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or both epochs and "
                                 "steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if total_steps <= 0:
            raise ValueError(f"OneCycleLR: total_steps must be positive, got {total_steps}")
        for value in max_lr if isinstance(max_lr, (list, tuple)) else [max_lr]:
            check_number("OneCycleLR", "max_lr", value)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must lie in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.total_steps = total_steps
        self.anneal = _anneal_cos if anneal_strategy == "cos" else _anneal_linear
        warmup_end = float(pct_start * total_steps) - 1
        # each phase: (last step, lr from, lr to, momentum from, momentum to)
        if three_phase:
            self.phases = [
                (warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                 "base_momentum", "max_momentum"),
                (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self.phases = [
                (warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        groups = optimizer.param_groups
        max_lrs = _per_group("max_lr", max_lr, groups)
        if last_epoch == -1:
            for group, group_max_lr in zip(groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("OneCycleLR: cycle_momentum=True needs an optimizer with "
                                 "'momentum' or 'betas'")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                for group, high, low in zip(groups,
                                            _per_group("max_momentum", max_momentum, groups),
                                            _per_group("base_momentum", base_momentum, groups)):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, but total_steps is "
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, mom_from, mom_to) in enumerate(self.phases):
                if step <= end or i == len(self.phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self.anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self.anneal(group[mom_from], group[mom_to],
                                                              pct))
                    break
                start = end
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rates by `factor` (not below min_lr) once the metric given to
    `step(metric)` has not improved for more than `patience` steps, then wait `cooldown`
    steps before counting again. Improving means, for mode "min", metric < best (1 -
    threshold) ("rel") or metric < best - threshold ("abs"); for "max" the mirror image.
    A reduction smaller than eps is skipped.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: optimizer must be an Optimizer, got "
                            f"{type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        check_number("ReduceLROnPlateau", "factor", factor, high=1.0, high_open=True)
        _check_count("ReduceLROnPlateau", "patience", patience, low=0)
        _check_count("ReduceLROnPlateau", "cooldown", cooldown, low=0)
        groups = optimizer.param_groups
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        # a scalar min_lr also covers groups added later; a list is one value per group
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.min_lrs = _per_group("min_lr", min_lr, groups, "ReduceLROnPlateau")
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in groups]

    def step(self, metrics, epoch=None):
        """Record one epoch's metric (a number or one-element tensor); reduce if on a
        plateau."""
        current = float(metrics)
        if epoch is not None:
            warnings.warn("ReduceLROnPlateau.step(metrics, epoch) is deprecated as in "
                          "PyTorch: call step(metrics) once per epoch", UserWarning,
                          stacklevel=2)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._improves(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:  # bad epochs during a cooldown do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _improves(self, value):
        sign = 1 if self.mode == "min" else -1  # "max" is "min" of the negated metric
        if self.threshold_mode == "rel":
            return sign * value < sign * self.best * (1 - sign * self.threshold)
        return sign * value < sign * self.best - self.threshold

    def _reduce(self):
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: min_lr has {len(self.min_lrs)} values "
                                   f"but the optimizer now has {len(groups)} parameter "
                                   f"groups; set min_lrs to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            new_lr = max(group["lr"] * self.factor, min_lr)
            if group["lr"] - new_lr > self.eps:
                group["lr"] = new_lr


def _anneal_cos(start, end, pct):
    """From start (pct=0) to end (pct=1) along half a cosine."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start, end, pct):
    return (end - start) * pct + start


def _per_group(name, value, groups, owner="OneCycleLR"):
    """A scalar for every group, or a list with one value per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{owner}: {name} has {len(value)} values for "
                             f"{len(groups)} parameter groups")
        return list(value)
    return [value] * len(groups)


def _check_count(owner, name, value, low=1):
    """Raise unless `value` is an int >= low (TypeError for a non-int, ValueError if small)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r} "
                        f"({type(value).__name__})")
    if value < low:
        raise ValueError(f"{owner}: {name} must be >= {low}, got {value}")
