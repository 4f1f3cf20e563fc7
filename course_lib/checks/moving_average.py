"""Checks for the exercises of lesson 05, exponential moving averages."""

import contextlib
import copy
import io

import numpy as np

from ..moving_averages import ExponentialMovingAverage, effective_decay, ema_step, moving_average
from . import CheckFailed, Mistake, check_function, check_prediction, describe, failure_message, quietly
from .optimizers import with_linear_hint

__all__ = ["check_ema_step", "check_decay_with_num_updates", "check_debiased_ema", "check_sgd_with_ema",
           "check_sgd_with_keras_ema", "check_zero_start_prediction", "check_ramp_prediction"]

SWAPPED = ("decay and 1 - decay are swapped: the *old* shadow keeps the large share, "
           "shadow = decay * shadow + (1 - decay) * value (TensorFlow: shadow -= (shadow - value) * (1 - decay)).")
NO_RAMP = ("the num_updates ramp is missing: with a step count n TensorFlow uses "
           "min(decay, (1 + n) / (10 + n)), so the first averages follow the weights closely.")
ALWAYS_DECAY = ("your function returns `decay` itself for every step count, so min(...) never picks the ratio: "
                "written upside down, (10 + n) / (1 + n), or without brackets, 1 + n/10 + n, the ratio is at "
                "least 1; (1 + n) / (10 + n) is 0.1 at n = 0. (If there is no min at all, the num_updates ramp "
                "is missing.)")
NONE_NOT_HANDLED = ("num_updates=None is not handled: your formula did arithmetic with None (see the TypeError). The "
                    "exercise asks for `decay` itself when num_updates is None; test `num_updates is None` before "
                    "using it in the formula.")
WRONG_AXIS = ("update k uses a column of noise, noise[:, k - 1]: noise has one *row* per update and one column per "
              "weight, so update k uses the row noise[k - 1] (one value per weight).")
ALIASED_SHADOW = ("the shadow and w are one array: `shadow = w` does not copy, so the in-place `w -= ...` moved the "
                  "shadow too (after update 1 the shadow equals w). Start the shadow as a copy (`w.copy()`), or "
                  "write `w = w - ...`, which makes a new array.")
NUM_UPDATES_FROM_0 = ("num_updates is counted from 0: after the k-th update the step counter holds k (1 after "
                      "the first), so pass num_updates=k, e.g. `enumerate(..., start=1)`.")
ZERO_SHADOW = ("the shadow starts at zero, but TensorFlow starts it as a copy of the variable "
               "(ema.apply creates it from the variable's value), so there is no pull towards 0.")


# --------------------------------------------------------------------------- exercise 1
def check_ema_step(student_ema_step):
    """Exercise 1: ``ema_step(shadow, value, decay)``, one update, returning a new array.

    A slip that no catalogue entry explains is written back as a formula in shadow and value
    (the update is linear in both) and compared term by term.
    """
    rng = np.random.default_rng(11)
    cases = [(np.array([0.0]), np.array([1.0]), 0.1),
             (np.array([0.9]), np.array([10.0]), 0.9181818),
             (rng.normal(size=4), rng.normal(size=4), 0.99),
             (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.5),
             (np.array([2.0, -1.0], np.float32), np.array([1.0, 1.0], np.float32), 0.9)]
    atoms = [("decay", lambda a: a[2]), ("(1 - decay)", lambda a: 1 - a[2]), ("(1 + decay)", lambda a: 1 + a[2]),
             ("2", lambda a: 2.0)]
    with_linear_hint(lambda: _check_ema_step(student_ema_step, cases), student_ema_step, reference_fn=ema_step,
                     cases=cases[:4], linear=(0, 1), input_names=("shadow", "value"), output_names=("new shadow",),
                     atoms=atoms, max_atoms=2)


