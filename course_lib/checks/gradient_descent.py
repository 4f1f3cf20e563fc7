"""Checks for the exercises of lesson 01, gradient descent.

Each check carries a catalogue of typical wrong answers, written as a student would write
them; an entry is named only when it reproduces the student's answer on every input.
"""

import copy

import numpy as np

from ..descent import linear_mse, minimize
from ..objectives import SEED_LOSS
from ..optimizers import SGD
from . import CheckFailed, Mistake, check_function, check_prediction, describe, failure_message, quietly

__all__ = ["check_loss_grad", "check_sgd_step", "check_descend", "check_minibatches", "check_mse_grad",
           "check_tf2_descent", "check_half_step", "check_bias_gradient"]


def check_loss_grad(loss_grad):
    """Exercise 1: the derivative of ``loss = (w + 1)**2``."""
    cases = [(5.0,), (2.6,), (-1.0,), (0.0,), (np.array([5.0, -3.0, 0.5]),)]
    check_function(loss_grad, lambda w: 2 * w + 2, cases, name="loss_grad", factors={"2": 2}, mistakes=[
        Mistake(lambda w: 2 * w, "the derivative of (w + 1)**2 is 2*(w + 1) = 2w + 2: the +2 is missing."),
        Mistake(lambda w: w + 1, "the power rule brings down a factor 2: d/dw (w + 1)**2 = 2*(w + 1)."),
        Mistake(lambda w: (w + 1) ** 2, "that is the loss itself; the exercise asks for its derivative."),
        Mistake(lambda w: 2 * w + 1, "the chain rule gives 2*(w + 1) = 2w + 2, not 2w + 1."),
        Mistake(lambda w: -2 * (w + 1), "the sign is flipped: the loss grows for w > -1, so its derivative "
                                        "there is positive, 2*(w + 1)."),
        Mistake(lambda w: 2 * (w + 1) ** 2, "the power rule lowers the power by one: d/dw (w + 1)**2 = "
                                            "2*(w + 1)**1, not 2*(w + 1)**2."),
        Mistake(lambda w: 2 * (w - 1), "the minimum is at w = -1, so the derivative is 2*(w + 1); "
                                       "2*(w - 1) is the derivative of (w - 1)**2."),
        Mistake(lambda w: ((w + 1e-3 + 1) ** 2 - (w + 1) ** 2) / 1e-3,
                "a finite difference with h = 1e-3 is off by h: write the exact derivative 2*(w + 1)."),
        Mistake(lambda w: np.floor(2 * (w + 1)), "the answer was rounded down to a whole number (int() or //): "
                                                 "keep the float, 2*(w + 1)."),
        Mistake(lambda w: 2 * (w + 2), "2*(w + 2) = 2w + 4; the derivative is 2*(w + 1) = 2w + 2."),
        Mistake(lambda w: 2 * w ** 2 + 2, "that differentiates w**2 + 2w as 2w**2 + 2: the derivative of "
                                          "(w + 1)**2 = w**2 + 2w + 1 is 2w + 2."),
    ])


_IGNORES_GRAD = ("the result does not depend on the `grad` argument (two different gradients gave the same new "
                 "weight): use the gradient you are given, `w - learning_rate * grad`. The check passes gradients that "
                 "are not 2*(w + 1) (sgd_step is one update for any loss), so `loss_grad(w)` inside it is wrong.")


def _ignores_grad(sgd_step):
    """(call text, returned text) when ``sgd_step`` gives the same weight for two different gradients, else None."""
    w, lr = np.array([1.0, -2.0]), 0.1
    grads = (np.array([0.5, 4.0]), np.array([-3.0, 1.0]))
    try:
        with quietly():
            first, second = (np.asarray(sgd_step(w.copy(), g.copy(), lr), dtype=float) for g in grads)
        same = first.shape == second.shape and np.allclose(first, second)
    except Exception:  # whatever the student's answer does, this only decides whether the hint fits
        return None
    if not same:
        return None
    return ("sgd_step([1., -2.], [0.5, 4.], 0.1) and sgd_step([1., -2.], [-3., 1.], 0.1)",
            f"{describe(first)} both times")


