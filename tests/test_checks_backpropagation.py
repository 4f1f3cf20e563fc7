"""Lesson 06's checks accept right answers and name the mistake in typical wrong ones."""

import numpy as np
import pytest
from check_helpers import predicts, rejects, sentence

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
    rejects(ch.check_sigmoid_backward, lambda d, out: -d * out * (1 - out), "sign is flipped")


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
    sentence(ch.check_numerical_gradient, mutating, "w[i] was not put back after its probes")


# --------------------------------------------------------------------------- answers that are not answers
CHECKS = [
    (ch.check_local_derivatives, 2), (ch.check_dense_backward, 3), (ch.check_sigmoid_backward, 2),
    (ch.check_softmax_cross_entropy_backward, 2), (ch.check_two_layer_backward, 3), (ch.check_numerical_gradient, 3),
    (ch.check_tape_gradients, 3),
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


# --------------------------------------------------------------------------- more mistakes, one per catalogue entry
def local_with(key, value):
    """A student's local_derivatives, right except for one key."""
    def local(a, b):
        out = local_ok(a, b)
        out[key] = value(a, b)
        return out
    return local


@pytest.mark.parametrize("key, value, words", [
    ("tanh(a)", lambda a, b: 1 - np.tanh(a), "the square is missing"),
    ("tanh(a)", lambda a, b: (1 - np.tanh(a)) ** 2, "(1 - tanh(a))**2 squares"),
    ("a/b", lambda a, b: (1 / b, -1 / (b * b)), "the factor a is missing"),
    ("a**3", lambda a, b: 3 * a * a * a, "lowers the exponent by one"),
    ("sigmoid(a)", lambda a, b: sig(a) * (1 + sig(a)), "the sign inside the bracket"),
    ("a*b", lambda a, b: (b, b), "the pair is (b, a)"),
    ("a/b", lambda a, b: (1 / b, a / (b * b)), "negative"),
    ("a**3", lambda a, b: a * a, "brings the exponent down"),
    ("tanh(a)", lambda a, b: np.tanh(a), "tanh(a) itself"),
    ("sigmoid(a)", lambda a, b: sig(a), "sigmoid(a) itself"),
])
def test_local_derivative_more_mistakes(key, value, words):
    text = rejects(ch.check_local_derivatives, local_with(key, value), words)
    assert key in text.splitlines()[0]


@pytest.mark.parametrize("student, words", [
    (lambda d, x, k: ((d @ k.T).T, x.T @ d, d.sum(0)), "d_x is transposed"),
    (lambda d, x, k: (d @ k.T, x.T @ d, np.sum(d, axis=1)), "wrong axis"),
    (lambda d, x, k: (d @ k.T, x.T @ d, np.sum(d)), "summed over everything"),
    (lambda d, x, k: (d @ k.T, x.T @ d, d.sum(axis=0, keepdims=True)), "keepdims"),
    (lambda d, x, k: (x.T @ d, d @ k.T, d.sum(0)), "wrong order"),
    (lambda d, x, k: (-d @ k.T, -x.T @ d, -d.sum(0)), "wrong sign"),
    (lambda d, x, k: (d @ k.T, d.T @ x, d.sum(0)), "d_kernel is transposed"),
])
def test_dense_backward_more_mistakes(student, words):
    rejects(ch.check_dense_backward, student, words)


def test_dense_backward_elementwise_for_matrix_product_is_named():
    # `*` where `@` belongs: numpy cannot broadcast (5, 2) with (2, 3)
    rejects(ch.check_dense_backward, lambda d, x, k: (d * k.T, x.T @ d, d.sum(0)), "broadcast")
    # `@` where a transpose is missing: the matmul shape error names the matrix product
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k, x.T @ d, d.sum(0)), "`*`")