def _check_ema_step(student_ema_step, cases):
    check_function(student_ema_step, ema_step, cases, name="ema_step", mistakes=[
        Mistake(lambda s, v, d: d * v + (1 - d) * s, SWAPPED),
        Mistake(lambda s, v, d: d * v, "that is the tutorial's shorthand \"shadow = decay * parameter\"; the "
                                      "full rule also keeps the old shadow: decay * shadow + (1 - decay) * value."),
        Mistake(lambda s, v, d: s + (s - v) * (1 - d), "the sign is flipped: the shadow moves *towards* the "
                                                      "value, shadow - (shadow - value) * (1 - decay)."),
        Mistake(lambda s, v, d: d * s - (1 - d) * v, "the sign of the value's share is flipped: it is *added*, "
                                                    "decay * shadow + (1 - decay) * value."),
        Mistake(lambda s, v, d: d * s + v, "the new value needs the factor (1 - decay), or the average grows "
                                          "without bound."),
        Mistake(lambda s, v, d: d * s + (1 - d) * s, "the value is missing: you averaged the shadow with itself."),
        Mistake(lambda s, v, d: (1 - d) * v, "the old shadow's share, decay * shadow, is missing: "
                                            "decay * shadow + (1 - decay) * value."),
        Mistake(lambda s, v, d: d * s, "the value's share, (1 - decay) * value, is missing: "
                                      "decay * shadow + (1 - decay) * value."),
        Mistake(lambda s, v, d: d * s + 1 - d * v, "precedence: `1 - decay * value` is 1 - (decay * value); "
                                                  "put brackets around (1 - decay)."),
        Mistake(lambda s, v, d: s - (s - v) * 1 - d, "precedence: `(shadow - value) * 1 - decay` subtracts decay "
                                                    "after multiplying by 1; write (shadow - value) * (1 - decay)."),
        Mistake(lambda s, v, d: (s + v) / 2, "that is the plain mean of shadow and value; weight them by decay "
                                            "and 1 - decay."),
        Mistake(lambda s, v, d: d * (s + v),
                "the value's weight is 1 - decay, not decay: decay * shadow + (1 - decay) * value."),
        Mistake(lambda s, v, d: s - (s - v) / (1 - d),
                "multiply by (1 - decay), do not divide: shadow - (shadow - value) * (1 - decay)."),
        Mistake(lambda s, v, d: (d * s + (1 - d) * v) / (1 - d),
                "no division here: one step is decay * shadow + (1 - decay) * value (dividing by 1 - decay**t is "
                "the bias correction of exercise 3, for an average started at zero)."),
        Mistake(lambda s, v, d: s - (v - s) * d,
                "the shadow moves *towards* the value by the fraction 1 - decay: "
                "shadow - (shadow - value) * (1 - decay); "
                "you moved it away, by decay."),
        Mistake(lambda s, v, d: np.trunc(d * s + (1 - d) * v),
                "the result was cut to whole numbers (an integer dtype, e.g. `np.zeros_like` of an integer array "
                "or `.astype(int)`): keep the arrays float."),
    ])


# --------------------------------------------------------------------------- exercise 2
def _decay_reference(decay, num_updates=None):
    return effective_decay(decay, num_updates)


def _fails_only_on_none(student_fn, cases):
    """The TypeError the student's function raises on ``num_updates=None``, when it raises one about None
    there and on no other case; else None."""
    raised = None
    for decay, n in cases:
        try:
            with quietly(), contextlib.redirect_stdout(io.StringIO()):
                student_fn(decay, n)
        except TypeError as exc:
            if n is not None or "NoneType" not in str(exc):
                return None
            raised = raised or exc
        except Exception:
            return None
        else:
            if n is None:
                return None
    return raised


def check_decay_with_num_updates(student_fn):
    """Exercise 2: ``decay_with_num_updates(decay, num_updates)``, TensorFlow's num_updates ramp.

    A function that raises a TypeError about None only when ``num_updates`` is None is told that
    this case is not handled (the framework's generic hint about None speaks of gradients).
    """
    cases = [(0.99, None), (0.99, 0), (0.99, 100), (0.99, 5000), (0.9, 3), (0.5, 0), (0.999, 9)]
    try:
        _check_decay_with_num_updates(student_fn, cases)
    except CheckFailed:
        try:
            raised = _fails_only_on_none(student_fn, cases)
        except Exception:  # the failure's own sentence says what is wrong
            raised = None
        if raised is None:
            raise
        details = [("what", f"raised TypeError: {raised}"), ("called as", "decay_with_num_updates(0.99, None)"),
                   ("expected", describe(_decay_reference(0.99, None)))]
        raise CheckFailed(failure_message("decay_with_num_updates raised TypeError", NONE_NOT_HANDLED, details),
                          NONE_NOT_HANDLED) from None


