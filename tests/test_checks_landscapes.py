"""Lesson 07's checks accept right answers and name the mistake in typical wrong ones."""

import math

import numpy as np
import pytest
from check_helpers import predicts, rejects

from course_lib.checks import CheckFailed, NotAttempted
from course_lib.checks import landscapes as lc


# --------------------------------------------------------------------------- right answers
def classify_stationary_point(hessian):
    e = np.linalg.eigvalsh(hessian)
    if np.any(np.abs(e) < 1e-9 * max(1.0, np.abs(e).max())):
        return "inconclusive"
    return "minimum" if np.all(e > 0) else "maximum" if np.all(e < 0) else "saddle"


def newton_step(w, grad, hessian):
    return w - np.linalg.solve(hessian, grad)


def init_scales(fan_in, fan_out):
    return math.sqrt(6 / (fan_in + fan_out)), math.sqrt(2 / fan_in)


def diagonal_preconditioned_step(w, grad, learning_rate, diagonal):
    return w - learning_rate * grad / diagonal


def convergence_factors(kappa):
    return (kappa - 1) / (kappa + 1), (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)


def hessian_vector_product(grad_fn, w, v, epsilon):
    return (grad_fn(w + epsilon * v) - grad_fn(w - epsilon * v)) / (2 * epsilon)


def test_reference_answers_pass(capsys):
    lc.check_classify_stationary_point(classify_stationary_point)
    lc.check_newton_step(newton_step)
    lc.check_init_scales(init_scales)
    lc.check_diagonal_preconditioned_step(diagonal_preconditioned_step)
    lc.check_convergence_factors(convergence_factors)
    lc.check_hessian_vector_product(hessian_vector_product)
    assert capsys.readouterr().out.count("✓") == 6


def test_other_right_forms_pass():
    lc.check_newton_step(lambda w, g, h: w - np.linalg.inv(h) @ g)
    lc.check_convergence_factors(lambda k: (1 - 2 / (k + 1), 1 - 2 / (math.sqrt(k) + 1)))
    lc.check_diagonal_preconditioned_step(lambda w, g, lr, d: w - lr * (g * (1 / d)))


def test_unwritten_answer_is_not_attempted():
    def todo(*args):
        raise NotImplementedError()

    with pytest.raises(NotAttempted):
        lc.check_newton_step(todo)


def _label(e):
    e = np.asarray(e, float)
    if np.any(np.abs(e) < 1e-9 * max(1.0, np.abs(e).max())):
        return "inconclusive"
    return "minimum" if np.all(e > 0) else "maximum" if np.all(e < 0) else "saddle"


def _absolute(e):
    if np.any(np.abs(e) < 1e-9):
        return "inconclusive"
    return "minimum" if np.all(e > 0) else "maximum" if np.all(e < 0) else "saddle"


CLASSIFY_MISTAKES = [
    (lambda h: _label(np.diag(h)), "diagonal of H is not its eigenvalues"),
    (lambda h: "inconclusive" if abs(np.linalg.det(h)) < 1e-9 else "minimum" if np.linalg.det(h) > 0 else "saddle",
     "the determinant is the product"),
    (lambda h: {"minimum": "maximum", "maximum": "minimum"}.get(classify_stationary_point(h),
                                                                 classify_stationary_point(h)),
     "minimum and maximum are swapped"),
    (lambda h: "saddle" if classify_stationary_point(h) == "inconclusive" else classify_stationary_point(h),
     "a zero eigenvalue is not a sign"),
    (lambda h: "minimum" if classify_stationary_point(h) == "inconclusive" else classify_stationary_point(h),
     "compare |λ| with a small tolerance"),
    (lambda h: "maximum" if classify_stationary_point(h) == "saddle" else classify_stationary_point(h),
     "needs *all* eigenvalues negative"),
    (lambda h: _label(np.linalg.eigvalsh(h)[:1]), "the smallest only"),  # the same answers as the line above
    (lambda h: "minimum" if classify_stationary_point(h) == "saddle" else classify_stationary_point(h),
     "needs *all* of them positive"),
    (lambda h: _label([np.trace(h)]), "the trace is the sum"),
    (lambda h: "inconclusive" if np.linalg.det(h) == 0 else "saddle" if np.linalg.det(h) < 0
     else "minimum" if np.trace(h) > 0 else "maximum", "the 2 × 2 rule of calculus"),
    (lambda h: _absolute(np.linalg.eigvalsh(h)), "an absolute tolerance"),
]


@pytest.mark.parametrize("wrong, words", CLASSIFY_MISTAKES)
def test_classify_mistakes_are_named(wrong, words):
    rejects(lc.check_classify_stationary_point, wrong, words)


