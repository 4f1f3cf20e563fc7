"""The check framework (course_lib.checks): named factors, named parts, exception hints, the
message layout, silence about the checker's own warnings, predictions, and short failures in IPython."""

import inspect
import math
import re
import warnings

import numpy as np
import pytest
from check_helpers import changed_in_place

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

    def step_outside_the_tape(v):
        loss = tf.square(v + 1)
        with tf.GradientTape() as tape:
            pass
        return v - 0.1 * tape.gradient(loss, v)
    assert "GradientTape" in exception_hint(raised(lambda: step_outside_the_tape(w)))


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
    with pytest.raises(CheckFailed) as info:
        ask("diverges")
    out = capsys.readouterr().out
    assert out.startswith("Why: 0.45 is below the limit 0.5.") and "loss 3.04e-05" in out
    # The verdict is said once, in the failure after the explanation and the run.
    assert str(info.value) == ("`lr_045`: you predicted 'diverges'; the answer is 'converges'. Why, and the run "
                               "that settles it: above.")
    assert "diverges" not in out and "converges" not in out


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


# --------------------------------------------------------------------------- in place: which argument, which item
def all_reduce(per_replica):
    mean = sum(np.asarray(g, dtype=float) for g in per_replica) / len(per_replica)
    return [mean.copy() for _ in per_replica]


REDUCE_CASES = [([np.array([1.0, -2.0]), np.array([3.0, 4.0])],),
                ([np.array([0.5]), np.array([1.5]), np.array([2.5])],)]


def test_in_place_names_the_argument_by_name_and_position():
    def in_place(w, g, lr):
        w -= lr * g
        return w
    message = changed_in_place(lambda fn: check_function(fn, step, STEP_CASES[1:2], name="step", quiet=True),
                               in_place, "w")
    first = message.splitlines()[0]
    assert "`w` (the 1st argument) now holds other values" in first
    assert "`new = old * scale` rather than `old *= scale`" in first
    assert "w - lr * g" not in first   # the old message's optimizer example, whatever the exercise
    for operation in ("`+=`", "`-=`", "`*=`", "`/=`", "`a[...] = ...`", "out=", "`.append`"):
        assert operation in first, operation

    def second(w, g, lr):
        g *= lr
        return w - g
    message = changed_in_place(lambda fn: check_function(fn, step, STEP_CASES[1:2], name="step", quiet=True),
                               second, "g")
    assert "`g` (the 2nd argument)" in message


def test_in_place_names_the_item_of_a_list():
    def averaged_in_place(per_replica):
        mean = sum(per_replica) / len(per_replica)
        per_replica[1][...] = mean        # only the second replica's array
        return [mean.copy() for _ in per_replica]
    message = changed_in_place(lambda fn: check_function(fn, all_reduce, REDUCE_CASES, name="all_reduce",
                                                         quiet=True), averaged_in_place, "per_replica[1]")
    assert "`per_replica[1]` (in the list `per_replica`, the 1st argument) now holds other values" in message
    assert "`[x * scale for x in xs]`" in message and "`x *= scale`" in message

    def appended(per_replica):
        per_replica.append(sum(per_replica) / len(per_replica))
        return [per_replica[-1].copy() for _ in per_replica[:-1]]
    message = changed_in_place(lambda fn: check_function(fn, all_reduce, REDUCE_CASES, name="all_reduce",
                                                         quiet=True), appended, "per_replica")
    assert "the list `per_replica` (the 1st argument) now has 3 items instead of 2" in message
    assert "`xs.append(x)`" in message

    def number_replaced(xs):
        xs[0] = 0.0
        return sum(xs)
    message = changed_in_place(lambda fn: check_function(fn, lambda xs: sum(xs), [([1.0, 2.0],)], name="total",
                                                         quiet=True), number_replaced, "xs[0]")
    assert "now holds another value" in message


