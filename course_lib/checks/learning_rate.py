"""Checks for the exercises of lesson 02, the learning rate and its stability limit."""

import itertools
import math

import numpy as np

from ..descent import minimize
from ..objectives import Quadratic
from ..optimizers import SGD
from ..stability import judge
from . import CheckFailed, Mistake, check_function, check_prediction, describe, exception_hint, failure_message, quietly

__all__ = ["check_stability_limit", "check_classify_learning_rate", "check_steps_to_tolerance",
           "check_best_learning_rate", "check_turned_06", "check_faster_rate"]

_HESSIANS = [np.array([[2.0]]), np.diag([0.2, 4.0]), np.array([[3.0, 1.0], [1.0, 3.0]]),
             np.array([[10.0, -4.0], [-4.0, 2.0]]), np.diag([1.0, 2.0, 10.0]),
             np.array([[4.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 1.0]])]


def _eig(h):
    return np.linalg.eigvalsh(np.asarray(h, dtype=np.float64))


def _stability_limit(hessian):
    return 2.0 / _eig(hessian).max()


def check_stability_limit(stability_limit):
    """Exercise 1: ``2 / largest eigenvalue`` of a Hessian."""
    check_function(stability_limit, _stability_limit, [(h,) for h in _HESSIANS], name="stability_limit",
                   factors={"2": 2}, mistakes=[
        Mistake(lambda h: 1.0 / _eig(h).max(), "that is 1/L, the rate that lands in one step on a 1-D "
                                               "quadratic; the stability limit is twice that, 2/L."),
        Mistake(lambda h: 2.0 / _eig(h).min(), "the smallest eigenvalue sets the speed, the largest sets the "
                                               "limit: every direction needs lr < 2/eigenvalue. (np.linalg.eigvalsh "
                                               "sorts ascending: [0] is the smallest, [-1] the largest.)"),
        Mistake(lambda h: 2.0 / np.max(np.diag(h)), "the diagonal entries (and np.max(hessian)) are the "
                                                    "eigenvalues only for a diagonal Hessian; use "
                                                    "np.linalg.eigvalsh(hessian)."),
        Mistake(lambda h: 2.0 / np.trace(h), "the trace (the sum of all eigenvalues) is not the largest "
                                             "eigenvalue; the limit uses the largest one only."),
        Mistake(lambda h: 2.0 / np.linalg.norm(h), "np.linalg.norm of a matrix is the Frobenius norm, not "
                                                   "the largest eigenvalue; use np.linalg.eigvalsh."),
        Mistake(lambda h: 2.0 / np.linalg.det(h), "the determinant is the product of the eigenvalues; the limit "
                                                  "uses the largest eigenvalue."),
        Mistake(lambda h: _eig(h).max() / 2.0, "inverted: the limit is 2 / L, not L / 2."),
        Mistake(lambda h: 2.0 // _eig(h).max(), "the answer was cut to a whole number (`//` is floor division, "
                                                "2 // 4.0 is 0.0; int() and round() do the same): use `/` and "
                                                "keep the float."),
        Mistake(lambda h: 2.0 / np.mean(_eig(h)), "the mean eigenvalue is not the largest: the steepest "
                                                  "direction sets the limit, 2 / max(eigenvalues)."),
        Mistake(lambda h: 1.0 / _eig(h).min(), "two slips: the factor is 2, and the largest eigenvalue sets the "
                                               "limit: 2 / λmax, not 1 / λmin."),
        Mistake(lambda h: 2.0 / np.linalg.eig(np.asarray(h, dtype=float))[0][0],
                "np.linalg.eig does not sort its eigenvalues, so [0] is not always the largest: use "
                "np.linalg.eigvalsh(hessian).max()."),
        Mistake(lambda h: _eig(h).max(), "that is L, the largest eigenvalue itself; the limit is 2 / L."),
        Mistake(lambda h: 2.0 / _eig(h).max() ** 2, "no square: the limit is 2 / L with L the largest eigenvalue."),
        Mistake(lambda h: 2.0 / np.sqrt(_eig(h).max()), "no square root: the eigenvalue is the curvature itself, "
                                                        "and the limit is 2 / L."),
    ])


def _classify(learning_rate, hessian):
    factor = np.max(np.abs(1.0 - learning_rate * _eig(hessian)))
    if np.isclose(factor, 1.0, rtol=0, atol=1e-12):
        return "oscillating"
    return "converging" if factor < 1 else "diverging"


