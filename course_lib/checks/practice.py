"""Checks for the exercises of lesson 09, the practice of training."""

import math

import numpy as np

from ..backprop import MLP
from ..optimizers import SGD
from ..practice import accumulate, train
from ..training import load_digits
from . import Mistake, check_function, check_prediction

__all__ = ["check_pick_rate", "check_clip_by_global_norm", "check_adamw_update", "check_sample_log_uniform",
           "check_l2_with_momentum", "check_warmup_instead_of_clipping"]


# --------------------------------------------------------------------------- exercise 1: read a range test
def _smooth(losses, beta, correct=True, swap=False, shift=0, start_at_first=False):
    """The exercise's smoothing; ``shift=-1`` divides by 1 - beta**k with k from 0 (an off-by-one),
    ``start_at_first`` starts the average at the first loss instead of 0."""
    losses = np.asarray(losses, dtype=np.float64)
    out, average = [], losses[0] if start_at_first else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, loss in enumerate(losses, start=1):
            average = (1 - beta) * average + beta * loss if swap else beta * average + (1 - beta) * loss
            out.append(average / np.float64(1 - beta ** (k + shift)) if correct else average)
    return np.asarray(out)


def _pick_rate(rates, losses, beta=0.9):
    return float(np.asarray(rates)[int(np.argmin(_smooth(losses, beta)))] / 10)


def _range_cases():
    cases = []
    for seed, (low, high, steps, bottom, beta) in enumerate([(1e-3, 10, 80, 0.55, 0.9), (1e-4, 1.0, 60, 0.7, 0.9),
                                                              (1e-3, 3.0, 100, 0.4, 0.8), (1e-2, 30, 50, 0.6, 0.9),
                                                              (1e-5, 1e-1, 70, 0.75, 0.95)]):
        rng = np.random.default_rng(seed + 3)
        rates = np.geomspace(low, high, steps)
        t = np.linspace(0, 1, steps)
        curve = 2.3 - 2.0 * np.clip(t / bottom, 0, 1) ** 2 + 30 * np.clip(t - bottom, 0, None) ** 2
        losses = curve + 0.25 * rng.standard_normal(steps) * (0.3 + t)
        cases.append(((rates, losses), {"beta": beta}))
    # the smoothed minimum in the first few updates, where the bias correction decides it: losses that
    # rise from the first update, and losses lowest at update 2
    rates = np.geomspace(0.1, 10.0, 30)
    cases.append(((rates, 1.0 + 3 * np.linspace(0, 1, 30) ** 2), {"beta": 0.9}))
    cases.append(((rates[:12], np.array([2.0, 1.2, 0.7, 0.9, 1.4, 2.0, 2.8, 3.6, 4.6, 5.8, 7.0, 8.5])), {"beta": 0.8}))
    return cases


