"""Lesson 05's checks accept right answers and name the mistake in typical wrong ones."""

import numpy as np
import pytest
from check_helpers import rejects, sentence

from course_lib import backprop as bp
from course_lib.checks import NotAttempted
from course_lib.checks import backpropagation as ch


def sig(z):
    return 1 / (1 + np.exp(-z))


# --------------------------------------------------------------------------- right answers
def local_ok(a, b):
    s, t = sig(a), np.tanh(a)
    return {"a*b": (b, a), "a/b": (1 / b, -a / b ** 2), "a**3": 3 * a ** 2, "exp(a)": np.exp(a),
            "tanh(a)": 1 - t * t, "sigmoid(a)": s * (1 - s)}


def dense_ok(d, x, k):
    return d @ k.T, x.T @ d, d.sum(axis=0)


def sce_ok(labels, logits):
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


def two_layer(params, x, labels, *, transpose=False, bias_sum=True, at_input=False, mean=True):
    (w1, b1), (w2, b2) = ((p["kernel"], p["bias"]) for p in params)
    z1 = x @ w1 + b1
    a1 = sig(z1)
    d_logits = sce_ok(labels, a1 @ w2 + b2) * (1 if mean else len(x))
    s = z1 if at_input else a1
    d_z1 = (d_logits @ w2.T) * s * (1 - s)
    grads = []
    for inp, d in ((x, d_z1), (a1, d_logits)):
        grads.append({"kernel": d.T @ inp if transpose else inp.T @ d, "bias": d.sum(0) if bias_sum else d})
    return grads


def central(f, w, eps):
    w = w.copy()
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + eps
        hi = f(w)
        w[i] = old - eps
        lo = f(w)
        w[i] = old
        g[i] = (hi - lo) / (2 * eps)
    return g


def test_reference_answers_pass(capsys):
    ch.check_local_derivatives(local_ok)
    ch.check_dense_backward(dense_ok)
    ch.check_dense_backward(bp.dense_backward)
    ch.check_sigmoid_backward(lambda d, out: d * out * (1 - out))
    ch.check_softmax_cross_entropy_backward(sce_ok)
    ch.check_two_layer_backward(two_layer)
    ch.check_two_layer_backward(lambda p, x, y: tuple(two_layer(p, x, y)))     # a tuple of dicts is fine too
    ch.check_numerical_gradient(central)
    assert capsys.readouterr().out.count("✓") == 8


# --------------------------------------------------------------------------- typical mistakes
def _local(key, value):
    def wrong(a, b):
        out = local_ok(a, b)
        out[key] = value(a, b)
        return out
    return wrong


def test_local_derivative_mistakes():
    rejects(ch.check_local_derivatives, _local("tanh(a)", lambda a, b: 1 - a ** 2), "output")
    rejects(ch.check_local_derivatives, _local("sigmoid(a)", lambda a, b: a * (1 - a)), "uses the input")
    rejects(ch.check_local_derivatives, _local("a/b", lambda a, b: (1 / b, -a / b)), "b**-2")
    rejects(ch.check_local_derivatives, _local("a*b", lambda a, b: (a, b)), "other* factor")
    rejects(ch.check_local_derivatives, _local("a**3", lambda a, b: 3 * a), "3 * a**2")
    text = rejects(ch.check_local_derivatives, _local("a/b", lambda a, b: (1 / b, a / b ** 2)), "negative")
    assert '["a/b"] from local_derivatives' in text


def test_local_derivatives_two_mistakes_reports_the_first_key():
    both = _local("a*b", lambda a, b: (a, b))

    def wrong(a, b):
        out = both(a, b)
        out["tanh(a)"] = 1 - a ** 2
        return out
    rejects(ch.check_local_derivatives, wrong, "other* factor")


def test_dense_backward_mistakes():
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T, d.T @ x, d.sum(0)), "transposed")
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T, x.T @ d, d), "summed over the batch")
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T, x.T @ d, d.mean(0)), "not the mean")
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T, x.T @ d / len(x), d.sum(0)), "do not divide")
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k, x.T @ d, d.sum(0)), "mismatched shapes")
    # two mistakes at once: the kernel one (checked first) is named
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T, d.T @ x, d), "transposed")


def test_sigmoid_backward_mistakes():
    rejects(ch.check_sigmoid_backward, lambda d, out: d * sig(out) * (1 - sig(out)), "at the input")
    rejects(ch.check_sigmoid_backward, lambda d, out: out * (1 - out), "multiply")
    rejects(ch.check_sigmoid_backward, lambda d, out: d * (1 - out ** 2), "tanh")
    rejects(ch.check_sigmoid_backward, lambda d, out: -d * out * (1 - out), "opposite sign")


