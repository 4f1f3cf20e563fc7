"""The check framework (course_lib.checks): named factors, named parts, exception hints, the
message layout, silence about the checker's own warnings, predictions, and short failures in IPython."""

import inspect
import re
import warnings

import numpy as np
import pytest

import course_lib.checks as checks
from course_lib.checks import (
    CheckFailed,
    Mistake,
    NotAttempted,
    check_function,
    check_prediction,
    check_value,
    exception_hint,
    failure_message,
)


def failure(fn, *args, **kwargs):
    with pytest.raises(CheckFailed) as info:
        fn(*args, **kwargs)
    return info.value


def step(w, g, lr):
    return w - lr * g


STEP_CASES = [(1.0, 2.0, 0.1), (np.array([1.0, -2.0]), np.array([0.5, 3.0]), 0.3), (4.0, -1.0, 0.05)]


# --------------------------------------------------------------------------- the ratio hint
def test_a_declared_factor_is_named_both_ways():
    factors = {"the learning rate": lambda w, g, lr: lr, "2": 2}
    extra = failure(check_function, lambda w, g, lr: (w - lr * g) * lr, step, STEP_CASES, name="f",
                    factors=factors, quiet=True)
    assert "times the learning rate" in extra.hint
    missing = failure(check_function, lambda w, g, lr: (w - lr * g) / 2, step, STEP_CASES, name="f",
                      factors=factors, quiet=True)
    assert "divided by 2" in missing.hint and "factor 2 is missing" in missing.hint


def test_no_ratio_hint_for_an_undeclared_ratio():
    # The old generic hint called any constant ratio "a factor applied twice or forgotten".
    for wrong in (lambda w, g, lr: (w - lr * g) * 2 / 3, lambda w, g, lr: (w - lr * g) * 0.1,
                  lambda w, g, lr: 0 * w):
        info = failure(check_function, wrong, step, STEP_CASES, name="f",
                       factors={"the learning rate": lambda w, g, lr: lr, "2": 2}, quiet=True)
        assert info.hint is None, info.hint


def test_the_ratio_must_hold_on_every_input():
    # Times 2 on the first input only: no factor explains every answer.
    def once(w, g, lr):
        return 2 * step(w, g, lr) if lr == 0.1 else step(w, g, lr)
    assert failure(check_function, once, step, STEP_CASES, name="f", factors={"2": 2}, quiet=True).hint is None


def test_sign_hint_only_for_the_exact_negative():
    assert "opposite sign" in failure(check_function, lambda w, g, lr: -step(w, g, lr), step, STEP_CASES,
                                      name="f", quiet=True).hint
    assert failure(check_function, lambda w, g, lr: -step(w, g, lr) + 1e-3, step, STEP_CASES, name="f",
                   quiet=True).hint is None


# --------------------------------------------------------------------------- parts by name
def momentum(w, v, g):
    new_v = 0.9 * v - 0.1 * g
    return w + new_v, new_v


MOMENTUM_CASES = [(np.array([1.0, 2.0]), np.array([0.5, -0.5]), np.array([1.0, 3.0])), (1.0, 0.0, 2.0)]


def test_tuple_parts_are_compared_by_name():
    def wrong_w(w, v, g):
        new_v = 0.9 * v - 0.1 * g
        return w - new_v, new_v
    info = failure(check_function, wrong_w, momentum, MOMENTUM_CASES, name="momentum", names=("new_w", "new_v"),
                   quiet=True)
    assert "new_v is right; new_w is not" in str(info)


def test_a_swapped_order_is_named():
    info = failure(check_function, lambda w, v, g: momentum(w, v, g)[::-1], momentum, MOMENTUM_CASES,
                   name="momentum", names=("new_w", "new_v"), quiet=True)
    assert "wrong order" in info.hint and "(new_w, new_v)" in info.hint and "(new_v, new_w)" in info.hint