_CLASSIFY_CASES = [(0.2, [[2.0]]), (1.0, [[2.0]]), (1.2, [[2.0]]), (0.7, [[2.0]]), (0.45, np.diag([0.2, 4.0])),
                   (0.5, np.diag([0.2, 4.0])), (0.6, np.diag([0.2, 4.0])), (0.6, [[3.0, 1.0], [1.0, 3.0]]),
                   (0.3, [[3.0, 1.0], [1.0, 3.0]]),
                   # eigenvalues 0.6 and 0.8: at lr 2.5 the factors are -0.5 and -0.9999999999999998, "exactly" -1
                   (2.5, [[0.7, 0.1], [0.1, 0.7]]), (4.0, [[0.7, 0.1], [0.1, 0.7]]),
                   # learning rate 0: every factor is +1, w never moves; the exercise counts it as "oscillating"
                   (0.0, [[2.0]])]


def check_classify_learning_rate(classify_learning_rate):
    """Exercise 2: "converging", "oscillating" or "diverging" for plain gradient descent."""

    def by_factor(factor, exact=False):
        if factor == 1 if exact else abs(factor - 1) <= 1e-12:
            return "oscillating"
        return "converging" if factor < 1 else "diverging"

    def by_signed_factor(lr, h):  # the dominant factor with its sign, compared with +1
        factors = 1 - lr * _eig(h)
        factor = factors[np.argmax(np.abs(factors))]
        if abs(factor - 1) <= 1e-12:
            return "oscillating"
        return "converging" if abs(factor) < 1 else "diverging"

    def by_rule(lr, h, lam, at_limit):
        limit = 2.0 / lam
        if np.isclose(lr, limit):
            return at_limit
        return "converging" if lr < limit else "diverging"

    check_function(classify_learning_rate, _classify, [(lr, np.asarray(h)) for lr, h in _CLASSIFY_CASES],
                   name="classify_learning_rate", mistakes=[
        Mistake(lambda lr, h: by_rule(lr, h, _eig(h).min(), "oscillating"),
                "you used the smallest eigenvalue; the largest one decides: every direction needs "
                "|1 - lr*eigenvalue| < 1."),
        Mistake(lambda lr, h: by_factor(abs(1 - lr * _eig(h).min()), exact=False),
                "you used the smallest eigenvalue; the largest one decides: every direction needs "
                "|1 - lr*eigenvalue| < 1."),
        Mistake(lambda lr, h: by_rule(lr, h, _eig(h).max(), "converging"),
                "at exactly lr = 2/L the factor is 1 - 2 = -1: the error flips sign but keeps its size, so "
                "the run oscillates forever (the tutorial's lr = 1 table)."),
        Mistake(lambda lr, h: by_rule(lr, h, _eig(h).max(), "diverging"),
                "at exactly lr = 2/L the factor is -1: the error keeps its size, so it oscillates; it diverges "
                "only above 2/L."),
        Mistake(lambda lr, h: by_rule(lr, h, np.max(np.diag(np.asarray(h))), "oscillating"),
                "the diagonal entries are the eigenvalues only for a diagonal Hessian; use "
                "np.linalg.eigvalsh(hessian)."),
        Mistake(lambda lr, h: ("converging" if lr < 1.0 / _eig(h).max() else
                               "oscillating" if lr < 2.0 / _eig(h).max() else "diverging"),
                "between 1/L and 2/L the error changes sign each step but still shrinks "
                "(|1 - lr*L| < 1): that is converging, with a zig-zag."),
        Mistake(lambda lr, h: ("diverging" if lr > 2.0 / _eig(h).max() and not np.isclose(lr, 2.0 / _eig(h).max())
                               else "oscillating" if lr > 1.0 / _eig(h).max() else "converging"),
                "between 1/L and 2/L the error changes sign each step but still shrinks (|1 - lr*L| < 1): that is "
                "converging, with a zig-zag; only at exactly 2/L does it oscillate forever."),
        Mistake(lambda lr, h: by_factor(np.max(1 - lr * _eig(h))),
                "take the size of the factor: the error shrinks when |1 - lr*eigenvalue| < 1, and a factor "
                "below -1 grows it (np.abs before np.max)."),
        Mistake(lambda lr, h: {"converging": "converges", "oscillating": "oscillates",
                               "diverging": "diverges"}[_classify(lr, h)],
                "return the exact words the exercise asks for: \"converging\", \"oscillating\", \"diverging\"."),
        Mistake(lambda lr, h: by_factor(np.max(np.abs(1 - lr * _eig(h))), exact=True),
                "a factor computed in floating point is rarely exactly of size 1 (at lr 2.5 on eigenvalues 0.6 and "
                "0.8 the factor is -0.9999999999999998): treat a size within 1e-12 of 1 as 1, "
                "abs(abs(factor) - 1) <= 1e-12, as the exercise says."),
        Mistake(by_signed_factor,
                "compare the factor's *size* with 1: abs(abs(factor) - 1) <= 1e-12. At lr = 2/L the factor is about "
                "-1, so abs(factor - 1) is about 2 and the run that oscillates is missed."),
        Mistake(lambda lr, h: "converging" if lr == 0 else _classify(lr, h),
                "at learning_rate 0 every factor is 1 - 0*eigenvalue = +1: w never moves, so the error keeps its "
                "size and the run does not converge (although 0 < 2/L). The exercise counts a factor of size 1 as "
                "\"oscillating\" (neither shrinking nor growing): compare max |1 - lr*eigenvalue| with 1, rather "
                "than lr with 2/L, and this case comes out by itself."),
        Mistake(lambda lr, h: bool(np.max(np.abs(1 - lr * _eig(h))) < 1),
                "return one of the three words, \"converging\", \"oscillating\" or \"diverging\", not True/False."),
        Mistake(lambda lr, h: by_factor(np.max(np.abs(1 + lr * _eig(h)))),
                "the factor per step is 1 - lr*eigenvalue (descent subtracts), not 1 + lr*eigenvalue."),
        Mistake(lambda lr, h: by_factor(np.max(np.abs(1 - lr / _eig(h)))),
                "the factor per step is 1 - lr*eigenvalue, a product, not 1 - lr/eigenvalue."),
    ])


