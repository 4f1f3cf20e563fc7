"""The lesson 05 checks accept right answers and name the typical wrong ones."""

import inspect

import numpy as np
import pytest
from check_helpers import predicts

from course_lib import moving_averages as ma
from course_lib.checks import CheckFailed, NotAttempted
from course_lib.checks import moving_average as checks
from course_lib.optimizers import SGD


def rejects(check, fn, *phrases):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    message = str(info.value)
    for phrase in phrases:
        assert phrase in message, message
    return info.value


# --------------------------------------------------------------------------- exercise 1
def test_ema_step_accepts_both_forms(capsys):
    checks.check_ema_step(lambda s, v, d: s - (s - v) * (1 - d))
    checks.check_ema_step(lambda s, v, d: d * s + (1 - d) * v)
    assert capsys.readouterr().out.count("✓ ema_step is correct") == 2


def test_ema_step_names_typical_mistakes():
    err = rejects(checks.check_ema_step, lambda s, v, d: d * v + (1 - d) * s, "Likely mistake", "swapped")
    assert err.hint == checks.SWAPPED
    rejects(checks.check_ema_step, lambda s, v, d: s - (s - v) * d, "swapped")  # decay where 1 - decay goes
    rejects(checks.check_ema_step, lambda s, v, d: d * v, "decay * parameter")
    rejects(checks.check_ema_step, lambda s, v, d: s + (s - v) * (1 - d), "sign is flipped")
    rejects(checks.check_ema_step, lambda s, v, d: d * s + v, "(1 - decay)")


def _ema_step_student(shadow, value, decay, form):
    """A student's ema_step with one typical slip (written as a student would, not as the catalogue does)."""
    if form == "minus":
        new = decay * shadow - (1 - decay) * value
    elif form == "shadow only":
        new = shadow * decay
    elif form == "value only":
        new = value * (1 - decay)
    elif form == "brackets 1":
        new = decay * shadow + 1 - decay * value
    elif form == "brackets 2":
        new = shadow - (shadow - value) * 1 - decay
    elif form == "mean":
        new = 0.5 * (shadow + value)
    elif form == "int":
        new = np.zeros(shadow.shape, dtype=int)
        new[...] = decay * shadow + (1 - decay) * value
    elif form == "itself":
        new = decay * shadow + (1 - decay) * shadow
    return new


@pytest.mark.parametrize("form, words", [
    ("minus", "value's share is flipped"), ("shadow only", "value's share, (1 - decay) * value, is missing"),
    ("value only", "old shadow's share"), ("brackets 1", "brackets around (1 - decay)"),
    ("brackets 2", "(shadow - value) * (1 - decay)"), ("mean", "plain mean"), ("int", "whole numbers"),
    ("itself", "averaged the shadow with itself")])
def test_ema_step_names_more_mistakes(form, words):
    err = rejects(checks.check_ema_step, lambda s, v, d: _ema_step_student(s, v, d, form), words)
    assert err.hint and words in err.hint
    assert str(err).splitlines()[0].startswith("ema_step is wrong. Likely mistake:")


def test_ema_step_refuses_in_place_update():
    def in_place(s, v, d):
        s -= (s - v) * (1 - d)
        return s
    rejects(checks.check_ema_step, in_place, "in place")


def test_ema_step_broken_answers_get_a_sentence():
    rejects(checks.check_ema_step, lambda s, v, d: None, "returned None")
    rejects(checks.check_ema_step, lambda s, v, d: (d * s + (1 - d) * v).ravel()[:1], "shape")
    rejects(checks.check_ema_step, lambda s, v, d: s.undefined, "raised AttributeError")
    with pytest.raises(NotAttempted):
        checks.check_ema_step(lambda s, v, d: (_ for _ in ()).throw(NotImplementedError()))


# --------------------------------------------------------------------------- exercise 2
def _right_decay(d, n):
    return d if n is None else min(d, (1 + n) / (10 + n))


def test_decay_with_num_updates_accepts_reference(capsys):
    checks.check_decay_with_num_updates(_right_decay)
    assert "✓ decay_with_num_updates" in capsys.readouterr().out


