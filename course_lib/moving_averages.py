"""Exponential moving averages: the twin of ``tf.train.ExponentialMovingAverage``, the
Keras optimizers' ``use_ema`` average, and the plain (bias-corrected) average of a series.

The TensorFlow average keeps a *shadow* copy of every variable, with explicit state here::

    ema = ExponentialMovingAverage(decay=0.99)
    state = ema.init(params)                          # shadow = a copy of params
    state = ema.apply(params, state, num_updates=k)   # after every training step
    averaged = ema.average(state)

Each ``apply`` moves the shadow towards the current value, in TensorFlow's form::

    decay = min(decay, (1 + num_updates) / (10 + num_updates))   # only if num_updates is given
    shadow -= (shadow - value) * (1 - decay)                      # = decay*shadow + (1-decay)*value

Details that follow TensorFlow rather than the textbook:

* The shadow starts as a *copy of the variable* (not zeros), so it has no start-up bias.
* ``decay`` and the ``num_updates`` rule are computed in float32 (TensorFlow converts them
  with ``dtype=float32``); ``1 - decay`` is then cast to the variable's dtype, so even a
  float64 variable sees ``1 - float32(0.99) = 0.0099999904...``.
* ``num_updates`` is read at every ``apply``.  TensorFlow reads whatever the object given to
  the constructor holds *now*: a ``tf.Variable`` step advances, a Python int stays frozen.
  Here a fixed count may be given to the constructor, and the current step to ``apply``.

Keras optimizers built with ``use_ema=True`` keep a different average (see
:func:`keras_ema_update`): no ``num_updates`` ramp, the first step copies the weights,
and the textbook form ``m*average + (1-m)*value`` is evaluated.  The two agree to rounding.
"""

from typing import Any, NamedTuple

import numpy as np

from .core import (
    as_param_tree,
    check_bool,
    check_int,
    check_number,
    check_same_structure,
    tree_index,
    tree_leaves,
    tree_map,
    tree_stack,
    tree_unflatten,
)

__all__ = ["effective_decay", "ema_step", "ExponentialMovingAverage", "EMAState",
           "average_trajectory", "keras_ema_update", "apply_gradients_with_ema",
           "moving_average", "effective_window", "noisy_series", "explore_decay",
           "DecayExploration"]


# --------------------------------------------------------------------------- one step
def effective_decay(decay, num_updates=None):
    """The decay ``tf.train.ExponentialMovingAverage`` uses, as a float32.

    Without ``num_updates`` it is ``decay``; with it, ``min(decay, (1 + n) / (10 + n))``,
    which is 0.1 at n = 0, 0.5 at n = 8 and reaches 0.99 only at n = 890: early averages
    forget quickly.  Both are evaluated in float32, as TensorFlow does.
    """
    decay = check_number("decay", decay, 0, 1)
    d = np.float32(decay)
    if num_updates is None:
        return d
    n = np.float32(check_number("num_updates", num_updates, 0))
    return np.minimum(d, (np.float32(1.0) + n) / (np.float32(10.0) + n))


def ema_step(shadow, value, decay):
    """One update of a shadow array, in TensorFlow's form and in the shadow's dtype::

        shadow - (shadow - value) * (1 - decay)

    ``1 - decay`` is computed in float32 and then cast, as TensorFlow does.  Returns a new
    array; ``shadow`` is not modified.
    """
    shadow = np.asarray(shadow)
    if not np.issubdtype(shadow.dtype, np.floating):
        shadow = shadow.astype(np.float64)
    value = np.asarray(value)
    if value.shape != shadow.shape:
        raise ValueError(f"`value` must have the shape of `shadow` {shadow.shape}; got shape {value.shape}.")
    one_minus = (np.float32(1.0) - np.float32(check_number("decay", decay, 0, 1))).astype(shadow.dtype)
    return shadow - (shadow - value.astype(shadow.dtype)) * one_minus