def check_sgd_step(sgd_step):
    """Exercise 2: one gradient-descent update, ``w - learning_rate * grad``."""
    try:
        _check_sgd_step(sgd_step)
    except CheckFailed as failure:
        if (failure.hint is None or failure.by_mutant) and callable(sgd_step) \
                and (ignored := _ignores_grad(sgd_step)) is not None:
            details = [("called as", ignored[0]), ("returned", ignored[1]),
                       ("expected", "[0.95, -2.4] and [1.3, -2.1]: w - learning_rate * grad")]
            raise CheckFailed(failure_message("sgd_step is wrong", _IGNORES_GRAD, details), _IGNORES_GRAD) from None
        raise


def _check_sgd_step(sgd_step):
    cases = [(5.0, 12.0, 0.2), (2.6, 7.2, 0.2), (5.0, 12.0, 0.001), (np.array([1.0, -2.0]), np.array([0.5, 4.0]), 0.1),
             (-3.0, 0.5, 0.5)]
    check_function(sgd_step, lambda w, g, lr: w - lr * g, cases, name="sgd_step",
                   factors={"the learning rate": lambda w, g, lr: lr}, mistakes=[
        Mistake(lambda w, g, lr: w + lr * g, "you moved *up* the gradient: descent subtracts, w - lr * grad."),
        Mistake(lambda w, g, lr: w - g, "the learning rate is missing: the step is lr * grad, not grad."),
        Mistake(lambda w, g, lr: -lr * g, "you returned the step (-lr * grad), not the new weight w - lr * grad."),
        Mistake(lambda w, g, lr: g, "you returned the gradient; return the new weight w - lr * grad."),
        Mistake(lambda w, g, lr: w - lr * lr * g, "the learning rate is applied twice."),
        Mistake(lambda w, g, lr: w - 2 * lr * g, "an extra factor 2: the 2 of the derivative is already in the "
                                                 "gradient you are given; the update is w - lr * grad."),
        Mistake(lambda w, g, lr: g - lr * w, "w and grad are swapped: the arguments come in the order "
                                             "(w, grad, learning_rate)."),
        Mistake(lambda w, g, lr: (w - lr) * g, "brackets: (w - lr) * grad multiplies the difference by the "
                                               "gradient; the update is w - lr * grad."),
        Mistake(lambda w, g, lr: w - lr / g, "the step is lr times the gradient, lr * grad, not lr / grad."),
        Mistake(lambda w, g, lr: w * (1 - lr * g), "that scales w by (1 - lr * grad); the update subtracts "
                                                   "lr * grad from w: w - lr * grad."),
        Mistake(lambda w, g, lr: w - lr * w, "the step uses the gradient, not the weight: w - lr * grad."),
        Mistake(lambda w, g, lr: w - lr - g, "the learning rate multiplies the gradient: w - lr * grad, "
                                             "not w - lr - grad."),
        Mistake(lambda w, g, lr: w - g / lr, "the gradient was divided by the learning rate; multiply: "
                                             "w - lr * grad."),
    ])


def _descend_reference(w0, learning_rate, steps):
    return minimize(SEED_LOSS, np.float32(w0), SGD(learning_rate), steps).params


def _descend_variant(w0, lr, steps, grad=lambda w: 2 * (w + 1), update=lambda w, lr, g: w - lr * g,
                     record_before=False):
    """The float32 loop a student writes, with one ingredient changed (for the catalogue)."""
    w, lr = np.float32(w0), np.float32(lr)
    out = [w]
    for _ in range(steps):
        new = update(w, lr, np.float32(grad(w)))
        out.append(w if record_before else new)
        w = new
    return np.array(out, dtype=np.float32)