def test_decay_with_num_updates_names_typical_mistakes():
    err = rejects(checks.check_decay_with_num_updates, lambda d, n: d, "ramp is missing")
    assert err.hint == checks.ALWAYS_DECAY
    rejects(checks.check_decay_with_num_updates, lambda d, n: d if n is None else min(d, 1 + n / 10 + n),
            "without brackets, 1 + n/10 + n")
    rejects(checks.check_decay_with_num_updates, lambda d, n: d if n is None else (1 + n) / (10 + n), "cap")
    rejects(checks.check_decay_with_num_updates, lambda d, n: d if n is None else max(d, (1 + n) / (10 + n)),
            "min, not max")
    rejects(checks.check_decay_with_num_updates, lambda d, n: d if n is None else min(d, (1 + n) // (10 + n)),
            "integer division")


def _student_decay(decay, num_updates, form):
    if form == "not n":
        if not num_updates:
            return decay
        return min(decay, (1 + num_updates) / (10 + num_updates))
    if num_updates is None:
        return decay
    n = num_updates
    if form == "precedence":
        return min(decay, (1 + n) / 10 + n)
    if form == "plus one":
        n = n + 1
    elif form == "minus one":
        n = n - 1
    elif form == "decay for n":
        n = decay
    return min(decay, (1 + n) / (10 + n))


@pytest.mark.parametrize("form, words", [
    ("not n", "is None"), ("precedence", "divides before adding n"), ("plus one", "not n + 1"),
    ("minus one", "not n - 1"), ("decay for n", "not from the decay")])
def test_decay_with_num_updates_names_more_mistakes(form, words):
    err = rejects(checks.check_decay_with_num_updates, lambda d, n: _student_decay(d, n, form), words)
    assert words in err.hint


def test_decay_with_num_updates_broken_answers_get_a_sentence():
    rejects(checks.check_decay_with_num_updates, lambda d, n: None, "returned None")
    err = rejects(checks.check_decay_with_num_updates, lambda d, n: min(d, (1 + n) / (10 + n)), "raised TypeError")
    assert err.hint == checks.NONE_NOT_HANDLED and "tape" not in str(err)
    assert "called as: decay_with_num_updates(0.99, None)" in str(err)
    err = rejects(checks.check_decay_with_num_updates, lambda d, n: min(d, (n + 1) / (n + 10)), "is not handled")
    assert "'NoneType' and 'int'" in str(err)


def test_a_none_error_elsewhere_is_not_blamed_on_the_none_case():
    """Only a function that fails on num_updates=None alone is told to handle None."""
    def none_everywhere(d, n):
        return min(d, (1 + n) / (10 + n)) if n is not None else d + None
    err = rejects(checks.check_decay_with_num_updates, lambda d, n: d + None, "raised TypeError")
    assert err.hint != checks.NONE_NOT_HANDLED
    err = rejects(checks.check_decay_with_num_updates, none_everywhere, "is not handled")
    rejects(checks.check_decay_with_num_updates, lambda d, n: [d, d], "shape")

    def todo(d, n):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        checks.check_decay_with_num_updates(todo)


# --------------------------------------------------------------------------- exercise 3
def _right_debiased(series, decay):
    v, out = 0.0, []
    for t, x in enumerate(series, start=1):
        v = decay * v + (1 - decay) * x
        out.append(v / (1 - decay ** t))
    return np.array(out)


def test_debiased_ema_accepts_reference(capsys):
    checks.check_debiased_ema(_right_debiased)
    assert "✓ debiased_ema" in capsys.readouterr().out


def test_debiased_ema_names_typical_mistakes():
    def uncorrected(series, decay):
        return _right_debiased(series, decay) * (1 - decay ** np.arange(1, len(series) + 1))

    def t_from_zero(series, decay):
        v, out = 0.0, []
        for t, x in enumerate(series):
            v = decay * v + (1 - decay) * x
            out.append(v / (1 - decay ** t))
        return np.array(out)

    def started_at_first_value(series, decay):  # the shadow initialised as TensorFlow does, then corrected
        v, out = series[0], []
        for t, x in enumerate(series, start=1):
            v = decay * v + (1 - decay) * x
            out.append(v / (1 - decay ** t))
        return np.array(out)

    def divided_by_one_minus_decay(series, decay):
        return uncorrected(series, decay) / (1 - decay)

    rejects(checks.check_debiased_ema, uncorrected, "bias correction is missing")
    with np.errstate(divide="ignore", invalid="ignore"):
        rejects(checks.check_debiased_ema, t_from_zero, "count t from 1")
    rejects(checks.check_debiased_ema, started_at_first_value, "start the average at zero")
    rejects(checks.check_debiased_ema, divided_by_one_minus_decay, "not 1 - decay")


def _student_debiased(series, decay, form):
    v, out = 0.0, []
    for t, x in enumerate(series, start=1):
        if form == "swapped":
            v = (1 - decay) * v + decay * x
        else:
            v = decay * v + (1 - decay) * x
        if form == "t + 1":
            corrected = v / (1 - decay ** (t + 1))
        elif form == "brackets":
            corrected = v / 1 - decay ** t
        elif form == "times":
            corrected = v / (1 - decay * t)
        else:
            corrected = v / (1 - decay ** t)
        if form == "fed back":
            v = corrected
        out.append(corrected)
    if form == "last":
        return corrected
    return np.array(out)


@pytest.mark.parametrize("form, words", [
    ("swapped", "swapped in the update"), ("t + 1", "not 1 - decay**(t + 1)"), ("brackets", "precedence"),
    ("times", "two stars"), ("fed back", "keep the running average v uncorrected"), ("last", "not only the last")])
def test_debiased_ema_names_more_mistakes(form, words):
    with np.errstate(divide="ignore"):  # the student's own 1 - decay*t may be 0: numpy's warning is theirs
        err = rejects(checks.check_debiased_ema, lambda s, d: _student_debiased(s, d, form), words)
    assert words in err.hint


def test_debiased_ema_t_from_zero_with_python_floats_is_named():
    """t from 0 with Python floats raises ZeroDivisionError; the hint still says to count from 1."""
    def t_from_zero(series, decay):
        v, out = 0.0, []
        for t, x in enumerate(series.tolist()):
            v = decay * v + (1 - decay) * x
            out.append(v / (1 - decay ** t))
        return np.array(out)
    err = rejects(checks.check_debiased_ema, t_from_zero, "ZeroDivisionError")
    assert "count steps from 1" in err.hint


def test_checker_prints_no_warning(recwarn, capsys):
    """The catalogue's t-from-0 entry divides by zero; the student must not see numpy's warning for it."""
    def uncorrected(series, decay):
        v, out = 0.0, []
        for x in series:
            v = decay * v + (1 - decay) * x
            out.append(v)
        return np.array(out)
    rejects(checks.check_debiased_ema, uncorrected, "bias correction is missing")
    assert len(recwarn) == 0
    captured = capsys.readouterr()
    assert "RuntimeWarning" not in captured.out + captured.err


def test_debiased_ema_broken_answers_get_a_sentence():
    rejects(checks.check_debiased_ema, lambda s, d: None, "returned None")
    rejects(checks.check_debiased_ema, lambda s, d: _right_debiased(s, d)[:-1], "shape")
    rejects(checks.check_debiased_ema, lambda s, d: s[len(s)], "raised IndexError")

    def todo(s, d):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        checks.check_debiased_ema(todo)


# --------------------------------------------------------------------------- exercise 4
def _sgd_with_ema(w0, noise, lr, decay, shadow0=None, count=lambda k: k, swapped=False, before=False,
                  ramp=True, gradient=lambda w, n: 2 * (w - 3) + n, rate=None, order="ws", aliased=False,
                  skip_start=False):
    w = np.array(w0, dtype=float)
    shadow = w.copy() if shadow0 is None else np.zeros_like(w)
    weights, shadows = ([], []) if skip_start else ([w], [shadow])
    for k, n in enumerate(noise, start=1):
        d = min(decay, (1 + count(k)) / (10 + count(k))) if ramp else decay
        if before:
            shadow = d * shadow + (1 - d) * w
        if aliased:
            w -= lr * gradient(w, n)
        else:
            w = w - (lr if rate is None else rate(lr)) * gradient(w, n)
        if not before:
            shadow = (d * w + (1 - d) * shadow) if swapped else (d * shadow + (1 - d) * w)
        weights.append(w)
        shadows.append(shadow)
    if order == "sw":
        return np.array(shadows), np.array(weights)
    return np.array(weights), np.array(shadows)


def test_sgd_with_ema_accepts_reference(capsys):
    checks.check_sgd_with_ema(_sgd_with_ema)
    assert "✓ sgd_with_ema" in capsys.readouterr().out


def test_sgd_with_ema_names_typical_mistakes():
    err = rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, shadow0=0.0), "starts at zero")
    assert err.hint == checks.ZERO_SHADOW
    err = rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, ramp=False), "ramp is missing")
    assert err.hint.startswith(checks.NO_RAMP)
    err = rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, swapped=True), "swapped")
    assert err.hint == checks.SWAPPED
    err = rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, count=lambda k: k - 1), "counted from 0")
    assert err.hint == checks.NUM_UPDATES_FROM_0
    rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, count=lambda k: k + 1), "not k + 1")
    rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, before=True), "*before* the SGD step")


