"""The TensorFlow twins agree with the hand-rolled runs.  Skipped where TensorFlow is not installed."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from course_lib import data, descent, seeds, tf_twins  # noqa: E402
from course_lib.objectives import ILL_CONDITIONED, ROSENBROCK, SEED_LOSS  # noqa: E402
from course_lib.optimizers import SGD, Adam  # noqa: E402

tf = tf_twins.tf


def test_tf2_gradient_tape_reproduces_the_seed_table():
    run = tf_twins.minimize(SEED_LOSS, np.float32(5), tf.keras.optimizers.SGD(0.2), 40)
    lines = ["After %s steps: w is %f, loss is %f" % (i, w, loss)
             for i, (w, loss) in enumerate(zip(run.params[1:], run.loss[1:]))]
    assert seeds.compare(lines, seeds.GD_LR_0_2) == "18 of 18 lines match the seed digit for digit"
    hand = descent.minimize(SEED_LOSS, np.float32(5), SGD(0.2), 40)
    assert np.array_equal(run.params, hand.params) and np.array_equal(run.loss, hand.loss)


def test_tf1_graph_code_reproduces_the_seed_table():
    tf1 = tf.compat.v1
    with tf.Graph().as_default():
        w = tf1.Variable(tf1.constant(5, dtype=tf.float32))
        loss = tf1.square(w + 1)
        train_step = tf1.train.GradientDescentOptimizer(0.2).minimize(loss)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            lines = []
            for i in range(22):
                sess.run(train_step)
                lines.append("After %d steps,W is %f ,loss is %f" % (i, sess.run(w), sess.run(loss)))
    assert seeds.compare(lines, seeds.GD_LR_0_2_ALT) == "22 of 22 lines match the seed digit for digit"


@pytest.mark.parametrize("objective, x0, lr", [
    (ILL_CONDITIONED, [3.0, 2.0], 0.3), (ROSENBROCK, [-1.2, 1.0], 1e-3), (SEED_LOSS, 5.0, 0.2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_tape_objectives_match_numpy_gradients(objective, x0, lr, dtype):
    x = np.asarray(x0, dtype)
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = tf_twins.objective_fn(objective)(v)
    np.testing.assert_allclose(loss.numpy(), objective(x), rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), objective.grad(x), rtol=1e-6)
    run = tf_twins.minimize(objective, x, tf.keras.optimizers.SGD(lr), 200)
    hand = descent.minimize(objective, x, SGD(lr), 200)
    scale = np.max(np.abs(hand.params)) + 1
    np.testing.assert_allclose(run.params, hand.params, rtol=0, atol=200 * np.finfo(dtype).eps * scale)


def test_keras_fit_ends_at_the_hand_rolled_weights():
    x, y = data.linear_regression(n=64, seed=2)
    batches = data.batch_indices(64, 16, epochs=5, seed=2)
    p0 = {"kernel": np.full((1, 1), 0.5, np.float32), "bias": np.zeros(1, np.float32)}
    ours = descent.fit(descent.linear_mse, p0, x, y, SGD(0.05, momentum=0.9), batches=batches)
    theirs = tf_twins.fit_linear(x, y, batches, tf.keras.optimizers.SGD(0.05, momentum=0.9), p0["kernel"], p0["bias"])
    assert len(theirs.loss) == len(ours.loss) == 21
    for name in ("kernel", "bias"):
        np.testing.assert_allclose(theirs.params[name], ours.params[name], rtol=0, atol=2e-5)
    assert abs(ours.loss[-1] - theirs.loss[-1]) < 1e-5


def test_batch_dataset_lets_a_recompiled_model_continue_with_the_same_batches():
    # Seed 004's pattern: fit with SGD, compile the same model with "adam", fit again.
    x, y = data.linear_regression(50, slope=3.0, intercept=2.0, noise=0.1, seed=3)
    first, second = data.batch_indices(50, 16, epochs=3, seed=0), data.batch_indices(50, 8, epochs=2, seed=1)
    p0 = {"kernel": np.full((1, 1), 0.5, np.float32), "bias": np.zeros(1, np.float32)}
    model = tf_twins.linear_model(p0["kernel"], p0["bias"])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.01), loss="mean_squared_error")
    model.fit(tf_twins.batch_dataset(x, y, first), epochs=1, shuffle=False, verbose=0)
    after_sgd = model.get_weights()
    model.compile(optimizer="adam", loss="mean_squared_error")
    model.fit(tf_twins.batch_dataset(x, y, second), epochs=1, shuffle=False, verbose=0)
    ours_sgd = descent.fit(descent.linear_mse, p0, x, y, SGD(0.01), batches=first)
    ours_adam = descent.fit(descent.linear_mse, ours_sgd.final, x, y, Adam(), batches=second)
    assert len(ours_sgd.loss) == 1 + 3 * 4 and len(ours_adam.loss) == 1 + 2 * 7  # every batch, the last short
    assert int(model.optimizer.iterations.numpy()) == 2 * 7  # Keras made one update per batch too
    for keras_w, ours in ((after_sgd, ours_sgd.final), (model.get_weights(), ours_adam.final)):
        np.testing.assert_array_equal(keras_w[0], ours["kernel"])
        np.testing.assert_array_equal(keras_w[1], ours["bias"])
    with pytest.raises(ValueError, match="`kernel0` must have shape"):
        tf_twins.linear_model(np.zeros(3), np.zeros(1))


def test_version_check_gives_install_advice():
    tf_twins.check_versions("2.21.0", "3.15.1")
    with pytest.raises(ImportError, match="TensorFlow 2.12.0 is installed.*pip install -r requirements.txt"):
        tf_twins.check_versions("2.12.0", "3.15.1")
    with pytest.raises(ImportError, match="Keras 2.15.0 is installed"):
        tf_twins.check_versions("2.21.0", "2.15.0")
