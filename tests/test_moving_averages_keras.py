"""course_lib.moving_averages against tf.train.ExponentialMovingAverage and Keras's ``use_ema``,
and seed 001's TensorFlow code.  Skipped where TensorFlow is not installed."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from test_moving_averages import SEED_001_TABLE, _noisy_quadratic_grads, row  # noqa: E402

import course_lib  # noqa: E402, F401  (silences TensorFlow's start-up logs)
from course_lib import moving_averages as ma  # noqa: E402
from course_lib.optimizers import SGD  # noqa: E402


def test_seed_001_table_tf2_with_variable_step():
    w1 = tf.Variable(0.0)
    step = tf.Variable(0, trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step)
    ema.apply([w1])  # creates the shadow from w1 = 0 (an update with value == shadow changes nothing)
    rows = [row(w1.numpy(), ema.average(w1).numpy())]
    w1.assign(1.0)
    ema.apply([w1])
    rows.append(row(w1.numpy(), ema.average(w1).numpy()))
    step.assign(100)
    w1.assign(10.0)
    for _ in range(7):
        ema.apply([w1])
        rows.append(row(w1.numpy(), ema.average(w1).numpy()))
    assert rows == SEED_001_TABLE


def test_seed_001_table_tf1_code_through_compat_v1():
    v1 = tf.compat.v1
    rows = []
    with tf.Graph().as_default():
        w1 = tf.Variable(0, dtype=tf.float32)
        global_step = tf.Variable(0, trainable=False)
        ema = v1.train.ExponentialMovingAverage(0.99, global_step)
        ema_op = ema.apply(v1.trainable_variables())
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            rows.append(row(*sess.run([w1, ema.average(w1)])))
            sess.run(v1.assign(w1, 1))
            sess.run(ema_op)
            rows.append(row(*sess.run([w1, ema.average(w1)])))
            sess.run(v1.assign(global_step, 100))
            sess.run(v1.assign(w1, 10))
            for _ in range(7):
                sess.run(ema_op)
                rows.append(row(*sess.run([w1, ema.average(w1)])))
    assert rows == SEED_001_TABLE


def test_tf2_traps_python_int_step_is_frozen_and_first_apply_copies():
    # A Python int given as num_updates is read once: TF keeps using 0 (decay 0.1) forever.
    w = tf.Variable(0.0)
    n = 0
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=n)
    ema.apply([w])
    n = 100  # noqa: F841  (has no effect, which is the point)
    w.assign(10.0)
    ema.apply([w])
    assert ema.average(w).numpy() == np.float32(9.0)
    ours = ma.ExponentialMovingAverage(0.99, num_updates=0)
    state = ours.apply(np.float32(10.0), ours.init(np.float32(0.0)))
    assert ours.average(state) == np.float32(9.0)
    # Creating the shadow only after w1 = 1 starts it at 1, not 0: the row reads [1.0, 1.0].
    w = tf.Variable(0.0)
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=tf.Variable(0))
    w.assign(1.0)
    ema.apply([w])
    assert row(w.numpy(), ema.average(w).numpy()) == "[1.0, 1.0]"


# --------------------------------------------------------------------------- parity with TF
def _values(rng, shape, steps, dtype):
    return (np.cumsum(rng.normal(size=(steps,) + shape), axis=0) + 3.0).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_num_updates", [False, True])
def test_matches_tf_exponential_moving_average(dtype, with_num_updates):
    rng = np.random.default_rng(1)
    steps = 300
    a_vals, b_vals = _values(rng, (3,), steps, dtype), _values(rng, (2, 2), steps, dtype)
    a = tf.Variable(a_vals[0])
    b = tf.Variable(b_vals[0])
    step = tf.Variable(0, trainable=False)
    tf_ema = tf.train.ExponentialMovingAverage(0.997, num_updates=step if with_num_updates else None)
    ours = ma.ExponentialMovingAverage(0.997)
    tf_ema.apply([a, b])  # first apply: shadows copy a, b
    state = ours.init({"a": a_vals[0], "b": b_vals[0]})
    state = ours.apply({"a": a_vals[0], "b": b_vals[0]}, state, num_updates=0 if with_num_updates else None)
    for k in range(1, steps):
        step.assign(k)
        a.assign(a_vals[k])
        b.assign(b_vals[k])
        tf_ema.apply([a, b])
        state = ours.apply({"a": a_vals[k], "b": b_vals[k]}, state,
                           num_updates=k if with_num_updates else None)
        assert state.shadow["a"].dtype == dtype
    # Same float operations in the same order and dtype: identical to the last bit.
    np.testing.assert_array_equal(state.shadow["a"], tf_ema.average(a).numpy())
    np.testing.assert_array_equal(state.shadow["b"], tf_ema.average(b).numpy())
    assert state.count == steps


def test_float64_variables_see_a_float32_decay_like_tf():
    w = tf.Variable(np.float64(0.0))
    tf_ema = tf.train.ExponentialMovingAverage(0.99)
    tf_ema.apply([w])
    w.assign(1.0)
    tf_ema.apply([w])
    tf_value = tf_ema.average(w).numpy()
    assert tf_value != 1 - 0.99  # TF does not use the float64 decay...
    assert tf_value == np.float64(np.float32(1) - np.float32(0.99))  # ...but the float32 one
    ours = ma.ExponentialMovingAverage(0.99)
    state = ours.apply(np.float64(1.0), ours.init(np.float64(0.0)))
    assert ours.average(state) == tf_value


def test_zero_debias_matches_tf_tensor_path_in_a_graph():
    rng = np.random.default_rng(2)
    values = rng.normal(size=(40, 3)) + 4.0
    tf_shadows = []
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float64, shape=(3,))
        ema = tf.compat.v1.train.ExponentialMovingAverage(0.9, zero_debias=True)
        op = ema.apply([x])
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for v in values:
                sess.run(op, feed_dict={x: v})
                tf_shadows.append(sess.run(ema.average(x)))
    ours = ma.ExponentialMovingAverage(0.9, zero_debias=True)
    state = ours.init(values[0])
    assert np.all(state.shadow == 0)
    for v, expected in zip(values, tf_shadows, strict=True):
        state = ours.apply(v, state)
        np.testing.assert_allclose(state.shadow, expected, rtol=1e-12)
    # The debiased shadow has no pull towards zero: after one value it *is* that value.
    first = ours.apply(values[0], ours.init(values[0]))
    np.testing.assert_allclose(first.shadow, values[0], rtol=1e-12)


def _keras_run(opt, w0, grad_fn, steps):
    w = tf.Variable(w0)
    params, averages = [w.numpy()], [w.numpy()]
    for _ in range(steps):
        opt.apply_gradients([(tf.constant(grad_fn(w.numpy())), w)])
        params.append(w.numpy())
        average = [v for v in opt.variables if v.path.endswith("_average")]
        averages.append(average[0].numpy())
    return w, np.stack(params), np.stack(averages)


@pytest.mark.parametrize("overwrite", [None, 7])
def test_matches_keras_use_ema_over_500_steps(overwrite):
    w0 = np.array([3.0, -2.0, 0.5], np.float32)
    opt = keras.optimizers.SGD(0.05, momentum=0.5, use_ema=True, ema_momentum=0.95,
                               ema_overwrite_frequency=overwrite)
    w, k_params, k_avg = _keras_run(opt, w0, _noisy_quadratic_grads(3), 500)
    params, avg = ma.apply_gradients_with_ema(SGD(0.05, momentum=0.5), w0, _noisy_quadratic_grads(3), 500,
                                              ema_momentum=0.95, ema_overwrite_frequency=overwrite)
    # Same float32 operations in the same order as Keras: identical to the last bit.
    np.testing.assert_array_equal(params, k_params)
    np.testing.assert_array_equal(avg[1:], k_avg[1:])
    np.testing.assert_array_equal(avg[1], params[1])  # the first step copies the weights
    if overwrite:
        np.testing.assert_array_equal(params[7], avg[7])  # overwritten after step 7
        assert not np.array_equal(params[6], avg[6])
    # finalize_variable_values() puts the average into the weights.
    opt.finalize_variable_values([w])
    np.testing.assert_array_equal(w.numpy(), avg[-1])