def _check_decay_with_num_updates(student_fn, cases):
    check_function(student_fn, _decay_reference, cases, name="decay_with_num_updates", mistakes=[
        Mistake(lambda d, n: d, ALWAYS_DECAY),
        Mistake(lambda d, n: d if n is None else (1 + n) / (10 + n),
                "the cap is missing: take min(decay, (1 + n) / (10 + n)); (1 + n) / (10 + n) alone tends to 1."),
        Mistake(lambda d, n: d if n is None else max(d, (1 + n) / (10 + n)),
                "use min, not max: the ramp makes the decay *smaller* at the start."),
        Mistake(lambda d, n: d if n is None else min(d, (1 + n) // (10 + n)),
                "`//` is integer division and gives 0 here; use `/`: (1 + n) / (10 + n) is 0.1 at n = 0."),
        Mistake(lambda d, n: min(d, 0.1) if n is None else min(d, (1 + n) / (10 + n)),
                "without num_updates (None) TensorFlow uses the decay unchanged."),
        Mistake(lambda d, n: d if not n else min(d, (1 + n) / (10 + n)),
                "`if not num_updates` is also true for num_updates = 0, where the decay is 0.1: "
                "test `if num_updates is None`."),
        Mistake(lambda d, n: d if n is None else min(d, (1 + n) / 10 + n),
                "precedence: `(1 + n) / 10 + n` divides before adding n; write (1 + n) / (10 + n)."),
        Mistake(lambda d, n: d if n is None else min(d, (2 + n) / (11 + n)),
                "num_updates is off by one: it already counts the updates, so use (1 + n) / (10 + n) with n "
                "itself, not n + 1."),
        Mistake(lambda d, n: d if n is None else min(d, n / (9 + n)),
                "num_updates is off by one: use (1 + n) / (10 + n) with n itself, not n - 1 (the ramp's "
                "decay is 0.1 at n = 0)."),
        Mistake(lambda d, n: d if n is None else min(d, n / (10 + n)),
                "the numerator is 1 + num_updates: (1 + n) / (10 + n), which is 0.1, not 0, at n = 0."),
        Mistake(lambda d, n: d if n is None else d * (1 + n) / (10 + n),
                "take the smaller of the two, min(decay, (1 + n) / (10 + n)), not their product."),
        Mistake(lambda d, n: 1 - d if n is None else min(1 - d, (1 + n) / (10 + n)),
                "decay and 1 - decay are mixed up: the decay used is decay itself (0.99), capped by the ramp; "
                "1 - decay is the share of the new value."),
        Mistake(lambda d, n: d if n is None else min(d, (1 + d) / (10 + d)),
                "the ramp's ratio is built from the step count: (1 + num_updates) / (10 + num_updates), "
                "not from the decay."),
    ])


# --------------------------------------------------------------------------- exercise 3
def _debiased_reference(series, decay):
    return moving_average(series, decay, bias_correction=True)


def _debiased_variant(series, decay, start=None, correct=lambda v, t, d: v / (1 - d ** t), swap=False,
                      feed_back=False):
    """The loop of exercise 3 with one thing changed (the catalogue's wrong answers)."""
    x = np.asarray(series, float)
    v = x[0] if start == "first" else 0.0
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):  # t = 0 divides by zero: no warning for the student
        for t, xt in enumerate(x, start=1):
            v = (1 - decay) * v + decay * xt if swap else decay * v + (1 - decay) * xt
            corrected = correct(v, t, decay)
            if feed_back:
                v = corrected
            out.append(corrected)
    return np.array(out)


def _recorded_before_update(series, decay):
    x = np.asarray(series, float)
    v, out = 0.0, []
    with np.errstate(divide="ignore", invalid="ignore"):
        for t, xt in enumerate(x, start=1):
            out.append(v / (1 - decay ** t))
            v = decay * v + (1 - decay) * xt
    return np.array(out)


_DIVISORS = [
    ("1 - decay**t", lambda t, d: 1 - d ** t), ("1 - decay**(t - 1)", lambda t, d: 1 - d ** (t - 1)),
    ("1 - decay**(t + 1)", lambda t, d: 1 - d ** (t + 1)), ("1 - (1 - decay)**t", lambda t, d: 1 - (1 - d) ** t),
    ("(1 - decay)**t", lambda t, d: (1 - d) ** t), ("1 - decay*t", lambda t, d: 1 - d * t),
    ("1 - decay", lambda t, d: 1 - d + 0 * t), ("decay**t", lambda t, d: d ** t),
    ("1 - 2**-t", lambda t, d: 1 - 0.5 ** t),
    ("1 - decay**(t - 1) (and by nothing at t = 1)",
     lambda t, d: np.where(t == 1, 1.0, 1 - d ** np.maximum(t - 1, 1))),
    ("1 - decay**2t", lambda t, d: 1 - d ** (2 * t)), ("sqrt(1 - decay**t)", lambda t, d: np.sqrt(1 - d ** t)),
    ("(1 - decay**t)**2", lambda t, d: (1 - d ** t) ** 2),
    ("(1 - decay**t) / (1 - decay)", lambda t, d: (1 - d ** t) / (1 - d)),
    ("(1 - decay**t) * (1 - decay)", lambda t, d: (1 - d ** t) * (1 - d)),
]


