"""Checks for the exercises of lesson 03, noise, batch size and SGD on many devices."""

import copy
import math

import numpy as np

from ..data import linear_regression
from ..noise import (
    linear_hessian,
    linear_minimum,
    linear_noise_floor,
    measured_noise_floor,
    minibatch_sgd,
    power_decay,
)
from . import CheckFailed, Mistake, check_function, check_prediction, describe, failure_message

__all__ = ["check_gradient_variance", "check_noise_floor_1d", "check_scale_for_batch", "check_all_reduce",
           "check_replica_share", "check_floor_batch_50", "check_decay_with_t_1"]


def _same(a, b):
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


def _answers(student_fn, cases):
    """The student's answers on copies of ``cases``, and whether a call changed its arguments in place.

    ``(None, False)`` when a call raises: the full check that follows reports that.
    """
    answers, changed = [], False
    for case in cases:
        given = copy.deepcopy(case)
        try:
            answers.append(student_fn(*given))
        except Exception:
            return None, False
        changed |= not _same(case, given)
    return answers, changed


# --------------------------------------------------------------------------- exercise 1: the variance of a batch mean
def _spread(g):
    g = np.asarray(g, dtype=np.float64)
    return float(np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1)))


def _gradient_variance(per_example, batch_size):
    n = len(per_example)
    return _spread(per_example) / batch_size * (n - batch_size) / (n - 1)


def _variance_cases():
    rng = np.random.default_rng(11)
    x, y = linear_regression()
    theta_star, _ = linear_minimum(x, y)
    g = _per_example_at(theta_star + [0.3, -0.2], x, y)    # near the minimum: the mean gradient is not 0
    g2 = rng.normal(size=(12, 3)) * [1.0, 3.0, 0.5] + [2.0, -1.0, 0.0]
    g3 = rng.normal(size=(7, 2))
    return [(g, 1), (g, 10), (g, 50), (g, 100), (g2, 3), (g2, 12), (g3, 2), (g3, 6)]


def _per_example_at(theta, x, y):
    from ..noise import linear_per_example_grads
    return linear_per_example_grads(theta, x, y)


def _var_variant(g, b, ddof=0, fpc="n-1", per_column=False, axis_sum=1, power=1, divide=True):
    g = np.asarray(g, dtype=np.float64)
    n = len(g)
    dev2 = (g - g.mean(axis=0)) ** 2
    if per_column:
        sigma2 = float(np.mean(np.var(g, axis=0, ddof=ddof)))
    elif axis_sum == 0:
        sigma2 = float(np.mean(np.var(g, axis=1, ddof=ddof)))
    else:
        sigma2 = float(np.sum(dev2) / (n - ddof))
    factor = {"n-1": (n - b) / (n - 1), "n": (n - b) / n, "none": 1.0, "inverted": (n - 1) / (n - b) if n > b else
              math.inf, "b-1": (n - b) / (b - 1) if b > 1 else math.inf}[fpc]
    return sigma2 / (b ** power if divide else 1) * factor


