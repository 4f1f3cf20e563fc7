"""Lesson 01's checks accept right answers and name the mistake in typical wrong ones."""

import numpy as np
import pytest
from check_helpers import rejects, sentence

from course_lib.checks import CheckFailed, NotAttempted, check_function, check_value
from course_lib.checks import gradient_descent as gd


# --------------------------------------------------------------------------- right answers
def test_reference_answers_pass(capsys):
    tf = pytest.importorskip("tensorflow")

    gd.check_loss_grad(lambda w: 2 * w + 2)
    gd.check_sgd_step(lambda w, g, lr: w - lr * g)

    def descend(w0, lr, steps):
        w, out = np.float32(w0), [np.float32(w0)]
        for _ in range(steps):
            w = w - np.float32(lr) * (2 * (w + 1))
            out.append(w)
        return np.array(out)   # float32, like its items

    gd.check_descend(descend)
    def minibatches(n, b, rng):  # a generator is fine too
        order = rng.permutation(n)
        yield from (order[i:i + b] for i in range(0, n, b))
    gd.check_minibatches(minibatches)
    gd.check_mse_grad(lambda w, b, x, y: (2 * np.mean((w * x + b - y) * x), 2 * np.mean(w * x + b - y)))

    def tf2(steps, learning_rate=0.2):
        w, opt = tf.Variable(5.0), tf.keras.optimizers.SGD(learning_rate)
        for _ in range(steps):
            with tf.GradientTape() as tape:
                loss = tf.square(w + 1)
            opt.apply_gradients([(tape.gradient(loss, w), w)])
        return w  # a tf.Variable is accepted
    gd.check_tf2_descent(tf2)
    assert capsys.readouterr().out.count("✓") == 6


# --------------------------------------------------------------------------- typical mistakes
def test_loss_grad_mistakes():
    rejects(gd.check_loss_grad, lambda w: 2 * w, "+2 is missing")
    rejects(gd.check_loss_grad, lambda w: w + 1, "factor 2")
    rejects(gd.check_loss_grad, lambda w: (w + 1) ** 2, "loss itself")
    rejects(gd.check_loss_grad, lambda w: -2 * w - 2, "sign is flipped")


def test_sgd_step_mistakes():
    rejects(gd.check_sgd_step, lambda w, g, lr: w + lr * g, "subtracts")
    rejects(gd.check_sgd_step, lambda w, g, lr: w - g, "learning rate is missing")
    rejects(gd.check_sgd_step, lambda w, g, lr: -lr * g, "returned the step")
    rejects(gd.check_sgd_step, lambda w, g, lr: g, "returned the gradient")
    rejects(gd.check_sgd_step, lambda w, g, lr: w - lr * lr * g, "applied twice")


def test_sgd_step_in_place_update_is_named():
    def in_place(w, g, lr):
        w -= lr * g
        return w
    sentence(gd.check_sgd_step, in_place, "changed its input arguments in place")


def _descend(w0, lr, steps, start=0, extra=0):
    w, out = np.float32(w0), [np.float32(w0)]
    for _ in range(steps + extra):
        w = w - np.float32(lr) * (2 * (w + 1))
        out.append(w)
    return np.array(out[start:])


def test_descend_mistakes():
    rejects(gd.check_descend, lambda w0, lr, s: _descend(w0, lr, s, start=1), "start with w0")
    rejects(gd.check_descend, lambda w0, lr, s: _descend(w0, lr, s, extra=1), "one update too many")
    rejects(gd.check_descend, lambda w0, lr, s: _descend(w0, lr, s, extra=-1), "one update too few")
    rejects(gd.check_descend, lambda w0, lr, s: [w0] * (s + 1), "never changes")

    def stale_gradient(w0, lr, steps):
        g, w, out = 2 * (w0 + 1), np.float32(w0), [np.float32(w0)]
        for _ in range(steps):
            w = w - np.float32(lr) * np.float32(g)
            out.append(w)
        return out
    rejects(gd.check_descend, stale_gradient, "computed once at w0")


