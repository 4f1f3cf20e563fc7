"""Lesson 02's checks accept right answers and name the mistake in typical wrong ones."""

import math

import numpy as np
import pytest
from check_helpers import rejects, sentence

from course_lib.checks import NotAttempted
from course_lib.checks import learning_rate as lr_checks


def eig(h):
    return np.linalg.eigvalsh(np.asarray(h, float))


# --------------------------------------------------------------------------- right answers
def stability_limit(h):
    return 2 / eig(h).max()


def classify(lr, h):
    factor = np.max(np.abs(1 - lr * eig(h)))
    return "oscillating" if abs(factor - 1) <= 1e-12 else "converging" if factor < 1 else "diverging"


def steps(lr, c, d, tol):
    factor, d = abs(1 - lr * c), abs(d)
    if d <= tol:
        return 0
    if factor >= 1:
        return math.inf
    return 1 if factor == 0 else math.ceil(math.log(tol / d) / math.log(factor))


def best(h):
    e = eig(h)
    return 2 / (e.min() + e.max())


def test_reference_answers_pass(capsys):
    lr_checks.check_stability_limit(stability_limit)
    lr_checks.check_classify_learning_rate(classify)
    lr_checks.check_steps_to_tolerance(steps)
    lr_checks.check_best_learning_rate(best)
    out = capsys.readouterr().out
    assert out.count("✓") == 4


def test_steps_by_simulation_also_passes():
    def simulate(lr, c, d, tol):  # a loop instead of the formula: also right
        factor, d, k = 1 - lr * c, abs(d), 0
        if abs(factor) >= 1 and d > tol:
            return math.inf
        while d > tol:
            d, k = d * abs(factor), k + 1
        return k
    lr_checks.check_steps_to_tolerance(simulate)


# --------------------------------------------------------------------------- typical mistakes
def test_stability_limit_mistakes():
    check = lr_checks.check_stability_limit
    rejects(check, lambda h: 1 / eig(h).max(), "1/L")
    rejects(check, lambda h: 2 / eig(h).min(), "smallest eigenvalue")
    rejects(check, lambda h: 2 / np.max(np.diag(h)), "diagonal")
    rejects(check, lambda h: 2 / np.trace(h), "trace")
    rejects(check, lambda h: 2 / np.linalg.norm(h), "Frobenius")


def test_classify_mistakes():
    check = lr_checks.check_classify_learning_rate

    def rule(lam_fn, at_limit):
        def f(lr, h):
            limit = 2 / lam_fn(h)
            return at_limit if np.isclose(lr, limit) else "converging" if lr < limit else "diverging"
        return f

    rejects(check, rule(lambda h: eig(h).min(), "oscillating"), "smallest eigenvalue")
    rejects(check, rule(lambda h: eig(h).max(), "converging"), "oscillates forever")
    rejects(check, rule(lambda h: eig(h).max(), "diverging"), "it diverges only above")
    rejects(check, rule(lambda h: np.max(np.diag(h)), "oscillating"), "diagonal")
    rejects(check, lambda lr, h: ("converging" if lr < 1 / eig(h).max() else
                                  "oscillating" if lr < 2 / eig(h).max() else "diverging"), "between 1/L and 2/L")


def test_steps_mistakes():
    check = lr_checks.check_steps_to_tolerance

    def formula(rounding=math.ceil, dist=True, half=False, squared=False):
        def f(lr, c, d, tol):
            factor = abs(1 - lr * c / (2 if half else 1)) ** (2 if squared else 1)
            if abs(d) <= tol:
                return 0
            if factor >= 1:
                return math.inf
            if factor == 0:
                return 1
            return rounding(math.log(tol / (abs(d) if dist else 1)) / math.log(factor))
        return f

    rejects(check, formula(rounding=math.floor), "round up")
    rejects(check, formula(dist=False), "starting distance")
    rejects(check, formula(half=True), "not L/2")
    rejects(check, formula(squared=True), "loss")

    def zero_at_one_over_l(lr, c, d, tol):
        return 0 if abs(1 - lr * c) == 0 else steps(lr, c, d, tol)
    rejects(check, zero_at_one_over_l, "exactly one step")


def test_best_learning_rate_mistakes():
    check = lr_checks.check_best_learning_rate
    rejects(check, lambda h: 2 / eig(h).max(), "stability limit")
    rejects(check, lambda h: 1 / eig(h).max(), "1/L is safe")
    rejects(check, lambda h: 1 / eig(h).min(), "1/λmin")
    rejects(check, lambda h: 1 / np.mean(eig(h)), "mean")
    rejects(check, lambda h: 2 / (np.min(np.diag(h)) + np.max(np.diag(h))), "diagonal")


