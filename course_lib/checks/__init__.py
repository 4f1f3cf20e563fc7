"""Checks for the exercise notebooks: compare a student's answer with the reference and,
when they differ, name the most likely mistake.

Each lesson has a module here (``checks.gradient_descent`` for lesson 01, ...) whose
``check_*`` functions the exercise notebooks call.  They are built from three tools:

* :func:`check_function` calls the student's function on several inputs, next to the
  reference implementation, and looks for the mistake that explains every answer: a
  catalogue entry (:class:`Mistake`), a swapped order of the returned parts, a sign, or a
  factor the exercise declares plausible (``factors=``);
* :func:`check_value` does the same for a value the student computed in a cell;
* :func:`check_prediction` checks a "predict, then run" answer, then prints the
  explanation and the run that settles it.

A wrong answer raises :class:`CheckFailed` (an ``AssertionError``).  Its first line gives
the verdict and the likely mistake; then come, compactly, the inputs, what came back and
what was expected (:func:`failure_message` lays this out, in one place).  An answer that
is not written yet raises :class:`NotAttempted` (a ``NotImplementedError``).  A student's
function that crashes gets a sentence, and a hint when the crash has a typical cause
(:func:`exception_hint`).  The references and the catalogue's wrong answers run with
numpy's and Python's warnings silenced (:func:`quietly`), so no warning of the checker's
own reaches the student.

A check whose parameter is named ``answer`` (or ends in ``_value``) takes a value; every
other check parameter takes the student's function.  The robustness test relies on this.

**Short failures in a notebook.**  When this module is imported inside IPython, it
registers, through IPython's public ``InteractiveShell.set_custom_exc``, a handler for
:class:`CheckFailed` and :class:`NotAttempted` that shows only the exception's own lines
(``shell.showtraceback(..., exception_only=True)``), not a traceback through the checker.
The failure is still an error output (nbgrader's autograder sees it, with the hint text);
:func:`register_short_failures` does the registration and can be called again on any shell.
"""

import copy
import inspect
import itertools
import math
import re
import textwrap
import warnings
from contextlib import contextmanager
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = ["CheckFailed", "NotAttempted", "Mistake", "check_function", "check_value", "check_prediction",
           "describe", "exception_hint", "failure_message", "quietly", "register_short_failures"]

MAX_CHARS = 120   # the longest description of one value in a message


class CheckFailed(AssertionError):
    """A check rejected the answer.  ``hint`` holds the likely mistake, when one was recognised;
    ``by_mutant`` is True when the hint came from the mutation fallback (which a check's own
    fallback, such as a linear-form hint, may replace)."""

    def __init__(self, message, hint=None, unhinted=None):
        super().__init__(message)
        self.hint = hint
        self.by_mutant = isinstance(hint, _MutantHint)
        self.unhinted = unhinted or message   # the message as it reads without the mutant's hint


class _MutantHint(str):
    """A hint found by the mutation fallback."""


class _ExceptionHint(str):
    """A hint about the first exception the student's function raised (it fits the input that raised it)."""


class NotAttempted(NotImplementedError):
    """The exercise still contains ``raise NotImplementedError()`` (or ``...``)."""


class Mistake(NamedTuple):
    """A typical wrong implementation and the sentence that names it and its fix."""

    fn: Callable[..., Any]   # called with the same arguments as the reference
    hint: str


# --------------------------------------------------------------------------- quiet numerics
@contextmanager
def quietly():
    """Run the checker's own computations without printing numpy or Python warnings."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# --------------------------------------------------------------------------- values
def _to_numpy(value):
    """Tensors, lists and numbers to numpy; tuples (and NamedTuples) stay tuples, dicts stay dicts."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        try:
            value = value.numpy()
        except Exception:  # a symbolic tensor or a variable that cannot be read
            return value
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_to_numpy(v) for v in value)
    if isinstance(value, list):
        items = [_to_numpy(v) for v in value]
        try:
            with quietly():
                arr = np.asarray(items)
            if arr.dtype != object and (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
                return arr
        except (ValueError, TypeError):
            pass
        return tuple(items)
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, float, np.number)):
        return np.asarray(value)
    if isinstance(value, (range, map, filter)) or inspect.isgenerator(value):
        return _to_numpy(list(value))
    return value


def _align(got, expected):
    """Bring ``got`` into ``expected``'s container type when that is unambiguous (list -> tuple, ...)."""
    if isinstance(expected, tuple) and isinstance(got, np.ndarray) and got.ndim >= 1 \
            and len(got) == len(expected) and all(_is_numeric(e) and np.shape(e) == got.shape[1:] for e in expected):
        return tuple(got)   # a stacked array whose rows are the parts
    if isinstance(expected, np.ndarray) and isinstance(got, tuple):
        try:
            with quietly():
                arr = np.asarray(got)
            if arr.dtype != object:
                return arr
        except (ValueError, TypeError):
            pass
    return got


def _cap(text, limit=MAX_CHARS):
    """``text``, or its start cut at a token boundary (after a comma or before a space), then " ..."."""
    if len(text) <= limit:
        return text
    head = text[:limit - 4]
    cut = max(head.rfind(", "), head.rfind(" "))
    if cut > limit // 3:
        head = head[:cut]
    elif "(" in head:   # no space to cut at: keep the name before the bracket, not half a word after it
        head = head[:head.index("(")]
    return head.rstrip(" ,:;(") + " ..."


def _first_fitting(forms, limit):
    """The first of ``forms`` (longest first) that fits in ``limit`` characters; else the last, cut at a token."""
    for form in forms:
        if len(form) <= limit:
            return form
    return _cap(forms[-1], limit)


def _array_list(value):
    """``(n, shape)`` for a list of numeric arrays of one shape (a list, not one stacked array), else None."""
    if not isinstance(value, list) or not value:
        return None
    items = [_to_numpy(v) for v in value]
    if not all(isinstance(v, np.ndarray) and v.ndim >= 1 and _is_numeric(v) for v in items):
        return None
    shapes = {v.shape for v in items}
    return (len(items), items[0].shape) if len(shapes) == 1 else None


def _generator_text(rng):
    """A numpy Generator as code a student can run: ``np.random.default_rng(0)``, when it is still unused."""
    try:
        seed = rng.bit_generator.seed_seq
        entropy = seed.entropy
        if isinstance(entropy, int) and not seed.spawn_key and type(rng.bit_generator) is np.random.PCG64:
            fresh = np.random.default_rng(entropy)
            if fresh.bit_generator.state == rng.bit_generator.state:
                return f"np.random.default_rng({entropy})"
            return f"a numpy Generator (seed {entropy}, already drawn from)"
    except AttributeError:
        pass
    return "a numpy Generator"