def test_minibatch_mistakes():
    rejects(gd.check_minibatches, lambda n, b, rng: [np.arange(n)[i:i + b] for i in range(0, n, b)], "not shuffled")
    def drop_last(n, b, rng):
        order = rng.permutation(n)
        return [order[i:i + b] for i in range(0, n - n % b, b)]
    rejects(gd.check_minibatches, drop_last, "last, smaller batch")
    rejects(gd.check_minibatches, lambda n, b, rng: [rng.permutation(n)[:b] for _ in range(0, n, b)], "shuffle once")


def test_mse_grad_mistakes():
    def err(w, b, x, y):
        return w * x + b - y
    rejects(gd.check_mse_grad, lambda w, b, x, y: (np.mean(err(w, b, x, y) * x), np.mean(err(w, b, x, y))), "factor 2")
    rejects(gd.check_mse_grad, lambda w, b, x, y: (2 * np.sum(err(w, b, x, y) * x), 2 * np.sum(err(w, b, x, y))),
            "summed")
    rejects(gd.check_mse_grad, lambda w, b, x, y: (2 * np.mean(err(w, b, x, y)), 2 * np.mean(err(w, b, x, y))),
            "needs the input")
    rejects(gd.check_mse_grad, lambda w, b, x, y: (-2 * np.mean(err(w, b, x, y) * x), -2 * np.mean(err(w, b, x, y))),
            "sign is flipped")


def test_tf2_descent_mistakes():
    rejects(gd.check_tf2_descent, lambda steps, learning_rate=0.2: _descend(5, learning_rate, steps + 1)[-1],
            "too many")
    rejects(gd.check_tf2_descent, lambda steps, learning_rate=0.2: 5.0, "never changed")
    rejects(gd.check_tf2_descent, lambda steps, learning_rate=0.2: -1 + 6 * (1 + 2 * learning_rate) ** steps,
            "moved away")


# --------------------------------------------------------------------------- answers that are not numbers
@pytest.mark.parametrize("wrong, words", [
    (lambda w: None, "returned None"),
    (lambda w: "2w + 2", "returned str"),
    (lambda w: [2 * w + 2, 0], "shape"),
    (lambda w: np.nan * w, "NaN"),
    (lambda w: 1 / 0, "raised ZeroDivisionError"),
    (lambda w: {"grad": 2 * w + 2}, "returned dict"),
])
def test_non_answers_get_a_sentence(wrong, words):
    sentence(gd.check_loss_grad, wrong, words)


def test_a_tensor_is_accepted_and_an_unwritten_exercise_is_not_attempted():
    tf = pytest.importorskip("tensorflow")

    gd.check_loss_grad(lambda w: tf.constant(2 * np.asarray(w) + 2))

    def unwritten(w):
        raise NotImplementedError()
    with pytest.raises(NotAttempted, match="not written yet"):
        gd.check_loss_grad(unwritten)
    with pytest.raises(CheckFailed, match="should be a function"):
        gd.check_loss_grad(3.0)


def test_check_value_names_known_wrong_values():
    check_value(np.float32(2.6), 2.6, name="w1", quiet=True)
    with pytest.raises(CheckFailed) as info:
        check_value(7.4, 2.6, name="w1", mistakes=[(7.4, "you added the step")])
    assert info.value.hint == "you added the step"
    assert str(info.value).splitlines()[0] == "`w1` is wrong. Likely mistake: you added the step"
    assert "yours:    7.4" in str(info.value) and "expected: 2.6" in str(info.value)
    with pytest.raises(NotAttempted):
        check_value(..., 2.6, name="w1")


def test_transposed_answer_is_called_out():
    with pytest.raises(CheckFailed, match="transpose"):
        check_function(lambda a: a.T, lambda a: a, [(np.ones((2, 3)),)], name="f", quiet=True)


# --------------------------------------------------------------------------- the whole catalogue, student-style
def power_rule_kept(w):
    return 2 * (w + 1) ** 2


def forward_difference(w):
    h = 1e-3
    return ((w + h + 1) ** 2 - (w + 1) ** 2) / h


def rounded(w):
    return (2 * (w + 1)) // 1


