"""Checks for the exercises of lesson 07, landscapes: saddles, Newton, initialization, preconditioning."""

import math

import numpy as np

from ..descent import minimize
from ..landscapes import classify_stationary_point, preconditioned_descent
from ..objectives import Saddle, rotated_quadratic
from ..optimizers import SGD
from . import CheckFailed, Mistake, check_function, check_prediction

__all__ = ["check_classify_stationary_point", "check_newton_step", "check_init_scales",
           "check_diagonal_preconditioned_step", "check_convergence_factors", "check_hessian_vector_product",
           "check_steps_from_1e_12", "check_turned_diagonal"]

TOL = 1e-9


# --------------------------------------------------------------------------- exercise 1: classify a stationary point
def _label(eigenvalues):
    e = np.asarray(eigenvalues, dtype=np.float64)
    scale = max(1.0, float(np.abs(e).max()))
    if np.any(np.abs(e) <= TOL * scale):
        return "inconclusive"
    if np.all(e > 0):
        return "minimum"
    if np.all(e < 0):
        return "maximum"
    return "saddle"


def _classify(hessian):
    return classify_stationary_point(hessian, TOL)


def _classify_by_determinant(hessian):
    d = np.linalg.det(np.asarray(hessian, dtype=np.float64))
    return "inconclusive" if abs(d) <= TOL else "minimum" if d > 0 else "saddle"


_DET_TRACE = ("the determinant-and-trace test (det < 0: a saddle; det > 0: the trace's sign) is the 2 × 2 "
              "rule of calculus and fails beyond 2 × 2: diag(-1, -2, -0.5) = [[-1, 0, 0], [0, -2, 0], "
              "[0, 0, -0.5]] has det = -1 < 0, yet all three eigenvalues are negative (a maximum). "
              "Look at the sign of every eigenvalue: np.linalg.eigvalsh(hessian).")


def _classify_by_determinant_and_trace(hessian, zero_test=True):
    # the 2 × 2 test of calculus: det < 0 a saddle; det > 0 a minimum or a maximum by the trace's sign
    h = np.asarray(hessian, dtype=np.float64)
    d = np.linalg.det(h)
    if zero_test and abs(d) <= TOL:
        return "inconclusive"
    if d < 0:
        return "saddle"
    return "minimum" if np.trace(h) > 0 else "maximum"


def _classify_absolute(hessian):
    e = np.linalg.eigvalsh(np.asarray(hessian, dtype=np.float64))
    if np.any(np.abs(e) <= TOL):
        return "inconclusive"
    return "minimum" if np.all(e > 0) else "maximum" if np.all(e < 0) else "saddle"


def _swap_min_max(label):
    return {"minimum": "maximum", "maximum": "minimum"}.get(label, label)


_CLASSIFY_CASES = [
    (np.array([[2.0, 0.0], [0.0, 3.0]]),),           # minimum
    (np.array([[1.0, 2.0], [2.0, 1.0]]),),           # saddle with a positive diagonal
    (np.array([[-2.0, 0.5], [0.5, -3.0]]),),         # maximum, positive determinant
    (np.array([[1.0, 0.0], [0.0, -1.0]]),),          # saddle, the lesson's
    (np.array([[1.0, 1.0], [1.0, 1.0]]),),           # a zero eigenvalue
    (np.diag([2.0, 1.0, 0.5]),),                     # minimum in 3-D
    (np.diag([-1.0, -2.0, -0.5]),),                  # maximum in 3-D, negative determinant
    (np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, -0.1]]),),   # saddle in 3-D
    (np.diag([2e8, 1e-7]),),   # 1e-7 is zero at this scale (eigvalsh's rounding is about 1e-16 · 2e8 = 2e-8)
]


def _matrix_text(h):
    return np.array2string(np.asarray(h, dtype=np.float64), separator=", ", precision=6).replace("\n", "")


