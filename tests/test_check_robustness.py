"""Every exercise check, in every lesson, answers a broken answer with a sentence.

A student's function may return None, a string, NaN, a list of the wrong length, or crash.
Each check must turn that into a CheckFailed (an AssertionError with plain sentences),
never let another exception escape from inside the checker.
"""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import course_lib.checks as checks_pkg
from course_lib.checks import CheckFailed


def _all_checks():
    found = []
    for info in pkgutil.iter_modules(checks_pkg.__path__):
        module = importlib.import_module(f"course_lib.checks.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("check_") and fn.__module__ == module.__name__:
                found.append(pytest.param(fn, id=f"{info.name}.{name}"))
    return found


def _crash(*args, **kwargs):
    raise ValueError("student bug")


BROKEN = {
    "returns None": lambda *a, **k: None,
    "returns a string": lambda *a, **k: "answer",
    "returns NaN": lambda *a, **k: np.nan,
    "returns a long list": lambda *a, **k: [1.0] * 7,
    "crashes": _crash,
}


def takes_values(check):
    """From the signature, as course_lib.checks documents: a parameter named `answer` (or ending in
    `_value`) takes a value; every other parameter takes the student's function."""
    params = _required(check)
    return bool(params) and all(p.name == "answer" or p.name.endswith("_value") for p in params)


def _required(check):
    return [p for p in inspect.signature(check).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def test_the_signature_rule():
    def check_f(loss_grad): ...
    def check_v(answer): ...
    def check_w(weights_value): ...
    assert (takes_values(check_f), takes_values(check_v), takes_values(check_w)) == (False, True, True)


@pytest.mark.parametrize("check", _all_checks())
@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_answers_get_a_sentence(check, kind):
    params = _required(check)
    wrong = BROKEN[kind]
    if takes_values(check):
        if kind == "crashes":
            pytest.skip("this check takes values, not functions")
        wrong = wrong()
    if check.__module__.endswith(".capstone"):  # the capstone's checks build a Keras model
        pytest.importorskip("tensorflow")
    # Any exception other than CheckFailed (a TypeError from inside the checker included) fails the test.
    with pytest.raises(CheckFailed) as failure:
        check(*[wrong] * len(params))
    assert str(failure.value).strip() and "Traceback" not in str(failure.value)
