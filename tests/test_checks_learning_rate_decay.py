"""Lesson 03's checks accept right answers and name the mistake in typical wrong ones."""

import math

import numpy as np
import pytest
from check_helpers import rejects, sentence

from course_lib.checks import NotAttempted
from course_lib.checks import learning_rate_decay as lrd


# --------------------------------------------------------------------------- right answers
def exponential(step, lr, ds, dr, staircase=False):
    p = step // ds if staircase else step / ds
    return lr * dr ** p


def inverse_time(step, lr, ds, dr):
    return lr / (1 + dr * step / ds)


def warmup_cosine(step, peak, warmup_steps, decay_steps, alpha=0.0):
    if step < warmup_steps:
        return peak * step / warmup_steps
    t = min(step - warmup_steps, decay_steps)
    return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t / decay_steps)) + alpha)


def rates_for_updates(schedule, epochs, batches):
    return np.array([schedule(step) for step in range(epochs * batches)])


def descend(schedule, w0, steps):
    w, out = np.float32(w0), [np.float32(w0)]
    for k in range(steps):
        w = w - np.float32(schedule(k)) * np.float32(2) * (w + np.float32(1))
        out.append(w)
    return out


def test_reference_answers_pass(capsys):
    lrd.check_exponential_decay(exponential)
    lrd.check_inverse_time_decay(inverse_time)
    lrd.check_warmup_cosine(warmup_cosine)
    lrd.check_rates_for_updates(rates_for_updates)
    lrd.check_descend_with_schedule(descend)
    assert capsys.readouterr().out.count("✓") == 5


def test_float64_answers_pass_too():
    def descend64(schedule, w0, steps):
        w, out = float(w0), [float(w0)]
        for k in range(steps):
            w = w - float(schedule(k)) * 2 * (w + 1)
            out.append(w)
        return out
    lrd.check_descend_with_schedule(descend64)


# --------------------------------------------------------------------------- typical mistakes
def test_exponential_decay_mistakes():
    rejects(lrd.check_exponential_decay,
            lambda s, lr, ds, dr, staircase=False: lr * dr ** (round(s / ds) if staircase else s / ds),
            "not rounding")
    rejects(lrd.check_exponential_decay, lambda s, lr, ds, dr, staircase=False: lr * dr ** (s / ds),
            "`staircase=True` is ignored")
    rejects(lrd.check_exponential_decay,
            lambda s, lr, ds, dr, staircase=False: lr * dr ** (math.ceil(s / ds) if staircase else s / ds),
            "not ceil")
    rejects(lrd.check_exponential_decay,
            lambda s, lr, ds, dr, staircase=False: exponential(s + 1, lr, ds, dr, staircase), "off by one step")
    rejects(lrd.check_exponential_decay,
            lambda s, lr, ds, dr, staircase=False: lr * dr ** s, "once every decay_steps steps")
    rejects(lrd.check_exponential_decay,
            lambda s, lr, ds, dr, staircase=False: lr * dr * (s // ds if staircase else s / ds), "power")


def test_inverse_time_decay_mistakes():
    rejects(lrd.check_inverse_time_decay, lambda s, lr, ds, dr: inverse_time(s + 1, lr, ds, dr), "off by one step")
    rejects(lrd.check_inverse_time_decay, lambda s, lr, ds, dr: lr / (1 + dr * s), "divided by decay_steps")
    rejects(lrd.check_inverse_time_decay, lambda s, lr, ds, dr: lr / (1 + dr) ** (s / ds), "exponential decay")
    rejects(lrd.check_inverse_time_decay, lambda s, lr, ds, dr: lr * (1 + dr * s / ds), "*divided*")


def test_warmup_cosine_mistakes():
    def cosine(t, peak, d, alpha):
        return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t / d)) + alpha)

    rejects(lrd.check_warmup_cosine,
            lambda s, p, w, d, alpha=0.0: p * (s + 1) / w if s < w else cosine(min(s - w, d), p, d, alpha),
            "off by one step in the warmup")
    rejects(lrd.check_warmup_cosine,
            lambda s, p, w, d, alpha=0.0: p * s / w if s < w else cosine(min(s, w + d), p, d, alpha),
            "step - warmup_steps")
    rejects(lrd.check_warmup_cosine,
            lambda s, p, w, d, alpha=0.0: p * s / w if s < w else cosine(s - w, p, d, alpha), "clamp")
    rejects(lrd.check_warmup_cosine,
            lambda s, p, w, d, alpha=0.0: p * s / w if s < w else cosine(min(s - w, d), p, d, 0.0),
            "alpha is ignored")


def test_rates_for_updates_mistakes():
    rejects(lrd.check_rates_for_updates, lambda sch, e, b: [sch(ep) for ep in range(e) for _ in range(b)],
            "applied per epoch")
    rejects(lrd.check_rates_for_updates, lambda sch, e, b: [sch(k + 1) for k in range(e * b)], "off by one step")
    rejects(lrd.check_rates_for_updates, lambda sch, e, b: [sch(j) for _ in range(e) for j in range(b)],
            "restarts at 0 every epoch")


def test_descend_with_schedule_mistakes():
    rejects(lrd.check_descend_with_schedule, lambda sch, w0, s: descend(lambda k: sch(k + 1), w0, s),
            "off by one step")
    rejects(lrd.check_descend_with_schedule, lambda sch, w0, s: descend(lambda k: sch(0), w0, s),
            "never changes")
    rejects(lrd.check_descend_with_schedule, lambda sch, w0, s: descend(sch, w0, s)[1:], "start with w0")


# --------------------------------------------------------------------------- unusable answers
@pytest.mark.parametrize("check, args", [
    (lrd.check_exponential_decay, 5), (lrd.check_inverse_time_decay, 4), (lrd.check_warmup_cosine, 5),
    (lrd.check_rates_for_updates, 3), (lrd.check_descend_with_schedule, 3)])
def test_none_crash_shape_and_not_attempted(check, args):
    sentence(check, lambda *a, **k: None, "returned None")

    def crashes(*a, **k):
        raise ZeroDivisionError("division by zero")
    sentence(check, crashes, "raised ZeroDivisionError: division by zero")
    sentence(check, lambda *a, **k: "0.1", "expected a number or array")
    sentence(check, 0.1, "should be a function")

    def not_written(*a, **k):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        check(not_written)


def test_wrong_shape_is_named():
    sentence(lrd.check_rates_for_updates, lambda sch, e, b: [sch(k) for k in range(e * b + 1)],
                          "expected shape")
    sentence(lrd.check_descend_with_schedule,
                          lambda sch, w0, s: np.array(descend(sch, w0, s))[:, None], "expected shape")