def _first_failing_case(fn, cases):
    """The first case on which ``fn`` disagrees with the reference (or raises), else None."""
    for (h,) in cases:
        try:
            got = fn(np.array(h, copy=True))
        except Exception:
            return h
        if got != _classify(h):
            return h
    return None


def check_classify_stationary_point(classify_stationary_point):
    """Exercise 1: "minimum", "maximum", "saddle" or "inconclusive" from the Hessian's eigenvalues.

    A failure also shows the whole matrix it failed on (the general message abbreviates a 3 × 3 array).
    """
    try:
        _check_classify(classify_stationary_point)
    except CheckFailed as failure:
        h = _first_failing_case(classify_stationary_point, _CLASSIFY_CASES)
        if h is None:
            raise
        line = f"\n  the Hessian: {_matrix_text(h)}"
        raise CheckFailed(str(failure) + line, failure.hint, failure.unhinted + line) from None


def _check_classify(classify_stationary_point):
    check_function(classify_stationary_point, _classify, _CLASSIFY_CASES, name="classify_stationary_point", mistakes=[
        Mistake(_classify_by_determinant_and_trace, _DET_TRACE),
        Mistake(lambda h: _classify_by_determinant_and_trace(h, zero_test=False), _DET_TRACE),
        Mistake(_classify_absolute,
                "an absolute tolerance: the exercise's zero test is relative, |λ| <= 1e-9 · max(1, max|λ|). "
                "For diag(2e8, 1e-7) the 1e-7 is zero at the matrix's scale (eigvalsh's rounding there is about "
                "1e-16 · 2e8 = 2e-8), so the answer is 'inconclusive'; |λ| <= 1e-9 calls it a minimum."),
        Mistake(lambda h: _label(np.diag(h)),
                "the diagonal of H is not its eigenvalues: [[1, 2], [2, 1]] has a positive diagonal but the "
                "eigenvalues 3 and -1 (a saddle). Use np.linalg.eigvalsh(hessian)."),
        Mistake(_classify_by_determinant,
                "the determinant is the product of the eigenvalues: two negative ones give a positive determinant "
                "(a maximum, not a minimum), and in 3-D the sign tells even less. Look at every eigenvalue's sign."),
        Mistake(lambda h: _swap_min_max(_classify(h)),
                "minimum and maximum are swapped: all eigenvalues positive means the surface curves up in every "
                "direction, a minimum."),
        Mistake(lambda h: "saddle" if _classify(h) == "inconclusive" else _classify(h),
                "a zero eigenvalue is not a sign: with one eigenvalue 0 the second derivatives cannot decide, "
                "so the answer is 'inconclusive'."),
        Mistake(lambda h: "minimum" if _classify(h) == "inconclusive" else _classify(h),
                "an eigenvalue of 0 (up to rounding) makes the test inconclusive: compare |λ| with a small "
                "tolerance before looking at the signs."),
        Mistake(lambda h: "maximum" if _classify(h) == "saddle" else _classify(h),
                "one negative eigenvalue is not enough for a maximum (did you look at the smallest only?): that "
                "needs *all* eigenvalues negative; mixed signs are a saddle."),
        Mistake(lambda h: _label(np.linalg.eigvalsh(np.asarray(h, dtype=np.float64))[:1]),
                "one negative eigenvalue is not enough for a maximum (did you look at the smallest only?): that "
                "needs *all* eigenvalues negative; mixed signs are a saddle."),
        Mistake(lambda h: "minimum" if _classify(h) == "saddle" else _classify(h),
                "one positive eigenvalue is not enough for a minimum: that needs *all* of them positive; "
                "mixed signs are a saddle."),
        Mistake(lambda h: _label([np.trace(np.asarray(h, dtype=np.float64))]),
                "the trace is the sum of the eigenvalues: a large positive one can hide a negative one. "
                "Look at every eigenvalue's sign."),
    ])


# --------------------------------------------------------------------------- exercise 2: a Newton step
def _newton(w, grad, hessian):
    return np.asarray(w, float) - np.linalg.solve(np.asarray(hessian, float), np.asarray(grad, float))