# --------------------------------------------------------------------------- bad answers get a sentence
@pytest.mark.parametrize("check", [lr_checks.check_stability_limit, lr_checks.check_best_learning_rate])
def test_none_shape_exception_not_attempted(check):
    sentence(check, lambda h: None, "returned None")
    sentence(check, lambda h: np.array([1.0, 2.0]), "shape")
    sentence(check, lambda h: 1 / 0, "ZeroDivisionError")
    sentence(check, 0.5, "should be a function")

    def todo(h):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        check(todo)


def test_classify_and_steps_bad_answers():
    sentence(lr_checks.check_classify_learning_rate, lambda lr, h: None, "returned None")
    sentence(lr_checks.check_classify_learning_rate, lambda lr, h: "converges", "expected")
    sentence(lr_checks.check_steps_to_tolerance, lambda lr, c, d, t: float("nan"), "nan")
    sentence(lr_checks.check_steps_to_tolerance, lambda lr, c, d, t: [1, 2], "shape")

    def todo(*args):
        raise NotImplementedError()
    for check in (lr_checks.check_classify_learning_rate, lr_checks.check_steps_to_tolerance):
        with pytest.raises(NotAttempted):
            check(todo)


# --------------------------------------------------------------------------- the whole catalogue, student-style
@pytest.mark.parametrize("wrong, words", [
    (lambda h: 2 / np.linalg.det(h), "determinant"),
    (lambda h: np.linalg.eigvalsh(h).max() / 2, "inverted"),
    (lambda h: 2 // np.linalg.eigvalsh(h).max(), "floor division"),
    (lambda h: 2 / np.linalg.eigvalsh(h).mean(), "mean eigenvalue"),
    (lambda h: 2 / np.sqrt(np.linalg.eigvalsh(h).max()), "square root"),
    (lambda h: 2 / np.linalg.eigvalsh(h)[0], "sorts ascending"),
    (lambda h: 2 / np.max(h), "np.max(hessian)"),
    (lambda h: 2 / np.linalg.eigvalsh(h).sum(), "trace"),
])
def test_stability_limit_catalogue(wrong, words):
    rejects(lr_checks.check_stability_limit, wrong, words)


def classify_with(factor_of, exact=False, words=("converging", "oscillating", "diverging")):
    def f(lr, h):
        factor = factor_of(lr, eig(h))
        if (factor == 1) if exact else abs(factor - 1) <= 1e-12:
            return words[1]
        return words[0] if factor < 1 else words[2]
    return f


@pytest.mark.parametrize("wrong, words", [
    (classify_with(lambda lr, e: np.max(1 - lr * e)), "np.abs before np.max"),
    (classify_with(lambda lr, e: np.max(np.abs(1 - lr * e)), words=("converges", "oscillates", "diverges")),
     "exact words"),
    (classify_with(lambda lr, e: np.max(np.abs(1 - lr * e)), exact=True), "rarely exactly of size 1"),
    (classify_with(lambda lr, e: np.max(np.abs(1 + lr * e))), "not 1 + lr*eigenvalue"),
    (classify_with(lambda lr, e: np.max(np.abs(1 - lr / e))), "not 1 - lr/eigenvalue"),
])
def test_classify_catalogue(wrong, words):
    rejects(lr_checks.check_classify_learning_rate, wrong, words)


def steps_formula(lr, c, d, tol, *, abs_d=True, abs_f=True, inf_at_one=True, close_check=True, upside_down=False,
                  rounding=math.ceil, divide=False, plus_one=0):
    factor = 1 - (lr / c if divide else lr * c)
    factor = abs(factor) if abs_f else factor
    d = abs(d) if abs_d else d
    if close_check and abs(d) <= tol:
        return 0
    if factor > 1 or (inf_at_one and factor == 1):
        return math.inf
    if factor == 0:
        return 1
    k = math.log(d / tol if upside_down else tol / d) / math.log(factor)
    return rounding(k) + plus_one


@pytest.mark.parametrize("options, words", [
    ({"abs_d": False}, "abs(distance)"), ({"abs_f": False}, "use its size"), ({"inf_at_one": False}, "never shrinks"),
    ({"close_check": False}, "0 steps"), ({"upside_down": True}, "upside down"), ({"rounding": round}, "round()"),
    ({"rounding": int}, "int() rounds down"), ({"divide": True}, "not 1 - lr/L"), ({"plus_one": 1}, "no + 1"),
])
def test_steps_catalogue(options, words):
    rejects(lr_checks.check_steps_to_tolerance, lambda lr, c, d, tol: steps_formula(lr, c, d, tol, **options), words)


def extremes(h):
    e = np.linalg.eigvalsh(h)
    return e.min(), e.max()


@pytest.mark.parametrize("wrong, words", [
    (lambda h: 2 / np.linalg.eigvalsh(h).sum(), "exactly two"),
    (lambda h: 2 / extremes(h)[0] + extremes(h)[1], "brackets"),
    (lambda h: 1 / sum(extremes(h)), "factor 2 is missing"),
    (lambda h: 2 / (extremes(h)[1] - extremes(h)[0]), "not the difference"),
    (lambda h: sum(extremes(h)) / 2, "inverted"),
    (lambda h: 2 / (extremes(h)[0] * extremes(h)[1]), "not the product"),
    (lambda h: 2 // sum(extremes(h)), "floor division"),
    (lambda h: 2 / (np.linalg.eigvalsh(h)[0] + np.linalg.eigvalsh(h)[1]), "eigenvalues[-1]"),
])
def test_best_learning_rate_catalogue(wrong, words):
    rejects(lr_checks.check_best_learning_rate, wrong, words)


def test_catalogue_entries_added_after_trying_new_mistakes():
    rejects(lr_checks.check_stability_limit, lambda h: 1 / eig(h).min(), "two slips")
    rejects(lr_checks.check_classify_learning_rate, lambda lr, h: np.max(np.abs(1 - lr * eig(h))) < 1,
            "not True/False")
    rejects(lr_checks.check_steps_to_tolerance, lambda lr, c, d, tol: steps_formula(lr, c, d, tol) if
            abs(1 - lr * c) < 1 or abs(d) <= tol else None, "not None")

    def log_mix(lr, c, d, tol):
        factor, d = abs(1 - lr * c), abs(d)
        if d <= tol:
            return 0
        if factor >= 1:
            return math.inf
        return 1 if factor == 0 else math.ceil(math.log10(tol / d) / math.log(factor))
    rejects(lr_checks.check_steps_to_tolerance, log_mix, "same logarithm")


# --------------------------------------------------------------------------- predictions
def test_predictions(capsys):
    lr_checks.check_turned_06("Diverging")
    out = capsys.readouterr().out
    assert "eigenvalues [0.5 3.5]" in out and "factors 1 - 0.6*eigenvalue = [ 0.7 -1.1]" in out
    assert "diverges at step" in out
    with pytest.raises(Exception, match="the answer is 'diverging'"):
        lr_checks.check_turned_06("converging")
    lr_checks.check_faster_rate("the same")
    out = capsys.readouterr().out
    assert out.count("first within 1e-6 of -1 after 31 steps") == 2
    with pytest.raises(Exception, match="should be one of"):
        lr_checks.check_faster_rate(0.2)


def test_catalogue_entries_added_after_a_second_set_of_mistakes():
    rejects(lr_checks.check_stability_limit, lambda h: 2 / np.linalg.eig(np.asarray(h))[0][0], "does not sort")
    rejects(lr_checks.check_stability_limit, lambda h: 2 / eig(h).max() ** 2, "no square")
    rejects(lr_checks.check_best_learning_rate, lambda h: 1 / eig(h).min() + 1 / eig(h).max(), "fractions")

    def capitals(lr, h):
        return classify(lr, h).capitalize()
    rejects(lr_checks.check_classify_learning_rate, capitals, "spelled differently")

    def unrounded(lr, c, d, tol):
        k = steps(lr, c, d, tol)
        factor = abs(1 - lr * c)
        return math.log(tol / abs(d)) / math.log(factor) if 0 < factor < 1 and abs(d) > tol else k
    rejects(lr_checks.check_steps_to_tolerance, unrounded, "whole number")


def test_catalogue_entries_added_after_a_third_set_of_mistakes():
    rejects(lr_checks.check_stability_limit, lambda h: eig(h).max(), "itself")
    rejects(lr_checks.check_classify_learning_rate,
            lambda lr, h: "stable" if np.max(np.abs(1 - lr * eig(h))) < 1 else "unstable", "one of the words")
    rejects(lr_checks.check_steps_to_tolerance, lambda lr, c, d, tol: -1 if steps(lr, c, d, tol) == math.inf
            else steps(lr, c, d, tol), "return math.inf")


def test_catalogue_entries_added_after_a_fourth_set_of_mistakes():
    def zigzag_called_oscillating(lr, h):
        top = eig(h).max()
        if lr > 2 / top + 1e-12:
            return "diverging"
        return "oscillating" if lr > 1 / top else "converging"
    rejects(lr_checks.check_classify_learning_rate, zigzag_called_oscillating, "only at exactly 2/L")


def test_a_rounded_answer_is_not_called_floor_division_only():
    rejects(lr_checks.check_stability_limit, lambda h: round(2 / eig(h).max()), "round()")


# --------------------------------------------------------------------------- after the newcomer review of lesson 02
def test_classify_a_factor_of_minus_one_is_compared_by_its_size():
    def signed(lr, h):  # the dominant factor with its sign, compared with +1
        factors = 1 - lr * eig(h)
        factor = factors[np.argmax(np.abs(factors))]
        return "oscillating" if abs(factor - 1) <= 1e-12 else "converging" if abs(factor) < 1 else "diverging"
    message = rejects(lr_checks.check_classify_learning_rate, signed, "abs(abs(factor) - 1) <= 1e-12")
    assert "abs(factor + 1)" not in message and "classify_learning_rate(1, [[2.]]" in message


def test_classify_learning_rate_zero_is_a_factor_of_plus_one():
    assert lr_checks._classify(0.0, [[2.0]]) == "oscillating"
    rejects(lr_checks.check_classify_learning_rate, lambda lr, h: "converging" if lr == 0 else classify(lr, h),
            "every factor is 1 - 0*eigenvalue = +1")

    def by_limit(lr, h):  # compares lr with 2/L: right except at lr = 0, where nothing moves
        limit = 2 / eig(h).max()
        return "oscillating" if np.isclose(lr, limit) else "converging" if lr < limit else "diverging"
    rejects(lr_checks.check_classify_learning_rate, by_limit, "rather than lr with 2/L")

    def smallest(lr, h):  # the factor of the smallest eigenvalue only
        factor = abs(1 - lr * eig(h).min())
        return "oscillating" if abs(factor - 1) <= 1e-12 else "converging" if factor < 1 else "diverging"
    rejects(lr_checks.check_classify_learning_rate, smallest, "smallest eigenvalue")


def test_steps_two_and_three_slips_are_named_together():
    def floor_only_formula(lr, c, d, tol):  # floor, no case for a factor of 0, none for a start within tol
        factor = abs(1 - lr * c)
        if factor >= 1:
            return math.inf
        return math.floor(math.log(tol / abs(d)) / math.log(factor))
    message = rejects(lr_checks.check_steps_to_tolerance, floor_only_formula, "3 slips")
    for words in ("round up, not down", "math.log(0) fails", "already within tol"):
        assert words in message.lower()

    def floor_and_log0(lr, c, d, tol):
        factor, d = abs(1 - lr * c), abs(d)
        if d <= tol:
            return 0
        if factor >= 1:
            return math.inf
        return math.floor(math.log(tol / d) / math.log(factor))
    message = rejects(lr_checks.check_steps_to_tolerance, floor_and_log0, "2 slips")
    assert "round up" in message.lower() and "math.log(0)" in message and "within tol" not in message


def test_steps_an_exception_hint_is_shown_with_the_input_that_raised():
    def odd(lr, c, d, tol):  # two steps too many, and no case for a factor of 0
        factor, d = abs(1 - lr * c), abs(d)
        if d <= tol:
            return 0
        if factor >= 1:
            return math.inf
        return math.ceil(math.log(tol / d) / math.log(factor)) + 2
    message = rejects(lr_checks.check_steps_to_tolerance, odd, "math.log")
    assert "called as: steps_to_tolerance(0.5, 2.0, 6.0, 0.001)" in message
    assert "math domain error" in message and "expected:  1" in message


def test_steps_the_count_must_be_an_integer():
    def float_count(lr, c, d, tol):
        k = steps(lr, c, d, tol)
        return k if k == math.inf else np.ceil(float(k))
    message = rejects(lr_checks.check_steps_to_tolerance, float_count, "asks for an integer")
    assert "returned: np.float64(31.0)" in message.replace("  ", " ")
    lr_checks.check_steps_to_tolerance(lambda *a: np.int64(steps(*a)) if steps(*a) != math.inf else math.inf)


def test_best_learning_rate_hints_fit_their_example_and_keep_the_formula_back():
    message = rejects(lr_checks.check_best_learning_rate, lambda h: 2 / np.trace(h), "in 1-D")
    assert "best_learning_rate([[2.]]" in message
    message = rejects(lr_checks.check_best_learning_rate, lambda h: 2 / eig(h).max(), "solve that for lr")
    assert "λmin + λmax" not in message
