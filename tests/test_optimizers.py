"""course_lib.optimizers against Keras 3, against published values, and against theory.

Parity runs feed the Keras optimizer and ours exactly the same gradients (computed in
numpy from the current parameters, via ``tf_twins.apply_gradients``) for hundreds of
steps and compare every iterate.
"""

import inspect
import math

import numpy as np
import pytest

import course_lib  # noqa: F401  (before TensorFlow: quiet start-up)
from course_lib import optimizers as O
from course_lib.core import tree_leaves
from course_lib.descent import minimize
from course_lib.objectives import ILL_CONDITIONED, ROSENBROCK, SEED_LOSS
from course_lib.tf_twins import apply_gradients, keras, set_seed

set_seed(0)
ALL = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "Nadam"]


# --------------------------------------------------------------------------- problems
def _least_squares(dtype=np.float32):
    """A 1000-parameter linear least-squares problem (kernel 999x1 + bias 1), as a dict."""
    rng = np.random.default_rng(7)
    a = (rng.normal(size=(1500, 999)) / np.sqrt(1500)).astype(dtype)
    y = (a @ rng.normal(size=(999, 1)) + 0.5 + 0.1 * rng.normal(size=(1500, 1))).astype(dtype)
    n = dtype(len(y))

    def grad(p):  # einsum, not `@`: BLAS threads fight TensorFlow's thread pool and crawl
        err = np.einsum("ij,jk->ik", a, p["kernel"]) + p["bias"] - y
        return {"kernel": np.einsum("ji,jk->ik", a, err) / n, "bias": err.sum(axis=0) / n}
    return {"kernel": np.zeros((999, 1), dtype), "bias": np.zeros(1, dtype)}, grad


def problem(name, dtype=np.float32):
    if name == "1-D seed loss":
        return dtype(5.0), SEED_LOSS.grad
    if name == "2-D ill-conditioned":
        return np.array([-5.0, -2.0], dtype), ILL_CONDITIONED.grad
    if name == "Rosenbrock":
        return np.array([-1.5, 2.0], dtype), ROSENBROCK.grad
    return _least_squares(dtype)


PROBLEMS = ["1-D seed loss", "2-D ill-conditioned", "Rosenbrock", "least squares (1000 params)"]
# Learning rates that make every run move a lot without diverging.
LR = {"SGD": {"Rosenbrock": 0.0005, None: 0.05}, "Adagrad": {None: 0.5}, "Adadelta": {None: 1.0},
      None: {None: 0.05}}


def lr_for(name, prob):
    table = LR.get(name, LR[None])
    return table.get(prob, table[None])


def run_ours(opt, x0, grad, steps):
    history, p, state = [x0], x0, opt.init(x0)
    for _ in range(steps):
        p, state = opt.step(p, grad(p), state)
        history.append(p)
    return [np.stack(leaves) for leaves in zip(*(tree_leaves(h) for h in history))]


def assert_parity(name, kwargs, prob, dtype=np.float32, steps=500):
    x0, grad = problem(prob, dtype)
    kwargs = {"learning_rate": lr_for(name, prob), **kwargs}
    ours = run_ours(getattr(O, name)(**kwargs), x0, grad, steps)
    theirs = tree_leaves(apply_gradients(getattr(keras.optimizers, name)(**kwargs), x0, grad, steps))
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype == dtype
        assert np.all(np.isfinite(b)), "the Keras run diverged: the test's learning rate is too large"
        assert np.max(np.abs(b[-1] - b[0])) > 1e-3, "the run barely moved: the comparison would prove little"
        # float32 rounding: a few units in the last place of the largest weight
        tol = 4 * np.finfo(dtype).eps * max(1.0, np.max(np.abs(b)))
        diff = np.max(np.abs(a - b))
        assert diff <= tol, f"{name}{kwargs} on {prob}: max |ours - Keras| = {diff:.3g} > {tol:.3g}"


# --------------------------------------------------------------------------- parity with Keras
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("prob", ["1-D seed loss", "2-D ill-conditioned", "Rosenbrock"])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}],
                         ids=["plain", "momentum", "nesterov"])
def test_sgd_matches_keras(kwargs, prob, dtype):
    assert_parity("SGD", kwargs, prob, dtype, steps=300)


BASE = {"SGD": {"momentum": 0.9}, "Adagrad": {}, "RMSprop": {}, "Adadelta": {}, "Adam": {}, "AdamW": {},
        "Adamax": {}, "Nadam": {}}


@pytest.mark.parametrize("prob", PROBLEMS)
@pytest.mark.parametrize("name", ALL)
def test_every_optimizer_matches_keras_for_500_steps(name, prob):
    assert_parity(name, BASE[name], prob)


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


@pytest.mark.parametrize("prob", ["2-D ill-conditioned", "least squares (1000 params)"])
@pytest.mark.parametrize("name,kwargs", OPTIONS, ids=[f"{n}-{'-'.join(k)}" for n, k in OPTIONS])
def test_every_option_matches_keras(name, kwargs, prob):
    assert_parity(name, kwargs, prob)


@pytest.mark.parametrize("name", ALL)
def test_float64_matches_keras(name):
    """float64 parameters: Keras still rounds its casted hyperparameters through float32."""
    assert_parity(name, BASE[name], "2-D ill-conditioned", np.float64)


def test_learning_rate_schedule_matches_keras():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=20, decay_rate=0.5)
    x0, grad = problem("2-D ill-conditioned")
    ours = run_ours(O.Adam(learning_rate=schedule, weight_decay=0.1), x0, grad, 200)[0]
    theirs = apply_gradients(keras.optimizers.Adam(learning_rate=schedule, weight_decay=0.1), x0, grad, 200)
    assert np.max(np.abs(ours - theirs)) <= 4e-7


def test_defaults_and_argument_names_match_keras():
    for name in ALL:
        ours = inspect.signature(getattr(O, name)).parameters
        theirs = inspect.signature(getattr(keras.optimizers, name)).parameters
        for arg, p in ours.items():
            assert arg in theirs, f"{name} has no Keras argument {arg!r}"
            assert p.default == theirs[arg].default, f"{name}({arg}=...) default differs from Keras"
        # and the order of the shared arguments is Keras's
        assert list(ours) == [a for a in theirs if a in ours]


def test_get_by_name_uses_defaults_like_compile():
    for name in ALL:
        ours, theirs = O.get(name.lower()), keras.optimizers.get(name.lower())
        assert type(ours).__name__ == type(theirs).__name__
        assert math.isclose(ours.learning_rate, float(theirs.learning_rate), rel_tol=1e-6)
    with pytest.raises(ValueError, match="identifier"):
        O.get("adamm")


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
