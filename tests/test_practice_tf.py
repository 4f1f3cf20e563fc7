"""course_lib.practice and the optimizers' clipping and weight decay against TensorFlow/Keras.

On the lesson's digits network (numpy MLP 64-64-32-10, float32): our optimizer trains for 300
steps, its gradients (computed in numpy from its own weights) are recorded, and Keras's optimizer
is fed exactly that sequence of gradients; every weight is compared after every step.  (Gradients
recomputed from Keras's own weights would amplify the last-bit differences of a float32 norm
through the network, which is chaos, not a difference between the optimizers.)  Keras's updates
run compiled (``tf_twins.apply_gradients(..., compiled=True)``), which gives the eager updates'
results to the last bit, as the second test checks for clipping and weight decay together.  Skipped
where TensorFlow is not installed.
"""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from test_optimizers_keras import assert_compiled_equals_eager  # noqa: E402

import course_lib  # noqa: E402, F401  (before TensorFlow: quiet start-up)
from course_lib import optimizers as O  # noqa: E402
from course_lib import practice  # noqa: E402
from course_lib.backprop import MLP  # noqa: E402
from course_lib.core import tree_leaves  # noqa: E402
from course_lib.tf_twins import apply_gradients, keras, tf  # noqa: E402
from course_lib.training import load_digits  # noqa: E402

DIGITS = load_digits()
NET = MLP((64, 64, 32, 10), activation="relu")
X, Y = DIGITS.x_train[:64], DIGITS.y_train[:64]
STEPS = 300


def grad(params):
    return NET.loss_and_grad(params, X, Y)[1]


def run_ours(opt, params, steps):
    """Our run's weights after every step, and the gradient sequence it used."""
    history, grads, state = [params], [], opt.init(params)
    for _ in range(steps):
        grads.append(grad(params))
        params, state = opt.step(params, grads[-1], state)
        history.append(params)
    return [np.stack(leaves) for leaves in zip(*(tree_leaves(h) for h in history))], grads


def replay(grads):
    """A gradient function for ``tf_twins.apply_gradients`` that hands out ``grads`` in order, whatever
    the weights it is given."""
    feed = iter(grads)
    return lambda params: next(feed)


CASES = [("SGD", {"learning_rate": 0.5, "clipnorm": 0.5}),
         ("SGD", {"learning_rate": 0.5, "clipvalue": 0.02}),
         ("SGD", {"learning_rate": 0.5, "global_clipnorm": 0.5}),
         ("SGD", {"learning_rate": 0.1, "weight_decay": 0.05}),
         ("Adam", {"learning_rate": 0.003, "weight_decay": 0.1}),
         ("AdamW", {"learning_rate": 0.003, "weight_decay": 0.1}),
         ("AdamW", {"learning_rate": 0.003, "weight_decay": 0.1, "global_clipnorm": 0.5})]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{'-'.join(list(k)[1:])}" for n, k in CASES])
def test_clipping_and_weight_decay_match_keras_for_300_steps(name, kwargs):
    params = NET.init(seed=0, dtype=np.float32)
    ours, grads = run_ours(getattr(O, name)(**kwargs), params, STEPS)
    theirs = tree_leaves(apply_gradients(getattr(keras.optimizers, name)(**kwargs), params, replay(grads),
                                         STEPS, compiled=True))
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype == np.float32 and np.all(np.isfinite(b))
        tol = 8 * np.finfo(np.float32).eps * max(1.0, float(np.max(np.abs(b))))
        assert float(np.max(np.abs(a - b))) <= tol, f"{name}{kwargs}: {np.max(np.abs(a - b)):.3g} > {tol:.3g}"
    moved = max(float(np.max(np.abs(b[-1] - b[0]))) for b in theirs)
    assert moved > 1e-2, "the run barely moved: the comparison would prove little"


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[-1]],
                         ids=["SGD-clipvalue", "AdamW-weight_decay-global_clipnorm"])
def test_compiled_updates_equal_eager_ones_with_clipping_and_weight_decay(name, kwargs):
    params = NET.init(seed=0, dtype=np.float32)
    _, grads = run_ours(getattr(O, name)(**kwargs), params, 100)
    assert_compiled_equals_eager(lambda: getattr(keras.optimizers, name)(**kwargs), params,
                                 lambda: replay(grads), 100)


def test_the_clip_is_active_in_the_clipping_cases():
    params = NET.init(seed=0, dtype=np.float32)
    norms = [float(practice.global_norm(grad(params)))]
    assert norms[0] > 0.5, "the first gradient is inside the clip: clipping would not be tested"
    assert float(np.max(np.abs(tree_leaves(grad(params))[0]))) > 0.02


def test_clip_by_global_norm_matches_tensorflow():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(64, 64)).astype(np.float32), rng.normal(size=64).astype(np.float32)]
    for clip in (0.5, 5.0, 1e3):
        ours, norm = practice.clip_by_global_norm(grads, clip)
        theirs, tf_norm = tf.clip_by_global_norm([tf.constant(g) for g in grads], clip)
        assert float(norm) == pytest.approx(float(tf_norm), rel=1e-6)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b.numpy(), rtol=2e-6, atol=1e-7)
    assert float(practice.global_norm(grads)) == pytest.approx(float(tf.linalg.global_norm(grads)), rel=1e-6)


def test_hessian_vector_product_matches_the_double_tape():
    net = MLP((64, 16, 10), activation="tanh")    # smooth, so the central difference is accurate
    params = net.init(seed=1)
    x, y = DIGITS.x_train[:100].astype(np.float64), DIGITS.y_train[:100]
    rng = np.random.default_rng(2)
    v = [{k: rng.normal(size=a.shape) for k, a in layer.items()} for layer in params]
    ours = tree_leaves(practice.hessian_vector_product(lambda p: net.loss_and_grad(p, x, y)[1], params, v))
    variables = [tf.Variable(a) for a in tree_leaves(params)]
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            h = tf.tanh(x @ variables[0] + variables[1])
            logits = h @ variables[2] + variables[3]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        g = inner.gradient(loss, variables)
        dot = tf.add_n([tf.reduce_sum(a * b) for a, b in zip(g, tree_leaves(v))])
    theirs = outer.gradient(dot, variables)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-5, atol=1e-7)