@pytest.mark.parametrize("options, words", [
    ({"order": "sw"}, "wrong order"), ({"gradient": lambda w, n: -(2 * (w - 3) + n)}, "wrong sign"),
    ({"gradient": lambda w, n: (w - 3) + n}, "factor 2"), ({"rate": lambda lr: 1.0}, "learning rate is missing"),
    ({"skip_start": True}, "index 0 is missing"), ({"aliased": True}, "`w -= ...`")])
def test_sgd_with_ema_names_more_mistakes(options, words):
    err = rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, **options), words)
    assert words in err.hint


def test_sgd_with_ema_broken_answers_get_a_sentence():
    rejects(checks.check_sgd_with_ema, lambda *a: None, "returned None")
    rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a)[1], "expected 2 values")
    rejects(checks.check_sgd_with_ema, lambda *a: tuple(x[1:] for x in _sgd_with_ema(*a)), "shape")
    rejects(checks.check_sgd_with_ema, lambda w0, noise, lr, d: noise.nope, "raised AttributeError")

    def todo(*a):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        checks.check_sgd_with_ema(todo)


# --------------------------------------------------------------------------- the second round of mistakes
@pytest.mark.parametrize("student, words", [
    (lambda s, v, d: (s + v) * d, "not decay"),
    (lambda s, v, d: s - (s - v) / (1 - d), "do not divide"),
    (lambda s, v, d: (d * s + (1 - d) * v) / (1 - d), "no division here"),
    (lambda s, v, d: s + (s - v) * d, "you moved it away"),
])
def test_ema_step_second_round(student, words):
    assert words in rejects(checks.check_ema_step, student, words).hint


