"""Checks for the exercises of lesson 04, exponential moving averages."""

import numpy as np

from ..moving_averages import ExponentialMovingAverage, effective_decay, ema_step, moving_average
from . import Mistake, check_function

__all__ = ["check_ema_step", "check_decay_with_num_updates", "check_debiased_ema", "check_sgd_with_ema"]

SWAPPED = ("the weights are swapped: the *old* shadow keeps the large share, "
           "shadow = decay * shadow + (1 - decay) * value (TensorFlow: shadow -= (shadow - value) * (1 - decay)).")
NO_WARMUP = ("the num_updates warm-up is missing: with a step count n TensorFlow uses "
             "min(decay, (1 + n) / (10 + n)), so the first averages follow the weights closely.")
ZERO_SHADOW = ("the shadow starts at zero, but TensorFlow starts it as a copy of the variable "
               "(ema.apply creates it from the variable's value), so there is no pull towards 0.")


# --------------------------------------------------------------------------- exercise 1
def check_ema_step(student_ema_step):
    """Exercise 1: ``ema_step(shadow, value, decay)``, one update, returning a new array."""
    rng = np.random.default_rng(11)
    cases = [(np.array([0.0]), np.array([1.0]), 0.1),
             (np.array([0.9]), np.array([10.0]), 0.9181818),
             (rng.normal(size=4), rng.normal(size=4), 0.99),
             (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.5),
             (np.array([2.0, -1.0], np.float32), np.array([1.0, 1.0], np.float32), 0.9)]
    check_function(student_ema_step, ema_step, cases, name="ema_step", mistakes=[
        Mistake(lambda s, v, d: d * v + (1 - d) * s, SWAPPED),
        Mistake(lambda s, v, d: d * v, "that is the tutorial's shorthand \"shadow = decay * parameter\"; the "
                                      "full rule also keeps the old shadow: decay * shadow + (1 - decay) * value."),
        Mistake(lambda s, v, d: s + (s - v) * (1 - d), "the sign is flipped: the shadow moves *towards* the "
                                                      "value, shadow - (shadow - value) * (1 - decay)."),
        Mistake(lambda s, v, d: d * s + v, "the new value needs the factor (1 - decay), or the average grows "
                                          "without bound."),
        Mistake(lambda s, v, d: d * s + (1 - d) * s, "the value is missing: you averaged the shadow with itself."),
    ])


# --------------------------------------------------------------------------- exercise 2
def _decay_reference(decay, num_updates=None):
    return effective_decay(decay, num_updates)