def test_a_list_of_parts_is_accepted_and_dicts_are_named_by_key():
    check_function(lambda w, v, g: list(momentum(w, v, g)), momentum, MOMENTUM_CASES, name="m", quiet=True)

    def as_dict(w, v, g):
        new_w, new_v = momentum(w, v, g)
        return {"w": new_w, "v": new_v}

    def wrong_v(w, v, g):
        out = as_dict(w, v, g)
        return {"w": out["w"], "v": -out["v"]}
    info = failure(check_function, wrong_v, as_dict, MOMENTUM_CASES, name="m", quiet=True)
    assert "w is right; v is not" in str(info) and info.hint.startswith("v: the answer has the opposite sign")


def test_a_factor_in_one_part_is_named_with_the_part():
    def half_grads(w, b):
        return 2 * w, b

    def grads(w, b):
        return 4 * w, b
    info = failure(check_function, half_grads, grads, [(1.0, 2.0), (3.0, -1.0)], name="g", names=("dw", "db"),
                   factors={"2": 2}, quiet=True)
    assert info.hint.startswith("dw: the answer is the expected one divided by 2")


# --------------------------------------------------------------------------- exceptions
def raised(fn):
    try:
        fn()
    except Exception as exc:  # a real error from numpy or TensorFlow
        return exc
    raise AssertionError("no exception")


def test_numpy_errors_become_hints():
    a = np.ones((4, 3))
    assert "element-wise product" in exception_hint(raised(lambda: a @ a))
    assert "element-wise product" in exception_hint(raised(lambda: np.dot(a, a)))
    assert "keepdims=True" in exception_hint(raised(lambda: a - a.sum(axis=1)))
    assert "count steps from 1" in exception_hint(raised(lambda: 1 / 0))
    with np.errstate(divide="raise"):
        assert "count steps from 1" in exception_hint(raised(lambda: np.float64(1.0) / np.zeros(1)))
    assert exception_hint(raised(lambda: {}["key"])) is None


def test_tensorflow_errors_become_hints():
    tf = pytest.importorskip("tensorflow")
    a = tf.ones((4, 3))
    assert "element-wise product" in exception_hint(raised(lambda: a @ a))
    assert "keepdims=True" in exception_hint(raised(lambda: a - tf.reduce_sum(a, axis=1)))

    w = tf.Variable(5.0)
    loss = tf.square(w + 1)  # outside the tape
    with tf.GradientTape() as tape:
        pass
    grad = tape.gradient(loss, w)
    assert grad is None
    assert "inside the `with tf.GradientTape() as tape:`" in exception_hint(
        raised(lambda: tf.keras.optimizers.SGD(0.1).apply_gradients([(grad, w)])))
    assert "inside the `with tf.GradientTape() as tape:`" in exception_hint(raised(lambda: grad.numpy()))
    assert "GradientTape" in exception_hint(raised(lambda: 0.1 * grad))


def test_a_crash_in_the_students_function_gets_the_hint():
    def centered(x):
        return x - x.mean(axis=1, keepdims=True)

    def no_keepdims(x):
        return x - x.mean(axis=1)
    info = failure(check_function, no_keepdims, centered, [(np.ones((4, 3)),)], name="centered", quiet=True)
    assert str(info).startswith("centered raised ValueError. Likely mistake: a broadcast error")
    assert "operands could not be broadcast" in str(info)


def test_a_catalogue_entry_that_raises_the_same_error_is_named():
    def rate(step):
        return 1 / (1 + step)
    info = failure(check_function, lambda step: 1 / step, rate, [(0,), (1,), (4,)], name="rate", quiet=True,
                   mistakes=[Mistake(lambda step: 1 / step, "the 1 + is missing from the denominator.")])
    assert info.hint == "the 1 + is missing from the denominator."


# --------------------------------------------------------------------------- message layout and warnings
def test_first_line_is_the_verdict_and_hint_and_values_are_abbreviated():
    big = np.linspace(0, 1, 1000)
    info = failure(check_function, lambda x: x - 1.0, lambda x: x + 1.0, [(big,)], name="shift", quiet=True,
                   mistakes=[Mistake(lambda x: x - 1.0, "subtract, not add.")])
    lines = str(info).splitlines()
    assert lines[0] == "shift is wrong. Likely mistake: subtract, not add."
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["called as", "returned", "expected"]
    assert all(len(line) <= 170 for line in lines), lines
    assert "shape (1000,)" in str(info) and "..." in str(info)


