"""Optimizers, each the twin of the Keras 3 optimizer of the same name.

Every optimizer is used the same way, with its state kept explicitly::

    opt = SGD(learning_rate=0.1, momentum=0.9)
    state = opt.init(params)                        # a NamedTuple you can print
    params, state = opt.step(params, grads, state)  # returns new objects

``params`` may be one ndarray, or a list/tuple/dict of ndarrays; ``grads`` must have
the same structure and shapes.  Nothing passed in is modified.  Arithmetic happens in
the dtype of each parameter (float32 in, float32 out), with hyperparameters cast to that
dtype exactly where Keras casts them, so results agree with Keras to the last bit or to
float32 rounding.

Two details follow Keras rather than textbooks:

* A float ``learning_rate`` is stored by Keras as a float32 variable, so even float64
  parameters see ``float64(float32(learning_rate))``.  We do the same.
* ``learning_rate`` may be a callable of the step count (a schedule from
  :mod:`course_lib.schedules`, or any ``f(step) -> float``).  The first update uses
  step 0, as Keras's ``optimizer.iterations`` does.  (A plain Keras callable takes no
  argument; a Keras ``LearningRateSchedule`` takes the step, like ours.)
"""

from typing import Any, NamedTuple

import numpy as np

from .core import (as_param_tree, check_bool, check_number, check_same_structure,
                   tree_leaves, tree_map)

__all__ = ["Optimizer", "SGD", "SGDState"]


def _unflatten(like, leaves):
    it = iter(leaves)
    return tree_map(lambda _: next(it), like)


class Optimizer:
    """Shared machinery: the learning rate, input checks and the walk over parameter leaves.

    A subclass defines ``State`` (a NamedTuple whose first field is ``iterations``),
    ``_init_slots(param) -> tuple`` with one array (or None) per remaining state field,
    and ``_update(param, grad, slots, lr, step) -> (new_param, new_slots)`` for one leaf.
    """

    State = None

    def __init__(self, learning_rate):
        if callable(learning_rate):
            self.learning_rate = learning_rate
        else:
            self.learning_rate = check_number("learning_rate", learning_rate, 0, None, low_open=True)

    def learning_rate_at(self, step):
        """The learning rate used by update number ``step`` (0 for the first), as float32."""
        if callable(self.learning_rate):
            lr = self.learning_rate(step)
            if hasattr(lr, "numpy"):
                lr = lr.numpy()
            lr = float(np.asarray(lr))
            if not np.isfinite(lr) or lr < 0:
                raise ValueError(f"`learning_rate` schedule returned {lr} at step {step}; "
                                 "it must return a finite number >= 0.")
        else:
            lr = self.learning_rate
        return np.float32(lr)

    # ----------------------------------------------------------------- public API
    def init(self, params):
        """Build the optimizer state for ``params`` (step count 0, zeroed slots)."""
        params = as_param_tree("params", params)
        per_leaf = [self._init_slots(p) for p in tree_leaves(params)]
        slots = []
        for k in range(len(self.State._fields) - 1):
            leaves = [s[k] for s in per_leaf]
            slots.append(None if all(x is None for x in leaves) else _unflatten(params, leaves))
        return self.State(0, *slots)

    def step(self, params, grads, state):
        """Apply one update; return ``(new_params, new_state)`` without touching the inputs."""
        params = as_param_tree("params", params)
        grads = as_param_tree("grads", grads)
        check_same_structure("grads", grads, params)
        if not isinstance(state, self.State):
            raise TypeError(f"`state` must be the {self.State.__name__} returned by "
                            f"{type(self).__name__}.init(params); got {type(state).__name__}.")
        for name in self.State._fields[1:]:
            if getattr(state, name) is not None:
                check_same_structure(f"state.{name}", getattr(state, name), params)
        step = state.iterations
        lr = self.learning_rate_at(step)
        slot_leaves = [tree_leaves(s) if s is not None else None for s in state[1:]]
        new_params, new_slots = [], [[] for _ in slot_leaves]
        for i, (p, g) in enumerate(zip(tree_leaves(params), tree_leaves(grads))):
            g = g.astype(p.dtype, copy=False)
            slots = tuple(None if s is None else s[i] for s in slot_leaves)
            p_new, slots_new = self._update(p, g, slots, lr.astype(p.dtype), step)
            new_params.append(p_new)
            for k, s in enumerate(slots_new):
                new_slots[k].append(s)
        slot_trees = [None if s is None else _unflatten(params, leaves)
                      for s, leaves in zip(state[1:], new_slots)]
        return _unflatten(params, new_params), self.State(step + 1, *slot_trees)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class SGDState(NamedTuple):
    iterations: int      # how many updates have been applied
    momentums: Any       # velocity per parameter; None when momentum == 0 (as in Keras)


class SGD(Optimizer):
    """Gradient descent with optional momentum: the twin of ``tf.keras.optimizers.SGD``.

    The update for each parameter ``w`` with gradient ``g``::

        # momentum == 0 (plain gradient descent)
        w = w - learning_rate * g

        # momentum > 0 (Keras's "velocity" form)
        velocity = momentum * velocity - learning_rate * g
        w = w + velocity

        # nesterov=True: step from the look-ahead point
        velocity = momentum * velocity - learning_rate * g
        w = w + momentum * velocity - learning_rate * g

    The textbook moving-average form ``v = beta*v + (1-beta)*g; w = w - lr*v`` is the same
    method: it equals this one with ``momentum = beta`` and ``learning_rate = lr*(1-beta)``.
    """

    State = SGDState

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = check_number("momentum", momentum, 0, 1)
        self.nesterov = check_bool("nesterov", nesterov)

    def _init_slots(self, p):
        return (np.zeros_like(p) if self.momentum != 0 else None,)

    def _update(self, w, g, slots, lr, step):
        if self.momentum == 0:
            return w - g * lr, (None,)
        m = np.asarray(self.momentum, dtype=w.dtype)
        velocity = slots[0] * m - g * lr
        if self.nesterov:
            return w + (velocity * m - g * lr), (velocity,)
        return w + velocity, (velocity,)