def test_classify_failure_shows_the_whole_matrix():
    def by_determinant(h):
        d = np.linalg.det(h)
        return "inconclusive" if d == 0 else "saddle" if d < 0 else "minimum" if np.trace(h) > 0 else "maximum"

    message = rejects(lc.check_classify_stationary_point, by_determinant, "fails beyond 2 × 2")
    # the case it failed on, every entry (the general message abbreviates a 3 × 3 array)
    assert "the Hessian: [[-1. ,  0. ,  0. ], [ 0. , -2. ,  0. ], [ 0. ,  0. , -0.5]]" in message, message


def test_the_cases_separate_a_relative_from_an_absolute_tolerance():
    # both tolerances agree on every case but one: the check must contain that one
    relative = [classify_stationary_point(h) for (h,) in lc._CLASSIFY_CASES]
    absolute = [lc._classify_absolute(h) for (h,) in lc._CLASSIFY_CASES]
    assert sum(r != a for r, a in zip(relative, absolute)) >= 1


NEWTON_MISTAKES = [
    (lambda w, g, h: w + np.linalg.solve(h, g), "sign"),
    (lambda w, g, h: w - h @ g, "H @ g multiplies"),
    (lambda w, g, h: w - g / np.diag(h), "diagonal of H ignores"),
    (lambda w, g, h: w - g, "gradient step of rate 1"),
    (lambda w, g, h: -np.linalg.solve(h, g), "not only the step"),
    (lambda w, g, h: np.linalg.solve(h, g), "not the step H⁻¹ g"),
    (lambda w, g, h: w - np.linalg.solve(h, g) / 2, "no ½"),
    (lambda w, g, h: w - np.linalg.norm(g) * np.linalg.solve(h, g), "gradient's norm"),
    (lambda w, g, h: w - g @ h, "H @ g multiplies"),  # g @ H equals H @ g for a symmetric H: one entry names both
    # the mutation fallback quotes the solution as the exercise writes it, with no np.asarray wrappers
    (lambda w, g, h: w - np.linalg.solve(g, h), "`np.linalg.solve(grad, hessian)` where the solution has "
                                                "`np.linalg.solve(hessian, grad)`"),
]


@pytest.mark.parametrize("wrong, words", NEWTON_MISTAKES)
def test_newton_mistakes_are_named(wrong, words):
    rejects(lc.check_newton_step, wrong, words)


SCALE_MISTAKES = [
    (lambda i, o: (6 / (i + o), 2 / i), "those are the squares"),
    (lambda i, o: (2 / (i + o), 2 / i), "those are the variances"),
    (lambda i, o: (math.sqrt(2 / (i + o)), math.sqrt(2 / i)), "Glorot's standard deviation"),
    (lambda i, o: (math.sqrt(3 / (i + o)), math.sqrt(2 / i)), "not √(3 / ...)"),
    (lambda i, o: (math.sqrt(6 / (i + o)), 2 / i), "2 / fan_in is He's *variance*"),
    (lambda i, o: (math.sqrt(6 / (i + o)), 2 / o), "2 / fan_out is a variance"),
    (lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(1 / i)), "LeCun's scale"),
    (lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(2 / o)), "uses fan_in"),
    (lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(4 / (i + o))), "from fan_in alone"),
    (lambda i, o: (math.sqrt(2 / i), math.sqrt(6 / (i + o))), "the order is (glorot_limit, he_stddev)"),
    (lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(6 / i)), "He's *uniform* limit"),
    (lambda i, o: (math.sqrt(6 / (i * o)), math.sqrt(2 / i)), "not fan_in * fan_out"),
]


@pytest.mark.parametrize("wrong, words", SCALE_MISTAKES)
def test_scale_mistakes_are_named(wrong, words):
    rejects(lc.check_init_scales, wrong, words)


PRECOND_MISTAKES = [
    (lambda w, g, lr, d: w - lr * g * d, "do not multiply by it"),
    (lambda w, g, lr, d: w + lr * g / d, "sign"),
    (lambda w, g, lr, d: w - lr * g / np.sqrt(d), "not its square root"),
    (lambda w, g, lr, d: w - lr * g / d ** 2, "not by its square"),
    (lambda w, g, lr, d: w - g / d, "the learning rate is missing"),
    (lambda w, g, lr, d: w - g / (lr * d), "the learning rate multiplies"),
    (lambda w, g, lr, d: -lr * g / d, "not only the step"),
    (lambda w, g, lr, d: w - lr * g / np.sum(d), "not by their sum"),
    (lambda w, g, lr, d: w - lr * g / np.mean(d), "only a rescaled learning rate"),
    (lambda w, g, lr, d: w - lr * g, "the preconditioner is missing"),
]


@pytest.mark.parametrize("wrong, words", PRECOND_MISTAKES)
def test_preconditioning_mistakes_are_named(wrong, words):
    rejects(lc.check_diagonal_preconditioned_step, wrong, words)


def _r(k):
    return math.sqrt(k)