def _steps_to_tolerance(learning_rate, curvature, distance, tol):
    factor = abs(1.0 - learning_rate * curvature)
    distance = abs(distance)
    if distance <= tol:
        return 0
    if factor >= 1.0:
        return math.inf
    if factor == 0.0:
        return 1
    k = max(0, math.ceil(math.log(tol / distance) / math.log(factor)))
    while distance * factor ** k > tol:  # guard against rounding at the boundary
        k += 1
    while k > 0 and distance * factor ** (k - 1) <= tol:
        k -= 1
    return k


_STEPS_CASES = [(0.2, 2.0, 6.0, 1e-6), (0.001, 2.0, 6.0, 0.1), (0.9, 2.0, 6.0, 1e-3), (0.5, 2.0, 6.0, 1e-3),
                (0.3, 4.0, -2.0, 1e-4), (1.0, 2.0, 6.0, 1e-3), (1.2, 2.0, 6.0, 1e-3), (0.2, 2.0, 1e-4, 1e-3)]


def _steps_variant(lr, c, d, tol, rounding=math.ceil, power=1, half=False, distance=True, one_at_zero=True,
                   abs_distance=True, abs_factor=True, inf_at_one=True, zero_when_close=True, inverted=False,
                   divide=False, extra=0, log_mix=False, log_at_zero=False):
    """The formula a student writes, with one ingredient changed (for the mistake catalogue).

    ``log_at_zero``: no case for a factor of 0, so ``math.log(0)`` raises "math domain error"."""
    factor = 1.0 - (lr / c if divide else lr * c) / (2 if half else 1)
    factor = (abs(factor) if abs_factor else factor) ** power
    d = abs(d) if abs_distance else d
    if zero_when_close and abs(d) <= tol:
        return 0
    if factor > 1 or (inf_at_one and factor == 1):
        return math.inf
    if factor == 0 and not log_at_zero:
        return 1 if one_at_zero else 0
    ratio = (d if distance else 1.0) / tol if inverted else tol / (d if distance else 1.0)
    top = math.log10(ratio) if log_mix else math.log(ratio)
    return rounding(top / math.log(factor)) + extra