def check_descend(descend):
    """Exercise 3: ``steps`` updates on ``(w + 1)**2`` in float32, returning every weight from w0 on
    as a numpy array of dtype float32 (the values are checked first, then the type)."""
    _check_descend_values(descend)
    out = descend(5.0, 0.2, 1)
    details = [("called as", "descend(5.0, 0.2, 1)"), ("returned", f"{_kind(out)}: {describe(out)}")]
    dtype = np.asarray(out).dtype
    if dtype != np.float32:
        w1 = np.asarray(out)[1]
        hint = (f"the weights are {dtype}, not float32: start from `np.float32(w0)` and use "
                "`np.float32(learning_rate)` (a Python number such as `w = w0` or `float(w0)` computes in float64). "
                "The tutorial's table is float32, and the difference shows in its first row:")
        ref = _descend_reference(5.0, 0.2, 1)[1]
        details.append(("first row", f"yours: w is {w1:f}, loss is {(w1 + 1) ** 2:f}; in float32: w is "
                                     f"{ref:f}, loss is {SEED_LOSS(ref):f}"))
        raise CheckFailed(failure_message("descend is wrong", hint, details), hint)
    if not isinstance(out, np.ndarray):
        hint = ("the values and the float32 are right, but the exercise asks for a numpy array: "
                "`return np.array(weights, dtype=np.float32)`.")
        raise CheckFailed(failure_message("descend is wrong", hint, details), hint)
    print("✓ descend is correct on 5 inputs (a float32 array of steps + 1 weights).")


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _check_descend_values(descend):
    cases = [(5.0, 0.2, 4), (5.0, 0.2, 40), (5.0, 0.001, 10), (-3.0, 0.5, 3), (2.0, 0.1, 6)]

    def updates_from_start(w0, lr, steps):  # w0 repeated: the weight never changes
        return np.full(steps + 1, w0, dtype=np.float32)

    check_function(descend, _descend_reference, cases, name="descend", rtol=1e-6, atol=1e-6, quiet=True, mistakes=[
        Mistake(lambda w0, lr, s: _descend_reference(w0, lr, s)[1:],
                "the list should start with w0 itself, then hold the weight after each of the `steps` updates "
                "(steps + 1 values)."),
        Mistake(lambda w0, lr, s: _descend_reference(w0, lr, s + 1),
                "one update too many: `range(steps)` runs exactly `steps` updates."),
        Mistake(lambda w0, lr, s: _descend_reference(w0, lr, s - 1) if s > 0 else None,
                "one update too few: the result should hold `steps` updates after w0."),
        Mistake(updates_from_start, "the weight never changes: assign the new weight back (w = w - lr * grad) "
                                    "before computing the next gradient."),
        Mistake(lambda w0, lr, s: np.float32(w0) - np.arange(s + 1) * np.float32(lr * (2 * w0 + 2)),
                "the gradient was computed once at w0 and reused: compute it again at the current w every step."),
        Mistake(lambda w0, lr, s: _descend_variant(w0, lr, s, update=lambda w, lr, g: w + lr * g),
                "the weight moves *up* the gradient: descent subtracts, w = w - lr * grad."),
        Mistake(lambda w0, lr, s: _descend_variant(w0, lr, s, update=lambda w, lr, g: w - g),
                "the learning rate is missing from the update: w = w - lr * grad."),
        Mistake(lambda w0, lr, s: _descend_variant(w0, lr, s, grad=lambda w: w + 1),
                "the gradient of (w + 1)**2 is 2*(w + 1): the factor 2 is missing."),
        Mistake(lambda w0, lr, s: _descend_variant(w0, lr, s, grad=lambda w: (w + 1) ** 2),
                "each step used the loss (w + 1)**2 instead of its gradient 2*(w + 1)."),
        Mistake(lambda w0, lr, s: _descend_variant(w0, lr, s, record_before=True),
                "each weight was recorded before its update (the list repeats w0 and misses the last weight): "
                "append w after `w = w - lr * grad`."),
        Mistake(lambda w0, lr, s: _descend_reference(w0, lr, s)[-1],
                "return every weight (w0, then one per update), not only the last one."),
        Mistake(lambda w0, lr, s: _descend_variant(w0, lr, s, grad=lambda w: 2 * w),
                "the gradient of (w + 1)**2 is 2*(w + 1); 2*w is the gradient of w**2 (its minimum is at 0, not -1)."),
        Mistake(lambda w0, lr, s: np.concatenate([[np.float32(w0)], 2 * (_descend_reference(w0, lr, s)[:-1] + 1)]),
                "after w0 the list holds the gradients: append the new weight w, not the gradient."),
        Mistake(lambda w0, lr, s: _descend_reference(w0, lr, 2 * s)[::2],
                "two updates per pass of the loop: each of the `steps` passes should apply one update."),
        Mistake(lambda w0, lr, s: (_descend_reference(w0, lr, s) + 1) ** 2,
                "those are the losses (w + 1)**2; return the weights w."),
        Mistake(lambda w0, lr, s: _descend_variant(w0, lr, s, update=lambda w, lr, g: np.float32(int(w - lr * g))),
                "the weight was kept a whole number (int(...) or an integer start): keep it a float, np.float32(w0)."),
        Mistake(lambda w0, lr, s: np.full(s + 1, _descend_reference(w0, lr, s)[-1]),
                "every entry is the final weight: the loop changed one array in place (`w -= ...`) and appended "
                "that same array each time; write `w = w - lr * grad`, which makes a new value."),
    ])