def check_pick_rate(pick_rate):
    """Exercise 1: a tenth of the rate at the lowest bias-corrected smoothed loss."""
    def at(rates, index, scale=10):
        return float(np.asarray(rates)[int(np.clip(index, 0, len(rates) - 1))] / scale)

    check_function(pick_rate, _pick_rate, _range_cases(), name="pick_rate",
                   factors={"10": 10}, mistakes=[
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(_smooth(ls, beta)), 1),
                "that is the rate at the lowest loss itself; the pick is a decade below it (divide by 10), where "
                "the loss still falls fast and the blow-up is far away."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(ls)),
                "that is a tenth of the rate at the lowest *raw* batch loss; smooth the losses first (the moving "
                "average with bias correction), or one lucky batch decides the pick."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(_smooth(ls, beta, correct=False))),
                "the moving average starts at 0 and needs lesson 05's bias correction: divide the average after "
                "update k (k = 0, 1, ...) by 1 - beta**(k + 1), else the first averages are far too small and look "
                "like the lowest loss."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.nanargmin(np.where(np.isfinite(s := _smooth(ls, beta, shift=-1)), s,
                                                                    np.nan))),
                "the bias correction is one update off: after update k (k = 0, 1, ...) the average holds k + 1 "
                "losses, so divide by 1 - beta**(k + 1); 1 - beta**k is 0 at the first update (a division by "
                "zero) and too small after it."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(_smooth(ls, beta, start_at_first=True))),
                "the average starts at 0, not at the first loss: with average = 0 at the start, the bias correction "
                "1 - beta**(k + 1) is exactly what undoes the start; started at losses[0], the first smoothed "
                "values are far too high."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(_smooth(ls, beta, correct=False, start_at_first=True))),
                "start the average at 0 and divide by 1 - beta**(k + 1), as the exercise says; an average started "
                "at the first loss without correction gives other values in the first updates, where the pick "
                "can fall."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(_smooth(ls, beta, swap=True))),
                "beta and 1 - beta are swapped: the average keeps beta of its old value, "
                "average = beta * average + (1 - beta) * loss."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmax(_smooth(ls, beta))),
                "argmax finds the highest loss (the blow-up); the pick is below the *lowest* loss: np.argmin."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(_smooth(ls, beta)) + 1),
                "one index too far: the rate at the lowest smoothed loss is rates[np.argmin(smoothed)]."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(_smooth(ls, beta)) - 1),
                "one index too early: the rate at the lowest smoothed loss is rates[np.argmin(smoothed)]."),
        Mistake(lambda r, ls, beta=0.9: float(np.min(_smooth(ls, beta)) / 10),
                "that is a tenth of the lowest *loss*; return a tenth of the *rate* where the loss is lowest: "
                "rates[np.argmin(smoothed)] / 10."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(_smooth(ls, beta)), 100),
                "a decade below is a tenth, not a hundredth, of the lowest-loss rate."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(np.gradient(_smooth(ls, beta)))),
                "that is a tenth of the steepest point; the exercise asks for a tenth of the rate at the lowest "
                "smoothed loss."),
        Mistake(lambda r, ls, beta=0.9: float(np.argmin(_smooth(ls, beta)) / 10),
                "that is the *index* of the lowest smoothed loss divided by 10; return a tenth of the rate at that "
                "index: rates[index] / 10."),
        Mistake(lambda r, ls, beta=0.9: float(np.asarray(r)[0] / 10),
                "that is a tenth of the first rate of the test; find the rate where the smoothed loss is lowest."),
        Mistake(lambda r, ls, beta=0.9: at(r, np.argmin(_smooth(ls, 0.9))),
                "use the `beta` you are given, not a fixed 0.9."),
    ])


# --------------------------------------------------------------------------- exercise 2: clip by global norm
def _clip(grads, clip_norm):
    grads = [np.asarray(g, dtype=np.float64) for g in grads]
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
    scale = clip_norm / max(norm, clip_norm)
    return [g * scale for g in grads], norm


def _clip_cases():
    rng = np.random.default_rng(21)
    return [([rng.normal(size=(3, 2)), rng.normal(size=2)], 0.5),
            ([np.array([3.0]), np.array([4.0])], 1.0),
            ([np.array([0.3, -0.4])], 10.0),
            ([rng.normal(size=(4, 4)) * 5, rng.normal(size=4), rng.normal(size=(4, 1))], 2.0),
            ([np.array([1.0, 2.0, 2.0]), np.array([[0.5, -0.5]])], 3.5),
            ([rng.normal(size=5) * 0.01, rng.normal(size=(2, 3)) * 0.01], 1.0)]


def _with(grads, scales, norm):
    return [np.asarray(g, dtype=np.float64) * s for g, s in zip(grads, scales)], norm


