"""course_lib.backprop against tf.GradientTape and Keras: the scalar engine, the layers, the MLP.
Skipped where TensorFlow is not installed."""

import math

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import course_lib  # noqa: E402, F401  (before TensorFlow: quiet start-up)
from course_lib import backprop as bp  # noqa: E402
from course_lib import data, descent, optimizers  # noqa: E402
from course_lib.backprop import MLP, Value  # noqa: E402
from course_lib.tf_twins import keras, tf  # noqa: E402

TF_ACT = {"linear": lambda z: z, "sigmoid": tf.sigmoid, "tanh": tf.tanh, "relu": tf.nn.relu}


# =========================================================================== scalar engine
def _tape_grads(fn, xs):
    vs = [tf.Variable(x, dtype=tf.float64) for x in xs]
    with tf.GradientTape() as tape:
        out = fn(*vs)
    return out.numpy(), [g.numpy() for g in tape.gradient(out, vs)]


UNARY = [  # (our op, TF op, input)
    ("exp", tf.exp, 0.7), ("log", tf.math.log, 1.9), ("tanh", tf.tanh, -0.4),
    ("sigmoid", tf.sigmoid, 1.3), ("sigmoid", tf.sigmoid, -30.0), ("relu", tf.nn.relu, 0.8),
    ("relu", tf.nn.relu, -0.8),
]


@pytest.mark.parametrize("name, tf_op, x", UNARY)
def test_unary_ops_match_gradient_tape(name, tf_op, x):
    a = Value(x)
    out = getattr(a, name)()
    out.backward()
    value, (grad,) = _tape_grads(tf_op, [x])
    assert out.data == pytest.approx(value, rel=1e-15, abs=1e-300)
    assert a.grad == pytest.approx(grad, rel=1e-14, abs=1e-300)


BINARY = [
    (lambda a, b: a + b), (lambda a, b: a - b), (lambda a, b: a * b), (lambda a, b: a / b),
    (lambda a, b: a ** 3 - b ** -2), (lambda a, b: 2.0 - a / 4 + 3 * b), (lambda a, b: 1 / a - b * 0.5),
    (lambda a, b: -a * b + (a * b) ** 2),
]


@pytest.mark.parametrize("fn", BINARY)
@pytest.mark.parametrize("a0, b0", [(1.5, -2.25), (-0.3, 0.7)])
def test_binary_ops_and_python_numbers_match_gradient_tape(fn, a0, b0):
    a, b = Value(a0), Value(b0)
    out = fn(a, b)
    out.backward()
    value, grads = _tape_grads(fn, [a0, b0])
    assert out.data == pytest.approx(value, rel=1e-14)
    assert [a.grad, b.grad] == pytest.approx(grads, rel=1e-13, abs=1e-15)


def _value_mlp(x, weights, act):
    h = [Value(v) for v in x]
    for layer in weights:
        h = [getattr(sum((w * hi for w, hi in zip(col, h, strict=True)), Value(0.0)), act)() for col in layer]
    return h


@pytest.mark.parametrize("sizes, act, seed", [((3, 4, 1), "tanh", 0), ((2, 5, 3, 1), "sigmoid", 1),
                                              ((4, 3, 2), "relu", 2)])
def test_engine_network_matches_gradient_tape(sizes, act, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=sizes[0])
    ws = [rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    wv = [[[Value(float(w)) for w in row] for row in W] for W in ws]
    outs = _value_mlp(x, wv, act)
    loss = sum((o - 0.25) ** 2 for o in outs)
    loss.backward()
    tvars = [tf.Variable(W) for W in ws]
    with tf.GradientTape() as tape:
        h = tf.constant(x[:, None])
        for W in tvars:
            h = TF_ACT[act](W @ h)
        tloss = tf.reduce_sum((h - 0.25) ** 2)
    tgrads = tape.gradient(tloss, tvars)
    assert loss.data == pytest.approx(tloss.numpy(), rel=1e-13)
    for W, g in zip(wv, tgrads, strict=True):
        ours = np.array([[w.grad for w in row] for row in W])
        np.testing.assert_allclose(ours, g.numpy(), rtol=1e-11, atol=1e-14)


# =========================================================================== layers
def test_layer_backwards_match_gradient_tape():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 4))
    d_out = rng.normal(size=(5, 4))
    for name, (fwd, bwd) in bp.ACTIVATIONS.items():
        zt = tf.Variable(z)
        with tf.GradientTape() as tape:
            out = TF_ACT[name](zt)
        expected = tape.gradient(out, zt, output_gradients=tf.constant(d_out))
        np.testing.assert_allclose(fwd(z), out.numpy(), rtol=1e-15, err_msg=name)
        np.testing.assert_allclose(bwd(d_out, fwd(z)), expected.numpy(), rtol=1e-14, atol=1e-16, err_msg=name)


def test_dense_backward_matches_gradient_tape():
    rng = np.random.default_rng(1)
    x, kernel, bias, d_out = (rng.normal(size=s) for s in [(6, 3), (3, 4), (4,), (6, 4)])
    xv, kv, bv = tf.Variable(x), tf.Variable(kernel), tf.Variable(bias)
    with tf.GradientTape() as tape:
        out = xv @ kv + bv
    expected = tape.gradient(out, [xv, kv, bv], output_gradients=tf.constant(d_out))
    for ours, theirs in zip(bp.dense_backward(d_out, x, kernel), expected, strict=True):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-13)


