"""Parameter trees and argument checks shared by every course_lib module.

Parameters may be a single ndarray, a list/tuple of ndarrays, or a dict of
ndarrays (nested one level or more).  Optimizers, descent loops and moving
averages walk these structures with :func:`tree_map`, and check the arguments
they are given with the ``check_*`` helpers, which raise ``ValueError`` or
``TypeError`` naming the argument and the allowed range.
"""

import functools
import math
import numbers

import numpy as np

__all__ = [
    "tree_map",
    "tree_leaves",
    "tree_structure",
    "tree_unflatten",
    "tree_stack",
    "tree_index",
    "check_same_structure",
    "as_param_tree",
    "check_number",
    "check_int",
    "check_bool",
    "check_finite_tree",
    "flush_subnormals",
    "tf_pow",
]


# --------------------------------------------------------------------------- trees
def _is_node(x):
    return isinstance(x, (list, tuple, dict))


def tree_map(fn, tree, *rest):
    """Apply ``fn`` leaf by leaf to ``tree`` (and to trees of the same structure in ``rest``)."""
    if isinstance(tree, dict):
        return {k: tree_map(fn, tree[k], *(r[k] for r in rest)) for k in tree}
    if isinstance(tree, (list, tuple)):
        out = [tree_map(fn, t, *(r[i] for r in rest)) for i, t in enumerate(tree)]
        return tuple(out) if isinstance(tree, tuple) else out
    return fn(tree, *rest)


def tree_leaves(tree):
    """The leaves of ``tree`` in a fixed order (dict keys in insertion order)."""
    if isinstance(tree, dict):
        return [leaf for k in tree for leaf in tree_leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [leaf for t in tree for leaf in tree_leaves(t)]
    return [tree]


def tree_unflatten(like, leaves):
    """A tree shaped like ``like`` whose leaves are ``leaves``, in :func:`tree_leaves` order."""
    if type(like) is np.ndarray:  # one leaf, the common case
        (leaf,) = leaves
        return leaf
    it = iter(leaves)
    return tree_map(lambda _: next(it), like)


def tree_stack(trees):
    """Trees of the same structure stacked leaf by leaf on a new leading axis (e.g. one per step)."""
    return tree_map(lambda *leaves: np.stack(leaves), *trees)


def tree_index(tree, i):
    """Entry ``i`` of every leaf: the inverse of :func:`tree_stack` for one position."""
    return tree_map(lambda a: a[i], tree)


def tree_structure(tree):
    """A hashable description of the nesting and of every leaf's shape."""
    if isinstance(tree, dict):
        return ("dict", tuple((k, tree_structure(v)) for k, v in tree.items()))
    if isinstance(tree, (list, tuple)):
        return ("seq", tuple(tree_structure(t) for t in tree))
    return ("leaf", np.shape(tree))


def _describe(structure):
    kind, body = structure
    if kind == "leaf":
        return f"array of shape {body}"
    if kind == "dict":
        return "dict with keys " + repr([k for k, _ in body])
    return f"list of {len(body)}"


def check_same_structure(name, tree, like, like_name="params"):
    """Raise ``ValueError`` unless ``tree`` nests like ``like`` with the same leaf shapes."""
    if type(tree) is np.ndarray and type(like) is np.ndarray and tree.shape == like.shape:
        return  # the common case, kept fast
    s, t = tree_structure(tree), tree_structure(like)
    if s == t:
        return

    def first_difference(a, b, path):
        if a[0] != b[0] or (a[0] != "leaf" and len(a[1]) != len(b[1])):
            return path, a, b
        if a[0] == "leaf":
            return (path, a, b) if a[1] != b[1] else None
        if a[0] == "dict" and [k for k, _ in a[1]] != [k for k, _ in b[1]]:
            return path, a, b
        for i, (x, y) in enumerate(zip(a[1], b[1])):
            key = x[0] if a[0] == "dict" else i
            found = first_difference(x[1] if a[0] == "dict" else x, y[1] if a[0] == "dict" else y,
                                     f"{path}[{key!r}]")
            if found:
                return found
        return None

    path, a, b = first_difference(s, t, "")
    where = f" at {name}{path}" if path else ""
    raise ValueError(f"`{name}` must have the same structure and shapes as `{like_name}`: "
                     f"got {_describe(a)}{where}, expected {_describe(b)}.")


def as_param_tree(name, tree):
    """Convert every leaf to a float ndarray (float32 stays float32; ints become float64).

    Raises ``TypeError`` for leaves that are not numbers or arrays of numbers, and
    for empty containers.
    """
    if _is_node(tree) and not tree_leaves(tree):
        raise TypeError(f"`{name}` is empty: give an array, or a list or dict of arrays.")

    def convert(leaf):
        if type(leaf) is np.ndarray and leaf.dtype.kind == "f":  # the common case, kept fast
            return leaf
        if hasattr(leaf, "numpy") and not isinstance(leaf, np.ndarray):
            leaf = leaf.numpy()  # a tf.Tensor or tf.Variable
        arr = np.asarray(leaf)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"`{name}` must hold numbers (an ndarray, or a list/dict of ndarrays); "
                            f"got a leaf of type {type(leaf).__name__}.")
        if np.issubdtype(arr.dtype, np.complexfloating):
            raise TypeError(f"`{name}` must be real-valued; got dtype {arr.dtype}.")
        if not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float64)
        return arr

    return tree_map(convert, tree)