def _newton_cases():
    rng = np.random.default_rng(7)
    cases = []
    for n in (2, 2, 3, 4):
        a = rng.normal(size=(n, n))
        cases.append((rng.normal(size=n), rng.normal(size=n), a @ a.T + n * np.eye(n)))
    cases.append((np.array([1.0, -2.0]), np.array([3.0, 1.0]), np.array([[4.0, 1.0], [1.0, 2.0]])))
    return cases


def _newton_as_written(w, grad, hessian):
    # the exercise's solution as a student writes it: what the mutation fallback's hints quote
    return w - np.linalg.solve(hessian, grad)


def check_newton_step(newton_step):
    """Exercise 2: ``w - H⁻¹ g``."""
    def f(fn):
        return lambda w, g, h: fn(np.asarray(w, float), np.asarray(g, float), np.asarray(h, float))

    check_function(newton_step, _newton, _newton_cases(), name="newton_step", solution=_newton_as_written, mistakes=[
        Mistake(f(lambda w, g, h: w + np.linalg.solve(h, g)),
                "sign: the Newton step goes against the gradient, w - H⁻¹ g."),
        Mistake(f(lambda w, g, h: w - h @ g),
                "H @ g multiplies by the Hessian; Newton *divides* by it: np.linalg.solve(hessian, grad)."),
        Mistake(f(lambda w, g, h: w - g / np.diag(h)),
                "dividing by the diagonal of H ignores its off-diagonal entries (that is a diagonal "
                "preconditioner, exercise 4); Newton solves the whole system: np.linalg.solve(hessian, grad)."),
        Mistake(f(lambda w, g, h: w - g),
                "that is a gradient step of rate 1: Newton's step is H⁻¹ g, np.linalg.solve(hessian, grad)."),
        Mistake(f(lambda w, g, h: -np.linalg.solve(h, g)),
                "return the new weights, w - H⁻¹ g, not only the step."),
        Mistake(f(lambda w, g, h: np.linalg.solve(h, g)),
                "return the new weights, w - H⁻¹ g, not the step H⁻¹ g."),
        Mistake(f(lambda w, g, h: w - 0.5 * np.linalg.solve(h, g)),
                "no ½: the quadratic model L + gᵀd + ½ dᵀHd is smallest at d = -H⁻¹ g (the ½ cancels when you "
                "differentiate)."),
        Mistake(f(lambda w, g, h: w - np.linalg.solve(h, g) * np.linalg.norm(g)),
                "the Newton step is H⁻¹ g, with no extra factor of the gradient's norm."),
    ])


# --------------------------------------------------------------------------- exercise 3: Glorot's and He's scales
def _scales(fan_in, fan_out):
    return math.sqrt(6 / (fan_in + fan_out)), math.sqrt(2 / fan_in)


_SCALE_CASES = [(784, 100), (100, 10), (64, 64), (3, 7), (256, 512), (10, 1)]


