"""Lesson 04's checks accept right answers and name the mistake in typical wrong ones."""

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


def test_float64_answers_pass_exercises_1_to_4():
    lrd.check_exponential_decay(lambda s, lr, ds, dr, staircase=False: np.float64(exponential(s, lr, ds, dr,
                                                                                              staircase)))
    lrd.check_inverse_time_decay(lambda s, lr, ds, dr: np.float64(inverse_time(s, lr, ds, dr)))
    lrd.check_warmup_cosine(lambda *a, **k: np.float64(warmup_cosine(*a, **k)))
    lrd.check_rates_for_updates(lambda sch, e, b: np.asarray(rates_for_updates(sch, e, b), dtype=np.float64))


def test_descend_with_schedule_requires_float32(capsys):
    """Exercise 5 says "in float32": float64 weights have the right values (within 1e-5) but fail, naming the type."""
    def descend64(schedule, w0, steps):
        w, out = float(w0), [float(w0)]
        for k in range(steps):
            w = w - float(schedule(k)) * 2 * (w + 1)
            out.append(w)
        return out
    message = rejects(lrd.check_descend_with_schedule, descend64, "not float32: entry 0 is float64 (Python float)")
    assert "np.float32(w0)" in message
    # the values themselves pass: only the type is wrong
    lrd.check_descend_with_schedule(lambda sch, w0, s: np.asarray(descend64(sch, w0, s), dtype=np.float32))
    assert "float32 weights" in capsys.readouterr().out

    def start_uncast(schedule, w0, steps):  # float32 updates, but the list starts with w0 as given
        return [w0] + descend(schedule, w0, steps)[1:]
    rejects(lrd.check_descend_with_schedule, start_uncast, "entry 0 is float64")

    def rate_in_float64(schedule, w0, steps):  # np.float64 rate: every weight after w0 becomes float64
        w, out = np.float32(w0), [np.float32(w0)]
        for k in range(steps):
            w = w - np.float64(schedule(k)) * 2 * (w + 1)
            out.append(w)
        return out
    rejects(lrd.check_descend_with_schedule, rate_in_float64, "entry 1 is float64")


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


# --------------------------------------------------------------------------- the whole catalogue, student-style
def swapped_exponential(step, lr, decay_rate, decay_steps, staircase=False):  # parameters in the wrong order
    return exponential(step, lr, decay_steps, decay_rate, staircase)


def floored_rate(step, lr, ds, dr, staircase=False):
    rate = lr * dr ** (step / ds)
    return math.floor(rate) if staircase else rate