def check_finite_tree(name, tree):
    """Raise ``ValueError`` if any leaf of ``tree`` holds NaN or infinity."""
    for leaf in tree_leaves(tree):
        if not np.all(np.isfinite(leaf)):
            raise ValueError(f"`{name}` contains NaN or infinity.")


# --------------------------------------------------------------------------- scalars
def _interval(low, high, low_open, high_open):
    lo = "(" if low_open or low is None else "["
    hi = ")" if high_open or high is None else "]"
    low_s = "-inf" if low is None else f"{low:g}"
    high_s = "inf" if high is None else f"{high:g}"
    return f"{lo}{low_s}, {high_s}{hi}"


def check_number(name, value, low=None, high=None, *, low_open=False, high_open=False):
    """Return ``value`` as a float after checking it is a finite real number in the range.

    ``low_open=True`` excludes ``low``; ``high_open=True`` excludes ``high``.  The error
    names the argument and the allowed interval, e.g. "`learning_rate` must be in (0, inf)".
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.shape == () and np.issubdtype(value.dtype, np.number):
            value = value.item()
        else:
            raise TypeError(f"`{name}` must be a real number in {_interval(low, high, low_open, high_open)}; "
                            f"got {type(value).__name__} {value!r}.")
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"`{name}` must be a finite number in {_interval(low, high, low_open, high_open)}; "
                         f"got {value}.")
    too_low = low is not None and (value < low or (low_open and value == low))
    too_high = high is not None and (value > high or (high_open and value == high))
    if too_low or too_high:
        raise ValueError(f"`{name}` must be in {_interval(low, high, low_open, high_open)}; got {value:g}.")
    return value


def check_int(name, value, low=None, high=None):
    """Return ``value`` as an int after checking it is an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise TypeError(f"`{name}` must be an integer in {_interval(low, high, False, False)}; "
                            f"got {type(value).__name__} {value!r}.")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"`{name}` must be an integer in {_interval(low, high, False, False)}; got {value}.")
    return value


def check_bool(name, value):
    """Return ``value`` after checking it is a bool (0/1 ints are refused on purpose)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False; got {type(value).__name__} {value!r}.")
    return bool(value)


# --------------------------------------------------------------------------- TensorFlow's arithmetic
@functools.lru_cache(maxsize=None)
def _smallest_normal(dtype):
    return np.finfo(dtype).tiny


def flush_subnormals(x, dtype=np.float32):
    """``x`` in ``dtype`` with numbers below the smallest normal one set to 0, as TensorFlow's CPU kernels do."""
    x = np.asarray(x, dtype=dtype)
    return np.where(np.abs(x) < _smallest_normal(x.dtype), x.dtype.type(0), x)


def _libm_pow(base, exponent):
    try:
        return math.pow(base, exponent)
    except (OverflowError, ValueError):  # where the C library returns inf or nan, Python raises
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.power(np.float64(base), np.float64(exponent)))


_libm_pow_elementwise = np.frompyfunc(_libm_pow, 2, 1)


def _is_scalar(x):
    return type(x) is int or type(x) is float or getattr(x, "ndim", None) == 0


def tf_pow(base, exponent, dtype=np.float32):
    """``base ** exponent`` as TensorFlow's ``pow`` computes it on the CPU, in ``dtype``.

    The C library's ``pow`` in float64 (``math.pow``; numpy's vectorised ``np.power`` rounds
    the last float64 bit differently in about 2% of cases), rounded to ``dtype``, with results
    below the smallest normal number flushed to zero.  ``base`` and ``exponent`` may be
    numbers or arrays (broadcast together).

    Args:
        base: a number or an array of numbers.
        exponent: a number or an array of numbers.
        dtype: the float dtype of the result.

    Examples:
        >>> tf_pow(0.9, 2)
        array(0.81, dtype=float32)
        >>> tf_pow(0.5, np.arange(4), np.float64)
        array([1.   , 0.5  , 0.25 , 0.125])
        >>> tf_pow(1e-20, 3)               # 1e-60 is below float32's smallest normal number
        array(0., dtype=float32)
    """
    if _is_scalar(base) and _is_scalar(exponent):  # the optimizers' case, kept fast
        out = np.asarray(_libm_pow(float(base), float(exponent)), dtype=dtype)
        return out if abs(out) >= _smallest_normal(dtype) else np.zeros((), dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        out = _libm_pow_elementwise(np.asarray(base, np.float64), np.asarray(exponent, np.float64))
        out = np.asarray(out, dtype=np.float64).astype(dtype)
    return flush_subnormals(out, dtype)
