"""Checks for the exercises of lesson 06, backpropagation.

Answers that return several gradients are checked one gradient at a time (layer 2 before
layer 1, as the backward pass computes them), so that a student with two mistakes hears
about the first one with its own hint.
"""

import copy

import numpy as np

from ..backprop import MLP, dense_backward, sigmoid, sigmoid_backward, softmax, softmax_cross_entropy_backward
from ..backprop import numerical_gradient as _central
from . import (
    CheckFailed,
    Mistake,
    NotAttempted,
    _fmt_args,
    check_function,
    check_prediction,
    describe,
    exception_hint,
    failure_message,
)
from .optimizers import with_linear_hint

__all__ = ["check_local_derivatives", "check_dense_backward", "check_sigmoid_backward",
           "check_softmax_cross_entropy_backward", "check_two_layer_backward", "check_numerical_gradient",
           "check_tape_gradients", "check_sigmoid_slope_prediction", "check_logit_gradient_prediction"]


# --------------------------------------------------------------------------- helpers
def _split(case):
    if len(case) == 2 and isinstance(case[0], tuple) and isinstance(case[1], dict):
        return case
    return tuple(case), {}


def _first_call(student_fn, case, name, crash_hints=None):
    """Call the answer once, turning 'not written' and crashes into a sentence."""
    if not callable(student_fn):
        raise CheckFailed(f"`{name}` should be a function, but it is {type(student_fn).__name__} "
                          f"{describe(student_fn)}. Did you overwrite it with a value?")
    args, kwargs = _split(case)
    try:
        return student_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except NotImplementedError:
        raise NotAttempted(f"`{name}` is not written yet: replace `raise NotImplementedError()` "
                           "with your code, then run this check again.") from None
    except Exception as exc:
        hint = None
        if "matmul" in str(exc) or "not aligned" in str(exc):
            hint = ("a matrix product got mismatched shapes: write the shape next to every array "
                    "(d_out is (batch, outputs), kernel is (inputs, outputs), ...) and transpose where needed; "
                    "where an element-wise product is meant, write `*`.")
        hint = hint or next((h for words, h in (crash_hints or {}).items() if words in str(exc)), None)
        hint = hint or exception_hint(exc)
        what = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
        details = [("called as", f"{name}{_fmt_args(args, kwargs)}")]
        if hint:
            raise CheckFailed(failure_message(f"{name} raised {type(exc).__name__}", hint,
                                              [("what", what)] + details), hint) from None
        raise CheckFailed(failure_message(f"{name} raised {what}", None, details)) from None


def _layout_problem(got, expected, what, where=""):
    """A sentence when ``got`` is not nested like ``expected`` (leaf shapes are checked later);
    ``where`` is the position inside the answer, such as ``[0]``."""
    part = f"its {where} is" if where else "it returned"
    if got is None:
        return f"{part} None. Did you forget the `return` statement?"
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{part} {type(got).__name__} {describe(got)}; expected {what}."
        if set(got) != set(expected):
            return f"{part} a dict with keys {sorted(got)}; expected {what}."
        return next((p for k in expected if (p := _layout_problem(got[k], expected[k], what, f"{where}[{k!r}]"))),
                    None)
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{part} {type(got).__name__} {describe(got)}; expected {what}."
        return next((p for i, (g, e) in enumerate(zip(got, expected, strict=True))
                     if (p := _layout_problem(g, e, what, f"{where}[{i}]"))), None)
    return None


def _get(value, path):
    for key in path:
        value = value[key]
    return value


ELEMENTWISE = ("an element-wise `*` where a matrix product belongs: numpy could not broadcast the two shapes. "
               "Products of a batch with a kernel or of x.T with d_out are matrix products, `@`.")


def _check_parts(student_fn, reference_fn, cases, parts, *, name, what, mistakes, rtol=1e-6, atol=1e-9,
                 factors=None, crash_hints=None):
    """``check_function`` run once per part of the answer; ``parts`` = [(path, label), ...]."""
    for case in cases:  # a crash on any input gets its sentence (and hint) before the parts are compared
        got = _first_call(student_fn, case, name, crash_hints)
    got = _first_call(student_fn, cases[0], name, crash_hints)
    args, kwargs = _split(cases[0])
    problem = _layout_problem(got, reference_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs)), what)
    if problem:
        raise CheckFailed(f"{name} is wrong: {problem}")
    for path, label in parts:
        def part(*a, _path=path, **k):
            return _get(student_fn(*a, **k), _path)

        def reference(*a, _path=path, **k):
            return _get(reference_fn(*a, **k), _path)

        part_mistakes = [Mistake(lambda *a, _fn=m.fn, _path=path, **k: _get(_fn(*a, **k), _path), m.hint)
                         for m in mistakes]
        check_function(part, reference, cases, name=f"{label} from {name}", mistakes=part_mistakes,
                       factors=factors, rtol=rtol, atol=atol, quiet=True)
    print(f"✓ {name} is correct on {len(cases)} inputs.")


def _rng_cases(seed, shapes_list):
    rng = np.random.default_rng(seed)
    return [tuple(rng.normal(size=s) for s in shapes) for shapes in shapes_list]


# --------------------------------------------------------------------------- exercise 1
KEYS = ("a*b", "a/b", "a**3", "exp(a)", "tanh(a)", "sigmoid(a)")


def _local_reference(a, b):
    s = 1 / (1 + np.exp(-a))
    return {"a*b": (b, a), "a/b": (1 / b, -a / b ** 2), "a**3": 3 * a ** 2, "exp(a)": np.exp(a),
            "tanh(a)": 1 - np.tanh(a) ** 2, "sigmoid(a)": s * (1 - s)}


def _local(key, fn):
    def wrong(a, b):
        out = _local_reference(a, b)
        out[key] = fn(a, b)
        return out
    return wrong


