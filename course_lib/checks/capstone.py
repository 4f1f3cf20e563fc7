"""Checks for the exercises of lesson 10, the capstone.

The checks of exercises 1 to 3 train fresh copies of the lesson's Keras MLP (``training.build_mlp``)
on a few batches of the digits, once with the student's code and once with the matching
``tf.keras.optimizers`` optimizer (and ``tf.train.ExponentialMovingAverage``), and compare the
weights (exercise 1 also the loss returned, exercise 2 also the learning rate at steps 0 to 400).
When they differ, typical wrong versions are run the same way to name the mistake.  Exercise 4's
check evaluates models with given weights and compares the accuracy with ``training.evaluate``, and
checks that the model's own weights are back afterwards.  Exercise 5 (the mean and standard error
over seeds) is a plain numpy function, checked with :func:`course_lib.checks.check_function` and a
catalogue of typical mistakes.
"""

import functools
import os

import numpy as np

from .. import training
from ..moving_averages import ExponentialMovingAverage
from ..optimizers import SGD, Adam, RMSprop
from ..schedules import CosineDecay, ExponentialDecay
from . import (
    CheckFailed,
    Mistake,
    NotAttempted,
    check_function,
    check_prediction,
    describe,
    exception_hint,
    failure_message,
)
from .moving_average import NUM_UPDATES_FROM_0

__all__ = ["check_train_step", "check_optimizer_twin", "check_train_with_ema", "check_evaluate_with", "L2",
           "SWAPPED_LOSS_ARGUMENTS", "REFERENCES_NOT_COPIES",
           "KERAS_SCHEDULE_ARGS", "KERAS_MOMENTUM", "NUM_UPDATES_FROM_0", "check_schedule_prediction",
           "check_first_average_prediction", "check_mean_and_standard_error", "check_more_seeds_prediction"]

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # course_lib's folder
TOL = 1e-5  # the student's gradients come from an eager tape, ours from a tf.function: rounding only
_DATA = None


def _data():
    global _DATA
    if _DATA is None:
        _DATA = training.load_digits(seed=0)
    return _DATA


def _batches(steps, seed=0):
    d = _data()
    return [(d.x_train[i], d.y_train[i]) for i in training.batches(len(d.x_train), 32, steps, seed)]


def _fail(text, hint=None, details=()):
    raise CheckFailed(failure_message(text, hint, details), hint) from None


def _unwritten(exc, name):
    """The name of the student's function that still raises NotImplementedError (``name`` or one it calls)."""
    tb, where = exc.__traceback__, name
    while tb is not None:
        code = tb.tb_frame.f_code
        library = code.co_filename.startswith(_HERE) or "-packages" in code.co_filename
        if code.co_name not in ("<lambda>", "<module>") and not library:
            where = code.co_name
        tb = tb.tb_next
    return where


def _call(fn, name, *args, crash_hints=None):
    """Call the student's function; turn crashes into one sentence, with a hint when the cause is typical."""
    if not callable(fn):
        _fail(f"`{name}` should be a function, but it is {type(fn).__name__} {describe(fn)}.")
    try:
        return fn(*args)
    except NotImplementedError as exc:
        where = _unwritten(exc, name)
        text = f"`{where}` is not written yet" + (f" (`{name}` calls it)" if where != name else "")
        raise NotAttempted(f"{text}: replace `raise NotImplementedError()` with your code, "
                           "then run this check again.") from None
    except (CheckFailed, NotAttempted):
        raise
    except Exception as exc:
        what = f"{type(exc).__name__}: {_short(str(exc))}"
        hint = next((h for words, h in (crash_hints or {}).items() if words in str(exc)), None) or exception_hint(exc)
        if hint:
            _fail(f"`{name}` raised {type(exc).__name__}", hint, [("what", what)])
        _fail(f"`{name}` raised {what}")


def _short(text, limit=200):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 4] + " ..."


def _weight_list(value, what, like):
    """``value`` as a list of float arrays shaped like ``like``, or a CheckFailed sentence."""
    if value is None:
        _fail(f"{what} is None. Did you forget the `return` statement?")
    if not isinstance(value, (list, tuple)) or len(value) != len(like):
        _fail(f"{what} should be a list of {len(like)} arrays (kernel and bias of each layer, like "
              f"`[v.numpy() for v in model.trainable_variables]`); got {type(value).__name__} {describe(value)}.")
    out = []
    for i, (v, ref) in enumerate(zip(value, like)):
        arr = np.asarray(v.numpy() if hasattr(v, "numpy") else v)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or arr.shape != np.shape(ref):
            _fail(f"{what}: item {i} should be an array of shape {np.shape(ref)}; got {describe(arr)}.")
        out.append(arr)
    return out


def _close(a, b):
    return training.max_difference(a, b) <= TOL