# Slips a student makes together (each hint as in the catalogue below); pairs and triples of them are tried
# after the single mistakes, so that an answer with two slips gets both named.
_SLIPS = [
    ({"rounding": math.floor}, "round up, not down: math.floor (or int()) gives one step too few, after which the "
                               "error is still just above tol; use math.ceil."),
    ({"log_at_zero": True}, "with lr = 1/L the factor is 0 and math.log(0) fails: one step lands exactly on the "
                            "minimum, so return 1 when the factor is 0."),
    ({"zero_when_close": False}, "a start already within tol needs 0 steps: return 0 when |distance| <= tol, "
                                 "before the formula."),
    ({"abs_distance": False}, "the distance may be negative: use abs(distance)."),
    ({"abs_factor": False}, "the factor 1 - lr*L is negative above lr = 1/L: use its size, abs(1 - lr*L)."),
    ({"inf_at_one": False}, "at |1 - lr*L| = 1 the error never shrinks: return math.inf when the factor is >= 1."),
    ({"one_at_zero": False}, "a factor of 0 needs exactly one step, not 0."),
]


def _combined_slips():
    """Mistakes made of two or three slips at once (their hints joined)."""
    out = []
    for size in (2, 3):
        for combo in itertools.combinations(_SLIPS, size):
            options = {k: v for opts, _ in combo for k, v in opts.items()}
            if "log_at_zero" in options and "one_at_zero" in options:
                continue
            hint = f"{size} slips. " + " ".join(f"({i}) {h[0].upper()}{h[1:]}" for i, (_, h) in enumerate(combo, 1))
            out.append(Mistake(lambda *a, o=options: _steps_variant(*a, **o), hint))
    return out


def _first_raising_case(steps_to_tolerance):
    """(case, exception) for the first case on which the answer raises, when it raises on some but not all."""
    raised = []
    for case in _STEPS_CASES:
        try:
            with quietly():
                steps_to_tolerance(*case)
        except Exception as exc:  # the student's code: only which case raises matters here
            raised.append((case, exc))
    return raised[0] if 0 < len(raised) < len(_STEPS_CASES) else None


def check_steps_to_tolerance(steps_to_tolerance):
    """Exercise 3: the number of steps until ``|w - w*| <= tol`` on a 1-D quadratic, an integer (or math.inf).

    When no mistake explains every answer but the answer raises on some inputs, the message shows an input
    on which it raised, so that the exception's hint is about the input shown."""
    try:
        _check_steps_values(steps_to_tolerance)
    except CheckFailed as failure:
        raising = None if failure.hint and not failure.hint.startswith("math.log") or not callable(
            steps_to_tolerance) else _first_raising_case(steps_to_tolerance)
        if raising is None:
            raise
        case, exc = raising
        hint = exception_hint(exc) or failure.hint
        details = [("called as", f"steps_to_tolerance{case}"), ("raised", f"{type(exc).__name__}: {exc}"),
                   ("expected", describe(_steps_to_tolerance(*case))),
                   ("and", "on other inputs it returns wrong counts too (run the check again after this fix)")]
        raise CheckFailed(failure_message(f"steps_to_tolerance raised {type(exc).__name__}", hint, details),
                          hint) from None
    for case in _STEPS_CASES:
        got = steps_to_tolerance(*case)
        if not isinstance(got, (int, np.integer)) and not (isinstance(got, float) and math.isinf(got)):
            hint = (f"the count is right but it is a {type(got).__name__}, {got}, and the exercise asks for an integer "
                    "(or math.inf): math.ceil returns an int; np.ceil returns a float, so wrap it, int(np.ceil(...)).")
            details = [("called as", f"steps_to_tolerance{case}"), ("returned", repr(got)),
                       ("expected", repr(_steps_to_tolerance(*case)))]
            raise CheckFailed(failure_message("steps_to_tolerance is wrong", hint, details), hint)
    print(f"✓ steps_to_tolerance is correct on {len(_STEPS_CASES)} inputs (integers, and math.inf for never).")