_BANK = [("0", lambda a, b: 0.0 * a), ("1", lambda a, b: 1.0 + 0 * a), ("a", lambda a, b: a), ("b", lambda a, b: b),
         ("1/b", lambda a, b: 1 / b), ("-1/b", lambda a, b: -1 / b), ("a/b", lambda a, b: a / b),
         ("-a/b", lambda a, b: -a / b), ("a/b**2", lambda a, b: a / b ** 2), ("-a/b**2", lambda a, b: -a / b ** 2),
         ("-1/b**2", lambda a, b: -1 / b ** 2), ("a**2", lambda a, b: a ** 2), ("3*a", lambda a, b: 3 * a),
         ("3*a**2", lambda a, b: 3 * a ** 2), ("a**3", lambda a, b: a ** 3), ("exp(a)", lambda a, b: np.exp(a)),
         ("exp(-a)", lambda a, b: np.exp(-a)), ("-exp(-a)", lambda a, b: -np.exp(-a)),
         ("a*exp(a)", lambda a, b: a * np.exp(a)),
         ("tanh(a)", lambda a, b: np.tanh(a)), ("1 - tanh(a)**2", lambda a, b: 1 - np.tanh(a) ** 2),
         ("1 + tanh(a)**2", lambda a, b: 1 + np.tanh(a) ** 2), ("tanh(a)**2 - 1", lambda a, b: np.tanh(a) ** 2 - 1),
         ("1 - a**2", lambda a, b: 1 - a ** 2), ("sigmoid(a)", lambda a, b: 1 / (1 + np.exp(-a))),
         ("sigmoid(a) * (1 - sigmoid(a))", lambda a, b: np.exp(-a) / (1 + np.exp(-a)) ** 2),
         ("sigmoid(a)**2", lambda a, b: 1 / (1 + np.exp(-a)) ** 2),
         ("1 - sigmoid(a)", lambda a, b: 1 - 1 / (1 + np.exp(-a))),
         ("a * (1 - a)", lambda a, b: a * (1 - a)),
         ("1 - 2*tanh(a) (`*` where `**` was meant)", lambda a, b: 1 - 2 * np.tanh(a)),
         ("1 - tanh(a)", lambda a, b: 1 - np.tanh(a))]
_CORRECT = {"a*b": ("b", "a"), "a/b": ("1/b", "-a/b**2"), "a**3": "3*a**2", "exp(a)": "exp(a)",
            "tanh(a)": "1 - tanh(a)**2", "sigmoid(a)": "sigmoid(a) * (1 - sigmoid(a))"}


def _bank_mistakes():
    """For each key (and each part of a pair), every expression of the bank in place of the right one."""
    out = []
    for key, right in _CORRECT.items():
        for index, name in ((None, right),) if isinstance(right, str) else enumerate(right):
            wrt = "a" if index in (None, 0) else "b"
            for text, fn in _BANK:
                if text == name:
                    continue

                def value(a, b, _key=key, _index=index, _fn=fn):
                    if _index is None:
                        return _fn(a, b)
                    pair = list(_local_reference(a, b)[_key])
                    pair[_index] = _fn(a, b)
                    return tuple(pair)
                out.append(Mistake(_local(key, value),
                                   f"your d({key})/d{wrt} is {text}, at every point; it is {name}."))
    return out


def check_local_derivatives(local_derivatives):
    """Exercise 1: the local derivatives of a few operations, at the point (a, b).

    After the catalogue, a bank of expressions is tried in place of each derivative, so that a
    wrong formula the catalogue does not list is still written out.
    """
    cases = [(0.5, 2.0), (-1.5, 0.25), (2.0, -3.0), (0.0, 1.0)]
    _check_parts(local_derivatives, _local_reference, cases, [((k,), f'["{k}"]') for k in KEYS],
                 name="local_derivatives", what=f"a dict with the keys {list(KEYS)}", mistakes=[
        Mistake(_local("a*b", lambda a, b: (a, b)),
                "d(a*b)/da is the *other* factor, b; and d(a*b)/db is a."),
        Mistake(_local("a/b", lambda a, b: (1 / b, -a / b)),
                "d(a/b)/db = -a / b**2: a/b = a * b**-1, and the power rule gives -1 * b**-2."),
        Mistake(_local("a/b", lambda a, b: (1 / b, a / b ** 2)),
                "d(a/b)/db is negative when a/b > 0: growing b shrinks a/b, so d(a/b)/db = -a / b**2."),
        Mistake(_local("a**3", lambda a, b: 3 * a),
                "the power rule: d(a**3)/da = 3 * a**2."),
        Mistake(_local("a**3", lambda a, b: a ** 2),
                "the power rule brings the exponent down: d(a**3)/da = 3 * a**2."),
        Mistake(_local("tanh(a)", lambda a, b: 1 - a ** 2),
                "tanh' = 1 - tanh(a)**2: the formula uses tanh's *output*, not its input a."),
        Mistake(_local("sigmoid(a)", lambda a, b: a * (1 - a)),
                "sigmoid' = s * (1 - s) with s = sigmoid(a), the *output*; a * (1 - a) uses the input."),
        Mistake(_local("tanh(a)", lambda a, b: np.tanh(a)),
                "that is tanh(a) itself; its derivative is 1 - tanh(a)**2."),
        Mistake(_local("sigmoid(a)", lambda a, b: 1 / (1 + np.exp(-a))),
                "that is sigmoid(a) itself; its derivative is s * (1 - s) with s = sigmoid(a)."),
        Mistake(_local("tanh(a)", lambda a, b: 1 - np.tanh(a)),
                "tanh' = 1 - tanh(a)**2: the square is missing (1 - tanh(a) is not the derivative)."),
        Mistake(_local("tanh(a)", lambda a, b: (1 - np.tanh(a)) ** 2),
                "precedence: tanh' = 1 - tanh(a)**2, the square of tanh only; (1 - tanh(a))**2 squares the "
                "difference."),
        Mistake(_local("a/b", lambda a, b: (1 / b, -1 / b ** 2)),
                "d(a/b)/db = -a / b**2: the factor a is missing."),
        Mistake(_local("a**3", lambda a, b: 3 * a ** 3),
                "the power rule lowers the exponent by one: d(a**3)/da = 3 * a**2."),
        Mistake(_local("sigmoid(a)", lambda a, b: (1 / (1 + np.exp(-a))) * (1 + 1 / (1 + np.exp(-a)))),
                "sigmoid' = s * (1 - s): the sign inside the bracket is a minus."),
        Mistake(_local("a/b", lambda a, b: (1 / b, a / b)),
                "d(a/b)/db = -a / b**2: a/b = a * b**-1, and the power rule gives -1 * b**-2 (a/b is the value, "
                "not its derivative)."),
        Mistake(_local("a*b", lambda a, b: (b, b)),
                "d(a*b)/db is the other factor, a: the pair is (b, a)."),
        Mistake(_local("exp(a)", lambda a, b: a * np.exp(a - 1)),
                "the power rule is for a**n; exp is its own derivative: d exp(a)/da = exp(a)."),
        Mistake(_local("exp(a)", lambda a, b: a * np.exp(a)),
                "exp is its own derivative: d exp(a)/da = exp(a), with no factor a."),
        Mistake(_local("a/b", lambda a, b: (b, -a / b ** 2)),
                "d(a/b)/da = 1/b: a/b is a times the constant 1/b."),
        Mistake(_local("sigmoid(a)", lambda a, b: np.exp(-a) / (1 + np.exp(-a))),
                "the denominator is squared: sigmoid' = exp(-a) / (1 + exp(-a))**2 = s * (1 - s)."),
        Mistake(_local("tanh(a)", lambda a, b: 1 / np.cosh(a)),
                "tanh' = 1/cosh(a)**2 = 1 - tanh(a)**2: the square is missing."),
    ] + _bank_mistakes())