def _judge(got, expected, wrong, what, noun="the weights", whose="Keras's"):
    """Compare weight lists; on a mismatch name the first mistake whose weights match.

    ``wrong`` holds ``(weights, hint)`` pairs; ``weights`` may be a function that computes them,
    so that a wrong version is trained only when the answer is wrong.
    """
    if _close(got, expected):
        return
    hint = None
    for weights, text in wrong:
        weights = weights() if callable(weights) else weights
        if weights is not None and _close(got, weights):
            hint = text
            break
    _fail(f"{what}: {noun} differ from {whose} by up to {training.max_difference(got, expected):.3g} "
          f"(allowed {TOL:g}).", hint)


# --------------------------------------------------------------------------- exercise 1
def _keras_twin(opt):
    import keras

    lr = opt.learning_rate
    if isinstance(lr, ExponentialDecay):
        lr = keras.optimizers.schedules.ExponentialDecay(lr.initial_learning_rate, lr.decay_steps, lr.decay_rate,
                                                         staircase=lr.staircase)
    elif isinstance(lr, CosineDecay):
        lr = keras.optimizers.schedules.CosineDecay(lr.initial_learning_rate, lr.decay_steps, alpha=lr.alpha)
    if type(opt) is SGD:
        return keras.optimizers.SGD(lr, momentum=opt.momentum, nesterov=opt.nesterov)
    if type(opt) is Adam:
        return keras.optimizers.Adam(lr, beta_1=opt.beta_1, beta_2=opt.beta_2, epsilon=opt.epsilon)
    if type(opt) is RMSprop:
        return keras.optimizers.RMSprop(lr, rho=opt.rho, epsilon=opt.epsilon)
    raise TypeError(f"no Keras twin written for {opt!r}")


def _kernels(model):
    """The kernels (weight matrices) of ``model``: the variables an L2 penalty covers."""
    return [v for v in model.trainable_variables if len(v.shape) == 2]


def _penalty(model, l2, which="kernels", scale=1.0, mean=False):
    """``l2 * sum(w**2)`` over the kernels (Keras's ``regularizers.L2(l2)``), or a typical wrong form."""
    import tensorflow as tf

    chosen = _kernels(model) if which == "kernels" else model.trainable_variables
    reduce = tf.reduce_mean if mean else tf.reduce_sum
    return scale * l2 * tf.add_n([reduce(tf.square(v)) for v in chosen])


def _model(seed, biased=False):
    """The lesson's fresh model; ``biased`` gives it nonzero biases (drawn with ``seed``), so that a penalty
    that wrongly covers the biases changes the run from the first step."""
    model = training.build_mlp(seed=seed)
    if biased:
        rng = np.random.default_rng(seed)
        for v in model.trainable_variables:
            if len(v.shape) == 1:
                v.assign(rng.normal(0.0, 0.3, v.shape).astype(np.float32))
    return model


def _keras_run(make_opt, steps, seed, keras_opt=None, l2=0.0):
    import tensorflow as tf

    model, opt = _model(seed, biased=l2 > 0), keras_opt or _keras_twin(make_opt())
    for x, y in _batches(steps, seed):
        if l2 == 0:
            training.keras_train_step(model, opt, x, y)
            continue
        with tf.GradientTape() as tape:
            loss = _loss()(y, model(x, training=True)) + _penalty(model, l2)
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    return training.get_weights(model)


def _variant_run(make_opt, steps, seed, loss_of, keep_state=True, assign=True, grads_first=False,
                 penalty=None, penalty_in_tape=True):
    """A hand-written wrong (or right) training loop, for naming mistakes; ``penalty(model)`` is added to
    the loss (inside the tape, or after it when ``penalty_in_tape`` is False, so that it has no gradient)."""
    import tensorflow as tf

    model, opt = _model(seed, biased=penalty is not None), make_opt()
    state = opt.init(training.get_weights(model))
    for x, y in _batches(steps, seed):
        with tf.GradientTape() as tape:
            loss = loss_of(y, model(x, training=True))
            if penalty is not None and penalty_in_tape:
                loss = loss + penalty(model)
        grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
        if grads_first:
            params, new_state = opt.step(grads, training.get_weights(model), state)
        else:
            params, new_state = opt.step(training.get_weights(model), grads, state)
        state = new_state if keep_state else opt.init(params)
        if assign:
            training.set_weights(model, params)
    return training.get_weights(model)


def _loss(from_logits=True, reduction="sum_over_batch_size"):
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=reduction)


SWAPPED_LOSS_ARGUMENTS = ("a Keras loss takes the labels first: `loss_fn(y, logits)`, as `loss_fn(y_true, y_pred)`; "
                          "`loss_fn(logits, y)` puts the logits where the labels go.")
L2 = 0.001  # the penalty of exercise 1's last case: l2 * sum(kernel**2) is about 0.12 for the fresh model