@pytest.mark.parametrize("wrong, words", [
    (lambda w: 2 * (w - 1), "(w - 1)**2"),
    (power_rule_kept, "lowers the power by one"),
    (forward_difference, "finite difference"),
    (rounded, "rounded down"),
    (lambda w: 2 * w * w + 2, "2w**2 + 2"),
    (lambda w: w * 2 + 1, "not 2w + 1"),
])
def test_loss_grad_catalogue(wrong, words):
    rejects(gd.check_loss_grad, wrong, words)


def swapped_step(grad, w, learning_rate):  # the parameters in the wrong order
    return w - learning_rate * grad


@pytest.mark.parametrize("wrong, words", [
    (lambda w, g, lr: w - 2 * lr * g, "extra factor 2"),
    (swapped_step, "w and grad are swapped"),
    (lambda w, g, lr: (w - lr) * g, "brackets"),
    (lambda w, g, lr: w - lr / g, "not lr / grad"),
    (lambda w, g, lr: w - w * lr * g, "scales w"),
    (lambda w, g, lr: w - lr * w, "uses the gradient, not the weight"),
])
def test_sgd_step_catalogue(wrong, words):
    rejects(gd.check_sgd_step, wrong, words)


def test_sgd_step_factor_hint_from_the_declared_factor():
    # Not in the catalogue: the learning rate applied three times; the declared factor names it.
    failure = pytest.raises(CheckFailed, gd.check_sgd_step, lambda w, g, lr: lr * (w - lr * g))
    assert "times the learning rate" in failure.value.hint


def descend_loop(w0, lr, steps, grad=lambda w: 2 * (w + 1), up=False, no_lr=False, before=False, last=False):
    w, lr = np.float32(w0), np.float32(lr)
    weights = [w]
    for _ in range(steps):
        g = np.float32(grad(w))
        new = w + lr * g if up else (w - g if no_lr else w - lr * g)
        weights.append(w if before else new)
        w = new
    return w if last else weights


@pytest.mark.parametrize("options, words", [
    ({"up": True}, "moves *up*"), ({"no_lr": True}, "learning rate is missing"),
    ({"grad": lambda w: w + 1}, "factor 2 is missing"), ({"grad": lambda w: (w + 1) ** 2}, "instead of its gradient"),
    ({"before": True}, "recorded before its update"), ({"last": True}, "not only the last one"),
])
def test_descend_catalogue(options, words):
    rejects(gd.check_descend, lambda w0, lr, s: descend_loop(w0, lr, s, **options), words)


def batches_of(order, size, stop=None, step=None, shrink=0):
    stop = len(order) if stop is None else stop
    return [order[i:i + size - shrink] for i in range(0, stop, step or size)]


@pytest.mark.parametrize("wrong, words", [
    (lambda n, b, rng: batches_of(rng.permutation(n), b, shrink=1), "exclusive"),
    (lambda n, b, rng: batches_of(rng.permutation(n), b, step=1), "overlap"),
    (lambda n, b, rng: batches_of(rng.choice(n, size=n), b), "with replacement"),
    (lambda n, b, rng: np.array_split(rng.permutation(n), b), "np.array_split"),
    (lambda batch_size, n, rng: batches_of(rng.permutation(n), batch_size), "swapped"),
    (lambda n, b, rng: rng.permutation(n), "in one piece"),
    (lambda n, b, rng: batches_of(rng.permutation(n), b, stop=n - b), "one batch early"),
    (lambda n, b, rng: [np.sort(x) for x in batches_of(rng.permutation(n), b)], "sorted"),
])
def test_minibatches_catalogue(wrong, words):
    rejects(gd.check_minibatches, wrong, words)


def mse_variant(w, b, x, y, *, order="wb", product="mean", bracket=True, square=False, average=True):
    error = w * x + b - y
    if square:
        error = error ** 2
    dw = (2 * np.mean(error) * np.mean(x) if product == "separate" else
          2 * np.mean(w * x + b - y * x) if not bracket else 2 * (error * x if not average else np.mean(error * x)))
    db = 2 * (np.mean(error) if average else error)
    return (dw, db) if order == "wb" else (db, dw)


@pytest.mark.parametrize("options, words", [
    ({"order": "bw"}, "wrong order"), ({"product": "separate"}, "mean(error) * mean(x)"),
    ({"bracket": False}, "brackets"), ({"square": True}, "first power"), ({"average": False}, "average over the batch"),
])
def test_mse_grad_catalogue(options, words):
    rejects(gd.check_mse_grad, lambda w, b, x, y: mse_variant(w, b, x, y, **options), words)