# --------------------------------------------------------------------------- exercise 2
DENSE_PARTS = [((1,), "d_kernel"), ((2,), "d_bias"), ((0,), "d_x")]


def check_dense_backward(student_dense_backward):
    """Exercise 2: ``(d_x, d_kernel, d_bias)`` of ``y = x @ kernel + bias`` given ``d_out``."""
    shapes = [[(5, 2), (5, 3), (3, 2)], [(4, 4), (4, 3), (3, 4)], [(1, 3), (1, 2), (2, 3)], [(7, 1), (7, 4), (4, 1)]]
    cases = _rng_cases(5, shapes)           # (d_out, x, kernel)
    _check_parts(student_dense_backward, dense_backward, cases, DENSE_PARTS, name="dense_backward",
                 what="a tuple (d_x, d_kernel, d_bias)",
                 factors={"the batch size": lambda d, x, k: len(x), "2": 2,
                          "the number of outputs": lambda d, x, k: d.shape[1]},
                 crash_hints={"could not be broadcast": ELEMENTWISE}, mistakes=[
        Mistake(lambda d, x, k: (d @ k.T, d.T @ x, d.sum(0)),
                "d_kernel is transposed: it must have the kernel's shape (inputs, outputs), "
                "so d_kernel = x.T @ d_out."),
        Mistake(lambda d, x, k: (d @ k.T, x.T @ d, d),
                "d_bias must be summed over the batch: the bias is added to every example, so "
                "d_bias = d_out.sum(axis=0), of shape (outputs,)."),
        Mistake(lambda d, x, k: (d @ k.T, x.T @ d, d.mean(0)),
                "d_bias is the *sum* over the batch, d_out.sum(axis=0), not the mean: any averaging is "
                "already inside d_out (the loss is a mean)."),
        Mistake(lambda d, x, k: (d @ k.T, x.T @ d / len(x), d.sum(0)),
                "d_kernel = x.T @ d_out sums over the batch; do not divide by the batch size again "
                "(the mean's 1/batch is already inside d_out)."),
        Mistake(lambda d, x, k: (d @ k, x.T @ d, d.sum(0)),
                "d_x = d_out @ kernel.T: the gradient goes back through the kernel transposed."),
        Mistake(lambda d, x, k: (d @ k.T / len(x), x.T @ d, d.sum(0)),
                "d_x is divided by the batch size twice: the mean's 1/batch is already inside d_out, so "
                "d_x = d_out @ kernel.T with no further division."),
        Mistake(lambda d, x, k: (d @ k.T, x @ d.T, d.sum(0)),
                "d_kernel = x.T @ d_out (inputs x batch times batch x outputs), not x @ d_out.T."),
        Mistake(lambda d, x, k: (k @ d.T, x.T @ d, d.sum(0)),
                "d_x is transposed: it must have x's shape (batch, inputs), so d_x = d_out @ kernel.T."),
        Mistake(lambda d, x, k: (d @ k.T, x.T @ d, d.sum(1)),
                "d_bias is summed over the wrong axis: sum over the batch, axis=0, which leaves one entry per "
                "output."),
        Mistake(lambda d, x, k: (d @ k.T, x.T @ d, d.sum()),
                "d_bias is summed over everything: sum over the batch only, d_out.sum(axis=0), of shape (outputs,)."),
        Mistake(lambda d, x, k: (d @ k.T, x.T @ d, d.sum(0, keepdims=True)),
                "d_bias has an extra axis: with keepdims=True it is (1, outputs); the bias is (outputs,), so "
                "sum without keepdims."),
        Mistake(lambda d, x, k: (d @ k.T, np.outer(x.sum(0), d.sum(0)), d.sum(0)),
                "d_kernel pairs each example's input with the same example's gradient, x.T @ d_out; the outer "
                "product of the two batch sums mixes examples."),
        Mistake(lambda d, x, k: (d @ k.T, x.T @ d, d[0]),
                "d_bias takes the first example only: sum over the whole batch, d_out.sum(axis=0)."),
        Mistake(lambda d, x, k: (x.T @ d, d @ k.T, d.sum(0)),
                "the parts are returned in the wrong order: return (d_x, d_kernel, d_bias)."),
        Mistake(lambda d, x, k: (-(d @ k.T), -(x.T @ d), -d.sum(0)),
                "every gradient has the wrong sign: backpropagation only multiplies by the local derivatives; the "
                "minus sign belongs to the descent step, later."),
    ])


