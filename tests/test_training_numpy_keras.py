"""The numpy trainer against the Keras model: from the same starting weights, on the same batches,
train_numpy follows train (GradientTape gradients in a Keras model) to float32 rounding."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from course_lib import optimizers, schedules, training  # noqa: E402
from course_lib.moving_averages import ExponentialMovingAverage  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return training.load_digits(seed=0)


def test_numpy_gradients_equal_the_tapes(digits):
    model = training.build_mlp(seed=0)
    for seed in (0, 1):
        idx = training.batches(len(digits.x_train), 32, 1, seed=seed)[0]
        loss, grads = training.loss_and_grads(model, digits.x_train[idx], digits.y_train[idx])
        ours, our_grads = training.numpy_loss_and_grads(training.get_weights(model), digits.x_train[idx],
                                                        digits.y_train[idx])
        assert abs(float(loss) - ours) <= 1e-6
        assert training.max_difference([g.numpy() for g in grads], our_grads) <= 1e-6


@pytest.mark.parametrize("make", [lambda: optimizers.SGD(0.03, momentum=0.9),
                                  lambda: optimizers.Adam(schedules.CosineDecay(0.001, 60, warmup_target=0.003,
                                                                                warmup_steps=10))],
                         ids=["momentum", "Adam warmup cosine"])
def test_train_numpy_follows_the_keras_model(digits, make):
    ema = ExponentialMovingAverage(0.99)
    keras_run = training.train(make(), digits, steps=60, eval_every=1, ema=ema, seed=0)
    start = training.get_weights(training.build_mlp(seed=0))
    run = training.train_numpy(make(), digits, steps=60, eval_every=1, ema=ema, seeds=(0,), initial_weights=[start])[0]
    assert np.array_equal(run.eval_steps, keras_run.eval_steps)
    assert np.max(np.abs(run.train_loss / keras_run.train_loss - 1)) <= 1e-5
    assert np.max(np.abs(run.ema_val_loss / keras_run.ema_val_loss - 1)) <= 1e-5
    assert training.max_difference(run.weights, keras_run.weights) <= 1e-5
    assert training.max_difference(run.averaged, keras_run.averaged) <= 1e-5
    assert training.max_difference(run.weights, start) > 0.01                     # the weights did move
    assert np.array_equal(run.learning_rates, keras_run.learning_rates)
