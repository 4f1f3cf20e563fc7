"""Optimizers, each the twin of the Keras 3 optimizer of the same name.

Every optimizer is used the same way, with its state kept explicitly::

    opt = Adam(learning_rate=0.1)
    state = opt.init(params)                        # a NamedTuple you can print
    params, state = opt.step(params, grads, state)  # returns new objects

``params`` may be one ndarray, or a list/tuple/dict of ndarrays; ``grads`` must have
the same structure and shapes.  Nothing passed in is modified.  Arithmetic happens in
the dtype of each parameter (float32 in, float32 out), with hyperparameters cast to that
dtype exactly where Keras casts them, and every formula written in Keras's operation
order, so results agree with Keras to the last bit or to float32 rounding.

Details that follow Keras rather than textbooks:

* A float ``learning_rate`` is stored by Keras as a float32 variable, so even float64
  parameters see ``float64(float32(learning_rate))``.  We do the same.
* ``learning_rate`` may be a callable of the step count (a schedule from
  :mod:`course_lib.schedules`, or any ``f(step) -> float``).  The first update uses
  step 0, as Keras's ``optimizer.iterations`` does.  (A plain Keras callable takes no
  argument; a Keras ``LearningRateSchedule`` takes the step, like ours.)
* A Python hyperparameter such as ``1 - beta_1`` is computed in float64 and then rounded
  to the parameter's dtype, while ``1 - beta_1`` for a ``beta_1`` already cast to float32
  is a float32 subtraction.  The two differ in the last bit; each optimizer below uses
  the one its Keras twin uses.
* The common arguments act in this order on every step (``BaseOptimizer.apply``):
  gradients are clipped (``clipnorm`` per tensor, ``global_clipnorm`` over all of them,
  or ``clipvalue`` element-wise; at most one of the three), then weight decay shrinks
  every parameter, ``w = w - w * weight_decay * learning_rate``, then the optimizer's
  own update runs on the decayed parameter.
"""

import functools
from typing import Any, NamedTuple

import numpy as np

from .core import (
    as_param_tree,
    check_bool,
    check_int,
    check_number,
    check_same_structure,
    tf_pow,
    tree_leaves,
    tree_unflatten,
)
from .schedules import LearningRateSchedule

__all__ = ["Optimizer", "SGD", "SGDState", "Adagrad", "AdagradState", "RMSprop", "RMSpropState", "Adadelta",
           "AdadeltaState", "Adam", "AdamState", "AdamW", "Adamax", "AdamaxState", "Nadam", "NadamState", "get"]


@functools.lru_cache(maxsize=None)
def _as_dtype(value, dtype):
    """A Python number used directly in a Keras op (``ops.add(v, epsilon)``): rounded to ``dtype``.
    (Cached, as every optimizer asks for the same few constants on every step; read-only.)"""
    out = np.asarray(value, dtype=dtype)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=None)
def _via_float32(value, dtype):
    """A Python number passed through ``ops.cast(value, dtype)``: TensorFlow makes it a float32
    tensor first, so float64 parameters see ``float64(float32(value))``.  (Cached; read-only.)"""
    out = np.asarray(np.float32(value), dtype=dtype)
    out.flags.writeable = False
    return out


def _optional(name, value, low=0.0, low_open=True):
    return None if value is None else check_number(name, value, low, None, low_open=low_open)