def check_clip_by_global_norm(clip_by_global_norm):
    """Exercise 2: ``(clipped, norm)`` as ``tf.clip_by_global_norm`` returns them."""
    def norms(grads):
        return [float(np.linalg.norm(np.asarray(g, dtype=np.float64))) for g in grads]

    def total(grads):
        return math.sqrt(sum(n * n for n in norms(grads)))

    check_function(clip_by_global_norm, _clip, _clip_cases(), name="clip_by_global_norm",
                   names=("clipped", "norm"), mistakes=[
        Mistake(lambda g, c: _with(g, [c / max(n, c) for n in norms(g)], total(g)),
                "each array was clipped to its own norm (that is `clipnorm`); scale *all* arrays by one factor, "
                "c / max(global_norm, c), so the update keeps its direction."),
        Mistake(lambda g, c: ([np.clip(np.asarray(x, dtype=np.float64), -c, c) for x in g], total(g)),
                "np.clip clips each element (that is `clipvalue`); global clipping rescales all arrays together."),
        Mistake(lambda g, c: _with(g, [c / total(g)] * len(g), total(g)),
                "a gradient already inside the limit must stay as it is: scale by c / max(norm, c), not c / norm."),
        Mistake(lambda g, c: _with(g, [c / max(total(g) ** 2, c)] * len(g), total(g) ** 2),
                "the global norm is the square root of the sum of squares: math.sqrt(sum(np.sum(g**2) ...)))."),
        Mistake(lambda g, c: _with(g, [c / max(sum(norms(g)), c)] * len(g), sum(norms(g))),
                "the global norm is not the sum of the arrays' norms; it is sqrt of the sum of their *squared* "
                "norms."),
        Mistake(lambda g, c: _with(g, [c / max(max(norms(g)), c)] * len(g), max(norms(g))),
                "the largest array's norm is not the global norm: add the squares of every element of every array, "
                "then take the square root."),
        Mistake(lambda g, c: _with(g, [c / max(total(g), c)] * len(g), min(total(g), c)),
                "return the norm measured *before* clipping (as tf.clip_by_global_norm does), not after."),
        Mistake(lambda g, c: _with(g, [max(total(g), c) / c] * len(g), total(g)),
                "the factor is upside down: c / max(norm, c) shrinks the gradients; max(norm, c) / c blows them up."),
        Mistake(lambda g, c: _with(g, [min(total(g), c) / total(g) if total(g) else 1.0] * len(g),
                                   math.sqrt(sum(float(np.mean(np.asarray(x, dtype=np.float64) ** 2)) for x in g))),
                "np.mean of the squares divides by the number of elements; the norm uses np.sum."),
        Mistake(lambda g, c: _with(g, [c / max(math.sqrt(sum(float(np.mean(np.asarray(x, dtype=np.float64) ** 2))
                                                              for x in g)), c)] * len(g),
                                   math.sqrt(sum(float(np.mean(np.asarray(x, dtype=np.float64) ** 2)) for x in g))),
                "np.mean of the squares divides by the number of elements; the norm uses np.sum."),
    ])


# --------------------------------------------------------------------------- exercise 3: AdamW, not Adam + L2
def _adam(w, g, m, v, step, lr, beta_1, beta_2, epsilon, bias_step=None, eps_inside=False, v_from_g=False,
          no_root=False):
    t = step + 1 if bias_step is None else bias_step
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * (g if v_from_g else g * g)
    with np.errstate(all="ignore"):   # t = 0 (a mistake's count) gives 0/0, as the student's numpy would
        correction = np.float64(1 - beta_2 ** t)
        alpha = lr * (correction if no_root else np.sqrt(correction)) / np.float64(1 - beta_1 ** t)
        root = np.sqrt(v + epsilon) if eps_inside else np.sqrt(v) + epsilon
        return w - alpha * m / root, m, v


def _adamw(w, g, m, v, step, learning_rate, weight_decay, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    w, g, m, v = (np.asarray(a, dtype=np.float64) for a in (w, g, m, v))
    w = w - w * weight_decay * learning_rate
    return _adam(w, g, m, v, step, learning_rate, beta_1, beta_2, epsilon)


def _adamw_cases():
    rng = np.random.default_rng(31)
    cases = []
    for step, lr, wd in [(0, 0.1, 0.5), (3, 0.01, 0.1), (10, 0.05, 0.04), (0, 0.2, 1.0), (99, 0.001, 0.01)]:
        w, g = rng.normal(size=4), rng.normal(size=4)
        m, v = (np.zeros(4), np.zeros(4)) if step == 0 else (0.1 * rng.normal(size=4), 0.1 * rng.random(4))
        cases.append((w, g, m, v, step, lr, wd))
    cases.append(((rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), np.zeros((2, 3)), np.zeros((2, 3)), 0, 0.3,
                   0.2), {"beta_1": 0.5, "beta_2": 0.9}))
    return cases


