"""course_lib.backprop without TensorFlow: the scalar engine's bookkeeping, the gradient check,
the MLP's arguments and training, the moons data.  The comparisons with tf.GradientTape and Keras
are in test_backprop_keras.py."""

import math

import numpy as np
import pytest

from course_lib import backprop as bp
from course_lib import data, descent, optimizers
from course_lib.backprop import MLP, Value


def test_reused_node_accumulates_gradient():
    a = Value(3.0)
    e = a * a          # a used twice
    f = e * e + e      # e used three times
    f.backward()
    # f = a^4 + a^2 -> f' = 4a^3 + 2a
    assert a.grad == pytest.approx(4 * 27 + 6)
    assert e.grad == pytest.approx(2 * 9 + 1)


def test_backward_twice_gives_same_gradients():
    a, b = Value(0.5), Value(-1.5)
    out = (a * b).tanh() + a.exp()
    out.backward()
    first = (a.grad, b.grad)
    out.backward()
    assert (a.grad, b.grad) == first


def test_engine_rejects_bad_inputs():
    with pytest.raises(TypeError, match="data"):
        Value("1")
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="positive"):
        Value(-1.0).log()
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(TypeError, match="root"):
        bp.topological_order(3.0)


def test_topological_order_and_layout():
    a, b, c = Value(1.0, "a"), Value(2.0, "b"), Value(-1.0, "c")
    e = a * b
    out = (e + c) * e
    order = bp.topological_order(out)
    assert len(order) == 6 and order[-1] is out
    position = {id(n): i for i, n in enumerate(order)}
    assert all(position[id(p)] < position[id(n)] for n in order for p in n.parents)
    layout = bp.graph_layout(out)
    assert len(layout.values) == 6 and len(layout.ops) == 3          # a, b, c are leaves
    assert len(layout.edges) == 3 + sum(len(n.parents) for n in order)
    xs = {id(v["node"]): v["x"] for v in layout.values}
    assert all(xs[id(p)] < xs[id(n)] for n in order for p in n.parents)
    spots = {(v["x"], v["y"]) for v in layout.values}
    assert len(spots) == 6                                            # no two boxes overlap


def test_computational_graph_draws_every_node():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib import plots
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    out = (a * b + a).tanh()
    out.backward()
    fig, ax = plt.subplots()
    plots.computational_graph(ax, out)
    texts = [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert sum("grad" in t for t in texts) == 5 and sum(t in {"*", "+", "tanh"} for t in texts) == 3
    assert any(t.startswith("a\ndata 2.0000\ngrad") for t in texts)


def test_softmax_cross_entropy_is_stable_and_checks_labels():
    logits = np.array([[1000.0, 0.0], [0.0, -1000.0]])
    assert np.isfinite(bp.softmax_cross_entropy(np.array([1, 0]), logits))
    with pytest.raises(ValueError, match="labels"):
        bp.softmax_cross_entropy(np.array([0, 2]), logits)
    with pytest.raises(ValueError, match="labels"):
        bp.softmax_cross_entropy(np.array([0.0, 1.0]), logits)


def test_mlp_rejects_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        MLP((2,))
    with pytest.raises(ValueError, match="units"):
        MLP((2, 0, 2))
    with pytest.raises(ValueError, match="activation"):
        MLP((2, 3, 2), "softplus")
    with pytest.raises(ValueError, match="activation"):
        MLP((2, 3, 3, 2), ("tanh",))
    with pytest.raises(ValueError, match="loss"):
        MLP((2, 3, 2), loss="hinge")
    with pytest.raises(ValueError, match="output_activation"):
        MLP((2, 3, 2), output_activation="sigmoid")
    net = MLP((2, 3, 2))
    params = net.init(0)
    with pytest.raises(ValueError, match="x"):
        net.forward(params, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"params\[1\]"):
        net.forward([params[0], {"kernel": np.zeros((2, 3)), "bias": np.zeros(2)}], np.zeros((4, 2)))


def test_loss_and_grad_does_not_modify_inputs():
    net = MLP((2, 4, 2))
    params = net.init(3)
    before = [{k: v.copy() for k, v in p.items()} for p in params]
    x = np.ones((3, 2))
    net.loss_and_grad(params, x, np.array([0, 1, 1]))
    for p, q in zip(params, before, strict=True):
        for k in p:
            np.testing.assert_array_equal(p[k], q[k])


# =========================================================================== gradient check
def test_numerical_gradient_of_a_known_function():
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    a = np.array([[2.0, 1.0], [-1.0, 0.5]])
    g = bp.numerical_gradient(lambda p: np.sum(a * p["w"] ** 2), {"w": w})
    np.testing.assert_allclose(g["w"], 2 * a * w, rtol=1e-8)
    np.testing.assert_array_equal(w, [[1.0, -2.0], [0.5, 3.0]])    # restored after each probe


def test_gradient_check_passes_for_backprop_and_flags_each_wrong_tensor():
    net = MLP((3, 5, 4, 3), "tanh")
    rng = np.random.default_rng(0)
    params = net.init(1)
    x, y = rng.normal(size=(8, 3)), rng.integers(0, 3, 8)
    _, grads = net.loss_and_grad(params, x, y)
    check = bp.gradient_check(lambda p: net.loss(p, x, y), params, grads)
    assert check.passed and check.max_error < 1e-7 and "passed" in check.message
    assert [sorted(e) for e in check.errors] == [["bias", "kernel"]] * 3
    wrong_versions = {
        "kernel": lambda g: g.T.reshape(g.shape),          # entries in the wrong places
        "bias": lambda g: g * 8,                   # summed where it should be averaged (or vice versa)
    }
    for layer in range(3):
        for key, spoil in wrong_versions.items():
            bad = [{k: v.copy() for k, v in p.items()} for p in grads]
            bad[layer][key] = spoil(bad[layer][key])
            check = bp.gradient_check(lambda p: net.loss(p, x, y), params, bad)
            assert not check.passed and "FAILED" in check.message
            assert check.errors[layer][key] > 1e-2
            others = [check.errors[i][k] for i in range(3) for k in ("kernel", "bias")
                      if (i, k) != (layer, key)]
            assert max(others) < 1e-7


def test_gradient_check_arguments():
    with pytest.raises(ValueError, match="epsilon"):
        bp.numerical_gradient(lambda p: 0.0, np.zeros(2), epsilon=0)
    with pytest.raises(ValueError, match="grads"):
        bp.gradient_check(lambda p: 0.0, np.zeros(2), np.zeros(3))
    assert bp.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert bp.relative_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.sqrt(2) / 2)


