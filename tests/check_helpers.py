"""Assertions shared by the tests of the exercise checks (tests/test_checks_*.py)."""

import pytest

from course_lib.checks import CheckFailed, NotAttempted


def rejects(check, wrong, hint_words):
    """``check(wrong)`` fails with a hint containing ``hint_words``; returns the whole message."""
    with pytest.raises(CheckFailed) as info:
        check(wrong)
    assert info.value.hint is not None, f"no hint for {wrong}: {info.value}"
    assert hint_words in info.value.hint, f"hint was: {info.value.hint}"
    return str(info.value)


def sentence(check, wrong, words):
    """``check(wrong)`` fails with a plain sentence containing ``words`` (and no traceback)."""
    with pytest.raises(CheckFailed) as info:
        check(wrong)
    assert words in str(info.value), str(info.value)
    assert "Traceback" not in str(info.value)


def predicts(check, right, wrong, shown, capsys):
    """A "predict, then run" check: the right answer gets a ✓ and the run that settles it (which
    prints ``shown``); a wrong one fails and still shows the run; an unanswered ``...`` is not attempted."""
    check(right)
    out = capsys.readouterr().out
    assert out.startswith("✓") and shown in out, out
    with pytest.raises(CheckFailed):
        check(wrong)
    assert shown in capsys.readouterr().out
    with pytest.raises(NotAttempted):
        check(...)


def changed_in_place(check, wrong, path):
    """``check(wrong)`` fails because ``wrong`` changed an argument in place, and the message names where
    (``path`` as code: ``"w"``, ``"grads[0]"``, ``"params['w']"``); returns the whole message."""
    with pytest.raises(CheckFailed) as info:
        check(wrong)
    message = str(info.value)
    assert "changed its input arguments in place" in message and f"`{path}`" in message, message
    return message