@pytest.mark.parametrize("student, words", [
    (lambda d, out: d * (1 - out), "the factor out is missing"),
    (lambda d, out: d * out * (1 + out), "sign inside the bracket"),
    (lambda d, out: d * out * 1 - out, "precedence"),
    (lambda d, out: d / (out * (1 - out)), "not d_out / (...)"),
    (lambda d, out: d * out, "(1 - out) factor is missing"),
])
def test_sigmoid_backward_more_mistakes(student, words):
    rejects(ch.check_sigmoid_backward, student, words)


def sce_student(labels, logits, axis=1, whole=False, divide_by=None, precedence=False, stable=True):
    z = logits - (logits.max(axis=axis, keepdims=True) if stable else 0)
    e = np.exp(z)
    probs = e / (e.sum() if whole else e.sum(axis=axis, keepdims=True))
    one_hot = np.zeros_like(logits)
    one_hot[np.arange(len(labels)), labels] = 1
    n = len(labels) if divide_by is None else divide_by(logits)
    return probs - one_hot / n if precedence else (probs - one_hot) / n


@pytest.mark.parametrize("options, words", [
    ({"axis": 0}, "wrong axis"), ({"whole": True}, "whole batch"), ({"divide_by": np.size}, "batch * classes"),
    ({"precedence": True}, "precedence"), ({"stable": False}, "subtract each row's maximum"),
])
def test_softmax_cross_entropy_more_mistakes(options, words):
    with np.errstate(over="ignore", invalid="ignore"):
        rejects(ch.check_softmax_cross_entropy_backward, lambda y, z: sce_student(y, z, **options), words)


def test_softmax_cross_entropy_missing_keepdims_is_named():
    def no_keepdims(labels, logits):
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1) - np.eye(logits.shape[1])[labels]) / len(labels)
    rejects(ch.check_softmax_cross_entropy_backward, no_keepdims, "keepdims=True")


def two_layer_student(params, x, labels, derivative="sigmoid", bias="sum", kernel_div=False, use_bias=True,
                      flip=False, reverse=False):
    (w1, b1), (w2, b2) = ((p["kernel"], p["bias"]) for p in params)
    a1 = sig(x @ w1 + (b1 if use_bias else 0))
    d_logits = sce_ok(labels, a1 @ w2 + (b2 if use_bias else 0))
    if flip:
        d_logits = -d_logits
    local = 1 - a1 ** 2 if derivative == "tanh" else a1 * (1 - a1)
    d_z1 = (d_logits @ w2.T) * local
    grads = []
    for inp, d in ((x, d_z1), (a1, d_logits)):
        kernel = inp.T @ d / (len(x) if kernel_div else 1)
        grads.append({"kernel": kernel, "bias": d.mean(axis=0) if bias == "mean" else d.sum(axis=0)})
    return grads[::-1] if reverse else grads


@pytest.mark.parametrize("options, words", [
    ({"derivative": "tanh"}, "tanh's derivative"), ({"bias": "mean"}, "not the mean"),
    ({"kernel_div": True}, "twice"), ({"use_bias": False}, "leaves out the biases"),
    ({"flip": True}, "wrong sign"), ({"reverse": True}, "layer 1 first"),
])
def test_two_layer_more_mistakes(options, words):
    rejects(ch.check_two_layer_backward, lambda p, x, y: two_layer_student(p, x, y, **options), words)


def numerical_student(f, w, eps, slip):
    w = np.array(w, dtype=float)
    g = np.zeros(w.shape, dtype=int) if slip == "int" else np.zeros_like(w)
    for i in np.ndindex(w.shape):
        old = w[i]
        if slip == "backward":
            here = f(w)
            w[i] = old - eps
            g[i] = (here - f(w)) / eps
            w[i] = old
            continue
        w[i] = old + eps
        hi = f(w)
        w[i] = old if slip == "no minus" else old - eps
        lo = f(w)
        if slip != "no restore":
            w[i] = old
        if slip == "precedence":
            g[i] = hi - lo / (2 * eps)
        elif slip == "precedence 2":
            g[i] = (hi - lo) / 2 * eps
        else:
            g[i] = (hi - lo) / (2 * eps)
    return g