# =========================================================================== training
def test_moons_dataset():
    x, y = data.moons(200, noise=0.1, seed=0)
    assert x.shape == (200, 2) and x.dtype == np.float32 and y.shape == (200,)
    assert np.bincount(y).tolist() == [100, 100]
    x2, y2 = data.moons(200, noise=0.1, seed=0)
    np.testing.assert_array_equal(x, x2)
    assert not np.allclose(x, data.moons(200, noise=0.1, seed=1)[0])
    clean, _ = data.moons(50, noise=0.0, seed=0, dtype=np.float64)
    upper = clean[::2]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)    # class 0 on the unit circle
    with pytest.raises(ValueError, match="noise"):
        data.moons(10, noise=-1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_training_reaches_97_percent_within_600_steps(seed):
    # Stated target: MLP (2, 16, 16, 2) tanh, SGD(0.1, momentum=0.9), batches of 20 from
    # moons(200, noise=0.1): at least 97 % training accuracy after 600 updates (60 epochs),
    # whatever the seed of the initial weights and of the batch order; chance level is 50 %.
    # (Seeds 0-7 need 110 to 470 updates: some runs sit on a plateau near 87 % for a while.)
    x, y = data.moons(200, noise=0.1, seed=0)
    net = MLP((2, 16, 16, 2), "tanh")
    batches = data.batch_indices(200, 20, epochs=60, seed=seed)
    run = descent.fit(net.loss_and_grad, net.init(seed, np.float32), x, y, optimizers.SGD(0.1, momentum=0.9),
                      batches=batches)
    assert len(run.loss) == 601 and run.diverged_at is None
    assert bp.accuracy(y, net.predict(run.final, x)) >= 0.97
    assert run.loss[-1] < 0.1 * run.loss[0]


def test_zero_initialisation_keeps_hidden_units_identical():
    x, y = data.moons(100, noise=0.1, seed=0, dtype=np.float64)
    net = MLP((2, 5, 2), "sigmoid")
    params = [{k: np.zeros_like(v) for k, v in p.items()} for p in net.init(0)]
    batches = data.batch_indices(100, 10, 3)
    run = descent.fit(net.loss_and_grad, params, x, y, optimizers.SGD(0.5), batches=batches)
    k1, k2 = run.final[0]["kernel"], run.final[1]["kernel"]
    assert np.max(np.abs(k1)) > 1e-3                        # the weights did move ...
    np.testing.assert_allclose(k1, k1[:, :1] * np.ones((1, 5)), rtol=1e-12)   # ... every hidden unit alike
    np.testing.assert_allclose(k2, k2[:1] * np.ones((5, 1)), rtol=1e-12)