def _minibatches_reference(n, batch_size, rng):
    perm = rng.permutation(n)
    return [perm[i:i + batch_size] for i in range(0, n, batch_size)]


def check_minibatches(minibatches):
    """Exercise 4: shuffle the indices ``0..n-1`` once with ``rng`` and cut them into batches."""

    def as_list(n, batch_size, rng):
        out = minibatches(n, batch_size, rng)
        return list(out) if hasattr(out, "__iter__") and not isinstance(out, (np.ndarray, str, dict)) else out

    as_list.__name__ = getattr(minibatches, "__name__", "minibatches")
    cases = [(10, 3, np.random.default_rng(0)), (8, 4, np.random.default_rng(1)), (5, 5, np.random.default_rng(2)),
             (7, 1, np.random.default_rng(3)), (9, 2, np.random.default_rng(4))]
    try:
        _check_minibatches(as_list, cases)
    except CheckFailed as failure:
        hint = None
        own = None if failure.by_mutant else failure.hint   # the check's own shuffle hints come before a mutant's
        if own is None and all(_same_sets(as_list, n, b, rng) for n, b, rng in cases):
            hint = _INNER_ORDER
        elif own is None and all(_is_other_shuffle(as_list, n, b, rng) for n, b, rng in cases):
            hint = _OTHER_SHUFFLE
        elif own is None and all(_is_other_shuffle(as_list, n, b, rng, sizes=None) for n, b, rng in cases) \
                and not all(_is_other_shuffle(as_list, n, b, rng) for n, b, rng in cases):
            hint = _OTHER_SIZES
        if hint:
            n, b, rng = cases[0]
            details = [("called as", f"minibatches({n}, {b}, rng)"),
                       ("returned", describe(as_list(n, b, copy.deepcopy(rng)))),
                       ("expected", describe(_minibatches_reference(n, b, copy.deepcopy(rng))))]
            raise CheckFailed(failure_message("minibatches is wrong", hint, details), hint) from None
        raise


_OTHER_SHUFFLE = ("the batches are a shuffle of 0..n-1 with the right sizes, but not the one `rng` gives: use the "
                  "`rng` argument, `rng.permutation(n)`, once (not np.random or a new generator).")


_INNER_ORDER = ("each batch holds the right indices, but some in another order: keep the shuffled order inside every "
                "batch (no sorting).")


def _same_sets(as_list, n, batch_size, rng):
    try:
        batches = as_list(n, batch_size, copy.deepcopy(rng))
        reference = _minibatches_reference(n, batch_size, copy.deepcopy(rng))
        return len(batches) == len(reference) and all(
            sorted(np.asarray(b).tolist()) == sorted(r.tolist()) for b, r in zip(batches, reference))
    except Exception:  # whatever the student's answer does, this only decides whether the hint fits
        return False


_OTHER_SIZES = ("every index appears once, but the batches have other sizes: each batch holds batch_size indices "
                "and only the last may be smaller, `order[start:start + batch_size]` for start in "
                "range(0, n, batch_size).")


