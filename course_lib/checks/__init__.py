"""Checks for the exercise notebooks: compare a student's answer with the reference and,
when they differ, say what was expected, what came back and the most likely mistake.

Each lesson has a module here (``checks.gradient_descent`` for lesson 01, ...) whose
``check_*`` functions the exercise notebooks call.  They are built from two tools:

* :func:`check_function` calls the student's function on several inputs, next to the
  reference implementation, and runs a catalogue of typical wrong implementations
  (:class:`Mistake`) to name the one the student most likely made;
* :func:`check_value` does the same for a value the student computed in a cell.

A wrong answer raises :class:`CheckFailed` (an ``AssertionError``) whose message is a
few plain sentences.  An answer that is not written yet raises :class:`NotAttempted`
(a ``NotImplementedError``).  A student's function that crashes, returns ``None``, a
string, a ``tf.Tensor``, the wrong shape or NaN gets a sentence, never a traceback from
inside the checker.
"""

import copy
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = ["CheckFailed", "NotAttempted", "Mistake", "check_function", "check_value", "describe"]


class CheckFailed(AssertionError):
    """A check rejected the answer.  ``hint`` holds the likely mistake, when one was recognised."""

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.hint = hint


class NotAttempted(NotImplementedError):
    """The exercise still contains ``raise NotImplementedError()``."""


class Mistake(NamedTuple):
    """A typical wrong implementation and the sentence that explains it."""

    fn: Callable[..., Any]   # called with the same arguments as the reference
    hint: str