@pytest.mark.parametrize("slip, words", [
    ("backward", "backward difference"), ("no restore", "not put back"), ("no minus", "the other way"),
    ("precedence", "divides only minus"), ("precedence 2", "*multiplies* by eps"), ("int", "whole numbers"),
])
def test_numerical_gradient_more_mistakes(slip, words):
    rejects(ch.check_numerical_gradient, lambda f, w, eps: numerical_student(f, w, eps, slip), words)


def test_messages_are_short():
    """The first line says what is wrong; no line dumps the parameters."""
    text = rejects(ch.check_two_layer_backward, lambda p, x, y: two_layer_student(p, x, y, bias="mean"), "mean")
    assert all(len(line) < 400 for line in text.splitlines()), text
    assert len(text) < 1200, text


# --------------------------------------------------------------------------- the second round of mistakes
@pytest.mark.parametrize("key, value, words", [
    ("exp(a)", lambda a, b: a * np.exp(a - 1), "its own derivative"),
    ("exp(a)", lambda a, b: np.exp(a) * a, "no factor a"),
    ("a/b", lambda a, b: (b, -a / b ** 2), "d(a/b)/da = 1/b"),
    ("sigmoid(a)", lambda a, b: np.exp(-a) / (1 + np.exp(-a)), "denominator is squared"),
    ("tanh(a)", lambda a, b: 1 / np.cosh(a), "1/cosh(a)**2"),
])
def test_local_derivative_second_round(key, value, words):
    rejects(ch.check_local_derivatives, local_with(key, value), words)


def test_dense_backward_second_round():
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T, x.T @ d, d[0, :]), "first example only")
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T / d.shape[0], x.T @ d, d.sum(0)),
            "divided by the batch size")
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T, x.T * d, d.sum(0)), "element-wise `*`")


def test_sigmoid_backward_named_factor():
    rejects(ch.check_sigmoid_backward, lambda d, out: d * out * (1 - out) / d.shape[0], "the batch size")
    rejects(ch.check_sigmoid_backward, lambda d, out: 2 * d * out * (1 - out), "factor 2")


def test_softmax_cross_entropy_second_round():
    def log_probs(labels, logits):
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return (logp - np.eye(logits.shape[1])[labels]) / len(labels)

    def minus_one(labels, logits):
        return (sce_ok(labels, logits) * len(labels) + np.eye(logits.shape[1])[labels] - 1) / len(labels)

    def square_eye(labels, logits):
        return sce_ok(labels, logits) + (np.eye(logits.shape[1])[labels] - np.eye(len(labels))[labels]) / len(labels)
    rejects(ch.check_softmax_cross_entropy_backward, log_probs, "log of the softmax")
    rejects(ch.check_softmax_cross_entropy_backward, minus_one, "not from every probability")
    rejects(ch.check_softmax_cross_entropy_backward, square_eye, "one column per class")


def test_two_layer_second_round():
    def relu_derivative(params, x, labels):
        (w1, b1), (w2, b2) = ((p["kernel"], p["bias"]) for p in params)
        z1 = x @ w1 + b1
        a1 = sig(z1)
        d_logits = sce_ok(labels, a1 @ w2 + b2)
        d_z1 = d_logits @ w2.T * np.where(z1 > 0, 1.0, 0.0)
        return [{"kernel": x.T @ d_z1, "bias": d_z1.sum(0)}, {"kernel": a1.T @ d_logits, "bias": d_logits.sum(0)}]

    def sigmoid_twice(params, x, labels):
        (w1, b1), (w2, b2) = ((p["kernel"], p["bias"]) for p in params)
        a1 = sig(x @ w1 + b1)
        d_logits = sce_ok(labels, a1 @ w2 + b2)
        d_z1 = bp.sigmoid_backward(d_logits @ w2.T, sig(a1))
        return [{"kernel": x.T @ d_z1, "bias": d_z1.sum(0)}, {"kernel": a1.T @ d_logits, "bias": d_logits.sum(0)}]
    rejects(ch.check_two_layer_backward, relu_derivative, "ReLU's derivative")
    rejects(ch.check_two_layer_backward, sigmoid_twice, "applied sigmoid again")
    rejects(ch.check_two_layer_backward,
            lambda p, x, y: two_layer_student(p, x, y, kernel_div=True),
            "twice")