def test_mse_grad_swapped_arguments():
    def y_first(w, b, y, x):
        return 2 * np.mean((w * x + b - y) * x), 2 * np.mean(w * x + b - y)

    def b_times_x(w, b, x, y):
        err = b * x + w - y
        return 2 * np.mean(err * x), 2 * np.mean(err)
    rejects(gd.check_mse_grad, y_first, "x and y are swapped")
    rejects(gd.check_mse_grad, b_times_x, "w * x + b")


def test_mse_grad_names_the_part():
    def db_halved(w, b, x, y):
        err = w * x + b - y
        return 2 * np.mean(err * x), np.mean(err)
    message = rejects(gd.check_mse_grad, db_halved, "dL/db: the answer is the expected one divided by 2")
    assert "dL/dw is right; dL/db is not" in message


def tf2_loop(steps, learning_rate=0.2, *, default_rate=False, loss_out=False, grad_by_hand=None, tape_outside=False,
             once=False):
    tf = pytest.importorskip("tensorflow")
    w = tf.Variable(5.0)
    opt = tf.keras.optimizers.SGD() if default_rate else tf.keras.optimizers.SGD(learning_rate)
    loss = None
    for k in range(steps):
        if once and k:
            break
        if grad_by_hand is not None:
            w.assign_sub(learning_rate * grad_by_hand(w))
            continue
        if tape_outside:
            loss = tf.square(w + 1)
            with tf.GradientTape() as tape:
                pass
        else:
            with tf.GradientTape() as tape:
                loss = tf.square(w + 1)
        opt.apply_gradients([(tape.gradient(loss, w), w)])
    return loss.numpy() if loss_out else w.numpy()


@pytest.mark.parametrize("options, words", [
    ({"default_rate": True}, "not passed on"), ({"loss_out": True}, "returned the last loss"),
    ({"grad_by_hand": lambda w: w + 1}, "factor 2 is missing"),
    ({"grad_by_hand": lambda w: 2 * w}, "inside the square"),
    ({"grad_by_hand": lambda w: (w + 1) ** 2}, "instead of its gradient"), ({"once": True}, "only one update"),
    ({"tape_outside": True}, "runs inside `with tf.GradientTape() as tape:`"),
])
def test_tf2_descent_catalogue(options, words):
    rejects(gd.check_tf2_descent, lambda steps, learning_rate=0.2: tf2_loop(steps, learning_rate, **options), words)


def test_tf2_descent_one_too_few():
    rejects(gd.check_tf2_descent, lambda steps, learning_rate=0.2: tf2_loop(max(steps - 1, 0), learning_rate),
            "one update too few")


def test_mse_grad_bias_with_x():
    def db_with_x(w, b, x, y):
        g = 2 * np.mean((w * x + b - y) * x)
        return g, g
    rejects(gd.check_mse_grad, db_with_x, "dL/db has no x")


def test_catalogue_entries_added_after_trying_new_mistakes():
    rejects(gd.check_sgd_step, lambda w, g, lr: w - g / lr, "divided by the learning rate")

    def aliased(w0, lr, steps):
        w = np.array([w0], dtype=np.float32)
        out = [w]
        for _ in range(steps):
            w -= np.float32(lr) * 2 * (w + 1)
            out.append(w)
        return np.concatenate(out)
    rejects(gd.check_descend, aliased, "same array each time")
    rejects(gd.check_tf2_descent, lambda steps, learning_rate=0.2: tf2_loop(steps, 0.2), "0.2 is written in")

    def own_generator(n, b, rng):
        order = np.random.default_rng(123).permutation(n)
        return [order[i:i + b] for i in range(0, n, b)]
    message = rejects(gd.check_minibatches, own_generator, "not the one `rng` gives")
    assert message.splitlines()[0].startswith("minibatches is wrong. Likely mistake:")


