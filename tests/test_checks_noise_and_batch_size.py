"""Lesson 03's checks accept right answers and name the mistake in typical wrong ones."""

import math

import numpy as np
import pytest
from check_helpers import predicts, rejects, sentence

from course_lib.checks import CheckFailed, NotAttempted
from course_lib.checks import noise_and_batch_size as nc


# --------------------------------------------------------------------------- right answers
def gradient_variance(g, b):
    g = np.asarray(g, float)
    n = len(g)
    sigma2 = np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1))
    return sigma2 / b * (n - b) / (n - 1)


def noise_floor_1d(lr, b, variance, curvature):
    if lr * curvature >= 2:
        return math.inf
    return lr * variance / (2 * b * (2 - lr * curvature))


def scale_for_batch(lr, b0, b, warmup_examples):
    return lr * b / b0, math.ceil(warmup_examples / b)


def all_reduce(per_replica):
    mean = np.mean(per_replica, axis=0)
    return [mean for _ in per_replica]


def replica_share(per_example_losses, global_batch_size):
    return np.sum(per_example_losses) / global_batch_size


def test_reference_answers_pass(capsys):
    nc.check_gradient_variance(gradient_variance)
    nc.check_noise_floor_1d(noise_floor_1d)
    nc.check_scale_for_batch(scale_for_batch)
    nc.check_all_reduce(all_reduce)
    nc.check_replica_share(replica_share)
    assert capsys.readouterr().out.count("✓") == 5


