"""Bad input gets a clear error naming the argument and what is allowed.

One table of wrong calls across course_lib's public constructors and functions: wrong types,
NaN and infinity, values out of range, and params/grads whose structure disagrees.  Each
must raise ValueError or TypeError whose message names the argument (in backquotes).
"""

import math

import numpy as np
import pytest

from course_lib import backprop, data, descent, moving_averages, optimizers, schedules, widgets
from course_lib.objectives import SEED_LOSS, Quadratic, Rosenbrock

P = {"kernel": np.ones((2, 1)), "bias": np.zeros(1)}

BAD_CALLS = [
    # optimizers: hyperparameters
    ("SGD lr <= 0", lambda: optimizers.SGD(learning_rate=0.0), "learning_rate"),
    ("SGD lr negative", lambda: optimizers.SGD(learning_rate=-0.1), "learning_rate"),
    ("SGD lr NaN", lambda: optimizers.SGD(learning_rate=math.nan), "learning_rate"),
    ("SGD lr inf", lambda: optimizers.SGD(learning_rate=math.inf), "learning_rate"),
    ("SGD lr string", lambda: optimizers.SGD(learning_rate="0.1"), "learning_rate"),
    ("SGD momentum > 1", lambda: optimizers.SGD(momentum=1.5), "momentum"),
    ("SGD momentum < 0", lambda: optimizers.SGD(momentum=-0.1), "momentum"),
    ("SGD nesterov not bool", lambda: optimizers.SGD(nesterov="yes"), "nesterov"),
    ("Adam beta_1 = 1", lambda: optimizers.Adam(beta_1=1.0), "beta_1"),
    ("Adam beta_2 negative", lambda: optimizers.Adam(beta_2=-0.5), "beta_2"),
    ("Adam epsilon negative", lambda: optimizers.Adam(epsilon=-1e-7), "epsilon"),
    ("RMSprop rho > 1", lambda: optimizers.RMSprop(rho=1.1), "rho"),
    ("Adagrad accumulator negative", lambda: optimizers.Adagrad(initial_accumulator_value=-1.0),
     "initial_accumulator_value"),
    # optimizers: params, grads and state that disagree
    ("grads shape", lambda: optimizers.SGD().step(P, {"kernel": np.ones((1, 2)), "bias": np.zeros(1)},
                                                  optimizers.SGD().init(P)), "grads"),
    ("grads keys", lambda: optimizers.SGD().step(P, {"kernel": np.ones((2, 1))}, optimizers.SGD().init(P)), "grads"),
    ("grads list vs dict", lambda: optimizers.SGD().step(P, [np.ones((2, 1)), np.zeros(1)],
                                                         optimizers.SGD().init(P)), "grads"),
    ("state of another optimizer", lambda: optimizers.SGD().step(P, P, optimizers.Adam().init(P)), "state"),
    ("params not numbers", lambda: optimizers.SGD().init({"w": "abc"}), "params"),
    ("schedule returns NaN", lambda: optimizers.SGD(learning_rate=lambda step: math.nan).step(
        P, P, optimizers.SGD(learning_rate=lambda step: math.nan).init(P)), "learning_rate"),
    # schedules
    ("ExponentialDecay decay_steps 0", lambda: schedules.ExponentialDecay(0.1, 0, 0.9), "decay_steps"),
    ("ExponentialDecay rate negative", lambda: schedules.ExponentialDecay(-0.1, 10, 0.9), "initial_learning_rate"),
    ("InverseTimeDecay decay_steps negative", lambda: schedules.InverseTimeDecay(0.1, -5, 0.5), "decay_steps"),
    ("Piecewise unsorted", lambda: schedules.PiecewiseConstantDecay([10, 5], [1.0, 0.5, 0.1]), "boundaries"),
    ("Piecewise lengths", lambda: schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5]), "values"),
    ("CosineDecay NaN", lambda: schedules.CosineDecay(math.nan, 100), "initial_learning_rate"),
    ("schedule at negative step", lambda: schedules.ExponentialDecay(0.1, 10, 0.9)(-1), "step"),
    # moving averages
    ("EMA decay > 1", lambda: moving_averages.ExponentialMovingAverage(1.5), "decay"),
    ("EMA decay NaN", lambda: moving_averages.ExponentialMovingAverage(math.nan), "decay"),
    ("EMA shape mismatch", lambda: moving_averages.ExponentialMovingAverage(0.9).apply(
        np.ones(3), moving_averages.ExponentialMovingAverage(0.9).init(np.ones(2))), "shape"),
    ("moving_average decay < 0", lambda: moving_averages.moving_average(np.ones(5), -0.1), "decay"),
    # objectives, data, descent, backprop
    ("Quadratic not symmetric", lambda: Quadratic([[1.0, 2.0], [0.0, 1.0]]), "hessian"),
    ("Quadratic NaN minimum", lambda: Quadratic(2.0, math.nan), "minimum"),
    ("Rosenbrock b <= 0", lambda: Rosenbrock(b=-1.0), "b"),
    ("linear_regression n = 0", lambda: data.linear_regression(n=0), "n"),
    ("linear_regression noise NaN", lambda: data.linear_regression(noise=math.nan), "noise"),
    ("batch_indices batch too big", lambda: data.batch_indices(10, batch_size=20), "batch_size"),
    ("minimize negative steps", lambda: descent.minimize(SEED_LOSS, 5.0, optimizers.SGD(0.1), -1), "steps"),
    ("minimize steps float", lambda: descent.minimize(SEED_LOSS, 5.0, optimizers.SGD(0.1), 2.5), "steps"),
    ("MLP one layer", lambda: backprop.MLP((2,)), "units"),
    ("MLP unknown activation", lambda: backprop.MLP((2, 3, 1), activation="swish"), "activation"),
    ("MLP unknown loss", lambda: backprop.MLP((2, 1), loss="hinge"), "loss"),
    # widgets and TensorFlow twins
    ("png_bytes RGB image", lambda: widgets.png_bytes(np.zeros((4, 4, 3), np.uint8)), "rgba"),
    ("png_bytes floats", lambda: widgets.png_bytes(np.zeros((4, 4, 4))), "rgba"),
    ("linear_model bias shape", lambda: _tf_twins().linear_model(np.ones((2, 1)), np.zeros(2)), "kernel0"),
    ("batch_dataset lengths", lambda: _tf_twins().batch_dataset(np.ones((5, 1)), np.ones((4, 1)), [[[0]]]), "x"),
    ("batch_dataset index out of range", lambda: _tf_twins().batch_dataset(
        np.ones((5, 1)), np.ones((5, 1)), [[np.array([0, 5])]]), "batches"),
    ("batch_dataset flat list", lambda: _tf_twins().batch_dataset(np.ones((5, 1)), np.ones((5, 1)), [0, 1]),
     "batches"),
]


def _tf_twins():
    """course_lib.tf_twins, for the rows that need TensorFlow (they skip where it is not installed)."""
    pytest.importorskip("tensorflow")
    from course_lib import tf_twins

    return tf_twins


@pytest.mark.parametrize("call, argument", [pytest.param(c, a, id=i) for i, c, a in BAD_CALLS])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    assert f"`{argument}" in message or f"{argument}" in message.split(":")[0], message
    assert len(message) > 20


def test_there_are_at_least_25_bad_inputs():
    assert len(BAD_CALLS) >= 25


def test_range_is_stated_for_numbers():
    with pytest.raises(ValueError, match=r"`learning_rate` must be in \(0, inf\)"):
        optimizers.SGD(learning_rate=-1.0)
    with pytest.raises(ValueError, match=r"`momentum` must be in \[0, 1\]"):
        optimizers.SGD(momentum=2.0)