def _check_steps_values(steps_to_tolerance):
    check_function(steps_to_tolerance, _steps_to_tolerance, _STEPS_CASES, name="steps_to_tolerance", quiet=True,
                   mistakes=[
        Mistake(lambda *a: _steps_variant(*a, rounding=math.floor),
                "round up, not down: after floor(...) steps (int() rounds down too) the error is still just above "
                "the tolerance (use math.ceil)."),
        Mistake(lambda *a: _steps_variant(*a, one_at_zero=False),
                "with lr = 1/L the factor is 0 and log(0) = -inf, so the formula gives 0 steps; in fact "
                "exactly one step lands on the minimum."),
        Mistake(lambda *a: _steps_variant(*a, distance=False),
                "the starting distance is missing: the error after k steps is distance * |1 - lr*L|**k, "
                "so solve distance * factor**k <= tol."),
        Mistake(lambda *a: _steps_variant(*a, half=True),
                "the factor per step is 1 - lr*L with L the curvature (second derivative) itself, not L/2."),
        Mistake(lambda *a: _steps_variant(*a, power=2),
                "you counted steps until the *loss* (which shrinks by factor**2) is below tol; the exercise asks "
                "for the distance |w - w*|."),
        Mistake(lambda *a: _steps_variant(*a, abs_distance=False),
                "the distance may be negative (a start left of the minimum): use abs(distance)."),
        Mistake(lambda *a: _steps_variant(*a, abs_factor=False),
                "the factor 1 - lr*L is negative above lr = 1/L (the run zig-zags): use its size, "
                "abs(1 - lr*L), in the logarithm."),
        Mistake(lambda *a: _steps_variant(*a, inf_at_one=False),
                "at |1 - lr*L| = 1 the error never shrinks (log(1) = 0 divides by zero): return math.inf "
                "when the factor is >= 1."),
        Mistake(lambda *a: _steps_variant(*a, zero_when_close=False),
                "a start already within tol needs 0 steps: return 0 when |distance| <= tol, before the formula "
                "(which gives a negative count there)."),
        Mistake(lambda *a: _steps_variant(*a, inverted=True),
                "the ratio is upside down: distance * factor**k <= tol gives k >= log(tol / distance) / "
                "log(factor) (both logs are negative)."),
        Mistake(lambda *a: _steps_variant(*a, rounding=round),
                "round() can round down: after round(...) steps the error may still be above tol; use math.ceil."),
        Mistake(lambda *a: _steps_variant(*a, divide=True),
                "the factor per step is 1 - lr*L, a product, not 1 - lr/L."),
        Mistake(lambda *a: _steps_variant(*a, log_mix=True),
                "use the same logarithm on top and bottom: log(tol / distance) / log(factor) (math.log10 over "
                "math.log changes the count)."),
        Mistake(lambda *a: None if _steps_to_tolerance(*a) == math.inf else _steps_to_tolerance(*a),
                "when the run never gets there, return math.inf, not None."),
        Mistake(lambda *a: _steps_variant(*a, extra=1),
                "one step too many: after k = ceil(log(tol / distance) / log(factor)) steps the error is already "
                "<= tol (no + 1)."),
    ] + _combined_slips())


def _best_learning_rate(hessian):
    e = _eig(hessian)
    return 2.0 / (e.min() + e.max())


def check_best_learning_rate(best_learning_rate):
    """Exercise 4: the fixed rate ``2 / (smallest + largest eigenvalue)`` that converges fastest."""
    cases = [(h,) for h in _HESSIANS] + [(np.diag([0.5, 1.0, 3.0, 8.0]),)]
    check_function(best_learning_rate, _best_learning_rate, cases, name="best_learning_rate",
                   factors={"2": 2}, mistakes=[
        Mistake(lambda h: 2.0 / _eig(h).max(), "2/L is the stability limit: there the steep direction's factor "
                                               "is -1, so it oscillates forever. The best rate is lower: it makes "
                                               "the two extreme factors |1 - lr*λmin| and |1 - lr*λmax| equal; "
                                               "solve that for lr."),
        Mistake(lambda h: 1.0 / _eig(h).max(), "1/L is safe and ends the steep direction in one step, but the "
                                               "flat direction then crawls; balance |1 - lr*λmin| = |1 - lr*λmax|."),
        Mistake(lambda h: 1.0 / _eig(h).min(), "1/λmin is far above the stability limit when the bowl is "
                                               "ill-conditioned; balance the two extreme eigenvalues."),
        Mistake(lambda h: 1.0 / np.mean(_eig(h)), "only the smallest and largest eigenvalues matter: "
                                                  "2 / (λmin + λmax), not the mean of all of them (the two agree "
                                                  "only with one or two eigenvalues)."),
        Mistake(lambda h: 2.0 / (np.min(np.diag(h)) + np.max(np.diag(h))),
                "the diagonal entries are the eigenvalues only for a diagonal Hessian; use "
                "np.linalg.eigvalsh(hessian)."),
        Mistake(lambda h: 2.0 / _eig(h).sum(), "the sum of all eigenvalues (the trace) is λmin + λmax only when "
                                               "there are exactly two: in 1-D the one eigenvalue L is both λmin and "
                                               "λmax (the sum is L, not 2L), and with three or more the middle ones "
                                               "do not count. Use the smallest and the largest."),
        Mistake(lambda h: 2.0 / _eig(h)[0] + _eig(h)[-1], "brackets: 2 / λmin + λmax divides first; write "
                                                          "2 / (λmin + λmax)."),
        Mistake(lambda h: 1.0 / (_eig(h).min() + _eig(h).max()), "the factor 2 is missing: the best rate is "
                                                                 "2 / (λmin + λmax)."),
        Mistake(lambda h: 2.0 / (_eig(h).max() - _eig(h).min()), "the denominator is the sum λmin + λmax, not the "
                                                                 "difference."),
        Mistake(lambda h: (_eig(h).min() + _eig(h).max()) / 2.0, "inverted: the best rate is 2 / (λmin + λmax), "
                                                                 "not its reciprocal."),
        Mistake(lambda h: 2.0 / (_eig(h).min() * _eig(h).max()), "the denominator is the sum λmin + λmax, not the "
                                                                 "product."),
        Mistake(lambda h: 1.0 / _eig(h).min() + 1.0 / _eig(h).max(),
                "1/λmin + 1/λmax is not 2 / (λmin + λmax): fractions do not add that way."),
        Mistake(lambda h: 2.0 // (_eig(h).min() + _eig(h).max()), "the answer was cut to a whole number (`//` is "
                                                                  "floor division, 2 // 4.2 is 0.0; int() and "
                                                                  "round() do the same): use `/`."),
        Mistake(lambda h: 2.0 / (_eig(h)[0] + _eig(h)[1]), "np.linalg.eigvalsh sorts ascending: eigenvalues[1] is "
                                                           "the largest only in 2-D (a 1-D Hessian has no [1]); use "
                                                           "eigenvalues[-1] (or .max())."),
    ])