def check_train_step(train_step):
    """Exercise 1: ``train_step(model, optimizer, state, x, y, l2=0.0) -> (loss, new_state)``, the loss being
    the mean cross-entropy plus ``l2 * sum(w**2)`` over the kernels."""
    _verify_train_step(train_step)
    print("✓ train_step trains the model exactly as Keras's optimizers do (3 optimizers, one of them with "
          "an L2 penalty).")


def _verify_train_step(train_step):
    """Exercise 1's check without its ✓ line: raises CheckFailed (or NotAttempted) when ``train_step`` is wrong."""
    cases = [("SGD(0.05, momentum=0.9)", lambda: SGD(0.05, momentum=0.9), 4, 0, 0.0),
             ("Adam(0.003)", lambda: Adam(0.003), 4, 1, 0.0),
             (f"RMSprop(0.001), l2={L2:g}, from nonzero biases", lambda: RMSprop(0.001), 3, 2, L2)]
    crash_hints = {"target.ndim - 1": SWAPPED_LOSS_ARGUMENTS, "must have rank": SWAPPED_LOSS_ARGUMENTS,
                   "positional argument": "`train_step` takes the penalty as a sixth argument: "
                                          "`def train_step(model, optimizer, state, x, y, l2=0.0)`."}
    for label, make_opt, steps, seed, l2 in cases:
        model, opt = _model(seed, biased=l2 > 0), make_opt()
        start = training.get_weights(model)
        state = opt.init(start)
        for k, (x, y) in enumerate(_batches(steps, seed)):
            cross_entropy, _ = training.evaluate(model, x, y)
            penalties = {form: float(_penalty(model, l2, **options)) for form, options in _PENALTY_FORMS.items()}
            expected_loss = cross_entropy + penalties["right"]
            probabilities_loss = float(_loss(from_logits=False)(y, model(x, training=False))) + penalties["right"]
            out = _call(train_step, "train_step", *((model, opt, state, x, y) + ((l2,) if l2 else ())),
                        crash_hints=crash_hints)
            if not isinstance(out, tuple) or len(out) != 2:
                _fail(f"train_step should return the pair `(loss, new_state)`; it returned {describe(out)}.",
                      "return both the loss and the state that `optimizer.step` gave back.")
            loss, state = out
            if isinstance(loss, opt.State) and not isinstance(state, opt.State):
                _fail("train_step returned the pair in the wrong order.",
                      "return `(loss, new_state)`: the loss first, then the state from `optimizer.step`.",
                      [("returned", f"({type(loss).__name__}(...), {describe(state)})")])
            if not isinstance(state, opt.State):
                _fail(f"the second value returned should be the optimizer's new state ({opt.State.__name__}); "
                      f"got {type(state).__name__} {describe(state)}.",
                      "`params, state = optimizer.step(params, grads, state)`: return that `state`.")
            try:
                loss_value = float(np.asarray(loss.numpy() if hasattr(loss, "numpy") else loss))
            except (TypeError, ValueError):
                _fail(f"the first value returned should be the batch loss (a number); got {describe(loss)}.")
            if not np.isclose(loss_value, expected_loss, rtol=1e-4):
                after = training.evaluate(model, x, y)[0] + float(_penalty(model, l2))
                nearest = min(_PENALTY_HINTS, key=lambda form: abs(loss_value - cross_entropy - penalties[form]))
                penalty_hint = (_PENALTY_HINTS[nearest] if np.isclose(loss_value, cross_entropy + penalties[nearest],
                                                                      rtol=1e-4) else None)
                if l2 and penalty_hint:
                    hint = penalty_hint
                elif np.isclose(loss_value, expected_loss * len(x), rtol=1e-4):
                    hint = "the loss is summed over the batch, not averaged: use Keras's default reduction."
                elif np.isclose(loss_value, after, rtol=1e-4):
                    hint = ("the loss returned is computed *after* the update: return the loss the tape recorded, "
                            "before `optimizer.step`.")
                elif np.isclose(loss_value, -expected_loss, rtol=1e-4):
                    hint = "the loss has the wrong sign: the cross-entropy is positive; do not negate it."
                elif np.isclose(loss_value, probabilities_loss, rtol=1e-4):
                    hint = "the model outputs logits: build the loss with `from_logits=True`."
                else:
                    hint = None
                _fail(f"with {label}, step {k + 1}: the loss returned is {loss_value:.6f}; the cross-entropy of "
                      f"the batch before the update is {expected_loss:.6f}.", hint)
        got = _weight_list([v.numpy() for v in model.trainable_variables], "the model's weights", start)
        if training.max_difference(got, start) == 0:
            _fail(f"with {label}, the model's weights did not change in {steps} steps.",
                  "write the new weights back: `variable.assign(value)` for every trainable variable.")
        # variant(...) is the run _variant_run(make_opt, steps, seed, ...), made later by _judge
        variant = functools.partial(functools.partial, _variant_run, make_opt, steps, seed,
                                    penalty=functools.partial(_penalty, l2=l2) if l2 else None)
        wrong = [(variant(_loss(), penalty_in_tape=False),
                  "the L2 penalty is added outside the `GradientTape` block, so its gradient is missing: add it to "
                  "the loss inside the tape.") if l2 else (None, None),
                 (variant(_loss(), keep_state=False),
                  "the optimizer's state was not carried from step to step: pass the state returned by the "
                  "previous `optimizer.step` to the next one (momentum and Adam's averages live in it)."),
                 (variant(_loss(reduction="sum")),
                  "the loss is summed over the batch, not averaged: use Keras's default reduction."),
                 (variant(_loss(from_logits=False)),
                  "the model outputs logits: build the loss with `from_logits=True`."),
                 (variant(_loss(), grads_first=True),
                  "the arguments of `optimizer.step` are swapped: it is `optimizer.step(params, grads, state)`, "
                  "the weights first.")]
        _judge(got, _keras_run(make_opt, steps, seed, l2=l2), wrong, f"with {label}, after {steps} steps",
               whose="Keras's optimizer's")