def check_adamw_update(adamw_update):
    """Exercise 3: one step of Keras's AdamW (decoupled weight decay, then Adam)."""
    def f(w, g, m, v, step, lr, wd, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        return [np.asarray(a, dtype=np.float64) for a in (w, g, m, v)] + [step, lr, wd, beta_1, beta_2, epsilon]

    def adam_after(w, g, m, v, step, lr, wd, b1, b2, eps):
        new_w, m2, v2 = _adam(w, g, m, v, step, lr, b1, b2, eps)
        return new_w - new_w * wd * lr, m2, v2

    # atol 1e-5: the paper's form (m̂ / (sqrt(v̂) + epsilon)) differs from Keras's (epsilon outside the bias
    # correction) by about learning_rate * epsilon / |g|, and is right too.
    check_function(adamw_update, _adamw, _adamw_cases(), name="adamw_update", names=("w", "m", "v"), atol=1e-5,
                   mistakes=[
        Mistake(lambda *a, **k: (lambda w, g, m, v, s, lr, wd, b1, b2, e: _adam(w, g + wd * w, m, v, s, lr, b1, b2,
                                                                                e))(*f(*a, **k)),
                "that is Adam + L2: the decay went into the gradient (g + weight_decay * w) and through Adam's "
                "division by sqrt(v). AdamW shrinks the weight itself first: w = w - w * weight_decay * "
                "learning_rate, then the Adam step with the unchanged gradient."),
        Mistake(lambda *a, **k: (lambda w, g, m, v, s, lr, wd, b1, b2, e: _adam(w, g + 2 * wd * w, m, v, s, lr, b1,
                                                                                b2, e))(*f(*a, **k)),
                "that is Adam + L2 with the penalty's gradient 2 * l2 * w added to g; AdamW decays the weight "
                "directly (w - w * weight_decay * learning_rate) and leaves the gradient alone."),
        Mistake(lambda *a, **k: adam_after(*f(*a, **k)),
                "the decay comes first in Keras: shrink w, then take the Adam step from the shrunk w."),
        Mistake(lambda *a, **k: (lambda w, g, m, v, s, lr, wd, b1, b2, e: _adam(w * (1 - wd), g, m, v, s, lr, b1, b2,
                                                                                e))(*f(*a, **k)),
                "the decay is scaled by the learning rate: w - w * weight_decay * learning_rate."),
        Mistake(lambda *a, **k: (lambda w, g, m, v, s, lr, wd, b1, b2, e: _adam(w, g, m, v, s, lr, b1, b2,
                                                                                e))(*f(*a, **k)),
                "the weight decay is missing: shrink w by w * weight_decay * learning_rate before the Adam step."),
        Mistake(lambda *a, **k: (lambda w, g, m, v, s, lr, wd, b1, b2, e: _adam(w - w * wd * lr, g, m, v, s, lr, b1,
                                                                                b2, e, bias_step=s))(*f(*a, **k)),
                "the bias correction counts updates from 1: use step + 1 in 1 - beta**t (the first update has "
                "step = 0)."),
        Mistake(lambda *a, **k: (lambda w, g, m, v, s, lr, wd, b1, b2, e: _adam(w - w * wd * lr, g, m, v, s, lr, b1,
                                                                                b2, e, bias_step=s + 2))(*f(*a, **k)),
                "one update too many in the bias correction: t = step + 1."),
        Mistake(lambda *a, **k: (lambda w, g, m, v, s, lr, wd, b1, b2, e: _adam(w - w * wd * lr, g, m, v, s, lr, b1,
                                                                                b2, e, eps_inside=True))(*f(*a, **k)),
                "epsilon went inside the square root: Keras adds it outside, sqrt(v) + epsilon (lesson 08's table "
                "of where each framework puts epsilon); sqrt(v + epsilon) differs where v is small."),
        Mistake(lambda *a, **k: (lambda w, g, m, v, s, lr, wd, b1, b2, e: _adam(w - w * wd * lr, g, m, v, s, lr, b1,
                                                                                b2, e, v_from_g=True))(*f(*a, **k)),
                "v averages the *squared* gradient: v = beta_2 * v + (1 - beta_2) * g * g, not g."),
        Mistake(lambda *a, **k: (lambda w, g, m, v, s, lr, wd, b1, b2, e: _adam(w - w * wd * lr, g, m, v, s, lr, b1,
                                                                                b2, e, no_root=True))(*f(*a, **k)),
                "alpha takes the square root of v's correction: learning_rate * sqrt(1 - beta_2**t) / "
                "(1 - beta_1**t), because v is a square."),
    ])


# --------------------------------------------------------------------------- exercise 4: log-uniform draws
def _log_uniform(low, high, size, rng):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def _log_cases():
    return [(1e-4, 1.0, 5, np.random.default_rng(0)), (1e-3, 10.0, 8, np.random.default_rng(1)),
            (0.5, 2.0, 3, np.random.default_rng(2)), (1e-6, 1e-2, 6, np.random.default_rng(3))]


def check_sample_log_uniform(sample_log_uniform):
    """Exercise 4: ``size`` draws, uniform in ``log`` between ``low`` and ``high``, from ``rng``."""
    check_function(sample_log_uniform, _log_uniform, _log_cases(), name="sample_log_uniform", mistakes=[
        Mistake(lambda lo, hi, n, rng: rng.uniform(lo, hi, n),
                "that is uniform in the values themselves: almost every draw lands in the top decade. Draw the "
                "*logarithm* of each number uniformly (between the logarithms of low and high), then come back from "
                "the logarithm to the number."),
        Mistake(lambda lo, hi, n, rng: rng.uniform(np.log(lo), np.log(hi), n),
                "these are the logarithms of the draws: apply np.exp to come back to the rates."),
        Mistake(lambda lo, hi, n, rng: np.exp(rng.uniform(lo, hi, n)),
                "draw between np.log(low) and np.log(high), then exponentiate; np.exp of a draw between low and "
                "high is not in the range."),
        Mistake(lambda lo, hi, n, rng: np.log(rng.uniform(lo, hi, n)),
                "np.log and np.exp are the wrong way round: draw in the logarithms, then go back with the inverse "
                "of the logarithm."),
        Mistake(lambda lo, hi, n, rng: np.exp(rng.uniform(np.log(hi), np.log(lo), n)),
                "low and high are swapped: rng.uniform(np.log(low), np.log(high), size)."),
        Mistake(lambda lo, hi, n, rng: np.geomspace(lo, hi, n),
                "np.geomspace is a grid, the same values every time; the search needs random draws from `rng`."),
        Mistake(lambda lo, hi, n, rng: np.sort(np.exp(rng.uniform(np.log(lo), np.log(hi), n))),
                "the draws were sorted; keep them in the order they were drawn."),
        Mistake(lambda lo, hi, n, rng: 10 ** rng.uniform(lo, hi, n),
                "draw the exponent between np.log10(low) and np.log10(high) if you use 10 **, not between low "
                "and high."),
        Mistake(lambda lo, hi, n, rng: 10 ** rng.uniform(np.log(lo), np.log(hi), n),
                "two bases mixed: the exponent was drawn between natural logarithms (np.log) but raised as a power "
                "of 10, so the draws fall outside [low, high]. Go back with the inverse of the logarithm you drew "
                "in: np.exp after np.log, 10 ** after np.log10."),
        Mistake(lambda lo, hi, n, rng: np.exp(rng.uniform(np.log10(lo), np.log10(hi), n)),
                "two bases mixed: the exponent was drawn between base-10 logarithms (np.log10) but undone with "
                "np.exp, so for some ranges the draws fall outside [low, high], and the decades get unequal shares. "
                "Go back with the inverse of the logarithm you drew in: np.exp after np.log, 10 ** after np.log10."),
        Mistake(lambda lo, hi, n, rng: np.exp(rng.uniform(np.log(lo), np.log(hi), n - 1)),
                "one draw too few: return `size` draws."),
        Mistake(lambda lo, hi, n, rng: np.exp(rng.uniform(np.log(lo), np.log(hi), n + 1)),
                "one draw too many: return `size` draws."),
    ])


# --------------------------------------------------------------------------- predictions
#: Twice the lowest-loss rate of the lesson's range test (2 x 0.7391), the rate of its run that stalls.
TWICE_THE_LOWEST = 2 * 0.7390722033525783


def _weight_gap(a, b):
    return max(float(np.max(np.abs(u - v))) for la, lb in zip(a.params, b.params) for u, v in zip(la.values(),
                                                                                               lb.values()))


def check_l2_with_momentum(answer):
    """Prediction 1: with momentum 0.9, is SGD + L2(0.005) the same run as SGD with weight_decay=0.01?"""
    def run():
        data = load_digits(seed=0)
        x, y = data.x_train[:256].astype(np.float64), data.y_train[:256]
        net = MLP((64, 16, 10), activation="relu")
        lines = []
        for momentum in (0.0, 0.9):
            l2_run = train(net.loss_and_grad, net.init(0), x, y, SGD(0.1, momentum=momentum), steps=200, l2=0.005)
            for wd in (0.01, 0.1) if momentum else (0.01,):
                other = train(net.loss_and_grad, net.init(0), x, y, SGD(0.1, momentum=momentum, weight_decay=wd),
                              steps=200)
                lines.append(f"  momentum {momentum}: SGD + L2(0.005) against weight_decay={wd}: largest weight "
                             f"difference after 200 steps {_weight_gap(l2_run, other):.1e}")
        return "\n".join(lines)

    check_prediction(answer, name="l2_with_momentum", choices=("the same run", "different runs"),
                     correct="different runs",
                     explanation="with momentum the L2 gradient 2 * l2 * w goes into the velocity, v = m * v - lr * "
                                 "(g + 2 * l2 * w), so each step's pull towards 0 is carried into the next steps "
                                 "and grows to about 1 / (1 - m) = 10 times its size; Keras's weight_decay shrinks "
                                 "w directly, w - w * weight_decay * lr, once per step and outside the velocity. "
                                 "Only without momentum are the two the same (weight_decay = 2 * l2); with it they "
                                 "are different methods: neither 0.01 nor 0.1 gives the same run (below).",
                     evidence=run)


def check_warmup_instead_of_clipping(answer):
    """Prediction 2: the lesson's stalling rate with a 100-update linear warm-up instead of clipping."""
    def run():
        data = load_digits(seed=0)
        x, y = data.x_train.astype(np.float64), data.y_train
        net = MLP((64, 64, 32, 10), activation="relu")
        rate = TWICE_THE_LOWEST
        out = train(accumulate(net.loss_and_grad), net.init(0), x, y,
                    SGD(lambda k: rate * min(1.0, (k + 1) / 100)), steps=800, eval_every=200)
        dead = [np.mean(layer["out"].max(axis=0) == 0) for layer in net.forward(out.params, x)[1][:2]]
        spike = int(np.argmax(out.batch_losses))
        return (f"  training loss at steps {out.eval_steps.tolist()}: {np.round(out.train_loss, 4).tolist()}\n"
                f"  highest batch loss {out.batch_losses[spike]:.1f} at update {spike}, when the rate was "
                f"{rate * min(1.0, (spike + 1) / 100):.3f}\n"
                f"  ln 10 = {math.log(10):.4f}; ReLU units 0 on every image: layer 1 {dead[0]:.0%}, "
                f"layer 2 {dead[1]:.0%}")

    check_prediction(answer, name="warmup_instead_of_clipping",
                     choices=("trains well", "stuck near ln 10", "overflows to NaN"), correct="stuck near ln 10",
                     explanation="the warm-up reaches the full rate at update 100 whatever the gradients are; the "
                                 "clipped run was still clipping most of its steps then (its gradients were still "
                                 "above 0.5), and it keeps clipping the rare large gradients later on. Without the "
                                 "clip, the first large gradient at the full rate throws the weights into a spike "
                                 "that leaves the second layer's ReLU units at 0 for every image, as in the lesson's "
                                 "unclipped run, and the loss stays at about ln 10. A fixed schedule cannot react "
                                 "to the gradient; the clip does.",
                     evidence=run)