def _divisor_hint(student_fn, cases):
    """When the answer is the average from zero divided by some other function of t, name that function."""
    matches = None
    for series, decay in cases:
        with quietly():
            got = np.asarray(student_fn(*copy.deepcopy((series, decay))), dtype=float)
            average = moving_average(series, decay)
            if got.shape != average.shape:
                return None
            t = np.arange(1, len(series) + 1)
            fits = {text for text, fn in _DIVISORS
                    if np.allclose(got * fn(t, decay), average, rtol=1e-6, atol=1e-9)}
        matches = fits if matches is None else matches & fits
    found = [text for text, _ in _DIVISORS if text in (matches or ())]
    if not found or found[0] == "1 - decay**t":
        return None
    return (f"your answer is the average from zero divided by {found[0]} after t values; the correction divides "
            "by 1 - decay**t, with t = 1 after the first value.")


def check_debiased_ema(student_fn):
    """Exercise 3: ``debiased_ema(series, decay)``, the average from zero divided by ``1 - decay**t``.

    A slip no catalogue entry explains, when the answer is still the average from zero divided by
    some function of t, is named by that divisor.
    """
    rng = np.random.default_rng(12)
    cases = [(np.full(6, 4.0), 0.9), (rng.normal(5.0, 1.0, 20), 0.8), (rng.normal(size=12), 0.5),
             (np.array([1.0, 2.0, 3.0]), 0.99)]
    try:
        _check_debiased_ema(student_fn, cases)
    except CheckFailed as failure:
        if failure.hint is not None and not failure.by_mutant:
            raise
        try:
            hint = _divisor_hint(student_fn, cases)
        except Exception:  # the failure's own sentence says what is wrong
            hint = None
        if hint is None:
            raise
        first, *rest = failure.unhinted.split("\n")
        verdict, _, what = first.partition(": ")
        details = [("what", what)] + [tuple(p.strip() for p in line.split(":", 1)) for line in rest if ":" in line]
        raise CheckFailed(failure_message(verdict, hint, details), hint) from None


def _check_debiased_ema(student_fn, cases):
    check_function(student_fn, _debiased_reference, cases, name="debiased_ema", rtol=1e-6, atol=1e-9, mistakes=[
        Mistake(lambda x, d: moving_average(x, d),
                "the bias correction is missing: divide the average after t values by 1 - decay**t."),
        Mistake(lambda x, d: _debiased_variant(x, d, correct=lambda v, t, d: v / (1 - d ** (t - 1))),
                "count t from 1: after the first value the divisor is 1 - decay**1 (t = 0 divides by zero)."),
        Mistake(lambda x, d: _debiased_variant(x, d, correct=lambda v, t, d: v / (1 - d ** (t + 1))),
                "the exponent is off by one: after t values (t = 1 for the first) divide by 1 - decay**t, "
                "not 1 - decay**(t + 1)."),
        Mistake(lambda x, d: moving_average(x, d) * (1 - d ** np.arange(1, len(x) + 1)),
                "divide by 1 - decay**t, do not multiply."),
        Mistake(lambda x, d: _debiased_variant(x, d, start="first"),
                "start the average at zero: the correction 1 - decay**t undoes exactly the pull of a zero start "
                "(starting at the first value, as TensorFlow's shadow does, needs no correction)."),
        Mistake(lambda x, d: _debiased_variant(x, d, start="first", correct=lambda v, t, d: v),
                "that is TensorFlow's shadow, started at the first value and not corrected; the exercise starts "
                "the average at 0 and divides by 1 - decay**t."),
        Mistake(lambda x, d: moving_average(x, d) / (1 - d),
                "the divisor changes with t: 1 - decay**t, not 1 - decay."),
        Mistake(lambda x, d: moving_average(x, d) / (1 - d) / (1 - d ** np.arange(1, len(x) + 1)),
                "the factor (1 - decay) on the new value is missing: v = decay * v + (1 - decay) * x."),
        Mistake(lambda x, d: _debiased_variant(x, d, swap=True),
                "decay and 1 - decay are swapped in the update: v = decay * v + (1 - decay) * x keeps most of "
                "the old average."),
        Mistake(lambda x, d: _debiased_variant(x, d, feed_back=True),
                "keep the running average v uncorrected: divide only the value you record, "
                "`out.append(v / (1 - decay**t))`, and do not overwrite v with it."),
        Mistake(lambda x, d: _debiased_variant(x, d, correct=lambda v, t, d: v / 1 - d ** t),
                "precedence: `v / 1 - decay**t` divides by 1 first; write v / (1 - decay**t)."),
        Mistake(lambda x, d: _debiased_variant(x, d, correct=lambda v, t, d: v / (1 - d * t)),
                "`decay*t` is a product; the correction uses the power decay**t (two stars)."),
        Mistake(lambda x, d: moving_average(x, d) / (1 - d ** len(x)),
                "the exponent is the same for every entry (the last t): divide the average after t values by "
                "1 - decay**t with its own t."),
        Mistake(lambda x, d: _recorded_before_update(x, d),
                "each value is recorded before it enters the average: update v with x_t first, then record "
                "v / (1 - decay**t)."),
        Mistake(lambda x, d: _debiased_variant(x, d, correct=lambda v, t, d: v / (1 - d) ** t),
                "precedence: `(1 - decay)**t` raises the difference to the power; the correction is 1 - decay**t."),
        Mistake(lambda x, d: np.cumsum(x) / np.arange(1, len(x) + 1),
                "that is the plain mean of the values so far, every value weighted equally; the exponential "
                "average weights recent values more: update v = decay * v + (1 - decay) * x_t, then record "
                "v / (1 - decay**t)."),
        Mistake(lambda x, d: _debiased_variant(x, d)[-1],
                "return one corrected value per entry of the series (a list you append to, turned into an "
                "array), not only the last one."),
    ])