# --------------------------------------------------------------------------- exercise 3
def check_sigmoid_backward(student_sigmoid_backward):
    """Exercise 3: ``d_out * out * (1 - out)`` where ``out = sigmoid(z)``.

    A slip no catalogue entry explains, if the answer is still linear in ``d_out``, is written
    back as a formula in ``out`` and compared with the expected one.
    """
    rng = np.random.default_rng(3)
    cases = []
    for shape in [(4, 3), (2, 5), (1, 1), (6, 2)]:
        cases.append((rng.normal(size=shape), sigmoid(rng.normal(size=shape) * 2)))   # (d_out, out)
    atoms = [("out", lambda a: a[1]), ("(1 - out)", lambda a: 1 - a[1]), ("(1 + out)", lambda a: 1 + a[1]),
             ("2", lambda a: 2.0)]
    with_linear_hint(lambda: _check_sigmoid_backward(student_sigmoid_backward, cases), student_sigmoid_backward,
                     reference_fn=sigmoid_backward, cases=cases, linear=(0,), input_names=("d_out",),
                     output_names=("d_z",), atoms=atoms, max_atoms=3)


def _check_sigmoid_backward(student_sigmoid_backward, cases):
    check_function(student_sigmoid_backward, sigmoid_backward, cases, name="sigmoid_backward", rtol=1e-6,
                   atol=1e-9, factors={"the batch size": lambda d, out: len(d), "2": 2}, mistakes=[
        Mistake(lambda d, out: d * sigmoid(out) * (1 - sigmoid(out)),
                "you applied sigmoid again: `out` already *is* sigmoid(z), so the derivative is "
                "out * (1 - out). (Taking s(1 - s) at the input instead of the output is the same mistake.)"),
        Mistake(lambda d, out: out * (1 - out),
                "the chain rule: multiply the local derivative out * (1 - out) by d_out, the gradient "
                "arriving from above."),
        Mistake(lambda d, out: d * (1 - out ** 2),
                "1 - out**2 is tanh's derivative; sigmoid's is out * (1 - out)."),
        Mistake(lambda d, out: d * out,
                "the local derivative is out * (1 - out); the (1 - out) factor is missing."),
        Mistake(lambda d, out: d * (1 - out),
                "the local derivative is out * (1 - out); the factor out is missing."),
        Mistake(lambda d, out: d * out * (1 + out),
                "sigmoid' = out * (1 - out): the sign inside the bracket is a minus."),
        Mistake(lambda d, out: -d * out * (1 - out),
                "the sign is flipped: the chain rule multiplies, d_z = d_out * out * (1 - out), with no minus."),
        Mistake(lambda d, out: d * out * 1 - out,
                "precedence: `d_out * out * 1 - out` subtracts out at the end; write d_out * out * (1 - out)."),
        Mistake(lambda d, out: d * (out * (1 - out)).mean(),
                "the local derivative is element-wise: multiply each d_out entry by its own out * (1 - out), "
                "without averaging."),
        Mistake(lambda d, out: d * out * (1 - out) / len(d),
                "the answer is divided by the batch size twice: any 1/batch is already inside d_out, and "
                "sigmoid_backward only multiplies by the local derivative, d_out * out * (1 - out)."),
        Mistake(lambda d, out: d / (out * (1 - out)),
                "the chain rule multiplies by the local derivative: d_out * out * (1 - out), not d_out / (...)."),
    ])


# --------------------------------------------------------------------------- exercise 4
WHOLE_SUM = ("the softmax is normalised over the whole batch (`e.sum()` without an axis): normalise each row, "
             "e / e.sum(axis=1, keepdims=True).")


def _whole_sum(z):
    e = np.exp(z)
    return e / e.sum()


