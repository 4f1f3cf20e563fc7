"""course_lib.race: the optimizer race and the racers its explorer builds by name."""

import numpy as np
import pytest

from course_lib import optimizers as O
from course_lib import race as R
from course_lib.objectives import ILL_CONDITIONED, ROSENBROCK


def test_race_runs_every_optimizer_from_the_same_start():
    opts = {"SGD": O.SGD(0.3), "momentum": O.SGD(0.3, momentum=0.6), "Adam": O.Adam(0.1)}
    res = R.race("ill-conditioned quadratic", opts, steps=300, tol=1e-4)
    assert set(res.paths) == set(opts)
    for label, path in res.paths.items():
        assert path.shape == (301, 2)
        np.testing.assert_array_equal(path[0], [-5.0, -2.0])
        k = res.steps_to_tol[label]
        assert k is not None and np.all(res.losses[label][k:] < 1e-4) and (k == 0 or res.losses[label][k - 1] >= 1e-4)
    fastest = min(res.steps_to_tol, key=res.steps_to_tol.get)
    assert res.verdict.startswith(fastest)
    # momentum beats plain gradient descent on the ill-conditioned bowl
    assert res.steps_to_tol["momentum"] < res.steps_to_tol["SGD"]


def test_race_reports_divergence_and_no_winner():
    res = R.race("Rosenbrock", {"too fast": O.SGD(0.01)}, steps=50)
    assert len(res.paths["too fast"]) < 51 and res.steps_to_tol["too fast"] is None
    assert res.verdict.startswith("No optimizer")
    with pytest.raises(ValueError, match="problem"):
        R.race("Himmelblau", {"a": O.SGD()})
    with pytest.raises(TypeError, match="optimizers"):
        R.race("Rosenbrock", {})


def test_race_by_name_builds_the_named_racers():
    res = R.race_by_name("Rosenbrock", ["SGD", "Nesterov", "Adam"], lr_scale=2.0, momentum=0.5, steps=20)
    assert list(res.paths) == ["SGD", "Nesterov", "Adam"]
    direct = R.race("Rosenbrock", {"Adam": O.Adam(2.0 * R.RACE_RATES["Rosenbrock"]["Adam"])}, steps=20)
    np.testing.assert_array_equal(res.paths["Adam"], direct.paths["Adam"])
    nesterov = R.race_optimizer("Nesterov", 0.1, momentum=0.5)
    assert nesterov.nesterov and nesterov.momentum == 0.5
    assert R.race_optimizer("RMSprop", 0.1, rho=0.7).rho == 0.7
    assert R.race_optimizer("Nadam", 0.1, beta_1=0.8).beta_1 == 0.8
    with pytest.raises(ValueError, match="name"):
        R.race_optimizer("Lion", 0.1)
    with pytest.raises(ValueError, match="lr_scale"):
        R.race_by_name("Rosenbrock", ["SGD"], lr_scale=-1.0)


def test_steps_to_tol_counts_from_where_the_loss_stays_below():
    # Nesterov on the bowl, at 1.07 times its usual rate, dips below 1e-3 at step 8, climbs out
    # again and stays below only from step 50: the race counts 50, not the first touch.
    res = R.race_by_name("ill-conditioned quadratic", ["SGD", "Nesterov", "Adam"], lr_scale=1.07)
    gap = res.losses["Nesterov"] - ILL_CONDITIONED(ILL_CONDITIONED.minimizer)
    first_touch = int(np.nonzero(gap < 1e-3)[0][0])
    k = res.steps_to_tol["Nesterov"]
    assert first_touch == 8 and np.any(gap[first_touch:k] >= 1e-3)
    assert k == 50 and gap[k - 1] >= 1e-3 and np.all(gap[k:] < 1e-3)
    assert min(res.steps_to_tol.values()) == k
    assert res.verdict == "Nesterov got within 0.001 of the minimum and stayed there first, from step 50."


def test_a_run_that_touched_the_tolerance_but_ended_above_it_has_not_arrived():
    res = R.race_by_name("ill-conditioned quadratic", ["Nesterov"], lr_scale=1.07, steps=12)
    gap = res.losses["Nesterov"] - ILL_CONDITIONED(ILL_CONDITIONED.minimizer)
    assert gap[8] < 1e-3 <= gap[-1]
    assert res.steps_to_tol["Nesterov"] is None and res.verdict.startswith("No optimizer got within 0.001")


def test_race_problems_hold_their_objectives():
    assert R.RACE_PROBLEMS["Rosenbrock"].objective is ROSENBROCK
    assert R.RACE_PROBLEMS["ill-conditioned quadratic"].objective is ILL_CONDITIONED
    res = R.race("Rosenbrock", {"Adam": O.Adam(0.05)}, steps=5)
    assert res.objective is ROSENBROCK and res.bounds == R.RACE_PROBLEMS["Rosenbrock"].bounds