# --------------------------------------------------------------------------- the class
class EMAState(NamedTuple):
    count: int      # how many times `apply` has run
    shadow: Any     # the moving averages, same structure and dtypes as the variables
    biased: Any     # zero_debias only: the average before dividing by 1 - decay**count; else None


class ExponentialMovingAverage:
    """The twin of ``tf.train.ExponentialMovingAverage(decay, num_updates=None, zero_debias=False)``.

    ``init(var_list)`` copies the variables into the shadow (TensorFlow initialises a
    variable's shadow from the variable's value).  ``apply(var_list, state, num_updates=None)``
    returns the new state::

        d = decay                                    # as float32
        if num_updates is not None:                  # given to apply, else to the constructor
            d = min(d, (1 + num_updates) / (10 + num_updates))
        shadow = shadow - (shadow - value) * (1 - d) # in the variable's dtype

    ``zero_debias=True`` reproduces what TensorFlow does for *tensors* (not variables) in a
    TF1 graph: the shadow starts at zero, a ``biased`` average is kept, and the shadow is
    ``biased / (1 - d**count)``, Adam's correction.  (TensorFlow ignores ``zero_debias`` for
    ``tf.Variable`` inputs, which is every input in eager TF2.)
    """

    def __init__(self, decay, num_updates=None, zero_debias=False, name="ExponentialMovingAverage"):
        self.decay = check_number("decay", decay, 0, 1)
        self.num_updates = None if num_updates is None else check_int("num_updates", num_updates, 0)
        self.zero_debias = check_bool("zero_debias", zero_debias)
        if not isinstance(name, str):
            raise TypeError(f"`name` must be a string; got {type(name).__name__} {name!r}.")
        self.name = name

    def decay_at(self, num_updates=None):
        """The decay an ``apply`` with this ``num_updates`` uses (float32)."""
        n = self.num_updates if num_updates is None else num_updates
        return effective_decay(self.decay, n)

    def init(self, var_list):
        """The starting state: the shadow is a copy of ``var_list`` (zeros with ``zero_debias``)."""
        var_list = as_param_tree("var_list", var_list)
        if self.zero_debias:
            return EMAState(0, tree_map(np.zeros_like, var_list), tree_map(np.zeros_like, var_list))
        return EMAState(0, tree_map(np.copy, var_list), None)

    def apply(self, var_list, state, num_updates=None):
        """Move every shadow towards the current value of its variable; return the new state."""
        if not isinstance(state, EMAState):
            raise TypeError("`state` must be the EMAState returned by "
                            f"ExponentialMovingAverage.init(var_list); got {type(state).__name__}.")
        var_list = as_param_tree("var_list", var_list)
        check_same_structure("var_list", var_list, state.shadow, like_name="state.shadow")
        if num_updates is not None:
            num_updates = check_int("num_updates", num_updates, 0)
        d = self.decay_at(num_updates)
        count = state.count + 1
        if not self.zero_debias:
            shadow = tree_map(lambda s, v: ema_step(s, v, d), state.shadow, var_list)
            return EMAState(count, shadow, None)
        biased_leaves, shadow_leaves = [], []
        for b, v in zip(tree_leaves(state.biased), tree_leaves(var_list), strict=True):
            one_minus = (np.float32(1.0) - d).astype(b.dtype)
            b = b - (b - v.astype(b.dtype)) * one_minus
            # TensorFlow recovers the decay as 1 - (1 - d) in the variable's dtype.
            bias_factor = 1 - (1 - one_minus) ** b.dtype.type(count)
            biased_leaves.append(b)
            shadow_leaves.append(b / bias_factor)
        return EMAState(count, tree_unflatten(state.shadow, shadow_leaves),
                        tree_unflatten(state.shadow, biased_leaves))

    def average(self, state):
        """The moving averages held by ``state`` (TensorFlow: ``ema.average(var)``)."""
        return state.shadow

    def __repr__(self):
        return (f"ExponentialMovingAverage(decay={self.decay!r}, num_updates={self.num_updates!r}, "
                f"zero_debias={self.zero_debias!r})")