def test_numerical_gradient_second_round():
    rejects(ch.check_numerical_gradient, lambda f, w, eps: numerical_student(f, w, 1e-5, "none"), "`epsilon` argument")

    def set_not_add(f, w, eps):
        w, g = w.copy(), np.zeros_like(w)
        for i in np.ndindex(w.shape):
            keep = w[i]
            w[i] = eps
            up = f(w)
            w[i] = -eps
            g[i] = (up - f(w)) / (2 * eps)
            w[i] = keep
        return g
    rejects(ch.check_numerical_gradient, set_not_add, "*set* to epsilon")


# --------------------------------------------------------------------------- predict, then run
@pytest.mark.parametrize("check, right, wrong, shown", [
    (ch.check_sigmoid_slope_prediction, 0.25, 1.0, "largest over 20001 points from z = -10 to 10: 0.250000"),
    (ch.check_logit_gradient_prediction, 0, 1, "sum +1.4e-17"),
])
def test_predictions(check, right, wrong, shown, capsys):
    predicts(check, right, wrong, shown, capsys)


# --------------------------------------------------------------------------- mistakes no catalogue entry names
def test_sigmoid_backward_unlisted_slip_is_written_as_a_formula():
    text = rejects(ch.check_sigmoid_backward, lambda d, out: d * (1 - out) ** 2, "the d_out term differs")
    assert "your d_z = (1 - out)*(1 - out)*d_out; expected d_z = (1 - out)*out*d_out" in text


def test_third_round_entries():
    rejects(ch.check_local_derivatives, local_with("a/b", lambda a, b: (1 / b, a / b)), "not its derivative")
    rejects(ch.check_softmax_cross_entropy_backward, lambda y, z: -sce_ok(y, z) * len(y), "two slips")
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T + d @ k.T, x.T @ d, d.sum(0)), "factor 2")
    rejects(ch.check_two_layer_backward,
            lambda p, x, y: [{"kernel": 2 * g["kernel"], "bias": 2 * g["bias"]} for g in two_layer(p, x, y)],
            "factor 2")


# --------------------------------------------------------------------------- fourth round
def test_local_derivative_bank_writes_out_unlisted_formulas():
    text = rejects(ch.check_local_derivatives, local_with("exp(a)", lambda a, b: 1 / np.exp(a)),
                   "your d(exp(a))/da is exp(-a), at every point; it is exp(a).")
    assert '["exp(a)"]' in text.splitlines()[0]
    rejects(ch.check_local_derivatives, local_with("a*b", lambda a, b: (1.0, a)), "your d(a*b)/da is 1")


