"""Checks for the exercises of lesson 03, noise, batch size and SGD on many devices."""

import math

import numpy as np

from ..data import linear_regression
from ..noise import (
    linear_hessian,
    linear_minimum,
    linear_noise_floor,
    linear_per_example_grads,
    measured_noise_floor,
    minibatch_sgd,
)
from . import Mistake, check_function, check_prediction

__all__ = ["check_gradient_variance", "check_noise_floor_1d", "check_scale_for_batch", "check_all_reduce",
           "check_whole_batch_floor", "check_lr_074_batch_1"]


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
    g = linear_per_example_grads(theta_star, x, y)
    g2 = rng.normal(size=(12, 3)) * [1.0, 3.0, 0.5] + [2.0, -1.0, 0.0]
    g3 = rng.normal(size=(7, 2))
    return [(g, 1), (g, 10), (g, 50), (g, 100), (g2, 3), (g2, 12), (g3, 2), (g3, 6)]


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
    ])


# --------------------------------------------------------------------------- exercise 2: the noise floor in 1-D
def _noise_floor_1d(learning_rate, batch_size, variance, curvature):
    if learning_rate * curvature >= 2:
        return math.inf
    return learning_rate * variance / (2 * batch_size * (2 - learning_rate * curvature))


_FLOOR_CASES = [(0.1, 1, 1.0, 1.0), (0.5, 4, 2.0, 1.0), (0.3, 10, 0.5, 3.0), (0.05, 32, 4.0, 10.0),
                (1.0, 2, 1.0, 0.5), (0.6, 1, 1.0, 4.0), (0.2, 8, 3.0, 2.5), (2.5, 1, 1.0, 1.0)]


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


def check_scale_for_batch(scale_for_batch):
    """Exercise 3: ``(learning_rate, warmup_steps)`` for a larger batch by the linear scaling rule."""
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


# --------------------------------------------------------------------------- predictions
def _data():
    x, y = linear_regression()
    return x, y, linear_minimum(x, y)


def check_whole_batch_floor(answer):
    """Prediction 1: the noise floor at lr 0.3 with a batch of all 100 examples, drawn without replacement."""
    def run():
        x, y, (theta_star, loss_star) = _data()
        lines = []
        for b in (1, 10, 50, 100):
            runs = minibatch_sgd(x, y, theta_star, 0.3, b, 600, chains=20, seed=1)
            m, _ = measured_noise_floor(runs, loss_star, 100)
            derived = linear_noise_floor(x, y, 0.3, b)
            lines.append(f"  B = {b:3d}: derived floor {derived:.3e}, measured {max(m, 0.0):.3e}")
        return "\n".join(lines)

    check_prediction(answer, name="whole_batch_floor", choices=("same as B = 1", "1/100 of B = 1's", "zero"),
                     correct="zero",
                     explanation="without replacement a batch of all N examples is the whole data: its gradient is "
                                 "the full gradient, with no noise at all. The factor (N - B)/(B(N - 1)) is 0 at "
                                 "B = N, so the run settles exactly at the minimum, like full-batch descent.",
                     evidence=run)


def check_lr_074_batch_1(answer):
    """Prediction 2: lr 0.74, batch 1, on the y = 3x + 2 data: 0.74 is below the noiseless 2/λmax = 0.756."""
    def run():
        x, y, (theta_star, loss_star) = _data()
        lines = [f"  2/λmax of the whole data's Hessian: {2 / np.linalg.eigvalsh(linear_hessian(x))[-1]:.3f}"]
        for b in (1, 10):
            runs = minibatch_sgd(x, y, theta_star, 0.74, b, 2000, chains=5, seed=0)
            lines.append(f"  B = {b:2d}: derived floor {linear_noise_floor(x, y, 0.74, b):.3g}; 5 runs from the "
                         f"minimum, loss after 2000 steps {np.array2string(runs.loss[-1], precision=3)}")
        return "\n".join(lines)

    check_prediction(answer, name="lr_074_batch_1", choices=("settles at a floor", "diverges"), correct="diverges",
                     explanation="a step multiplies the error by (I - lr H_B), with H_B the batch's own Hessian, not "
                                 "the data's average H. One example's Hessian 2 [x, 1][x, 1]ᵀ has the eigenvalue "
                                 "2(x² + 1), up to 4 here, so a step on it multiplies the error along [x, 1] by "
                                 "1 - 0.74 * 4 ≈ -2. These kicks outgrow the shrinking steps: with B = 1 the run "
                                 "diverges below the noiseless limit 2/λmax = 0.756. A batch of 10 averages the "
                                 "kicks out and settles.",
                     evidence=run)