_PENALTY_FORMS = {"right": {}, "none": {"scale": 0.0}, "biases too": {"which": "all"}, "half": {"scale": 0.5},
                  "mean": {"mean": True}}
_PENALTY_HINTS = {
    "none": "the L2 penalty is missing: with `l2` > 0 the loss is the cross-entropy plus `l2 * sum(w**2)` over the "
            "kernels, computed inside the tape.",
    "biases too": "the biases are penalised too: the L2 penalty covers the kernels only (`len(v.shape) == 2`), as "
                  "Keras's `kernel_regularizer` does.",
    "half": "the penalty is halved: Keras's `regularizers.L2(l2)` adds `l2 * sum(w**2)`, without a factor 1/2.",
    "mean": "the penalty averages the squares: it is their sum, `l2 * sum(w**2)` (`tf.reduce_sum`), not their mean.",
}


# --------------------------------------------------------------------------- exercise 2
KERAS_SCHEDULE_ARGS = {"initial_learning_rate": 0.05, "decay_steps": 100, "decay_rate": 0.5}
KERAS_MOMENTUM = 0.9


def _keras_reference_schedule():
    import keras

    return keras.optimizers.schedules.ExponentialDecay(**KERAS_SCHEDULE_ARGS)


def check_optimizer_twin(answer):
    """Exercise 2: the course_lib twin of ``SGD(ExponentialDecay(0.05, 100, 0.5), momentum=0.9)``."""
    optimizer = answer
    if optimizer is Ellipsis:
        raise NotAttempted("`optimizer` is not built yet: replace the `...` with your code.")
    if not isinstance(optimizer, SGD):
        _fail(f"`optimizer` should be a course_lib `optimizers.SGD`; got {type(optimizer).__name__} "
              f"{describe(optimizer)}.",
              "build it with `optimizers.SGD(...)` (course_lib), not `tf.keras.optimizers.SGD`."
              if "keras" in type(optimizer).__module__ else None)
    import keras

    schedule = _keras_reference_schedule()
    steps = np.arange(0, 401, 7)
    keras_rates = np.array([float(schedule(int(s))) for s in steps])
    if not callable(optimizer.learning_rate):
        _fail(f"the learning rate is the constant {optimizer.learning_rate:g}; Keras's decays from "
              f"{keras_rates[0]:g} to {keras_rates[-1]:.4g} at step 400.",
              "pass the schedule itself as `learning_rate`: `SGD(learning_rate=schedules.ExponentialDecay(...))`.")
    ours = np.full(len(steps), np.inf)
    for i, s in enumerate(steps):
        try:
            ours[i] = float(optimizer.learning_rate_at(int(s)))
        except (ValueError, TypeError, OverflowError) as exc:   # e.g. a rate that grows beyond float32
            if not isinstance(optimizer.learning_rate, ExponentialDecay):
                _fail(f"the learning rate schedule failed: {exc}")
    if not np.allclose(ours, keras_rates, rtol=1e-6):
        lr = optimizer.learning_rate
        hint = None
        if isinstance(lr, ExponentialDecay) and lr.staircase:
            hint = "Keras's schedule decays smoothly here: `staircase=False` (the default)."
        elif isinstance(lr, ExponentialDecay) and (lr.decay_steps, lr.decay_rate) == (0.5, 100):
            hint = ("`decay_steps` and `decay_rate` are swapped: it is "
                    "ExponentialDecay(0.05, decay_steps=100, decay_rate=0.5).")
        elif not isinstance(lr, ExponentialDecay):
            hint = "Keras's schedule is `ExponentialDecay`; use `schedules.ExponentialDecay` with the same arguments."
        else:
            differ = [f"{k}={getattr(lr, k):g} (Keras: {v:g})" for k, v in KERAS_SCHEDULE_ARGS.items()
                      if not np.isclose(getattr(lr, k), v)]
            if differ:
                hint = ("the schedule's arguments differ from Keras's: " + ", ".join(differ) +
                        ". It is ExponentialDecay(0.05, decay_steps=100, decay_rate=0.5).")
        at = int(np.argmax(~np.isclose(ours, keras_rates, rtol=1e-6)))   # the first step where they differ
        value = f"{ours[at]:.6g}" if np.isfinite(ours[at]) else "too large for float32 (infinite)"
        _fail(f"at step {steps[at]} your learning rate is {value}; Keras's is {keras_rates[at]:.6g}.", hint)
    if optimizer.momentum != KERAS_MOMENTUM or optimizer.nesterov:
        _fail(f"the momentum is {optimizer.momentum:g} (nesterov={optimizer.nesterov}); Keras's optimizer has "
              f"momentum={KERAS_MOMENTUM:g}, nesterov=False.",
              "pass `momentum=0.9` to `optimizers.SGD`." if optimizer.momentum != KERAS_MOMENTUM else
              "Keras's optimizer is plain momentum: leave `nesterov` at its default, False.")
    ours_w = _variant_run(lambda: optimizer, 6, 0, _loss())
    keras_opt = keras.optimizers.SGD(learning_rate=_keras_reference_schedule(), momentum=KERAS_MOMENTUM)
    _judge(ours_w, _keras_run(None, 6, 0, keras_opt), [], "after 6 steps")
    print("✓ optimizer is the twin of Keras's SGD with ExponentialDecay: same rates, same weights.")


