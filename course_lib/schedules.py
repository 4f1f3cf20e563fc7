"""Learning-rate schedules, each the twin of the ``tf.keras.optimizers.schedules`` class of the same name.

A schedule is a function of the step count: ``schedule(step)`` is the learning rate that
update number ``step`` uses, counting from 0 like Keras's ``optimizer.iterations``::

    lr = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.99, staircase=True)
    lr(0), lr(1), lr(np.arange(5))        # np.float32 values, or a float32 array
    opt = SGD(learning_rate=lr)           # any course_lib optimizer accepts a schedule

Every schedule computes in float32 with the same operations in the same order as Keras 3
(cast the step to float32, divide by ``decay_steps``, ...), so its values equal Keras's to
the last bit, or differ by one float32 rounding where numpy's ``cos``/``pow`` round the
last bit differently from TensorFlow's.

Where we differ from Keras, on purpose:

* Bad arguments raise ``ValueError`` naming the argument (Keras checks only
  ``decay_steps > 0``; it accepts negative rates and unsorted boundaries silently).
* The arithmetic is always float32.  Keras computes in the dtype of
  ``initial_learning_rate``, so an integer such as ``0`` (instead of ``0.0``) makes it
  compute in integers.
* ``step`` may be an array of steps (handy for plotting); Keras expects one step.

:func:`decay_explorer` is the pure computation behind the lesson's explorer widget.
"""

import math
from typing import NamedTuple

import numpy as np

from .core import check_bool, check_int, check_number, flush_subnormals, tf_pow

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "CosineDecay", "CosineDecayRestarts", "SCHEDULES", "make_schedule",
           "decay_explorer", "ExplorerResult"]

f32 = np.float32


# float32 cos and log, rounded from float64: the correctly rounded float32 value in all but
# astronomically rare cases.  TensorFlow's own float32 kernels are within one rounding of it.
# (pow is core.tf_pow, which the optimizers use too.)
def _cos(x):
    return flush_subnormals(np.cos(np.asarray(x, dtype=np.float64)))


def _log(x):
    return flush_subnormals(np.log(np.asarray(x, dtype=np.float64)))


def _as_step(step):
    """``step`` as an int64 array (0-d for one step), after checking it holds counts >= 0."""
    if hasattr(step, "numpy") and not isinstance(step, np.ndarray):
        step = step.numpy()  # a tf.Tensor or tf.Variable such as optimizer.iterations
    arr = np.asarray(step)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"`step` must be an integer step count (or an array of them); got {step!r}.")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)):
            raise TypeError(f"`step` must hold whole step counts; got {step!r}.")
    if np.any(arr < 0):
        raise ValueError(f"`step` must be >= 0 (the first update is step 0); got {step!r}.")
    return arr.astype(np.int64)


class LearningRateSchedule:
    """Base class: ``schedule(step)`` checks ``step`` and calls ``self._rate(step_as_float32)``.

    Returns ``np.float32`` for one step, a float32 array for an array of steps.
    """

    def __call__(self, step):
        step = _as_step(step)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            rate = flush_subnormals(self._rate(step))
        return rate[()] if rate.ndim == 0 else rate

    def _rate(self, step):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def _rate_arg(name, value):
    return check_number(name, value, 0, None)


