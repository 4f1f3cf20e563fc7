"""Stability of descent: how large a learning rate (and a momentum) may be, and what a run did.

* :func:`stability_limit`: the largest learning rate for which plain gradient descent converges.
* :func:`descend_batch` and :func:`learning_rate_sweep`: many runs of plain gradient descent at
  once, one per start point or learning rate.
* :func:`judge`: says in words whether a run converges, oscillates or diverges.
* :func:`explore`: everything the learning-rate explorer draws, for one setting of its controls.
* :func:`momentum_stable` and :func:`heavy_ball_tuning`: the same questions for heavy-ball momentum.
"""

import math
from typing import NamedTuple, Optional

import numpy as np

from .core import as_param_tree, check_int, check_number
from .descent import divergence_message, minimize
from .objectives import ILL_CONDITIONED, ROSENBROCK, SEED_LOSS, WAVY, Objective, Quadratic
from .optimizers import SGD

__all__ = ["stability_limit", "BatchRun", "descend_batch", "Sweep", "learning_rate_sweep",
           "Verdict", "judge", "EXPLORER_OBJECTIVES", "Exploration", "explore",
           "momentum_stable", "heavy_ball_tuning"]


class BatchRun(NamedTuple):
    params: np.ndarray    # final parameters of every run: shape (runs,) or (runs, dim)
    loss: np.ndarray      # final loss of every run, shape (runs,); inf for runs that overflowed
    diverged: np.ndarray  # True where a run overflowed


def _start_points(objective, x0, runs):
    x0 = np.asarray(as_param_tree("x0", x0))
    per_run = x0.shape if objective.dim == 1 else x0.shape[:-1]
    if objective.dim > 1 and (x0.ndim == 0 or x0.shape[-1] != objective.dim):
        raise ValueError(f"`x0` must have a last axis of length {objective.dim} for {objective.name}; "
                         f"got shape {x0.shape}.")
    if len(per_run) > 1:
        raise ValueError(f"`x0` must be one start point or one per run; got shape {x0.shape}.")
    n = per_run[0] if per_run else 1
    if runs is not None and n not in (1, runs):
        raise ValueError(f"`x0` holds {n} start points but `learning_rate` holds {runs} rates; "
                         "give one start, or one start per rate.")
    shape = ((runs or n),) + ((objective.dim,) if objective.dim > 1 else ())
    return np.broadcast_to(x0, shape).copy()


