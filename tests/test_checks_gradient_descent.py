"""Lesson 01's checks accept right answers and name the mistake in typical wrong ones."""

import numpy as np
import pytest
from check_helpers import rejects, sentence

from course_lib.checks import CheckFailed, NotAttempted, check_function, check_value
from course_lib.checks import gradient_descent as gd


# --------------------------------------------------------------------------- right answers
def test_reference_answers_pass(capsys):
    import tensorflow as tf

    gd.check_loss_grad(lambda w: 2 * w + 2)
    gd.check_sgd_step(lambda w, g, lr: w - lr * g)

    def descend(w0, lr, steps):
        w, out = np.float32(w0), [np.float32(w0)]
        for _ in range(steps):
            w = w - np.float32(lr) * (2 * (w + 1))
            out.append(w)
        return out

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
    rejects(gd.check_loss_grad, lambda w: -2 * w - 2, "opposite sign")


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
    import tensorflow as tf

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