# --------------------------------------------------------------------------- predict, then run
TURNED = Quadratic([[2.0, 1.5], [1.5, 2.0]])   # x1**2 + 1.5*x1*x2 + x2**2, eigenvalues 0.5 and 3.5


def check_turned_06(answer):
    """Prediction 1: does learning rate 0.6 converge, oscillate or diverge on ``x1**2 + 1.5*x1*x2 + x2**2``?"""
    def run():
        eigenvalues = TURNED.eigenvalues
        factors = 1 - 0.6 * eigenvalues
        result = minimize(TURNED, np.array([-5.0, 2.0]), SGD(0.6), 60)
        return (f"  eigenvalues {eigenvalues} (the diagonal entries are 2 and 2), limit 2/3.5 = "
                f"{TURNED.stability_limit:.4f}; factors 1 - 0.6*eigenvalue = {np.round(factors, 6)}\n"
                f"  60 steps from (-5, 2): {judge(result, TURNED, SGD(0.6)).text}")

    check_prediction(answer, name="turned_06", choices=("converging", "oscillating", "diverging"), correct="diverging",
                     explanation="the Hessian [[2, 1.5], [1.5, 2]] is not diagonal, so its diagonal entries (2, which "
                                 "would allow rates up to 1) are not its curvatures. Its eigenvalues are 0.5 and 3.5, "
                                 "so the limit is 2/3.5 = 0.571 and 0.6 is above it: along the steep eigenvector the "
                                 "error is multiplied by 1 - 0.6*3.5 = -1.1 per step, and its size grows.",
                     evidence=run)


def check_faster_rate(answer):
    """Prediction 2: on ``(w + 1)**2`` from w = 5, which rate gets within 1e-6 first, 0.2 or 0.8?"""
    def run():
        lines = []
        for lr in (0.2, 0.8):
            result = minimize(Quadratic(2.0, -1.0), 5.0, SGD(lr), 60)
            first = int(np.argmax(np.abs(result.params + 1) <= 1e-6))
            lines.append(f"  lr {lr}: factor 1 - 2*lr = {1 - 2 * lr:+.1f}; w after 1, 2, 3 steps "
                         f"{np.round(result.params[1:4], 4)}; first within 1e-6 of -1 after {first} steps")
        return "\n".join(lines)

    check_prediction(answer, name="faster_rate", choices=("0.2", "0.8", "the same"), correct="the same",
                     explanation="each step multiplies the distance to -1 by 1 - 2*lr: 0.6 for lr 0.2 and -0.6 for "
                                 "lr 0.8. The sizes are equal, so both need the same number of steps; 0.8 only "
                                 "jumps to the other side of the minimum every step.",
                     evidence=run)