def test_fourth_round_entries():
    def elementwise_softmax_derivative(labels, logits):
        p = bp.softmax(logits)
        return (p - p * p - np.eye(logits.shape[1])[labels]) / len(labels)
    rejects(ch.check_softmax_cross_entropy_backward, elementwise_softmax_derivative, "p * (1 - p)")
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T, x.sum(0)[:, None] * d.sum(0)[None, :], d.sum(0)),
            "outer product")

    def without_bias2(params, x, labels):
        (w1, b1), (w2, _) = ((p["kernel"], p["bias"]) for p in params)
        a1 = sig(x @ w1 + b1)
        d_logits = sce_ok(labels, a1 @ w2)
        d_z1 = d_logits @ w2.T * a1 * (1 - a1)
        return [{"kernel": x.T @ d_z1, "bias": d_z1.sum(0)}, {"kernel": a1.T @ d_logits, "bias": d_logits.sum(0)}]

    def hidden_for_input(params, x, labels):
        (w1, b1), (w2, b2) = ((p["kernel"], p["bias"]) for p in params)
        a1 = sig(x @ w1 + b1)
        d_logits = sce_ok(labels, a1 @ w2 + b2)
        d_z1 = d_logits @ w2.T * a1 * (1 - a1)
        return [{"kernel": a1.T @ d_z1, "bias": d_z1.sum(0)}, {"kernel": a1.T @ d_logits, "bias": d_logits.sum(0)}]
    rejects(ch.check_two_layer_backward, without_bias2, "leaves out bias2")
    rejects(ch.check_two_layer_backward, hidden_for_input, "not a1.T @ d_z1")

    def relative_step(f, w, eps):
        w, g = w.copy(), np.zeros_like(w)
        for i in np.ndindex(w.shape):
            keep, h = w[i], eps * abs(w[i])
            w[i] = keep + h
            up = f(w)
            w[i] = keep - h
            g[i] = (up - f(w)) / (2 * h)
            w[i] = keep
        return g
    rejects(ch.check_numerical_gradient, relative_step, "epsilon * |w[i]|")


def test_fifth_round_entries():
    rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T, x.T @ d, d.sum(0) / k.shape[1]),
            "the number of outputs")
    rejects(ch.check_local_derivatives, local_with("tanh(a)", lambda a, b: 1 - np.tanh(a) * 2), "`*` where `**`")
    rejects(ch.check_sigmoid_backward, lambda d, out: d * np.mean(out * (1 - out)), "without averaging")
    rejects(ch.check_softmax_cross_entropy_backward,
            lambda y, z: (bp.softmax(z) - np.eye(z.shape[1])[y - 1]) / len(y), "not [k - 1]")


# --------------------------------------------------------------------------- newcomer review (issue 13)
def test_extra_division_by_the_batch_is_named_as_twice():
    text = rejects(ch.check_dense_backward, lambda d, x, k: (d @ k.T / len(x), x.T @ d, d.sum(0)),
                   "d_x is divided by the batch size twice")
    assert "d_x from dense_backward" in text.splitlines()[0]
    rejects(ch.check_sigmoid_backward, lambda d, out: d * out * (1 - out) / len(d), "divided by the batch size twice")


def test_softmax_axis_mistakes_are_named():
    def column_max(labels, logits):
        z = logits - logits.max(axis=0)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return (p - np.eye(logits.shape[1])[labels]) / len(labels)

    def column_sum(labels, logits):
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=0, keepdims=True)
        return (p - np.eye(logits.shape[1])[labels]) / len(labels)

    def no_exp(labels, logits):
        return (logits - logits.max(axis=1, keepdims=True) - np.eye(logits.shape[1])[labels]) / len(labels)
    rejects(ch.check_softmax_cross_entropy_backward, column_max, "each *column's* maximum")
    rejects(ch.check_softmax_cross_entropy_backward, column_sum, "your rows do not sum to 1")
    rejects(ch.check_softmax_cross_entropy_backward,
            lambda y, z: (z - np.eye(z.shape[1])[y]) / len(y), "the softmax is left out")
    rejects(ch.check_softmax_cross_entropy_backward, no_exp, "the softmax is still to be taken")


