"""The optimizer race: several optimizers from the same start on a hard 2-D function.

* :data:`RACE_PROBLEMS`: the functions raced on, with their plot window and start.
* :func:`race`: runs the optimizers given and says who got within a tolerance of the
  minimum, and stayed there, first.
* :data:`RACE_RATES`, :func:`race_optimizer` and :func:`race_by_name`: the optimizer-race
  explorer's racers, built by name with a learning rate that suits each problem.
"""

from typing import Any, NamedTuple

import numpy as np

from .core import check_int, check_number
from .descent import minimize
from .objectives import ILL_CONDITIONED, ROSENBROCK
from .optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop

__all__ = ["RaceProblem", "RACE_PROBLEMS", "RaceResult", "race", "RACE_RATES", "race_optimizer",
           "race_by_name"]


class RaceProblem(NamedTuple):
    objective: Any        # the objective raced on
    bounds: tuple         # plot window (x_min, x_max, y_min, y_max)
    start: tuple          # the default start point (x1, x2)


RACE_PROBLEMS = {
    "ill-conditioned quadratic": RaceProblem(ILL_CONDITIONED, (-5.5, 5.5, -3.0, 3.0), (-5.0, -2.0)),
    "Rosenbrock": RaceProblem(ROSENBROCK, (-2.0, 2.0, -1.0, 3.0), (-1.5, 2.0)),
}


class RaceResult(NamedTuple):
    objective: Any        # the objective raced on
    bounds: tuple         # plot window (x_min, x_max, y_min, y_max)
    paths: dict           # {label: array (steps + 1, 2)}, cut at divergence
    losses: dict          # {label: array of losses}
    steps_to_tol: dict    # {label: first step from which loss - min < tol up to the end of the run, or None}
    verdict: str          # one sentence: who got within the tolerance, and stayed there, first


def _steps_to_stay(gap, tol):
    """The first step from which ``gap < tol`` holds up to the end of ``gap``; None if it fails at the end."""
    below = gap < tol
    if below.size == 0 or not below[-1]:
        return None
    above = np.nonzero(~below)[0]
    return int(above[-1]) + 1 if above.size else 0


def race(problem, optimizers, steps=200, tol=1e-3, start=None):
    """Run several optimizers from the same start on a 2-D problem; who gets there first?

    ``problem`` is a key of :data:`RACE_PROBLEMS`; ``optimizers`` maps a label to an
    optimizer object.  Runs in float64 with :func:`course_lib.descent.minimize`.

    A racer's ``steps_to_tol`` is the step from which its loss stays within ``tol`` of the
    minimum up to the end of the run (a run that only touches the tolerance and leaves it
    again has not arrived); it is None when the loss is not within ``tol`` at the end, or the
    run diverged.
    """
    if problem not in RACE_PROBLEMS:
        raise ValueError(f"`problem` must be one of {sorted(RACE_PROBLEMS)}; got {problem!r}.")
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError("`optimizers` must be a non-empty dict {label: optimizer}.")
    steps = check_int("steps", steps, 1)
    tol = check_number("tol", tol, 0, None, low_open=True)
    objective, bounds, default_start = RACE_PROBLEMS[problem]
    x0 = np.asarray(default_start if start is None else start, dtype=np.float64)
    f_min = float(objective(objective.minimizer))
    paths, losses, reached = {}, {}, {}
    for label, opt in optimizers.items():
        traj = minimize(objective, x0, opt, steps)
        paths[label], losses[label] = traj.params, traj.loss
        reached[label] = None if traj.diverged_at is not None else _steps_to_stay(traj.loss - f_min, tol)
    done = {k: v for k, v in reached.items() if v is not None}
    if done:
        best = min(done, key=done.get)
        verdict = f"{best} got within {tol:g} of the minimum and stayed there first, from step {done[best]}."
    else:
        verdict = f"No optimizer got within {tol:g} of the minimum and stayed there in {steps} steps."
    return RaceResult(objective, bounds, paths, losses, reached, verdict)


#: Learning rates that suit each optimizer on each race problem (the explorer scales them).
RACE_RATES = {
    "ill-conditioned quadratic": {"SGD": 0.4, "Nesterov": 0.2, "Adagrad": 1.0, "RMSprop": 0.1, "Adadelta": 10.0,
                                  "Adam": 0.3, "AdamW": 0.3, "Adamax": 0.3, "Nadam": 0.3},
    "Rosenbrock": {"SGD": 0.0005, "Nesterov": 0.0005, "Adagrad": 0.5, "RMSprop": 0.005, "Adadelta": 10.0,
                   "Adam": 0.05, "AdamW": 0.05, "Adamax": 0.05, "Nadam": 0.05},
}


def race_optimizer(name, learning_rate, momentum=0.9, rho=0.9, beta_1=0.9):
    """One racer by name: "SGD" uses ``momentum`` (0 is plain descent), "Nesterov" is SGD with
    ``nesterov=True``, RMSprop and Adadelta use ``rho``, the Adam family ``beta_1``; every other
    argument keeps its Keras default."""
    if name == "SGD":
        return SGD(learning_rate, momentum=momentum)
    if name == "Nesterov":
        return SGD(learning_rate, momentum=momentum, nesterov=True)
    if name in ("RMSprop", "Adadelta"):
        return {"RMSprop": RMSprop, "Adadelta": Adadelta}[name](learning_rate, rho=rho)
    if name in ("Adam", "AdamW", "Adamax", "Nadam"):
        return {"Adam": Adam, "AdamW": AdamW, "Adamax": Adamax, "Nadam": Nadam}[name](learning_rate, beta_1=beta_1)
    if name == "Adagrad":
        return Adagrad(learning_rate)
    raise ValueError(f"`name` must be one of {sorted(RACE_RATES['Rosenbrock'])}; got {name!r}.")


def race_by_name(problem="ill-conditioned quadratic", names=("SGD", "Nesterov", "Adam"), lr_scale=1.0,
                 momentum=0.9, rho=0.9, beta_1=0.9, steps=200, tol=1e-3):
    """The optimizer-race explorer's compute function: :func:`race` the named optimizers, each at
    its :data:`RACE_RATES` learning rate times ``lr_scale``."""
    if problem not in RACE_RATES:
        raise ValueError(f"`problem` must be one of {sorted(RACE_RATES)}; got {problem!r}.")
    if isinstance(names, str) or not names:
        raise TypeError("`names` must be a non-empty list of optimizer names.")
    lr_scale = check_number("lr_scale", lr_scale, 0, None, low_open=True)
    opts = {n: race_optimizer(n, RACE_RATES[problem].get(n, 0.1) * lr_scale, momentum, rho, beta_1) for n in names}
    return race(problem, opts, steps, tol)