def check_init_scales(init_scales):
    """Exercise 3: ``(glorot_uniform_limit, he_normal_stddev)``."""
    check_function(init_scales, _scales, _SCALE_CASES, name="init_scales", names=("glorot_limit", "he_stddev"),
                   mistakes=[
        Mistake(lambda i, o: (6 / (i + o), 2 / i),
                "those are the squares: the limit is √(6 / (fan_in + fan_out)) and the standard deviation "
                "√(2 / fan_in)."),
        Mistake(lambda i, o: (2 / (i + o), 2 / i),
                "those are the variances; the exercise asks for the uniform's limit √(6 / (fan_in + fan_out)) "
                "(variance a²/3) and He's standard deviation √(2 / fan_in)."),
        Mistake(lambda i, o: (math.sqrt(2 / (i + o)), math.sqrt(2 / i)),
                "√(2 / (fan_in + fan_out)) is Glorot's standard deviation; a uniform U(-a, a) has variance a²/3, "
                "so its limit is a = √(3 · 2 / (fan_in + fan_out)) = √(6 / (fan_in + fan_out))."),
        Mistake(lambda i, o: (math.sqrt(3 / (i + o)), math.sqrt(2 / i)),
                "the variance to reach is 2 / (fan_in + fan_out) and U(-a, a) has variance a²/3: "
                "a = √(6 / (fan_in + fan_out)), not √(3 / ...)."),
        Mistake(lambda i, o: (math.sqrt(6 / (i + o)), 2 / i),
                "he_stddev: 2 / fan_in is He's *variance*; the standard deviation is its square root, "
                "√(2 / fan_in)."),
        Mistake(lambda i, o: (math.sqrt(6 / (i + o)), 2 / o),
                "he_stddev: two slips: 2 / fan_out is a variance (take its square root) and from the wrong fan "
                "(He's scale uses fan_in, the inputs each unit sums): √(2 / fan_in)."),
        Mistake(lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(1 / i)),
                "√(1 / fan_in) is LeCun's scale; ReLU zeroes half its inputs, so He doubles the variance: "
                "√(2 / fan_in)."),
        Mistake(lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(2 / o)),
                "He's scale uses fan_in (the inputs each unit sums), not fan_out."),
        Mistake(lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(4 / (i + o))),
                "He's variance is 2 / fan_in, from fan_in alone (Keras's mode='fan_in'), not from the average fan."),
        Mistake(lambda i, o: (math.sqrt(2 / i), math.sqrt(6 / (i + o))),
                "the order is (glorot_limit, he_stddev)."),
        Mistake(lambda i, o: (math.sqrt(6 / (i + o)), math.sqrt(6 / i)),
                "√(6 / fan_in) is He's *uniform* limit; He's normal standard deviation is √(2 / fan_in)."),
        Mistake(lambda i, o: (math.sqrt(6 / (i * o)), math.sqrt(2 / i)),
                "Glorot averages the fans: fan_in + fan_out, not fan_in * fan_out."),
    ])


# --------------------------------------------------------------------------- exercise 4: diagonal preconditioning
def _precond(w, grad, learning_rate, diagonal):
    return np.asarray(w, float) - learning_rate * np.asarray(grad, float) / np.asarray(diagonal, float)


def _precond_cases():
    rng = np.random.default_rng(3)
    return [(rng.normal(size=3), rng.normal(size=3), 0.5, rng.uniform(0.5, 4.0, 3)),
            (np.array([1.0, 1.0]), np.array([50.0, 1.0]), 1.0, np.array([50.0, 1.0])),
            (rng.normal(size=4), rng.normal(size=4), 0.1, rng.uniform(2.0, 9.0, 4)),
            (np.array([0.3, -2.0]), np.array([-1.0, 4.0]), 0.25, np.array([9.0, 0.25]))]


def check_diagonal_preconditioned_step(diagonal_preconditioned_step):
    """Exercise 4: ``w - learning_rate * grad / diagonal``."""
    def f(fn):
        return lambda w, g, lr, d: fn(np.asarray(w, float), np.asarray(g, float), lr, np.asarray(d, float))

    check_function(diagonal_preconditioned_step, _precond, _precond_cases(), name="diagonal_preconditioned_step",
                   factors={"the learning rate": lambda w, g, lr, d: lr}, mistakes=[
        Mistake(f(lambda w, g, lr, d: w - lr * g * d),
                "multiply by P = diag(1/H_ii): divide the gradient by the diagonal, do not multiply by it."),
        Mistake(f(lambda w, g, lr, d: w + lr * g / d),
                "sign: step against the gradient, w - lr · g / d."),
        Mistake(f(lambda w, g, lr, d: w - lr * g / np.sqrt(d)),
                "divide by the curvature itself, not its square root (Adam's √v is the square root of a mean "
                "*squared gradient*, a different quantity)."),
        Mistake(f(lambda w, g, lr, d: w - lr * g / d ** 2),
                "divide by the diagonal once, not by its square."),
        Mistake(f(lambda w, g, lr, d: w - g / d),
                "the learning rate is missing: w - learning_rate · g / d."),
        Mistake(f(lambda w, g, lr, d: w - g / (lr * d)),
                "the learning rate multiplies the step: w - learning_rate · g / d."),
        Mistake(f(lambda w, g, lr, d: -lr * g / d),
                "return the new weights, w - learning_rate · g / d, not only the step."),
        Mistake(f(lambda w, g, lr, d: w - lr * g / d.sum()),
                "each coordinate is divided by its *own* curvature d[i], element by element, not by their sum."),
        Mistake(f(lambda w, g, lr, d: w - lr * g / d.mean()),
                "each coordinate is divided by its *own* curvature d[i]; dividing all by one number is only a "
                "rescaled learning rate."),
        Mistake(f(lambda w, g, lr, d: w - lr * g),
                "the preconditioner is missing: divide each coordinate of the gradient by the diagonal."),
    ])