def test_decay_with_num_updates_product_and_upside_down():
    rejects(checks.check_decay_with_num_updates,
            lambda d, n: d if n is None else d * ((1 + n) / (10 + n)), "not their product")
    rejects(checks.check_decay_with_num_updates,
            lambda d, n: d if n is None else min(d, (10 + n) / (1 + n)), "written upside down, (10 + n) / (1 + n)")


def _debiased_second(series, decay, slip):
    v, out = 0.0, []
    for t, x in enumerate(series, start=1):
        if slip == "record first":
            out.append(v / (1 - decay ** t))
        v = decay * v + (1 - decay) * x
        if slip == "power of difference":
            out.append(v / (1 - decay) ** t)
        elif slip == "one exponent":
            out.append(v)
    if slip == "one exponent":
        return np.array(out) / (1 - decay ** len(series))
    return np.array(out)


@pytest.mark.parametrize("slip, words", [
    ("record first", "recorded before"), ("power of difference", "raises the difference"),
    ("one exponent", "with its own t"),
])
def test_debiased_ema_second_round(slip, words):
    rejects(checks.check_debiased_ema, lambda s, d: _debiased_second(s, d, slip), words)


@pytest.mark.parametrize("options, words", [
    ({"rate": None, "gradient": lambda w, n: 2 * (w - 3), "noise_outside": True}, "leaves the noise outside"),
    ({"gradient": lambda w, n: 2 * w - 3 + n}, "2 * w - 3 is another function"),
    ({"fixed_decay": 0.99}, "fixed at 0.99"),
])
def test_sgd_with_ema_second_round(options, words):
    def student(w0, noise, lr, decay):
        w = np.array(w0, dtype=float)
        shadow = w.copy()
        weights, shadows = [w], [shadow]
        gradient = options.get("gradient", lambda w, n: 2 * (w - 3) + n)
        decay = options.get("fixed_decay", decay)
        for k, n in enumerate(noise, start=1):
            w = w - lr * gradient(w, n) + (n if options.get("noise_outside") else 0)
            d = min(decay, (1 + k) / (10 + k))
            shadow = d * shadow + (1 - d) * w
            weights.append(w)
            shadows.append(shadow)
        return np.array(weights), np.array(shadows)
    rejects(checks.check_sgd_with_ema, student, words)