def _is_other_shuffle(as_list, n, batch_size, rng, sizes=True):
    try:
        batches = as_list(n, batch_size, copy.deepcopy(rng))
        flat = np.concatenate([np.asarray(b) for b in batches])
    except Exception:  # whatever the student's answer does, this only decides whether the hint fits
        return False
    expected = [min(batch_size, n - i) for i in range(0, n, batch_size)]
    same_sizes = [len(b) for b in batches] == expected
    return (sizes is None or same_sizes) and np.array_equal(np.sort(flat), np.arange(n))


def _check_minibatches(as_list, cases):
    check_function(as_list, _minibatches_reference, cases, name="minibatches", mistakes=[
        Mistake(lambda n, b, rng: [np.arange(n)[i:i + b] for i in range(0, n, b)],
                "the indices are not shuffled: use `rng.permutation(n)` once per epoch."),
        Mistake(lambda n, b, rng: _minibatches_reference(n, b, rng)[: n // b],
                "the last, smaller batch is missing: when n is not a multiple of batch_size, keep the remainder "
                "as a final batch (Keras does)."),
        Mistake(lambda n, b, rng: [rng.permutation(n)[:b] for _ in range(0, n, b)],
                "each batch was drawn from a new permutation, so some examples repeat and others are skipped: "
                "shuffle once, then slice."),
        Mistake(lambda n, b, rng: [rng.permutation(n)[i:i + b] for i in range(0, n, b)],
                "`rng.permutation(n)` runs again for every batch, so each batch is cut from another shuffle (the "
                "first batch is right, later ones repeat some examples and skip others): shuffle once, "
                "`order = rng.permutation(n)` before the loop, then slice `order`."),
        Mistake(lambda n, b, rng: [np.sort(x) for x in _minibatches_reference(n, b, rng)],
                "the batches hold the right examples but sorted: keep the shuffled order."),
        Mistake(lambda n, b, rng: [p[i:i + b - 1] for p in [rng.permutation(n)] for i in range(0, n, b)],
                "a slice's end is exclusive: perm[start:start + batch_size] already holds batch_size indices "
                "(no - 1)."),
        Mistake(lambda n, b, rng: [p[i:i + b] for p in [rng.permutation(n)] for i in range(n)],
                "the batches overlap: step the start by batch_size, `range(0, n, batch_size)`."),
        Mistake(lambda n, b, rng: [p[i:i + b] for p in [rng.choice(n, n)] for i in range(0, n, b)],
                "rng.choice(n, n) draws with replacement, so some indices repeat: use rng.permutation(n)."),
        Mistake(lambda n, b, rng: list(np.array_split(rng.permutation(n), b)),
                "np.array_split(perm, k) cuts k batches; the exercise wants batches *of* batch_size: "
                "perm[start:start + batch_size]."),
        Mistake(lambda n, b, rng: _minibatches_reference(b, n, rng),
                "n and batch_size are swapped: the arguments come in the order (n, batch_size, rng)."),
        Mistake(lambda n, b, rng: [p[i:i + b] for p in [rng.permutation(b)] for i in range(0, n, b)],
                "shuffle all n indices, rng.permutation(n), not batch_size of them."),
        Mistake(lambda n, b, rng: [x + 1 for x in _minibatches_reference(n, b, rng)],
                "indices count from 0: rng.permutation(n) already gives 0, 1, ..., n-1 (no + 1)."),
        Mistake(lambda n, b, rng: rng.permutation(n),
                "that is the shuffled order in one piece: cut it into a list of batches of batch_size."),
        Mistake(lambda n, b, rng: [p[i:i + b] for p in [rng.permutation(n)] for i in range(0, n - b, b)],
                "range(0, n - batch_size, batch_size) stops one batch early: use range(0, n, batch_size)."),
    ])


def _mse_grad_reference(w, b, x, y):
    grads = linear_mse({"kernel": np.array([[w]]), "bias": np.array([b])}, x[:, None], y[:, None])[1]
    return grads["kernel"].item(), grads["bias"].item()


def check_mse_grad(mse_grad):
    """Exercise 5: gradients of ``mean((w*x + b - y)**2)`` with respect to ``w`` and ``b``."""
    rng = np.random.default_rng(7)
    cases = [(0.0, 0.0, rng.random(5), rng.random(5) * 3 + 2),
             (3.0, 2.0, rng.random(8), rng.random(8)),
             (-1.0, 0.5, rng.normal(size=4), rng.normal(size=4))]

    def err(w, b, x, y):
        return w * x + b - y

    check_function(mse_grad, _mse_grad_reference, cases, name="mse_grad", names=("dL/dw", "dL/db"),
                   factors={"2": 2, "the batch size": lambda w, b, x, y: len(x)}, mistakes=[
        Mistake(lambda w, b, x, y: (np.mean(err(w, b, x, y) * x), np.mean(err(w, b, x, y))),
                "the factor 2 from differentiating the square is missing."),
        Mistake(lambda w, b, x, y: (2 * np.sum(err(w, b, x, y) * x), 2 * np.sum(err(w, b, x, y))),
                "you summed over the examples; the loss is a mean, so divide by the batch size (np.mean)."),
        Mistake(lambda w, b, x, y: (-2 * np.mean(err(w, b, x, y) * x), -2 * np.mean(err(w, b, x, y))),
                "the sign is flipped: with error = prediction - y, dL/dw = 2 * mean(error * x)."),
        Mistake(lambda w, b, x, y: (2 * np.mean(err(w, b, x, y)), 2 * np.mean(err(w, b, x, y))),
                "dL/dw needs the input: 2 * mean(error * x); only dL/db is 2 * mean(error)."),
        Mistake(lambda w, b, x, y: (2 * np.mean(err(w, b, x, y) * x), 2 * np.mean(err(w, b, x, y) * x)),
                "dL/db has no x in it: 2 * mean(error)."),
        Mistake(lambda w, b, x, y: (2 * np.mean(err(w, b, x, y) * x), 2 * np.mean(err(w, b, x, y)) * np.mean(x)),
                "dL/db has no x in it: 2 * mean(error) (d(prediction)/db = 1)."),
        Mistake(lambda w, b, x, y: (np.mean(np.sign(err(w, b, x, y)) * x), np.mean(np.sign(err(w, b, x, y)))),
                "that is the gradient of the mean *absolute* error (np.sign); the squared error gives "
                "2 * mean(error * x) and 2 * mean(error)."),
        Mistake(lambda w, b, x, y: _mse_grad_reference(w, b, x, y)[::-1],
                "the pair is in the wrong order: return (dL/dw, dL/db)."),
        Mistake(lambda w, b, x, y: (2 * np.mean(err(w, b, x, y)) * np.mean(x), 2 * np.mean(err(w, b, x, y))),
                "mean(error * x) is not mean(error) * mean(x): multiply example by example, then average."),
        Mistake(lambda w, b, x, y: (2 * np.mean(w * x + b - y * x), 2 * np.mean(err(w, b, x, y))),
                "brackets: the whole error multiplies x, 2 * mean((w*x + b - y) * x); you multiplied only y by x."),
        Mistake(lambda w, b, x, y: (2 * np.mean(err(w, b, x, y) ** 2 * x), 2 * np.mean(err(w, b, x, y) ** 2)),
                "differentiating the square leaves the error to the first power: 2 * mean(error * x)."),
        Mistake(lambda w, b, x, y: (2 * err(w, b, x, y) * x, 2 * err(w, b, x, y)),
                "average over the batch: np.mean(...) turns the per-example gradients into one number each."),
        Mistake(lambda w, b, x, y: (2 * np.mean(err(w, b, x, y) * x * x), 2 * np.mean(err(w, b, x, y))),
                "dL/dw has x once: the chain rule multiplies the error by d(prediction)/dw = x, "
                "2 * mean(error * x)."),
        Mistake(lambda w, b, x, y: (np.mean(err(w, b, x, y) * x) / 2, np.mean(err(w, b, x, y)) / 2),
                "the power rule multiplies by 2 (d/de e**2 = 2e); you divided by 2."),
        Mistake(lambda w, b, x, y: (2 * np.sum(err(w, b, x, y) * x) / (len(x) - 1),
                                    2 * np.sum(err(w, b, x, y)) / (len(x) - 1)),
                "the mean divides by the number of examples n, not n - 1."),
        Mistake(lambda w, b, x, y: _mse_grad_reference(w, b, y, x),
                "x and y are swapped: the arguments come in the order (w, b, x, y)."),
        Mistake(lambda w, b, x, y: _mse_grad_reference(b, w, x, y),
                "the prediction is w * x + b: w multiplies x and b is added (you swapped them)."),
    ])


def _tf2_variant(steps, learning_rate, grad=lambda w: 2 * (w + 1), w0=5.0):
    """The TensorFlow loop in float32 numpy, with the gradient or the start changed (for the catalogue)."""
    w, lr = np.float32(w0), np.float32(learning_rate)
    for _ in range(steps):
        w = w - lr * np.float32(grad(w))
    return w


def _momentum_run(steps, learning_rate, momentum=0.9):
    w, v, lr = np.float32(5.0), np.float32(0.0), np.float32(learning_rate)
    for _ in range(steps):
        v = np.float32(momentum) * v - lr * np.float32(2 * (w + 1))
        w = w + v
    return w


_INTEGER_VARIABLE = ("`w` is an integer variable ({dtype}, from `tf.Variable(5)`): a tape computes no gradient for "
                     "integers, so `tape.gradient` gave None and `apply_gradients` had nothing to apply. Start from a "
                     "float, `tf.Variable(5.0)`.")
_LOSS_OFF_THE_TAPE = ("the gradient is None although `w` is a float variable: the tape records only what runs inside "
                      "`with tf.GradientTape() as tape:`, so compute the loss there, in every pass of the loop, then "
                      "call `tape.gradient(loss, w)`.")


def _variables_when_raising(fn, args):
    """The dtypes of the tf.Variables in the frames of ``fn(*args)``'s exception (its own code first), or None."""
    try:
        with quietly():
            fn(*args)
    except Exception as exc:  # the student's code: only its frames are read
        dtypes, tb = [], exc.__traceback__
        while tb is not None:
            for value in tb.tb_frame.f_locals.values():
                if "Variable" in type(value).__name__ and hasattr(getattr(value, "dtype", None), "is_integer"):
                    dtypes.append(value.dtype)
            tb = tb.tb_next
        return dtypes
    return None


def check_tf2_descent(tf2_descent):
    """Exercise 6: the seeds' TF1 loop in TensorFlow 2, returning ``w`` after ``steps`` updates.

    "No gradients provided" has two usual causes, told apart by the dtype of the student's variable:
    an integer ``tf.Variable(5)``, or a loss computed outside the tape."""
    try:
        _check_tf2_descent(tf2_descent)
    except CheckFailed as failure:
        if failure.hint and "integers have no gradient" in failure.hint:
            dtypes = _variables_when_raising(tf2_descent, (3,)) or []
            integer = next((d for d in dtypes if d.is_integer), None)
            hint = (_INTEGER_VARIABLE.format(dtype=integer.name) if integer is not None
                    else _LOSS_OFF_THE_TAPE if dtypes else None)
            if hint:
                message = str(failure).replace(failure.hint, hint)
                raise CheckFailed(message, hint) from None
        raise


def _check_tf2_descent(tf2_descent):
    def reference(steps, learning_rate=0.2):
        return _descend_reference(5.0, learning_rate, steps)[-1]

    cases = [(1,), (3,), (20,), ((4,), {"learning_rate": 0.001}), ((2,), {"learning_rate": 0.05})]
    check_function(tf2_descent, reference, cases, name="tf2_descent", rtol=1e-6, atol=1e-6, mistakes=[
        Mistake(lambda steps, learning_rate=0.2: reference(steps + 1, learning_rate),
                "one update too many: the loop should apply exactly `steps` updates."),
        Mistake(lambda steps, learning_rate=0.2: reference(steps - 1, learning_rate),
                "one update too few: the loop should apply exactly `steps` updates."),
        Mistake(lambda steps, learning_rate=0.2: np.float32(5.0),
                "w never changed: call `optimizer.apply_gradients([(grad, w)])` inside the loop, and compute "
                "the loss inside `with tf.GradientTape() as tape:`."),
        Mistake(lambda steps, learning_rate=0.2: -1 + 6 * (1 + 2 * learning_rate) ** steps,  # w += lr * grad
                "w moved away from the minimum: apply the gradient with the optimizer (it subtracts), "
                "do not add it yourself."),
        Mistake(lambda steps, learning_rate=0.2: reference(steps, 0.01),
                "the learning rate was not passed on: `tf.keras.optimizers.SGD(learning_rate=learning_rate)` "
                "(without it, Keras uses its default 0.01)."),
        Mistake(lambda steps, learning_rate=0.2: (reference(steps - 1, learning_rate) + 1) ** 2,
                "you returned the last loss; return the weight, `w.numpy()`."),
        Mistake(lambda steps, learning_rate=0.2: _tf2_variant(steps, learning_rate, grad=lambda w: w + 1),
                "the gradient of (w + 1)**2 is 2*(w + 1): the factor 2 is missing (let the tape compute it)."),
        Mistake(lambda steps, learning_rate=0.2: _tf2_variant(steps, learning_rate, grad=lambda w: 2 * w),
                "the loss is `tf.square(w + 1)`: the + 1 belongs inside the square (tf.square(w) + 1 has its "
                "minimum at 0)."),
        Mistake(lambda steps, learning_rate=0.2: _tf2_variant(steps, learning_rate, grad=lambda w: (w + 1) ** 2),
                "each step used the loss instead of its gradient: apply `tape.gradient(loss, w)`."),
        Mistake(lambda steps, learning_rate=0.2: reference(steps, 0.2),
                "the learning_rate argument is ignored (0.2 is written in): pass it to "
                "`tf.keras.optimizers.SGD(learning_rate=learning_rate)`."),
        Mistake(lambda steps, learning_rate=0.2: _tf2_variant(steps, learning_rate, w0=0.0),
                "the tutorial starts at w = 5: `tf.Variable(5.0)`."),
        Mistake(lambda steps, learning_rate=0.2: _momentum_run(steps, learning_rate),
                "the tutorial's optimizer is plain gradient descent: `tf.keras.optimizers.SGD(learning_rate)`, "
                "without momentum."),
        Mistake(lambda steps, learning_rate=0.2: reference(1, learning_rate) if steps else np.float32(5.0),
                "only one update was applied: the `apply_gradients` call (and the tape) belong inside the loop."),
    ])


# --------------------------------------------------------------------------- predict, then run
HALF_STEP_CHOICES = ("stops short of -1", "lands on -1", "overshoots -1")


def check_half_step(answer):
    """Prediction 1: from w = 5 on ``(w + 1)**2``, where does one step with learning rate 0.5 land?"""
    def run():
        weights = minimize(SEED_LOSS, np.float32(5.0), SGD(0.5), 3).params
        return "\n".join(f"  w{k} = {w:g}" for k, w in enumerate(weights)) + "   (w0 is the start, wk after k updates)"

    check_prediction(answer, name="half_step", choices=HALF_STEP_CHOICES, correct="lands on -1",
                     explanation="the step is 0.5 * grad = 0.5 * 2 * (w + 1) = w + 1, exactly the distance from w "
                                 "to the minimum -1, so one step lands on it; the gradient there is 0, so w stays. "
                                 "(Lesson 02 shows why: 0.5 is 1 over the loss's second derivative, 2.)",
                     evidence=run)


def check_bias_gradient(answer):
    """Prediction 2: dL/db of ``mean((w*x + b - y)**2)`` when every prediction is 0.5 too large."""
    def run():
        lines = []
        for x in (np.array([1.0, 2.0, 3.0]), np.array([-4.0, 0.5, 10.0, 7.0])):
            w, b = 2.0, 1.0
            y = w * x + b - 0.5
            dw, db = _mse_grad_reference(w, b, x, y)
            lines.append(f"  x = {x}: dL/db = {db:g} (dL/dw = {dw:g})")
        return "\n".join(lines)

    check_prediction(answer, name="bias_gradient", correct=1.0, tolerance=1e-9,
                     explanation="dL/db = 2 * mean(prediction - y) = 2 * mean(0.5) = 1.0: b shifts every "
                                 "prediction by the same amount, so x does not enter (dL/dw does depend on x).",
                     evidence=run)