def test_in_place_names_dict_items_keywords_and_unnamed_arguments():
    def scale(params, factor):
        return {k: v * factor for k, v in params.items()}

    def in_place(params, factor):
        params["w"] *= factor
        return dict(params)
    message = changed_in_place(lambda fn: check_function(fn, scale, [({"w": np.ones(2), "b": np.zeros(1)}, 2.0)],
                                                         name="scale", quiet=True), in_place, "params['w']")
    assert "(in the dict `params`, the 1st argument)" in message and "d.items()" in message

    def by_keyword(w, g, lr):
        return step(w, g, lr)

    def keyword_in_place(w, g, lr):
        lr[...] = 0.0
        return w - 0.1 * g
    message = changed_in_place(lambda fn: check_function(fn, by_keyword, [((1.0, 2.0), {"lr": np.array(0.1)})],
                                                         name="s", quiet=True), keyword_in_place, "lr")
    assert "(a keyword argument)" in message

    def anonymous(*args):           # no names in the signature: the reference's names are used
        args[0][0] = 9.0
        return step(*args)
    changed_in_place(lambda fn: check_function(fn, step, STEP_CASES[1:2], name="s", quiet=True), anonymous, "w")


def test_an_exercise_can_pass_its_own_in_place_example():
    def in_place(grads):
        for g in grads:
            g *= 0.5
        return grads
    info = failure(check_function, in_place, lambda grads: [g * 0.5 for g in grads], REDUCE_CASES, name="halve",
                   quiet=True, in_place_example="`halved = [g * 0.5 for g in grads]`")
    assert "e.g. `halved = [g * 0.5 for g in grads]`:" in str(info) and "xs" not in str(info)


def test_a_function_that_does_not_change_its_inputs_passes(capsys):
    check_function(lambda per_replica: all_reduce(list(per_replica)), all_reduce, REDUCE_CASES, name="all_reduce")
    assert capsys.readouterr().out.startswith("✓ all_reduce is correct")


# --------------------------------------------------------------------------- parts of different kinds
def clip(grads, clip_norm):
    norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))
    return [g * (clip_norm / max(norm, clip_norm)) for g in grads], norm


CLIP_CASES = [([np.array([[3.0, 1.0], [0.0, 2.0]]), np.array([4.0, 0.5, -1.0])], 0.5),
              ([np.array([0.3]), np.array([-0.4])], 10.0)]


def test_swapped_parts_of_different_kinds_are_named():
    def swapped(grads, c):
        clipped, norm = clip(grads, c)
        return norm, clipped
    info = failure(check_function, swapped, clip, CLIP_CASES, name="clip", names=("clipped", "norm"), quiet=True)
    assert info.hint == "the parts come back in the wrong order: return (clipped, norm); you returned (norm, clipped)."
    assert "what:" not in str(info)           # the hint says it; no second, garbled line
    assert "value 1 of 2" not in str(info) and "is not:" not in str(info)

    # A catalogue entry that names the swap its own way keeps a plain "what:" line about the order.
    info = failure(check_function, swapped, clip, CLIP_CASES, name="clip", names=("clipped", "norm"), quiet=True,
                   mistakes=[Mistake(lambda g, c: clip(g, c)[::-1], "swapped: clipped first.")])
    what = next(line for line in str(info).splitlines() if line.strip().startswith("what:"))
    assert what.split(":", 1)[1].strip() == \
        "the parts look swapped: return (clipped, norm); you returned (norm, clipped)."


def test_any_reordering_of_the_parts_is_named():
    def rotated(x):
        return 3 * x, np.array([x, x]), "x"

    def reference(x):
        return np.array([x, x]), "x", 3 * x
    info = failure(check_function, rotated, reference, [(1.0,), (2.0,)], name="f", names=("a", "b", "c"),
                   quiet=True)
    assert info.hint == "the parts come back in the wrong order: return (a, b, c); you returned (c, a, b)."
    info = failure(check_value, (2.0, "x", np.ones(2)), (np.ones(2), 2.0, "x"), name="v")
    assert "wrong order" in info.hint


