"""Lesson 09's checks accept right answers and name the mistake in typical wrong ones."""

import math

import numpy as np
import pytest
from check_helpers import predicts, rejects

from course_lib import practice
from course_lib.checks import CheckFailed, NotAttempted
from course_lib.checks import practice as pc


# --------------------------------------------------------------------------- right answers
def smooth(losses, beta, correct=True, swap=False, k_from_0=False, start_at_first=False):
    out, avg = [], losses[0] if start_at_first else 0.0
    for k, loss in enumerate(losses, start=0 if k_from_0 else 1):
        avg = (1 - beta) * avg + beta * loss if swap else beta * avg + (1 - beta) * loss
        out.append(np.float64(avg) / (1 - beta ** k) if correct else avg)
    return np.array(out)


def pick_rate(rates, losses, beta=0.9):
    return rates[np.argmin(smooth(losses, beta))] / 10


def clip(grads, c):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g * c / max(norm, c) for g in grads], norm


def adamw(w, g, m, v, step, learning_rate, weight_decay, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    w = w - w * weight_decay * learning_rate
    t = step + 1
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v


def log_uniform(low, high, size, rng):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def test_reference_answers_pass(capsys):
    pc.check_pick_rate(pick_rate)
    pc.check_clip_by_global_norm(clip)
    pc.check_adamw_update(adamw)
    pc.check_sample_log_uniform(log_uniform)
    assert capsys.readouterr().out.count("✓") == 4


def test_other_right_forms_pass():
    pc.check_clip_by_global_norm(lambda g, c: practice.clip_by_global_norm(list(g), c))
    pc.check_sample_log_uniform(lambda lo, hi, n, rng: 10 ** rng.uniform(np.log10(lo), np.log10(hi), n))
    pc.check_sample_log_uniform(lambda lo, hi, n, rng: practice.log_uniform(lo, hi, n, rng))

    def textbook(w, g, m, v, step, learning_rate, weight_decay, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        w = w * (1 - learning_rate * weight_decay)          # the paper's form: m̂, v̂ and epsilon outside the root
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        t = step + 1
        m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
        return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v

    pc.check_adamw_update(textbook)


def test_the_library_range_test_pick_is_the_exercise_pick():
    rates, losses = pc._range_cases()[0][0]
    smoothed = smooth(losses, 0.9)
    assert rates[np.argmin(smoothed)] / 10 == pytest.approx(pc._pick_rate(rates, losses))


def test_unanswered_exercises_say_so():
    def todo(*args, **kwargs):
        raise NotImplementedError()

    for check in (pc.check_pick_rate, pc.check_clip_by_global_norm, pc.check_adamw_update,
                  pc.check_sample_log_uniform):
        with pytest.raises(NotAttempted):
            check(todo)


# --------------------------------------------------------------------------- typical mistakes
def test_pick_rate_mistakes():
    check = pc.check_pick_rate

    def at(r, i, scale=10):
        return r[int(np.clip(i, 0, len(r) - 1))] / scale

    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmin(smooth(ls, beta)), 1), "divide by 10")
    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmin(ls)), "*raw* batch loss")
    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmin(smooth(ls, beta, correct=False))), "bias correction")
    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmin(smooth(ls, beta, swap=True))), "swapped")
    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmax(smooth(ls, beta))), "np.argmin")
    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmin(smooth(ls, beta)) + 1), "one index too far")
    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmin(smooth(ls, beta)) - 1), "one index too early")
    rejects(check, lambda r, ls, beta=0.9: np.min(smooth(ls, beta)) / 10, "lowest *loss*")
    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmin(smooth(ls, beta)), 100), "not a hundredth")
    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmin(np.gradient(smooth(ls, beta)))), "steepest")
    rejects(check, lambda r, ls, beta=0.9: r[0] / 10, "first rate")
    rejects(check, lambda r, ls, beta=0.9: np.argmin(smooth(ls, beta)) / 10, "*index*")
    rejects(check, lambda r, ls, beta=0.9: at(r, np.argmin(smooth(ls, 0.9))), "the `beta` you are given")


