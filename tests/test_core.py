"""Parameter trees and argument checks."""

import math

import numpy as np
import pytest

from course_lib.core import (
    as_param_tree,
    check_bool,
    check_int,
    check_number,
    check_same_structure,
    flush_subnormals,
    tf_pow,
    tree_leaves,
    tree_map,
    tree_unflatten,
)


def test_tree_map_keeps_structure_and_order():
    tree = {"a": np.ones(2), "b": [np.zeros(3), (np.full(1, 2.0),)]}
    doubled = tree_map(lambda x: 2 * x, tree)
    assert list(doubled) == ["a", "b"] and isinstance(doubled["b"][1], tuple)
    assert [leaf.tolist() for leaf in tree_leaves(doubled)] == [[2, 2], [0, 0, 0], [4]]
    summed = tree_map(lambda x, y: x + y, tree, doubled)
    assert tree_leaves(summed)[2].tolist() == [6.0]


def test_as_param_tree_converts_and_rejects():
    tree = as_param_tree("params", {"w": np.array([[1, 2]]), "b": np.float32(0)})
    assert tree["w"].dtype == np.float64 and tree["b"].dtype == np.float32
    with pytest.raises(TypeError, match="`params` must hold numbers"):
        as_param_tree("params", {"w": "abc"})
    with pytest.raises(TypeError, match="`params` is empty"):
        as_param_tree("params", [])
    with pytest.raises(TypeError, match="real-valued"):
        as_param_tree("params", np.ones(2, complex))


@pytest.mark.parametrize("tree, message", [
    (np.ones(3), "array of shape \\(3,\\)"),
    ({"w": np.ones((2, 2))}, "keys \\['w'\\]"),
    ({"w": np.ones((2, 2)), "b": np.ones(3)},
     "got array of shape \\(3,\\) at grads\\['b'\\], expected array of shape \\(2,\\)"),
    ([np.ones((2, 2)), np.ones(2)], "list of 2"),
])
def test_check_same_structure_names_the_difference(tree, message):
    like = {"w": np.ones((2, 2)), "b": np.ones(2)}
    with pytest.raises(ValueError, match=message):
        check_same_structure("grads", tree, like)
    check_same_structure("grads", {"w": np.zeros((2, 2)), "b": np.zeros(2)}, like)


def test_check_number_ranges_and_types():
    assert check_number("lr", 0.5, 0, None, low_open=True) == 0.5
    assert check_number("lr", np.float32(0.25)) == 0.25
    with pytest.raises(ValueError, match=r"`lr` must be in \(0, inf\); got 0"):
        check_number("lr", 0.0, 0, None, low_open=True)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        check_number("beta_1", 1.0, 0, 1, high_open=True)
    with pytest.raises(ValueError, match="finite"):
        check_number("lr", math.nan, 0)
    with pytest.raises(ValueError, match="finite"):
        check_number("lr", math.inf, 0)
    with pytest.raises(TypeError, match="`lr` must be a real number"):
        check_number("lr", "0.1")
    with pytest.raises(TypeError):
        check_number("lr", True)


def test_check_int_and_bool():
    assert check_int("steps", 3.0, 0) == 3
    with pytest.raises(TypeError, match="integer"):
        check_int("steps", 2.5)
    with pytest.raises(ValueError, match=r"`steps` must be an integer in \[0, inf\); got -1"):
        check_int("steps", -1, 0)
    assert check_bool("nesterov", np.bool_(True)) is True
    with pytest.raises(TypeError, match="True or False"):
        check_bool("nesterov", 1)


# --------------------------------------------------------------------------- TensorFlow's arithmetic
def test_tf_pow_is_the_c_library_pow_rounded_to_the_dtype():
    rng = np.random.default_rng(0)
    bases, exponents = rng.uniform(0.0, 1.0, 2000), rng.integers(1, 300, 2000).astype(float)
    ours = tf_pow(bases, exponents, np.float64)
    libm = np.array([math.pow(b, e) for b, e in zip(bases, exponents)])
    libm[libm < np.finfo(np.float64).tiny] = 0.0  # TensorFlow flushes subnormal results to zero
    assert np.count_nonzero(libm) > 1000
    assert ours.dtype == np.float64 and ours.tobytes() == libm.tobytes()
    # numpy's vectorised power differs from the C library in the last bit for some of these
    assert np.any(np.power(bases, exponents) != libm)
    # scalars take the same route as arrays, and float32 is the float64 result rounded
    assert tf_pow(bases[7], exponents[7], np.float64) == libm[7]
    assert tf_pow(np.float32(0.9), 3).dtype == np.float32
    assert tf_pow(0.9, 3) == np.float32(math.pow(0.9, 3))


def test_tf_pow_flushes_subnormals_and_keeps_inf_and_nan():
    assert tf_pow(1e-20, 3) == 0                         # 1e-60 is below float32's smallest normal number
    assert tf_pow(1e-20, 3, np.float64) == math.pow(1e-20, 3)
    assert tf_pow(1e-200, 2, np.float64) == 0            # 1e-400 is below float64's
    np.testing.assert_array_equal(tf_pow(np.array([2.0, -2.0, -2.0]), [2000.0, 1025.0, 0.5], np.float64),
                                  [np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(flush_subnormals([1e-39, -1e-39, 1e-37]), np.float32([0, 0, 1e-37]))


def test_tree_unflatten_single_array_and_trees():
    a = np.zeros(3)
    b = np.ones(3)
    assert tree_unflatten(a, [b]) is b
    with pytest.raises(ValueError):
        tree_unflatten(a, [b, b])
    assert tree_unflatten({"x": a, "y": [a, a]}, [1, 2, 3]) == {"x": 1, "y": [2, 3]}