def _steps_arg(name, value):
    return check_number(name, value, 0, None, low_open=True)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``: the rate shrinks by
    ``decay_rate`` every ``decay_steps`` steps.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``, so the rate stays
    constant for ``decay_steps`` steps and then drops by the factor ``decay_rate``: it still
    decays, in stairs.  Keras's order of operations, in float32::

        p = float32(step) / float32(decay_steps)
        if staircase: p = floor(p)
        return float32(initial_learning_rate) * float32(decay_rate) ** p

    Args:
        initial_learning_rate: the rate at step 0, >= 0.
        decay_steps: the number of steps over which the rate shrinks by ``decay_rate``, > 0.
        decay_rate: the factor per ``decay_steps`` steps, >= 0.
        staircase: decay in whole periods (``floor``) instead of continuously.
        name: kept for Keras's signature; unused.

    Examples:
        >>> lr = ExponentialDecay(0.5, decay_steps=10, decay_rate=0.5)
        >>> lr([0, 10, 20, 30])
        array([0.5   , 0.25  , 0.125 , 0.0625], dtype=float32)
        >>> lr(5)                                        # between: 0.5 * 0.5**0.5
        np.float32(0.35355338)
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        self.initial_learning_rate = _rate_arg("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps_arg("decay_steps", decay_steps)
        self.decay_rate = _rate_arg("decay_rate", decay_rate)
        self.staircase = check_bool("staircase", staircase)
        self.name = name

    def _rate(self, step):
        p = step.astype(f32) / f32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return f32(self.initial_learning_rate) * tf_pow(f32(self.decay_rate), p)


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``: the rate falls like 1/t.

    With ``decay_steps=1`` this is the rule behind the ``decay`` argument of old Keras
    optimizers, ``lr / (1 + decay * iterations)``.  With ``staircase=True`` the fraction is
    ``floor(step / decay_steps)``.  Keras's order, in float32::

        p = float32(step) / float32(decay_steps)
        if staircase: p = floor(p)
        return float32(initial_learning_rate) / (1 + float32(decay_rate) * p)

    Args:
        initial_learning_rate: the rate at step 0, >= 0.
        decay_steps: the steps that make one unit of ``decay_rate * step / decay_steps``, > 0.
        decay_rate: how fast the rate falls, >= 0.
        staircase: count whole periods of ``decay_steps`` (``floor``) instead of steps.
        name: kept for Keras's signature; unused.

    Examples:
        >>> lr = InverseTimeDecay(0.5, decay_steps=10, decay_rate=1.0)
        >>> lr([0, 10, 20, 30])                          # 0.5 / (1 + step / 10)
        array([0.5       , 0.25      , 0.16666667, 0.125     ], dtype=float32)
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = _rate_arg("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps_arg("decay_steps", decay_steps)
        self.decay_rate = _rate_arg("decay_rate", decay_rate)
        self.staircase = check_bool("staircase", staircase)
        self.name = name

    def _rate(self, step):
        p = step.astype(f32) / f32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return f32(self.initial_learning_rate) / (f32(1) + f32(self.decay_rate) * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while
    ``boundaries[0] < step <= boundaries[1]``, ..., ``values[-1]`` after ``boundaries[-1]``.

    A boundary step still uses the earlier value: with ``boundaries=[100]`` step 100 uses
    ``values[0]`` and step 101 is the first to use ``values[1]``.  ``boundaries`` are
    strictly increasing integers; ``values`` has one more entry than ``boundaries``.

    Args:
        boundaries: strictly increasing step counts (integers >= 0).
        values: the learning rates, one more than ``boundaries``, each >= 0.
        name: kept for Keras's signature; unused.

    Examples:
        >>> lr = PiecewiseConstantDecay(boundaries=[10, 20], values=[0.5, 0.25, 0.125])
        >>> lr([0, 10, 11, 20, 21])                      # a boundary step keeps the earlier value
        array([0.5  , 0.5  , 0.25 , 0.25 , 0.125], dtype=float32)
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if not isinstance(boundaries, (list, tuple, np.ndarray)) or len(boundaries) == 0:
            raise ValueError(f"`boundaries` must be a non-empty list of step counts; got {boundaries!r}.")
        if not isinstance(values, (list, tuple, np.ndarray)):
            raise ValueError(f"`values` must be a list of learning rates; got {values!r}.")
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"`values` must have one more entry than `boundaries`: got {len(boundaries)} "
                             f"boundaries and {len(values)} values.")
        self.boundaries = [check_int(f"boundaries[{i}]", b, 0) for i, b in enumerate(boundaries)]
        for i in range(1, len(self.boundaries)):
            if self.boundaries[i] <= self.boundaries[i - 1]:
                raise ValueError(f"`boundaries` must be strictly increasing; got {self.boundaries}.")
        self.values = [_rate_arg(f"values[{i}]", v) for i, v in enumerate(values)]
        self.name = name

    def _rate(self, step):
        # Keras adds indicator * value over the intervals; exactly one indicator is 1.
        index = np.searchsorted(np.asarray(self.boundaries, dtype=np.int64), step, side="left")
        return np.asarray(self.values, dtype=f32)[index]


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` in ``decay_steps`` steps along
    ``(1 - step / decay_steps) ** power``, then constant.

    With ``cycle=True`` it restarts instead: ``decay_steps`` is stretched to the first
    multiple of itself that is >= step (``1 * decay_steps`` at step 0).  Keras's order, in float32::

        if cycle: decay_steps = decay_steps * (1 if step == 0 else ceil(step / decay_steps))
        else:     step = min(step, decay_steps)
        p = step / decay_steps
        return (initial_learning_rate - end_learning_rate) * (1 - p) ** power + end_learning_rate

    Args:
        initial_learning_rate: the rate at step 0, >= 0.
        decay_steps: the steps from the initial to the end rate, > 0.
        end_learning_rate: the rate after ``decay_steps``, >= 0.
        power: the exponent of ``1 - step / decay_steps``, >= 0 (1 is a straight line).
        cycle: restart each time ``decay_steps`` is reached, instead of staying at the end rate.
        name: kept for Keras's signature; unused.

    Examples:
        >>> lr = PolynomialDecay(0.5, decay_steps=20, end_learning_rate=0.0)
        >>> lr([0, 10, 20, 30])                          # a straight line, then constant
        array([0.5 , 0.25, 0.  , 0.  ], dtype=float32)
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = _rate_arg("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps_arg("decay_steps", decay_steps)
        self.end_learning_rate = _rate_arg("end_learning_rate", end_learning_rate)
        self.power = check_number("power", power, 0, None)
        self.cycle = check_bool("cycle", cycle)
        self.name = name

    def _rate(self, step):
        s = step.astype(f32)
        decay_steps = f32(self.decay_steps)
        if self.cycle:
            multiplier = np.where(s == 0, f32(1), np.ceil(s / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            s = np.minimum(s, decay_steps)
        p = s / decay_steps
        lr0, end = f32(self.initial_learning_rate), f32(self.end_learning_rate)
        return (lr0 - end) * tf_pow(f32(1) - p, f32(self.power)) + end


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then half a cosine from the peak rate down to ``alpha * peak``.

    Without ``warmup_target`` the peak is ``initial_learning_rate`` and::

        step = min(step, decay_steps)
        return initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)

    With ``warmup_target``, steps ``0 .. warmup_steps - 1`` climb linearly from
    ``initial_learning_rate`` towards ``warmup_target`` (``(target - initial) * step / warmup_steps
    + initial``); then the cosine runs from ``warmup_target`` over the next ``decay_steps``
    steps.  Keras casts ``1 - alpha`` (computed in double) and ``alpha`` to float32; so do we.

    Args:
        initial_learning_rate: the rate at step 0, >= 0.
        decay_steps: the length of the half cosine, > 0.
        alpha: the final rate as a fraction of the peak, in [0, 1].
        warmup_target: the peak reached after the warmup; None for no warmup.
        warmup_steps: the length of the linear warmup, >= 0.
        name: kept for Keras's signature; unused.

    Examples:
        >>> lr = CosineDecay(0.5, decay_steps=20)
        >>> np.round(lr([0, 10, 20, 30]), 4)             # half a cosine, then constant
        array([0.5 , 0.25, 0.  , 0.  ], dtype=float32)
        >>> CosineDecay(0.0, decay_steps=20, warmup_target=0.5, warmup_steps=10)([0, 5, 10])
        array([0.  , 0.25, 0.5 ], dtype=float32)
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = _rate_arg("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps_arg("decay_steps", decay_steps)
        self.alpha = check_number("alpha", alpha, 0, 1)
        self.name = name
        self.warmup_target = None if warmup_target is None else _rate_arg("warmup_target", warmup_target)
        self.warmup_steps = check_number("warmup_steps", warmup_steps, 0, None)

    def _decay(self, step, decay_steps, peak):
        completed_fraction = step / decay_steps
        cosine_decayed = f32(0.5) * (f32(1) + _cos(f32(math.pi) * completed_fraction))
        decayed = f32(1 - self.alpha) * cosine_decayed + f32(self.alpha)
        return peak * decayed

    def _rate(self, step):
        lr0 = f32(self.initial_learning_rate)
        decay_steps = f32(self.decay_steps)
        s = step.astype(f32)
        if self.warmup_target is None:
            return self._decay(np.minimum(s, decay_steps), decay_steps, lr0)
        target, warmup_steps = f32(self.warmup_target), f32(self.warmup_steps)
        s = np.minimum(s, decay_steps + warmup_steps)
        warm = (target - lr0) * (s / warmup_steps) + lr0
        return np.where(s < warmup_steps, warm, self._decay(s - warmup_steps, decay_steps, target))


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay that restarts (SGDR): period ``i`` lasts ``first_decay_steps * t_mul**i``
    steps and starts from ``initial_learning_rate * m_mul**i``; each period ends at ``alpha``
    times its starting rate.

    Keras finds the period ``i`` of a step from the geometric series (when ``t_mul != 1``)::

        f = step / first_decay_steps
        i = floor(log(1 - f * (1 - t_mul)) / log(t_mul))
        f = (f - (1 - t_mul**i) / (1 - t_mul)) / t_mul**i      # fraction of period i done
        return initial_learning_rate * ((1 - alpha) * (0.5 * m_mul**i * (1 + cos(pi * f))) + alpha)

    and from ``i = floor(f)`` when ``t_mul == 1``.

    Args:
        initial_learning_rate: the rate at step 0, >= 0.
        first_decay_steps: the length of the first period, > 0.
        t_mul: each period is ``t_mul`` times longer than the one before, >= 1.
        m_mul: each period starts ``m_mul`` times as high as the one before, >= 0.
        alpha: the rate at the end of a period as a fraction of its start, in [0, 1].
        name: kept for Keras's signature; unused.

    Examples:
        >>> lr = CosineDecayRestarts(0.5, first_decay_steps=10)
        >>> np.round(lr([0, 5, 10, 20, 30]), 4)          # periods of 10, then 20 steps
        array([0.5 , 0.25, 0.5 , 0.25, 0.5 ], dtype=float32)
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = _rate_arg("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _steps_arg("first_decay_steps", first_decay_steps)
        self.t_mul = check_number("t_mul", t_mul, 1, None)
        self.m_mul = _rate_arg("m_mul", m_mul)
        self.alpha = check_number("alpha", alpha, 0, 1)
        self.name = name

    def _rate(self, step):
        lr0, alpha = f32(self.initial_learning_rate), f32(self.alpha)
        t_mul, m_mul = f32(self.t_mul), f32(self.m_mul)
        fraction = step.astype(f32) / f32(self.first_decay_steps)
        one = f32(1)
        if t_mul == 1:
            i_restart = np.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = np.floor(_log(one - fraction * (one - t_mul)) / _log(t_mul))
            sum_r = (one - tf_pow(t_mul, i_restart)) / (one - t_mul)
            fraction = (fraction - sum_r) / tf_pow(t_mul, i_restart)
        m_fac = tf_pow(m_mul, i_restart)
        cosine_decayed = f32(0.5) * m_fac * (one + _cos(f32(math.pi) * fraction))
        return lr0 * ((one - alpha) * cosine_decayed + alpha)


#: The six schedules by name, for the explorer and for loops over "every schedule".
SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                            PolynomialDecay, CosineDecay, CosineDecayRestarts)}


def make_schedule(kind, initial_learning_rate, decay_steps, decay_rate):
    """One schedule of each kind from three shared knobs (used by the explorer).

    ``decay_rate`` is read as each schedule's strength: the factor per ``decay_steps`` for
    ``ExponentialDecay`` (staircase) and ``InverseTimeDecay``; the factor of each drop for
    ``PiecewiseConstantDecay`` (drops at 1x, 2x, 3x ``decay_steps``); the final fraction
    ``end_learning_rate / initial_learning_rate`` for ``PolynomialDecay``; ``alpha`` for the
    two cosine schedules.  ``"constant"`` gives a constant rate.
    """
    lr = check_number("initial_learning_rate", initial_learning_rate, 0, None, low_open=True)
    steps = check_int("decay_steps", decay_steps, 1)
    rate = check_number("decay_rate", decay_rate, 0, 1)
    if kind == "constant":
        return PiecewiseConstantDecay([steps], [lr, lr])
    if kind == "ExponentialDecay":
        return ExponentialDecay(lr, steps, rate, staircase=True)
    if kind == "InverseTimeDecay":
        return InverseTimeDecay(lr, steps, rate)
    if kind == "PiecewiseConstantDecay":
        return PiecewiseConstantDecay([steps, 2 * steps, 3 * steps], [lr * rate ** k for k in range(4)])
    if kind == "PolynomialDecay":
        return PolynomialDecay(lr, steps, end_learning_rate=lr * rate)
    if kind == "CosineDecay":
        return CosineDecay(lr, steps, alpha=rate)
    if kind == "CosineDecayRestarts":
        return CosineDecayRestarts(lr, steps, alpha=rate)
    raise ValueError(f"`kind` must be 'constant' or one of {list(SCHEDULES)}; got {kind!r}.")


class ExplorerResult(NamedTuple):
    kind: str
    steps: np.ndarray       # 0 .. n-1
    rates: np.ndarray       # learning rate used by each update (float32)
    loss: np.ndarray        # loss before the first update, then after each update
    constant_loss: np.ndarray  # the same run with the constant initial rate, for comparison
    verdict: str


def _noisy_sgd(rates, seed, noise, curvature=1.0, w0=5.0):
    """SGD on ``curvature/2 * w**2`` with Gaussian gradient noise: the loss after each update."""
    rng = np.random.default_rng(seed)
    kicks = rng.normal(0.0, noise, len(rates))
    w, losses = w0, [0.5 * curvature * w0 * w0]
    with np.errstate(over="ignore", invalid="ignore"):
        for lr, kick in zip(rates.astype(np.float64), kicks):
            w = w - lr * (curvature * w + kick)
            losses.append(0.5 * curvature * w * w)
    return np.asarray(losses)


def decay_explorer(kind="ExponentialDecay", initial_learning_rate=0.5, decay_steps=20, decay_rate=0.5,
                   n_steps=200, noise=2.0, seed=0):
    """What the explorer draws: a schedule's rates over ``n_steps`` and the loss of SGD run with them.

    The problem is ``w**2 / 2`` from ``w = 5`` with gradient noise of standard deviation
    ``noise`` (the noise of mini-batch gradients): a constant rate gets close fast but then
    jitters at a loss proportional to the rate; decay shrinks the jitter.  The verdict compares
    the mean loss over the last quarter of the run with the constant-rate run's.
    """
    n_steps = check_int("n_steps", n_steps, 4)
    noise = check_number("noise", noise, 0)
    seed = check_int("seed", seed, 0)
    schedule = make_schedule(kind, initial_learning_rate, decay_steps, decay_rate)
    steps = np.arange(n_steps)
    rates = schedule(steps)
    loss = _noisy_sgd(rates, seed, noise)
    constant = _noisy_sgd(np.full(n_steps, f32(initial_learning_rate)), seed, noise)
    tail = slice(-(n_steps // 4), None)
    if not np.isfinite(loss[-1]) or loss[-1] > 10 * loss[0]:
        verdict = (f"{kind}: the run diverged: its rate stayed above the stability limit "
                   "2 / curvature = 2 for too long")
    else:
        ours, const = float(np.mean(loss[tail])), float(np.mean(constant[tail]))
        verdict = (f"{kind}: final rate {float(rates[-1]):.3g}; mean loss over the last quarter {ours:.3g} "
                   f"vs {const:.3g} with the constant rate {float(initial_learning_rate):.3g}")
    return ExplorerResult(kind, steps, rates, loss, constant, verdict)
