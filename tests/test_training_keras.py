"""course_lib.training's Keras side: the seeded MLP and the custom training step, checked against
Keras's own optimizers and tf.train.ExponentialMovingAverage.  Skipped where TensorFlow is not installed."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import course_lib  # noqa: E402, F401  (before TensorFlow: quiet start-up)
from course_lib import optimizers, schedules, training  # noqa: E402
from course_lib.moving_averages import ExponentialMovingAverage  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return training.load_digits(seed=0)


# --------------------------------------------------------------------------- model
def test_build_mlp_is_seeded_with_the_lesson_shapes():
    a, b, c = training.build_mlp(seed=0), training.build_mlp(seed=0), training.build_mlp(seed=1)
    shapes = [w.shape for w in training.get_weights(a)]
    assert shapes == [(64, 64), (64,), (64, 32), (32,), (32, 10), (10,)]
    assert training.max_difference(training.get_weights(a), training.get_weights(b)) == 0
    assert training.max_difference(training.get_weights(a), training.get_weights(c)) > 0.01


def test_set_weights_refuses_wrong_shapes():
    model = training.build_mlp(seed=0)
    with pytest.raises(ValueError, match="6 arrays"):
        training.set_weights(model, training.get_weights(model)[:2])
    bad = training.get_weights(model)
    bad[2] = bad[2].T
    with pytest.raises(ValueError, match="shape"):
        training.set_weights(model, bad)


def _numpy_forward(weights, x):
    h = np.asarray(x, np.float64)
    for i in range(0, len(weights), 2):
        h = h @ weights[i].astype(np.float64) + weights[i + 1]
        if i < len(weights) - 2:
            h = np.maximum(h, 0)
    return h


def test_evaluate_matches_a_numpy_forward_pass_and_restores_weights(digits):
    model = training.build_mlp(seed=0)
    other = training.get_weights(training.build_mlp(seed=3))
    before = training.get_weights(model)
    for weights in (None, other):
        loss, acc = training.evaluate(model, digits.x_val, digits.y_val, weights)
        logits = _numpy_forward(before if weights is None else other, digits.x_val)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        assert loss == pytest.approx(-np.mean(log_p[np.arange(len(logits)), digits.y_val]), rel=1e-5)
        assert acc == pytest.approx(np.mean(logits.argmax(axis=1) == digits.y_val))
    assert training.max_difference(training.get_weights(model), before) == 0


def test_loss_and_grads_match_an_eager_tape(digits):
    model = training.build_mlp(seed=0)
    x, y = digits.x_train[:32], digits.y_train[:32]
    loss, grads = training.loss_and_grads(model, x, y)
    with tf.GradientTape() as tape:
        eager = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x))
    reference = tape.gradient(eager, model.trainable_variables)
    assert float(loss) == pytest.approx(float(eager), rel=1e-6)
    assert training.max_difference([g.numpy() for g in grads], [g.numpy() for g in reference]) < 1e-6


# --------------------------------------------------------------------------- parity with Keras
PAIRS = {
    "SGD momentum": (lambda: optimizers.SGD(0.05, momentum=0.9), lambda: keras.optimizers.SGD(0.05, momentum=0.9)),
    "RMSprop": (lambda: optimizers.RMSprop(0.001), lambda: keras.optimizers.RMSprop(0.001)),
    "Adam + cosine": (lambda: optimizers.Adam(schedules.CosineDecay(0.003, 20)),
                      lambda: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.003, 20))),
    "AdamW": (lambda: optimizers.AdamW(0.003, weight_decay=0.1), lambda: keras.optimizers.AdamW(0.003, 0.1)),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", PAIRS)
def test_course_optimizer_and_keras_reach_the_same_weights(digits, name, compiled):
    ours, theirs = PAIRS[name][0](), PAIRS[name][1]()
    m_ours, m_keras = training.build_mlp(seed=0), training.build_mlp(seed=0)
    start = training.get_weights(m_ours)
    state = ours.init(start)
    for idx in training.batches(len(digits.x_train), 32, steps=25, seed=0):
        loss, state = training.train_step(m_ours, ours, state, digits.x_train[idx], digits.y_train[idx])
        keras_loss = training.keras_train_step(m_keras, theirs, digits.x_train[idx], digits.y_train[idx], compiled)
        assert loss == keras_loss  # same weights so far, so the same batch loss
    assert state.iterations == 25 == int(theirs.iterations.numpy())
    moved = training.max_difference(training.get_weights(m_ours), start)
    assert moved > 1e-2, "the weights hardly moved: the comparison would be empty"
    # Keras's apply_gradients runs eagerly, op by op in the order our numpy code copies, or compiled with
    # Grappler off, which executes the same operations in the same order: bit for bit either way.
    assert training.max_difference(training.get_weights(m_ours), training.get_weights(m_keras)) == 0


def test_keras_train_step_names_a_bad_compiled_flag(digits):
    with pytest.raises(TypeError, match="`compiled` must be True or False"):
        training.keras_train_step(training.build_mlp(seed=0), keras.optimizers.SGD(0.1), digits.x_train[:32],
                                  digits.y_train[:32], compiled="yes")


def test_train_step_leaves_its_state_argument_alone(digits):
    model, opt = training.build_mlp(seed=0), optimizers.Adam(0.01)
    state = opt.init(training.get_weights(model))
    m0 = [a.copy() for a in state.momentums]
    _, new = training.train_step(model, opt, state, digits.x_train[:32], digits.y_train[:32])
    assert state.iterations == 0 and all(np.array_equal(a, b) for a, b in zip(m0, state.momentums))
    assert new.iterations == 1


def test_train_ema_equals_tf_train_exponential_moving_average(digits):
    steps = 30
    run = training.train(optimizers.Adam(0.003), digits, steps=steps, batch_size=32, eval_every=10,
                         ema=ExponentialMovingAverage(0.9), seed=0)
    model, opt = training.build_mlp(seed=0), keras.optimizers.Adam(0.003)
    step = tf.Variable(0, dtype=tf.int64)
    ema = tf.train.ExponentialMovingAverage(0.9, num_updates=step)
    variables = [v.value for v in model.trainable_variables]  # the tf.Variable inside each Keras variable
    ema.apply(variables)  # creates the shadows as copies of the starting weights
    for k, idx in enumerate(training.batches(len(digits.x_train), 32, steps, seed=0), start=1):
        training.keras_train_step(model, opt, digits.x_train[idx], digits.y_train[idx])
        step.assign(k)
        ema.apply(variables)
    averaged = [ema.average(v).numpy() for v in variables]
    assert training.max_difference(run.weights, training.get_weights(model)) < 1e-5
    assert training.max_difference(run.averaged, averaged) < 1e-5
    assert training.max_difference(run.averaged, run.weights) > 1e-3  # the average is not the weights
    assert list(run.eval_steps) == [0, 10, 20, 30]
    assert run.learning_rates.shape == (steps,) and np.all(run.learning_rates == np.float32(0.003))
    assert run.ema_val_accuracy.shape == run.val_accuracy.shape == (4,)
    assert run.train_loss[-1] < run.train_loss[0]

