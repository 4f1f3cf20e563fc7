"""Descent loops that record their whole trajectory, and say plainly when a run diverges.

* :func:`minimize` descends an objective from :mod:`course_lib.objectives`.
* :func:`fit` trains a model on a dataset by batch, stochastic or mini-batch gradient
  descent, visiting the batches given by :func:`course_lib.data.batch_indices`.

Both return a :class:`Trajectory`: the parameters and loss after every update (index 0
is the starting point), and, when the run blew up, the update at which it did and a
sentence saying why.  Overflow is caught, so a diverging run prints one sentence, not
pages of ``RuntimeWarning``.
"""

from typing import Any, NamedTuple, Optional

import numpy as np

from .backprop import dense, dense_backward, mean_squared_error, mean_squared_error_backward
from .core import as_param_tree, check_int, tree_index, tree_leaves, tree_stack
from .data import batch_indices

__all__ = ["Trajectory", "divergence_message", "minimize", "fit", "linear_mse"]


class Trajectory(NamedTuple):
    params: Any                 # parameters after each update, stacked on a leading axis
    loss: np.ndarray            # loss after each update (full dataset for `fit`)
    diverged_at: Optional[int]  # number of the update that overflowed, or None
    message: str                # "converged ...", "diverged at step 7: ..." etc.

    @property
    def final(self):
        """The last finite parameters."""
        return tree_index(self.params, -1)


def divergence_message(step, optimizer=None, objective=None):
    """ "diverged at step 7: learning rate 1.2 exceeds the stability limit 1.0" (when known)."""
    text = f"diverged at step {step}"
    limit = getattr(objective, "stability_limit", None)
    lr = getattr(optimizer, "learning_rate", None)
    plain_sgd = getattr(optimizer, "momentum", None) == 0
    if limit is not None and plain_sgd and isinstance(lr, float) and lr > limit:
        text += f": learning rate {lr:g} exceeds the stability limit {limit:g}"
    return text


def _finite(tree, loss):
    if not np.isfinite(loss):
        return False
    if type(tree) is np.ndarray:  # the common case, kept fast
        return bool(np.isfinite(tree).all())
    return all(np.isfinite(leaf).all() for leaf in tree_leaves(tree))


def _record(history, losses, diverged_at, message):
    return Trajectory(tree_stack(history), np.asarray(losses), diverged_at, message)


def minimize(objective, x0, optimizer, steps):
    """Run ``steps`` updates of ``optimizer`` on ``objective`` from ``x0``.

    ``x0`` keeps its dtype (pass ``np.float32(5.0)`` for float32 arithmetic).  The run stops
    early, with ``diverged_at`` set, at the first update whose parameters or loss overflow.
    """
    steps = check_int("steps", steps, 0)
    x = as_param_tree("x0", x0)
    state = optimizer.init(x)
    value_and_grad = getattr(objective, "value_and_grad", None) or (lambda p: (objective(p), objective.grad(p)))
    loss, grad = value_and_grad(x)
    history, losses = [x], [loss]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            x, state = optimizer.step(x, grad, state)
            loss, grad = value_and_grad(x)          # the loss of this update, the gradient of the next
            if not _finite(x, loss):
                return _record(history, losses, k, divergence_message(k, optimizer, objective))
            history.append(x)
            losses.append(loss)
    return _record(history, losses, None, f"finished {steps} steps, loss {float(losses[-1]):.6g}")


# ----------------------------------------------------------------- training on data
def linear_mse(params, x, y):
    """Mean squared error of a linear model ``x @ kernel + bias`` and its gradients, as Keras computes them.

    The model is :func:`course_lib.backprop.dense` (a Keras ``Dense`` layer without activation)
    with ``params = {"kernel": (in, out), "bias": (out,)}``.  Keras averages ``(y_pred - y)**2``
    over every element of the batch, so ``d loss / d y_pred = 2 * (y_pred - y) / y.size``.
    """
    y_pred = dense(x, params["kernel"], params["bias"])
    _, d_kernel, d_bias = dense_backward(mean_squared_error_backward(y, y_pred), x, params["kernel"])
    return mean_squared_error(y, y_pred), {"kernel": d_kernel, "bias": d_bias}


def fit(loss_and_grad, params0, x, y, optimizer, epochs=1, batch_size=None, shuffle=True, seed=0,
        batches=None):
    """Train by (mini-)batch gradient descent; record parameters and full-data loss per update.

    ``loss_and_grad(params, x_batch, y_batch) -> (loss, grads)``, e.g. :func:`linear_mse`.
    ``batch_size=None`` is batch gradient descent, ``1`` stochastic, anything between
    mini-batch.  ``batches`` (from :func:`course_lib.data.batch_indices`) overrides the
    order; otherwise it is drawn from ``seed``.
    """
    params = as_param_tree("params0", params0)
    if batches is None:
        batches = batch_indices(len(x), batch_size, epochs, shuffle, seed)
    state = optimizer.init(params)
    history, losses = [params], [loss_and_grad(params, x, y)[0]]
    step = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in batches:
            for idx in epoch:
                step += 1
                _, grads = loss_and_grad(params, x[idx], y[idx])
                params, state = optimizer.step(params, grads, state)
                loss = loss_and_grad(params, x, y)[0]
                if not _finite(params, loss):
                    return _record(history, losses, step, divergence_message(step, optimizer))
                history.append(params)
                losses.append(loss)
    return _record(history, losses, None, f"finished {step} updates, loss {float(losses[-1]):.6g}")