def check_gradient_variance(gradient_variance):
    """Exercise 1: ``E||g_B - g||²`` for a batch drawn without replacement."""
    check_function(gradient_variance, _gradient_variance, _variance_cases(), name="gradient_variance",
                   factors={"the batch size": lambda g, b: b}, mistakes=[
        Mistake(lambda g, b: _var_variant(g, b, fpc="none"),
                "that is σ²/B, the variance for a batch drawn *with* replacement; without replacement multiply by "
                "the finite-population correction (N - B)/(N - 1) (a batch of all N examples has no noise)."),
        Mistake(lambda g, b: _var_variant(g, b, fpc="n"),
                "the finite-population correction is (N - B)/(N - 1), not (N - B)/N."),
        Mistake(lambda g, b: _var_variant(g, b, fpc="inverted"),
                "the correction is upside down: (N - B)/(N - 1), which is at most 1 and 0 for B = N."),
        Mistake(lambda g, b: _var_variant(g, b, ddof=1),
                "σ² is the mean over the N examples of ||g_i - g||² (divide by N, np.var's default ddof=0); "
                "the (N - 1) belongs in the correction only."),
        Mistake(lambda g, b: _var_variant(g, b, per_column=True),
                "sum the variances of the parameters (the trace of the covariance), do not average them: "
                "||g_i - g||² adds the squares of every component (np.sum(..., axis=1))."),
        Mistake(lambda g, b: _var_variant(g, b, axis_sum=0),
                "axis: the examples are the rows (axis 0). Take the mean gradient over axis 0 and each example's "
                "squared distance over axis 1."),
        Mistake(lambda g, b: _var_variant(g, b, power=2),
                "the variance of a mean of B draws shrinks as 1/B, not 1/B² (that is the standard deviation "
                "of the sum's square...): divide σ² by B once."),
        Mistake(lambda g, b: _var_variant(g, b, power=0.5),
                "1/√B is how the *standard deviation* shrinks; the variance shrinks as 1/B."),
        Mistake(lambda g, b: _var_variant(g, b, divide=False),
                "the batch size is missing: averaging B gradients divides the variance by B."),
        Mistake(lambda g, b: math.sqrt(_gradient_variance(g, b)),
                "that is a standard deviation (a square root); the exercise asks for the variance E||g_B - g||²."),
        Mistake(lambda g, b: _var_variant(g, b, fpc="b-1"),
                "the correction divides by N - 1 (one less than the number of examples), not by B - 1."),
        Mistake(lambda g, b: float(np.var(np.asarray(g, dtype=np.float64))) / b * (len(g) - b) / (len(g) - 1),
                "np.var without an axis flattens the array and subtracts one overall mean: subtract the mean "
                "gradient (axis 0) from each row, then sum each row's squares (or np.var(..., axis=0).sum())."),
        Mistake(lambda g, b: _spread(g) / b * (np.shape(g)[1] - b) / (np.shape(g)[1] - 1),
                "N is the number of examples, the rows: len(per_example) or per_example.shape[0]; shape[1] is "
                "the number of gradient entries P. (A variance cannot be negative, and the correction "
                "(N - B)/(N - 1) turns negative as soon as B exceeds the wrong N.)"),
        Mistake(lambda g, b: float(np.mean(np.linalg.norm(np.asarray(g, dtype=np.float64)
                                                          - np.mean(g, axis=0), axis=1))) / b
                * (len(g) - b) / (len(g) - 1),
                "||g_i - g||² is the *squared* distance: square np.linalg.norm(per_example - g, axis=1) (or sum "
                "the squares of each row) before averaging; the norm itself is a distance, not a variance."),
        Mistake(lambda g, b: float(np.mean(np.sum(np.asarray(g, dtype=np.float64) ** 2, axis=1))) / b
                * (len(g) - b) / (len(g) - 1),
                "σ² is the spread *around the mean gradient*: subtract g = per_example.mean(axis=0) from every row "
                "before squaring. (At the minimum g is 0, so the lesson's σ² line looks the same either way; "
                "elsewhere it is not.)"),
    ])


# --------------------------------------------------------------------------- exercise 2: the noise floor in 1-D
def _noise_floor_1d(learning_rate, batch_size, variance, curvature):
    if learning_rate * curvature >= 2:
        return math.inf
    return learning_rate * variance / (2 * batch_size * (2 - learning_rate * curvature))


_FLOOR_CASES = [(0.1, 1, 1.0, 1.0), (0.5, 4, 2.0, 1.0), (0.3, 10, 0.5, 3.0), (0.05, 32, 4.0, 10.0),
                (1.0, 2, 1.0, 0.5), (0.6, 1, 1.0, 4.0), (0.2, 8, 3.0, 2.5), (2.5, 1, 1.0, 1.0),
                (0.5, 1, 1.0, 4.0)]   # the last: lr * curvature = 2 exactly, the boundary


def _floor_variant(lr, b, v, c, half=True, batch_power=1, lr_power=1, two_minus=True, loss=True, inf=True,
                   plus=False):
    if inf and lr * c >= 2:
        return math.inf
    bracket = (2 + lr * c) if plus else (2 - lr * c) if two_minus else (1 - lr * c)
    e2 = lr ** lr_power * v / (b ** batch_power * c * bracket)
    out = c / 2 * e2 if loss else e2
    return out if half else 2 * out