# --------------------------------------------------------------------------- exercise 3
def _ema_reference(make_opt, decay, steps, seed):
    """Keras's optimizer and tf.train.ExponentialMovingAverage, with num_updates = the step count."""
    import tensorflow as tf

    model, opt = training.build_mlp(seed=seed), _keras_twin(make_opt())
    variables = [v.value for v in model.trainable_variables]
    step = tf.Variable(0, dtype=tf.int64)
    ema = tf.train.ExponentialMovingAverage(decay, num_updates=step)
    ema.apply(variables)
    for k, (x, y) in enumerate(_batches(steps, seed), start=1):
        training.keras_train_step(model, opt, x, y)
        step.assign(k)
        ema.apply(variables)
    return training.get_weights(model), [ema.average(v).numpy() for v in variables]


_EMA_REFERENCES = {}


def _ema_reference_once(label, make_opt, decay, steps, seed):
    """:func:`_ema_reference` for the case named ``label``, run once per session (the check is called often)
    and handed out as copies."""
    key = (label, decay, steps, seed)
    if key not in _EMA_REFERENCES:
        _EMA_REFERENCES[key] = _ema_reference(make_opt, decay, steps, seed)
    weights, averaged = _EMA_REFERENCES[key]
    return [w.copy() for w in weights], [a.copy() for a in averaged]


def _ema_variant(make_opt, decay, steps, seed, num_updates=True, count=lambda k: k, before=False):
    model, opt = training.build_mlp(seed=seed), make_opt()
    ema = ExponentialMovingAverage(decay)
    state = opt.init(training.get_weights(model))
    ema_state = ema.init(training.get_weights(model))
    for k, (x, y) in enumerate(_batches(steps, seed), start=1):
        if before:
            ema_state = ema.apply(training.get_weights(model), ema_state, num_updates=count(k))
            _, state = training.train_step(model, opt, state, x, y)
            continue
        _, state = training.train_step(model, opt, state, x, y)
        ema_state = ema.apply(training.get_weights(model), ema_state, num_updates=count(k) if num_updates else None)
    return ema.average(ema_state)


def check_train_with_ema(train_with_ema, train_step=None):
    """Exercise 3: ``train_with_ema(model, optimizer, ema, batch_list) -> (weights, averaged)``.

    ``train_step`` is the student's exercise 1, which ``train_with_ema`` calls: when the check fails,
    ``train_step`` is checked first, and a mistake there is named as exercise 1's.
    """
    try:
        _verify_train_with_ema(train_with_ema)
    except CheckFailed as failure:
        if train_step is not None:
            try:
                _verify_train_step(train_step)
            except CheckFailed as step_failure:
                verdict = str(step_failure).split("\n")[0].split(". Likely mistake:")[0]
                hint = ("in `train_step` (exercise 1), which `train_with_ema` calls: "
                        + (step_failure.hint or "run exercise 1's check and fix `train_step` first."))
                _fail(f"exercise 1's check fails on your `train_step`: {verdict}", hint)
        raise failure from None
    print("✓ train_with_ema matches Keras's optimizer with tf.train.ExponentialMovingAverage.")