def test_two_layer_pre_activation_and_tanh_are_named():
    def z1_into_layer2(params, x, labels):
        (w1, b1), (w2, b2) = ((p["kernel"], p["bias"]) for p in params)
        z1 = x @ w1 + b1
        a1 = sig(z1)
        d_logits = sce_ok(labels, a1 @ w2 + b2)
        d_z1 = d_logits @ w2.T * a1 * (1 - a1)
        return [{"kernel": x.T @ d_z1, "bias": d_z1.sum(0)}, {"kernel": z1.T @ d_logits, "bias": d_logits.sum(0)}]

    def tanh_network(params, x, labels):
        (w1, b1), (w2, b2) = ((p["kernel"], p["bias"]) for p in params)
        a1 = np.tanh(x @ w1 + b1)
        d_logits = sce_ok(labels, a1 @ w2 + b2)
        d_z1 = d_logits @ w2.T * (1 - a1 ** 2)
        return [{"kernel": x.T @ d_z1, "bias": d_z1.sum(0)}, {"kernel": a1.T @ d_logits, "bias": d_logits.sum(0)}]
    text = rejects(ch.check_two_layer_backward, z1_into_layer2, "the hidden layer's *output*")
    assert text.startswith('layer 2 kernel (your [1]["kernel"])'), text
    rejects(ch.check_two_layer_backward, tanh_network, "you used tanh")


def test_numerical_gradient_alias_unrestored_and_flat_step():
    def alias(f, w, eps):
        g = np.zeros_like(w)
        for i in np.ndindex(w.shape):
            wp = w
            wp[i] += eps
            hi = f(wp)
            wm = w
            wm[i] -= eps
            g[i] = (hi - f(wm)) / (2 * eps)
        return g

    def unrestored(f, w, eps):
        g = np.zeros_like(w)
        for i in np.ndindex(w.shape):
            w[i] += eps
            hi = f(w)
            w[i] -= 2 * eps
            g[i] = (hi - f(w)) / (2 * eps)
        return g

    def flat(f, w, eps):
        g = np.zeros(w.size)
        for i in range(w.size):
            e = np.zeros(w.size)
            e[i] = eps
            g[i] = (f(w + e) - f(w - e)) / (2 * eps)
        return g
    rejects(ch.check_numerical_gradient, alias, "not a copy but a second name")
    text = rejects(ch.check_numerical_gradient, unrestored, "w[i] was not put back")
    assert "Return new values instead" not in text and "w after" in text, text
    rejects(ch.check_numerical_gradient, flat, "a flat array of w.size entries")


# --------------------------------------------------------------------------- exercise 7: GradientTape
def tape_student(params, x, labels, slip=None):
    import tensorflow as tf
    dtype = tf.float32 if slip == "float32" else tf.float64
    v = [{k: tf.Variable(p[k], dtype=dtype) for k in ("kernel", "bias")} for p in params]
    x = tf.constant(x, dtype=dtype)

    def forward():
        a1 = tf.sigmoid(x @ v[0]["kernel"] + v[0]["bias"])
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, a1 @ v[1]["kernel"] + v[1]["bias"])
        return tf.reduce_sum(losses) if slip == "sum" else tf.reduce_mean(losses)
    if slip == "outside":
        loss = forward()
        with tf.GradientTape() as tape:
            loss = loss + 0.0
    else:
        with tf.GradientTape() as tape:
            loss = forward()
    return tape.gradient(loss, v)


def test_tape_gradients_right_answer_passes(capsys):
    ch.check_tape_gradients(tape_student)
    ch.check_tape_gradients(lambda p, x, y: [{k: g.numpy() for k, g in d.items()} for d in tape_student(p, x, y)])
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize("slip, words", [
    ("outside", "the forward pass (or the loss) ran outside"), ("float32", "your gradients are float32"),
    ("sum", "not tf.reduce_sum"),
])
def test_tape_gradients_mistakes(slip, words):
    rejects(ch.check_tape_gradients, lambda p, x, y: tape_student(p, x, y, slip), words)


def test_tape_gradients_outside_the_tape_then_numpy_is_named():
    rejects(ch.check_tape_gradients,
            lambda p, x, y: [{k: g.numpy() for k, g in d.items()} for d in tape_student(p, x, y, "outside")],
            "ran outside `with tf.GradientTape() as tape:`")


def test_two_layer_list_of_tuples_names_the_position():
    sentence(ch.check_two_layer_backward,
             lambda p, x, y: [(g["kernel"], g["bias"]) for g in two_layer(p, x, y)], "its [0] is tuple")
