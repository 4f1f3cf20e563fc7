"""course_lib.optimizers against Keras 3.

Parity runs feed the Keras optimizer and ours exactly the same gradients (computed in
numpy from the current parameters, via ``tf_twins.apply_gradients``) for hundreds of
steps and compare every iterate.  The Keras updates run compiled (``compiled=True``: a
``tf.function`` with Grappler off), which gives the eager updates' results to the last bit in
well under half the time; the first test below checks that on the cases most sensitive to it.
Skipped where TensorFlow is not installed.
"""

import inspect
import math

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from test_optimizers import ALL, OPTIONS  # noqa: E402

import course_lib  # noqa: E402, F401  (before TensorFlow: quiet start-up)
from course_lib import optimizers as O  # noqa: E402
from course_lib.core import tree_leaves  # noqa: E402
from course_lib.objectives import ILL_CONDITIONED, ROSENBROCK, SEED_LOSS  # noqa: E402
from course_lib.tf_twins import apply_gradients, keras, set_seed, tf  # noqa: E402

set_seed(0)


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


def assert_parity(name, kwargs, prob, dtype=np.float32, steps=300):
    x0, grad = problem(prob, dtype)
    kwargs = {"learning_rate": lr_for(name, prob), **kwargs}
    ours = run_ours(getattr(O, name)(**kwargs), x0, grad, steps)
    theirs = tree_leaves(apply_gradients(getattr(keras.optimizers, name)(**kwargs), x0, grad, steps, compiled=True))
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype == dtype
        assert np.all(np.isfinite(b)), "the Keras run diverged: the test's learning rate is too large"
        assert np.max(np.abs(b[-1] - b[0])) > 1e-3, "the run barely moved: the comparison would prove little"
        # float32 rounding: a few units in the last place of the largest weight
        tol = 4 * np.finfo(dtype).eps * max(1.0, np.max(np.abs(b)))
        diff = np.max(np.abs(a - b))
        assert diff <= tol, f"{name}{kwargs} on {prob}: max |ours - Keras| = {diff:.3g} > {tol:.3g}"


# --------------------------------------------------------------------------- compiled = eager
def assert_compiled_equals_eager(make_optimizer, x0, make_grad_fn, steps):
    """A Keras optimizer's updates, eager and ``compiled=True``, agree to the last bit, and Grappler's
    setting is as it was afterwards.  ``make_grad_fn()`` gives each run its own gradient function."""
    before = tf.config.optimizer.get_experimental_options()
    eager, compiled = (tree_leaves(apply_gradients(make_optimizer(), x0, make_grad_fn(), steps, compiled=flag))
                       for flag in (False, True))
    assert tf.config.optimizer.get_experimental_options() == before   # Grappler is back as it was
    for a, b in zip(eager, compiled, strict=True):
        assert a.shape == b.shape and a.shape[0] == steps + 1
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,kwargs,prob,steps", [
    # With Grappler on, the compiled RMSprop drifts from the eager one on the least-squares problem.
    ("RMSprop", {"centered": True, "momentum": 0.5, "rho": 0.8}, "least squares (1000 params)", 100),
    ("AdamW", {"weight_decay": 0.05, "amsgrad": True}, "least squares (1000 params)", 100),
    ("Nadam", {}, "Rosenbrock", 300),
    ("SGD", {"momentum": 0.9, "nesterov": True}, "2-D ill-conditioned", 200),
], ids=["RMSprop", "AdamW", "Nadam", "SGD"])
def test_compiled_keras_updates_equal_eager_ones_bit_for_bit(name, kwargs, prob, steps):
    x0, grad = problem(prob)
    kwargs = {"learning_rate": lr_for(name, prob), **kwargs}
    assert_compiled_equals_eager(lambda: getattr(keras.optimizers, name)(**kwargs), x0, lambda: grad, steps)
    with pytest.raises(TypeError, match="compiled"):
        apply_gradients(keras.optimizers.SGD(), x0, grad, 1, compiled="yes")


# --------------------------------------------------------------------------- parity with Keras
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("prob", ["1-D seed loss", "2-D ill-conditioned", "Rosenbrock"])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}],
                         ids=["plain", "momentum", "nesterov"])
def test_sgd_matches_keras(kwargs, prob, dtype):
    assert_parity("SGD", kwargs, prob, dtype, steps=200)


BASE = {"SGD": {"momentum": 0.9}, "Adagrad": {}, "RMSprop": {}, "Adadelta": {}, "Adam": {}, "AdamW": {},
        "Adamax": {}, "Nadam": {}}


@pytest.mark.parametrize("prob", PROBLEMS)
@pytest.mark.parametrize("name", ALL)
def test_every_optimizer_matches_keras_for_300_steps(name, prob):
    assert_parity(name, BASE[name], prob)


@pytest.mark.parametrize("prob", ["2-D ill-conditioned", "least squares (1000 params)"])
@pytest.mark.parametrize("name,kwargs", OPTIONS, ids=[f"{n}-{'-'.join(k)}" for n, k in OPTIONS])
def test_every_option_matches_keras(name, kwargs, prob):
    # 100 steps: an option's code path (clipping, weight decay, amsgrad, centring...) acts from the first
    # update; the 300-step runs above test how the base algorithms' rounding holds up over a long run.
    assert_parity(name, kwargs, prob, steps=100)


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