def _verify_train_with_ema(train_with_ema):
    cases = [("Adam(CosineDecay(0.003, 20)), decay 0.99", lambda: Adam(CosineDecay(0.003, 20)), 0.99, 8, 0),
             ("SGD(0.05, momentum=0.9), decay 0.9", lambda: SGD(0.05, momentum=0.9), 0.9, 6, 1)]
    for label, make_opt, decay, steps, seed in cases:
        model = training.build_mlp(seed=seed)
        start = training.get_weights(model)
        out = _call(train_with_ema, "train_with_ema", model, make_opt(), ExponentialMovingAverage(decay),
                    _batches(steps, seed))
        if not isinstance(out, tuple) or len(out) != 2:
            _fail(f"train_with_ema should return the pair `(weights, averaged)`; it returned {describe(out)}.")
        weights = _weight_list(out[0], "the first value returned (the weights)", start)
        if type(out[1]).__name__ == "EMAState":
            _fail("the second value returned is the average's state (an EMAState), not the averaged weights.",
                  "return `ema.average(ema_state)`: the list of averaged arrays the state holds.")
        averaged = _weight_list(out[1], "the second value returned (the averaged weights)", start)
        ref_w, ref_avg = _ema_reference_once(label, make_opt, decay, steps, seed)
        if not _close(weights, ref_w) and _close(weights, ref_avg) and _close(averaged, ref_w):
            _fail(f"with {label}: the first value returned is the averaged weights, the second the weights.",
                  "the pair is returned in the wrong order: return `(weights, averaged)`, the weights first.")
        _judge(weights, ref_w, [], f"with {label}, after {steps} steps", whose="Keras's optimizer's")
        if _close(averaged, weights) and not _close(ref_avg, ref_w):
            _fail(f"with {label}: the averaged weights are the weights themselves.",
                  "keep one EMA state for the whole run: `ema.init` once before the loop, "
                  "`ema.apply` after every step.")
        wrong = [(functools.partial(_ema_variant, make_opt, decay, steps, seed, num_updates=False),
                  "pass the number of updates done so far: `ema.apply(params, ema_state, num_updates=step)`, "
                  "as `tf.train.ExponentialMovingAverage(decay, num_updates=global_step)` does."),
                 (functools.partial(_ema_variant, make_opt, decay, steps, seed, count=lambda k: k - 1),
                  NUM_UPDATES_FROM_0),
                 (functools.partial(_ema_variant, make_opt, decay, steps, seed, count=lambda k: k + 1),
                  "num_updates is off by one: after the k-th update the step counter holds k, not k + 1."),
                 (functools.partial(_ema_variant, make_opt, decay, steps, seed, before=True),
                  "the average is updated *before* the training step: call `ema.apply` after `train_step`, "
                  "with the new weights."),
                 (start, "the average never moved: call `ema.apply` after every update and keep its result.")]
        _judge(averaged, ref_avg, wrong, f"with {label}, after {steps} steps", noun="the averaged weights",
               whose="tf.train.ExponentialMovingAverage's")


# --------------------------------------------------------------------------- exercise 4
REFERENCES_NOT_COPIES = (
    "the model ends holding `weights`: its own weights were never put back, or what was saved were the variables "
    "themselves (`own = model.trainable_variables` keeps references, which `assign` then overwrites), not copies "
    "of their values. Save copies, `[v.numpy() for v in model.trainable_variables]`, and assign them back at the end.")


@functools.lru_cache(maxsize=None)
def _evaluation_weights_cached(seed):
    import keras

    if seed != 1:
        return tuple(training.get_weights(training.build_mlp(seed=seed)))
    trained, opt = training.build_mlp(seed=5), keras.optimizers.Adam(0.01)   # a network that has learnt a little
    for x, y in _batches(30, 5):
        training.keras_train_step(trained, opt, x, y)
    return tuple(training.get_weights(trained))


def _evaluation_weights(seed):
    """Weights for exercise 4's cases, copies each time: a fresh network's (``seed`` != 1), or for ``seed`` 1
    those of a network trained for 30 steps of Adam (made once per session: the check is called often)."""
    return [w.copy() for w in _evaluation_weights_cached(seed)]