def test_pick_rate_catches_the_bias_correction_slips_that_agree_on_smooth_curves():
    """The off-by-one correction (1 - beta**k, k from 0) and an average started at the first loss pick the same
    rate as the right answer on a long test; the cases whose minimum comes in the first updates separate them."""
    check = pc.check_pick_rate
    with np.errstate(divide="ignore"):
        rejects(check, lambda r, ls, beta=0.9: r[np.argmin(smooth(ls, beta, k_from_0=True))] / 10, "one update off")
    rejects(check, lambda r, ls, beta=0.9: r[np.argmin(smooth(ls, beta, start_at_first=True))] / 10,
            "starts at 0, not at the first loss")
    rejects(check, lambda r, ls, beta=0.9: r[np.argmin(smooth(ls, beta, correct=False, start_at_first=True))] / 10,
            "start the average at 0")
    rates, losses = pc._range_cases()[0][0]             # a long test: these slips agree with the right pick
    with np.errstate(divide="ignore"):
        assert rates[np.argmin(smooth(losses, 0.9, k_from_0=True))] == rates[np.argmin(smooth(losses, 0.9))]


def test_clip_by_global_norm_mistakes():
    check = pc.check_clip_by_global_norm

    def total(g):
        return np.sqrt(sum(np.sum(x ** 2) for x in g))

    rejects(check, lambda g, c: ([x * c / max(np.linalg.norm(x), c) for x in g], total(g)), "`clipnorm`")
    rejects(check, lambda g, c: ([np.clip(x, -c, c) for x in g], total(g)), "`clipvalue`")
    rejects(check, lambda g, c: ([x * c / total(g) for x in g], total(g)), "inside the limit")
    rejects(check, lambda g, c: ([x * c / max(total(g) ** 2, c) for x in g], total(g) ** 2), "square root")
    rejects(check, lambda g, c: ([x * c / max(sum(np.linalg.norm(y) for y in g), c) for x in g],
                                 sum(np.linalg.norm(y) for y in g)), "not the sum of the arrays' norms")
    rejects(check, lambda g, c: ([x * c / max(max(np.linalg.norm(y) for y in g), c) for x in g],
                                 max(np.linalg.norm(y) for y in g)), "largest array's norm")
    rejects(check, lambda g, c: ([x * c / max(total(g), c) for x in g], min(total(g), c)), "*before* clipping")
    rejects(check, lambda g, c: ([x * max(total(g), c) / c for x in g], total(g)), "upside down")
    mean_norm = lambda g: np.sqrt(sum(np.mean(x ** 2) for x in g))  # noqa: E731
    rejects(check, lambda g, c: ([x * c / max(mean_norm(g), c) for x in g], mean_norm(g)), "np.mean")


def test_clip_by_global_norm_in_place_is_named():
    def in_place(grads, c):
        norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        for g in grads:
            g *= c / max(norm, c)
        return grads, norm

    with pytest.raises(CheckFailed, match="in place"):
        pc.check_clip_by_global_norm(in_place)