def test_other_right_forms_pass():
    def by_trace(g, b):  # the trace of the covariance, np.cov's population form
        n = len(g)
        return np.trace(np.atleast_2d(np.cov(np.asarray(g).T, bias=True))) / b * (n - b) / (n - 1)

    def loop_reduce(per_replica):
        total = np.zeros_like(np.asarray(per_replica[0], float))
        for g in per_replica:
            total = total + g
        return [total / len(per_replica)] * len(per_replica)

    nc.check_gradient_variance(by_trace)
    nc.check_all_reduce(loop_reduce)
    nc.check_scale_for_batch(lambda lr, b0, b, w: (lr * (b / b0), -(-w // b)))
    # a tuple instead of a list, and one mean shared by every replica, are fine (noise.all_reduce_mean shares it too)
    nc.check_all_reduce(lambda p: tuple(np.mean(p, axis=0) for _ in p))
    nc.check_all_reduce(lambda p: [np.mean(p, axis=0)] * len(p))
    nc.check_replica_share(lambda losses, b: float(np.mean(losses)) * len(losses) / b)


# --------------------------------------------------------------------------- typical mistakes
def variant(g, b, ddof=0, corr=lambda n, b: (n - b) / (n - 1), power=1, per_column=False, axis=0):
    g = np.asarray(g, float)
    n = len(g)
    if per_column:
        s2 = np.mean(np.var(g, axis=0))
    elif axis == 1:
        s2 = np.mean(np.var(g, axis=1))
    else:
        s2 = np.sum((g - g.mean(axis=0)) ** 2) / (n - ddof)
    return s2 / b ** power * corr(n, b)


def test_gradient_variance_mistakes():
    check = nc.check_gradient_variance
    rejects(check, lambda g, b: variant(g, b, corr=lambda n, b: 1), "drawn *with* replacement")
    rejects(check, lambda g, b: variant(g, b, corr=lambda n, b: (n - b) / n), "not (N - B)/N")
    rejects(check, lambda g, b: variant(g, b, corr=lambda n, b: (n - 1) / (n - b) if n > b else math.inf),
            "upside down")
    rejects(check, lambda g, b: variant(g, b, ddof=1), "ddof=0")
    rejects(check, lambda g, b: variant(g, b, per_column=True), "trace of the covariance")
    rejects(check, lambda g, b: variant(g, b, axis=1), "axis")
    rejects(check, lambda g, b: variant(g, b, power=2), "not 1/B²")
    rejects(check, lambda g, b: variant(g, b, power=0.5), "standard deviation")
    rejects(check, lambda g, b: variant(g, b, power=0), "batch size is missing")
    rejects(check, lambda g, b: np.sqrt(gradient_variance(g, b)), "square root")
    rejects(check, lambda g, b: variant(g, b, corr=lambda n, b: (n - b) / (b - 1) if b > 1 else math.inf), "B - 1")
    rejects(check, lambda g, b: np.var(g) / b * (len(g) - b) / (len(g) - 1), "np.var without an axis")


def test_gradient_variance_mistakes_the_newcomer_made():
    check = nc.check_gradient_variance

    def wrong_n(per_example, b):           # N from the wrong axis: the number of gradient entries
        per_example = np.asarray(per_example, float)
        n = per_example.shape[1]
        g = per_example.mean(axis=0)
        return np.mean(np.sum((per_example - g) ** 2, axis=1)) / b * (n - b) / (n - 1)

    def unsquared(per_example, b):         # the norm, not its square
        per_example = np.asarray(per_example, float)
        n = len(per_example)
        return np.mean(np.linalg.norm(per_example - per_example.mean(axis=0), axis=1)) / b * (n - b) / (n - 1)

    def no_mean(per_example, b):           # the mean gradient not subtracted
        per_example = np.asarray(per_example, float)
        n = len(per_example)
        return np.mean(np.sum(per_example ** 2, axis=1)) / b * (n - b) / (n - 1)

    assert "-0.07" in rejects(check, wrong_n, "N is the number of examples, the rows")
    rejects(check, unsquared, "*squared* distance")
    message = rejects(check, no_mean, "subtract g = per_example.mean(axis=0)")
    assert "behaves like `g`" not in message      # `g` is the mean gradient, as in the lesson and the exercise


def test_noise_floor_mistakes():
    check = nc.check_noise_floor_1d

    def f(half=2, batch=lambda b: b, lr_pow=1, bracket=lambda lr, c: 2 - lr * c, loss=True, inf=True):
        def floor(lr, b, v, c):
            if inf and lr * c >= 2:
                return math.inf
            e2 = lr ** lr_pow * v / (batch(b) * c * bracket(lr, c))
            return (c / half * e2) if loss else e2
        return floor

    rejects(check, f(half=1), "½ is missing")
    rejects(check, f(loss=False), "E[w²]")
    rejects(check, f(batch=lambda b: 1), "batch size is missing")
    rejects(check, f(batch=lambda b: b * b), "not σ²/B²")
    rejects(check, f(lr_pow=2), "one lr cancels")
    rejects(check, f(bracket=lambda lr, c: 1 - lr * c), "not (1 - lr λ)")
    rejects(check, f(bracket=lambda lr, c: 2 + lr * c), "not (2 + lr λ)")
    rejects(check, f(inf=False), "math.inf")
    rejects(check, lambda lr, b, v, c: lr * v / (2 * b * (2 - lr)) if lr < 2 else math.inf, "curvature is missing")
    rejects(check, lambda lr, b, v, c: noise_floor_1d(lr, b, math.sqrt(v), c), "square root")
    rejects(check, lambda lr, b, v, c: noise_floor_1d(lr, b, v ** 2, c), "do not square")
    rejects(check, lambda lr, b, v, c: math.inf if lr * c >= 2 else lr * v / 2 * b * (2 - lr * c), "brackets")


def test_noise_floor_boundary_is_tested():
    def strict(lr, b, v, c):               # `>` where the exercise says `>=`: divides by zero at lr * c = 2
        if lr * c > 2:
            return math.inf
        return lr * v / (2 * b * (2 - lr * c))
    rejects(nc.check_noise_floor_1d, strict, "not `> 2`")
    assert any(lr * c == 2 for lr, b, v, c in nc._FLOOR_CASES)


def test_scale_for_batch_mistakes():
    check = nc.check_scale_for_batch
    rejects(check, lambda lr, b0, b, w: (lr * b0 / b, math.ceil(w / b)), "upside down")
    rejects(check, lambda lr, b0, b, w: (lr * (b / b0) ** 0.5, math.ceil(w / b)), "square-root rule")
    rejects(check, lambda lr, b0, b, w: (lr * b / b0, math.ceil(w / b0)), "not / base_batch_size")
    rejects(check, lambda lr, b0, b, w: (lr * b / b0, int(w / b)), "round the warmup up")
    rejects(check, lambda lr, b0, b, w: (lr * b / b0, w / b), "whole number")
    rejects(check, lambda lr, b0, b, w: (lr * b / b0, round(w / b)), "round() can round down")
    rejects(check, lambda lr, b0, b, w: (lr * b / b0, w * b), "do not multiply")
    message = rejects(check, lambda lr, b0, b, w: (math.ceil(w / b), lr * b / b0), "swapped")
    assert "which is (warmup_steps, learning_rate); expected (learning_rate, warmup_steps) = (0.8, 13)" in message
    rejects(check, lambda lr, b0, b, w: (lr, math.ceil(w / b)), "not scaled")
    rejects(check, lambda lr, b0, b, w: (lr * b // b0, math.ceil(w / b)), "floor division")
    rejects(check, lambda lr, b0, b, w: (lr * b / b0, math.ceil(w / b) + 1), "one warmup step too many")
    rejects(check, lambda lr, b0, b, w: (lr * b / b0, w // b + 1), "3200 // 32 + 1 = 101")


def test_all_reduce_mistakes():
    check = nc.check_all_reduce
    rejects(check, lambda p: [np.sum(p, axis=0)] * len(p), "that is the sum")
    rejects(check, lambda p: np.mean(p, axis=0), "one copy per replica")
    rejects(check, lambda p: [np.mean(p, axis=0)], "only one copy")
    rejects(check, lambda p: [p[0]] * len(p), "first replica")
    rejects(check, lambda p: list(p), "nothing was reduced")
    rejects(check, lambda p: [np.sum(p, axis=0) / (len(p) - 1)] * len(p), "not one less")
    rejects(check, lambda p: [np.sum(p, axis=0) / np.size(p[0])] * len(p), "entries in one gradient")
    rejects(check, lambda p: [np.median(p, axis=0)] * len(p), "median")
    rejects(check, lambda p: [np.full(np.shape(g), np.mean(p)) for g in p], "axis")
    rejects(check, lambda p: [np.sum(p, axis=0) / np.sum(p)] * len(p), "not by the sum")


def test_in_place_all_reduce_is_named():
    def in_place(per_replica):
        mean = np.mean(per_replica, axis=0)
        for g in per_replica:
            g[...] = mean
        return per_replica
    sentence(nc.check_all_reduce, in_place, "changed the replicas' gradients in place")

    def divided_in_place(per_replica):
        for g in per_replica:
            g /= len(per_replica)
        return [sum(per_replica)] * len(per_replica)
    sentence(nc.check_all_reduce, divided_in_place, "compute the mean into a new array")


def test_replica_share_mistakes():
    check = nc.check_replica_share
    rejects(check, lambda losses, b: np.mean(losses), "shard's mean")
    rejects(check, lambda losses, b: np.sum(losses), "shard's sum")
    rejects(check, lambda losses, b: np.mean(losses) / b, "the *sum* (not the mean)")
    rejects(check, lambda losses, b: np.sum(losses) / (b / len(losses)), "not by the number of replicas")


# --------------------------------------------------------------------------- bad answers and predictions
@pytest.mark.parametrize("check", [nc.check_gradient_variance, nc.check_noise_floor_1d])
def test_none_and_not_attempted(check):
    sentence(check, lambda *a: None, "returned None")

    def todo(*a):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        check(todo)


def test_predictions(capsys):
    predicts(nc.check_floor_batch_50, "1/100 of B = 1's", "zero", "derived floor at B = 1 over B = 50: 109", capsys)
    with pytest.raises(CheckFailed):
        nc.check_floor_batch_50("1/50 of B = 1's")
    capsys.readouterr()
    predicts(nc.check_decay_with_t_1, "above 6.9e-3", "below 3.6e-5", "T =   1: 2 lr_0 T λmin = 0.083", capsys)


def test_decay_with_t_1_run_bears_the_answer_out(capsys):
    nc.check_decay_with_t_1("above 6.9e-3")
    out = capsys.readouterr().out
    t1 = [line for line in out.splitlines() if line.strip().startswith("T =   1")][0]
    final = float(t1.split("at step 10000: ")[1].split(";")[0])
    assert final > 6.9e-3