def test_failure_message_without_hint():
    assert failure_message("f is wrong: it returned None.", None, [("called as", "f(1)")]) == \
        "f is wrong: it returned None.\n  called as: f(1)"


def test_no_warning_from_the_checker_reaches_the_student():
    def reference(x):
        return np.where(x > 0, np.log(np.abs(x)), 0.0)  # log(0) warns inside the reference

    def wrong(x):
        return np.zeros_like(x)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        failure(check_function, wrong, reference, [(np.array([0.0, 2.0]),)], name="f", quiet=True,
                mistakes=[Mistake(lambda x: np.log(x) * 0 + 1 / x, "never matches")])
    assert seen == []


def test_a_students_divide_by_zero_warning_becomes_the_hint():
    def correction(t):
        return 1 / (1 - 0.9 ** (t + 1))

    def from_zero(t):
        return 1 / (1 - 0.9 ** np.asarray(t, float))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        info = failure(check_function, from_zero, correction, [(0,), (1,)], name="c", quiet=True)
    assert seen == [] and "count steps from 1" in info.hint


def test_check_value_uses_the_same_search():
    info = failure(check_value, (2.0, 1.0), (1.0, 2.0), name="pair", names=("a", "b"))
    assert "wrong order" in info.hint
    info = failure(check_value, 0.2, 0.1, name="x", factors={"2": 2})
    assert "times 2" in info.hint


def test_in_place_mutation_is_named():
    def in_place(w, g, lr):
        w -= lr * g
        return w
    info = failure(check_function, in_place, step, [(np.array([1.0, 2.0]), np.array([1.0, 1.0]), 0.1)],
                   name="step", quiet=True)
    assert "changed its input arguments in place" in str(info)


# --------------------------------------------------------------------------- predictions
def ask(answer, **kwargs):
    options = dict(name="lr_045", choices=["converges", "oscillates", "diverges"], correct="converges",
                   explanation="0.45 is below the limit 0.5.", evidence=lambda: print("loss 3.04e-05 after 60 steps"))
    options.update(kwargs)
    check_prediction(answer, **options)


def test_a_right_prediction_prints_verdict_explanation_and_run(capsys):
    ask(" Converges")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✓ lr_045: 'converges' is right."
    assert out[1] == "Why: 0.45 is below the limit 0.5."
    assert out[-1] == "loss 3.04e-05 after 60 steps"


def test_a_wrong_prediction_shows_the_run_then_fails(capsys):
    with pytest.raises(CheckFailed, match="the prediction 'diverges' is not right; the answer is 'converges'"):
        ask("diverges")
    out = capsys.readouterr().out
    assert "you predicted 'diverges'" in out and "loss 3.04e-05" in out


def test_a_prediction_outside_the_choices_or_unanswered(capsys):
    with pytest.raises(CheckFailed, match="should be one of 'converges', 'oscillates', 'diverges'; it is 'conv'"):
        ask("conv")
    with pytest.raises(NotAttempted):
        ask(...)
    assert capsys.readouterr().out == ""  # nothing revealed
    with pytest.raises(ValueError, match="correct="):
        ask("converges", correct="explodes")


def test_a_numeric_prediction_takes_a_tolerance(capsys):
    check_prediction(0.0011, name="first_step", correct=0.001, tolerance=2e-4, explanation="e.")
    with pytest.raises(CheckFailed):
        check_prediction(0.01, name="first_step", correct=0.001, tolerance=2e-4, explanation="e.")
    with pytest.raises(CheckFailed, match="should be a number"):
        check_prediction("small", name="first_step", correct=0.001, tolerance=2e-4, explanation="e.")
    with pytest.raises(ValueError, match="tolerance"):
        check_prediction(0.001, name="first_step", correct=0.001, explanation="e.")


