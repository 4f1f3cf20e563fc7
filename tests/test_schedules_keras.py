"""course_lib.schedules against tf.keras.optimizers.schedules and seed 001's TensorFlow code.
Skipped where TensorFlow is not installed."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from test_schedules import ROW, assert_matches_seed  # noqa: E402

import course_lib  # noqa: E402, F401  (silences TensorFlow's start-up logs)
from course_lib import schedules as S  # noqa: E402
from course_lib.objectives import Quadratic  # noqa: E402
from course_lib.optimizers import SGD  # noqa: E402
from course_lib.tf_twins import apply_gradients, grappler_off, keras, tf  # noqa: E402

K = keras.optimizers.schedules


# Every step from 0 to 2000: the staircases, warmups, restarts and the ends of every decay of the cases below.
STEPS = np.arange(2001)


# (class name, keyword arguments): each schedule with its options switched on and off.
CASES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=0.99, staircase=True)),
    ("ExponentialDecay", dict(initial_learning_rate=0.3, decay_steps=13, decay_rate=0.9)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5, staircase=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=0.01)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.5, decay_steps=30, decay_rate=0.7, staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[100, 500, 1500], values=[1.0, 0.5, 0.1, 0.01])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=1000)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=300, end_learning_rate=0.01, power=0.5,
                             cycle=True)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=700, end_learning_rate=0.001, power=2.0)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=1000, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.01, decay_steps=900, alpha=0.05, warmup_target=0.2,
                         warmup_steps=77)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=100)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=37, t_mul=1.5, m_mul=0.9,
                                 alpha=0.01)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=100, t_mul=1.0, m_mul=0.8,
                                 alpha=0.1)),
]


def eager_rates(schedule, steps):
    """Call a Keras schedule the way its optimizer does: on an int64 `iterations` variable, one eager call a step."""
    iterations = tf.Variable(0, dtype=tf.int64)
    out = []
    for s in steps:
        iterations.assign(int(s))
        out.append(schedule(iterations).numpy())
    return np.asarray(out)


def keras_rates(schedule, steps):
    """The same calls, made in one traced loop (``tf.map_fn``, one step at a time) run with Grappler off: the
    operations the eager calls run, in the same order (``test_the_traced_loop_gives_the_eager_calls_bits``),
    without an eager round trip per step, which would cost a millisecond each."""
    iterations = tf.Variable(0, dtype=tf.int64)

    def one(step):
        iterations.assign(step)
        return schedule(iterations)

    loop = tf.function(lambda steps: tf.map_fn(one, steps, fn_output_signature=tf.float32, parallel_iterations=1),
                       autograph=False)
    with grappler_off():
        return loop(tf.constant(steps, tf.int64)).numpy()


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_the_traced_loop_gives_the_eager_calls_bits(name, kwargs):
    steps = np.r_[0:301:5, 977, 1000:2001:97]
    np.testing.assert_array_equal(keras_rates(getattr(K, name)(**kwargs), steps),
                                  eager_rates(getattr(K, name)(**kwargs), steps))


def peak(kwargs):
    return max(kwargs.get("initial_learning_rate", 0.0), kwargs.get("warmup_target") or 0.0,
               max(kwargs.get("values", [0.0])))


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_keras_up_to_step_2000(name, kwargs):
    ours = getattr(S, name)(**kwargs)(STEPS)
    theirs = keras_rates(getattr(K, name)(**kwargs), STEPS)
    assert ours.dtype == np.float32 and theirs.dtype == np.float32
    # One float32 rounding at the scale of the schedule's largest rate: TensorFlow's float32
    # pow/cos/log are not correctly rounded, so a few last bits may differ.
    one_rounding = np.spacing(np.float32(peak(kwargs)))
    assert np.max(np.abs(ours - theirs)) <= one_rounding
    assert np.mean(ours == theirs) >= 0.95, f"only {np.mean(ours == theirs):.1%} of the steps are bit-identical"
    if name in ("InverseTimeDecay", "PiecewiseConstantDecay") or kwargs.get("power", 0) == 1.0:
        np.testing.assert_array_equal(ours, theirs)  # no pow/cos/log that TF rounds differently


def test_one_step_returns_np_float32_and_accepts_tensors():
    lr = S.ExponentialDecay(0.1, 10, 0.9)
    assert type(lr(0)) is np.float32 and lr(0) == np.float32(0.1)
    assert lr(10) == np.float32(0.1) * np.float32(0.9)
    assert lr(tf.Variable(10, dtype=tf.int64)) == lr(10)
    assert lr(np.int32(10)) == lr(10.0) == lr(10)
    assert lr([0, 10]).shape == (2,)


# ----------------------------------------------------------------- optimizers with schedules
def test_first_update_uses_step_zero_like_keras():
    schedule = S.PiecewiseConstantDecay([0], [1.0, 0.5])  # 1.0 only at step 0
    w0 = np.float32(5.0)
    ours = [w0]
    opt, state = SGD(schedule), SGD(schedule).init(w0)
    for _ in range(2):
        w, state = opt.step(ours[-1], np.float32(1.0), state)
        ours.append(w)
    assert ours == [5.0, 4.0, 3.5]
    theirs = apply_gradients(keras.optimizers.SGD(K.PiecewiseConstantDecay([0], [1.0, 0.5])), w0,
                             lambda w: np.float32(1.0), 2)
    np.testing.assert_array_equal(np.asarray(ours), theirs)


OPT_CASES = [
    (dict(), "PolynomialDecay", dict(initial_learning_rate=0.2, decay_steps=150)),
    (dict(), "ExponentialDecay", dict(initial_learning_rate=0.2, decay_steps=20, decay_rate=0.5, staircase=True)),
    (dict(momentum=0.9), "CosineDecay", dict(initial_learning_rate=0.0, decay_steps=150, warmup_target=0.1,
                                             warmup_steps=30)),
    (dict(momentum=0.5, nesterov=True), "PiecewiseConstantDecay", dict(boundaries=[50, 150],
                                                                       values=[0.2, 0.05, 0.01])),
    (dict(momentum=0.8), "InverseTimeDecay", dict(initial_learning_rate=0.2, decay_steps=1, decay_rate=0.05)),
]


STEPS_RUN = 200


# The ill-conditioned bowl moved off the origin, so that no value or gradient becomes a float32
# subnormal (TensorFlow flushes those to zero, numpy does not).
BOWL = Quadratic([0.2, 4.0], minimum=[1.0, -2.0])


@pytest.mark.parametrize("sgd_kwargs, name, kwargs", OPT_CASES)
def test_sgd_with_schedule_follows_keras(sgd_kwargs, name, kwargs):
    x0 = np.array([4.0, -3.0], dtype=np.float32)
    ours = [x0]
    opt = SGD(getattr(S, name)(**kwargs), **sgd_kwargs)
    state = opt.init(x0)
    for _ in range(STEPS_RUN):
        x, state = opt.step(ours[-1], BOWL.grad(ours[-1]), state)
        ours.append(x)
    ours = np.stack(ours)
    theirs = apply_gradients(keras.optimizers.SGD(getattr(K, name)(**kwargs), **sgd_kwargs), x0,
                             BOWL.grad, STEPS_RUN)
    assert state.iterations == STEPS_RUN
    if name in ("PiecewiseConstantDecay", "InverseTimeDecay", "PolynomialDecay"):
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_seed_001_table_with_tensorflow_1_code():
    lines = []
    with tf.Graph().as_default():
        global_step = tf.Variable(0, trainable=False)
        learning_rate = tf.compat.v1.train.exponential_decay(0.1, global_step, 1, 0.99, staircase=True)
        w = tf.Variable(tf.constant(5, dtype=tf.float32))
        loss = tf.square(w + 1)
        train_step = tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize(
            loss, global_step=global_step)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for i in range(20):
                sess.run(train_step)
                lines.append(ROW % (i, sess.run(global_step), sess.run(w), sess.run(learning_rate),
                                    sess.run(loss)))
    assert_matches_seed(lines)


def test_seed_001_table_with_tensorflow_2():
    schedule = K.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.99, staircase=True)
    opt = keras.optimizers.SGD(learning_rate=schedule)
    w = tf.Variable(5.0)
    lines = []
    for i in range(20):
        with tf.GradientTape() as tape:
            loss = tf.square(w + 1)
        opt.apply_gradients([(tape.gradient(loss, w), w)])
        lines.append(ROW % (i, opt.iterations.numpy(), w.numpy(), schedule(opt.iterations).numpy(),
                            tf.square(w + 1).numpy()))
    assert_matches_seed(lines)

