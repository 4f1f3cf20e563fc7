"""course_lib.initializers: Keras's initializers in numpy, checked in distribution."""

import math

import numpy as np
import pytest

from course_lib import initializers as init


@pytest.mark.parametrize("cls, scale, mode", [(init.GlorotUniform, 1, "avg"), (init.GlorotNormal, 1, "avg"),
                                              (init.HeUniform, 2, "in"), (init.HeNormal, 2, "in"),
                                              (init.LecunNormal, 1, "in"), (init.LecunUniform, 1, "in")])
def test_variance_and_bounds_match_the_formula(cls, scale, mode):
    shape = (300, 200)
    n = 300 if mode == "in" else 250
    w = cls(seed=3)(shape)
    assert w.shape == shape
    assert abs(w.var() / (scale / n) - 1) < 0.03, w.var()
    assert abs(w.mean()) < 0.01 * math.sqrt(scale / n) * 10
    assert np.abs(w).max() <= cls(seed=3).limit(shape)
    assert np.abs(w).max() > 0.95 * cls(seed=3).limit(shape)  # the bound is reached, not just respected


def test_truncated_normal_is_cut_at_two_standard_deviations():
    w = init.HeNormal(seed=0)((1000, 50))
    s = math.sqrt(2 / 1000) / init.TRUNCATED_NORMAL_STDDEV
    assert np.abs(w).max() <= 2 * s
    assert np.mean(np.abs(w) > 1.9 * s) > 0  # mass near the cut, as a cut normal has


def test_seeded_draws_repeat_and_differ_between_seeds():
    a, b, c = init.GlorotUniform(seed=1)((5, 4)), init.GlorotUniform(seed=1)((5, 4)), init.GlorotUniform(seed=2)((5, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_glorot_uniform_equals_the_backprop_lessons_draw():
    from course_lib.backprop import glorot_uniform
    assert np.array_equal(init.GlorotUniform(seed=7)((16, 8)), glorot_uniform(16, 8, np.random.default_rng(7)))


def test_fans_and_plain_initializers():
    assert init.compute_fans((7,)) == (7, 7)
    assert init.compute_fans((5, 5, 3, 8)) == (75, 200)
    w = init.RandomNormal(mean=1.0, stddev=0.5, seed=0)((4000,))
    assert abs(w.mean() - 1) < 0.03 and abs(w.std() - 0.5) < 0.02
    u = init.RandomUniform(seed=0)((4000,))
    assert u.min() >= -0.05 and u.max() <= 0.05 and abs(u.var() / init.RandomUniform().variance((1,)) - 1) < 0.05
    assert not init.Zeros()((3, 2)).any() and init.Ones()((2,)).sum() == 2
    assert init.HeNormal()((3, 3), dtype=np.float32).dtype == np.float32


def test_get_by_snake_and_camel_names():
    assert isinstance(init.get("he_normal"), init.HeNormal)
    assert isinstance(init.get("GlorotUniform", seed=2), init.GlorotUniform)
    he = init.HeUniform(seed=1)
    assert init.get(he) is he


@pytest.mark.parametrize("call, words", [
    (lambda: init.get("xavier"), "`identifier` must be"),
    (lambda: init.get(3), "`identifier` must be"),
    (lambda: init.VarianceScaling(scale=0), "`scale` must be in (0, inf)"),
    (lambda: init.VarianceScaling(mode="fan_mid"), "`mode` must be one of"),
    (lambda: init.VarianceScaling(distribution="cauchy"), "`distribution` must be one of"),
    (lambda: init.HeNormal(seed=-1), "`seed`"),
    (lambda: init.RandomNormal(stddev=-1.0), "`stddev`"),
    (lambda: init.GlorotUniform()((0, 3)), "`shape[0]`"),
    (lambda: init.GlorotUniform()(()), "`shape` must be"),
])
def test_bad_arguments_are_named(call, words):
    with pytest.raises((ValueError, TypeError), match=None) as info:
        call()
    assert words in str(info.value)