@pytest.mark.parametrize("wrong, words", [
    (swapped_exponential, "swapped"),
    (lambda s, lr, ds, dr, staircase=False: lr * dr ** (ds / s), "not decay_steps / step"),
    (lambda s, lr, ds, dr, staircase=False: lr * dr ** (s // ds if staircase else s) / ds, "brackets"),
    (lambda s, lr, ds, dr, staircase=False: lr * dr ** (s // ds), "only staircase=True floors"),
    (lambda s, lr, ds, dr, staircase=False: (lr * dr) ** (s // ds if staircase else s / ds), "only decay_rate"),
    (lambda s, lr, ds, dr, staircase=False: exponential(s, lr, ds, 1 - dr, staircase), "factor kept"),
    (floored_rate, "not the rate itself"),
])
def test_exponential_decay_catalogue(wrong, words):
    rejects(lrd.check_exponential_decay, wrong, words)


@pytest.mark.parametrize("wrong, words", [
    (lambda s, lr, ds, dr: lr / (dr * s / ds), "1 + is missing"),
    (lambda s, lr, ds, dr: lr / 1 + dr * s / ds, "divides by 1 only"),
    (lambda s, lr, ds, dr: lr / (1 + dr * (s // ds)), "staircase form"),
    (lambda s, lr, decay_rate, decay_steps: lr / (1 + decay_rate * s / decay_steps), "swapped"),
    (lambda s, lr, ds, dr: lr / (1 + dr) * s / ds, "whole 1 + decay_rate"),
    (lambda s, lr, ds, dr: lr - dr * s / ds, "linear decay"),
    (lambda s, lr, ds, dr: lr / (1 - dr * s / ds), "the sign"),
    (lambda s, lr, ds, dr: lr / (1 + dr * s / ds) ** 2, "no square"),
])
def test_inverse_time_decay_catalogue(wrong, words):
    rejects(lrd.check_inverse_time_decay, wrong, words)


def warmup_then(cos_term, alpha_inside=True, warm=lambda s, p, w: p * s / w, period=lambda w, d: d):
    def f(step, peak, warmup_steps, decay_steps, alpha=0.0):
        if step < warmup_steps:
            return warm(step, peak, warmup_steps)
        t = min(step - warmup_steps, decay_steps)
        c = cos_term(t, period(warmup_steps, decay_steps))
        return peak * ((1 - alpha) * c + alpha) if alpha_inside else peak * (1 - alpha) * c + alpha
    return f


@pytest.mark.parametrize("wrong, words", [
    (warmup_then(lambda t, d: 0.5 * (1 + math.cos(math.pi * t / d)), alpha_inside=False), "fraction of the peak"),
    (warmup_then(lambda t, d: 1 + math.cos(math.pi * t / d)), "0.5 is missing"),
    (warmup_then(lambda t, d: 0.5 * math.cos(math.pi * t / d)), "the 1 + is missing"),
    (warmup_then(lambda t, d: 0.5 * (1 + math.cos(180 * t / d))), "radians"),
    (warmup_then(lambda t, d: 0.5 * (1 + math.cos(math.pi * t / d)), warm=lambda s, p, w: p * (s // w)),
     "floor division"),
    (warmup_then(lambda t, d: 0.5 * (1 + math.cos(math.pi * t / d)), period=lambda w, d: d + w),
     "not decay_steps + warmup_steps"),
])
def test_warmup_cosine_catalogue(wrong, words):
    rejects(lrd.check_warmup_cosine, wrong, words)


def test_warmup_cosine_alpha_added_unscaled():
    def unscaled(step, peak, warmup_steps, decay_steps, alpha=0.0):
        if step < warmup_steps:
            return peak * step / warmup_steps
        t = min(step - warmup_steps, decay_steps)
        return peak * (0.5 * (1 + math.cos(math.pi * t / decay_steps)) + alpha)
    rejects(lrd.check_warmup_cosine, unscaled, "(1 - alpha)")


def collect(schedule, epochs, batches, step_of, reset=False, per_epoch=False, drop_last=False):
    rates = []
    for epoch in range(epochs):
        if reset:
            rates = []
        if per_epoch:
            rates.append(schedule(step_of(epoch, 0, epochs, batches)))
            continue
        for batch in range(batches):
            rates.append(schedule(step_of(epoch, batch, epochs, batches)))
    return rates[:-1] if drop_last else rates


@pytest.mark.parametrize("options, words", [
    ({"step_of": lambda e, b, E, B: e * B + b, "drop_last": True}, "one rate per update"),
    ({"step_of": lambda e, b, E, B: e * E + b}, "not of epochs"),
    ({"step_of": lambda e, b, E, B: e + b}, "repeats steps"),
    ({"step_of": lambda e, b, E, B: b * E + e}, "not batch * epochs + epoch"),
    ({"step_of": lambda e, b, E, B: e * B + b, "reset": True}, "only the last epoch"),
    ({"step_of": lambda e, b, E, B: e * B, "per_epoch": True}, "one rate per epoch"),
    ({"step_of": lambda e, b, E, B: e + 1}, "one epoch late"),
])
def test_rates_for_updates_catalogue(options, words):
    rejects(lrd.check_rates_for_updates, lambda sch, e, b: collect(sch, e, b, **options), words)


def schedule_loop(schedule, w0, steps, *, up=False, grad=lambda w: 2 * (w + 1), rate_at=None, twice=False,
                  last=False, before=False, no_rate=False):
    w = np.float32(w0)
    out = [w]
    for k in range(steps):
        lr = np.float32(schedule(k if rate_at is None else rate_at))
        g = np.float32(grad(w))
        new = w + lr * g if up else w - g if no_rate else w - (lr * lr if twice else lr) * g
        out.append(w if before else new)
        w = new
    return w if last else out


@pytest.mark.parametrize("options, words", [
    ({"up": True}, "moves *up*"), ({"grad": lambda w: w + 1}, "factor 2 is missing"),
    ({"rate_at": 20}, "last step's rate"), ({"twice": True}, "applied twice"), ({"last": True}, "not only the last"),
    ({"before": True}, "recorded before its update"), ({"no_rate": True}, "learning rate is missing"),
])
def test_descend_with_schedule_catalogue(options, words):
    def wrong(sch, w0, s):
        opts = dict(options)
        if opts.get("rate_at") is not None:
            opts["rate_at"] = s  # the last step's rate
        return schedule_loop(sch, w0, s, **opts)
    rejects(lrd.check_descend_with_schedule, wrong, words)


def test_catalogue_entries_added_after_trying_new_mistakes():
    rejects(lrd.check_exponential_decay,
            lambda s, lr, ds, dr, staircase=False: lr * math.exp(-dr * (s // ds if staircase else s / ds)), "exp(")
    rejects(lrd.check_inverse_time_decay, lambda s, lr, ds, dr: lr / (1 + dr * s) / ds, "inside the denominator")

    def no_warmup(step, peak, warmup_steps, decay_steps, alpha=0.0):
        t = min(step, decay_steps)
        return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t / decay_steps)) + alpha)
    rejects(lrd.check_warmup_cosine, no_warmup, "warmup is missing")
    rejects(lrd.check_warmup_cosine, warmup_then(lambda t, d: 0.5 * (1 + math.cos(math.pi * t / d)),
                                                 warm=lambda s, p, w: p * (s + 1) / (w + 1)), "rate 0 at step 0")
    rejects(lrd.check_rates_for_updates, lambda sch, e, b: [e_ * b + b_ for e_ in range(e) for b_ in range(b)],
            "step numbers")

    def aliased(schedule, w0, steps):
        w = np.array([w0], dtype=np.float32)
        out = [w]
        for k in range(steps):
            w -= np.float32(schedule(k)) * 2 * (w + 1)
            out.append(w)
        return [x[0] for x in out]
    rejects(lrd.check_descend_with_schedule, aliased, "same array each time")
    rejects(lrd.check_descend_with_schedule, lambda sch, w0, s: schedule_loop(sch, w0, s, grad=lambda w: 2 * (w0 + 1)),
            "computed once at w0")


# --------------------------------------------------------------------------- predictions
def test_predictions(capsys):
    lrd.check_lower_loss("constant")
    out = capsys.readouterr().out
    losses = [float(line.rsplit("loss ", 1)[1]) for line in out.splitlines() if "loss " in line]
    assert len(losses) == 2 and losses[1] < losses[0]  # the printed run backs the answer
    with pytest.raises(Exception, match="the answer is 'constant'"):
        lrd.check_lower_loss("decaying")
    lrd.check_rate_at_update_10(0.05)
    assert "update 10: rate 0.05" in capsys.readouterr().out
    with pytest.raises(Exception, match="the answer is 0.05"):
        lrd.check_rate_at_update_10(0.1)


def test_catalogue_entries_added_after_a_second_set_of_mistakes():
    rejects(lrd.check_exponential_decay,
            lambda s, lr, ds, dr, staircase=False: dr ** (s // ds if staircase else s / ds),
            "divided by initial_learning_rate")
    rejects(lrd.check_inverse_time_decay, lambda s, lr, ds, dr: lr / (1 + dr ** (s / ds)), "a product")

    def unshifted(step, peak, warmup_steps, decay_steps, alpha=0.0):
        if step < warmup_steps:
            return peak * step / warmup_steps
        return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * step / decay_steps)) + alpha)
    rejects(lrd.check_warmup_cosine, unshifted, "you used step itself")

    def floor_scaled(step, peak, warmup_steps, decay_steps, alpha=0.0):
        if step < warmup_steps:
            return peak * step / warmup_steps
        t = min(step - warmup_steps, decay_steps)
        return peak * 0.5 * (1 + math.cos(math.pi * t / decay_steps)) * (1 - alpha)
    rejects(lrd.check_warmup_cosine, floor_scaled, "sets a floor")
    rejects(lrd.check_rates_for_updates, lambda sch, e, b: np.repeat([sch(ep * b) for ep in range(e)], b),
            "epoch's first step")


def test_catalogue_entries_added_after_a_third_set_of_mistakes():
    rejects(lrd.check_inverse_time_decay, lambda s, lr, ds, dr: lr / (1 + dr * s * ds), "not multiplied")
    rejects(lrd.check_warmup_cosine, warmup_then(lambda t, d: 0.5 * (1 + math.cos(math.pi * t / d)),
                                                 warm=lambda s, p, w: p * s / (w - 1)), "reaches the peak at step")
    rejects(lrd.check_warmup_cosine, warmup_then(lambda t, d: 0.5 * (1 + math.cos(2 * math.pi * t / d))),
            "half a cosine")
    rejects(lrd.check_rates_for_updates, lambda sch, e, b: [sch(k) for k in range(1, e * b)], "shifted by one")
    rejects(lrd.check_descend_with_schedule, lambda sch, w0, s: schedule_loop(sch, w0, s, grad=lambda w: 2 * w),
            "gradient of w**2")

    def divided(schedule, w0, steps):
        w, out = np.float32(w0), [np.float32(w0)]
        for k in range(steps):
            w = w - 2 * (w + 1) / np.float32(schedule(k))
            out.append(w)
        return out
    rejects(lrd.check_descend_with_schedule, divided, "divided by the rate")


def test_catalogue_entries_added_after_a_fourth_set_of_mistakes():
    rejects(lrd.check_exponential_decay, lambda s, lr, ds, dr, staircase=False: lr * dr ** (s // ds if staircase
                                                                                           else s * ds), "step * decay")
    rejects(lrd.check_exponential_decay, lambda s, lr, ds, dr, staircase=False: lr * dr ** (s / ds if staircase
                                                                                           else s // ds), "swapped")
    rejects(lrd.check_inverse_time_decay, lambda s, lr, ds, dr: lr, "never decays")
    rejects(lrd.check_warmup_cosine, warmup_then(lambda t, d: 0.5 * (1 + math.cos(math.pi * t / d)),
                                                 warm=lambda s, p, w: p), "a ramp")

    def cut_off(step, peak, warmup_steps, decay_steps, alpha=0.0):
        if step < warmup_steps:
            return peak * step / warmup_steps
        t = min(step - warmup_steps, decay_steps)
        return peak * max(0.5 * (1 + math.cos(math.pi * t / decay_steps)), alpha)
    rejects(lrd.check_warmup_cosine, cut_off, "not a cut-off")
    rejects(lrd.check_descend_with_schedule,
            lambda sch, w0, s: schedule_loop(sch, w0, s, grad=lambda w: 4 * (w + 1)), "extra factor 2")


def test_catalogue_entries_added_after_a_fifth_set_of_mistakes():
    rejects(lrd.check_inverse_time_decay, lambda s, lr, ds, dr: lr / (1 + dr + s / ds), "decay_rate multiplies")
    rejects(lrd.check_warmup_cosine, warmup_then(lambda t, d: 0.5 * (1 + math.cos(math.radians(math.pi * t / d)))),
            "no math.radians")

    def one_more(schedule, w0, steps):
        return schedule_loop(schedule, w0, steps + 1)
    rejects(lrd.check_descend_with_schedule, one_more, "one update too many")
    rejects(lrd.check_descend_with_schedule, lambda sch, w0, s: schedule_loop(sch, w0, s - 1), "one update too few")


def test_catalogue_entries_added_after_a_newcomer_review():
    """Issue 14: the reader's wrong answers that got only numbers now get a named mistake."""
    def precedence(s, lr, ds, dr, staircase=False):  # staircase right, the smooth form without brackets
        if staircase:
            return lr * dr ** (s // ds)
        return lr * dr ** s / ds
    rejects(lrd.check_exponential_decay, precedence, "** binds tighter than /")

    def cosine(t, peak, d, alpha):
        return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t / d)) + alpha)

    def warmup_not_subtracted(step, peak, warmup_steps, decay_steps, alpha=0.0):
        if step < warmup_steps:
            return peak * step / warmup_steps
        return cosine(min(step, decay_steps), peak, decay_steps, alpha)
    # named by the mutation fallback (tests/test_checks_mutants.py keeps this mistake out of the catalogue)
    rejects(lrd.check_warmup_cosine, warmup_not_subtracted, "`step` where the solution has `step - warmup_steps`")

    def total_includes_warmup(step, peak, warmup_steps, decay_steps, alpha=0.0):
        if step < warmup_steps:
            return peak * step / warmup_steps
        cosine_steps = decay_steps - warmup_steps
        return cosine(min(step - warmup_steps, cosine_steps), peak, cosine_steps, alpha)
    rejects(lrd.check_warmup_cosine, total_includes_warmup, "decay_steps counts the cosine's steps only")

    message = rejects(lrd.check_rates_for_updates, lambda sch, e, b: [sch(k) for k in range(e * b + 1)],
                      "one rate too many")
    assert "shifted by one position" not in message


def test_rate_at_update_10_explains_the_printed_rate(capsys):
    with pytest.raises(Exception, match="the answer is 0.05"):
        lrd.check_rate_at_update_10(0.025)
    assert "schedule(k + 1), the next update's rate" in capsys.readouterr().out