class Optimizer:
    """Shared machinery: learning rate, clipping, weight decay, input checks, the loop over leaves.

    A subclass defines:

    * ``State``: a NamedTuple whose first field is ``iterations`` (the step count), followed by
      one field per slot, each a tree shaped like the parameters (or None when the optimizer's
      settings do not use that slot);
    * ``_init_slots(param) -> tuple``: the initial value of every slot for one parameter (an
      array, or None);
    * ``_update(w, g, slots, lr, step) -> (new_w, new_slots)``: the update of one parameter
      ``w`` (already weight-decayed) with its clipped gradient ``g``, its slots, the learning
      rate ``lr`` in ``w``'s dtype and the step count ``step`` (0 for the first update).

    :meth:`step` checks its arguments once, computes what all parameters share (the learning
    rate, the clipped gradients), then runs ``_update`` leaf by leaf.  One hook is for Nadam
    alone, which keeps a scalar beside its slots: ``_step_scalars(state)`` returns the values
    computed once per step for all leaves; they are passed to ``_update`` as keyword arguments
    and stored in the new state under their names (a State field with a default value, so not
    a slot).
    """

    State = None

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None):
        if callable(learning_rate):
            self.learning_rate = learning_rate
        else:
            self.learning_rate = check_number("learning_rate", learning_rate, 0, None, low_open=True)
        self.weight_decay = _optional("weight_decay", weight_decay, low_open=False)
        self.clipnorm = _optional("clipnorm", clipnorm)
        self.clipvalue = _optional("clipvalue", clipvalue)
        self.global_clipnorm = _optional("global_clipnorm", global_clipnorm)
        given = [n for n in ("clipnorm", "clipvalue", "global_clipnorm") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set; "
                             f"got {', '.join(given)}.")

    def learning_rate_at(self, step):
        """The learning rate used by update number ``step`` (0 for the first), as float32.

        A callable rate may also return one rate per stacked run, an array that broadcasts against
        the parameters (:func:`course_lib.training.train_numpy` trains several rates at once this
        way); it comes back as a float32 array.
        """
        if not callable(self.learning_rate):
            return np.float32(self.learning_rate)
        lr = self.learning_rate(step)
        if hasattr(lr, "numpy"):
            lr = lr.numpy()
        lr = np.asarray(lr, dtype=np.float64)
        if not np.all(np.isfinite(lr)) or np.any(lr < 0):
            raise ValueError(f"`learning_rate` schedule returned {lr} at step {step}; "
                             "it must return a finite number >= 0.")
        return lr.astype(np.float32)[()]

    def learning_rates(self, steps):
        """The rates of updates ``0 .. steps - 1``, as :meth:`learning_rate_at` gives them: a float32 array.

        A course_lib schedule is called once with all the steps (its float32 arithmetic is element
        by element, so each step gets the bits of its own call); any other callable once per step.

        Examples:
            >>> from course_lib.schedules import ExponentialDecay
            >>> SGD(ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)).learning_rates(3)
            array([0.1  , 0.05 , 0.025], dtype=float32)
        """
        steps = check_int("steps", steps, 0)
        if isinstance(self.learning_rate, LearningRateSchedule):
            return self.learning_rate_at(np.arange(steps))
        return np.array([self.learning_rate_at(k) for k in range(steps)], dtype=np.float32)

    # ----------------------------------------------------------------- common arguments
    def _clip(self, grads):
        """Keras's ``_clip_gradients``: one of clipnorm, global_clipnorm, clipvalue."""
        if self.clipnorm is not None:
            out = []
            for g in grads:
                l2sum = np.sum(g * g)
                l2norm = np.sqrt(l2sum) if l2sum > 0 else l2sum
                clipnorm = _as_dtype(self.clipnorm, g.dtype)
                out.append(g * clipnorm / np.maximum(l2norm, clipnorm))
            return out
        if self.global_clipnorm is not None:
            dtype = grads[0].dtype
            norm = np.sqrt(np.sum(np.stack([np.sum(g * g) for g in grads]))).astype(dtype)
            with np.errstate(divide="ignore"):
                scale = _as_dtype(self.global_clipnorm, dtype) * np.minimum(
                    dtype.type(1.0) / norm, _as_dtype(1.0 / self.global_clipnorm, dtype))
            scale = scale + (norm - norm)  # NaN when the norm is not finite, as in Keras
            return [g * scale.astype(g.dtype) for g in grads]
        if self.clipvalue is not None:
            return [np.clip(g, -_as_dtype(self.clipvalue, g.dtype), _as_dtype(self.clipvalue, g.dtype))
                    for g in grads]
        return grads

    def _decay(self, w, lr):
        if self.weight_decay is None:
            return w
        return w - w * _via_float32(self.weight_decay, w.dtype) * lr

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The State fields that hold one tree per slot: all but `iterations` and fields with a default.
        cls._slot_fields = tuple(f for f in cls.State._fields[1:] if f not in cls.State._field_defaults)

    def _step_scalars(self, state):
        """Values computed once per step and shared by every leaf's ``_update``: none (Nadam overrides this)."""
        return {}

    # ----------------------------------------------------------------- public API
    def init(self, params):
        """Build the optimizer state for ``params`` (step count 0, initial slots)."""
        params = as_param_tree("params", params)
        per_leaf = [self._init_slots(p) for p in tree_leaves(params)]
        slots = []
        for k in range(len(self._slot_fields)):
            leaves = [s[k] for s in per_leaf]
            slots.append(None if all(x is None for x in leaves) else tree_unflatten(params, leaves))
        return self.State(0, *slots)

    def _checked(self, params, grads, state):
        """Check the arguments of :meth:`step` once; return the step count, params as a tree, and the
        leaves of params, grads and every slot (None for an unused slot)."""
        if type(state) is not self.State and not isinstance(state, self.State):
            raise TypeError(f"`state` must be the {self.State.__name__} returned by "
                            f"{type(self).__name__}.init(params); got {type(state).__name__}.")
        step = state.iterations
        if type(step) is not int or step < 0:
            step = check_int("state.iterations", step, 0)
        slots = state[1:1 + len(self._slot_fields)]
        if (type(params) is np.ndarray and params.dtype.kind == "f" and type(grads) is np.ndarray
                and grads.shape == params.shape
                and all(s is None or (type(s) is np.ndarray and s.shape == params.shape) for s in slots)):
            # One float ndarray, as in the descent loops: the tree checks below would all pass.
            return step, params, [params], [grads], [None if s is None else [s] for s in slots]
        params = as_param_tree("params", params)
        grads = as_param_tree("grads", grads)
        check_same_structure("grads", grads, params)
        for name, s in zip(self._slot_fields, slots):
            if s is not None:
                check_same_structure(f"state.{name}", s, params)
        return (step, params, tree_leaves(params), tree_leaves(grads),
                [None if s is None else tree_leaves(s) for s in slots])

    def step(self, params, grads, state):
        """Apply one update; return ``(new_params, new_state)`` without touching the inputs."""
        step, params, leaves, grad_leaves, slot_leaves = self._checked(params, grads, state)
        lr = self.learning_rate_at(step)
        grad_leaves = self._clip([g.astype(p.dtype, copy=False) for p, g in zip(leaves, grad_leaves)])
        scalars = self._step_scalars(state)
        new_leaves, new_slots = [], []  # new_slots: one tuple of slots per leaf
        for i, (p, g) in enumerate(zip(leaves, grad_leaves)):
            lr_p = lr.astype(p.dtype)
            slots = tuple([None if s is None else s[i] for s in slot_leaves])
            p, slots = self._update(self._decay(p, lr_p), g, slots, lr_p, step, **scalars)
            new_leaves.append(p)
            new_slots.append(slots)
        slot_trees = [None if old is None else tree_unflatten(params, [slots[k] for slots in new_slots])
                      for k, old in enumerate(slot_leaves)]
        return tree_unflatten(params, new_leaves), self.State(step + 1, *slot_trees, **scalars)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