def check_evaluate_with(evaluate_with):
    """Exercise 4: ``evaluate_with(model, weights, x, y) -> accuracy``, leaving the model's weights alone."""
    d = _data()
    cases = [(0, 1, d.x_val, d.y_val), (2, 0, d.x_val[:100], d.y_val[:100]), (1, 3, d.x_train, d.y_train)]
    for model_seed, weights_seed, x, y in cases:
        model = training.build_mlp(seed=model_seed)
        own = training.get_weights(model)
        weights = _evaluation_weights(weights_seed)
        got = _call(evaluate_with, "evaluate_with", model, [w.copy() for w in weights], x, y, crash_hints={
            "could not be broadcast": "the predictions do not line up with the labels: take the argmax over the "
                                      "classes, `np.argmax(logits, axis=1)`, one prediction per example (axis=0 "
                                      "gives one per class)."})
        after = training.get_weights(model)
        if not _close(after, own):
            _fail("after `evaluate_with` the model holds other weights than before.",
                  REFERENCES_NOT_COPIES if _close(after, weights) else
                  "put the model's own weights back at the end (save copies with `[v.numpy() for v in "
                  "model.trainable_variables]` first, assign them again after evaluating).")
        expected = training.evaluate(model, x, y, weights)[1]
        if got is None:
            _fail("evaluate_with returned None. Did you forget the `return` statement?")
        try:
            value = float(np.asarray(got.numpy() if hasattr(got, "numpy") else got))
        except (TypeError, ValueError):
            _fail(f"evaluate_with should return the accuracy, a number between 0 and 1; got {describe(got)}.")
        if not np.isclose(value, expected, atol=1e-6):
            hint = None
            if np.isclose(value, expected * len(y)):
                hint = "that is the number of correct answers: divide by the number of examples."
            elif np.isclose(value, training.evaluate(model, x, y)[1], atol=1e-6):
                hint = "this is the accuracy of the model's own weights: assign `weights` to the model first."
            elif np.isclose(value, 1 - expected, atol=1e-6):
                hint = "that is the error rate, the fraction of *wrong* answers: the accuracy is the fraction right."
            elif np.isclose(value, 100 * expected, atol=1e-4):
                hint = "that is a percentage: return the fraction between 0 and 1 (no factor 100)."
            elif np.isclose(value, training.evaluate(model, x, y, weights)[0], rtol=1e-5):
                hint = ("that is the cross-entropy loss (the first value of `training.evaluate`): the accuracy is "
                        "the share of examples whose largest logit is the label, "
                        "`np.mean(np.argmax(logits, axis=1) == y)` (lesson 10, section 3).")
            _fail(f"on {len(y)} examples the accuracy is {expected:.6f}; evaluate_with returned {value:.6f}.", hint)
    print(f"✓ evaluate_with is correct on {len(cases)} inputs and leaves the model's weights alone.")



# --------------------------------------------------------------------------- predict, then run
def _schedule_run():
    import keras

    ours = ExponentialDecay(**KERAS_SCHEDULE_ARGS)
    theirs = keras.optimizers.schedules.ExponentialDecay(**KERAS_SCHEDULE_ARGS)
    return "\n".join(f"step {k:3d}: course_lib {float(ours(k)):.6f}, Keras {float(theirs(k)):.6f}"
                     for k in (0, 50, 100, 199, 200))


def check_schedule_prediction(answer):
    """Predict: the learning rate of ``ExponentialDecay(0.05, decay_steps=100, decay_rate=0.5)`` at step 200."""
    check_prediction(
        answer, name="rate_at_step_200", correct=0.0125, tolerance=1e-4,
        explanation="ExponentialDecay gives initial_learning_rate * decay_rate ** (step / decay_steps): at step 200 "
                    "that is 0.05 * 0.5**2 = 0.0125. The rate halves every 100 steps, smoothly in between "
                    "(staircase=False), so step 199, the last of a 200-step run, is just above 0.0125.",
        evidence=_schedule_run)


def _first_average_run():
    ema = ExponentialMovingAverage(0.99)
    start, after = np.array([1.0, -2.0, 0.5]), np.array([2.0, 0.0, 0.3])
    state = ema.apply(after, ema.init(start), num_updates=1)
    averaged = ema.average(state)
    share = (averaged - start) / (after - start)
    plain = (ema.average(ema.apply(after, ema.init(start))) - start) / (after - start)
    return (f"weights before the step {start}, after it {after}\n"
            f"average after ema.apply(..., num_updates=1): {np.array2string(averaged, precision=4)}\n"
            f"share of the way to the new weights, per weight: {np.array2string(share, precision=4)}\n"
            f"decay used at num_updates=1: {float(ema.decay_at(1)):.4f}, and 1 - 2/11 = {1 - 2 / 11:.4f}\n"
            f"without num_updates (decay 0.99 from the start) the share would be {np.array2string(plain, precision=4)}")


def check_first_average_prediction(answer):
    """Predict: after the first training step, what share of the way to the new weights has the average moved
    (``ExponentialMovingAverage(0.99)``, ``num_updates=1``)?"""
    check_prediction(
        answer, name="first_average_share", correct=1 - 2 / 11, tolerance=0.02,
        explanation="with num_updates = 1 the decay used is min(0.99, (1 + 1) / (10 + 1)) = 2/11, so the average "
                    "moves 1 - 2/11 = 9/11, about 82%, of the way to the new weights, not 1%: the warm-up keeps "
                    "the early average close to the weights.",
        evidence=_first_average_run)


# --------------------------------------------------------------------------- several seeds
def _mean_and_standard_error(values):
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def _se_mistake(fn, hint):
    return Mistake(lambda values: (float(np.mean(np.asarray(values, float))), float(fn(np.asarray(values, float)))),
                   hint)


