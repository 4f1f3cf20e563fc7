"""course_lib.stability (lesson 02 and the momentum theory of lesson 08): descend_batch,
learning_rate_sweep, stability_limit, judge, explore (the pure function behind the explorer),
momentum_stable and heavy_ball_tuning; and lesson 02's WavyBowl."""

import math

import numpy as np
import pytest

from course_lib import descent, seeds, stability
from course_lib.objectives import ILL_CONDITIONED, ROSENBROCK, SEED_LOSS, WAVY, Quadratic, WavyBowl
from course_lib.optimizers import SGD

# The seed's (001) table labelled "learning rate 0.0001", first and last printed rows: known values.
SEED_FIRST, SEED_LAST = seeds.GD_LR_0_001.splitlines()[0], seeds.GD_LR_0_001.splitlines()[-1]


# --------------------------------------------------------------------------- the seed's mislabelled table
def test_mislabelled_table_was_made_with_0_001_not_0_0001():
    fmt = "After %s steps: w is %f, loss is %f"

    def row(lr, k):
        run = descent.minimize(SEED_LOSS, np.float32(5.0), SGD(lr), k + 1)
        return fmt % (k, run.params[k + 1], run.loss[k + 1])

    assert row(0.001, 0) == SEED_FIRST and row(0.001, 17) == SEED_LAST
    assert row(0.0001, 0) != SEED_FIRST
    assert 5 - 0.001 * 12 == pytest.approx(4.988) and 5 - 0.0001 * 12 == pytest.approx(4.9988)


# --------------------------------------------------------------------------- WavyBowl
def test_wavy_derivatives_match_finite_differences():
    w, h = np.linspace(-10, 10, 41), 1e-6
    assert np.allclose(WAVY.grad(w), (WAVY(w + h) - WAVY(w - h)) / (2 * h), atol=1e-6)
    assert np.allclose(WAVY.hessian(w), (WAVY.grad(w + h) - WAVY.grad(w - h)) / (2 * h), atol=1e-5)
    assert WAVY(np.float32(1.0)).dtype == np.float32


def test_wavy_minima_are_the_local_minima_of_a_fine_grid():
    w = np.linspace(-15, 15, 600001)
    f = WAVY(w)
    grid_minima = w[1:-1][(f[1:-1] < f[:-2]) & (f[1:-1] < f[2:])]
    found = WAVY.minima(-15, 15)
    assert len(found) == len(grid_minima) == 4
    assert np.allclose(found, grid_minima, atol=1e-4)
    assert np.all(np.abs(WAVY.grad(np.array(found))) < 1e-9)
    assert WAVY.minimizer == found[int(np.argmin(WAVY(np.array(found))))]
    assert WavyBowl(curvature=10.0).minima(-5, 5) == [pytest.approx(WavyBowl(curvature=10.0).minimizer)]


@pytest.mark.parametrize("kwargs, words", [({"curvature": 0}, "curvature"), ({"frequency": -1}, "frequency"),
                                           ({"amplitude": "x"}, "amplitude")])
def test_wavy_bad_arguments(kwargs, words):
    with pytest.raises((ValueError, TypeError), match=words):
        WavyBowl(**kwargs)


