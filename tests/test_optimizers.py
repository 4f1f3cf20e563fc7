"""course_lib.optimizers without TensorFlow: values published by Keras's own tests, updates worked
out by hand, agreement between our own forms, convergence, and the checks of the API.

The runs against Keras itself are in test_optimizers_keras.py.
"""


import numpy as np
import pytest

from course_lib import optimizers as O
from course_lib.descent import minimize
from course_lib.objectives import ILL_CONDITIONED, ROSENBROCK

ALL = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "Nadam"]

# Options the tests run every optimizer with (here against the one-array form, and against Keras in
# test_optimizers_keras.py).
OPTIONS = [
    ("SGD", {"momentum": 0.5, "weight_decay": 0.01}),
    ("Adagrad", {"initial_accumulator_value": 0.0, "epsilon": 1e-3}),
    ("RMSprop", {"momentum": 0.5}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "rho": 0.8}),
    ("Adadelta", {"rho": 0.5, "epsilon": 1e-4}),
    ("Adam", {"amsgrad": True}),
    ("Adam", {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
    ("Adam", {"weight_decay": 0.1}),
    ("Adam", {"clipnorm": 0.1}),
    ("Adam", {"clipvalue": 0.05}),
    ("Adam", {"global_clipnorm": 0.1}),
    ("AdamW", {"weight_decay": 0.05, "amsgrad": True}),
    ("Adamax", {"beta_2": 0.9, "clipnorm": 0.5}),
    ("Nadam", {"beta_1": 0.8, "global_clipnorm": 0.5}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "clipvalue": 0.1}),
]


# --------------------------------------------------------------------------- published values
# Keras's own test suite (keras/src/optimizers/*_test.py, test_single_step): learning_rate=0.5,
# variables [1, 2, 3, 4], gradients [1, 6, 7, 2], values given to 4 decimals.
KERAS_SINGLE_STEP = {
    "SGD": [0.5, -1.0, -0.5, 3.0],
    "Adagrad": [0.5233, 1.5007, 2.5005, 3.5061],
    "RMSprop": [-0.5811, 0.4189, 1.4189, 2.4189],
    "Adadelta": [0.9993, 1.9993, 2.9993, 3.9993],
    "Adam": [0.5, 1.5, 2.5, 3.5],
    "AdamW": [0.4980, 1.4960, 2.494, 3.492],
    "Adamax": [0.5, 1.5, 2.5, 3.5],
    "Nadam": [0.4686, 1.4686, 2.4686, 3.4686],
}


@pytest.mark.parametrize("name", ALL)
def test_single_step_published_by_keras(name):
    opt = getattr(O, name)(learning_rate=0.5)
    w = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    w1, state = opt.step(w, np.array([1.0, 6.0, 7.0, 2.0], np.float32), opt.init(w))
    np.testing.assert_allclose(w1, KERAS_SINGLE_STEP[name], rtol=1e-4, atol=1e-4)
    assert state.iterations == 1 and w1.dtype == np.float32