LOG_SOFTMAX = ("that is the log of the softmax; the gradient uses the probabilities themselves: "
               "(softmax(logits) - one_hot) / batch.")


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _row_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _column_normalised(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _unstable_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def check_softmax_cross_entropy_backward(student_fn):
    """Exercise 4: ``(softmax(logits) - one_hot(labels)) / batch`` for the mean loss."""
    rng = np.random.default_rng(4)
    cases = []
    for n, k in [(4, 3), (5, 2), (1, 4), (8, 5)]:
        cases.append((rng.integers(0, k, n), rng.normal(size=(n, k)) * 2))        # (labels, logits)
    cases.append((np.array([0, 1]), np.array([[800.0, 0.0], [0.0, 0.5]])))        # large logits

    def one_hot(labels, k):
        return np.eye(k)[labels]

    check_function(student_fn, softmax_cross_entropy_backward, cases, name="softmax_cross_entropy_backward",
                   rtol=1e-6, atol=1e-9, factors={"the batch size": lambda y, z: len(y)}, mistakes=[
        Mistake(lambda y, z: softmax(z) - one_hot(y, z.shape[1]),
                "the loss is the *mean* over the batch, so every gradient is divided by the batch size: "
                "(softmax - one_hot) / batch. Without it you differentiated the sum."),
        Mistake(lambda y, z: softmax(z) / len(y),
                "subtract the one-hot labels: d loss / d logits = (softmax(logits) - one_hot(labels)) / batch."),
        Mistake(lambda y, z: (softmax(z) - one_hot(y, z.shape[1])) / z.shape[1],
                "divide by the batch size (rows), not by the number of classes (columns)."),
        Mistake(lambda y, z: (np.exp(z) - one_hot(y, z.shape[1])) / len(y),
                "use the softmax, exp(z) / sum(exp(z)) over each row (subtract the row's max first to avoid "
                "overflow), not exp(z) alone."),
        Mistake(lambda y, z: (one_hot(y, z.shape[1]) - softmax(z)) / len(y),
                "the sign is flipped: the gradient is softmax - one_hot (raising the right logit lowers the loss)."),
        Mistake(lambda y, z: (softmax(z.T).T - one_hot(y, z.shape[1])) / len(y),
                "the softmax is normalised over the wrong axis: each *row* (example) sums to 1, so take the max "
                "and the sum over axis=1 (with keepdims=True)."),
        Mistake(lambda y, z: (_whole_sum(z - z.max(axis=1, keepdims=True)) - one_hot(y, z.shape[1])) / len(y),
                WHOLE_SUM),
        Mistake(lambda y, z: (_whole_sum(z - z.max()) - one_hot(y, z.shape[1])) / len(y), WHOLE_SUM),
        Mistake(lambda y, z: (softmax(z) - one_hot(y, z.shape[1])) / z.size,
                "divide by the batch size only (the loss is a mean over examples, a sum over classes), not by "
                "batch * classes."),
        Mistake(lambda y, z: (softmax(z) * (1 - softmax(z)) - one_hot(y, z.shape[1])) / len(y),
                "p * (1 - p) is the derivative of one softmax output with respect to its own logit; combined with "
                "the cross-entropy the gradient is simply (softmax - one_hot) / batch."),
        Mistake(lambda y, z: (softmax(z) - np.eye(z.shape[1])[y - 1]) / len(y),
                "the labels already count classes from 0: the one-hot row of label k is np.eye(classes)[k], "
                "not [k - 1]."),
        Mistake(lambda y, z: one_hot(y, z.shape[1]) - softmax(z),
                "two slips: the sign is flipped (the gradient is softmax - one_hot) and the 1/batch of the mean "
                "loss is missing: (softmax - one_hot) / batch."),
        Mistake(lambda y, z: softmax(z) - one_hot(y, z.shape[1]) / len(y),
                "precedence: `probs - one_hot / batch` divides only the labels; write (probs - one_hot) / batch."),
        Mistake(lambda y, z: (np.log(softmax(z)) - one_hot(y, z.shape[1])) / len(y), LOG_SOFTMAX),
        Mistake(lambda y, z: (_log_softmax(z) - one_hot(y, z.shape[1])) / len(y), LOG_SOFTMAX),
        Mistake(lambda y, z: (softmax(z) - 1) / len(y),
                "subtract 1 only at each example's label (the one-hot row), not from every probability."),
        Mistake(lambda y, z: (softmax(z) - np.eye(len(y))[y]) / len(y),
                "the one-hot matrix needs one column per class: np.eye(number of classes)[labels], "
                "np.eye(logits.shape[1]), not np.eye(len(labels))."),
        Mistake(lambda y, z: (_row_softmax(z - z.max(axis=0)) - one_hot(y, z.shape[1])) / len(y),
                "the maximum is taken over the wrong axis: logits.max(axis=0) is each *column's* maximum, so "
                "each entry of a row loses a different number and the softmax changes. Subtract each row's "
                "maximum, logits.max(axis=1, keepdims=True), a (batch, 1) column."),
        Mistake(lambda y, z: (_column_normalised(z) - one_hot(y, z.shape[1])) / len(y),
                "the exponentials are normalised over the wrong axis: e.sum(axis=0) adds up each *column* "
                "(across the batch), so your rows do not sum to 1. Divide by each row's sum, "
                "e.sum(axis=1, keepdims=True)."),
        Mistake(lambda y, z: (z - one_hot(y, z.shape[1])) / len(y),
                "the softmax is left out: the gradient subtracts the one-hot labels from the *probabilities* "
                "softmax(logits), not from the logits themselves."),
        Mistake(lambda y, z: (z - z.max(axis=1, keepdims=True) - one_hot(y, z.shape[1])) / len(y),
                "after subtracting the row maximum, the softmax is still to be taken: exp, then divide by "
                "each row's sum; the gradient is (probabilities - one_hot) / batch."),
        Mistake(lambda y, z: (_unstable_softmax(z) - one_hot(y, z.shape[1])) / len(y),
                "exp overflows for a large logit (800 here): subtract each row's maximum before exp, "
                "np.exp(logits - logits.max(axis=1, keepdims=True)); the softmax is unchanged."),
    ])


# --------------------------------------------------------------------------- exercise 5
def _two_layer_reference(params, x, labels):
    net = MLP((x.shape[1], params[0]["kernel"].shape[1], params[1]["kernel"].shape[1]), activation="sigmoid")
    return net.loss_and_grad(params, x, labels)[1]


def _two_layer_variant(transpose=False, bias_sum=True, sigmoid_at_input=False, mean=True, skip_sigmoid=False,
                       tanh=False, bias_mean=False, forward_bias=True, sign=1, kernel_mean=False, reverse=False,
                       relu=False, sigmoid_again=False, skip_bias=(), layer1_input="x",
                       layer2_input="a1", tanh_forward=False):
    def grads(params, x, labels):
        (w1, b1), (w2, b2) = ((p["kernel"], p["bias"]) for p in params)
        z1 = x @ w1 + (b1 if forward_bias and 1 not in skip_bias else 0)
        a1 = np.tanh(z1) if tanh_forward else sigmoid(z1)
        logits = a1 @ w2 + (b2 if forward_bias and 2 not in skip_bias else 0)
        d_logits = sign * (softmax(logits) - np.eye(w2.shape[1])[labels])
        if mean:
            d_logits = d_logits / len(x)
        d_a1 = d_logits @ w2.T
        if skip_sigmoid:
            d_z1 = d_a1
        elif tanh or tanh_forward:
            d_z1 = d_a1 * (1 - a1 ** 2)
        elif relu:
            d_z1 = d_a1 * (z1 > 0)
        elif sigmoid_again:
            d_z1 = d_a1 * sigmoid(a1) * (1 - sigmoid(a1))
        else:
            s = z1 if sigmoid_at_input else a1
            d_z1 = d_a1 * s * (1 - s)
        out = []
        for inp, d in ((a1 if layer1_input == "a1" else x, d_z1), (z1 if layer2_input == "z1" else a1, d_logits)):
            dk = (d.T @ inp) if transpose else inp.T @ d
            if kernel_mean:
                dk = dk / len(x)
            out.append({"kernel": dk, "bias": d.mean(0) if bias_mean else d.sum(0) if bias_sum else d})
        return out[::-1] if reverse else out
    return grads


def _two_layer_cases():
    """(params, x, labels) in float64 for Exercises 5 and 7."""
    rng = np.random.default_rng(55)
    cases = []
    for n, d, h, k in [(4, 2, 3, 2), (6, 3, 5, 4), (1, 2, 4, 3), (10, 4, 2, 3)]:
        params = [{"kernel": rng.normal(size=(d, h)), "bias": rng.normal(size=h)},
                  {"kernel": rng.normal(size=(h, k)), "bias": rng.normal(size=k)}]
        cases.append((params, rng.normal(size=(n, d)), rng.integers(0, k, n)))
    return cases


TWO_LAYER_PARTS = [((1, "kernel"), 'layer 2 kernel (your [1]["kernel"])'),
                   ((1, "bias"), 'layer 2 bias (your [1]["bias"])'),
                   ((0, "kernel"), 'layer 1 kernel (your [0]["kernel"])'),
                   ((0, "bias"), 'layer 1 bias (your [0]["bias"])')]


def check_two_layer_backward(two_layer_backward):
    """Exercise 5: gradients of the mean cross-entropy of ``Dense -> sigmoid -> Dense -> softmax``."""
    cases = _two_layer_cases()
    _check_parts(two_layer_backward, _two_layer_reference, cases, TWO_LAYER_PARTS, name="two_layer_backward",
                 factors={"the batch size": lambda p, x, y: len(x), "2": 2},
                 crash_hints={"could not be broadcast": ELEMENTWISE},
                 what='a list of two dicts [{"kernel": ..., "bias": ...}, {"kernel": ..., "bias": ...}], '
                      "layer 1 first", mistakes=[
        Mistake(_two_layer_variant(transpose=True),
                "the kernel gradient is transposed: d_kernel = layer_input.T @ d_z has the kernel's shape "
                "(inputs, outputs)."),
        Mistake(_two_layer_variant(bias_sum=False),
                "the bias gradient must be summed over the batch: d_bias = d_z.sum(axis=0)."),
        Mistake(_two_layer_variant(sigmoid_at_input=True),
                "the sigmoid derivative is s * (1 - s) with s = a1, the layer's *output*; you used z1, its input."),
        Mistake(_two_layer_variant(mean=False),
                "the loss is the mean over the batch, so d_logits = (softmax - one_hot) / batch; you "
                "differentiated the sum (every gradient is batch times too large)."),
        Mistake(_two_layer_variant(skip_sigmoid=True),
                "between the layers, multiply by the sigmoid's derivative: d_z1 = d_a1 * a1 * (1 - a1)."),
        Mistake(_two_layer_variant(tanh=True),
                "1 - a1**2 is tanh's derivative; this network's hidden layer is a sigmoid: "
                "d_z1 = d_a1 * a1 * (1 - a1)."),
        Mistake(_two_layer_variant(bias_mean=True),
                "the bias gradient is the *sum* over the batch, d_z.sum(axis=0), not the mean: the 1/batch of the "
                "mean loss is already inside d_logits."),
        Mistake(_two_layer_variant(kernel_mean=True),
                "the kernel gradients are divided by the batch size twice: the 1/batch is already inside d_logits."),
        Mistake(_two_layer_variant(forward_bias=False),
                "the forward pass leaves out the biases: z1 = x @ kernel1 + bias1 and logits = a1 @ kernel2 + bias2."),
        Mistake(_two_layer_variant(sign=-1),
                "every gradient has the wrong sign: d_logits = (softmax - one_hot) / batch, not one_hot - softmax."),
        Mistake(_two_layer_variant(skip_bias=(2,)),
                "the forward pass leaves out bias2: logits = a1 @ kernel2 + bias2."),
        Mistake(_two_layer_variant(skip_bias=(1,)),
                "the forward pass leaves out bias1: z1 = x @ kernel1 + bias1."),
        Mistake(_two_layer_variant(layer1_input="a1"),
                "layer 1's kernel gradient pairs layer 1's input, x, with d_z1: x.T @ d_z1, not a1.T @ d_z1."),
        Mistake(_two_layer_variant(layer2_input="z1"),
                "layer 2's input is a1 = sigmoid(z1), the hidden layer's *output*: d_kernel2 = a1.T @ d_logits; "
                "z1 is the hidden layer's input, before the sigmoid."),
        Mistake(_two_layer_variant(tanh_forward=True),
                "the hidden layer is a sigmoid, a1 = sigmoid(z1) = 1 / (1 + exp(-z1)); you used tanh (the "
                "lesson's deeper network uses tanh, this one does not), so d_z1 = d_a1 * a1 * (1 - a1)."),
        Mistake(_two_layer_variant(relu=True),
                "(z1 > 0) is ReLU's derivative; this hidden layer is a sigmoid: d_z1 = d_a1 * a1 * (1 - a1)."),
        Mistake(_two_layer_variant(sigmoid_again=True),
                "you applied sigmoid again: a1 already *is* sigmoid(z1), so d_z1 = d_a1 * a1 * (1 - a1)."),
        Mistake(_two_layer_variant(reverse=True),
                "the layers are returned in the wrong order: the list is layer 1 first, like params."),
    ])


# --------------------------------------------------------------------------- exercise 7
NO_TAPE = ("tape.gradient returned None: the tape saw no path from that weight to the loss. Most likely the forward "
           "pass (or the loss) ran outside `with tf.GradientTape() as tape:`; the tape records only what runs inside "
           "the block. Also: make every kernel and bias a tf.Variable (a tape does not watch plain arrays), and use "
           "TensorFlow operations (a numpy step such as np.exp cuts the path).")
FLOAT32 = ("your gradients are float32: the weights and x come in as float64, and tf.Variable(array) keeps that "
           "dtype; a dtype=tf.float32 (or tf.cast) somewhere rounds to 7 digits. Keep float64 throughout.")


def _dtype_name(value):
    try:
        return np.asarray(value).dtype.name
    except Exception:  # a value numpy cannot read: the comparison later says what it is
        return None


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def check_tape_gradients(tape_gradients):
    """Exercise 7: Exercise 5's gradients from ``tf.GradientTape``, in float64.

    Two failures are told apart before the values are compared: a ``None`` gradient (the forward
    pass outside the tape, or weights the tape does not watch) and float32 gradients."""
    cases = _two_layer_cases()
    name = "tape_gradients"
    crash_hints = {"'NoneType' object has no attribute": NO_TAPE,
                   "Attempt to convert a value (None)": NO_TAPE}
    for case in cases:
        got = _first_call(tape_gradients, case, name, crash_hints)
        leaves = _leaves(got) if isinstance(got, (list, tuple, dict)) else []
        details = [("called as", f"{name}{_fmt_args(case, {})}")]
        if any(leaf is None for leaf in leaves):
            raise CheckFailed(failure_message(f"{name} returned None for a gradient", NO_TAPE, details), NO_TAPE)
        if any(_dtype_name(leaf) == "float32" for leaf in leaves):
            raise CheckFailed(failure_message(f"{name} returned float32 gradients", FLOAT32, details), FLOAT32)
    _check_parts(tape_gradients, _two_layer_reference, cases, TWO_LAYER_PARTS, name=name,
                 factors={"the batch size": lambda p, x, y: len(x)}, rtol=1e-9, atol=1e-12, crash_hints=crash_hints,
                 what='a list of two dicts [{"kernel": ..., "bias": ...}, {"kernel": ..., "bias": ...}], '
                      "layer 1 first, like params", mistakes=[
        Mistake(_two_layer_variant(mean=False),
                "the loss is the *mean* over the batch: tf.reduce_mean of the per-example losses, not tf.reduce_sum "
                "(every gradient came out batch times too large)."),
        Mistake(_two_layer_variant(tanh_forward=True),
                "the hidden layer is a sigmoid, tf.sigmoid(x @ kernel1 + bias1); you used tanh."),
        Mistake(_two_layer_variant(forward_bias=False),
                "the forward pass leaves out the biases: x @ kernel1 + bias1, and a1 @ kernel2 + bias2."),
        Mistake(_two_layer_variant(reverse=True),
                "the layers are returned in the wrong order: the list is layer 1 first, like params."),
    ])


# --------------------------------------------------------------------------- exercise 6
def _forward_difference(f, w, epsilon=1e-6):
    w = np.array(w, dtype=np.float64)
    g, base = np.zeros_like(w), f(w)
    for i in np.ndindex(w.shape):
        saved = w[i]
        w[i] = saved + epsilon
        g[i] = (f(w) - base) / epsilon
        w[i] = saved
    return g


def _all_at_once(f, w, epsilon=1e-6):
    w = np.array(w, dtype=np.float64)
    return np.full_like(w, (f(w + epsilon) - f(w - epsilon)) / (2 * epsilon))


def _probe(f, w, epsilon, back=False, restore=True, minus=None, combine=lambda p, m, e: (p - m) / (2 * e),
           set_to=False, relative=False):
    """Exercise 6's loop with one slip (the catalogue's wrong answers)."""
    w = np.array(w, dtype=np.float64)
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        saved = w[i]
        if relative:
            h = epsilon * abs(saved)
            w[i] = saved + h
            plus = f(w)
            w[i] = saved - h
            g[i] = (plus - f(w)) / (2 * h)
            w[i] = saved
            continue
        if back:
            base = f(w)
            w[i] = saved - epsilon
            g[i] = (base - f(w)) / epsilon
        else:
            w[i] = epsilon if set_to else saved + epsilon
            plus = f(w)
            w[i] = -epsilon if set_to else saved - epsilon if minus is None else saved + minus
            g[i] = combine(plus, f(w), epsilon)
        if restore:
            w[i] = saved
    return g


class _Cubic:
    """sum(a * w**3) + (sum(w))**2, a smooth function with a known gradient."""

    def __init__(self, a):
        self.a = a

    def __call__(self, w):
        return float(np.sum(self.a * w ** 3) + np.sum(w) ** 2)

    def __repr__(self):
        return "f"


FLAT_STEP = ("w here is 2-D, and a flat array of w.size entries cannot be added to it: make the step (or the "
             "gradient) the shape of w, e.g. np.zeros_like(w), and index it with i from np.ndindex(w.shape).")


def check_numerical_gradient(numerical_gradient):
    """Exercise 6: central differences, one entry at a time."""
    rng = np.random.default_rng(6)
    cases = []
    for shape, eps in [((3,), 1e-3), ((2, 3), 1e-2), ((4,), 1e-4), ((1,), 1e-3)]:
        cases.append((_Cubic(rng.normal(size=shape)), rng.normal(size=shape), eps))
    name = "numerical_gradient"
    for case in cases:          # a crash gets its sentence first; then w must come back as it went in
        _first_call(numerical_gradient, case, name, {"could not be broadcast": FLAT_STEP})
        f, w, eps = copy.deepcopy(case)
        before = w.copy()
        numerical_gradient(f, w, eps)
        if not np.allclose(w, before, rtol=1e-12, atol=1e-12):
            hint = ("w[i] was not put back after its probes, so the caller's w changed. After the two probes "
                    "of an entry, restore it (saved = w[i] before, w[i] = saved after), or probe a copy, "
                    "w = w.copy(), at the start.")
            raise CheckFailed(failure_message(f"{name} left w changed", hint, [
                ("w before", np.array2string(before, precision=4)), ("w after", np.array2string(w, precision=4)),
                ("called as", f"{name}{_fmt_args(case, {})}")]), hint)
    check_function(numerical_gradient, _central, cases, name="numerical_gradient", rtol=1e-6, atol=1e-8,
                   factors={"2": 2}, mistakes=[
        Mistake(_forward_difference,
                "that is a forward difference (f(w + eps) - f(w)) / eps; use the central difference "
                "(f(w + eps) - f(w - eps)) / (2 eps), whose error is eps**2 instead of eps."),
        Mistake(lambda f, w, e: _central(f, w, e) * 2,
                "divide by 2 * epsilon: the two probes are 2 * epsilon apart."),
        Mistake(lambda f, w, e: _central(f, w, e) / 2,
                "divide by 2 * epsilon once, not twice."),
        Mistake(_all_at_once,
                "move one entry at a time: add epsilon to w[i] only, keep the others, and put it back before "
                "the next entry."),
        Mistake(lambda f, w, e: _probe(f, w, e, back=True),
                "that is a backward difference (f(w) - f(w - eps)) / eps; use the central difference "
                "(f(w + eps) - f(w - eps)) / (2 eps)."),
        Mistake(lambda f, w, e: _probe(f, w, e, restore=False),
                "w[i] is not put back after its probes: every later entry is measured at a shifted point. "
                "Save w[i], probe, then restore it."),
        Mistake(lambda f, w, e: _probe(f, w, e, minus=0.0),
                "your second probe is f at w itself, not at w[i] - epsilon: half the gradient. If you wrote "
                "`wm = w` (or `wp = w`), that is not a copy but a second name for the same array, so "
                "`wm[i] -= epsilon` undoes `wp[i] += epsilon`; copy with w.copy(). Otherwise the second probe "
                "must move w[i] the other way: (f(w + eps) - f(w - eps)) / (2 eps)."),
        Mistake(lambda f, w, e: _probe(f, w, e, combine=lambda p, m, e: p - m / (2 * e)),
                "precedence: `plus - minus / (2 * eps)` divides only minus; write (plus - minus) / (2 * eps)."),
        Mistake(lambda f, w, e: _probe(f, w, e, combine=lambda p, m, e: (p - m) / 2 * e),
                "precedence: `/ 2 * eps` divides by 2 and then *multiplies* by eps; write / (2 * eps)."),
        Mistake(lambda f, w, e: _probe(f, w, e, set_to=True),
                "w[i] was *set* to epsilon: the probes are w[i] + epsilon and w[i] - epsilon, around the current "
                "value."),
        Mistake(lambda f, w, e: _probe(f, w, e, relative=True),
                "probe with epsilon itself, w[i] +- epsilon; epsilon * |w[i]| is another step "
                "(and 0 where w[i] is 0)."),
        Mistake(lambda f, w, e: _central(f, w, 1e-5),
                "use the `epsilon` argument, not a fixed number: the answer depends on it."),
        Mistake(lambda f, w, e: _central(f, w, 1e-6),
                "use the `epsilon` argument, not a fixed number: the answer depends on it."),
        Mistake(lambda f, w, e: np.trunc(_central(f, w, e)),
                "the gradient was cut to whole numbers: the array holding it has an integer dtype "
                "(np.zeros(shape, dtype=int)?); make it float, e.g. np.zeros_like(w) for a float w."),
    ])


# --------------------------------------------------------------------------- predict, then run
def _sigmoid_slope_run():
    z = np.linspace(-10.0, 10.0, 20001)
    out = sigmoid(z)
    slope = out * (1 - out)
    lines = [f"out * (1 - out) at z = {v:5.1f} (out = {float(sigmoid(v)):.4f}): "
             f"{float(sigmoid(v) * (1 - sigmoid(v))):.4f}"
             for v in (-4.0, -1.0, 0.0, 1.0, 4.0)]
    lines.append(f"largest over 20001 points from z = -10 to 10: {slope.max():.6f}, at z = {z[slope.argmax()]:.3f}")
    lines.append(f"through 5 sigmoid layers a gradient is multiplied by at most 0.25**5 = {0.25 ** 5:.6f}")
    return "\n".join(lines)


def check_sigmoid_slope_prediction(answer):
    """Predict: the largest value of the sigmoid's local derivative out * (1 - out)."""
    check_prediction(
        answer, name="largest_sigmoid_slope", correct=0.25, tolerance=1e-3,
        explanation="out * (1 - out) is a parabola in out with its top at out = 0.5 (z = 0), where it is "
                    "0.5 * 0.5 = 0.25. So every sigmoid on the way back multiplies the gradient by at most 0.25: "
                    "through many sigmoid layers the gradient shrinks fast (the vanishing gradient).",
        evidence=_sigmoid_slope_run)


def _logit_gradient_run():
    rng = np.random.default_rng(0)
    labels, logits = np.array([0, 2, 3]), rng.normal(size=(3, 4)) * 3
    grad = softmax_cross_entropy_backward(labels, logits)
    lines = [f"example {i}: d loss / d logits = {np.array2string(row, precision=4)}, sum {row.sum():+.1e}"
             for i, row in enumerate(grad)]
    return "\n".join(lines)


def check_logit_gradient_prediction(answer):
    """Predict: for one example, what do the entries of d loss / d logits (softmax + cross-entropy) add up to?"""
    check_prediction(
        answer, name="logit_gradient_sum", correct=0.0, tolerance=1e-6,
        explanation="each row is (softmax - one_hot) / batch: the softmax adds up to 1 and the one-hot row adds "
                    "up to 1, so the row adds up to 0, and dividing by the batch size leaves 0 at 0. The label's "
                    "entry is negative (raising that logit lowers the loss), all the others positive. (The sums "
                    "printed are 0 up to rounding.)",
        evidence=_logit_gradient_run)