def test_a_part_of_the_wrong_kind_reads_naturally():
    def norm_twice(grads, c):
        return clip(grads, c)[1], clip(grads, c)[1]
    info = failure(check_function, norm_twice, clip, CLIP_CASES, name="clip", names=("clipped", "norm"), quiet=True)
    norm = checks.describe(clip(*CLIP_CASES[0])[1])
    assert str(info).splitlines()[0] == (f"clip is wrong: norm is right; clipped is not right: it is a number ({norm}) "
                                         "where a list of 2 arrays is expected.")

    def one_array_short(grads, c):
        clipped, norm = clip(grads, c)
        return clipped[:1], norm
    info = failure(check_function, one_array_short, clip, CLIP_CASES, name="clip", names=("clipped", "norm"),
                   quiet=True)
    assert ("norm is right; clipped is not right: it is a list of 1 array ([[[0.268328, 0.089443], [0., 0.178885]]]) "
            "where a list of 2 arrays is expected.") \
        in str(info)

    def wrong_array(grads, c):
        clipped, norm = clip(grads, c)
        return [clipped[0], -clipped[1]], norm
    info = failure(check_function, wrong_array, clip, CLIP_CASES, name="clip", names=("clipped", "norm"), quiet=True)
    assert str(info).splitlines()[0].startswith("clip is wrong: norm is right; clipped[1] is not right: it is [")

    def norm_as_array(grads, c):
        clipped, norm = clip(grads, c)
        return clipped, np.array([norm])
    info = failure(check_function, norm_as_array, clip, CLIP_CASES, name="clip", names=("clipped", "norm"),
                   quiet=True)
    assert f"clipped is right; norm is not right: it is an array of shape (1,) ([{norm}]) where a number ({norm}) " \
           "is expected." in str(info)