# --------------------------------------------------------------------------- exercise 4
def _sgd_step(w, n, learning_rate):
    return w - learning_rate * (2 * (w - 3.0) + n)


def _sgd_with_ema_reference(w0, noise, learning_rate, decay, *, shadow0=None, counts=None,
                            before=False, ema_cls=ExponentialMovingAverage, step=_sgd_step):
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
        w = step(w, n, learning_rate)
        if not before:
            state = ema.apply(w, state, num_updates=count)
        weights.append(w)
        shadows.append(state.shadow)
    return np.array(weights), np.array(shadows)


class _SwappedEMA(ExponentialMovingAverage):
    def apply(self, var_list, state, num_updates=None):
        d = np.float32(self.decay_at(num_updates))
        return state._replace(shadow=d * np.asarray(var_list) + (1 - d) * state.shadow, count=state.count + 1)


def _without_ramp(w0, noise, lr, decay):
    weights, _ = _sgd_with_ema_reference(w0, noise, lr, decay)
    state, ema = None, ExponentialMovingAverage(decay)
    shadows = []
    for w in weights:
        state = ema.init(w) if state is None else ema.apply(w, state)
        shadows.append(state.shadow)
    return weights, np.array(shadows)


def _zero_first_shadow(*args):
    weights, shadows = _sgd_with_ema_reference(*args)
    shadows = shadows.copy()
    shadows[0] = 0.0
    return weights, shadows


def _aliased_weights(w0, noise, lr, decay):
    weights, shadows = _sgd_with_ema_reference(w0, noise, lr, decay)
    return np.array([weights[-1]] * len(weights)), shadows


def _aliased_shadow(w0, noise, lr, decay):
    """``shadow = w`` (no copy), then ``w -= ...``: the first update averages the new w with itself."""
    weights, _ = _sgd_with_ema_reference(w0, noise, lr, decay)
    ema = ExponentialMovingAverage(decay)
    state = ema.init(weights[0])
    shadows = [state.shadow]
    for k in range(1, len(weights)):
        if k == 1:
            state = ema.init(weights[1])
        state = ema.apply(weights[k], state, num_updates=k)
        shadows.append(state.shadow)
    return weights, np.array(shadows)


def _quiet_call(fn, *args):
    with quietly(), contextlib.redirect_stdout(io.StringIO()):
        return fn(*copy.deepcopy(args))


def _uses_columns(student_fn):
    """True when the student's function, given square noise (as many updates as weights), answers as
    the reference does with the noise transposed: it took column k - 1 of the noise at update k."""
    rng = np.random.default_rng(14)
    w0, noise = rng.normal(size=6), rng.normal(size=(6, 6))
    got = _quiet_call(student_fn, w0, noise, 0.1, 0.9)
    ref = _sgd_with_ema_reference(w0, noise, 0.1, 0.9)
    transposed = _sgd_with_ema_reference(w0, noise.T, 0.1, 0.9)
    same = [np.allclose(np.asarray(g, float), np.asarray(r), atol=1e-5) for g, r in zip(got, ref, strict=True)]
    by_columns = [np.allclose(np.asarray(g, float), np.asarray(t), atol=1e-5)
                  for g, t in zip(got, transposed, strict=True)]
    return not all(same) and by_columns[0]