# --------------------------------------------------------------------------- exercise 5: convergence factors
def _factors(kappa):
    r = math.sqrt(kappa)
    return (kappa - 1) / (kappa + 1), (r - 1) / (r + 1)


_KAPPAS = [(1.0,), (4.0,), (10.0,), (100.0,), (2.5,), (1000.0,)]


def check_convergence_factors(convergence_factors):
    """Exercise 5: ``((κ-1)/(κ+1), (√κ-1)/(√κ+1))``."""
    def sq(k):
        return math.sqrt(k)

    check_function(convergence_factors, _factors, _KAPPAS, name="convergence_factors",
                   names=("gradient_descent", "momentum"), mistakes=[
        Mistake(lambda k: _factors(k)[::-1], "the order is (gradient_descent, momentum): momentum's factor, "
                                             "(√κ-1)/(√κ+1), is the smaller one."),
        Mistake(lambda k: ((k - 1) / (k + 1), ((sq(k) - 1) / (sq(k) + 1)) ** 2),
                "((√κ-1)/(√κ+1))² is the tuned *momentum parameter* β; the error's factor per step is its "
                "square root, (√κ-1)/(√κ+1)."),
        Mistake(lambda k: ((sq(k) - 1) / (sq(k) + 1), (sq(k) - 1) / (sq(k) + 1)),
                "gradient descent's factor has no square roots: (κ-1)/(κ+1); only momentum gets √κ."),
        Mistake(lambda k: ((k - 1) / (k + 1), (k - 1) / (k + 1)),
                "momentum's factor uses √κ: (√κ-1)/(√κ+1), much smaller than gradient descent's for large κ."),
        Mistake(lambda k: (1 - 1 / k, 1 - 1 / sq(k)),
                "1 - 1/κ = (κ-1)/κ is the factor at the rate 1/L; at the best rate 2/(L + μ) it is "
                "(κ-1)/(κ+1): divide by κ + 1, not κ (and momentum's is (√κ-1)/(√κ+1))."),
        Mistake(lambda k: (math.inf, math.inf) if k == 1 else ((k + 1) / (k - 1), (sq(k) + 1) / (sq(k) - 1)),
                "upside down: the factor is below 1 (the error shrinks), (κ-1)/(κ+1)."),
        Mistake(lambda k: (2 / (k + 1), 2 / (sq(k) + 1)),
                "that is 1 minus the factor, the share removed per step; the factor itself is (κ-1)/(κ+1)."),
        Mistake(lambda k: ((k - 1) / (k + 1), (sq(k) - 1) / sq(k + 1)),
                "the brackets: (√κ - 1)/(√κ + 1), the square root of κ alone."),
    ] + _part_mistakes())