def describe(value, limit=MAX_CHARS):
    """A short description of a value for a message: arrays abbreviated, never longer than ``limit``.

    A description that is too long loses detail in whole pieces (the values, then the dtype), never
    a piece cut in the middle: ``array of shape (3, 3), dtype float64``, not ``array of shape (3 ...``.
    """
    if isinstance(value, np.random.Generator):
        return _cap(_generator_text(value), limit)
    listed, raw = _array_list(value), value
    value = _to_numpy(value)
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return _cap(f"an object array of shape {value.shape}", limit)
        if value.ndim == 0:
            return _cap(f"{value.item():.7g}" if np.issubdtype(value.dtype, np.floating) else str(value.item()), limit)
        if listed:
            n, shape = listed
            kind = f"a list of {n} array{'s' if n > 1 else ''} of shape {shape}"
            text = re.sub(r"\s+", " ", np.array2string(value, precision=6, separator=", "))
            text = text.replace("[ ", "[").replace(" ,", ",")
            return _first_fitting([f"{text} ({kind})", text, f"{kind}, dtype {value.dtype}", kind], limit)
        flat = value.ravel()
        shape = f"array of shape {value.shape}"
        if value.size > 6:
            head = np.array2string(flat[:3], precision=4, separator=", ")[1:-1]
            tail = np.array2string(flat[-2:], precision=4, separator=", ")[1:-1]
            return _first_fitting([f"{shape}, dtype {value.dtype}: [{head}, ..., {tail}]",
                                   f"{shape}, dtype {value.dtype}", shape], limit)
        text = np.array2string(value, precision=6, separator=", ").replace("\n", "")
        return _first_fitting([f"{text} (shape {value.shape})", text, f"{shape}, dtype {value.dtype}", shape], limit)
    if isinstance(value, dict):
        return _cap("{" + ", ".join(f"{k!r}: {describe(v, 40)}" for k, v in value.items()) + "}", limit)
    if isinstance(value, tuple):
        n = max(len(value), 1)
        parts = raw if isinstance(raw, (tuple, list)) and len(raw) == len(value) else value
        forms = ["(" + ", ".join(describe(v, part) for v in parts) + ")"
                 for part in (40, (limit - 2) // n - 2, 20) if part > 0]
        return _first_fitting(forms, limit)
    return _cap(repr(value), limit)


def _is_numeric(value):
    return isinstance(value, np.ndarray) and value.dtype != object and (
        np.issubdtype(value.dtype, np.number) or value.dtype == bool)


def _an(word):
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _kind(value):
    """What kind of value this is, in words: "a number", "an array of shape (3,)", "a list of 2 arrays", ..."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        converted = _to_numpy(value)
        if converted is not value:
            return _kind(converted)
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return "True/False"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return f"a dict with keys {list(value)}"
    if isinstance(value, (int, float, np.number)) or (isinstance(value, np.ndarray) and value.ndim == 0
                                                      and _is_numeric(value)):
        return "a number"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}" if _is_numeric(value) else f"an object array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        container = type(value).__name__ if hasattr(value, "_fields") else ("list" if isinstance(value, list)
                                                                            else "tuple")
        if not value:
            return f"an empty {container}"
        kinds = {_kind(v) for v in value}
        n = len(value)
        if kinds == {"a number"}:
            items = "number" if n == 1 else "numbers"
        elif all(k.startswith("an array") for k in kinds):
            items = "array" if n == 1 else "arrays"
            if len(kinds) == 1 and n > 1 and isinstance(value, list):
                items += " of shape" + kinds.pop().partition(" of shape")[2]
        elif all(k.startswith(("a list", "an empty list")) for k in kinds):
            items = "list" if n == 1 else "lists"
        elif all(k.startswith(("a tuple", "an empty tuple")) for k in kinds):
            items = "tuple" if n == 1 else "tuples"
        else:
            items = "value" if n == 1 else "values"
        return f"{_an(container)} of {n} {items}"
    return _an(type(value).__name__)


def _many_arrays(kind):
    """True for the kind of a list (or tuple) of several arrays."""
    return re.search(r" arrays( of shape \([^)]*\))?$", kind) is not None


def _shown(value, limit=40):
    """A kind and, for a short description, the value: "a number (3.302415)", "a list of 2 arrays"."""
    kind = _kind(value)
    if value is None:
        return kind
    text = describe(value, limit)
    for suffix in (r" \(shape \([^)]*\)\)$", r" \(a list of \d+ arrays? of shape \([^)]*\)\)$"):
        text = re.sub(suffix, "", text)
    summary = text.endswith("...") or text.startswith(("array of shape", "a list of", "an object array", "a numpy"))
    return kind if summary else f"{kind} ({text})"


def _values(value):
    """The numbers of a value, without the shape and dtype that :func:`describe` adds to an array."""
    text = re.sub(r" \(shape \([^)]*\)\)$", "", describe(value))
    return re.sub(r"^array of shape \([^)]*\), dtype \w+: ", "", text)


def _close(got, expected, rtol, atol):
    """True when ``got`` matches ``expected`` (nested tuples and dicts compared part by part)."""
    return _problem(got, expected, rtol, atol, explain=False) is None


def _raw_parts(raw, n):
    """The parts of an answer as the student wrote them (a list stays a list), when it has ``n`` of them."""
    if isinstance(raw, (list, tuple)) and len(raw) == n:
        return list(raw)
    return None


def _problem(got, expected, rtol, atol, names=None, label=None, explain=True):
    """None when ``got`` matches ``expected``, else a sentence saying how it differs.

    ``names`` names a tuple's parts; ``label`` is the name of the value itself, when it is a part of a
    larger answer (its own parts are then called ``label[0]``, ...).  With ``explain=False`` only the
    verdict matters (a non-None value for "differs"), and no sentence is built.
    """
    raw_got, raw_expected = got, expected
    got, expected = _to_numpy(got), _to_numpy(expected)
    got = _align(got, expected)
    if expected is None:
        return None if got is None else f"it returned {describe(got)}; expected None."
    if got is None:
        if label is not None:
            return f"it returned None where {_shown(raw_expected)} is expected."
        return "it returned None. Did you forget the `return` statement?"
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"it returned {_shown(raw_got)} where {_kind(raw_expected)} is expected."
        if set(got) != set(expected):
            return f"it returned a dict with keys {sorted(map(str, got))}; expected keys {sorted(map(str, expected))}."
        raw_g = raw_got if isinstance(raw_got, dict) else got
        raw_e = raw_expected if isinstance(raw_expected, dict) else expected
        labels = [str(k) if label is None else f"{label}[{k!r}]" for k in expected]
        return _parts_problem([got[k] for k in expected], list(expected.values()), labels, rtol, atol,
                              [raw_g[k] for k in expected], [raw_e[k] for k in expected], explain, nested=label)
    if isinstance(expected, tuple):
        n = len(expected)
        if label is not None:
            labels = [f"{label}[{i}]" for i in range(n)]
        else:
            labels = list(names) if names and len(names) == n else [f"value {i + 1} of {n}" for i in range(n)]
        if not isinstance(got, tuple) or len(got) != n:
            if not explain:
                return "differs"
            if label is not None:
                return f"it returned {_shown(raw_got, 60)} where {_kind(raw_expected)} is expected."
            named = f" ({', '.join(names)})" if names and len(names) == n else ""
            return f"it returned {_shown(raw_got, 60)}; expected {n} values{named}."
        return _parts_problem(list(got), list(expected), labels, rtol, atol,
                              _raw_parts(raw_got, n) or list(got), _raw_parts(raw_expected, n) or list(expected),
                              explain, nested=label)
    if isinstance(expected, str):
        if isinstance(got, str) and got == expected:
            return None
        return f"it returned {describe(got)}; expected {describe(expected)}."
    if isinstance(expected, (bool, np.bool_)):
        same = isinstance(got, (bool, np.bool_)) and bool(got) == bool(expected)
        return None if same else f"it returned {describe(got)}; expected {describe(expected)}."
    if not _is_numeric(got):
        if not explain:
            return "differs"
        if label is not None:
            return f"it returned {_shown(raw_got, 60)} where {_shown(raw_expected)} is expected."
        return (f"it returned {type(got).__name__} {describe(got)}; "
                f"expected a number or array like {_values(expected)}.")
    if got.shape != expected.shape:
        if not explain:
            return "differs"
        if (got.ndim == 0) != (expected.ndim == 0) or (
                _many_arrays(_kind(raw_got)) != _many_arrays(_kind(raw_expected))):
            return f"it returned {_shown(raw_got)} where {_shown(raw_expected)} is expected."
        if got.size == expected.size and got.size > 1:
            return (f"it returned {_kind(raw_got)}; expected shape {expected.shape}. "
                    "The numbers may be right but are laid out differently (a transpose or a missing reshape?).")
        return f"it returned {_kind(raw_got)}; expected shape {expected.shape}."   # the values: on "expected:"
    with quietly():
        if not explain:
            return None if np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True) and (
                not np.issubdtype(expected.dtype, np.floating) or not np.all(np.isfinite(expected))
                or np.all(np.isfinite(got))) else "differs"
        finite_expected = np.all(np.isfinite(expected)) if np.issubdtype(expected.dtype, np.number) else True
        if np.issubdtype(expected.dtype, np.floating) and finite_expected and not np.all(np.isfinite(got)):
            if got.ndim == 0:
                what = "NaN, not a number" if np.isnan(got) else "an infinity"
                return f"it returned {describe(got)} ({what}); expected {describe(expected)}."
            return f"it returned {describe(got)}, which contains NaN or infinity; expected {describe(expected)}."
        if not np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
            return f"it returned {describe(got)}; expected {describe(expected)}."
    return None


def _permutation(matches):
    """A reordering ``p`` (not the identity) with ``matches[i][p[i]]`` for every part ``i``, or None."""
    n = len(matches)
    if n > 6:
        return None
    for p in itertools.permutations(range(n)):
        if list(p) != list(range(n)) and all(matches[i][p[i]] for i in range(n)):
            return p
    return None


def _swapped_sentence(labels, p, named):
    """The sentence for parts returned in another order: your part ``i`` is the expected part ``p[i]``."""
    if named:
        return (f"the parts look swapped: return ({', '.join(labels)}); "
                f"you returned ({', '.join(labels[j] for j in p)}).")
    moved = [f"your {labels[i].split(' of ')[0]} is the expected {labels[p[i]].split(' of ')[0]}"
             for i in range(len(p)) if p[i] != i]
    return f"the parts look swapped: {', '.join(moved)}."


def _parts_problem(got_parts, expected_parts, labels, rtol, atol, raw_got=None, raw_expected=None,
                   explain=True, nested=None):
    """Compare named parts; say which are right and what is wrong with the first wrong one.

    When the returned parts are the expected ones in another order, say so (whatever their kinds).
    """
    raw_got = raw_got or got_parts
    raw_expected = raw_expected or expected_parts
    problems = []
    for g, e, label in zip(raw_got, raw_expected, labels):
        problems.append(_problem(g, e, rtol, atol, label=label, explain=explain))
        if problems[-1] and not explain:
            return problems[-1]
    wrong = [i for i, p in enumerate(problems) if p]
    if not wrong:
        return None
    if nested is None and len(labels) > 1:
        p = _permutation([[_close(g, e, rtol, atol) for e in raw_expected] for g in raw_got])
        if p is not None:
            return _swapped_sentence(labels, p, named=not labels[0].startswith("value "))
    sentences = []
    for i in wrong:   # every wrong part, so that a part not named is a part that is right
        inner = problems[i]
        if inner.startswith(f"{labels[i]}["):
            sentences.append(inner)   # a part of a part is named in the inner sentence already
        else:
            sentences.append(f"{labels[i]} is not right: {inner.replace('it returned', 'it is', 1)}")
        if nested is not None:
            return sentences[0]
    right = [labels[i] for i, p in enumerate(problems) if not p]
    lead = f"{', '.join(right)} {'is' if len(right) == 1 else 'are'} right; " if right else ""
    return lead + "; ".join(s.rstrip(".") for s in sentences[:-1]) + ("; " if len(sentences) > 1 else "") + \
        sentences[-1]


# --------------------------------------------------------------------------- exceptions
_EXCEPTION_HINTS = [
    # (exception type names, words in the message, hint)
    (("ValueError", "InvalidArgumentError"), ("matmul", "Matrix size-incompatible", "not aligned"),
     "a matrix product (`@`, `np.dot`, `tf.matmul`) got shapes that do not fit: if an element-wise product "
     "was meant, write `*`; if a matrix product, write each array's shape down and transpose (`.T`) where needed."),
    (("ValueError", "InvalidArgumentError"), ("could not be broadcast", "Incompatible shapes"),
     "a broadcast error: a sum or mean over one axis dropped that axis. Keep it with `keepdims=True` "
     "(e.g. `x.sum(axis=1, keepdims=True)`), or check that you reduced over the right axis."),
    (("ValueError",), ("No gradients provided",),
     "the gradients are None: run the forward pass (the loss) inside the `with tf.GradientTape() as tape:` "
     "block, so the tape records it, then call `tape.gradient` after the block; and make the variable a float "
     "(`tf.Variable(5.0)`, not `tf.Variable(5)`: integers have no gradient)."),
    (("AttributeError",), ("'NoneType' object has no attribute 'numpy'",),
     "a gradient is None: run the forward pass (the loss) inside the `with tf.GradientTape() as tape:` block, "
     "so the tape records it."),
    (("TypeError",), ("only 0-dimensional arrays", "only length-1 arrays", "only size-1 arrays"),
     "float(), int() or a math.* function was given an array: use numpy's element-wise functions (np.cos, np.floor, "
     "...) or plain arithmetic, which work for numbers and arrays alike."),
    (("ValueError",), ("cannot reshape array",),
     "reshape needs the size to divide evenly (n is not always a multiple of the batch size): slice instead, "
     "e.g. order[start:start + batch_size]."),
    (("AttributeError",), ("_unique_id",),
     "`apply_gradients` takes (gradient, variable) pairs, gradient first: `optimizer.apply_gradients([(grad, w)])`."),
    (("ValueError",), ("can only be called for the variables it was originally built with",),
     "a new tf.Variable was made inside the loop: create the variable (and the optimizer) once, before the loop."),
    (("ValueError",), ("math domain error",),
     "math.log (or math.sqrt) got a negative number or zero: take abs() of a distance or a factor before the log, "
     "and handle a factor of 0 separately."),
    (("ZeroDivisionError", "FloatingPointError"), ("",),
     "a division by zero at the first step: a missing `1 +` or bracket in a denominator, or a count that starts "
     "at 0 where the formula needs 1 (count steps from 1 there: a bias correction 1 - beta**t uses t = 1 for the "
     "first update)."),
]


def exception_hint(exc, fn=None, args=(), kwargs=None):
    """The likely cause of an exception raised inside a student's code, or None when it is not typical.

    ``fn`` and the call's ``args`` and ``kwargs``, when given, make the hint fit what is known: a
    ``TypeError`` about ``NoneType`` names the argument that was None in that call, and mentions
    TensorFlow's tape only when the code that ran uses TensorFlow.
    """
    kind, text = type(exc).__name__, str(exc)
    if kind == "TypeError" and "NoneType" in text:
        return _none_hint(exc, fn, args, kwargs or {})
    for kinds, words, hint in _EXCEPTION_HINTS:
        if kind in kinds and any(w in text for w in words):
            return hint
    return None


_TENSORFLOW_NAMES = {"tf", "tensorflow", "GradientTape", "keras"}


def _code_names(code):
    """The global and attribute names a code object (and the functions defined in it) uses."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _code_names(const)
    return names


def _uses_tensorflow(exc, fn):
    """True when the student's function, or any function the exception passed through, uses TensorFlow."""
    codes = [getattr(fn, "__code__", None)]
    tb = exc.__traceback__
    while tb is not None:
        codes.append(tb.tb_frame.f_code)
        tb = tb.tb_next
    return any(_code_names(code) & _TENSORFLOW_NAMES for code in codes if code is not None)


def _none_hint(exc, fn, args, kwargs):
    """The hint for arithmetic with None: the argument that was None, a missing ``return``, or (with TensorFlow)
    the tape."""
    names = _argument_names([fn], args) if fn is not None else [None] * len(args)
    none_args = [f"`{names[i]}` (the {_ORDINALS[i] if i < len(_ORDINALS) else f'{i + 1}th'} argument)" if names[i]
                 else f"the {_ORDINALS[i] if i < len(_ORDINALS) else f'{i + 1}th'} argument"
                 for i, a in enumerate(args) if a is None]
    none_args += [f"`{k}`" for k, v in kwargs.items() if v is None]
    if none_args:
        first = none_args[0].split(" (")[0].strip("`")
        hint = (f"a value in a calculation is None: {' and '.join(none_args)} "
                f"{'is' if len(none_args) == 1 else 'are'} None in the call shown, and the code does arithmetic "
                f"with it: handle that case before the formula (`if {first} is None: ...`). (A function without "
                "`return` also gives None.)")
    else:
        hint = ("a value in a calculation is None: a function you call (yours or a helper you wrote) has no "
                "`return`, so it gives None; or a variable holds the result of something that returns None "
                "(`print(...)`, `xs.sort()`, `xs.append(x)`).")
    if _uses_tensorflow(exc, fn):
        hint += (" With TensorFlow: `tape.gradient` gives None when the loss was computed outside the "
                 "`with tf.GradientTape() as tape:` block.")
    return hint


# --------------------------------------------------------------------------- messages
def failure_message(verdict, hint=None, details=()):
    """The layout of every failure, in one place.

    The first line is the verdict and, when one was recognised, the likely mistake; then
    come the ``details``, ``(label, text)`` pairs such as the inputs, what came back and
    what was expected, each capped at :data:`MAX_CHARS` characters (arrays abbreviated).
    """
    first = verdict.rstrip()
    if hint:
        first = f"{first.rstrip('.:')}. Likely mistake: {hint}"
    if not details:
        return first
    width = max(len(label) for label, _ in details) + 1
    room = max(MAX_CHARS + 40 - width - 3, 40)
    lines = []
    for label, text in details:   # a long line is wrapped at spaces, never cut
        wrapped = textwrap.wrap(str(text), room, break_long_words=False, break_on_hyphens=False) or [""]
        lines.append(f"  {(label + ':').ljust(width)} " + ("\n" + " " * (width + 3)).join(wrapped))
    return first + "\n" + "\n".join(lines)


def _fail(verdict, hint=None, details=()):
    raise CheckFailed(failure_message(verdict, hint, details), hint) from None


def _fmt_args(args, kwargs, limit=40):
    """The arguments of a call, as ``(a, b, key=c)``; shorter descriptions of each when the whole is too long."""
    for each in (limit, 24):
        parts = [describe(a, each) for a in args] + [f"{k}={describe(v, each)}" for k, v in kwargs.items()]
        text = "(" + ", ".join(parts) + ")"
        if len(text) <= MAX_CHARS:
            return text
    return _cap(text, MAX_CHARS)


def _is_object(value):
    """An object that is no number, array, string or container (a schedule, an optimizer, ...)."""
    return not isinstance(value, (np.ndarray, np.generic, int, float, complex, str, bytes, list, tuple, dict,
                                  np.random.Generator, type(None))) and not hasattr(value, "numpy")


def _call_details(name, args, kwargs, fns=()):
    """The "called as" line, and a line of its own for each argument whose repr is too long to show there.

    A schedule or an optimizer is named in the call (by its argument's name) and shown in full below,
    so that none of its settings is cut off: ``called as: rates_for_updates(schedule, 3, 4)``, then
    ``schedule: ExponentialDecay(initial_learning_rate=0.1, ...)``.
    """
    names = _argument_names(fns, args)
    extra = []

    def shown(value, label):
        if inspect.isroutine(value):   # a function: its name says more than its address
            own = getattr(value, "__name__", "<lambda>")
            return _Named(own if own != "<lambda>" else label)
        if not _is_object(value) or len(repr(value)) <= 40 or re.fullmatch(r"<.* at 0x[0-9a-fA-F]+>", repr(value)):
            return value
        extra.append((label, repr(value)))
        return _Named(label)
    shown_args = tuple(shown(a, names[i] or f"argument {i + 1}") for i, a in enumerate(args))
    shown_kwargs = {k: shown(v, k) for k, v in kwargs.items()}
    return [("called as", f"{name}{_fmt_args(shown_args, shown_kwargs)}")] + extra


class _Named(str):
    """An argument shown by its name in a "called as" line."""

    def __repr__(self):
        return str(self)


def _changed(before, after, path):
    """``(path, what happened)`` for the first value among the arguments that was changed in place, else None.

    Arrays are compared by shape and values, numbers and strings by value, lists, tuples and dicts item by
    item (and by length or keys); other objects are not compared.  ``path`` reads as code: ``grads[1]``,
    ``params['w']``, ``state.m``.
    """
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or before.shape != after.shape or not np.array_equal(
                before, after, equal_nan=before.dtype.kind in "fc"):
            return path, "now holds other values"
        return None
    if isinstance(before, (bool, int, float, complex, str, np.number, np.bool_)):
        same = type(after) is type(before) and (before == after or before != before and after != after)
        return None if same else (path, "now holds another value")
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(before) != set(after):
            return path, "now has other keys"
        return next((c for k in before if (c := _changed(before[k], after[k], f"{path}[{k!r}]"))), None)
    if isinstance(before, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(before) != len(after):
            return path, f"now has {len(after)} items instead of {len(before)}"
        fields = getattr(before, "_fields", None)
        return next((c for i, (b, a) in enumerate(zip(before, after))
                     if (c := _changed(b, a, f"{path}.{fields[i]}" if fields else f"{path}[{i}]"))), None)
    return None


def _argument_names(fns, args):
    """The names of the positional arguments, from the first of ``fns`` whose signature gives them all."""
    for fn in fns:
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            continue
        if len(params) >= len(args) and all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                                            for p in params[:len(args)]):
            return [p.name for p in params[:len(args)]]
    return [None] * len(args)


_ORDINALS = ["1st", "2nd", "3rd"] + [f"{k}th" for k in range(4, 21)]

IN_PLACE_OPERATIONS = ("in-place operations change the caller's values too (`+=`, `-=`, `*=`, `/=`, `a[...] = ...`, "
                       "`out=` as in `np.add(a, b, out=a)`, `.append` or `.extend` on an input list)")


def _in_place_message(name, args, kwargs, given, fns, example=None):
    """The sentence for a function that changed an argument in place, or None when it did not.

    It names every changed argument (by name and position) and, inside a list, tuple or dict,
    the first item that changed.
    """
    names = _argument_names(fns, args)
    changes = []   # (root value, argument name or None, position, path, what happened)
    for i, (before, after) in enumerate(zip(args, given[0])):
        if (change := _changed(before, after, names[i] or f"argument {i + 1}")) is not None:
            ordinal = _ORDINALS[i] if i < len(_ORDINALS) else f"{i + 1}th"
            changes.append((before, names[i], f"the {ordinal} argument", *change))
    for key in kwargs:
        if (change := _changed(kwargs[key], given[1].get(key), key)) is not None:
            changes.append((kwargs[key], key, "a keyword argument", *change))
    if not changes:
        return None
    clauses, examples = [], []
    for root, arg, position, path, happened in changes:
        container = ("dict" if isinstance(root, dict) else "list" if isinstance(root, list)
                     else type(root).__name__ if hasattr(root, "_fields") else "tuple")
        if not isinstance(root, (dict, list, tuple)):          # an array argument
            clauses.append((f"`{path}` ({position})" if arg else position, happened))
            examples.append("`new = old * scale` rather than `old *= scale`")
        elif "items instead of" in happened or "other keys" in happened:
            clauses.append((f"the {container} {f'`{arg}` ' if arg else ''}({position})", happened))
            examples.append(f"a new {container}, `xs + [x]`, rather than `xs.append(x)`" if container != "dict"
                            else "a new dict, `{**d, k: v}`, rather than `d[k] = v`")
        else:
            clauses.append((f"`{path}` (in the {container} {f'`{arg}`, ' if arg else ''}{position})", happened))
            if hasattr(root, "_fields"):
                examples.append(f"a new `{container}({', '.join(root._fields)})` of new values, rather than "
                                f"`{path} *= scale`")
            elif container == "dict":
                examples.append("a new dict, `{k: v * scale for k, v in d.items()}`, rather than `d[k] *= scale`")
            else:
                examples.append(f"a new {container}, `[x * scale for x in xs]`, rather than `x *= scale` on each "
                                "item")
    if len(clauses) > 1 and all(happened == "now holds other values" for _, happened in clauses):
        subjects = [subject for subject, _ in clauses]
        what = f"{', '.join(subjects[:-1])} and {subjects[-1]} now hold other values"
    else:
        what = "; ".join(f"{subject} {happened}" for subject, happened in clauses)
    return (f"{name} changed its input arguments in place: {what}. Return new values instead, e.g. "
            f"{example or examples[0]}: {IN_PLACE_OPERATIONS}.")


# --------------------------------------------------------------------------- the mistake search
class _Raised(NamedTuple):
    """Stands for an answer that was an exception."""
    exc: BaseException


def _run(fn, args, kwargs):
    """Call a reference or catalogue function quietly; an exception becomes a ``_Raised``."""
    try:
        with quietly():
            return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except Exception as exc:
        return _Raised(exc)


def _same_answer(got, wrong, rtol, atol):
    if isinstance(got, _Raised) or isinstance(wrong, _Raised):
        return (isinstance(got, _Raised) and isinstance(wrong, _Raised) and type(got.exc) is type(wrong.exc)
                and str(got.exc) == str(wrong.exc))
    return _close(got, wrong, rtol, atol)


def _parts(value, names):
    """(labels, parts) of a tuple or dict answer, else None."""
    value = _to_numpy(value)
    if isinstance(value, dict):
        return [str(k) for k in value], list(value.values())
    if isinstance(value, tuple):
        labels = list(names) if names and len(names) == len(value) else [f"value {i + 1}" for i in range(len(value))]
        return labels, list(value)
    return None


def _factor_values(factors, calls):
    """{label: [value per case]} for the declared factors (a factor may be a function of the case)."""
    out = {}
    for label, factor in (factors or {}).items():
        values = []
        for args, kwargs in calls:
            try:
                v = factor(*args, **kwargs) if callable(factor) else factor
                values.append(float(v))
            except Exception:
                values = None
                break
        if values:
            out[label] = values
    return out


def _ratio_hint(gots, exps, factor_values, rtol, atol):
    """The declared factor by which every answer is the expected one times (or divided by), if any."""
    for label, values in factor_values.items():
        for times in (True, False):
            informative, ok = False, True
            for g, e, f in zip(gots, exps, values):
                g, e = _align(_to_numpy(g), _to_numpy(e)), _to_numpy(e)
                if not (_is_numeric(g) and _is_numeric(e)) or g.shape != e.shape or f == 0:
                    ok = False
                    break
                with quietly():
                    target = e * f if times else e / f
                    if not np.allclose(g, target, rtol=max(rtol, 1e-6), atol=atol):
                        ok = False
                        break
                    informative |= not np.allclose(e, target, rtol=rtol, atol=atol)
            if ok and informative:
                if times:
                    return (f"the answer is the expected one times {label}, on every input: an extra factor "
                            f"{label} (applied twice?).")
                return (f"the answer is the expected one divided by {label}, on every input: the factor {label} "
                        "is missing.")
    return None


def _sign_hint(gots, exps, rtol, atol):
    informative = False
    for g, e in zip(gots, exps):
        g, e = _align(_to_numpy(g), _to_numpy(e)), _to_numpy(e)
        if not (_is_numeric(g) and _is_numeric(e)) or g.shape != e.shape:
            return None
        with quietly():
            if not np.allclose(g, -e, rtol=rtol, atol=atol):
                return None
            informative |= bool(np.any(np.abs(e) > atol))
    if informative:
        return ("the answer has the opposite sign of the expected one, on every input: a sign error "
                "(check whether a step adds or subtracts, and the order in a difference such as prediction - y).")
    return None


def _diagnose(answers, calls, expected, mistakes, *, factors=None, names=None, rtol, atol, caught=(),
              solution=None, student=None):
    """The one mistake search: the sentence naming the mistake that explains every answer, or None.

    ``answers`` and ``expected`` hold one entry per case (``_Raised`` for an exception);
    ``calls`` the cases' ``(args, kwargs)``.  Tried in order: the catalogue (an entry must
    reproduce the answer on every case), a swapped order of the parts, then, for answers
    whose every part is numeric, a sign and the declared factors, part by part; last, a
    typical exception or a division-by-zero warning.
    """
    for mistake in mistakes:
        if all(_same_answer(g, _run(mistake.fn, a, k), rtol, atol) for g, (a, k) in zip(answers, calls)):
            return mistake.hint
    raised = [(g.exc, call) for g, call in zip(answers, calls) if isinstance(g, _Raised)]
    if raised:
        exc, (args, kwargs) = raised[0]
        hint = exception_hint(exc, student, args, kwargs)
        return _ExceptionHint(hint) if hint else _mutation_hint(solution, calls, answers, rtol, atol)
    hint = (_parts_hint(answers, expected, factors, names, calls, rtol, atol)
            or _layout_hint(answers, expected, rtol, atol) or _word_hint(answers, expected)
            or _mutation_hint(solution, calls, answers, rtol, atol))
    if hint:
        return hint
    if any("divide by zero" in str(w.message) for w in caught):
        return ("numpy divided by zero (see the infinity or NaN in the answer): a missing `1 +` or bracket in a "
                "denominator, or a count that starts at 0 where the formula needs 1 (count steps from 1 there: a "
                "bias correction 1 - beta**t uses t = 1 for the first update).")
    return None


def _mutation_hint(solution, calls, answers, rtol, atol):
    """The simplest single-point change of the solution's source that reproduces every answer (see ``mutants``)."""
    if solution is None:
        return None
    from .mutants import mutation_hint
    hint = mutation_hint(solution, calls, answers, lambda g, w: _same_answer(g, w, rtol, atol), _run)
    return _MutantHint(hint) if hint else None


def _solution_for(name, reference_fn):
    """The source to mutate: the exercise's solution when ``mutants.SOLUTIONS`` has it, else the reference."""
    from .mutants import SOLUTIONS
    return SOLUTIONS.get(name, reference_fn)


def _wrapped(g, e, rtol, atol):
    return (_is_numeric(g) and _is_numeric(e) and g.shape != e.shape and g.size == e.size
            and np.allclose(g.reshape(e.shape), e, rtol=rtol, atol=atol))


def _whole_numbers(g, e, rtol, atol):
    return (_is_numeric(g) and _is_numeric(e) and g.shape == e.shape and np.issubdtype(g.dtype, np.integer)
            and np.issubdtype(e.dtype, np.floating) and np.all(np.isfinite(e))
            and any(np.array_equal(g, f(e)) for f in (np.trunc, np.floor, np.round)))


def _low_precision(g, e, rtol, atol):
    return (_is_numeric(g) and _is_numeric(e) and g.shape == e.shape and np.issubdtype(g.dtype, np.floating)
            and np.issubdtype(e.dtype, np.floating) and g.dtype.itemsize < e.dtype.itemsize
            and np.allclose(g, e, rtol=1e-2, atol=1e-3))


def _reversed(g, e, rtol, atol):
    if isinstance(e, tuple) and isinstance(g, tuple) and len(g) == len(e) > 1:
        return all(_close(a, b, rtol, atol) for a, b in zip(g, e[::-1]))
    return (_is_numeric(g) and _is_numeric(e) and g.shape == e.shape and g.ndim >= 1 and len(g) > 1
            and np.allclose(g, e[::-1], rtol=rtol, atol=atol))


def _dict_for_tuple(g, e, rtol, atol):
    return (isinstance(g, dict) and isinstance(e, tuple) and len(g) == len(e)
            and all(_close(a, b, rtol, atol) for a, b in zip(g.values(), e)))


def _word_case(g, e, rtol, atol):
    return isinstance(e, str) and isinstance(g, str) and g != e and g.strip().lower() == e.lower()


def _unrounded_count(g, e, rtol, atol):
    return (_is_numeric(g) and _is_numeric(e) and np.issubdtype(e.dtype, np.integer) and g.shape == e.shape
            and np.issubdtype(g.dtype, np.floating) and np.all(np.isfinite(g)) and np.any(g != np.round(g))
            and np.all(np.abs(g - e) < 1))


def _bool_for_word(g, e, rtol, atol):
    return isinstance(e, str) and isinstance(g, (bool, np.bool_))


def _shifted(g, e, rtol, atol):
    if not (_is_numeric(g) and _is_numeric(e) and g.ndim == 1 and e.ndim == 1 and len(e) > 2):
        return False
    return any(len(a) == len(b) and np.allclose(a, b, rtol=rtol, atol=atol)
               for a, b in ((g, e[1:]), (g[:-1], e[1:]), (g[1:], e[:-1]), (g, e[:-1]), (g, e[2:]), (g[:-1], e),
                            (g[1:], e)))


def _prefix(g, e, rtol, atol):
    return (_is_numeric(g) and _is_numeric(e) and g.ndim == 1 and e.ndim == 1 and 1 < len(g) < len(e) - 1
            and np.allclose(g, e[:len(g)], rtol=rtol, atol=atol))


def _sentinel_for_inf(g, e, rtol, atol):
    return (_is_numeric(e) and e.ndim == 0 and np.isinf(e) and not (_is_numeric(g) and g.ndim == 0 and np.isinf(g)))


def _extra_parts(g, e, rtol, atol):
    return isinstance(g, tuple) and not isinstance(e, tuple) and any(_close(part, e, rtol, atol) for part in g)


def _one_part(g, e, rtol, atol):
    return isinstance(e, tuple) and len(e) > 1 and not (isinstance(g, tuple) and len(g) == len(e)) and any(
        _close(g, part, rtol, atol) for part in e)


def _none(g, e, rtol, atol):
    return g is None and e is not None


_LAYOUT_HINTS = [
    (_shifted, "the values are right but shifted by one position (a sequence started one step late or early, or "
               "ended one value short or long): count from 0, and produce exactly one value per step."),
    (_prefix, "the values are right but the sequence stops early: produce one value for every step (no early "
              "`break`, and `range` over all the steps)."),
    (_sentinel_for_inf, "where the answer is \"never\", return math.inf (not -1, None or another stand-in)."),
    (_extra_parts, "the answer is in there, but with other values in a tuple: return only the answer."),
    (_one_part, "that is only one part of the answer: return all the parts, as a tuple in the order the exercise "
                "gives."),
    (_none, "the function returns None: end it with `return <the answer>` (print only shows a value, and a "
            "function without `return` gives None)."),
    (_word_case, "the word is right but spelled differently (capitals or spaces): return it exactly as the "
                 "exercise writes it."),
    (_unrounded_count, "a count is a whole number: round the formula's result (up, with math.ceil, when you need "
                       "the first whole number of steps that is enough)."),
    (_bool_for_word, "return the word the exercise asks for (a string such as the ones it lists), not True/False."),
    (_wrapped, "the numbers are right but come back in another shape (wrapped in a list, or a missing reshape): "
               "return the value itself, shaped like the input."),
    (_whole_numbers, "the answer was turned into whole numbers (int(), astype(int), round or `//`): keep floats."),
    (_low_precision, "the answer is close but computed with too few digits (float16?): compute in float32 or "
                     "float64, as the exercise says."),
    (_reversed, "the right values in reverse order: keep the order the exercise asks for."),
    (_dict_for_tuple, "the right values, but in a dict: return them as a tuple, in the order the exercise gives."),
]


def _layout_hint(answers, expected, rtol, atol):
    """A hint when every wrong answer is the expected one in another layout, dtype or order."""
    triples = [(_align(_to_numpy(g), _to_numpy(e)), _to_numpy(e), _to_numpy(g)) for g, e in zip(answers, expected)]
    for test, hint in _LAYOUT_HINTS:
        fits, used = True, False
        with quietly():
            for g, e, raw in triples:
                if test(raw if test is _extra_parts else g, e, rtol, atol):
                    used = True
                elif not _close(g, e, rtol, atol):
                    fits = False
                    break
        if fits and used:
            return hint
    return None


def _word_hint(answers, expected):
    """When the answers are words outside the set the exercise uses, list the allowed words."""
    words = sorted({e for e in expected if isinstance(e, str)})
    if words and all(isinstance(e, str) for e in expected) and any(
            isinstance(g, str) and g not in words for g in answers):
        return f"the answer must be one of the words {', '.join(repr(w) for w in words)}, spelled exactly so."
    return None


def _parts_hint(answers, expected, factors, names, calls, rtol, atol):
    factor_values = _factor_values(factors, calls)
    split = [_parts(e, names) for e in expected]
    if split[0] is None:
        return _sign_hint(answers, expected, rtol, atol) or _ratio_hint(answers, expected, factor_values, rtol, atol)
    labels = split[0][0]
    got_split = []
    for g, e in zip(answers, expected):
        g = _align(_to_numpy(g), _to_numpy(e))
        if isinstance(e, dict) or isinstance(_to_numpy(e), dict):
            if not isinstance(g, dict) or set(g) != set(_to_numpy(e)):
                return None
            got_split.append([g[k] for k in _to_numpy(e)])
        else:
            if not isinstance(g, tuple) or len(g) != len(labels):
                return None
            got_split.append(list(g))
    exp_split = [s[1] for s in split]
    n = len(labels)
    # A swapped order: on every input, each part of the answer is the expected part the order puts there
    # (the parts may be of different kinds: a number and a list of arrays).
    if n > 1:
        matches = [[all(_close(gs[i], es[j], rtol, atol) for gs, es in zip(got_split, exp_split))
                    for j in range(n)] for i in range(n)]
        p = _permutation(matches)
        if p is not None and not all(_close(es[p[i]], es[i], rtol, atol) for es in exp_split for i in range(n)):
            return (f"the parts come back in the wrong order: return ({', '.join(labels)}); "
                    f"you returned ({', '.join(labels[j] for j in p)}).")
    # Otherwise, a sign or a declared factor in the wrong parts.
    sentences = []
    for m in range(n):
        gots, exps = [gs[m] for gs in got_split], [es[m] for es in exp_split]
        if all(_close(g, e, rtol, atol) for g, e in zip(gots, exps)):
            continue
        part_hint = _sign_hint(gots, exps, rtol, atol) or _ratio_hint(gots, exps, factor_values, rtol, atol)
        if part_hint is None:
            return None
        sentences.append(f"{labels[m]}: {part_hint}")
    return " ".join(sentences) or None


# --------------------------------------------------------------------------- checks
def _split_case(case):
    if len(case) == 2 and isinstance(case[0], tuple) and isinstance(case[1], dict):
        return case
    return tuple(case), {}


def _said(what, hint):
    """True when the hint already says what the "what" line would (a swapped order, named in both)."""
    return what.startswith("the parts look swapped: ") and what.partition(": ")[2] in hint


def _layout(name, call, got, exp, problem, hint):
    """(verdict, hint, details) for a wrong answer of ``name``; plain value mismatches stay off the first line.

    ``call`` holds the "called as" line and the lines that go with it (:func:`_call_details`)."""
    details = list(call)
    if isinstance(got, _Raised):
        verdict, what = f"{name} {problem[3:]}", problem[3:]
    else:
        plain = problem == f"it returned {describe(got)}; expected {describe(exp)}."
        what = None if plain else problem
        verdict = f"{name} is wrong: {problem}" if len(problem) <= 100 or not plain else \
            f"{name} is wrong: it returned other values than expected."
        details += [("returned", describe(got))]
    details.append(("expected", describe(exp)))
    if hint:
        verdict = f"{name} raised {type(got.exc).__name__}" if isinstance(got, _Raised) else f"{name} is wrong"
        if what and not _said(what, hint):
            details.insert(0, ("what", what))
    return verdict, hint, details


def check_function(student_fn, reference_fn, cases, *, name=None, mistakes=(), factors=None, names=None,
                   rtol=1e-5, atol=1e-7, quiet=False, solution=None, in_place_example=None):
    """Call ``student_fn`` and ``reference_fn`` on every case and compare the results.

    ``cases`` is a list whose items are a tuple of positional arguments, or a pair
    ``(args_tuple, kwargs_dict)``.  ``mistakes`` is a sequence of :class:`Mistake`; the
    first that reproduces the student's answer on every case gives the hint.
    ``factors`` maps a name to a factor the exercise makes plausible (a number, or a
    function of the case's arguments), e.g. ``{"the learning rate": lambda w, g, lr: lr, "2": 2}``:
    when every answer is the expected one times (or divided by) that factor, the hint names it.
    ``names`` names the parts of a tuple answer, e.g. ``("new_w", "new_v")`` (a dict's keys
    name its parts).  Prints one line when every case passes.

    When no catalogue entry explains a wrong answer, single-point mutants of ``solution``'s
    source (by default ``reference_fn``'s, when it is a plain function or lambda whose source
    can be read) run on copies of the cases; one that reproduces every answer names the
    mistake (:mod:`course_lib.checks.mutants`).  Pass ``solution`` when the reference
    delegates to a library: a plain function written as the exercise's solution is.

    A function that changes an argument in place (an array's values, a list's items or length, a dict's
    values) fails with a sentence naming the argument and the item; ``in_place_example`` replaces its
    neutral example (``new = old * scale``) with the exercise's own, e.g.
    ``"`clipped = [g * scale for g in grads]`"``.
    """
    name = name or getattr(student_fn, "__name__", "your function")
    if not callable(student_fn):
        _fail(f"`{name}` should be a function, but it is {type(student_fn).__name__} "
              f"{describe(student_fn)}. Did you overwrite it with a value?")
    calls, answers, caught = [], [], []
    for case in cases:
        args, kwargs = _split_case(case)
        given = (copy.deepcopy(args), copy.deepcopy(kwargs))
        try:
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                got = student_fn(*given[0], **given[1])
            caught.extend(seen)
        except NotImplementedError:
            raise NotAttempted(f"`{name}` is not written yet: replace `raise NotImplementedError()` "
                               "with your code, then run this check again.") from None
        except Exception as exc:  # the student's code crashed: diagnosed below, with the others
            got = _Raised(exc)
        in_place = _in_place_message(name, args, kwargs, given, (student_fn, reference_fn), in_place_example)
        if in_place:
            _fail(in_place, details=_call_details(name, args, kwargs, (reference_fn, student_fn)))
        calls.append((args, kwargs))
        answers.append(got)

    expected = [_run(reference_fn, a, k) for a, k in calls]
    for ref in expected:
        if isinstance(ref, _Raised):  # a bug in the checker, not the student's
            raise ref.exc
    problems = [f"it raised {type(got.exc).__name__}: {_cap(str(got.exc).strip(), 200)}" if isinstance(got, _Raised)
                else _problem(got, exp, rtol, atol, names) for got, exp in zip(answers, expected)]
    failing = [i for i, problem in enumerate(problems) if problem]
    if failing:
        hint = _diagnose(answers, calls, expected, mistakes, factors=factors, names=names, rtol=rtol,
                         atol=atol, caught=caught, solution=solution or _solution_for(name, reference_fn),
                         student=student_fn)
        i = failing[0]
        if isinstance(hint, _ExceptionHint):   # the hint is about one exception: show the input that raised it
            i = next(j for j in failing if isinstance(answers[j], _Raised))
        call = _call_details(name, *calls[i], (student_fn, reference_fn))
        layout = _layout(name, call, answers[i], expected[i], problems[i], hint)
        others = sum(1 for j in failing if not isinstance(answers[j], _Raised))
        if isinstance(answers[i], _Raised) and others:
            layout[2].append(("and", f"on {others} other input{'s' if others > 1 else ''} it returns a wrong value "
                                     "(run the check again after this fix)"))
        if isinstance(hint, _MutantHint):
            raise CheckFailed(failure_message(*layout), hint, failure_message(
                *_layout(name, call, answers[i], expected[i], problems[i], None))) from None
        _fail(*layout)
    if not quiet:
        print(f"✓ {name} is correct on {len(cases)} inputs.")


def check_value(got, expected, *, name, mistakes=(), factors=None, names=None, rtol=1e-5, atol=1e-7, quiet=False):
    """Compare a value the student computed with the expected one.

    ``mistakes`` holds pairs ``(wrong_value, hint)``: values that typical mistakes produce.
    ``factors`` maps a name to a plausible factor (a number); ``names`` names a tuple's parts.
    """
    if got is Ellipsis:
        raise NotAttempted(f"`{name}` is not computed yet: replace the `...` with your code.")
    problem = _problem(got, expected, rtol, atol, names)
    if problem:
        catalogue = [m if isinstance(m, Mistake) else Mistake(lambda v=m[0]: v, m[1]) for m in mistakes]
        hint = _diagnose([got], [((), {})], [expected], catalogue, factors=factors, names=names, rtol=rtol,
                         atol=atol)
        problem = problem.replace("it returned", "it is")
        details = [("yours", describe(got)), ("expected", describe(expected))]
        if hint:
            what = [] if _said(problem, hint) else [("what", problem)]
            _fail(f"`{name}` is wrong", hint, what + details)
        _fail(f"`{name}` is wrong: {problem}", None, details)
    if not quiet:
        print(f"✓ {name} is correct: {describe(got)}")


# --------------------------------------------------------------------------- predictions
def _same_choice(answer, choice):
    if isinstance(choice, str):
        return isinstance(answer, str) and answer.strip().lower() == choice.strip().lower()
    if isinstance(answer, (bool, np.bool_)) or isinstance(choice, (bool, np.bool_)):
        return isinstance(answer, (bool, np.bool_)) and bool(answer) == bool(choice)
    try:
        return bool(np.isclose(float(answer), float(choice), rtol=1e-9, atol=0))
    except (TypeError, ValueError):
        return answer == choice


def check_prediction(answer, *, name, correct, explanation, evidence=None, choices=None, tolerance=None):
    """A "predict, then run" question: check the student's prediction, then show why.

    ``answer`` is the student's variable.  With ``choices`` (strings or numbers), the answer
    must be one of them (strings compared without case or surrounding spaces); without,
    it is a number within ``tolerance`` (absolute) of ``correct``.  The check prints the
    verdict (for a right answer), then ``explanation``, then ``evidence``: a string, or a function that runs
    the experiment that settles the question (it may print, or return the text to print).
    A wrong prediction prints the explanation and the run, then raises :class:`CheckFailed` with the
    verdict (said once, there), so that a graded notebook records it.
    """
    if choices is not None and not any(_same_choice(correct, c) for c in choices):
        raise ValueError(f"correct={correct!r} must be one of choices={list(choices)!r}")
    if choices is None and (tolerance is None or tolerance < 0):
        raise ValueError("a numeric prediction needs a tolerance >= 0 (or give `choices`)")
    if answer is Ellipsis:
        raise NotAttempted(f"`{name}` has no prediction yet: replace the `...` with your answer, "
                           "then run this cell.")
    if choices is not None:
        matched = next((c for c in choices if _same_choice(answer, c)), None)
        if matched is None:
            _fail(f"`{name}` should be one of {', '.join(repr(c) for c in choices)}; it is {describe(answer)}. "
                  "Pick one of them (mind the spelling), then run this cell again.")
        right = _same_choice(matched, correct)
        shown = repr(matched)
    else:
        try:
            value = float(_to_numpy(answer))
        except (TypeError, ValueError):
            _fail(f"`{name}` should be a number; it is {type(answer).__name__} {describe(answer)}.")
        if not math.isfinite(value):
            _fail(f"`{name}` should be a finite number; it is {value}.")
        right = abs(value - float(correct)) <= tolerance
        shown = f"{value:g}"
    if right:
        print(f"✓ {name}: {shown} is right.")
    print(f"Why: {explanation}")
    if evidence is not None:
        print("The run that settles it:")
        text = evidence() if callable(evidence) else evidence
        if text is not None:
            print(text)
    if not right:   # the verdict, once: after the explanation and the run, as the cell's error
        within = f" (within {tolerance:g})" if choices is None else ""
        _fail(f"`{name}`: you predicted {shown}; the answer is {correct!r}{within}. Why, and the run that "
              "settles it: above.")


# --------------------------------------------------------------------------- notebooks
def _short_failure(shell, etype, value, tb, tb_offset=None):
    """Show a failed check as its own lines, through IPython's public ``showtraceback``."""
    shell.showtraceback((etype, value, tb), exception_only=True)


def register_short_failures(shell):
    """Show :class:`CheckFailed` and :class:`NotAttempted` in ``shell`` without a traceback into the checker.

    Uses ``InteractiveShell.set_custom_exc`` (public IPython API); the failure remains an error
    output, with the exception's name and message.
    """
    shell.set_custom_exc((CheckFailed, NotAttempted), _short_failure)


try:  # register only inside IPython/Jupyter; plain Python keeps normal tracebacks
    from IPython import get_ipython as _get_ipython
    _shell = _get_ipython()
except ImportError:
    _shell = None
if _shell is not None:
    register_short_failures(_shell)