# =========================================================================== SGD
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

    Args:
        learning_rate: a number > 0, or a schedule ``f(step)`` (step 0 for the first update).
        momentum: the fraction of the velocity kept from step to step, in [0, 1]; 0 is plain
            gradient descent (and keeps no velocity).
        nesterov: take the step from the look-ahead point.
        weight_decay: if set, every parameter shrinks by ``w * weight_decay * learning_rate`` before
            the update (>= 0).
        clipnorm, clipvalue, global_clipnorm: clip each gradient to this norm, each element to
            ``[-clipvalue, clipvalue]``, or all gradients together to this global norm (> 0; at most one).

    Examples:
        >>> opt = SGD(learning_rate=0.25, momentum=0.5)
        >>> w = np.array([1.0, -2.0])
        >>> state = opt.init(w)
        >>> w, state = opt.step(w, 2 * w, state)          # the gradient of w**2
        >>> w, state.momentums
        (array([ 0.5, -1. ]), array([-0.5,  1. ]))
    """

    State = SGDState

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.momentum = check_number("momentum", momentum, 0, 1)
        self.nesterov = check_bool("nesterov", nesterov)

    def _init_slots(self, p):
        return (np.zeros_like(p) if self.momentum != 0 else None,)

    def _update(self, w, g, slots, lr, step):
        if self.momentum == 0:
            return w - g * lr, (None,)
        m = _via_float32(self.momentum, w.dtype)
        velocity = slots[0] * m - g * lr
        if self.nesterov:
            return w + (velocity * m - g * lr), (velocity,)
        return w + velocity, (velocity,)


# =========================================================================== Adagrad
class AdagradState(NamedTuple):
    iterations: int
    accumulators: Any    # running sum of squared gradients, starting at initial_accumulator_value


class Adagrad(Optimizer):
    """Per-coordinate step sizes from the sum of all past squared gradients (``tf.keras.optimizers.Adagrad``).

    ::

        accumulator = accumulator + g * g          # starts at initial_accumulator_value
        w = w - (learning_rate * g) / sqrt(accumulator + epsilon)

    Epsilon sits inside the square root.  The step shrinks like ``1/sqrt(t)`` for a steady
    gradient, so Adagrad slows down for good; the accumulator's start value 0.1 keeps the
    first step at ``learning_rate * g / sqrt(0.1 + g**2)`` instead of ``learning_rate``.

    Args:
        learning_rate: a number > 0, or a schedule ``f(step)`` (step 0 for the first update).
        initial_accumulator_value: the accumulator's start value, >= 0.
        epsilon: added inside the square root, >= 0.
        weight_decay: if set, every parameter shrinks by ``w * weight_decay * learning_rate`` before
            the update (>= 0).
        clipnorm, clipvalue, global_clipnorm: clip each gradient to this norm, each element to
            ``[-clipvalue, clipvalue]``, or all gradients together to this global norm (> 0; at most one).

    Examples:
        >>> opt = Adagrad(learning_rate=0.5)
        >>> w = np.array([1.0, -2.0])
        >>> w, state = opt.step(w, 2 * w, opt.init(w))
        >>> state.accumulators                            # 0.1 + g**2
        array([ 4.1, 16.1])
    """

    State = AdagradState

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.initial_accumulator_value = check_number("initial_accumulator_value", initial_accumulator_value, 0)
        self.epsilon = check_number("epsilon", epsilon, 0)

    def _init_slots(self, p):
        return (np.full_like(p, _via_float32(self.initial_accumulator_value, p.dtype)),)

    def _update(self, w, g, slots, lr, step):
        acc = slots[0] + g * g
        return w - (lr * g) / np.sqrt(acc + _as_dtype(self.epsilon, w.dtype)), (acc,)


# =========================================================================== RMSprop
class RMSpropState(NamedTuple):
    iterations: int
    velocities: Any          # moving average of g**2
    momentums: Any           # None unless momentum > 0
    average_gradients: Any   # moving average of g; None unless centered


class RMSprop(Optimizer):
    """Divide by a moving root-mean-square of the gradient (``tf.keras.optimizers.RMSprop``).

    ::

        velocity = rho * velocity + (1 - rho) * (g * g)
        denominator = velocity + epsilon                        # centered=False
        denominator = velocity - average_grad**2 + epsilon      # centered=True, where
        #   average_grad = rho * average_grad + (1 - rho) * g  (a variance estimate)
        increment = (learning_rate * g) / sqrt(denominator)
        momentum_buf = momentum * momentum_buf + increment      # only if momentum > 0
        w = w - momentum_buf                                    # or w - increment

    Epsilon sits inside the square root.  There is no bias correction: the velocity
    starts at 0, so the first steps are larger than later ones (``1/sqrt(1 - rho)``, about
    3.16 times ``learning_rate`` for the first step with rho = 0.9).

    Args:
        learning_rate: a number > 0, or a schedule ``f(step)`` (step 0 for the first update).
        rho: the decay of the moving average of ``g**2``, in [0, 1].
        momentum: the momentum applied to the increments, in [0, 1]; 0 keeps no momentum buffer.
        epsilon: added inside the square root, >= 0.
        centered: divide by an estimate of the variance of ``g`` instead of its mean square.
        weight_decay: if set, every parameter shrinks by ``w * weight_decay * learning_rate`` before
            the update (>= 0).
        clipnorm, clipvalue, global_clipnorm: clip each gradient to this norm, each element to
            ``[-clipvalue, clipvalue]``, or all gradients together to this global norm (> 0; at most one).

    Examples:
        >>> opt = RMSprop(learning_rate=0.25)
        >>> w = np.array([1.0, -2.0])
        >>> w, state = opt.step(w, 2 * w, opt.init(w))
        >>> state.velocities                              # (1 - rho) * g**2
        array([0.4, 1.6])
        >>> np.round(w, 4)                                # each moved by 0.25 / sqrt(0.1)
        array([ 0.2094, -1.2094])
    """

    State = RMSpropState

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho = check_number("rho", rho, 0, 1)
        self.momentum = check_number("momentum", momentum, 0, 1)
        self.epsilon = check_number("epsilon", epsilon, 0)
        self.centered = check_bool("centered", centered)

    def _init_slots(self, p):
        z = np.zeros_like
        return (z(p), z(p) if self.momentum > 0 else None, z(p) if self.centered else None)

    def _update(self, w, g, slots, lr, step):
        velocity, mom, avg = slots
        d = w.dtype
        velocity = _as_dtype(self.rho, d) * velocity + _as_dtype(1 - self.rho, d) * (g * g)
        if self.centered:
            avg = _as_dtype(self.rho, d) * avg + _as_dtype(1 - self.rho, d) * g
            denominator = velocity - avg * avg + _as_dtype(self.epsilon, d)
        else:
            denominator = velocity + _as_dtype(self.epsilon, d)
        increment = (lr * g) / np.sqrt(denominator)
        if self.momentum > 0:
            mom = _as_dtype(self.momentum, d) * mom + increment
            return w - mom, (velocity, mom, avg)
        return w - increment, (velocity, mom, avg)


# =========================================================================== Adadelta
class AdadeltaState(NamedTuple):
    iterations: int
    accumulated_grads: Any       # moving average of g**2
    accumulated_delta_vars: Any  # moving average of (step before learning_rate)**2


class Adadelta(Optimizer):
    """Step sizes in the units of the parameter (``tf.keras.optimizers.Adadelta``).

    ::

        accumulated_grad = rho * accumulated_grad + (1 - rho) * (g * g)
        delta = -(sqrt(accumulated_delta + epsilon) * g) / sqrt(accumulated_grad + epsilon)
        accumulated_delta = rho * accumulated_delta + (1 - rho) * (delta * delta)
        w = w + learning_rate * delta

    The paper (Zeiler 2012) has no learning rate, i.e. ``learning_rate = 1``; Keras's
    default is 0.001, so with the defaults Adadelta moves very slowly.

    Args:
        learning_rate: a number > 0, or a schedule ``f(step)`` (step 0 for the first update).
        rho: the decay of both moving averages, in [0, 1].
        epsilon: added inside both square roots, >= 0.
        weight_decay: if set, every parameter shrinks by ``w * weight_decay * learning_rate`` before
            the update (>= 0).
        clipnorm, clipvalue, global_clipnorm: clip each gradient to this norm, each element to
            ``[-clipvalue, clipvalue]``, or all gradients together to this global norm (> 0; at most one).

    Examples:
        >>> opt = Adadelta(learning_rate=1.0)
        >>> w = np.array([1.0, -2.0])
        >>> w, state = opt.step(w, 2 * w, opt.init(w))
        >>> np.round(w, 4)                                # the first steps are tiny
        array([ 0.9986, -1.9986])
    """

    State = AdadeltaState

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho = check_number("rho", rho, 0, 1)
        self.epsilon = check_number("epsilon", epsilon, 0)

    def _init_slots(self, p):
        return np.zeros_like(p), np.zeros_like(p)

    def _update(self, w, g, slots, lr, step):
        acc_g, acc_d = slots
        d = w.dtype
        rho, one_minus_rho, eps = _as_dtype(self.rho, d), _as_dtype(1 - self.rho, d), _as_dtype(self.epsilon, d)
        acc_g = rho * acc_g + one_minus_rho * (g * g)
        delta = -((np.sqrt(acc_d + eps) * g) / np.sqrt(acc_g + eps))
        acc_d = rho * acc_d + one_minus_rho * (delta * delta)
        return w + lr * delta, (acc_g, acc_d)


# =========================================================================== Adam, AdamW
class AdamState(NamedTuple):
    iterations: int
    momentums: Any       # m: moving average of g
    velocities: Any      # v: moving average of g**2
    velocity_hats: Any   # running maximum of v; None unless amsgrad


def _check_beta(name, value):
    return check_number(name, value, 0, 1, high_open=True)


class Adam(Optimizer):
    """Momentum plus RMSprop plus bias correction (``tf.keras.optimizers.Adam``).

    With ``t = iterations + 1`` (the first update has t = 1)::

        alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m = m + (g - m) * (1 - beta_1)          # = beta_1*m + (1-beta_1)*g
        v = v + (g * g - v) * (1 - beta_2)
        v_hat = maximum(v_hat, v); v = v_hat    # only if amsgrad
        w = w - (m * alpha) / (sqrt(v) + epsilon)

    Keras folds both bias corrections into ``alpha`` and adds epsilon *outside* the square
    root, to the uncorrected ``sqrt(v)``.  The paper's form divides by
    ``sqrt(v / (1 - beta_2**t)) + epsilon`` instead; the two differ only in how much epsilon
    weighs (the paper's "epsilon hat" remark), which matters when ``v`` is tiny.

    Args:
        learning_rate: a number > 0, or a schedule ``f(step)`` (step 0 for the first update).
        beta_1: the decay of the moving average of ``g``, in [0, 1).
        beta_2: the decay of the moving average of ``g**2``, in [0, 1).
        epsilon: added outside the square root, >= 0.
        amsgrad: divide by the running maximum of ``v`` (AMSGrad).
        weight_decay: if set, every parameter shrinks by ``w * weight_decay * learning_rate`` before
            the update (>= 0).
        clipnorm, clipvalue, global_clipnorm: clip each gradient to this norm, each element to
            ``[-clipvalue, clipvalue]``, or all gradients together to this global norm (> 0; at most one).

    Examples:
        >>> opt = Adam(learning_rate=0.25)
        >>> w = np.array([1.0, -2.0])
        >>> w, state = opt.step(w, 2 * w, opt.init(w))
        >>> np.round(w, 4)                                # the first step is learning_rate * sign(g)
        array([ 0.75, -1.75])
    """

    State = AdamState

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1 = _check_beta("beta_1", beta_1)
        self.beta_2 = _check_beta("beta_2", beta_2)
        self.epsilon = check_number("epsilon", epsilon, 0)
        self.amsgrad = check_bool("amsgrad", amsgrad)

    def _init_slots(self, p):
        return np.zeros_like(p), np.zeros_like(p), (np.zeros_like(p) if self.amsgrad else None)

    def _update(self, w, g, slots, lr, step):
        m, v, v_hat = slots
        d = w.dtype
        beta_1_power = tf_pow(_via_float32(self.beta_1, d), step + 1, d)
        beta_2_power = tf_pow(_via_float32(self.beta_2, d), step + 1, d)
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m = m + (g - m) * _as_dtype(1 - self.beta_1, d)
        v = v + (g * g - v) * _as_dtype(1 - self.beta_2, d)
        denom_v = v
        if self.amsgrad:
            v_hat = np.maximum(v_hat, v)
            denom_v = v_hat
        return w - (m * alpha) / (np.sqrt(denom_v) + _as_dtype(self.epsilon, d)), (m, v, v_hat)


class AdamW(Adam):
    """Adam with decoupled weight decay (``tf.keras.optimizers.AdamW``; Loshchilov & Hutter).

    Before every Adam update (see :class:`Adam`), each parameter is shrunk directly::

        w = w - w * weight_decay * learning_rate
        ... then the Adam update of w with the unchanged gradient g

    This is not L2 regularisation: adding ``weight_decay * w`` to the gradient would pass the
    decay through Adam's division by ``sqrt(v)``; here every weight shrinks by the same factor.

    Args:
        learning_rate: a number > 0, or a schedule ``f(step)`` (step 0 for the first update).
        weight_decay: every parameter shrinks by ``w * weight_decay * learning_rate`` before the
            Adam update, >= 0 (AdamW needs one).
        beta_1, beta_2, epsilon, amsgrad: as for :class:`Adam`.
        clipnorm, clipvalue, global_clipnorm: clip each gradient to this norm, each element to
            ``[-clipvalue, clipvalue]``, or all gradients together to this global norm (> 0; at most one).

    Examples:
        >>> opt = AdamW(learning_rate=0.25, weight_decay=0.5)
        >>> w = np.array([1.0, -2.0])
        >>> w, state = opt.step(w, 2 * w, opt.init(w))
        >>> np.round(w, 4)                                # shrunk by 1 - 0.5 * 0.25, then Adam's step
        array([ 0.625, -1.5  ])
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None):
        if weight_decay is None:
            raise ValueError("`weight_decay` must be a float in [0, inf) for AdamW; got None.")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm)