# --------------------------------------------------------------------------- predict, then run
@pytest.mark.parametrize("check, right, wrong, shown", [
    (checks.check_zero_start_prediction, "below", "above", "after 100 updates: 0.6340"),
    (checks.check_ramp_prediction, "about 9000", "about 100", "is 0.999 itself: 8990 (for 0.99: 890)"),
])
def test_predictions(check, right, wrong, shown, capsys):
    predicts(check, right, wrong, shown, capsys)


# --------------------------------------------------------------------------- mistakes no catalogue entry names
def test_ema_step_unlisted_slip_is_written_as_a_formula():
    err = rejects(checks.check_ema_step, lambda s, v, d: 2 * d * s + (1 - d) * v, "the shadow term differs")
    assert "your new shadow = 2*decay*shadow + (1 - decay)*value" in err.hint
    assert "expected new shadow = decay*shadow + (1 - decay)*value" in err.hint


def test_debiased_ema_unlisted_divisor_is_named():
    def squared_t(series, decay):
        v, out = 0.0, []
        for t, x in enumerate(series, start=1):
            v = decay * v + (1 - decay) * x
            out.append(v / (1 - decay ** (2 * t)))
        return np.array(out)
    rejects(checks.check_debiased_ema, squared_t, "divided by 1 - decay**2t after t values")


def test_nonlinear_slips_keep_the_plain_sentence():
    err = rejects(checks.check_ema_step, lambda s, v, d: d * s + (1 - d) * v ** 2, "is wrong")
    assert err.hint is None


def test_third_round_entries():
    rejects(checks.check_decay_with_num_updates,
            lambda d, n: (1 - d) if n is None else min(1 - d, (1 + n) / (10 + n)), "mixed up")

    def no_share(series, decay):
        v, out = 0.0, []
        for t, x in enumerate(series, start=1):
            v = decay * v + x
            out.append(v / (1 - decay ** t))
        return np.array(out)
    rejects(checks.check_debiased_ema, no_share, "(1 - decay) on the new value is missing")
    rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, gradient=lambda w, n: 2 * (3 - w) + n),
            "not 2 * (3 - w)")
    rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, rate=lambda lr: lr * lr), "applied twice")


def test_fourth_round_entries():
    rejects(checks.check_decay_with_num_updates,
            lambda d, n: d if n is None else min(d, n / (n + 10)), "the numerator is 1 + num_updates")


def test_fifth_round_entries():
    def times_share(series, decay):
        return _right_debiased(series, decay) * (1 - decay)
    rejects(checks.check_debiased_ema, times_share, "divided by (1 - decay**t) / (1 - decay)")

    def first_shadow_zero(*args):
        weights, shadows = _sgd_with_ema(*args)
        shadows[0] = 0
        return weights, shadows
    rejects(checks.check_sgd_with_ema, first_shadow_zero, "the first shadow is 0")


def test_tensorflow_start_without_correction_is_named():
    def tf_shadow(series, decay):
        v, out = series[0], []
        for x in series:
            v = decay * v + (1 - decay) * x
            out.append(v)
        return np.array(out)
    rejects(checks.check_debiased_ema, tf_shadow, "TensorFlow's shadow")