FACTOR_MISTAKES = [
    (lambda k: ((_r(k) - 1) / (_r(k) + 1), (k - 1) / (k + 1)), "the order is (gradient_descent, momentum)"),
    (lambda k: ((k - 1) / (k + 1), ((_r(k) - 1) / (_r(k) + 1)) ** 2), "*momentum parameter* β"),
    (lambda k: ((_r(k) - 1) / (_r(k) + 1),) * 2, "has no square roots"),
    (lambda k: ((k - 1) / (k + 1),) * 2, "momentum's factor uses √κ"),
    (lambda k: (1 - 1 / k, 1 - 1 / _r(k)), "the rate 1/L"),
    (lambda k: ((k + 1) / (k - 1) if k != 1 else math.inf, (_r(k) + 1) / (_r(k) - 1) if k != 1 else math.inf),
     "upside down"),
    (lambda k: (2 / (k + 1), 2 / (_r(k) + 1)), "1 minus the factor"),
    (lambda k: ((k - 1) / k, (_r(k) - 1) / _r(k)), "divide by κ + 1"),  # the same as 1 - 1/κ: one entry names both
    (lambda k: ((k - 1) / (k + 1), (_r(k) - 1) / math.sqrt(k + 1)), "the brackets"),
    (lambda k: (1 - 1 / k, (_r(k) - 1) / (_r(k) + 1)), "gradient_descent: 1 - 1/κ is the factor at the rate 1/L"),
    (lambda k: (math.sqrt((k - 1) / (k + 1)), (_r(k) - 1) / (k + 1)),
     "gradient_descent: no square root: the factor is (κ-1)/(κ+1) itself; momentum: the √ goes on both κ's"),
    (lambda k: ((k - 1) / (k + 1), 1 - 1 / _r(k)), "momentum: 1 - 1/√κ is not it"),
]


@pytest.mark.parametrize("wrong, words", FACTOR_MISTAKES)
def test_factor_mistakes_are_named(wrong, words):
    rejects(lc.check_convergence_factors, wrong, words)


def _g(grad_fn, w, v, e):
    return grad_fn(w + e * v), grad_fn(w - e * v), grad_fn(w)


HVP_MISTAKES = [
    (lambda g, w, v, e: (g(w + e * v) - g(w)) / e, "a one-sided difference"),
    (lambda g, w, v, e: (g(w + e * v) - g(w - e * v)) / e, "divide by 2ε, not ε"),
    (lambda g, w, v, e: (g(w + e * v) - g(w - e * v)) / 2, "not by 2"),
    (lambda g, w, v, e: (g(w + e * v) - g(w - e * v)) / 2 * e, "brackets"),
    (lambda g, w, v, e: (g(w - e * v) - g(w + e * v)) / (2 * e), "sign"),
    (lambda g, w, v, e: (g(w + e) - g(w - e)) / (2 * e), "step along v"),
    (lambda g, w, v, e: v * (g(w + e * v) - g(w - e * v)) / (2 * e), "do not multiply it by v again"),
    (lambda g, w, v, e: (g(w + e * v) - g(w - e * v)) / (2 * e * np.linalg.norm(v)), "no division by |v|"),
]


@pytest.mark.parametrize("wrong, words", HVP_MISTAKES)
def test_hvp_mistakes_are_named(wrong, words):
    rejects(lc.check_hessian_vector_product, wrong, words)


def test_hvp_cases_are_close_to_the_exact_product():
    # the reference is a finite difference; on every case it is within ε²-sized error of the exact H v
    for grad_fn, w, v, eps in lc._hvp_cases():
        exact = grad_fn.hessian(w) @ v
        fd = hessian_vector_product(grad_fn, w, v, eps)
        assert np.allclose(fd, exact, rtol=0, atol=10 * eps ** 2 * np.abs(v).max() ** 3 * 6), (fd, exact)
        assert not np.allclose(fd, grad_fn.hessian(w) @ np.ones_like(v))


def test_a_doubled_step_is_rejected():
    with pytest.raises(CheckFailed):
        lc.check_diagonal_preconditioned_step(lambda w, g, lr, d: w - 2 * lr * g / d)


def test_predictions(capsys):
    predicts(lc.check_steps_from_1e_12, 266, 170, "|y| first passes 0.1 at step", capsys)
    out_line = [ln for ln in (lc.check_steps_from_1e_12(262) or "", capsys.readouterr().out)[1].splitlines()
                if "first passes" in ln][0]
    # the run agrees with the derived number within a step
    measured, derived = int(out_line.split("at step ")[1].split(";")[0]), float(out_line.split("= ")[-1])
    assert abs(measured - derived) <= 1
    lc.check_turned_diagonal("About the same")
    out = capsys.readouterr().out
    assert "turned 45°" in out
    # the evidence itself shows it: on the turned bowl both runs end at the same distance
    line = [ln for ln in out.splitlines() if "turned 45°" in ln][0]
    plain, scaled = line.split("plain ")[1].split(",")[0], line.split("diag(1/H_ii) ")[1]
    assert plain.strip() == scaled.strip()
    with pytest.raises(CheckFailed):
        lc.check_turned_diagonal("much faster")
    with pytest.raises(NotAttempted):
        lc.check_turned_diagonal(...)