# --------------------------------------------------------------------------- predictions
def test_predictions(capsys):
    gd.check_half_step("lands on -1")
    out = capsys.readouterr().out
    assert "w1 = -1" in out and "w3 = -1" in out
    with pytest.raises(CheckFailed, match="the answer is 'lands on -1'"):
        gd.check_half_step("overshoots -1")
    with pytest.raises(CheckFailed, match="should be one of"):
        gd.check_half_step("lands")
    gd.check_bias_gradient(1)
    assert "dL/db = 1 (dL/dw = 2)" in capsys.readouterr().out
    with pytest.raises(CheckFailed):
        gd.check_bias_gradient(0.5)
    with pytest.raises(NotAttempted):
        gd.check_bias_gradient(...)


def test_catalogue_entries_added_after_a_second_set_of_mistakes():
    def losses(w0, lr, steps):
        w, out = np.float32(w0), [np.float32(w0 + 1) ** 2]
        for _ in range(steps):
            w = w - np.float32(lr) * 2 * (w + 1)
            out.append((w + 1) ** 2)
        return out
    rejects(gd.check_descend, losses, "those are the losses")

    def whole(w0, lr, steps):
        w, out = int(w0), [int(w0)]
        for _ in range(steps):
            w = int(w - lr * 2 * (w + 1))
            out.append(w)
        return out
    rejects(gd.check_descend, whole, "whole number")
    def short_shuffle(n, b, rng):
        order = rng.permutation(b)
        return [order[i:i + b] for i in range(0, n, b)]
    rejects(gd.check_minibatches, short_shuffle, "not batch_size of them")

    def halved(w, b, x, y):
        e = w * x + b - y
        return np.mean(e * x) / 2, np.mean(e) / 2
    rejects(gd.check_mse_grad, halved, "you divided by 2")

    def float_of_array(w):
        return float(2 * (w + 1))
    rejects(gd.check_loss_grad, float_of_array, "element-wise functions")


def test_catalogue_entries_added_after_a_third_set_of_mistakes():
    rejects(gd.check_sgd_step, lambda w, g, lr: w - lr - g, "not w - lr - grad")
    rejects(gd.check_descend, lambda w0, lr, s: descend_loop(w0, lr, s, grad=lambda w: 2 * w), "gradient of w**2")

    def gradients(w0, lr, steps):
        w, out = np.float32(w0), [np.float32(w0)]
        for _ in range(steps):
            g = 2 * (w + 1)
            w = w - np.float32(lr) * g
            out.append(g)
        return out
    rejects(gd.check_descend, gradients, "holds the gradients")
    rejects(gd.check_mse_grad, lambda w, b, x, y: (2 * np.mean((w * x + b - y) * x ** 2), 2 * np.mean(w * x + b - y)),
            "has x once")

    def sizes_plus_one(n, b, rng):
        order = rng.permutation(n)
        return [order[i:i + b + 1] for i in range(0, n, b + 1)]
    rejects(gd.check_minibatches, sizes_plus_one, "other sizes")
    rejects(gd.check_loss_grad, lambda w: ((w + 1) ** 2, 2 * (w + 1)), "only the answer")


def test_catalogue_entries_added_after_a_fourth_set_of_mistakes():
    rejects(gd.check_loss_grad, lambda w: 2 * (w + 2), "2w + 4")

    def twice_per_pass(w0, lr, steps):
        w, out = np.float32(w0), [np.float32(w0)]
        for _ in range(steps):
            for _ in range(2):
                w = w - np.float32(lr) * 2 * (w + 1)
            out.append(w)
        return out
    rejects(gd.check_descend, twice_per_pass, "two updates per pass")

    def n_minus_one(w, b, x, y):
        e = w * x + b - y
        return 2 * np.sum(e * x) / (len(x) - 1), 2 * np.sum(e) / (len(x) - 1)
    rejects(gd.check_mse_grad, n_minus_one, "not n - 1")

    def with_momentum(steps, learning_rate=0.2):
        tf = pytest.importorskip("tensorflow")
        w, opt = tf.Variable(5.0), tf.keras.optimizers.SGD(learning_rate, momentum=0.9)
        for _ in range(steps):
            with tf.GradientTape() as tape:
                loss = tf.square(w + 1)
            opt.apply_gradients([(tape.gradient(loss, w), w)])
        return w.numpy()
    rejects(gd.check_tf2_descent, with_momentum, "without momentum")

    def first_sorted(n, b, rng):
        out = batches_of(rng.permutation(n), b)
        out[0] = np.sort(out[0])
        return out
    rejects(gd.check_minibatches, first_sorted, "inside every batch")