# --------------------------------------------------------------------------- the newcomer's slips (issue 13)
def test_the_ramp_has_one_name():
    """The lesson calls min(decay, (1 + n) / (10 + n)) the num_updates ramp (not lesson 04's warm-up)."""
    source = inspect.getsource(checks).lower()
    assert "warm-up" not in source and "warmup" not in source
    assert "ramp" in checks.NO_RAMP


def test_debiased_ema_cumulative_mean_is_named():
    def cumulative_mean(series, decay):
        return np.cumsum(np.asarray(series, float)) / np.arange(1, len(series) + 1)
    err = rejects(checks.check_debiased_ema, cumulative_mean, "plain mean of the values so far")
    assert "plain mean" in err.hint


def _noise_by_column(w0, noise, lr, decay):
    w = np.asarray(w0, dtype=float)
    noise = np.asarray(noise)
    shadow = w.copy()
    weights, shadows = [w], [shadow]
    for k in range(1, len(noise) + 1):
        n = noise[k - 1] if noise.ndim == 1 else noise[:, k - 1]
        w = w - lr * (2 * (w - 3) + n)
        d = min(decay, (1 + k) / (10 + k))
        shadow = d * shadow + (1 - d) * w
        weights.append(w)
        shadows.append(shadow)
    return np.array(weights), np.array(shadows)


def test_sgd_with_ema_wrong_axis_is_named():
    err = rejects(checks.check_sgd_with_ema, _noise_by_column, "raised ValueError")
    assert err.hint == checks.WRONG_AXIS and "keepdims" not in str(err)
    assert "called as: sgd_with_ema([ 5., -1.]" in str(err)


def test_sgd_with_ema_other_broadcast_errors_keep_their_hint():
    """A broadcast error that is not a column of the noise is not called one."""
    def bad_shape(w0, noise, lr, decay):
        weights, shadows = _sgd_with_ema(w0, noise, lr, decay)
        return weights + np.ones(3), shadows
    err = rejects(checks.check_sgd_with_ema, bad_shape, "raised ValueError")
    assert err.hint != checks.WRONG_AXIS


def test_sgd_with_ema_aliased_shadow_is_named():
    def aliased(w0, noise, lr, decay):
        w = np.array(w0, dtype=float)
        shadow = w                                 # no copy: shadow and w are one array
        weights, shadows = [w.copy()], [shadow.copy()]
        for k, n in enumerate(noise, start=1):
            w -= lr * (2 * (w - 3) + n)
            d = min(decay, (1 + k) / (10 + k))
            shadow = d * shadow + (1 - d) * w
            weights.append(w.copy())
            shadows.append(shadow.copy())
        return np.array(weights), np.array(shadows)
    err = rejects(checks.check_sgd_with_ema, aliased, "`shadow = w` does not copy")
    assert err.hint == checks.ALIASED_SHADOW


def _student_module(ema_step_source, decay_source):
    """A student's notebook namespace: exercises 1 and 2 as written, and exercise 4 that calls them with
    num_updates counted from 0 (two slips at once)."""
    namespace = {"np": np}
    exec(ema_step_source + "\n" + decay_source + '''
def sgd_with_ema(w0, noise, learning_rate, decay):
    w = np.asarray(w0, dtype=float)
    shadow = w.copy()
    weights, shadows = [w], [shadow]
    for k in range(len(noise)):
        w = w - learning_rate * (2 * (w - 3) + noise[k])
        shadow = ema_step(shadow, w, decay_with_num_updates(decay, k))
        weights.append(w)
        shadows.append(shadow)
    return np.array(weights), np.array(shadows)
''', namespace)
    return namespace["sgd_with_ema"]


RIGHT_STEP = "def ema_step(shadow, value, decay):\n    return decay * shadow + (1 - decay) * value\n"
SWAPPED_STEP = "def ema_step(shadow, value, decay):\n    return (1 - decay) * shadow + decay * value\n"
RIGHT_DECAY = ("def decay_with_num_updates(decay, n):\n"
               "    return decay if n is None else min(decay, (1 + n) / (10 + n))\n")