def _failing_helpers(student_fn):
    """The names of exercises 1 and 2 that ``student_fn`` calls and that do not pass their own check."""
    names = getattr(getattr(student_fn, "__code__", None), "co_names", ())
    found = getattr(student_fn, "__globals__", {})
    failing = []
    for name, check in (("ema_step", check_ema_step), ("decay_with_num_updates", check_decay_with_num_updates)):
        helper = found.get(name)
        if name in names and callable(helper):
            try:
                _quiet_call(check, helper)
            except Exception:  # a failed check, or a helper not written yet
                failing.append(name)
    return failing


_HELPERS_FAIL = {
    ("ema_step",): "sgd_with_ema calls your `ema_step`, which does not pass its own check yet (exercise 1): "
                   "fix it first, then run this check again.",
    ("decay_with_num_updates",): "sgd_with_ema calls your `decay_with_num_updates`, which does not pass its own "
                                 "check yet (exercise 2): fix it first, then run this check again.",
    ("ema_step", "decay_with_num_updates"): "sgd_with_ema calls your `ema_step` and `decay_with_num_updates`, which "
                                            "do not pass their own checks yet (exercises 1 and 2): fix them first, "
                                            "then run this check again.",
}


def check_sgd_with_ema(student_fn):
    """Exercise 4: ``sgd_with_ema(w0, noise, learning_rate, decay)``: SGD plus TensorFlow's EMA.

    When no catalogue entry names the mistake, two more diagnoses are tried: noise indexed by
    column (found with square noise, where that runs), and a helper from exercises 1 or 2 that the
    function calls and that fails its own check.
    """
    try:
        _check_sgd_with_ema(student_fn)
    except CheckFailed as failure:
        first = failure.unhinted.split("\n")[0]
        if failure.hint in _SGD_HINTS or not first.startswith(("sgd_with_ema is wrong", "sgd_with_ema raised")):
            raise
        hint = None
        for probe in (lambda: _uses_columns(student_fn) and WRONG_AXIS,
                      lambda: _HELPERS_FAIL.get(tuple(_failing_helpers(student_fn)))):
            try:
                hint = hint or probe()
            except Exception:  # the probe does not apply to this answer
                pass
        if not hint:
            raise
        first, *rest = failure.unhinted.split("\n")
        if "Likely mistake: " in first:
            verdict = first.partition(". Likely mistake: ")[0]
        else:
            verdict, _, what = first.partition(": ")
            rest = [f"what: {what}"] + rest if what else rest
        details = [tuple(p.strip() for p in line.split(":", 1)) for line in rest if ":" in line]
        raise CheckFailed(failure_message(verdict, hint, details), hint) from None


def _check_sgd_with_ema(student_fn):
    rng = np.random.default_rng(13)
    cases = [(0.0, rng.normal(0, 2, 30), 0.1, 0.99),
             (np.array([5.0, -1.0]), rng.normal(0, 1, (40, 2)), 0.2, 0.9),
             (10.0, rng.normal(0, 3, 15), 0.05, 0.999),
             (1.0, np.zeros(5), 0.5, 0.5),
             (2.0, rng.normal(0, 1, 25), 0.1, 0.6)]  # the cap binds from update 14 on: the decay itself matters
    # atol 1e-5: TensorFlow's (and the reference's) decay is a float32, a float64 answer differs by ~1e-6
    check_function(student_fn, _sgd_with_ema_reference, cases, name="sgd_with_ema", names=("weights", "shadows"),
                   atol=1e-5, mistakes=_SGD_MISTAKES)


