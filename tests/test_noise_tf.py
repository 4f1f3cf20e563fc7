"""course_lib.noise against TensorFlow: per-example gradients, the 1/t schedule, one mini-batch step.

Skipped where TensorFlow is not installed.
"""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from course_lib import data, noise, tf_twins  # noqa: E402

tf = tf_twins.tf
X, Y = data.linear_regression()


def test_linear_per_example_gradients_equal_the_tape_jacobian():
    theta = np.array([0.7, -0.4])
    w, b = tf.Variable(theta[0]), tf.Variable(theta[1])
    xs, ys = tf.constant(X[:, 0], tf.float64), tf.constant(Y[:, 0], tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        per_example = tf.square(w * xs + b - ys)
    jacobian = np.stack([tape.jacobian(per_example, w).numpy(), tape.jacobian(per_example, b).numpy()], axis=1)
    np.testing.assert_allclose(noise.linear_per_example_grads(theta, X, Y), jacobian, rtol=1e-12, atol=1e-12)


def test_softmax_per_example_gradients_equal_the_tape_jacobian():
    rng = np.random.default_rng(2)
    x, labels = rng.normal(size=(6, 4)), np.array([0, 2, 1, 2, 0, 1])
    weights, bias = rng.normal(size=(4, 3)), rng.normal(size=3)
    w, b = tf.Variable(weights), tf.Variable(bias)
    with tf.GradientTape(persistent=True) as tape:
        logits = tf.constant(x) @ w + b
        per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    jw, jb = tape.jacobian(per_example, w).numpy(), tape.jacobian(per_example, b).numpy()  # (6, 4, 3), (6, 3)
    expected = np.concatenate([jw, jb[:, None, :]], axis=1).reshape(6, -1)
    np.testing.assert_allclose(noise.softmax_per_example_grads(weights, bias, x, labels), expected, rtol=1e-10,
                               atol=1e-12)


def test_power_decay_one_is_keras_inverse_time_decay():
    ours = noise.power_decay(0.3, 100, 1.0)
    keras_schedule = tf.keras.optimizers.schedules.InverseTimeDecay(0.3, decay_steps=100, decay_rate=1.0)
    steps = np.array([0, 1, 50, 100, 999, 20000])
    np.testing.assert_allclose(ours(steps), [float(keras_schedule(int(t))) for t in steps], rtol=1e-6)


def test_one_minibatch_step_equals_keras_sgd_on_that_batch():
    # lr 0.25 is exact in float32, the dtype Keras keeps its learning rate in
    theta, lr, idx = np.array([0.5, 0.25]), 0.25, np.array([3, 17, 42, 8, 99])
    w, b = tf.Variable([[theta[0]]], dtype=tf.float64), tf.Variable([theta[1]], dtype=tf.float64)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.constant(X[idx], tf.float64) @ w + b - Y[idx].astype(np.float64)))
    tf.keras.optimizers.SGD(lr).apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
    ours = theta - lr * noise.linear_per_example_grads(theta, X[idx], Y[idx]).mean(axis=0)
    np.testing.assert_allclose([w.numpy().item(), b.numpy().item()], ours, rtol=1e-12)