MAX_DECAY = ("def decay_with_num_updates(decay, n):\n"
             "    return decay if n is None else max(decay, (1 + n) / (10 + n))\n")


@pytest.mark.parametrize("step, decay, words", [
    (SWAPPED_STEP, RIGHT_DECAY, "calls your `ema_step`, which does not pass its own check yet (exercise 1)"),
    (RIGHT_STEP, MAX_DECAY, "calls your `decay_with_num_updates`, which does not pass its own check yet (exercise 2)"),
    (SWAPPED_STEP, MAX_DECAY, "calls your `ema_step` and `decay_with_num_updates`, which do not pass"),
])
def test_sgd_with_ema_names_a_failing_helper(step, decay, words):
    err = rejects(checks.check_sgd_with_ema, _student_module(step, decay), words)
    assert str(err).startswith("sgd_with_ema is wrong. Likely mistake: sgd_with_ema calls your")


def test_sgd_with_ema_with_right_helpers_names_its_own_slip():
    err = rejects(checks.check_sgd_with_ema, _student_module(RIGHT_STEP, RIGHT_DECAY), "counted from 0")
    assert err.hint == checks.NUM_UPDATES_FROM_0


# --------------------------------------------------------------------------- exercise 5: Keras's use_ema
def _keras_student(w0, noise, lr, m, freq=None, slip=None):
    w = np.array(w0, dtype=float)
    average = w.copy()
    weights, averages = [w], [average]
    for k in range(1, len(noise) + 1):
        w = w - lr * (2 * (w - 3) + noise[k - 1])
        momentum = m if (k > 1 or slip == "no copy") else 0.0
        if slip == "ramp":
            momentum = min(momentum, (1 + k) / (10 + k))
        average = momentum * average + (1 - momentum) * w
        if freq is not None and slip != "no overwrite":
            if slip == "from 0" and (k - 1) % freq == 0:
                w = average.copy()
            elif slip == "wrong way" and k % freq == 0:
                average = w.copy()
            elif slip not in ("from 0", "wrong way") and k % freq == 0:
                w = average.copy()
        weights.append(w)
        averages.append(average)
    return np.array(weights), np.array(averages)


def test_sgd_with_keras_ema_accepts_the_solution_and_matches_the_library(capsys):
    checks.check_sgd_with_keras_ema(_keras_student)
    assert "✓ sgd_with_keras_ema is correct on 5 inputs." in capsys.readouterr().out
    rng = np.random.default_rng(3)
    noise = rng.normal(size=(25, 2))
    for freq in (None, 1, 7):
        order = iter(noise)

        def grad_fn(w, order=order):
            return 2 * (w - 3) + next(order)
        params, averages = ma.apply_gradients_with_ema(SGD(0.2), np.array([4.0, -2.0]), grad_fn, len(noise),
                                                        ema_momentum=0.9, ema_overwrite_frequency=freq)
        weights, ours = checks._sgd_with_keras_ema_reference(np.array([4.0, -2.0]), noise, 0.2, 0.9, freq)
        # the course's SGD steps in float32: the same run to float32 rounding
        np.testing.assert_allclose(weights, params, rtol=1e-6)
        np.testing.assert_allclose(ours, averages, rtol=1e-6)
        assert freq is None or np.array_equal(weights[freq], ours[freq])   # the copy: weights = average


@pytest.mark.parametrize("slip, words", [
    ("no copy", "first step copies the weights"), ("ramp", "has no num_updates ramp"),
    ("no overwrite", "the overwrite is missing"), ("from 0", "off by one"),
    ("wrong way", "the copy goes the wrong way"),
])
def test_sgd_with_keras_ema_names_typical_mistakes(slip, words):
    err = rejects(checks.check_sgd_with_keras_ema, lambda *a: _keras_student(*a, slip=slip), words)
    assert words in err.hint


def test_sgd_with_keras_ema_broken_answers_get_a_sentence():
    rejects(checks.check_sgd_with_keras_ema, lambda *a: None, "returned None")

    def todo(*a):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        checks.check_sgd_with_keras_ema(todo)
