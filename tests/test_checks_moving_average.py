"""The lesson 04 checks accept right answers and name the typical wrong ones."""

import numpy as np
import pytest

from course_lib.checks import CheckFailed, NotAttempted
from course_lib.checks import moving_average as checks


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
    err = rejects(checks.check_decay_with_num_updates, lambda d, n: d, "warm-up is missing")
    assert err.hint.startswith(checks.NO_WARMUP)
    rejects(checks.check_decay_with_num_updates, lambda d, n: d if n is None else min(d, 1 + n / 10 + n),
            "warm-up is missing", "brackets")
    rejects(checks.check_decay_with_num_updates, lambda d, n: d if n is None else (1 + n) / (10 + n), "cap")
    rejects(checks.check_decay_with_num_updates, lambda d, n: d if n is None else max(d, (1 + n) / (10 + n)),
            "min, not max")
    rejects(checks.check_decay_with_num_updates, lambda d, n: d if n is None else min(d, (1 + n) // (10 + n)),
            "integer division")


def test_decay_with_num_updates_broken_answers_get_a_sentence():
    rejects(checks.check_decay_with_num_updates, lambda d, n: None, "returned None")
    rejects(checks.check_decay_with_num_updates, lambda d, n: min(d, (1 + n) / (10 + n)), "raised TypeError")
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
                  warmup=True):
    w = np.asarray(w0, dtype=float)
    shadow = w.copy() if shadow0 is None else np.zeros_like(w)
    weights, shadows = [w], [shadow]
    for k, n in enumerate(noise, start=1):
        d = min(decay, (1 + count(k)) / (10 + count(k))) if warmup else decay
        if before:
            shadow = d * shadow + (1 - d) * w
        w = w - lr * (2 * (w - 3) + n)
        if not before:
            shadow = (d * w + (1 - d) * shadow) if swapped else (d * shadow + (1 - d) * w)
        weights.append(w)
        shadows.append(shadow)
    return np.array(weights), np.array(shadows)


def test_sgd_with_ema_accepts_reference(capsys):
    checks.check_sgd_with_ema(_sgd_with_ema)
    assert "✓ sgd_with_ema" in capsys.readouterr().out


def test_sgd_with_ema_names_typical_mistakes():
    err = rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, shadow0=0.0), "starts at zero")
    assert err.hint == checks.ZERO_SHADOW
    err = rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, warmup=False), "warm-up is missing")
    assert err.hint.startswith(checks.NO_WARMUP)
    err = rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, swapped=True), "swapped")
    assert err.hint == checks.SWAPPED
    rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, count=lambda k: k - 1), "off by one")
    rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a, before=True), "*before* the SGD step")


def test_sgd_with_ema_broken_answers_get_a_sentence():
    rejects(checks.check_sgd_with_ema, lambda *a: None, "returned None")
    rejects(checks.check_sgd_with_ema, lambda *a: _sgd_with_ema(*a)[1], "expected shape (2, 31)")
    rejects(checks.check_sgd_with_ema, lambda *a: tuple(x[1:] for x in _sgd_with_ema(*a)), "shape")
    rejects(checks.check_sgd_with_ema, lambda w0, noise, lr, d: noise.nope, "raised AttributeError")

    def todo(*a):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        checks.check_sgd_with_ema(todo)