_SGD_MISTAKES = [
    Mistake(lambda *a: _sgd_with_ema_reference(*a, shadow0=0.0), ZERO_SHADOW),
    Mistake(_without_ramp, NO_RAMP + " Pass num_updates = the number of updates done so far."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, ema_cls=_SwappedEMA), SWAPPED),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, counts=lambda k: k - 1), NUM_UPDATES_FROM_0),
    Mistake(lambda w0, noise, lr, decay: _sgd_with_ema_reference(w0, noise, lr, 0.99),
            "the decay is fixed at 0.99: use the `decay` argument (the ramp never goes above it)."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, counts=lambda k: k + 1),
            "num_updates is off by one: after the k-th update the step counter holds k, not k + 1."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, before=True),
            "the average is updated *before* the SGD step; apply it after each update, to the new weights."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a)[::-1],
            "the two arrays are returned in the wrong order: return (weights, shadows), weights first."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, step=lambda w, n, lr: w + lr * (2 * (w - 3.0) + n)),
            "the SGD step has the wrong sign: descent *subtracts* the gradient, w = w - learning_rate * gradient."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, step=lambda w, n, lr: w - lr * (2 * (3.0 - w) + n)),
            "the gradient of (w - 3)**2 is 2 * (w - 3), not 2 * (3 - w): with the sign flipped the weight runs "
            "away from 3."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, step=lambda w, n, lr: w - lr * lr * (2 * (w - 3.0) + n)),
            "the learning rate is applied twice: w = w - learning_rate * gradient."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, step=lambda w, n, lr: w - lr * ((w - 3.0) + n)),
            "the gradient misses its factor 2: the derivative of (w - 3)**2 is 2 * (w - 3), plus the noise."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, step=lambda w, n, lr: w - lr * 2 * (w - 3.0) + n),
            "precedence: `w - lr * 2 * (w - 3) + noise` leaves the noise outside the step; write "
            "w - learning_rate * (2 * (w - 3) + noise)."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, step=lambda w, n, lr: w - lr * (2 * w - 3.0 + n)),
            "precedence: the gradient is 2 * (w - 3), with brackets; 2 * w - 3 is another function."),
    Mistake(lambda *a: _sgd_with_ema_reference(*a, step=lambda w, n, lr: w - (2 * (w - 3.0) + n)),
            "the learning rate is missing from the SGD step: w = w - learning_rate * gradient."),
    Mistake(lambda *a: _zero_first_shadow(*a),
            "the first shadow is 0: index 0 holds the values before training, and the shadow starts as a copy "
            "of w0."),
    Mistake(lambda *a: tuple(x[1:] for x in _sgd_with_ema_reference(*a)),
            "index 0 is missing: the arrays start with the values before training (w0 and its copy as the "
            "shadow), so they have len(noise) + 1 entries."),
    Mistake(_aliased_shadow, ALIASED_SHADOW),
    Mistake(_aliased_weights,
            "every stored weight is the final one: `w -= ...` changes the one array you appended each time. "
            "Write `w = w - learning_rate * gradient`, which makes a new array."),
]
_SGD_HINTS = {m.hint for m in _SGD_MISTAKES}


# --------------------------------------------------------------------------- exercise 5
def _sgd_with_keras_ema_reference(w0, noise, learning_rate, ema_momentum, ema_overwrite_frequency=None, *,
                                  first_copies=True, ramp=False, swapped=False, overwrite_at=lambda k, f: k % f == 0,
                                  overwrite_first=False, into_average=False, zero_start=False):
    """Exercise 5's loop, the way Keras runs ``use_ema=True`` (keyword options: the catalogue's slips)."""
    w = np.asarray(w0, dtype=float)
    average = np.zeros_like(w) if zero_start else w.copy()
    weights, averages = [w], [average]
    for k, n in enumerate(noise, start=1):
        w = _sgd_step(w, n, learning_rate)
        overwrite = ema_overwrite_frequency is not None and overwrite_at(k, ema_overwrite_frequency)
        if overwrite and overwrite_first:
            w = average.copy()
        m = min(ema_momentum, (1 + k) / (10 + k)) if ramp else ema_momentum
        if k == 1 and first_copies:
            m = 0.0
        average = (1 - m) * average + m * w if swapped else m * average + (1 - m) * w
        if overwrite and not overwrite_first:
            if into_average:
                average = w.copy()
            else:
                w = average.copy()
        weights.append(w)
        averages.append(average)
    return np.array(weights), np.array(averages)


def _keras_variant(**options):
    return lambda *a: _sgd_with_keras_ema_reference(*a, **options)


def _keras_without_overwrite(w0, noise, lr, m, freq=None):
    return _sgd_with_keras_ema_reference(w0, noise, lr, m, None)