def average_trajectory(ema, params, num_updates=None):
    """The shadow after every point of a recorded trajectory, stacked like ``params``.

    ``params`` holds parameters stacked on a leading axis (``Trajectory.params`` from
    :mod:`course_lib.descent`).  Index 0 of the result is ``ema.init(params[0])``; index k is
    the shadow after ``apply(params[k], num_updates=num_updates[k-1])``.  ``num_updates`` is
    None (use the EMA's own setting) or one count per update, e.g. ``range(1, n)`` when the
    step counter has already been incremented, as ``optimizer.iterations`` has.
    """
    params = as_param_tree("params", params)
    n = len(tree_leaves(params)[0])
    if num_updates is not None:
        num_updates = list(num_updates)
        if len(num_updates) != n - 1:
            raise ValueError(f"`num_updates` must give one count per update ({n - 1}); "
                             f"got {len(num_updates)}.")
    state = ema.init(tree_index(params, 0))
    shadows = [ema.average(state)]
    for k in range(1, n):
        state = ema.apply(tree_index(params, k), state, None if num_updates is None else num_updates[k - 1])
        shadows.append(ema.average(state))
    return tree_stack(shadows)


# --------------------------------------------------------------------------- Keras's use_ema
def keras_ema_update(average, variables, ema_momentum=0.99, iterations=0):
    """The average a Keras optimizer with ``use_ema=True`` keeps, after one training step.

    Keras (``BaseOptimizer._update_model_variables_moving_average``) runs, after updating
    the weights and before incrementing ``iterations``::

        momentum = float(iterations != 0) * ema_momentum   # 0 at the first step: a copy
        average = momentum * average + (1 - momentum) * variable

    in each variable's dtype.  Returns the new average (inputs are not modified).
    """
    ema_momentum = check_number("ema_momentum", ema_momentum, 0, 1)
    iterations = check_int("iterations", iterations, 0)
    variables = as_param_tree("variables", variables)
    average = as_param_tree("average", average)
    check_same_structure("average", average, variables, like_name="variables")

    def one(a, v):
        m = v.dtype.type(iterations != 0) * v.dtype.type(ema_momentum)
        return m * a.astype(v.dtype) + (1 - m) * v
    return tree_map(one, average, variables)


def apply_gradients_with_ema(optimizer, params0, grad_fn, steps, ema_momentum=0.99,
                             ema_overwrite_frequency=None):
    """A course_lib optimizer run as a Keras optimizer built with ``use_ema=True``.

    Each step: ``params = optimizer.step(params, grad_fn(params))``; then the average is
    updated by :func:`keras_ema_update`; then, if ``ema_overwrite_frequency`` is set and
    the step number (counting from 1) is a multiple of it, the weights are replaced by the
    average, as Keras does.  Returns ``(params, averages)``, each stacked on a leading
    axis with the starting point at index 0 (where the average is the starting weights;
    Keras creates it as zeros, but the first step overwrites it).
    """
    steps = check_int("steps", steps, 0)
    if ema_overwrite_frequency is not None:
        ema_overwrite_frequency = check_int("ema_overwrite_frequency", ema_overwrite_frequency, 1)
    params = as_param_tree("params0", params0)
    state = optimizer.init(params)
    average = tree_map(np.copy, params)
    history, averages = [params], [average]
    for it in range(steps):
        params, state = optimizer.step(params, grad_fn(params), state)
        average = keras_ema_update(average, params, ema_momentum, it)
        if ema_overwrite_frequency and (it + 1) % ema_overwrite_frequency == 0:
            params = tree_map(np.copy, average)
        history.append(params)
        averages.append(average)
    return tree_stack(history), tree_stack(averages)