def test_catalogue_entries_added_after_a_fifth_set_of_mistakes():
    rejects(gd.check_minibatches, lambda n, b, rng: batches_of(rng.permutation(n) + 1, b), "indices count from 0")

    def db_times_mean_x(w, b, x, y):
        e = w * x + b - y
        return 2 * np.mean(e * x), 2 * np.mean(e) * x.mean()
    rejects(gd.check_mse_grad, db_times_mean_x, "d(prediction)/db = 1")

    def absolute(w, b, x, y):
        s = np.sign(w * x + b - y)
        return np.mean(s * x), np.mean(s)
    rejects(gd.check_mse_grad, absolute, "*absolute*")

    def from_zero(steps, learning_rate=0.2):
        w = np.float32(0.0)
        for _ in range(steps):
            w = w - np.float32(learning_rate) * 2 * (w + 1)
        return w
    rejects(gd.check_tf2_descent, from_zero, "starts at w = 5")

    def early_stop(w0, lr, steps):
        w, out = np.float32(w0), [np.float32(w0)]
        for _ in range(steps):
            if abs(w + 1) < 1e-3:
                break
            w = w - np.float32(lr) * 2 * (w + 1)
            out.append(w)
        return out
    rejects(gd.check_descend, early_stop, "stops early")


# --------------------------------------------------------------------------- after the newcomer review of lesson 01
def test_descend_must_be_a_float32_array():
    def in_float64(w0, lr, steps):
        w, out = float(w0), [float(w0)]
        for _ in range(steps):
            w = w - lr * (2 * w + 2)
            out.append(w)
        return np.array(out)
    message = rejects(gd.check_descend, in_float64, "not float32")
    assert "yours: w is 2.600000, loss is 12.960000; in float32: w is 2.600000, loss is 12.959999" in message

    def as_list(w0, lr, steps):
        return list(_descend(w0, lr, steps))
    rejects(gd.check_descend, as_list, "numpy array")


def test_sgd_step_that_ignores_its_grad_is_named():
    def loss_grad(w):
        return 2 * (w + 1)

    def own_gradient(w, grad, learning_rate):
        return w - learning_rate * loss_grad(w)

    def own_wrong_gradient(w, grad, learning_rate):
        return w - learning_rate * (2 * w + 1)
    for wrong in (own_gradient, own_wrong_gradient):
        message = rejects(gd.check_sgd_step, wrong, "does not depend on the `grad` argument")
        assert "both times" in message and "sgd_step([1., -2.], [-3., 1.], 0.1)" in message


def test_minibatches_that_reshuffle_for_every_batch_are_named():
    rejects(gd.check_minibatches, lambda n, b, rng: [rng.permutation(n)[i:i + b] for i in range(0, n, b)],
            "runs again for every batch")


def test_tf2_descent_integer_variable_and_loss_off_the_tape_are_told_apart():
    tf = pytest.importorskip("tensorflow")

    def integer_variable(steps, learning_rate=0.2):
        w, opt = tf.Variable(5), tf.keras.optimizers.SGD(learning_rate)
        for _ in range(steps):
            with tf.GradientTape() as tape:
                loss = tf.square(w + 1)
            opt.apply_gradients([(tape.gradient(loss, w), w)])
        return w.numpy()
    message = rejects(gd.check_tf2_descent, integer_variable, "integer variable (int32")
    assert "inside `with tf.GradientTape()" not in message
    message = rejects(gd.check_tf2_descent, lambda steps, learning_rate=0.2: tf2_loop(steps, learning_rate,
                                                                                      tape_outside=True),
                      "although `w` is a float variable")
    assert "tf.Variable(5)" not in message


def test_half_step_explanation_uses_only_lesson_01_words(capsys):
    gd.check_half_step("lands on -1")
    out = capsys.readouterr().out
    assert "curvature L" not in out and "1/L" not in out and "second derivative, 2" in out