def test_adamw_update_mistakes():
    check = pc.check_adamw_update

    def step(decay_first=True, l2=0.0, lr_in_decay=True, decay=True, t_shift=1):
        def f(w, g, m, v, s, learning_rate, weight_decay, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
            shrink = weight_decay * (learning_rate if lr_in_decay else 1.0) if decay else 0.0
            if decay_first:
                w = w - w * shrink
            t = s + t_shift
            g = g + l2 * weight_decay * w
            m = beta_1 * m + (1 - beta_1) * g
            v = beta_2 * v + (1 - beta_2) * g * g
            w = w - learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t) * m / (np.sqrt(v) + epsilon)
            if not decay_first:
                w = w - w * shrink
            return w, m, v
        return f

    rejects(check, step(decay=False, l2=1.0), "that is Adam + L2")
    rejects(check, step(decay=False, l2=2.0), "2 * l2 * w")
    rejects(check, step(decay_first=False), "decay comes first")
    rejects(check, step(lr_in_decay=False), "scaled by the learning rate")
    rejects(check, step(decay=False), "weight decay is missing")
    rejects(check, step(t_shift=0), "counts updates from 1")
    rejects(check, step(t_shift=2), "one update too many")

    def keras_form(eps_inside=False, v_from_g=False, no_root=False):
        def f(w, g, m, v, s, learning_rate, weight_decay, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
            w = w - w * weight_decay * learning_rate
            m = beta_1 * m + (1 - beta_1) * g
            v = beta_2 * v + (1 - beta_2) * (g if v_from_g else g * g)
            c = 1 - beta_2 ** (s + 1)
            alpha = learning_rate * (c if no_root else np.sqrt(c)) / (1 - beta_1 ** (s + 1))
            return w - alpha * m / (np.sqrt(v + epsilon) if eps_inside else np.sqrt(v) + epsilon), m, v
        return f

    rejects(check, keras_form(eps_inside=True), "epsilon went inside the square root")
    with np.errstate(invalid="ignore"):
        rejects(check, keras_form(v_from_g=True), "*squared* gradient")
    rejects(check, keras_form(no_root=True), "square root of v's correction")
    msg = rejects(check, lambda *a, **k: tuple(reversed(adamw(*a, **k))), "")
    assert "order" in msg or "swapped" in msg or "reversed" in msg, msg


def test_sample_log_uniform_mistakes():
    check = pc.check_sample_log_uniform
    rejects(check, lambda lo, hi, n, rng: rng.uniform(lo, hi, n), "top decade")
    rejects(check, lambda lo, hi, n, rng: rng.uniform(np.log(lo), np.log(hi), n), "logarithms of the draws")
    rejects(check, lambda lo, hi, n, rng: np.exp(rng.uniform(lo, hi, n)), "not in the range")
    rejects(check, lambda lo, hi, n, rng: np.log(rng.uniform(lo, hi, n)), "wrong way round")
    rejects(check, lambda lo, hi, n, rng: np.exp(rng.uniform(np.log(hi), np.log(lo), n)), "swapped")
    rejects(check, lambda lo, hi, n, rng: np.geomspace(lo, hi, n), "grid")
    rejects(check, lambda lo, hi, n, rng: np.sort(log_uniform(lo, hi, n, rng)), "sorted")
    rejects(check, lambda lo, hi, n, rng: 10 ** rng.uniform(lo, hi, n), "np.log10(low)")
    rejects(check, lambda lo, hi, n, rng: log_uniform(lo, hi, n - 1, rng), "one draw too few")
    rejects(check, lambda lo, hi, n, rng: log_uniform(lo, hi, n + 1, rng), "one draw too many")
    rejects(check, lambda lo, hi, n, rng: 10 ** rng.uniform(np.log(lo), np.log(hi), n), "outside [low, high]")
    rejects(check, lambda lo, hi, n, rng: np.exp(rng.uniform(np.log10(lo), np.log10(hi), n)), "outside [low, high]")


def test_sample_log_uniform_first_hint_does_not_hand_out_the_answer():
    msg = rejects(pc.check_sample_log_uniform, lambda lo, hi, n, rng: rng.uniform(lo, hi, n), "top decade")
    assert "np.exp(" not in msg and "np.log(" not in msg, msg


# --------------------------------------------------------------------------- predictions
def test_l2_with_momentum_prediction(capsys):
    predicts(pc.check_l2_with_momentum, "different runs", "the same run", "momentum 0.9: SGD + L2(0.005)", capsys)
    pc.check_l2_with_momentum("Different runs ")
    out = capsys.readouterr().out
    gaps = [float(line.rsplit(" ", 1)[1]) for line in out.splitlines() if "largest weight difference" in line]
    assert gaps[0] < 1e-8 < 1e-2 < min(gaps[1:]), gaps    # the same without momentum only
    with pytest.raises(CheckFailed, match="one of"):
        pc.check_l2_with_momentum(0.01)


def test_warmup_prediction_shows_the_stalled_run(capsys):
    predicts(pc.check_warmup_instead_of_clipping, "stuck near ln 10", "trains well", "ReLU units 0", capsys)
    pc.check_warmup_instead_of_clipping("stuck near ln 10")
    out = capsys.readouterr().out
    last = float(out.split("training loss at steps")[1].split("]")[1].split(",")[-1])
    assert abs(last - math.log(10)) < 0.05
    assert pc.TWICE_THE_LOWEST == pytest.approx(1.478, abs=5e-4)