def check_noise_floor_1d(noise_floor_1d):
    """Exercise 2: the stationary excess loss of SGD on ``curvature/2 * w²`` with gradient-noise variance."""
    check_function(noise_floor_1d, _noise_floor_1d, _FLOOR_CASES, name="noise_floor_1d",
                   factors={"2": 2, "the batch size": lambda lr, b, v, c: b,
                            "the curvature": lambda lr, b, v, c: c}, mistakes=[
        Mistake(lambda *a: _floor_variant(*a, half=False),
                "the loss is curvature/2 * E[w²]: the ½ is missing."),
        Mistake(lambda *a: _floor_variant(*a, loss=False),
                "that is E[w²], the spread of the weight; the floor is the loss, curvature/2 * E[w²]."),
        Mistake(lambda *a: _floor_variant(*a, batch_power=0),
                "the batch size is missing: a batch of B examples has gradient-noise variance σ²/B."),
        Mistake(lambda *a: _floor_variant(*a, batch_power=2),
                "the noise variance of a batch mean is σ²/B, not σ²/B²."),
        Mistake(lambda *a: _floor_variant(*a, lr_power=2),
                "lr² σ²/B is the noise added per step, but the error also forgets (1 - (1 - lr λ)² = lr λ(2 - lr λ)): "
                "one lr cancels, leaving lr σ² / (2B(2 - lr λ))."),
        Mistake(lambda *a: _floor_variant(*a, two_minus=False),
                "solve E[w²] = (1 - lr λ)² E[w²] + lr² σ²/B: 1 - (1 - lr λ)² = lr λ (2 - lr λ), so the bracket is "
                "(2 - lr λ), not (1 - lr λ)."),
        Mistake(lambda *a: _floor_variant(*a, plus=True),
                "sign: 1 - (1 - lr λ)² = lr λ (2 - lr λ), so the bracket is (2 - lr λ), not (2 + lr λ)."),
        Mistake(lambda lr, b, v, c: math.inf if lr * c > 2 else lr * v / (2 * b * (2 - lr * c)),
                "at lr * curvature = 2 exactly the run does not settle either (each step multiplies the error by "
                "1 - 2 = -1, and the noise piles up), and the formula divides by zero there: the test is "
                "`>= 2`, not `> 2`."),
        Mistake(lambda *a: _floor_variant(*a, inf=False),
                "at lr λ >= 2 the run diverges (lesson 02's limit): return math.inf there, not the formula's "
                "negative or infinite value."),
        Mistake(lambda lr, b, v, c: _noise_floor_1d(lr, b, v, 1.0),
                "the curvature is missing: the step multiplies the error by 1 - lr * curvature, so the bracket is "
                "(2 - lr * curvature)."),
        Mistake(lambda lr, b, v, c: _noise_floor_1d(lr, b, math.sqrt(v), c),
                "`variance` is already σ² (not σ): do not take its square root."),
        Mistake(lambda lr, b, v, c: _noise_floor_1d(lr, b, v * v, c),
                "`variance` is already σ²: do not square it again."),
        Mistake(lambda lr, b, v, c: math.inf if lr * c >= 2 else lr * v / 2 * b * (2 - lr * c),
                "brackets: lr * variance / 2 * batch_size * (...) multiplies by the batch size and the bracket; "
                "write lr * variance / (2 * batch_size * (2 - lr * curvature))."),
    ])