def check_decay_with_num_updates(student_fn):
    """Exercise 2: ``decay_with_num_updates(decay, num_updates)``, TensorFlow's warm-up rule."""
    cases = [(0.99, None), (0.99, 0), (0.99, 100), (0.99, 5000), (0.9, 3), (0.5, 0), (0.999, 9)]
    check_function(student_fn, _decay_reference, cases, name="decay_with_num_updates", mistakes=[
        Mistake(lambda d, n: d, NO_WARMUP + " (If you wrote 1 + n/10 + n, as the tutorial's text does, mind "
                                            "the brackets: (1 + n) / (10 + n).)"),
        Mistake(lambda d, n: d if n is None else (1 + n) / (10 + n),
                "the cap is missing: take min(decay, (1 + n) / (10 + n)); (1 + n) / (10 + n) alone tends to 1."),
        Mistake(lambda d, n: d if n is None else max(d, (1 + n) / (10 + n)),
                "use min, not max: the warm-up makes the decay *smaller* at the start."),
        Mistake(lambda d, n: d if n is None else min(d, (1 + n) // (10 + n)),
                "`//` is integer division and gives 0 here; use `/`: (1 + n) / (10 + n) is 0.1 at n = 0."),
        Mistake(lambda d, n: min(d, 0.1) if n is None else min(d, (1 + n) / (10 + n)),
                "without num_updates (None) TensorFlow uses the decay unchanged."),
    ])


# --------------------------------------------------------------------------- exercise 3
def _debiased_reference(series, decay):
    return moving_average(series, decay, bias_correction=True)


def _from_first_value(series, decay):
    x = np.asarray(series, float)
    out, v = [], x[0]
    for t, xt in enumerate(x, start=1):
        v = decay * v + (1 - decay) * xt
        out.append(v / (1 - decay ** t))
    return np.array(out)


def check_debiased_ema(student_fn):
    """Exercise 3: ``debiased_ema(series, decay)``, the average from zero divided by ``1 - decay**t``."""
    rng = np.random.default_rng(12)
    cases = [(np.full(6, 4.0), 0.9), (rng.normal(5.0, 1.0, 20), 0.8), (rng.normal(size=12), 0.5),
             (np.array([1.0, 2.0, 3.0]), 0.99)]
    check_function(student_fn, _debiased_reference, cases, name="debiased_ema", rtol=1e-6, atol=1e-9, mistakes=[
        Mistake(lambda x, d: moving_average(x, d),
                "the bias correction is missing: divide the average after t values by 1 - decay**t."),
        Mistake(lambda x, d: moving_average(x, d) / (1 - d ** np.arange(len(x))),
                "count t from 1: after the first value the divisor is 1 - decay**1 (t = 0 divides by zero)."),
        Mistake(lambda x, d: moving_average(x, d) * (1 - d ** np.arange(1, len(x) + 1)),
                "divide by 1 - decay**t, do not multiply."),
        Mistake(_from_first_value,
                "start the average at zero: the correction 1 - decay**t undoes exactly the pull of a zero start "
                "(starting at the first value, as TensorFlow's shadow does, needs no correction)."),
        Mistake(lambda x, d: moving_average(x, d) / (1 - d),
                "the divisor changes with t: 1 - decay**t, not 1 - decay."),
    ])


# --------------------------------------------------------------------------- exercise 4
def _sgd_with_ema_reference(w0, noise, learning_rate, decay, *, shadow0=None, counts=None,
                            before=False, ema_cls=ExponentialMovingAverage):
    ema = ema_cls(decay)
    w = np.asarray(w0, dtype=float)
    state = ema.init(w)
    if shadow0 is not None:
        state = state._replace(shadow=np.full_like(w, shadow0))
    weights, shadows = [w], [state.shadow]
    for k, n in enumerate(noise, start=1):
        count = k if counts is None else counts(k)
        if before:
            state = ema.apply(w, state, num_updates=count)
        w = w - learning_rate * (2 * (w - 3.0) + n)
        if not before:
            state = ema.apply(w, state, num_updates=count)
        weights.append(w)
        shadows.append(state.shadow)
    return np.array(weights), np.array(shadows)


class _SwappedEMA(ExponentialMovingAverage):
    def apply(self, var_list, state, num_updates=None):
        d = np.float32(self.decay_at(num_updates))
        return state._replace(shadow=d * np.asarray(var_list) + (1 - d) * state.shadow, count=state.count + 1)


def _without_warmup(w0, noise, lr, decay):
    weights, _ = _sgd_with_ema_reference(w0, noise, lr, decay)
    state, ema = None, ExponentialMovingAverage(decay)
    shadows = []
    for w in weights:
        state = ema.init(w) if state is None else ema.apply(w, state)
        shadows.append(state.shadow)
    return weights, np.array(shadows)


def check_sgd_with_ema(student_fn):
    """Exercise 4: ``sgd_with_ema(w0, noise, learning_rate, decay)``: SGD plus TensorFlow's EMA."""
    rng = np.random.default_rng(13)
    cases = [(0.0, rng.normal(0, 2, 30), 0.1, 0.99),
             (np.array([5.0, -1.0]), rng.normal(0, 1, (40, 2)), 0.2, 0.9),
             (10.0, rng.normal(0, 3, 15), 0.05, 0.999),
             (1.0, np.zeros(5), 0.5, 0.5)]
    check_function(student_fn, _sgd_with_ema_reference, cases, name="sgd_with_ema", mistakes=[
        Mistake(lambda *a: _sgd_with_ema_reference(*a, shadow0=0.0), ZERO_SHADOW),
        Mistake(_without_warmup, NO_WARMUP + " Pass num_updates = the number of updates done so far."),
        Mistake(lambda *a: _sgd_with_ema_reference(*a, ema_cls=_SwappedEMA), SWAPPED),
        Mistake(lambda *a: _sgd_with_ema_reference(*a, counts=lambda k: k - 1),
                "num_updates is off by one: after the k-th update the step counter holds k (1 after the first)."),
        Mistake(lambda *a: _sgd_with_ema_reference(*a, before=True),
                "the average is updated *before* the SGD step; apply it after each update, to the new weights."),
    ])