# --------------------------------------------------------------------------- vectorised runs
@pytest.mark.parametrize("objective, x0", [(SEED_LOSS, 5.0), (ILL_CONDITIONED, np.array([-5.0, 2.0])),
                                           (WAVY, 3.0), (ROSENBROCK, np.array([-1.5, 2.0]))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sweep_rows_equal_separate_runs(objective, x0, dtype):
    rates = np.geomspace(1e-4, 0.7, 9)
    sweep = stability.learning_rate_sweep(objective, np.asarray(x0, dtype), rates, steps=25)
    for lr, loss, diverged in zip(rates, sweep.loss, sweep.diverged):
        run = descent.minimize(objective, np.asarray(x0, dtype), SGD(lr), 25)
        if run.diverged_at is not None:
            assert diverged and loss == np.inf
        else:
            assert not diverged and loss == run.loss[-1]  # bit for bit


def test_descend_batch_many_starts_one_rate_and_errors():
    starts = np.random.default_rng(2).uniform(-10, 10, 7)
    ends = stability.descend_batch(WAVY, starts, 0.3, 50).params
    for s, e in zip(starts, ends):
        assert e == descent.minimize(WAVY, s, SGD(0.3), 50).final
    with pytest.raises(ValueError, match="learning_rate"):
        stability.descend_batch(SEED_LOSS, 5.0, [0.1, -0.2], 3)
    with pytest.raises(ValueError, match="x0"):
        stability.descend_batch(SEED_LOSS, np.ones(3), np.ones(4) * 0.1, 3)
    with pytest.raises(ValueError, match="x0"):
        stability.learning_rate_sweep(ILL_CONDITIONED, np.ones(3), [0.1], 3)


def test_sweep_overflow_is_silent_and_marked():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sweep = stability.learning_rate_sweep(SEED_LOSS, 5.0, [0.5, 1.0, 200.0], steps=300)
    assert list(sweep.diverged) == [False, False, True]
    assert sweep.loss[0] == 0.0 and sweep.loss[1] == 36.0 and sweep.loss[2] == np.inf


def test_sweep_loss_jumps_at_two_over_l():
    rates = np.geomspace(1e-3, 3, 400)
    for objective, x0 in ((SEED_LOSS, 5.0), (ILL_CONDITIONED, np.array([-5.0, 2.0]))):
        sweep = stability.learning_rate_sweep(objective, x0, rates, steps=50)
        limit = 2 / np.max(np.linalg.eigvalsh(np.atleast_2d(objective.hessian())))
        assert sweep.stability_limit == pytest.approx(limit)
        below, above = sweep.loss[rates < 0.98 * limit], sweep.loss[rates > 1.02 * limit]
        start = objective(x0)
        assert below.max() < start and above.min() > 100 * start


# --------------------------------------------------------------------------- stability limit
def test_stability_limit_from_the_hessian():
    tilted = Quadratic([[3.0, 1.0], [1.0, 3.0]])
    assert stability.stability_limit(tilted)[0] == pytest.approx(0.5)      # eigenvalues 2 and 4
    limit, text = stability.stability_limit(ROSENBROCK)                      # Hessian [[802, -400], [-400, 200]]
    assert limit == pytest.approx(2 / ((1002 + math.sqrt(602 ** 2 + 4 * 400 ** 2)) / 2))
    assert "near the minimum" in text
    assert stability.stability_limit(WAVY)[0] == pytest.approx(2 / (0.1 - math.sin(WAVY.minimizer)))


# --------------------------------------------------------------------------- judge / explore
@pytest.mark.parametrize("objective, lr, start, kind", [
    (SEED_LOSS, 0.2, 5.0, "converges"), (SEED_LOSS, 0.5, 5.0, "converges"), (SEED_LOSS, 0.99, 5.0, "converges"),
    (SEED_LOSS, 1.0, 5.0, "oscillates"), (SEED_LOSS, 1.01, 5.0, "diverges"), (SEED_LOSS, 1e-4, 5.0, "converges"),
    (ILL_CONDITIONED, 0.45, [-5.0, 2.0], "converges"), (ILL_CONDITIONED, 0.5, [-5.0, 2.0], "oscillates"),
    (ILL_CONDITIONED, 0.52, [-5.0, 2.0], "diverges"), (WAVY, 1.9, 0.0, "oscillates"),   # a 2-cycle
    (ROSENBROCK, 0.01, [-1.5, 2.0], "diverges")])
def test_judge_agrees_with_theory(objective, lr, start, kind):
    run = descent.minimize(objective, np.asarray(start, float), SGD(lr), 50)
    verdict = stability.judge(run, objective, SGD(lr))
    assert verdict.kind == kind and verdict.text.startswith(kind), verdict.text


def test_divergence_step_and_message():
    run = descent.minimize(ROSENBROCK, np.array([-1.5, 2.0]), SGD(0.01), 50)
    assert run.diverged_at is not None
    verdict = stability.judge(run, ROSENBROCK, SGD(0.01))
    loss = run.loss
    assert np.all(loss[verdict.step:] > loss[0]) and loss[verdict.step - 1] <= loss[0]
    assert verdict.text.startswith(f"diverges at step {verdict.step}") and f"step {run.diverged_at}" in verdict.text
    seed = descent.minimize(SEED_LOSS, 5.0, SGD(1.2), 50)
    assert stability.judge(seed, SEED_LOSS, SGD(1.2)).text == \
        "diverges at step 1: learning rate 1.2 exceeds the stability limit 1"


def test_judge_names_a_local_minimum():
    run = descent.minimize(WAVY, 5.0, SGD(0.3), 100)
    text = stability.judge(run, WAVY, SGD(0.3)).text
    assert text.startswith("converges") and "local minimum at (4.271)" in text


def test_explore_returns_everything_drawn():
    r = stability.explore(ILL_CONDITIONED.name, 0.45, -5.0, 2.0, steps=30)
    direct = descent.minimize(ILL_CONDITIONED, np.array([-5.0, 2.0]), SGD(0.45), 30)
    assert np.array_equal(r.path, direct.params) and np.array_equal(r.loss, direct.loss)
    assert r.stability_limit == 0.5 and r.limit_text == "2/L = 2/4 = 0.5" and r.kind == "converges"
    assert r.dim == 2 and r.shown == 31 and r.diverged_at is None
    xs, ys, z = r.surface
    assert z.shape == xs.shape == (80, 80) and z.min() >= 0 and len(r.levels) == 16
    assert np.allclose(z, ILL_CONDITIONED(np.stack([xs, ys], -1)))
    assert r.bounds == (-6.0, 6.0, -3.0, 3.0)


def test_explore_divergence_is_one_sentence_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = stability.explore(SEED_LOSS.name, 10.0, 5.0, steps=50)
    assert r.kind == "diverges" and r.diverged_at == 1 and r.verdict.startswith("diverges at step 1")
    assert 2 <= r.shown < len(r.path) and np.all(np.isfinite(r.loss))
    one_d = stability.explore(WAVY, 0.3, 5.9)           # start outside the default view: the view grows
    assert one_d.dim == 1 and one_d.bounds[1] >= 5.9 and one_d.surface[0].shape == one_d.surface[1].shape


@pytest.mark.parametrize("kwargs, error, words", [
    ({"objective": "nope"}, ValueError, "objective"), ({"learning_rate": 0}, ValueError, "learning_rate"),
    ({"learning_rate": float("nan")}, ValueError, "learning_rate"), ({"steps": 0}, ValueError, "steps"),
    ({"x1": "a"}, TypeError, "x1")])
def test_explore_bad_arguments(kwargs, error, words):
    args = {"objective": SEED_LOSS.name, "learning_rate": 0.1, "x1": 1.0, **kwargs}
    with pytest.raises(error, match=words):
        stability.explore(**args)


# --------------------------------------------------------------------------- momentum theory
@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_momentum_stability_bound(momentum):
    q = Quadratic(4.0)
    limit = (2 + 2 * momentum) / 4.0
    for lr, stable in ((0.97 * limit, True), (1.03 * limit, False)):
        assert stability.momentum_stable(lr, momentum, 4.0) is stable
        traj = descent.minimize(q, 1.0, SGD(lr, momentum=momentum), 3000)
        assert (abs(float(traj.final)) < 1e-3) is stable


def test_heavy_ball_tuning_is_the_best_momentum():
    kappa = ILL_CONDITIONED.condition_number
    lr, m, rate = stability.heavy_ball_tuning(kappa, ILL_CONDITIONED.eigenvalues[-1])
    assert math.isclose(rate, (math.sqrt(20) - 1) / (math.sqrt(20) + 1))

    def factor_per_step(lr, m):  # how much the error shrinks per step, measured late in the run
        e = descent.minimize(ILL_CONDITIONED, np.array([-5.0, -2.0]), SGD(lr, momentum=m), 400).params
        return (np.linalg.norm(e[400]) / np.linalg.norm(e[200])) ** (1 / 200)
    best = factor_per_step(lr, m)
    assert rate * 0.99 < best < rate * 1.01
    for other in (0.5 * m, 0.8 * m, 1.2 * m, 1.5 * m):
        assert factor_per_step(lr, other) > best + 0.02
    # plain gradient descent at its best learning rate is much slower
    gd = (kappa - 1) / (kappa + 1)
    assert factor_per_step(2 / (0.2 + 4.0), 0.0) == pytest.approx(gd, rel=0.01)
    assert gd > best + 0.2
    with pytest.raises(ValueError, match="condition_number"):
        stability.heavy_ball_tuning(0.5)