# Wrong forms of each part alone, and what to say about them; combined below so that an answer with
# one or two wrong parts gets a sentence for each.
_GD_PART = [
    (lambda k: 1 - 1 / k, "1 - 1/κ is the factor at the rate 1/L; at the best rate 2/(L + μ) the "
                          "flattest and the steepest direction shrink equally, by (κ-1)/(κ+1)"),
    (lambda k: math.sqrt((k - 1) / (k + 1)), "no square root: the factor is (κ-1)/(κ+1) itself"),
    (lambda k: (math.sqrt(k) - 1) / (math.sqrt(k) + 1), "no √κ for plain descent: (κ-1)/(κ+1)"),
]
_MOMENTUM_PART = [
    (lambda k: (math.sqrt(k) - 1) / (k + 1), "the √ goes on both κ's: (√κ-1)/(√κ+1)"),
    (lambda k: ((math.sqrt(k) - 1) / (math.sqrt(k) + 1)) ** 2,
     "((√κ-1)/(√κ+1))² is the tuned momentum β; the error's factor per step is √β = (√κ-1)/(√κ+1)"),
    (lambda k: 1 - 1 / math.sqrt(k), "1 - 1/√κ is not it: (√κ-1)/(√κ+1)"),
    (lambda k: (k - 1) / (k + 1), "momentum's factor uses √κ: (√κ-1)/(√κ+1)"),
]


def _part_mistakes():
    right_gd, right_m = (lambda k: _factors(k)[0], None), (lambda k: _factors(k)[1], None)
    out = []
    for gd, gd_text in [right_gd] + _GD_PART:
        for mom, mom_text in [right_m] + _MOMENTUM_PART:
            if gd_text is None and mom_text is None:
                continue
            words = "; ".join(f"{part}: {text}" for part, text in (("gradient_descent", gd_text),
                                                                   ("momentum", mom_text)) if text)
            out.append(Mistake(lambda k, gd=gd, mom=mom: (gd(k), mom(k)), words + "."))
    return out


# --------------------------------------------------------------------------- exercise 6: a Hessian-vector product
class QuarticGrad:
    """The gradient of ``f(w) = ¼ Σ wᵢ⁴ + ½ wᵀAw + bᵀw``, ``w³ + A w + b``; its Hessian is ``diag(3w²) + A``."""

    def __init__(self, a, b):
        self.a, self.b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)

    def __call__(self, w):
        w = np.asarray(w, dtype=np.float64)
        return w ** 3 + self.a @ w + self.b

    def hessian(self, w):
        return np.diag(3 * np.asarray(w, dtype=np.float64) ** 2) + self.a

    def __repr__(self):
        return f"grad of ¼Σw⁴ + ½wᵀAw + bᵀw ({len(self.b)} weights)"


def _hvp(grad_fn, w, v, epsilon):
    w, v = np.asarray(w, float), np.asarray(v, float)
    return (np.asarray(grad_fn(w + epsilon * v)) - np.asarray(grad_fn(w - epsilon * v))) / (2 * epsilon)


def _hvp_cases():
    rng = np.random.default_rng(11)
    cases = []
    for n, eps in ((2, 1e-3), (3, 1e-2), (5, 1e-3), (4, 3e-2)):
        m = rng.normal(size=(n, n))
        cases.append((QuarticGrad(m + m.T, rng.normal(size=n)), rng.normal(size=n), rng.normal(size=n), eps))
    return cases


