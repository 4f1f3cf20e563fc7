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


@pytest.mark.parametrize("check", _all_checks())
@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_answers_get_a_sentence(check, kind):
    params = [p for p in inspect.signature(check).parameters.values()
              if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    wrong = BROKEN[kind]
    # Checks of functions receive the broken function; a check of values that cannot take a
    # function gets the value the broken function returns instead.
    try:
        check(*[wrong] * len(params))
    except CheckFailed as failure:
        assert str(failure).strip() and "Traceback" not in str(failure)
        return
    except TypeError:
        if kind == "crashes":
            pytest.skip("this check takes values, not functions")
        with pytest.raises(CheckFailed):
            check(*[wrong()] * len(params))
        return
    pytest.fail(f"{check.__name__} accepted a broken answer ({kind})")