# =========================================================================== Adamax
class AdamaxState(NamedTuple):
    iterations: int
    momentums: Any   # m: moving average of g
    norms: Any       # u: exponentially weighted infinity norm, max(beta_2*u, |g|)


class Adamax(Optimizer):
    """Adam with the infinity norm in place of the root mean square (``tf.keras.optimizers.Adamax``).

    With ``t = iterations + 1``::

        m = m + (g - m) * (1 - beta_1)
        u = maximum(beta_2 * u, abs(g))
        w = w - (learning_rate * m) / ((1 - beta_1**t) * (u + epsilon))

    ``u`` needs no bias correction: a maximum is not pulled towards its zero start.

    Args:
        learning_rate: a number > 0, or a schedule ``f(step)`` (step 0 for the first update).
        beta_1: the decay of the moving average of ``g``, in [0, 1).
        beta_2: the decay of the infinity norm ``u``, in [0, 1).
        epsilon: added to ``u``, >= 0.
        weight_decay: if set, every parameter shrinks by ``w * weight_decay * learning_rate`` before
            the update (>= 0).
        clipnorm, clipvalue, global_clipnorm: clip each gradient to this norm, each element to
            ``[-clipvalue, clipvalue]``, or all gradients together to this global norm (> 0; at most one).

    Examples:
        >>> opt = Adamax(learning_rate=0.25)
        >>> w = np.array([1.0, -2.0])
        >>> w, state = opt.step(w, 2 * w, opt.init(w))
        >>> state.norms                                   # u = |g| after the first step
        array([2., 4.])
        >>> np.round(w, 4)
        array([ 0.75, -1.75])
    """

    State = AdamaxState

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1 = _check_beta("beta_1", beta_1)
        self.beta_2 = _check_beta("beta_2", beta_2)
        self.epsilon = check_number("epsilon", epsilon, 0)

    def _init_slots(self, p):
        return np.zeros_like(p), np.zeros_like(p)

    def _update(self, w, g, slots, lr, step):
        m, u = slots
        d = w.dtype
        beta_1_power = tf_pow(_via_float32(self.beta_1, d), step + 1, d)
        m = m + (g - m) * _as_dtype(1 - self.beta_1, d)
        u = np.maximum(_as_dtype(self.beta_2, d) * u, np.abs(g))
        return w - (lr * m) / ((1 - beta_1_power) * (u + _as_dtype(self.epsilon, d))), (m, u)