def check_hessian_vector_product(hessian_vector_product):
    """Exercise 6: ``(∇L(w + εv) - ∇L(w - εv)) / 2ε``."""
    def f(fn):
        return lambda g, w, v, e: fn(g, np.asarray(w, float), np.asarray(v, float), e)

    check_function(hessian_vector_product, _hvp, _hvp_cases(), name="hessian_vector_product", mistakes=[
        Mistake(f(lambda g, w, v, e: (g(w + e * v) - g(w)) / e),
                "a one-sided difference (∇L(w + εv) - ∇L(w)) / ε is off by a term of order ε; the central "
                "difference (∇L(w + εv) - ∇L(w - εv)) / 2ε cancels it (its error is of order ε²)."),
        Mistake(f(lambda g, w, v, e: (g(w + e * v) - g(w - e * v)) / e),
                "the two points w ± εv are 2ε apart: divide by 2ε, not ε."),
        Mistake(f(lambda g, w, v, e: (g(w + e * v) - g(w - e * v)) / 2),
                "divide by 2ε, the distance between the two points, not by 2."),
        Mistake(f(lambda g, w, v, e: (g(w + e * v) - g(w - e * v)) / 2 * e),
                "brackets: `/ 2 * epsilon` divides by 2 and then multiplies by ε; write `/ (2 * epsilon)`."),
        Mistake(f(lambda g, w, v, e: (g(w - e * v) - g(w + e * v)) / (2 * e)),
                "sign: the forward point comes first, (∇L(w + εv) - ∇L(w - εv)) / 2ε."),
        Mistake(f(lambda g, w, v, e: (g(w + e) - g(w - e)) / (2 * e)),
                "step along v: w ± ε·v, not w ± ε (that moves every weight by ε, and gives H times a vector of "
                "ones)."),
        Mistake(f(lambda g, w, v, e: (g(w + e * v) - g(w - e * v)) / (2 * e) * v),
                "the difference of the gradients is already H v (a vector): do not multiply it by v again."),
        Mistake(f(lambda g, w, v, e: (g(w + e * v) - g(w - e * v)) / (2 * e * np.linalg.norm(v))),
                "no division by |v|: the product H v grows with v, as the exercise's formula does."),
    ])


# --------------------------------------------------------------------------- predictions
def check_steps_from_1e_12(answer):
    """Prediction 1: how long gradient descent lingers at the saddle from y₀ = 1e-12."""
    def run():
        path = minimize(Saddle(), np.array([2.0, 1e-12]), SGD(0.1), 400).params
        measured = int(np.argmax(np.abs(path[:, 1]) > 0.1))
        return (f"  start (2, 1e-12), rate 0.1: |y| first passes 0.1 at step {measured}; "
                f"ln(0.1 / 1e-12) / ln(1.1) = {math.log(1e11) / math.log(1.1):.1f}")

    check_prediction(answer, name="steps_from_1e_12", correct=round(math.log(1e11) / math.log(1.1), 1),
                     tolerance=5,
                     explanation="near the saddle y grows by 1 + lr = 1.1 per step, so reaching 0.1 from y₀ takes "
                                 "ln(0.1 / y₀) / ln(1.1) steps: from 1e-8 (170 steps in the lesson), 10⁴ times "
                                 "closer to the ridge adds ln(10⁴) / ln(1.1) ≈ 97 steps, about 266 in all.",
                     evidence=run)



def check_turned_diagonal(answer):
    """Prediction 2: does diag(1/H_ii) help gradient descent on a bowl turned by 45°?"""
    def run():
        lines = []
        for degrees in (0, 45):
            q = rotated_quadratic(math.radians(degrees), 50.0, largest_eigenvalue=50.0)
            d = np.diag(q.hessian())
            plain = preconditioned_descent(q, [1.0, 0.3], 2 / 51, np.ones(2), 100)
            scaled = preconditioned_descent(q, [1.0, 0.3], 1.0, 1 / d, 100)
            lines.append(f"  turned {degrees:2d}°: diagonal {np.round(d, 2)}; distance after 100 steps, plain "
                         f"{np.linalg.norm(plain[-1]):.2e}, with diag(1/H_ii) {np.linalg.norm(scaled[-1]):.2e}")
        return "\n".join(lines)

    check_prediction(answer, name="turned_diagonal", choices=("much faster", "about the same", "slower"),
                     correct="about the same",
                     explanation="turned by 45°, H = R diag(L, μ) Rᵀ has both diagonal entries equal to (L + μ)/2, "
                                 "so diag(1/H_ii) divides every coordinate by the same number: it is only a "
                                 "rescaled learning rate (here 1/25.5 = 2/51, exactly the plain best rate). On the "
                                 "aligned bowl the same preconditioner makes it round and one step lands.",
                     evidence=run)