def test_losses_match_keras():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(7, 3)) * 3
    labels = rng.integers(0, 3, 7)
    lv = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")(labels, lv)
    assert bp.softmax_cross_entropy(labels, logits) == pytest.approx(loss.numpy(), rel=1e-14)
    np.testing.assert_allclose(bp.softmax_cross_entropy_backward(labels, logits),
                               tape.gradient(loss, lv).numpy(), rtol=1e-12, atol=1e-17)
    y_true = rng.normal(size=(7, 2))
    pv = tf.Variable(rng.normal(size=(7, 2)))
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(y_true, pv)
    assert bp.mean_squared_error(y_true, pv.numpy()) == pytest.approx(loss.numpy(), rel=1e-14)
    np.testing.assert_allclose(bp.mean_squared_error_backward(y_true, pv.numpy()),
                               tape.gradient(loss, pv).numpy(), rtol=1e-13)


# =========================================================================== MLP vs GradientTape
def _keras_model(net, dtype):
    layers = [keras.Input((net.units[0],), dtype=dtype)]
    layers += [keras.layers.Dense(u, activation=a, dtype=dtype)
               for u, a in zip(net.units[1:], net.activations, strict=True)]
    return keras.Sequential(layers)


def _tape_mlp_grads(net, params, x, y, dtype):
    model = _keras_model(net, dtype)
    model.set_weights([a for p in params for a in (p["kernel"], p["bias"])])
    loss_fn = (keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype=dtype)
               if net.loss_name == "softmax_cross_entropy" else keras.losses.MeanSquaredError(dtype=dtype))
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    grads = tape.gradient(loss, model.trainable_variables)
    return loss.numpy(), [{"kernel": grads[2 * i].numpy(), "bias": grads[2 * i + 1].numpy()}
                          for i in range(len(params))]


ARCHITECTURES = [
    ((2, 3, 2), "tanh", "linear", "softmax_cross_entropy"),
    ((4, 8, 8, 3), "relu", "linear", "softmax_cross_entropy"),
    ((3, 6, 5, 4, 5), ("sigmoid", "tanh", "relu"), "linear", "softmax_cross_entropy"),
    ((5, 7, 2), "sigmoid", "sigmoid", "mean_squared_error"),
    ((3, 4, 4, 1), "tanh", "linear", "mean_squared_error"),
    ((6, 1), (), "linear", "softmax_cross_entropy"),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("units, act, out_act, loss", ARCHITECTURES)
def test_mlp_gradients_match_gradient_tape(units, act, out_act, loss, seed, dtype):
    if units[-1] == 1 and loss == "softmax_cross_entropy":
        units = units[:-1] + (2,)
    net = MLP(units, act, out_act, loss)
    rng = np.random.default_rng(seed)
    params = net.init(seed, dtype)
    for p in params:               # non-zero biases, so their gradients are tested too
        p["bias"] = rng.normal(0, 0.5, p["bias"].shape).astype(dtype)
    x = rng.normal(size=(9, units[0])).astype(dtype)
    y = (rng.integers(0, units[-1], 9) if loss == "softmax_cross_entropy"
         else rng.normal(size=(9, units[-1])).astype(dtype))
    our_loss, grads = net.loss_and_grad(params, x, y)
    tf_loss, tf_grads = _tape_mlp_grads(net, params, x, y, dtype)
    if dtype == "float64":
        rtol, atol = 1e-12, 1e-14
    else:                          # float32 rounding: eps = 1.2e-7, a few dozen operations deep
        rtol, atol = 2e-5, 2e-6
    assert our_loss == pytest.approx(tf_loss, rel=rtol)
    for i, (g, t) in enumerate(zip(grads, tf_grads, strict=True)):
        for k in ("kernel", "bias"):
            assert g[k].dtype == np.dtype(dtype) and g[k].shape == params[i][k].shape
            scale = np.max(np.abs(t[k])) + 1e-30
            np.testing.assert_allclose(g[k], t[k], rtol=rtol, atol=atol * scale, err_msg=f"layer {i} {k}")


def test_mlp_forward_matches_keras_and_init_is_glorot():
    net = MLP((3, 50, 40, 2), "relu")
    params = net.init(0)
    limit = math.sqrt(6 / (50 + 40))
    k = params[1]["kernel"]
    assert k.shape == (50, 40) and np.all(np.abs(k) <= limit) and np.max(np.abs(k)) > 0.9 * limit
    assert all(np.all(p["bias"] == 0) for p in params)
    x = np.random.default_rng(0).normal(size=(4, 3))
    model = _keras_model(net, "float64")
    model.set_weights([a for p in params for a in (p["kernel"], p["bias"])])
    np.testing.assert_allclose(net.predict(params, x), model(x).numpy(), rtol=1e-13, atol=1e-15)


def test_hand_written_training_ends_at_keras_weights():
    x, y = data.moons(100, noise=0.1, seed=0)
    net = MLP((2, 8, 2), "tanh")
    params0 = net.init(0, np.float32)
    batches = data.batch_indices(100, 10, epochs=5, seed=0)
    run = descent.fit(net.loss_and_grad, params0, x, y, optimizers.SGD(0.1, momentum=0.9), batches=batches)
    model = _keras_model(net, "float32")
    model.set_weights([a for p in params0 for a in (p["kernel"], p["bias"])])
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    order = np.concatenate([np.concatenate(epoch) for epoch in batches])
    model.fit(x[order], y[order], batch_size=10, epochs=1, shuffle=False, verbose=0)
    ours = [a for p in run.final for a in (p["kernel"], p["bias"])]
    start = [a for p in params0 for a in (p["kernel"], p["bias"])]
    moved = max(np.max(np.abs(a - b)) for a, b in zip(ours, start, strict=True))
    assert moved > 0.1
    for a, b in zip(ours, model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)

