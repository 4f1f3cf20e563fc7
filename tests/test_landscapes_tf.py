"""course_lib.landscapes and course_lib.initializers against TensorFlow: GradientTape's gradients,
Hessians and Hessian-vector products, and Keras's initializers in distribution."""

import math

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from course_lib import initializers as init  # noqa: E402
from course_lib import landscapes as L  # noqa: E402
from course_lib.backprop import MLP  # noqa: E402
from course_lib.objectives import Rosenbrock, Saddle, rotated_quadratic  # noqa: E402


def _tape_grad_and_hessian(fn, x):
    x = tf.Variable(x, dtype=tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = fn(x)
        g = inner.gradient(y, x)
    return g.numpy(), outer.jacobian(g, x).numpy()


@pytest.mark.parametrize("objective, fn", [
    (Saddle(curvature=2.0, depth=0.5), lambda x: 2.0 / 2 * x[0] ** 2 - 0.5 / 2 * x[1] ** 2 + 0.5 / 4 * x[1] ** 4),
    (Rosenbrock(), lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2),
])
def test_gradients_and_hessians_equal_gradient_tape(objective, fn):
    for x in np.random.default_rng(0).normal(size=(4, 2)):
        g, h = _tape_grad_and_hessian(fn, x)
        assert np.allclose(objective.grad(x), g, rtol=1e-12, atol=1e-12)
        assert np.allclose(objective.hessian(x), h, rtol=1e-12, atol=1e-12)


def test_rotated_quadratic_hessian_equals_gradient_tape():
    q = rotated_quadratic(0.6, 30.0, largest_eigenvalue=3.0)
    h_const = tf.constant(q.hessian())
    _, h = _tape_grad_and_hessian(lambda x: 0.5 * tf.tensordot(x, tf.linalg.matvec(h_const, x), 1), [0.3, -1.0])
    assert np.allclose(h, q.hessian(), atol=1e-12)


def test_mlp_hessian_vector_product_equals_gradient_tape_twice():
    rng = np.random.default_rng(1)
    net = MLP((2, 8, 3), activation="tanh")
    params = net.init(seed=0)
    x, y = rng.normal(size=(30, 2)), rng.integers(0, 3, 30)
    w, v = L.flatten(params), rng.normal(size=L.flatten(params).size)

    def grad(flat):
        return L.flatten(net.loss_and_grad(L.unflatten(flat, params), x, y)[1])

    ours = L.hvp_finite_difference(grad, w, v)
    variables = [tf.Variable(a) for layer in params for a in (layer["kernel"], layer["bias"])]
    v_parts = [tf.constant(a) for layer in L.unflatten(v, params) for a in (layer["kernel"], layer["bias"])]
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            h = tf.tanh(tf.constant(x) @ variables[0] + variables[1])
            logits = h @ variables[2] + variables[3]   # float64 throughout (Keras's loss classes return float32)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant(y), logits))
        grads = inner.gradient(loss, variables)
        g_dot_v = tf.add_n([tf.reduce_sum(g * p) for g, p in zip(grads, v_parts)])
    theirs = np.concatenate([t.numpy().ravel() for t in outer.gradient(g_dot_v, variables)])
    # central differences with ε = 1e-5 leave an error of order ε² times the third derivative
    assert np.allclose(ours, theirs, rtol=1e-6, atol=1e-8)
    assert np.abs(theirs).max() > 0.1  # a product large enough for the tolerance to mean something
    # and the loss and gradient themselves agree, so the two products are of the same function
    assert np.isclose(net.loss(params, x, y), loss.numpy(), rtol=1e-12)
    assert np.allclose(grad(w), np.concatenate([g.numpy().ravel() for g in grads]), atol=1e-12)


@pytest.mark.parametrize("name", ["GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunNormal"])
def test_initializers_match_keras_in_distribution(name):
    shape = (400, 250)
    ours = init.get(name, seed=0)
    keras_w = getattr(tf.keras.initializers, name)(seed=0)(shape).numpy().astype(np.float64)
    our_w = ours(shape)
    for w in (our_w, keras_w):
        assert abs(w.var() / ours.variance(shape) - 1) < 0.03, (name, w.var())
        assert np.abs(w).max() <= ours.limit(shape) * (1 + 1e-6)
        assert np.abs(w).max() > 0.95 * ours.limit(shape)  # both reach the same bound


def test_random_normal_defaults_match_keras():
    keras_w = tf.keras.initializers.RandomNormal(seed=0)((200, 200)).numpy()
    ours = init.RandomNormal(seed=0)((200, 200))
    assert abs(keras_w.std() / 0.05 - 1) < 0.02 and abs(ours.std() / 0.05 - 1) < 0.02
    assert math.isclose(init.RandomNormal().stddev, 0.05) and math.isclose(init.RandomUniform().maxval, 0.05)