def test_softmax_cross_entropy_mistakes():
    rejects(ch.check_softmax_cross_entropy_backward, lambda y, z: sce_ok(y, z) * len(y), "differentiated the sum")
    rejects(ch.check_softmax_cross_entropy_backward, lambda y, z: bp.softmax(z) / len(y), "subtract the one-hot")
    rejects(ch.check_softmax_cross_entropy_backward, lambda y, z: sce_ok(y, z) * len(y) / z.shape[1],
            "not by the number of classes")
    rejects(ch.check_softmax_cross_entropy_backward, lambda y, z: -sce_ok(y, z), "sign is flipped")


def test_softmax_cross_entropy_overflow_is_a_sentence():
    def unstable(y, z):
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(z)
            return (e / e.sum(1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y)
    sentence(ch.check_softmax_cross_entropy_backward, unstable, "NaN")


def test_two_layer_mistakes():
    rejects(ch.check_two_layer_backward, lambda p, x, y: two_layer(p, x, y, transpose=True), "transposed")
    rejects(ch.check_two_layer_backward, lambda p, x, y: two_layer(p, x, y, bias_sum=False), "summed over the batch")
    text = rejects(ch.check_two_layer_backward, lambda p, x, y: two_layer(p, x, y, at_input=True), "*output*")
    assert "layer 1 kernel" in text                      # layer 2 was right; the check says where it went wrong
    rejects(ch.check_two_layer_backward, lambda p, x, y: two_layer(p, x, y, mean=False), "differentiated the sum")

    def no_sigmoid(params, x, labels):
        good = two_layer(params, x, labels)
        (w1, b1), (w2, b2) = ((p["kernel"], p["bias"]) for p in params)
        d_a1 = sce_ok(labels, sig(x @ w1 + b1) @ w2 + b2) @ w2.T
        return [{"kernel": x.T @ d_a1, "bias": d_a1.sum(0)}, good[1]]
    rejects(ch.check_two_layer_backward, no_sigmoid, "sigmoid's derivative")


def test_two_layer_two_mistakes_names_layer_two_first():
    text = rejects(ch.check_two_layer_backward,
                   lambda p, x, y: two_layer(p, x, y, mean=False, at_input=True), "differentiated the sum")
    assert "layer 2 kernel" in text


def test_numerical_gradient_mistakes():
    def forward(f, w, eps):
        base, g, w = f(w), np.zeros_like(w), w.copy()
        for i in np.ndindex(w.shape):
            old = w[i]
            w[i] = old + eps
            g[i] = (f(w) - base) / eps
            w[i] = old
        return g
    rejects(ch.check_numerical_gradient, forward, "forward difference")
    rejects(ch.check_numerical_gradient, lambda f, w, eps: central(f, w, eps) * 2, "2 * epsilon")
    rejects(ch.check_numerical_gradient,
            lambda f, w, eps: np.full_like(w, (f(w + eps) - f(w - eps)) / (2 * eps)), "one entry at a time")


def test_numerical_gradient_that_mutates_w_is_named():
    def mutating(f, w, eps):
        g = np.zeros_like(w)
        for i in np.ndindex(w.shape):
            w[i] += eps
            hi = f(w)
            w[i] -= 2 * eps
            lo = f(w)
            g[i] = (hi - lo) / (2 * eps)    # forgot to put w[i] back
        return g
    sentence(ch.check_numerical_gradient, mutating, "changed its input arguments in place")


# --------------------------------------------------------------------------- answers that are not answers
CHECKS = [
    (ch.check_local_derivatives, 2), (ch.check_dense_backward, 3), (ch.check_sigmoid_backward, 2),
    (ch.check_softmax_cross_entropy_backward, 2), (ch.check_two_layer_backward, 3), (ch.check_numerical_gradient, 3),
]


@pytest.mark.parametrize("check, n_args", CHECKS, ids=[c.__name__ for c, _ in CHECKS])
def test_none_crash_and_unwritten(check, n_args):
    sentence(check, lambda *args: None, "returned None")

    def crashes(*args):
        return 1 / 0
    sentence(check, crashes, "raised ZeroDivisionError")

    def unwritten(*args):
        raise NotImplementedError()
    with pytest.raises(NotAttempted, match="not written yet"):
        check(unwritten)
    sentence(check, 3.0, "should be a function")


def test_wrong_shapes_and_structures_get_a_sentence():
    sentence(ch.check_sigmoid_backward, lambda d, out: (d * out * (1 - out)).ravel(), "shape")
    sentence(ch.check_softmax_cross_entropy_backward, lambda y, z: sce_ok(y, z)[:, :1], "shape")
    sentence(ch.check_dense_backward, lambda d, x, k: (d @ k.T, x.T @ d), "a tuple (d_x, d_kernel, d_bias)")
    sentence(ch.check_two_layer_backward, lambda p, x, y: two_layer(p, x, y)[0], "a list of two dicts")
    sentence(ch.check_two_layer_backward, lambda p, x, y: [{"W": 0, "b": 0}] * 2, "a list of two dicts")
    sentence(ch.check_local_derivatives, lambda a, b: {"a*b": (b, a)}, "a dict with the keys")
    sentence(ch.check_numerical_gradient, lambda f, w, eps: "gradient", "returned str")