def test_a_plain_wrong_part_reads_naturally():
    def rate_and_steps(lr, b0, b, w):
        return lr * b / b0, -(-w // b)
    info = failure(check_function, lambda lr, b0, b, w: (0.123, -(-w // b)), rate_and_steps, [(0.1, 32, 256, 3200)],
                   name="scale_for_batch", names=("learning_rate", "warmup_steps"), quiet=True)
    assert str(info).splitlines()[0] == ("scale_for_batch is wrong: warmup_steps is right; learning_rate is not "
                                         "right: it is 0.123; expected 0.8.")


@pytest.mark.parametrize("wrong, reference, first_line", [
    (lambda x: 1.0, lambda x: x * 2, "f is wrong: it returned a number (1) where an array of shape (2,) ([2., 4.]) "
                                     "is expected."),
    (lambda x: x, lambda x: [x, x * 2], "f is wrong: it returned an array of shape (2,) ([1., 2.]) where a list of "
                                        "2 arrays of shape (2,) ([[1., 2.], [2., 4.]]) is expected."),
    (lambda x: [x, x], lambda x: x * 2, "f is wrong: it returned a list of 2 arrays of shape (2,) "
                                        "([[1., 2.], [1., 2.]]) where an array of shape (2,) ([2., 4.]) is expected."),
    (lambda x: [x, 2 * x, x], lambda x: (x, 2 * x), "f is wrong: it returned a list of 3 arrays of shape (2,) "
                                                    "([[1., 2.], [2., 4.], [1., 2.]]); expected 2 values."),
    (lambda x: 1.0, lambda x: {"w": x, "v": x}, "f is wrong: it returned a number (1) where a dict with keys "
                                                "['w', 'v'] is expected."),
])
def test_a_value_of_the_wrong_kind_is_named_by_kind(wrong, reference, first_line):
    info = failure(check_function, wrong, reference, [(np.array([1.0, 2.0]),)], name="f", quiet=True)
    assert str(info).splitlines()[0] == first_line


def test_a_list_or_a_tuple_of_the_right_values_both_pass(capsys):
    check_function(lambda x: (x, 2 * x), lambda x: [x, 2 * x], [(np.array([1.0, 2.0]),)], name="f")
    check_function(lambda x: [x, 2 * x], lambda x: (x, 2 * x), [(np.array([1.0, 2.0]),)], name="f")
    check_function(lambda g, c: tuple(clip(g, c)), clip, CLIP_CASES, name="clip", names=("clipped", "norm"))
    check_function(lambda g, c: (tuple(clip(g, c)[0]), clip(g, c)[1]), clip, CLIP_CASES, name="clip")
    assert capsys.readouterr().out.count("✓") == 4


def test_only_one_part_returned_is_named():
    info = failure(check_function, lambda g, c: clip(g, c)[1], clip, CLIP_CASES, name="clip",
                   names=("clipped", "norm"), quiet=True)
    assert "only one part of the answer" in info.hint
    assert "it returned a number" in str(info) and "expected 2 values (clipped, norm)" in str(info)


def test_in_place_names_the_field_of_a_named_tuple():
    from typing import NamedTuple

    class State(NamedTuple):
        count: int
        m: np.ndarray

    def update(w, state):
        return w - state.m, State(state.count + 1, state.m * 0.9)

    def in_place(w, state):
        state.m[...] *= 0.9
        return w - state.m / 0.9, State(state.count + 1, state.m.copy())
    message = changed_in_place(lambda fn: check_function(fn, update, [(np.ones(2), State(0, np.ones(2)))],
                                                         name="update", quiet=True), in_place, "state.m")
    assert "(in the State `state`, the 2nd argument)" in message and "`State(count, m)`" in message


@pytest.mark.parametrize("wrong, reference, first_line", [
    (lambda x: [1.0] * 3, lambda x: 2 * x, "f is wrong: it returned a list of 3 numbers; expected shape (2,)."),
    (lambda x: np.nan, lambda x: 2 * x[0], "f is wrong: it returned nan (NaN, not a number); expected 2."),
    (lambda x: -np.inf, lambda x: 2 * x[0], "f is wrong: it returned -inf (an infinity); expected 2."),
    (lambda x: "x", lambda x: 2 * x, "f is wrong: it returned str 'x'; expected a number or array like [2., 4.]."),
])
def test_shape_nan_and_text_sentences_say_it_once(wrong, reference, first_line):
    info = failure(check_function, wrong, reference, [(np.array([1.0, 2.0]),)], name="f", quiet=True)
    assert str(info).splitlines()[0] == first_line


def test_in_place_names_every_changed_argument():
    def in_place(w, v, g):
        v *= 0.9
        v -= 0.1 * g
        w += v
        return w, v
    message = changed_in_place(lambda fn: check_function(fn, momentum, MOMENTUM_CASES[:1], name="momentum",
                                                         quiet=True), in_place, "v")
    assert "`w` (the 1st argument) and `v` (the 2nd argument) now hold other values" in message


# --------------------------------------------------------------------------- round 2: messages that fit the case
def decay_with_num_updates(decay, num_updates):
    if num_updates is None:
        return decay
    return min(decay, (1 + num_updates) / (10 + num_updates))


def test_a_none_argument_is_named_and_the_tape_only_with_tensorflow():
    def no_none_case(decay, num_updates):
        return min(decay, (1 + num_updates) / (10 + num_updates))
    info = failure(check_function, no_none_case, decay_with_num_updates, [(0.99, 5), (0.99, None)],
                   name="decay_with_num_updates", quiet=True)
    assert "`num_updates` (the 2nd argument) is None in the call shown" in info.hint
    assert "handle that case before the formula (`if num_updates is None: ...`)" in info.hint
    assert "tape" not in info.hint and "GradientTape" not in info.hint
    assert "called as: decay_with_num_updates(0.99, None)" in str(info)

    def helper(x):
        x * 2                      # no return: gives None

    def uses_helper(x):
        return helper(x) + 1
    info = failure(check_function, uses_helper, lambda x: 2 * x + 1, [(1.0,), (2.0,)], name="f", quiet=True)
    assert "no `return`" in info.hint and "tape" not in info.hint and "is None in the call shown" not in info.hint


def test_a_none_from_the_tape_is_named_when_the_code_uses_tensorflow():
    tf = pytest.importorskip("tensorflow")

    def reference(w0):
        return w0 - 0.1 * 2 * (w0 + 1)

    def outside_the_tape(w0):
        w = tf.Variable(w0)
        loss = tf.square(w + 1)
        with tf.GradientTape() as tape:
            pass
        return float(w - 0.1 * tape.gradient(loss, w))
    info = failure(check_function, outside_the_tape, reference, [(5.0,)], name="step", quiet=True)
    assert "`with tf.GradientTape() as tape:`" in info.hint and "no `return`" in info.hint


class Schedule:
    """A stand-in for a schedule object whose repr is long."""

    def __call__(self, step):
        return 0.1 * 0.9 ** step

    def __repr__(self):
        return "ExponentialDecay(initial_learning_rate=0.1, decay_steps=1.0, decay_rate=0.9, staircase=False)"


def rates(schedule, epochs, batches_per_epoch):
    return [schedule(k) for k in range(epochs * batches_per_epoch)]


def test_a_long_repr_gets_a_line_of_its_own_and_nothing_is_cut_mid_word():
    info = failure(check_function, lambda schedule, e, b: [schedule(k + 1) for k in range(e * b)], rates,
                   [(Schedule(), 3, 4)], name="rates_for_updates", quiet=True)
    lines = str(info).splitlines()
    assert "  called as: rates_for_updates(schedule, 3, 4)" in lines
    assert f"  schedule:  {Schedule()!r}" in lines      # in full, every argument of it
    # A function is shown by its name (a lambda by its argument's), not by its address.
    def double(v):
        return 2 * v
    info = failure(check_function, lambda f, x: f(x) + 1, lambda f, x: f(x), [(double, 2.0), (lambda v: v, 1.0)],
                   name="apply", quiet=True)
    assert "called as: apply(double, 2)" in str(info) and "0x" not in str(info)
    # An array too long for its room loses its values, then its dtype, as whole pieces.
    assert checks.describe(-1.2345678 * np.eye(3), 40) == "array of shape (3, 3), dtype float64"
    assert checks.describe(-1.2345678 * np.eye(3), 30) == "array of shape (3, 3)"
    assert checks.describe(np.array([0.999452, np.nan, 0.498586]), 40) == "[0.999452,      nan, 0.498586]"
    info = failure(check_function, lambda h: "saddle", lambda h: "maximum", [(-np.eye(3),)], name="classify",
                   quiet=True)
    assert "called as: classify(array of shape (3, 3), dtype float64)" in str(info)
    # A cut, when one is needed, falls between tokens.
    assert checks._cap("f(rate=0.1, decay_steps=1.0, decay_rate=0.9)", 30) == "f(rate=0.1 ..."
    assert checks._cap("ExponentialDecay(initial_learning_rate=0.1, decay_steps=1.0)", 40) == "ExponentialDecay ..."


def test_an_exception_hint_is_shown_with_the_input_that_raised_it():
    def steps(lr, curvature, distance, tol):
        return math.ceil(math.log(tol / abs(distance)) / math.log(abs(1 - lr * curvature)))

    def floor_steps(lr, curvature, distance, tol):   # off by one, and log(0) at lr * curvature = 1
        return math.floor(math.log(tol / abs(distance)) / math.log(abs(1 - lr * curvature)))
    cases = [(0.2, 2, 6, 1e-6), (0.5, 2, 3, 1e-6), (0.1, 2, 3, 1e-6)]
    info = failure(check_function, floor_steps, lambda *a: steps(*a) if a[0] * a[1] != 1 else 1, cases,
                   name="steps", quiet=True)
    assert info.hint.startswith("math.log (or math.sqrt) got a negative number or zero")
    lines = str(info).splitlines()
    assert lines[0].startswith("steps raised ValueError")
    assert "  called as: steps(0.5, 2, 3, 1e-06)" in lines       # the input that raised, not the first case
    assert lines[-1] == "  and:       on 2 other inputs it returns a wrong value (run the check again after this fix)"


def test_a_generator_is_shown_as_code():
    rng = np.random.default_rng(7)
    assert checks.describe(rng) == "np.random.default_rng(7)"
    rng.permutation(3)
    assert checks.describe(rng) == "a numpy Generator (seed 7, already drawn from)"

    def batches(n, batch_size, rng):
        order = rng.permutation(n)
        return [order[start:start + batch_size] for start in range(0, n, batch_size)]
    info = failure(check_function, lambda n, b, rng: batches(n, b, rng)[:-1], batches,
                   [(10, 3, np.random.default_rng(0))], name="minibatches", quiet=True)
    assert "called as: minibatches(10, 3, np.random.default_rng(0))" in str(info)
    assert "Generator(PCG64)" not in str(info)


def test_a_list_of_equal_arrays_is_described_as_a_list():
    three = [np.array([4, 6, 2]), np.array([7, 3, 5]), np.array([9, 0, 8])]
    assert checks.describe(three) == "[[4, 6, 2], [7, 3, 5], [9, 0, 8]] (a list of 3 arrays of shape (3,))"
    assert checks.describe(three, 32) == "a list of 3 arrays of shape (3,)"
    info = failure(check_function, lambda x: three, lambda x: three + [np.array([1])], [(0,)], name="minibatches",
                   quiet=True)
    assert str(info).splitlines()[0] == ("minibatches is wrong: it returned a list of 3 arrays of shape (3,) "
                                         "([[4, 6, 2], [7, 3, 5], [9, 0, 8]]); expected 4 values.")
    assert "(3, 3)" not in str(info)


def test_one_value_too_many_is_said_briefly():
    info = failure(check_function, lambda e, b: rates(Schedule(), e, b) + [0.0], lambda e, b: rates(Schedule(), e, b),
                   [(3, 4)], name="rates_for_updates", quiet=True,
                   mistakes=[Mistake(lambda e, b: rates(Schedule(), e, b) + [0.0], "one rate too many.")])
    what = next(line for line in str(info).splitlines() if line.strip().startswith("what:"))
    assert what.split(":", 1)[1].strip() == "it returned a list of 13 numbers; expected shape (12,)."
    assert "[" not in what            # the expected values are on their own line, not repeated here


def adam(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v


ADAM_CASES = [(np.array([1.0, -2.0, 0.5]), np.zeros(3), np.zeros(3), np.array([0.3, -1.2, 2.0]), 1),
              (np.array([0.5, 1.0]), np.array([0.1, -0.2]), np.array([0.01, 0.04]), np.array([1.0, 0.5]), 3)]


def test_every_part_of_a_tuple_answer_has_a_status():
    def v_of_g(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g       # g, not g * g
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        return w - alpha * m / (np.sqrt(v) + epsilon), m, v
    info = failure(check_function, v_of_g, adam, ADAM_CASES, name="adam_step", names=("new_w", "new_m", "new_v"),
                   quiet=True, solution=None, mistakes=[])
    first = str(info).splitlines()[0] if info.hint is None else \
        next(line for line in str(info).splitlines() if line.strip().startswith("what:"))
    text = " ".join(str(info).split())
    assert "new_m is right;" in text
    assert "new_w is not right: it is [0.999452, nan, 0.498586]" in text
    assert "new_v is not right: it is [ 0.0003, -0.0012, 0.002 ]" in text
    assert first  # the status line exists
    # With one wrong part, the sentence is unchanged.
    info = failure(check_function, lambda *a: (adam(*a)[0] * 2, *adam(*a)[1:]), adam, ADAM_CASES, name="adam_step",
                   names=("new_w", "new_m", "new_v"), quiet=True)
    assert "new_m, new_v are right; new_w is not right:" in " ".join(str(info).split())


def test_every_part_has_a_status_in_lesson_08s_check():
    from course_lib.checks import optimizers as c08

    def v_of_g(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        return w - alpha * m / (np.sqrt(v) + epsilon), m, v
    text = " ".join(str(failure(c08.check_adam_step, v_of_g)).split())
    assert "new_m is right;" in text and "new_w is not right" in text and "new_v is not right" in text

    def s_without_1_minus_rho(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
        s = rho * s + g * g
        return w - learning_rate * g / np.sqrt(s + epsilon), s
    text = " ".join(str(failure(c08.check_rmsprop_step, s_without_1_minus_rho)).split())
    assert "new_w is not right" in text and "new_s is not right" in text