# =========================================================================== Nadam
class NadamState(NamedTuple):
    iterations: int
    momentums: Any     # m: moving average of g
    velocities: Any    # v: moving average of g**2
    u_product: Any = None  # product of the momentum schedule u_1 * ... * u_t: one scalar for all parameters


class Nadam(Optimizer):
    """Adam with Nesterov momentum and Dozat's momentum schedule (``tf.keras.optimizers.Nadam``).

    With ``t = iterations + 1`` and the schedule ``u_t = beta_1 * (1 - 0.5 * 0.96**t)``::

        u_product = u_product * u_t                # one scalar shared by all parameters
        m = m + (g - m) * (1 - beta_1)
        v = v + (g * g - v) * (1 - beta_2)
        m_hat = (u_{t+1} * m) / (1 - u_product * u_{t+1}) + ((1 - u_t) * g) / (1 - u_product)
        v_hat = v / (1 - beta_2**t)
        w = w - (m_hat * learning_rate) / (sqrt(v_hat) + epsilon)

    ``m_hat`` is the Nesterov look-ahead: the next step's momentum plus this step's gradient,
    each with its own bias correction.  Epsilon sits outside the square root.

    Args:
        learning_rate: a number > 0, or a schedule ``f(step)`` (step 0 for the first update).
        beta_1: the momentum's decay, scaled by the schedule ``u_t``, in [0, 1).
        beta_2: the decay of the moving average of ``g**2``, in [0, 1).
        epsilon: added outside the square root, >= 0.
        weight_decay: if set, every parameter shrinks by ``w * weight_decay * learning_rate`` before
            the update (>= 0).
        clipnorm, clipvalue, global_clipnorm: clip each gradient to this norm, each element to
            ``[-clipvalue, clipvalue]``, or all gradients together to this global norm (> 0; at most one).

    Examples:
        >>> opt = Nadam(learning_rate=0.25)
        >>> w = np.array([1.0, -2.0])
        >>> w, state = opt.step(w, 2 * w, opt.init(w))
        >>> float(state.u_product)                        # u_1 = 0.9 * (1 - 0.5 * 0.96)
        0.468
        >>> np.round(w, 4)
        array([ 0.7343, -1.7343])
    """

    State = NadamState

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1 = _check_beta("beta_1", beta_1)
        self.beta_2 = _check_beta("beta_2", beta_2)
        self.epsilon = check_number("epsilon", epsilon, 0)

    def _init_slots(self, p):
        return np.zeros_like(p), np.zeros_like(p)

    def init(self, params):
        params = as_param_tree("params", params)
        first = tree_leaves(params)[0]  # Keras keeps u_product in the first parameter's dtype
        return super().init(params)._replace(u_product=_as_dtype(1.0, first.dtype))

    def _step_scalars(self, state):
        """The hook only Nadam uses: this step's ``u_product``, computed once for all parameters."""
        if state.u_product is None:
            raise TypeError("`state.u_product` is None: build the state with Nadam.init(params).")
        u = np.asarray(state.u_product)
        d = u.dtype
        u_t = 1 - _as_dtype(0.5, d) * tf_pow(_as_dtype(0.96, d), state.iterations + 1, d)
        return {"u_product": u * _as_dtype(self.beta_1, d) * u_t}

    def _update(self, w, g, slots, lr, step, u_product):
        m, v = slots
        d = w.dtype
        decay, beta_1, beta_2 = _via_float32(0.96, d), _via_float32(self.beta_1, d), _via_float32(self.beta_2, d)
        u_t = beta_1 * (1 - _as_dtype(0.5, d) * tf_pow(decay, step + 1, d))
        u_t_1 = beta_1 * (1 - _as_dtype(0.5, d) * tf_pow(decay, step + 2, d))
        u_product_t = u_product.astype(d)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = tf_pow(beta_2, step + 1, d)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g * g - v) * (1 - beta_2)
        m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
        v_hat = v / (1 - beta_2_power)
        return w - (m_hat * lr) / (np.sqrt(v_hat) + _as_dtype(self.epsilon, d)), (m, v)


# =========================================================================== by name
_BY_NAME = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adadelta": Adadelta, "adam": Adam,
            "adamw": AdamW, "adamax": Adamax, "nadam": Nadam}


def get(identifier):
    """``get("adam")`` is ``Adam()`` with Keras's defaults, as ``model.compile(optimizer="adam")``."""
    if isinstance(identifier, Optimizer):
        return identifier
    if not isinstance(identifier, str) or identifier.lower() not in _BY_NAME:
        raise ValueError(f"`identifier` must be an optimizer or one of {sorted(_BY_NAME)}; got {identifier!r}.")
    return _BY_NAME[identifier.lower()]()