# --------------------------------------------------------------------------- exercise 3: the linear scaling rule
def _scale_for_batch(base_learning_rate, base_batch_size, batch_size, warmup_examples):
    return base_learning_rate * batch_size / base_batch_size, -(-warmup_examples // batch_size)


_SCALE_CASES = [(0.1, 32, 256, 3200), (0.1, 32, 32, 3200), (0.05, 10, 40, 1000), (0.02, 8, 100, 1000),
                (0.3, 64, 16, 640), (0.1, 32, 64, 0), (0.2, 4, 12, 50), (0.1, 8, 24, 140)]


def _is_swapped(got, expected):
    """True when ``got`` is the pair ``expected`` in reverse order (and not also in the right one)."""
    try:
        pair = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return (isinstance(got, (tuple, list)) and pair.shape == (2,) and np.allclose(pair, expected[::-1])
            and not np.allclose(pair, expected))


def check_scale_for_batch(scale_for_batch):
    """Exercise 3: ``(learning_rate, warmup_steps)`` for a larger batch by the linear scaling rule."""
    answers, _ = _answers(scale_for_batch, _SCALE_CASES) if callable(scale_for_batch) else (None, False)
    expected = [_scale_for_batch(*case) for case in _SCALE_CASES]
    if answers and all(_is_swapped(a, e) for a, e in zip(answers, expected)):
        case, got, exp = _SCALE_CASES[0], answers[0], expected[0]
        hint = "the two values are swapped: return (learning_rate, warmup_steps), the rate first."
        raise CheckFailed(failure_message("scale_for_batch is wrong", hint, [
            ("called as", f"scale_for_batch{case}"),
            ("what", f"it returned {describe(tuple(got))}, which is (warmup_steps, learning_rate); expected "
                     f"(learning_rate, warmup_steps) = {describe(exp)}.")]), hint) from None
    check_function(scale_for_batch, _scale_for_batch, _SCALE_CASES, name="scale_for_batch",
                   names=("learning_rate", "warmup_steps"), mistakes=[
        Mistake(lambda lr, b0, b, w: (lr * b0 / b, -(-w // b)),
                "the ratio is upside down: a batch k times larger gets a rate k times larger, lr * B / B0."),
        Mistake(lambda lr, b0, b, w: (lr * math.sqrt(b / b0), -(-w // b)),
                "that is the square-root rule (it keeps the noise per example fixed); the exercise asks for the "
                "linear rule, lr * B / B0."),
        Mistake(lambda lr, b0, b, w: (lr * b / b0, -(-w // b0)),
                "the warmup covers a fixed number of *examples*: in steps of the new batch that is "
                "ceil(warmup_examples / batch_size), not / base_batch_size."),
        Mistake(lambda lr, b0, b, w: (lr * b / b0, w // b),
                "round the warmup up (a partial step still counts): -(-warmup_examples // batch_size) or "
                "math.ceil(warmup_examples / batch_size); // rounds down."),
        Mistake(lambda lr, b0, b, w: (lr * b / b0, w / b),
                "the number of warmup steps is a whole number: round warmup_examples / batch_size up "
                "(math.ceil)."),
        Mistake(lambda lr, b0, b, w: (lr * b / b0, round(w / b)),
                "round() can round down: the warmup must cover all warmup_examples, so use math.ceil."),
        Mistake(lambda lr, b0, b, w: (lr * b / b0, w * b),
                "steps = examples / batch_size: divide, do not multiply."),
        Mistake(lambda lr, b0, b, w: (-(-w // b), lr * b / b0),
                "swapped: return (learning_rate, warmup_steps) in that order."),
        Mistake(lambda lr, b0, b, w: (lr, -(-w // b)),
                "the rate is not scaled: the linear rule multiplies it by batch_size / base_batch_size."),
        Mistake(lambda lr, b0, b, w: (lr * b // b0, -(-w // b)),
                "`//` is floor division (0.1 * 40 // 10 is 0.0): compute the rate with `/`."),
        Mistake(lambda lr, b0, b, w: (lr * b / b0, w // b + 1),
                "warmup_examples // batch_size + 1 is one step too many when the examples divide evenly "
                "(3200 // 32 + 1 = 101, but 100 steps of 32 already see all 3200): round up with "
                "math.ceil(warmup_examples / batch_size) or -(-warmup_examples // batch_size)."),
        Mistake(lambda lr, b0, b, w: (lr * b / b0, -(-w // b) + 1),
                "one warmup step too many: ceil(warmup_examples / batch_size) steps already see all "
                "warmup_examples (no + 1)."),
    ])


# --------------------------------------------------------------------------- exercise 4: the all-reduce
def _all_reduce(per_replica):
    mean = sum(np.asarray(g, dtype=np.float64) for g in per_replica) / len(per_replica)
    return [mean.copy() for _ in per_replica]


def _reduce_cases():
    rng = np.random.default_rng(5)
    return [([rng.normal(size=2), rng.normal(size=2)],),
            ([rng.normal(size=(3, 1)) for _ in range(4)],),
            ([np.array([1.0, -2.0]), np.array([3.0, 4.0]), np.array([-1.0, 0.5])],),
            ([rng.normal(size=(2, 3)) for _ in range(2)],),
            ([np.array([0.5]), np.array([1.5]), np.array([2.5]), np.array([3.5]), np.array([-0.5])],)]


def check_all_reduce(all_reduce):
    """Exercise 4: every replica ends with the mean of the replicas' gradients."""
    if callable(all_reduce) and _answers(all_reduce, _reduce_cases())[1]:
        raise CheckFailed(failure_message(
            "all_reduce changed the replicas' gradients in place (with `g[...] = ...`, `g /= ...` or `+=` on an "
            "array of `per_replica`). Each replica's gradient is an input that its replica still owns: compute "
            "the mean into a new array (e.g. np.mean(np.stack(per_replica), axis=0)) and return that once per "
            "replica.")) from None
    def same_length(value, per_replica):
        return [value.copy() for _ in per_replica]

    def stack(per_replica):
        return np.stack([np.asarray(g, dtype=np.float64) for g in per_replica])

    check_function(all_reduce, _all_reduce, _reduce_cases(), name="all_reduce", mistakes=[
        Mistake(lambda p: same_length(stack(p).sum(axis=0), p),
                "that is the sum: each replica's gradient is the mean over its shard, so the replicas' *mean* "
                "(sum / number of replicas) is the mean over the whole batch."),
        Mistake(lambda p: stack(p).mean(axis=0),
                "return one copy per replica (a list as long as `per_replica`): after an all-reduce every "
                "replica holds the result."),
        Mistake(lambda p: [stack(p).mean(axis=0)],
                "only one copy: an all-reduce leaves the result on *every* replica, so return a list with one "
                "copy per replica."),
        Mistake(lambda p: same_length(np.asarray(p[0], dtype=np.float64), p),
                "that is the first replica's gradient copied to all: average all the replicas' gradients."),
        Mistake(lambda p: [np.asarray(g, dtype=np.float64) for g in p],
                "nothing was reduced: each replica still holds its own gradient, so the replicas would drift "
                "apart. Average them and give every replica the mean."),
        Mistake(lambda p: same_length(stack(p).sum(axis=0) / (len(p) - 1), p),
                "divide by the number of replicas, len(per_replica), not one less."),
        Mistake(lambda p: same_length(stack(p).sum(axis=0) / stack(p)[0].size, p),
                "divide by the number of replicas (len(per_replica)), not the number of entries in one gradient."),
        Mistake(lambda p: same_length(np.median(stack(p), axis=0), p),
                "the median is not the mean: only the mean of the shard means equals the whole batch's mean "
                "gradient."),
        Mistake(lambda p: [g * 0 + stack(p).mean(axis=None) for g in stack(p)],
                "axis: average over the replicas (axis 0 of np.stack(per_replica)), not over every entry."),
        Mistake(lambda p: same_length(stack(p).sum(axis=0) / stack(p).sum(), p),
                "divide by the number of replicas, not by the sum of all gradients."),
    ])


# --------------------------------------------------------------------------- exercise 5: a replica's share
def _replica_share(per_example_losses, global_batch_size):
    return np.sum(np.asarray(per_example_losses, dtype=np.float64)) / global_batch_size


_SHARE_CASES = [(np.array([1.0, 2.0, 3.0, 4.0]), 8), (np.array([0.5, 0.25]), 4), (np.array([2.0, 6.0, 1.0]), 12),
                (np.array([3.0, 1.0]), 2), (np.array([0.1, 0.2, 0.3, 0.4, 0.5]), 20)]


def check_replica_share(replica_share):
    """Exercise 5: what ``tf.nn.compute_average_loss`` computes on one replica's shard."""
    check_function(replica_share, _replica_share, _SHARE_CASES, name="replica_share",
                   factors={"the number of replicas": lambda losses, b: b / len(losses)}, mistakes=[
        Mistake(lambda losses, b: float(np.mean(losses)),
                "that is the shard's mean: divide the shard's sum by the *global* batch size. With the shard's "
                "mean, the all-reduce's sum over R replicas applies R times the whole batch's gradient."),
        Mistake(lambda losses, b: float(np.sum(losses)),
                "that is the shard's sum: divide it by the global batch size, so that the replicas' shares add up "
                "to the whole batch's mean."),
        Mistake(lambda losses, b: float(np.mean(losses)) / b,
                "the mean is already divided by the shard's size: divide the *sum* (not the mean) by the global "
                "batch size."),
        Mistake(lambda losses, b: float(np.sum(losses)) / (b / len(losses)),
                "divide by the global batch size itself, not by the number of replicas (global / shard size)."),
    ])


# --------------------------------------------------------------------------- predictions
def _data():
    x, y = linear_regression()
    return x, y, linear_minimum(x, y)


def check_floor_batch_50(answer):
    """Prediction 1: the noise floor at lr 0.3 with batches of 50 of the 100 examples, without replacement."""
    def run():
        x, y, (theta_star, loss_star) = _data()
        lines, floors = ["  loss - loss*, mean over 20 runs from the minimum and steps 101-600:"], {}
        for b in (1, 50, 100):
            runs = minibatch_sgd(x, y, theta_star, 0.3, b, 600, chains=20, seed=1)
            m, _ = measured_noise_floor(runs, loss_star, 100)
            floors[b] = linear_noise_floor(x, y, 0.3, b)
            lines.append(f"  B = {b:3d}: measured {max(m, 0.0):.3e}, derived floor {floors[b]:.3e}")
        lines.append(f"  derived floor at B = 1 over B = 50: {floors[1] / floors[50]:.0f}")
        return "\n".join(lines)

    check_prediction(answer, name="floor_batch_50", choices=("1/50 of B = 1's", "1/100 of B = 1's", "zero"),
                     correct="1/100 of B = 1's",
                     explanation="without replacement the noise variance of a batch of B is σ²/B · (N - B)/(N - 1): "
                                 "at B = 50 of N = 100 that is 1/50 · 50/99 = 1/99 of one example's, and at a rate "
                                 "well below the limit the floor is about proportional to the noise. So about "
                                 "1/100, not 1/50 (that forgets the correction); a little less still (1/109), "
                                 "because the error-dependent noise of section 2 is larger at B = 1. Only B = N "
                                 "leaves no noise at all.",
                     evidence=run)


def check_decay_with_t_1(answer):
    """Prediction 2: the 1/t rate 0.3/(1 + t/T) with T = 1 instead of 100, B = 1, after 10000 steps."""
    def run():
        x, y, (_, loss_star) = _data()
        lam_min = np.linalg.eigvalsh(linear_hessian(x))[0]
        late = np.arange(1000, 10001)
        lines = [f"  λmin = {lam_min:.4f}; the constant rate 0.3's floor: {linear_noise_floor(x, y, 0.3, 1):.2e}"]
        for t_decay in (100, 1):
            runs = minibatch_sgd(x, y, [0.0, 0.0], power_decay(0.3, t_decay, 1.0), 1, 10000, chains=40, seed=3)
            excess = (runs.loss - loss_star).mean(axis=1)
            slope = np.polyfit(np.log(late), np.log(excess[late]), 1)[0]
            lines.append(f"  T = {t_decay:3d}: 2 lr_0 T λmin = {2 * 0.3 * t_decay * lam_min:.3f}; mean loss - loss* "
                         f"of 40 runs at step 10000: {excess[-1]:.2e}; log-log slope over steps 1000-10000: "
                         f"{slope:+.2f}")
        return "\n".join(lines)

    check_prediction(answer, name="decay_with_t_1",
                     choices=("below 3.6e-5", "between 3.6e-5 and 6.9e-3", "above 6.9e-3"),
                     correct="above 6.9e-3",
                     explanation="with T = 1, 2 lr_0 T λmin = 2 · 0.3 · 1 · 0.139 = 0.083, far below 1. Along the "
                                 "slow direction the excess loss then shrinks only like t^(-0.083): from step 1000 "
                                 "to 10000 by a factor 10^(-0.083) = 0.83. The rate fell so fast (to 0.03 by step 9) "
                                 "that the run has all but stopped short of the minimum, above even the constant "
                                 "rate's floor. The lesson's T = 100 gives 2 lr_0 T λmin = 8.3 and the 1/t fall.",
                     evidence=run)