_SE_MISTAKES = [
    _se_mistake(lambda v: v.std() / np.sqrt(v.size),
                "np.std divides by n by default (ddof=0); the sample standard deviation over seeds divides by n - 1: "
                "np.std(values, ddof=1)."),
    _se_mistake(lambda v: v.std(ddof=1),
                "that is the standard deviation of one seed's value; the standard error of the mean is it divided by "
                "sqrt(n)."),
    _se_mistake(lambda v: v.std(),
                "that is the standard deviation with ddof=0, not divided by sqrt(n): use np.std(values, ddof=1) / "
                "np.sqrt(len(values))."),
    _se_mistake(lambda v: v.std(ddof=1) / v.size,
                "divide the standard deviation by the square root of the number of seeds, sqrt(n), not by n."),
    _se_mistake(lambda v: v.std(ddof=1) / np.sqrt(v.size - 1),
                "the n - 1 belongs inside the standard deviation (ddof=1); the standard error then divides by sqrt(n), "
                "not sqrt(n - 1)."),
    _se_mistake(lambda v: v.var(ddof=1) / np.sqrt(v.size),
                "that is the variance divided by sqrt(n); take the standard deviation (np.std, the square root of the "
                "variance) instead."),
    _se_mistake(lambda v: v.var(ddof=1) / v.size,
                "that is the square of the standard error (variance / n); take its square root."),
    _se_mistake(lambda v: v.var() / v.size,
                "that is the square of a standard error, with ddof=0 too: use np.std(values, ddof=1) / "
                "np.sqrt(len(values))."),
    _se_mistake(lambda v: np.ptp(v) / np.sqrt(v.size),
                "that is the range (largest minus smallest) divided by sqrt(n); the standard error uses the standard "
                "deviation, np.std(values, ddof=1)."),
    _se_mistake(lambda v: np.mean(np.abs(v - v.mean())) / np.sqrt(v.size),
                "that is the mean absolute deviation divided by sqrt(n); use the standard deviation, "
                "np.std(values, ddof=1)."),
    _se_mistake(lambda v: np.sqrt(np.sum(v * v) / (v.size - 1)) / np.sqrt(v.size),
                "the squares are of the values themselves; the standard deviation squares their distances from the "
                "mean, values - mean (np.std(values, ddof=1) does it)."),
    Mistake(lambda values: (float(np.sum(values)), _mean_and_standard_error(values)[1]),
            "the first value is the sum of the values; the mean divides it by the number of seeds."),
    Mistake(lambda values: (float(np.median(values)), _mean_and_standard_error(values)[1]),
            "the first value is the median; the standard error is that of the mean: np.mean(values)."),
]

_SE_CASES = [([0.12, 0.09, 0.16],), ([1.0, 2.0, 4.0, 7.0],), (np.array([0.5, 0.25, 0.75, 1.0, 0.0, 0.3, 0.9]),),
             ([-1.5, 2.5],)]


def check_mean_and_standard_error(mean_and_standard_error):
    """Exercise 5: ``(mean, standard_error)`` of one measure over seeds, ``std(ddof=1) / sqrt(n)``."""
    check_function(mean_and_standard_error, _mean_and_standard_error, _SE_CASES, name="mean_and_standard_error",
                   mistakes=_SE_MISTAKES, names=("mean", "standard_error"))


def _more_seeds_run():
    rng = np.random.default_rng(0)
    draws = rng.normal(0.12, 0.04, size=(20000, 27))     # 20,000 studies; a validation loss with spread 0.04
    spread_3, spread_9, spread_27 = (draws[:, :n].mean(axis=1).std() for n in (3, 9, 27))
    return (f"20,000 simulated studies, each seed's value drawn with standard deviation 0.04:\n"
            f"spread of the mean of 3 seeds {spread_3:.5f} (0.04 / sqrt(3) = {0.04 / np.sqrt(3):.5f}), "
            f"of 9 seeds {spread_9:.5f}, of 27 seeds {spread_27:.5f} (0.04 / sqrt(27) = {0.04 / np.sqrt(27):.5f})\n"
            f"ratio 27 seeds / 3 seeds: {spread_27 / spread_3:.3f}; 9 seeds / 3 seeds: {spread_9 / spread_3:.3f}")


def check_more_seeds_prediction(answer):
    """Predict: how many seeds make the standard error of a mean 3 times smaller than with 3 seeds?"""
    check_prediction(
        answer, name="seeds_for_a_third", correct=27, tolerance=0.5,
        explanation="the mean of n independent seeds has standard deviation sigma / sqrt(n): to divide it by 3, "
                    "sqrt(n) must grow 3 times, so n grows 9 times, from 3 to 27 seeds. Nine seeds (three times "
                    "the runs) only divide it by sqrt(3), about 1.7.",
        evidence=_more_seeds_run)