def descend_batch(objective, x0, learning_rate, steps):
    """Many runs of plain gradient descent at once, one run per row.

    ``x0`` is one start point or one per run (shape ``(runs,)`` for a 1-D objective,
    ``(runs, dim)`` otherwise); ``learning_rate`` is one number or one rate per run.  The
    Python loop goes over the steps only; all runs advance together in numpy::

        x = x - grad(x) * learning_rate        # every row at once

    The arithmetic is that of :func:`course_lib.descent.minimize` with ``SGD(learning_rate)`` (the rate is
    rounded to float32, as Keras stores it), so row ``i`` equals a separate run with rate
    ``learning_rate[i]`` from ``x0[i]``.  Runs that overflow are marked ``diverged`` and carry
    on as inf/nan without a warning.
    """
    steps = check_int("steps", steps, 0)
    rates = np.asarray(learning_rate, dtype=np.float64)
    if rates.ndim > 1:
        raise ValueError("`learning_rate` must be a number or a 1-D array of rates; "
                         f"got shape {rates.shape}.")
    if rates.size == 0 or not np.all(np.isfinite(rates)) or np.any(rates <= 0):
        raise ValueError("`learning_rate` must hold finite rates in (0, inf).")
    x = _start_points(objective, x0, rates.size if rates.ndim == 1 else None)
    lr = rates.astype(np.float32).astype(x.dtype)
    if objective.dim > 1 and lr.ndim == 1:
        lr = lr[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            x = x - objective.grad(x) * lr
        loss = objective(x)
    finite = np.isfinite(loss) & (np.all(np.isfinite(x), axis=-1) if objective.dim > 1 else np.isfinite(x))
    return BatchRun(x, np.where(finite, loss, np.inf), ~finite)


class Sweep(NamedTuple):
    learning_rates: np.ndarray  # the rates tried, shape (rates,)
    loss: np.ndarray            # final loss for each rate (inf where the run overflowed)
    diverged: np.ndarray        # True where the run overflowed
    steps: int
    stability_limit: float      # 2 / largest Hessian eigenvalue (at the minimum, for non-quadratics)


def learning_rate_sweep(objective, x0, learning_rates, steps):
    """Final loss after ``steps`` updates from ``x0`` for every rate in ``learning_rates``, at once.

    A thin layer over :func:`descend_batch`: one start point, one run per rate.  Use a log
    grid, e.g. ``np.geomspace(1e-3, 2, 400)``.
    """
    rates = np.asarray(learning_rates, dtype=np.float64)
    if rates.ndim != 1:
        raise ValueError(f"`learning_rates` must be a 1-D array of rates; got shape {rates.shape}.")
    x0 = np.asarray(x0)
    if (objective.dim == 1 and x0.ndim != 0) or (objective.dim > 1 and x0.shape != (objective.dim,)):
        raise ValueError(f"`x0` must be a single start point for {objective.name}; got shape {x0.shape}.")
    run = descend_batch(objective, x0, rates, steps)
    return Sweep(rates, run.loss, run.diverged, steps, stability_limit(objective)[0])


def stability_limit(objective):
    """``(limit, explanation)``: the largest learning rate for which plain gradient descent converges.

    For a :class:`~course_lib.objectives.Quadratic` it is exactly ``2 / L`` with ``L`` the
    largest Hessian eigenvalue.  For any other objective it is the same formula with the
    Hessian at the (global) minimum: the limit for runs that have come close to it.
    """
    if isinstance(objective, Quadratic):
        big = float(objective.eigenvalues[-1])
        return objective.stability_limit, f"2/L = 2/{big:.4g} = {objective.stability_limit:.4g}"
    h = np.atleast_2d(np.asarray(objective.hessian(np.asarray(objective.minimizer, dtype=np.float64))))
    big = float(np.linalg.eigvalsh(h)[-1])
    return 2.0 / big, f"2/L = 2/{big:.4g} = {2.0 / big:.4g} near the minimum"


class Verdict(NamedTuple):
    kind: str                # "converges", "oscillates" or "diverges"
    step: Optional[int]      # for "diverges": the step from which the loss stays above its start
    text: str                # the plain-words sentence, starting with `kind` ("diverges at step 7: ...")


def judge(trajectory, objective=None, optimizer=None, window=5):
    """Say in plain words whether a run converges, oscillates or diverges.

    * **diverges at step k**: the run overflowed (``trajectory.diverged_at``), or its loss
      ends above the starting loss, at its highest so far, after growing at every one of the
      last ``window`` steps; ``k`` is the step from which the loss stays above its start.
    * **converges**: the loss has not risen over the last ``2 * window`` steps, and along
      every coordinate the steps of the last ``window`` updates are shorter in total than
      those of the ``window`` before and shrink towards 0, not towards a cycle (Aitken's
      estimate of their floor); or the run is still travelling downhill without jumping.
    * **oscillates**: anything else: bounded, but the steps do not shrink.
    """
    window = check_int("window", window, 1)
    loss = np.asarray(trajectory.loss, dtype=np.float64)
    n = len(loss) - 1
    x = np.asarray(trajectory.params, dtype=np.float64).reshape(n + 1, -1)
    start = loss[0] + 1e-9 * abs(loss[0])
    w = min(window, n // 2)
    growing = (n >= 1 and loss[-1] > start and loss[-1] >= loss.max()
               and bool(np.all(np.diff(loss[-(w + 1):] if w else loss) > 0)))
    if trajectory.diverged_at is not None or growing:
        below = np.nonzero(loss <= start)[0]
        step = int(below[-1]) + 1
        detail = divergence_message(step, optimizer, objective).partition(": ")[2]
        if not detail:
            detail = "the loss climbs past its starting value and keeps growing"
        if trajectory.diverged_at is not None:
            detail += f" (overflow at step {trajectory.diverged_at})"
        return Verdict("diverges", step, f"diverges at step {step}: {detail}")
    moves = np.diff(x, axis=0)
    if w == 0:
        settled, flipping = np.array([loss[-1] < loss[0]]), np.array([False])
    else:
        recent, before = np.abs(moves[-w:]).sum(axis=0), np.abs(moves[-2 * w:-w]).sum(axis=0)
        tiny = 1e-12 * (1 + np.abs(x[-1]))
        settled = (recent <= tiny) | (recent < before * (1 - 1e-9))
        if n >= 3 * w:  # shrinking towards a floor (a cycle), not towards 0? Aitken's estimate of the floor
            first = np.abs(moves[-3 * w:-2 * w]).sum(axis=0)
            den = first + recent - 2 * before
            safe = np.where(np.abs(den) > 1e-300, den, 1.0)
            floor = np.where(np.abs(den) > 1e-300, (first * recent - before * before) / safe, recent)
            settled &= (recent <= tiny) | (floor < 0.5 * recent)
        flipping = np.all(moves[-w:-1] * moves[-w + 1:] < 0, axis=0) if w > 1 else moves[-1] * 0 != 0
    falling = w > 0 and bool(np.all(np.diff(loss[-(2 * w + 1):]) <= 1e-12 * (1 + np.abs(loss[-1]))))
    travelling = falling and loss[-1] < loss[-1 - w] and not np.any(flipping & ~settled)
    if not ((np.all(settled) and (falling or w == 0)) or travelling):
        return Verdict("oscillates", None, "oscillates: it keeps jumping across the valley and the steps "
                                           f"do not shrink (loss {loss[-1]:.4g} after {n} steps)")
    how = ", zig-zagging" if np.any(flipping) else ""
    if objective is not None and getattr(objective, "minimizer", None) is not None:
        best = np.asarray(objective.minimizer, dtype=np.float64).reshape(-1)
        best_loss = float(objective(np.asarray(objective.minimizer, dtype=np.float64)))
        far = np.linalg.norm(x[-1] - best) > 1e-2 * (1 + np.linalg.norm(best))
        flat = np.linalg.norm(np.asarray(objective.grad(x[-1] if x.shape[1] > 1 else x[-1, 0]))) < 1e-3
        if far and flat:
            where = ", ".join(f"{v:.4g}" for v in x[-1])
            glob = ", ".join(f"{v:.4g}" for v in best)
            return Verdict("converges", None, f"converges{how}, to a local minimum at ({where}) with loss "
                                              f"{loss[-1]:.4g}; the global minimum is at ({glob}) with loss "
                                              f"{best_loss:.4g}")
        above = max(loss[-1] - best_loss, 0.0)
        text = f"converges{how}: loss {above:.3g} above the minimum after {n} steps"
        return Verdict("converges", None, text)
    return Verdict("converges", None, f"converges{how}: loss {loss[-1]:.4g} after {n} steps")


#: The objectives the learning-rate explorer offers, by name, with the view drawn for each.
EXPLORER_OBJECTIVES = {o.name: o for o in (SEED_LOSS, ILL_CONDITIONED, WAVY, ROSENBROCK)}
_VIEWS = {SEED_LOSS.name: (-8.0, 6.0), ILL_CONDITIONED.name: (-6.0, 6.0, -3.0, 3.0),
          WAVY.name: (-12.0, 12.0), ROSENBROCK.name: (-2.0, 2.0, -1.0, 3.0)}


class Exploration(NamedTuple):
    objective: str            # the objective's name
    dim: int                  # 1 (curve) or 2 (contour plot)
    learning_rate: float
    stability_limit: float
    limit_text: str           # "2/L = 2/4 = 0.5"
    path: np.ndarray          # the points visited, shape (updates + 1, dim), up to any overflow
    loss: np.ndarray          # loss at each point
    gap: np.ndarray           # loss minus the global minimum value (>= 0): what the loss plot shows
    min_loss: float
    minimizer: np.ndarray     # the global minimiser, shape (dim,)
    shown: int                # how many points of `path` are drawn (at least 2; the rest are far outside the view)
    bounds: tuple             # (lo, hi) for 1-D, (x_lo, x_hi, y_lo, y_hi) for 2-D
    surface: tuple            # 1-D: (w, f(w)); 2-D: (x1 grid, x2 grid, f - min_loss)
    levels: np.ndarray        # contour levels (2-D) for the loss-above-minimum surface
    kind: str                 # "converges" / "oscillates" / "diverges"
    diverged_at: Optional[int]
    verdict: str              # the plain-words sentence shown under the sliders


def explore(objective, learning_rate, x1, x2=0.0, steps=50, grid_points=80):
    """Everything the learning-rate explorer draws, for one setting of its controls.

    Runs :func:`course_lib.descent.minimize` with ``SGD(learning_rate)`` for ``steps`` updates in float64 from
    ``x1`` (1-D objectives) or ``(x1, x2)``, judges the run with :func:`judge`, and returns an
    :class:`Exploration`: the path and losses, the stability limit, the verdict, and the
    surface to draw under the path.  ``objective`` is an objective or a key of
    :data:`EXPLORER_OBJECTIVES`.
    """
    if isinstance(objective, str):
        if objective not in EXPLORER_OBJECTIVES:
            raise ValueError(f"`objective` must be one of {list(EXPLORER_OBJECTIVES)}; got {objective!r}.")
        objective = EXPLORER_OBJECTIVES[objective]
    if not isinstance(objective, Objective) or objective.dim > 2:
        raise TypeError(f"`objective` must be a 1-D or 2-D objective or a name; got {objective!r}.")
    lr = check_number("learning_rate", learning_rate, 0, None, low_open=True)
    start = np.array([check_number("x1", x1)] + ([check_number("x2", x2)] if objective.dim == 2 else []))
    steps = check_int("steps", steps, 1)
    grid_points = check_int("grid_points", grid_points, 2)
    optimizer = SGD(lr)
    x0 = start if objective.dim == 2 else start[0]
    run = minimize(objective, x0, optimizer, steps)
    verdict = judge(run, objective, optimizer)
    limit, limit_text = stability_limit(objective)
    best = np.asarray(objective.minimizer, dtype=np.float64)
    min_loss = float(objective(best))
    path = np.asarray(run.params, dtype=np.float64).reshape(len(run.loss), objective.dim)
    loss = np.asarray(run.loss, dtype=np.float64)
    view = list(_VIEWS.get(objective.name, (-5.0, 5.0, -5.0, 5.0)[:2 * objective.dim]))
    for i in range(objective.dim):  # make sure the start point is in view
        lo, hi = view[2 * i], view[2 * i + 1]
        pad = 0.1 * (hi - lo)
        if not lo <= start[i] <= hi:
            view[2 * i], view[2 * i + 1] = min(lo, start[i] - pad), max(hi, start[i] + pad)
    lo_b, hi_b = np.array(view[0::2]), np.array(view[1::2])
    reach = 10 * (hi_b - lo_b)
    inside = np.all((path > lo_b - reach) & (path < hi_b + reach), axis=1)
    shown = max(int(np.argmin(inside)), min(2, len(path))) if not inside.all() else len(path)
    if objective.dim == 1:
        ws = np.linspace(view[0], view[1], 4 * grid_points)
        surface, levels = (ws, objective(ws)), np.array([])
    else:
        xs, ys = np.meshgrid(np.linspace(view[0], view[1], grid_points),
                             np.linspace(view[2], view[3], grid_points))
        z = objective(np.stack([xs, ys], axis=-1)) - min_loss
        top = float(z.max())
        levels = np.geomspace(max(top * 1e-4, 1e-12), top, 16)
        surface = (xs, ys, z)
    return Exploration(objective.name, objective.dim, lr, float(limit), limit_text, path, loss,
                       np.maximum(loss - min_loss, 0.0), min_loss, best.reshape(objective.dim), shown,
                       tuple(view), surface, levels, verdict.kind,
                       verdict.step if verdict.kind == "diverges" else None, verdict.text)


# ----------------------------------------------------------------- momentum
def momentum_stable(learning_rate, momentum, eigenvalue):
    """Whether heavy-ball momentum converges along a direction of curvature ``eigenvalue``.

    On a quadratic the error along an eigenvector obeys
    ``e[k+1] = (1 + momentum - learning_rate*eigenvalue) * e[k] - momentum * e[k-1]``,
    which shrinks exactly when ``0 <= momentum < 1`` and
    ``0 < learning_rate * eigenvalue < 2 + 2 * momentum``.
    """
    learning_rate = check_number("learning_rate", learning_rate, 0, None, low_open=True)
    momentum = check_number("momentum", momentum, 0, 1)
    eigenvalue = check_number("eigenvalue", eigenvalue, 0, None, low_open=True)
    return momentum < 1 and learning_rate * eigenvalue < 2 + 2 * momentum


def heavy_ball_tuning(condition_number, largest_eigenvalue=1.0):
    """The best ``(learning_rate, momentum, rate)`` for heavy-ball momentum on a quadratic.

    With curvatures between ``mu`` and ``L = largest_eigenvalue`` (``kappa = L / mu``)::

        learning_rate = 4 / (sqrt(L) + sqrt(mu))**2
        momentum = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))**2
        rate = sqrt(momentum) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)   # error factor per step

    Plain gradient descent at its best rate ``2 / (L + mu)`` has rate ``(kappa - 1) / (kappa + 1)``.
    """
    kappa = check_number("condition_number", condition_number, 1)
    big = check_number("largest_eigenvalue", largest_eigenvalue, 0, None, low_open=True)
    mu = big / kappa
    root = math.sqrt(kappa)
    momentum = ((root - 1) / (root + 1)) ** 2
    return 4 / (math.sqrt(big) + math.sqrt(mu)) ** 2, momentum, (root - 1) / (root + 1)