# --------------------------------------------------------------------------- IPython
def test_short_failures_in_a_real_ipython_shell(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        checks.register_short_failures(shell)
        result = shell.run_cell("from course_lib.checks import CheckFailed\n"
                                "def deep():\n    raise CheckFailed('f is wrong. Likely mistake: the sign.')\n"
                                "deep()")
        out = capsys.readouterr()
        shown = re.sub(r"\x1b\[[0-9;]*m", "", out.out + out.err)
        assert isinstance(result.error_in_exec, CheckFailed)
        assert "CheckFailed: f is wrong. Likely mistake: the sign." in shown
        assert "Traceback" not in shown and "deep()" not in shown
        shell.run_cell("raise KeyError('other')")  # other errors keep their traceback
        out = capsys.readouterr()
        assert "Traceback" in out.out + out.err
    finally:
        shell.set_custom_exc((), None)
        InteractiveShell.clear_instance()


def test_the_module_uses_no_private_ipython_api():
    assert "_showtraceback" not in inspect.getsource(checks)


# --------------------------------------------------------------------------- layout hints
@pytest.mark.parametrize("wrong, reference, words", [
    (lambda x: [x * 2], lambda x: x * 2, "another shape"),
    (lambda x: np.asarray(x * 2.5).astype(int), lambda x: x * 2.5, "whole numbers"),
    (lambda x: np.float16(x / 3), lambda x: np.float64(x / 3), "too few digits"),
    (lambda x: np.array([x + 1, x, 0.0]), lambda x: np.array([0.0, x, x + 1]), "reverse order"),
    (lambda x: {"a": x, "b": x + 1}, lambda x: (x, x + 1), "in a dict"),
    (lambda x: bool(x > 0), lambda x: "positive" if x > 0 else "negative", "not True/False"),
])
def test_layout_hints(wrong, reference, words):
    info = failure(check_function, wrong, reference, [(1.3,), (2.7,), (-0.4,)], name="f", quiet=True)
    assert words in info.hint, info.hint


@pytest.mark.parametrize("wrong, reference, words", [
    (lambda x: "Positive" if x > 0 else "Negative", lambda x: "positive" if x > 0 else "negative",
     "spelled differently"),
    (lambda x: abs(x) * 10 + 0.5, lambda x: int(np.ceil(abs(x) * 10 + 0.5)), "whole number"),
    (lambda x: print(x), lambda x: x, "returns None"),
])
def test_more_layout_hints(wrong, reference, words):
    info = failure(check_function, wrong, reference, [(1.33,), (2.71,), (-0.44,)], name="f", quiet=True)
    assert words in info.hint, info.hint


def test_more_exception_hints():
    import math

    tf = pytest.importorskip("tensorflow")
    assert "element-wise functions" in exception_hint(raised(lambda: float(np.ones(3))))
    assert "slice instead" in exception_hint(raised(lambda: np.arange(10).reshape(-1, 3)))
    assert "abs()" in exception_hint(raised(lambda: math.log(-2.0)))
    w = tf.Variable(1.0)
    assert "gradient first" in exception_hint(
        raised(lambda: tf.keras.optimizers.SGD(0.1).apply_gradients([(w, tf.constant(1.0))])))
    opt = tf.keras.optimizers.SGD(0.1)
    opt.apply_gradients([(tf.constant(1.0), w)])
    assert "once, before the loop" in exception_hint(
        raised(lambda: opt.apply_gradients([(tf.constant(1.0), tf.Variable(2.0))])))


@pytest.mark.parametrize("wrong, reference, words", [
    (lambda x: np.arange(1, 6) * x, lambda x: np.arange(0, 6) * x, "shifted by one position"),
    (lambda x: -1 if x < 0 else x, lambda x: np.inf if x < 0 else x, "return math.inf"),
    (lambda x: (x ** 2, 2 * x), lambda x: 2 * x, "only the answer"),
    (lambda x: "stable" if x > 0 else "unstable", lambda x: "up" if x > 0 else "down", "one of the words 'down', 'up'"),
])
def test_sequence_sentinel_tuple_and_word_hints(wrong, reference, words):
    info = failure(check_function, wrong, reference, [(1.5,), (2.5,), (-0.5,)], name="f", quiet=True)
    assert words in info.hint, info.hint