# --------------------------------------------------------------------------- values
def _to_numpy(value):
    """Turn tensors, lists, tuples and dicts of numbers into numpy; leave other things alone."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        try:
            value = value.numpy()
        except Exception:  # a symbolic tensor or a variable that cannot be read
            return value
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_to_numpy(v) for v in value]
        try:
            arr = np.asarray(items)
            if arr.dtype != object and np.issubdtype(arr.dtype, np.number):
                return arr
        except (ValueError, TypeError):
            pass
        return tuple(items)
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, float, np.number)):
        return np.asarray(value)
    return value


def describe(value):
    """A short, readable description of a value for a message."""
    value = _to_numpy(value)
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        if value.size > 6:
            return f"an array of shape {value.shape}"
        text = np.array2string(value, precision=6, separator=", ")
        return text if value.ndim == 0 else f"{text} (shape {value.shape})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def _problem(got, expected, rtol, atol):
    """None when ``got`` matches ``expected``, else a sentence saying how it differs."""
    got, expected = _to_numpy(got), _to_numpy(expected)
    if got is None:
        return "it returned None. Did you forget the `return` statement?"
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"it returned {type(got).__name__} {describe(got)}; expected a dict with keys {list(expected)}."
        if set(got) != set(expected):
            return f"it returned a dict with keys {sorted(got)}; expected keys {sorted(expected)}."
        for k in expected:
            p = _problem(got[k], expected[k], rtol, atol)
            if p:
                return f"entry {k!r}: {p}"
        return None
    if isinstance(expected, tuple):
        if not isinstance(got, tuple) or len(got) != len(expected):
            return f"it returned {describe(got)}; expected {len(expected)} values {describe(expected)}."
        for i, (g, e) in enumerate(zip(got, expected)):
            p = _problem(g, e, rtol, atol)
            if p:
                return f"value {i} of {len(expected)}: {p}"
        return None
    if isinstance(expected, str):
        if isinstance(got, str) and got == expected:
            return None
        return f"it returned {describe(got)}; expected {describe(expected)}."
    if isinstance(expected, (bool, np.bool_)):
        same = isinstance(got, (bool, np.bool_)) and bool(got) == bool(expected)
        return None if same else f"it returned {describe(got)}; expected {describe(expected)}."
    if not isinstance(got, np.ndarray) or got.dtype == object or not (
            np.issubdtype(got.dtype, np.number) or got.dtype == bool):
        return (f"it returned {type(got).__name__} {describe(got)}; "
                f"expected a number or array like {describe(expected)}.")
    if got.shape != expected.shape:
        if got.size == expected.size and got.size > 1:
            return (f"it returned shape {got.shape}; expected shape {expected.shape}. "
                    "The numbers may be right but are laid out differently (a transpose or a missing reshape?).")
        return f"it returned shape {got.shape}; expected shape {expected.shape} ({describe(expected)})."
    if np.issubdtype(expected.dtype, np.floating) and not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        return f"it returned {describe(got)}, which contains NaN or infinity; expected {describe(expected)}."
    if not np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
        return f"it returned {describe(got)}; expected {describe(expected)}."
    return None


def _generic_hint(got, expected, rtol, atol):
    """Hints that fit any numeric answer: a flipped sign, a constant factor."""
    got, expected = _to_numpy(got), _to_numpy(expected)
    if not (isinstance(got, np.ndarray) and isinstance(expected, np.ndarray)):
        return None
    if got.shape != expected.shape or got.dtype == object or not np.all(np.isfinite(got)):
        return None
    if np.any(expected != 0) and np.allclose(got, -expected, rtol=rtol, atol=atol):
        return "your answer has the opposite sign: check the direction (descent subtracts the gradient)."
    nz = np.abs(expected) > 1e-12
    if np.any(nz) and np.all(np.abs(got[~nz]) <= atol):
        ratios = got[nz] / expected[nz]
        if np.allclose(ratios, ratios.flat[0], rtol=1e-6) and not np.isclose(ratios.flat[0], 1.0):
            return (f"your answer is the expected one times {ratios.flat[0]:.6g}: a factor applied twice "
                    "or forgotten (the learning rate? a 2? the batch size?).")
    return None


def _diagnose(got, expected, call_mistake, mistakes, rtol, atol):
    for mistake in mistakes:
        try:
            wrong = call_mistake(mistake.fn)
        except Exception:
            continue
        if _problem(got, wrong, rtol, atol) is None:
            return mistake.hint
    return _generic_hint(got, expected, rtol, atol)


def _fmt_args(args, kwargs):
    parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def _fail(text, hint):
    message = text + (f"\nLikely mistake: {hint}" if hint else "")
    raise CheckFailed(message, hint)


def _same_inputs(before, after):
    """False when an array among the arguments was changed in place (other objects are not compared)."""
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and before.shape == after.shape and np.array_equal(
            before, after, equal_nan=True)
    if isinstance(before, dict):
        return all(_same_inputs(before[k], after.get(k)) for k in before)
    if isinstance(before, (list, tuple)):
        return all(_same_inputs(b, a) for b, a in zip(before, after))
    return True


def _show_without_traceback(shell, etype, value, tb, tb_offset=None):
    """In a notebook, show a failed check as its sentences, not as a traceback into this module."""
    red, reset = "\x1b[31m", "\x1b[0m"
    stb = [f"{red}{etype.__name__}{reset}: {value}"]
    shell._showtraceback(etype, value, stb)  # sends the usual "error" output, with a one-line traceback
    return stb


try:  # register only inside IPython/Jupyter; plain Python keeps normal tracebacks
    _shell = get_ipython()  # noqa: F821  (defined by IPython)
    _shell.set_custom_exc((CheckFailed, NotAttempted), _show_without_traceback)
except NameError:
    pass


# --------------------------------------------------------------------------- checks
def check_function(student_fn, reference_fn, cases, *, name=None, mistakes=(), rtol=1e-5, atol=1e-7,
                   quiet=False):
    """Call ``student_fn`` and ``reference_fn`` on every case and compare the results.

    ``cases`` is a list whose items are a tuple of positional arguments, or a pair
    ``(args_tuple, kwargs_dict)``.  ``mistakes`` is a sequence of :class:`Mistake`, tried
    in order when an answer is wrong; the first that reproduces the student's answer
    gives the hint.  Prints one line when every case passes.
    """
    name = name or getattr(student_fn, "__name__", "your function")
    if not callable(student_fn):
        raise CheckFailed(f"`{name}` should be a function, but it is {type(student_fn).__name__} "
                          f"{describe(student_fn)}. Did you overwrite it with a value?")
    calls = []  # (args, kwargs, student's answer) for every case, in order
    for case in cases:
        args, kwargs = case if (len(case) == 2 and isinstance(case[1], dict)
                                and isinstance(case[0], tuple)) else (tuple(case), {})
        given = (copy.deepcopy(args), copy.deepcopy(kwargs))
        call_text = f"{name}{_fmt_args(args, kwargs)}"
        try:
            got = student_fn(*given[0], **given[1])
        except NotImplementedError:
            raise NotAttempted(f"`{name}` is not written yet: replace `raise NotImplementedError()` "
                               "with your code, then run this check again.") from None
        except Exception as exc:  # the student's code crashed: say so in one sentence
            _fail(f"{call_text} raised {type(exc).__name__}: {exc}", None)
        if not _same_inputs((args, kwargs), given):
            _fail(f"{call_text} changed its input arguments in place. "
                  "Compute new values (e.g. `w - lr * g`) instead of updating arrays with `-=`.", None)
        calls.append((args, kwargs, got))

    def run(fn, args, kwargs):
        return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))

    for args, kwargs, got in calls:
        expected = run(reference_fn, args, kwargs)
        problem = _problem(got, expected, rtol, atol)
        if problem:
            # A mistake explains the answer only if it reproduces the student's answer on every input.
            hint = None
            for mistake in mistakes:
                try:
                    if all(_problem(g, run(mistake.fn, a, k), rtol, atol) is None for a, k, g in calls):
                        hint = mistake.hint
                        break
                except Exception:
                    continue
            hint = hint or _generic_hint(got, expected, rtol, atol)
            _fail(f"{name}{_fmt_args(args, kwargs)}: {problem}", hint)
    if not quiet:
        print(f"✓ {name} is correct on {len(cases)} inputs.")


def check_value(got, expected, *, name, mistakes=(), rtol=1e-5, atol=1e-7, quiet=False):
    """Compare a value the student computed with the expected one.

    ``mistakes`` holds pairs ``(wrong_value, hint)``: values that typical mistakes produce.
    """
    if got is Ellipsis:
        raise NotAttempted(f"`{name}` is not computed yet: replace the `...` with your code.")
    problem = _problem(got, expected, rtol, atol)
    if problem:
        hint = _diagnose(got, expected, lambda fn: fn(),
                         [Mistake(lambda v=v: v, h) for v, h in mistakes], rtol, atol)
        _fail(f"`{name}`: {problem.replace('it returned', 'it is')}", hint)
    if not quiet:
        print(f"✓ {name} is correct: {describe(got)}")