# Keras's own test suite (keras/src/optimizers/*_test.py, test_correctness_with_golden): ten float32
# weights start at 1; the first gradient is 0.01 for every weight, each later one 0.1, 0.2, ..., 1.0
# (weight i gets 0.1 * (i + 1)).  The weights after updates 1 to 5, to 4 decimals; a row of one
# number means all ten weights are equal.  Keras checks them to rtol = atol = 5e-4.
KERAS_GOLDEN = {
    "SGD": ({"nesterov": True}, [
        [0.9999],
        [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
        [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
        [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
        [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599]]),
    "Adagrad": ({"learning_rate": 0.2, "initial_accumulator_value": 0.3, "epsilon": 1e-6}, [
        [0.9963],
        [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
        [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
        [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
        [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825]]),
    "RMSprop": ({"centered": True}, [[0.9967], [0.9933], [0.9908], [0.9885], [0.9864]]),
    "Adadelta": ({"learning_rate": 1.0, "rho": 0.8, "epsilon": 1e-6},
                 [[0.9978], [0.9947], [0.9915], [0.9882], [0.9849]]),
    "Adam": ({"amsgrad": True}, [[0.999], [0.9982], [0.9974], [0.9965], [0.9955]]),
    "AdamW": ({"learning_rate": 1.0, "weight_decay": 0.5, "epsilon": 2.0}, [
        [0.4998],
        [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
        [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
        [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
        [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159]]),
    "Adamax": ({"learning_rate": 0.2, "beta_1": 0.85, "beta_2": 0.95, "epsilon": 1e-6}, [
        [0.8],
        [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
        [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
        [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
        [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126]]),
    "Nadam": ({"learning_rate": 0.5, "beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5}, [
        [0.4281],
        [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
        [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
        [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
        [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455, -1.7454]]),
}


@pytest.mark.parametrize("name", ALL)
def test_five_steps_published_by_keras(name):
    kwargs, golden = KERAS_GOLDEN[name]
    opt = getattr(O, name)(**kwargs)
    w = np.ones(10, np.float32)
    state = opt.init(w)
    later = (np.arange(10, dtype=np.float32) + 1) * np.float32(0.1)
    for k, row in enumerate(golden):
        w, state = opt.step(w, np.full(10, 0.01, np.float32) if k == 0 else later, state)
        np.testing.assert_allclose(w, np.broadcast_to(row, (10,)), rtol=5e-4, atol=5e-4,
                                   err_msg=f"{name}{kwargs} after update {k + 1}")
    assert state.iterations == 5 and w.dtype == np.float32


@pytest.mark.parametrize("name", ALL)
def test_weight_decay_published_by_keras(name):
    # Keras's test_weight_decay: a weight of 2.0 with zero gradient, learning_rate 1 and weight_decay
    # 0.004, decayed three times: 2 * 0.996**3 = 1.9760959 (checked there to 6 decimals).
    opt = getattr(O, name)(learning_rate=1.0, weight_decay=0.004)
    w = np.float32(2.0)
    state = opt.init(w)
    for _ in range(3):
        w, state = opt.step(w, np.float32(0.0), state)
    assert abs(float(w) - 1.9760959) < 5e-7


@pytest.mark.parametrize("name", ALL)
def test_clipping_published_by_keras(name):
    # Keras's test_clip_norm and test_clip_value: the gradient [100, 100] clipped to norm 1 is
    # [sqrt(2)/2, sqrt(2)/2], clipped to value 1 it is [1, 1].
    g = [np.array([100.0, 100.0])]
    np.testing.assert_allclose(getattr(O, name)(clipnorm=1.0)._clip(g)[0], [2 ** 0.5 / 2] * 2, rtol=1e-12)
    np.testing.assert_array_equal(getattr(O, name)(clipvalue=1.0)._clip(g)[0], [1.0, 1.0])


def test_single_steps_by_hand():
    w, g = np.array([1.0]), np.array([0.5])
    # Adagrad: accumulator 0.1 + 0.25, epsilon inside the root.
    w1, _ = O.Adagrad(0.1).step(w, g, O.Adagrad(0.1).init(w))
    np.testing.assert_allclose(w1, 1 - 0.1 * 0.5 / np.sqrt(0.1 + 0.25 + 1e-7), rtol=1e-7)
    # RMSprop: v = 0.1 * g**2, so the first step is lr / sqrt(0.1) (no bias correction).
    w1, _ = O.RMSprop(0.1).step(w, g, O.RMSprop(0.1).init(w))
    np.testing.assert_allclose(w1, 1 - 0.1 * 0.5 / np.sqrt(0.1 * 0.25 + 1e-7), rtol=1e-6)
    # Adam: after bias correction m_hat = g and v_hat = g**2, so the step is about lr * sign(g).
    w1, _ = O.Adam(0.1, epsilon=0.0).step(w, g, O.Adam(0.1, epsilon=0.0).init(w))
    np.testing.assert_allclose(w1, 0.9, rtol=1e-6)
    # Adamax: u = |g|, step lr * m / ((1 - beta_1) * u) = lr.
    w1, _ = O.Adamax(0.1, epsilon=0.0).step(w, g, O.Adamax(0.1, epsilon=0.0).init(w))
    np.testing.assert_allclose(w1, 0.9, rtol=1e-6)
    # SGD weight decay: w - w*wd*lr first, then the gradient step.
    w1, _ = O.SGD(0.1, weight_decay=0.5).step(w, g, O.SGD(0.1, weight_decay=0.5).init(w))
    np.testing.assert_allclose(w1, 1 - 1 * 0.5 * 0.1 - 0.1 * 0.5, rtol=1e-7)


def test_clipping_by_hand():
    w, g = [np.zeros(2), np.zeros(1)], [np.array([3.0, 4.0]), np.array([12.0])]
    sgd = O.SGD(1.0, clipnorm=1.0)
    np.testing.assert_allclose(sgd.step(w, g, sgd.init(w))[0][0], [-0.6, -0.8])
    np.testing.assert_allclose(sgd.step(w, g, sgd.init(w))[0][1], [-1.0])
    glob = O.SGD(1.0, global_clipnorm=1.3)  # global norm 13 -> scale 0.1
    out = glob.step(w, g, glob.init(w))[0]
    np.testing.assert_allclose(np.concatenate(out), [-0.3, -0.4, -1.2], rtol=1e-7)
    val = O.SGD(1.0, clipvalue=3.5)
    np.testing.assert_allclose(np.concatenate(val.step(w, g, val.init(w))[0]), [-3.0, -3.5, -3.5])


# --------------------------------------------------------------------------- our forms agree
def test_momentum_forms_are_the_same_method():
    """v = b*v + (1-b)*g; w -= lr*v  equals Keras's form with learning_rate = lr * (1 - b)."""
    lr, b = 0.25, 0.875  # exact in float32, so Keras's float32 rounding of them changes nothing
    w, v = np.array([-5.0, -2.0]), np.zeros(2)
    ours = O.SGD(lr * (1 - b), momentum=b)
    p, state = w.copy(), ours.init(w)
    for _ in range(300):
        v = b * v + (1 - b) * ILL_CONDITIONED.grad(w)
        w = w - lr * v
        p, state = ours.step(p, ILL_CONDITIONED.grad(p), state)
    np.testing.assert_allclose(p, w, rtol=1e-9, atol=1e-12)


def test_keras_nesterov_tracks_the_look_ahead_point():
    """Sutskever's Nesterov (gradient at w + m*v) in the variable phi = w + m*v is Keras's form."""
    lr, m = 0.125, 0.75  # exact in float32
    w, v = np.array([-5.0, -2.0]), np.zeros(2)
    nag = O.SGD(lr, momentum=m, nesterov=True)
    p, state = w.copy(), nag.init(w)
    for _ in range(200):
        v = m * v - lr * ILL_CONDITIONED.grad(w + m * v)
        w = w + v
        p, state = nag.step(p, ILL_CONDITIONED.grad(p), state)
    np.testing.assert_allclose(p, w + m * v, rtol=1e-9, atol=1e-12)


def test_adam_with_beta_1_zero_is_bias_corrected_rmsprop():
    b2, lr = 0.9, 0.05
    adam = O.Adam(lr, beta_1=0.0, beta_2=b2, epsilon=0.0)
    rms = O.RMSprop(lambda step: lr * np.sqrt(1 - np.float32(b2) ** (step + 1.0)), rho=b2, epsilon=0.0)
    a = minimize(ROSENBROCK, np.array([-1.5, 2.0]), adam, 300).params
    r = minimize(ROSENBROCK, np.array([-1.5, 2.0]), rms, 300).params
    assert np.max(np.abs(a[-1] - a[0])) > 0.5
    # the schedule is rounded to float32 as Keras rounds learning rates, hence 1e-6
    np.testing.assert_allclose(a, r, rtol=1e-6, atol=1e-6)


def test_adamw_is_adam_with_weight_decay():
    x0 = np.array([-5.0, -2.0])
    a = minimize(ILL_CONDITIONED, x0, O.AdamW(0.05, weight_decay=0.1), 100).params
    b = minimize(ILL_CONDITIONED, x0, O.Adam(0.05, weight_decay=0.1), 100).params
    c = minimize(ILL_CONDITIONED, x0, O.Adam(0.05), 100).params
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a - c)) > 1e-3


# --------------------------------------------------------------------------- convergence
CONVERGE = {  # hyperparameters a student would try; steps allowed
    "SGD": ({"learning_rate": 0.3, "momentum": 0.6}, {"learning_rate": 0.001, "momentum": 0.9}),
    "Adagrad": ({"learning_rate": 1.0}, {"learning_rate": 0.5}),
    "RMSprop": ({"learning_rate": 0.01}, {"learning_rate": 0.002}),
    "Adadelta": ({"learning_rate": 10.0}, {"learning_rate": 10.0}),
    "Adam": ({"learning_rate": 0.1}, {"learning_rate": 0.02}),
    "AdamW": ({"learning_rate": 0.1, "weight_decay": 0.0}, {"learning_rate": 0.02, "weight_decay": 0.0}),
    "Adamax": ({"learning_rate": 0.1}, {"learning_rate": 0.02}),
    "Nadam": ({"learning_rate": 0.1}, {"learning_rate": 0.02}),
}


@pytest.mark.parametrize("name", ALL)
def test_converges_on_the_ill_conditioned_quadratic(name):
    traj = minimize(ILL_CONDITIONED, np.array([-5.0, -2.0]), getattr(O, name)(**CONVERGE[name][0]), 2000)
    assert traj.diverged_at is None
    assert traj.loss[-1] < 1e-3 * traj.loss[0]
    assert np.linalg.norm(traj.final) < 0.1


@pytest.mark.parametrize("name", ALL)
def test_converges_on_rosenbrock(name):
    traj = minimize(ROSENBROCK, np.array([-1.5, 2.0]), getattr(O, name)(**CONVERGE[name][1]), 10000)
    assert traj.diverged_at is None
    if name == "Adadelta":  # it crawls along the valley: only ask for real progress
        assert traj.loss[-1] < 0.2 * traj.loss[0]
        return
    assert np.linalg.norm(traj.final - ROSENBROCK.minimizer) < 0.1, traj.final


# --------------------------------------------------------------------------- API and arguments
@pytest.mark.parametrize("name", ALL)
def test_state_is_explicit_and_inputs_are_not_mutated(name):
    opt = getattr(O, name)(learning_rate=0.1)
    params = {"w": np.array([1.0, -2.0], np.float32), "b": np.float32(0.5)}
    grads = {"w": np.array([0.3, 0.1], np.float32), "b": np.float32(-0.2)}
    copies = ({k: np.copy(v) for k, v in params.items()}, {k: np.copy(v) for k, v in grads.items()})
    state = opt.init(params)
    assert isinstance(state, tuple) and hasattr(state, "_fields") and state.iterations == 0
    new, state2 = opt.step(params, grads, state)
    for k in params:
        np.testing.assert_array_equal(params[k], copies[0][k])
        np.testing.assert_array_equal(grads[k], copies[1][k])
        assert new[k].dtype == np.float32 and not np.array_equal(new[k], params[k])
    assert state.iterations == 0 and state2.iterations == 1
    assert type(state2) is type(state)


BAD = [
    ("SGD", {"learning_rate": -0.1}, "learning_rate"),
    ("Adam", {"learning_rate": -1e-3}, "learning_rate"),
    ("SGD", {"momentum": -0.1}, "momentum"),
    ("SGD", {"momentum": 1.5}, "momentum"),
    ("RMSprop", {"momentum": 1.01}, "momentum"),
    ("RMSprop", {"rho": 1.2}, "rho"),
    ("RMSprop", {"rho": -0.1}, "rho"),
    ("Adadelta", {"rho": 2.0}, "rho"),
    ("Adam", {"beta_1": 1.0}, "beta_1"),
    ("Adam", {"beta_1": -0.1}, "beta_1"),
    ("Adam", {"beta_2": 1.0}, "beta_2"),
    ("Adamax", {"beta_1": 1.0}, "beta_1"),
    ("Nadam", {"beta_1": 1.5}, "beta_1"),
    ("AdamW", {"beta_1": 1.0}, "beta_1"),
    ("Adam", {"epsilon": -1e-7}, "epsilon"),
    ("Adagrad", {"epsilon": -1.0}, "epsilon"),
    ("Adagrad", {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
    ("Adam", {"weight_decay": -0.1}, "weight_decay"),
    ("AdamW", {"weight_decay": None}, "weight_decay"),
    ("Adam", {"clipnorm": 0.0}, "clipnorm"),
    ("Adam", {"clipnorm": 1.0, "clipvalue": 1.0}, "clipnorm"),
]


@pytest.mark.parametrize("name,kwargs,arg", BAD, ids=[f"{n}-{a}-{list(k.values())[0]}" for n, k, a in BAD])
def test_bad_arguments_name_the_argument(name, kwargs, arg):
    with pytest.raises(ValueError, match=f"`{arg}`"):
        getattr(O, name)(**kwargs)


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="nesterov"):
        O.SGD(nesterov=1)
    with pytest.raises(TypeError, match="amsgrad"):
        O.Adam(amsgrad="yes")
    with pytest.raises(TypeError, match="beta_1"):
        O.Adam(beta_1="0.9")


@pytest.mark.parametrize("name", ALL)
def test_grads_must_match_params(name):
    opt = getattr(O, name)()
    params = {"w": np.zeros(3), "b": np.zeros(1)}
    state = opt.init(params)
    with pytest.raises(ValueError, match="`grads`"):
        opt.step(params, {"w": np.zeros(2), "b": np.zeros(1)}, state)        # wrong shape
    with pytest.raises(ValueError, match="`grads`"):
        opt.step(params, {"w": np.zeros(3)}, state)                          # missing key
    with pytest.raises(ValueError, match="`grads`"):
        opt.step(params, [np.zeros(3), np.zeros(1)], state)                  # list, not dict
    with pytest.raises(TypeError, match="`state`"):
        opt.step(params, params, (0,))


@pytest.mark.parametrize("name,kwargs", OPTIONS + [(n, {}) for n in ALL],
                         ids=[f"{n}-{'-'.join(k)}" for n, k in OPTIONS] + ALL)
def test_one_array_takes_the_same_steps_as_a_list_holding_it(name, kwargs):
    # step() has a short path for a single ndarray; it must agree with the general tree walk.
    opt = getattr(O, name)(**kwargs)
    x = np.array([-5.0, 2.0], np.float32)
    one, many = (x, opt.init(x)), ([x], opt.init([x]))
    for _ in range(30):
        one = opt.step(one[0], ILL_CONDITIONED.grad(one[0]), one[1])
        many = opt.step(many[0], [ILL_CONDITIONED.grad(many[0][0])], many[1])
    assert not np.array_equal(one[0], x)  # it moved
    assert type(one[0]) is np.ndarray and one[0].dtype == np.float32
    np.testing.assert_array_equal(one[0], many[0][0])
    for field, a, b in zip(one[1]._fields, one[1], many[1]):
        if a is None or isinstance(a, int):
            assert a == b, field
        else:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b[0] if isinstance(b, list) else b), field)


def test_state_must_match_params():
    opt = O.Adam()
    state = opt.init(np.zeros(3))
    with pytest.raises(ValueError, match="state.momentums"):
        opt.step(np.zeros(4), np.zeros(4), state)


def test_schedule_returning_negative_rate_is_refused():
    opt = O.Adam(learning_rate=lambda step: -1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        opt.step(np.zeros(1), np.ones(1), opt.init(np.zeros(1)))


def test_learning_rates_are_the_rates_of_learning_rate_at_for_every_step():
    from course_lib import schedules as S

    for rate in (0.05, S.CosineDecay(0.0, 90, warmup_target=0.1, warmup_steps=10), S.ExponentialDecay(0.1, 7, 0.9),
                 S.PiecewiseConstantDecay([10, 20], [0.1, 0.05, 0.01]), lambda step: 0.1 * min(1.0, step / 10)):
        opt = O.SGD(rate)
        rates = opt.learning_rates(120)
        assert rates.dtype == np.float32 and rates.shape == (120,)
        np.testing.assert_array_equal(rates, [opt.learning_rate_at(k) for k in range(120)])   # the same bits
    assert O.SGD(0.1).learning_rates(0).shape == (0,)
    with pytest.raises(ValueError, match="steps"):
        O.SGD(0.1).learning_rates(-1)


def test_a_callable_rate_may_give_one_rate_per_stacked_run():
    column = np.array([[0.1], [0.2]])
    opt = O.SGD(lambda step: column)
    rate = opt.learning_rate_at(0)
    assert rate.dtype == np.float32 and rate.shape == (2, 1)
    ones = np.ones((2, 3), np.float32)
    params, _ = opt.step(ones, ones, opt.init(ones))
    one = np.float32(1)
    np.testing.assert_array_equal(params, [[one - np.float32(0.1)] * 3, [one - np.float32(0.2)] * 3])
    with pytest.raises(ValueError, match="learning_rate"):
        O.SGD(lambda step: np.array([[0.1], [np.nan]])).learning_rate_at(0)


def test_nadam_keeps_one_u_product_for_all_parameters():
    opt = O.Nadam(0.1)
    params = {"a": np.ones(2, np.float32), "b": np.ones(3)}       # float32 first: Keras keeps u_product there
    state = opt.init(params)
    assert state.u_product.dtype == np.float32 and state.u_product.shape == ()
    params, state = opt.step(params, params, state)
    u_1 = np.float32(0.9) * (np.float32(1) - np.float32(0.5) * np.float32(0.96))
    assert state.u_product == u_1 and state.u_product.dtype == np.float32
    with pytest.raises(TypeError, match="u_product"):
        opt.step(params, params, O.NadamState(0, *state[1:3]))