# --------------------------------------------------------------------------- series
def moving_average(series, decay, bias_correction=False):
    """The exponential moving average of a series (along axis 0), started at zero::

        v[0] = 0
        v[t] = decay * v[t-1] + (1 - decay) * x[t]        for t = 1 .. T
        v[t] / (1 - decay**t)                               if bias_correction

    Started at zero the average is pulled towards 0 for the first ~1/(1-decay) steps;
    dividing by ``1 - decay**t`` removes that pull exactly (it is Adam's correction, with
    t counted from 1).  Returns ``v[1..T]`` as float64, shaped like ``series``.
    """
    decay = check_number("decay", decay, 0, 1)
    bias_correction = check_bool("bias_correction", bias_correction)
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"`series` must be a non-empty sequence; got shape {x.shape}.")
    if bias_correction and decay == 1:
        raise ValueError("`decay` must be below 1 for bias_correction (1 - decay**t would be 0).")
    out = np.empty_like(x)
    v = np.zeros_like(x[0])
    for t in range(len(x)):
        v = decay * v + (1 - decay) * x[t]
        out[t] = v
    if bias_correction:
        t = np.arange(1, len(x) + 1).reshape((-1,) + (1,) * (x.ndim - 1))
        out = out / (1 - decay ** t)
    return out


def effective_window(decay):
    """``1 / (1 - decay)``: roughly how many recent values an EMA averages (inf at decay 1)."""
    decay = check_number("decay", decay, 0, 1)
    return np.inf if decay == 1 else 1.0 / (1.0 - decay)


def noisy_series(n=200, noise=1.0, seed=0):
    """A seeded noisy signal: ``signal = 5 + 2 sin(2 pi t / n)`` plus ``N(0, noise)``.

    Returns ``(signal, series)``, float64 arrays of length ``n``.  The signal is far from 0,
    so an average started at zero is visibly biased at first.
    """
    n = check_int("n", n, 2)
    noise = check_number("noise", noise, 0)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    t = np.arange(n)
    signal = 5.0 + 2.0 * np.sin(2 * np.pi * t / n)
    return signal, signal + rng.normal(0.0, noise, n)


class DecayExploration(NamedTuple):
    steps: np.ndarray         # 1 .. n
    signal: np.ndarray        # the clean signal
    series: np.ndarray        # signal + noise
    ema: np.ndarray           # started at zero
    ema_corrected: np.ndarray # started at zero, divided by 1 - decay**t
    ema_tf: np.ndarray        # started at the first value, as TensorFlow's shadow
    window: float             # 1 / (1 - decay)
    errors: dict              # mean absolute error against the signal, per curve
    verdict: str


def explore_decay(decay=0.9, noise=1.0, n=200, seed=0):
    """Everything the decay explorer draws, for one setting (pure; no plotting)."""
    decay = check_number("decay", decay, 0, 1)
    signal, series = noisy_series(n, noise, seed)
    ema = moving_average(series, decay)
    corrected = moving_average(series, decay, bias_correction=True) if decay < 1 else ema
    ema_tf = average_trajectory(ExponentialMovingAverage(decay), series.astype(np.float64))
    window = effective_window(decay)
    errors = {name: float(np.mean(np.abs(curve - signal)))
              for name, curve in (("raw", series), ("ema", ema), ("corrected", corrected), ("tf", ema_tf))}
    early = min(5, n) - 1
    verdict = (f"decay {decay:.4g}: window about {window:.4g} steps. At step {early + 1} the zero-started "
               f"average is {ema[early]:.3f}, corrected {corrected[early]:.3f}, signal {signal[early]:.3f}. "
               f"Mean error vs signal: raw {errors['raw']:.3f}, EMA {errors['ema']:.3f}, "
               f"corrected {errors['corrected']:.3f}.")
    return DecayExploration(np.arange(1, n + 1), signal, series, ema, corrected, ema_tf, window, errors,
                            verdict)
