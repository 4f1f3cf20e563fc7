"""Assertions shared by the tests of the exercise checks (tests/test_checks_*.py)."""

import pytest

from course_lib.checks import CheckFailed


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