_KERAS_MISTAKES = [
    Mistake(_keras_variant(first_copies=False),
            "Keras's first step copies the weights into the average (momentum 0 at the first step, while "
            "iterations is 0); from the second step on it uses ema_momentum."),
    Mistake(_keras_variant(first_copies=False, ramp=True),
            "that is TensorFlow's num_updates ramp; Keras's use_ema has no ramp: momentum 0 at the first step "
            "(a copy), ema_momentum from then on."),
    Mistake(_keras_variant(ramp=True),
            "Keras's use_ema has no num_updates ramp: after the first step (a copy) it uses ema_momentum itself."),
    Mistake(_keras_variant(swapped=True),
            "ema_momentum and 1 - ema_momentum are swapped: the *old* average keeps the large share, "
            "average = ema_momentum * average + (1 - ema_momentum) * w."),
    Mistake(_keras_without_overwrite,
            "the overwrite is missing: with ema_overwrite_frequency = f, after every f-th step (k = f, 2f, ...) "
            "the weights are set to the average, and training continues from there."),
    Mistake(_keras_variant(overwrite_at=lambda k, f: (k - 1) % f == 0),
            "the overwrite is off by one: it comes after steps f, 2f, ... (k counted from 1), not after steps "
            "1, f + 1, ..."),
    Mistake(_keras_variant(overwrite_first=True),
            "the weights are overwritten before the average takes in that step's weights: update the average "
            "first, then copy it into the weights."),
    Mistake(_keras_variant(into_average=True),
            "the copy goes the wrong way: the overwrite (like finalize_variable_values) puts the *average* into "
            "the weights, w = average, not the weights into the average."),
    Mistake(_keras_variant(zero_start=True, first_copies=False),
            "the average starts at zero and never gets the first step's copy: Keras's first step sets the "
            "average to the weights (momentum 0), so the zeros it starts with do not matter."),
    Mistake(_keras_variant(zero_start=True),
            "the first average is 0: index 0 holds the values before training, w0 and its copy (Keras creates "
            "the average as zeros, but its first step overwrites them)."),
    Mistake(lambda *a: _sgd_with_keras_ema_reference(*a)[::-1],
            "the two arrays are returned in the wrong order: return (weights, averages), weights first."),
    Mistake(lambda *a: tuple(x[1:] for x in _sgd_with_keras_ema_reference(*a)),
            "index 0 is missing: the arrays start with the values before training (w0 and its copy as the "
            "average), so they have len(noise) + 1 entries."),
]


def check_sgd_with_keras_ema(student_fn):
    """Exercise 5: ``sgd_with_keras_ema(w0, noise, learning_rate, ema_momentum, ema_overwrite_frequency)``:
    the same SGD as exercise 4 with Keras's ``use_ema=True`` average (``ma.apply_gradients_with_ema``)."""
    rng = np.random.default_rng(15)
    cases = [(1.0, rng.normal(0, 1, 12), 0.1, 0.9, None),
             (1.0, rng.normal(0, 1, 12), 0.1, 0.9, 5),
             (np.array([5.0, -1.0]), rng.normal(0, 1, (20, 2)), 0.2, 0.8, 4),
             (0.0, rng.normal(0, 2, 30), 0.1, 0.99, None),
             (2.0, rng.normal(0, 1, 9), 0.3, 0.5, 3)]
    check_function(student_fn, _sgd_with_keras_ema_reference, cases, name="sgd_with_keras_ema",
                   names=("weights", "averages"), mistakes=_KERAS_MISTAKES)


# --------------------------------------------------------------------------- predict, then run
def _zero_start_run():
    averages = moving_average(np.ones(100), 0.99)
    lines = [f"average of a weight held at 1.0, started at 0, decay 0.99, after {t:3d} updates: {averages[t - 1]:.4f}"
             for t in (1, 10, 50, 100)]
    lines.append(f"0.99**100 = {0.99 ** 100:.4f}, so 1 - 0.99**100 = {1 - 0.99 ** 100:.4f}")
    return "\n".join(lines)


def check_zero_start_prediction(answer):
    """Predict: 100 updates of decay 0.99 from a zero start, no bias correction: is the average above or
    below a weight that stays at 1.0?"""
    check_prediction(
        answer, name="zero_start", correct="below", choices=["above", "below", "equal"],
        explanation="after t updates an average started at 0 holds 1 - decay**t of a constant weight, and "
                    "0.99**100 is still 0.37: the average has covered only 63% of the way. That pull towards the "
                    "start is what dividing by 1 - decay**t (exercise 3) removes.",
        evidence=_zero_start_run)


def _first_full(decay):
    return next(n for n in range(100_000) if effective_decay(decay, n) == effective_decay(decay, None))


def _ramp_run():
    first = _first_full(0.999)
    lines = [f"num_updates = {n:5d}: decay used {float(effective_decay(0.999, n)):.8f}"
             for n in (10, 100, 1000, first - 1, first)]
    lines.append(f"first num_updates at which the decay used is 0.999 itself: {first} (for 0.99: {_first_full(0.99)})")
    return "\n".join(lines)


def check_ramp_prediction(answer):
    """Predict: with decay 0.999 and num_updates, after how many updates is the decay 0.999 itself?"""
    check_prediction(
        answer, name="ramp_length", correct="about 9000",
        choices=["about 10", "about 100", "about 1000", "about 9000"],
        explanation="the decay used is min(0.999, (1 + n) / (10 + n)), and (1 + n) / (10 + n) >= 0.999 means "
                    "1 + n >= 9.99 + 0.999 n, that is n >= 8990. The closer the decay is to 1, the longer the "
                    "ramp: for 0.99 it ends at n = 890.",
        evidence=_ramp_run)
