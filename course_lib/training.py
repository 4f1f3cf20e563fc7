"""A custom training loop for a real Keras model, driven by a course_lib optimizer (lesson 07).

The pieces the capstone lesson, its exercises and their checks share::

    data = load_digits(seed=0)                  # the course's 8x8 digits, split and standardised
    model = build_mlp(seed=0)                   # Keras MLP 64-64-32-10, weights fixed by the seed
    opt = Adam(learning_rate=0.002)             # any course_lib optimizer
    state = opt.init(get_weights(model))
    loss, state = train_step(model, opt, state, x_batch, y_batch)

:func:`train_step` is the whole idea: ``tf.GradientTape`` computes the gradients, the
course_lib optimizer computes the new weights in numpy, and they are assigned back into the
model's variables.  :func:`keras_train_step` does the same with a ``tf.keras.optimizers``
optimizer, so the two can be run side by side from the same weights on the same batches.
:func:`train` runs a whole study run (with an optional weight EMA and a Keras progress bar)
and :func:`results_table` summarises several runs.

TensorFlow is imported inside the functions that need it, so ``import course_lib`` stays
fast.  The numerical helpers (:func:`steps_to_target`,
:func:`results_table`) use numpy only.
"""

import gc
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .core import check_int, check_number
from .data import batch_indices

__all__ = ["DIGITS_FILE", "Digits", "load_digits", "build_mlp", "cross_entropy", "get_weights", "set_weights",
           "loss_and_grads", "train_step", "keras_train_step", "evaluate", "batches", "Run", "train",
           "steps_to_target", "results_table", "max_difference"]


# --------------------------------------------------------------------------- data
#: The digits, as ``pixels`` (1797 x 64, uint8 0..16) and ``labels`` (1797, uint8 0..9).
DIGITS_FILE = Path(__file__).with_name("digits.npz")


class Digits(NamedTuple):
    x_train: np.ndarray   # (n_train, 64) float32, standardised with the training mean and std
    y_train: np.ndarray   # (n_train,) int32 labels 0..9
    x_val: np.ndarray     # (n_val, 64) float32, standardised with the *training* mean and std
    y_val: np.ndarray     # (n_val,) int32
    mean: np.ndarray      # (64,) per-pixel training mean
    std: np.ndarray       # (64,) per-pixel training std (1 where a pixel is constant)


def load_digits(validation_fraction=0.25, seed=0):
    """The 8x8 handwritten digits that ship with the course (1797 images), split and standardised.

    :data:`DIGITS_FILE` holds the test set of the UCI "Optical Recognition of Handwritten
    Digits" data (E. Alpaydin and C. Kaynak, 1998; CC BY 4.0), the same 1797 images that
    scikit-learn bundles as ``load_digits``: each pixel counts the ink in a 4x4 block of a
    32x32 scan, 0..16.  A seeded permutation puts ``validation_fraction`` of the images in
    the validation set.  Every pixel is standardised with the mean and standard deviation of
    the *training* images (a pixel that is constant in training, such as a corner that is
    always 0, is divided by 1).
    """
    validation_fraction = check_number("validation_fraction", validation_fraction, 0, 1,
                                       low_open=True, high_open=True)
    seed = check_int("seed", seed, 0)
    with np.load(DIGITS_FILE) as raw:
        x, y = raw["pixels"].astype(np.float64), raw["labels"].astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(validation_fraction * len(x)))
    val, tr = order[:n_val], order[n_val:]
    mean = x[tr].mean(axis=0)
    std = x[tr].std(axis=0)
    std = np.where(std > 0, std, 1.0)

    def scale(a):
        return ((a - mean) / std).astype(np.float32)

    return Digits(scale(x[tr]), y[tr], scale(x[val]), y[val], mean, std)


def batches(n, batch_size, steps, seed=0):
    """``steps`` index arrays of ``batch_size`` examples: seeded epochs, each a fresh permutation.

    :func:`course_lib.data.batch_indices` with ``drop_remainder=True`` (an epoch's remainder
    is dropped, so each step sees the same amount of data), epoch after epoch, as one list.
    """
    n = check_int("n", n, 1)
    batch_size = check_int("batch_size", batch_size, 1, n)
    steps = check_int("steps", steps, 0)
    epochs = max(1, -(-steps // (n // batch_size)))
    order = batch_indices(n, batch_size, epochs, shuffle=True, seed=seed, drop_remainder=True)
    return [idx for epoch in order for idx in epoch][:steps]


# --------------------------------------------------------------------------- model
def build_mlp(hidden=(64, 32), inputs=64, classes=10, seed=0):
    """A Keras MLP ``inputs -> hidden... (ReLU) -> classes`` logits, its weights fixed by ``seed``.

    Kernels use Glorot-uniform initialisers seeded with ``seed``, ``seed + 1``, ...; biases
    start at zero.  Two calls with the same arguments give models with identical weights.
    """
    import keras

    hidden = tuple(check_int("hidden", h, 1) for h in hidden)
    inputs, classes = check_int("inputs", inputs, 1), check_int("classes", classes, 2)
    seed = check_int("seed", seed, 0)
    layers = [keras.Input(shape=(inputs,))]
    for i, units in enumerate(hidden + (classes,)):
        layers.append(keras.layers.Dense(units, activation="relu" if i < len(hidden) else None,
                                         kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i),
                                         name=f"dense_{i}"))
    return keras.Sequential(layers, name="mlp")


def cross_entropy(labels, logits):
    """Mean sparse categorical cross-entropy of integer ``labels`` given ``logits`` (Keras's loss)."""
    import keras

    return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))


def get_weights(model):
    """The model's trainable variables as a list of numpy arrays (kernel, bias, kernel, bias, ...)."""
    return [v.numpy() for v in model.trainable_variables]


def set_weights(model, weights):
    """Assign a list of arrays (as returned by :func:`get_weights`) to the model's trainable variables."""
    variables = model.trainable_variables
    if len(weights) != len(variables):
        raise ValueError(f"`weights` must hold {len(variables)} arrays, one per trainable variable; "
                         f"got {len(weights)}.")
    for v, w in zip(variables, weights):
        if tuple(np.shape(w)) != tuple(v.shape):
            raise ValueError(f"`weights`: an array of shape {np.shape(w)} cannot go into variable "
                             f"{v.path} of shape {tuple(v.shape)}.")
        v.assign(np.asarray(w, dtype=v.dtype))


def _compiled(model, name, build):
    """The traced function ``name`` for ``model``, built on first use.

    It is kept in the model's own ``__dict__`` (not in a module-level cache, which would keep
    every model and its graphs alive for the whole session), so it goes when the model goes.
    """
    per_model = model.__dict__.setdefault("_course_lib_compiled", {})
    if name not in per_model:
        fn = build()
        # One tf.function per model is deliberate here: each is traced once and then reused.
        # TensorFlow's "frequent retracing" warning counts all functions built from the same
        # code together, so a study of several models would trip it.
        fn._omit_frequent_tracing_warning = True
        per_model[name] = fn
    return per_model[name]


def loss_and_grads(model, x, y):
    """The batch loss and the gradients of every trainable variable, from ``tf.GradientTape``.

    The tape runs inside a ``tf.function`` (traced once per model and batch shape), which is
    ten times faster than running it eagerly and gives the same numbers to every run that
    uses it: the course_lib run and the Keras run below share it.
    """
    import tensorflow as tf

    def build():
        @tf.function(reduce_retracing=True)
        def compiled(x, y):
            with tf.GradientTape() as tape:
                loss = cross_entropy(y, model(x, training=True))
            return loss, tape.gradient(loss, model.trainable_variables)
        return compiled

    return _compiled(model, "loss_and_grads", build)(x, y)


def train_step(model, optimizer, state, x, y):
    """One update of ``model`` by a course_lib ``optimizer``; returns ``(loss, new_state)``.

    The gradients come from TensorFlow; the optimizer computes the new weights in numpy from
    the current ones and its explicit state; the new weights are assigned back.
    """
    loss, grads = loss_and_grads(model, x, y)
    params = get_weights(model)
    params, state = optimizer.step(params, [g.numpy() for g in grads], state)
    set_weights(model, params)
    return float(loss), state


def keras_train_step(model, optimizer, x, y):
    """One update of ``model`` by a ``tf.keras.optimizers`` optimizer; returns the batch loss.

    The gradients come from :func:`loss_and_grads`, exactly as in :func:`train_step`; the
    update is Keras's own ``apply_gradients``, run eagerly: TensorFlow executes Keras's update
    formulas op by op as they are written, which is what the course_lib optimizers copy, and
    the two agree to the last bit.  (Inside a ``tf.function``, as ``model.fit`` runs it,
    TensorFlow's graph optimiser may regroup a formula, and a few weights then differ by one
    float32 rounding.  Eager execution also keeps no traced graph per optimizer in memory.)
    """
    loss, grads = loss_and_grads(model, x, y)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss)


def evaluate(model, x, y, weights=None):
    """``(loss, accuracy)`` of ``model`` on ``(x, y)``; with ``weights``, of the model holding those
    weights (the model's own weights are put back afterwards)."""
    saved = None
    if weights is not None:
        saved = get_weights(model)
        set_weights(model, weights)
    try:
        logits = _compiled(model, "predict", lambda: _tf_function(lambda x: model(x, training=False)))(x)
        loss = float(cross_entropy(y, logits))
        accuracy = float(np.mean(np.argmax(np.asarray(logits), axis=1) == np.asarray(y)))
    finally:
        if saved is not None:
            set_weights(model, saved)
    return loss, accuracy


def _tf_function(fn):
    import tensorflow as tf

    return tf.function(fn, reduce_retracing=True)


def max_difference(a, b):
    """The largest absolute difference between two lists of arrays of the same shapes."""
    if len(a) != len(b):
        raise ValueError(f"the two weight lists differ in length: {len(a)} and {len(b)}.")
    return float(max(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)))
                     for x, y in zip(a, b)))


# --------------------------------------------------------------------------- study runs
class Run(NamedTuple):
    label: str
    eval_steps: np.ndarray      # the step counts at which the curves were measured (0 = start)
    train_loss: np.ndarray      # loss on the whole training set
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    ema_train_loss: Any         # the same three curves for the EMA of the weights; None without EMA
    ema_val_loss: Any
    ema_val_accuracy: Any
    learning_rates: np.ndarray  # the learning rate used by every update
    weights: list               # final weights
    averaged: Any               # final EMA of the weights (None without EMA)
    seconds: float              # wall time of the run, evaluation included


def train(optimizer, data, steps=300, batch_size=32, eval_every=10, ema=None, seed=0, label="", progress=None):
    """Train a fresh :func:`build_mlp` (seeded) with a course_lib ``optimizer``; return a :class:`Run`.

    The batches come from :func:`batches` with the same ``seed``, so runs with different
    optimizers see the same data in the same order.  ``ema`` is an optional
    :class:`course_lib.moving_averages.ExponentialMovingAverage`; it is initialised with the
    starting weights and applied after every update with ``num_updates`` = the number of
    updates done so far.  Every ``eval_every`` steps the training loss, validation loss and
    validation accuracy are measured for the weights (and their average).  ``progress`` is
    an optional ``keras.utils.Progbar`` advanced by one per step.
    """
    steps = check_int("steps", steps, 1)
    eval_every = check_int("eval_every", eval_every, 1)
    start = time.perf_counter()
    model = build_mlp(seed=seed)
    state = optimizer.init(get_weights(model))
    ema_state = None if ema is None else ema.init(get_weights(model))
    curves = {k: [] for k in ("step", "tl", "vl", "va", "etl", "evl", "eva")}

    def measure(step):
        curves["step"].append(step)
        curves["tl"].append(evaluate(model, data.x_train, data.y_train)[0])
        vl, va = evaluate(model, data.x_val, data.y_val)
        curves["vl"].append(vl)
        curves["va"].append(va)
        if ema is not None:
            averaged = ema.average(ema_state)
            curves["etl"].append(evaluate(model, data.x_train, data.y_train, averaged)[0])
            vl, va = evaluate(model, data.x_val, data.y_val, averaged)
            curves["evl"].append(vl)
            curves["eva"].append(va)

    measure(0)
    rates = []
    for step, idx in enumerate(batches(len(data.x_train), batch_size, steps, seed), start=1):
        rates.append(float(optimizer.learning_rate_at(step - 1)))
        loss, state = train_step(model, optimizer, state, data.x_train[idx], data.y_train[idx])
        if ema is not None:
            ema_state = ema.apply(get_weights(model), ema_state, num_updates=step)
        if step % eval_every == 0 or step == steps:
            measure(step)
        if progress is not None:
            progress.add(1, values=[("loss", loss)])
    arr = {k: np.asarray(v) for k, v in curves.items()}
    with_ema = ema is not None
    run = Run(label, arr["step"], arr["tl"], arr["vl"], arr["va"],
              arr["etl"] if with_ema else None, arr["evl"] if with_ema else None,
              arr["eva"] if with_ema else None, np.asarray(rates), get_weights(model),
              ema.average(ema_state) if with_ema else None, time.perf_counter() - start)
    gc.collect()  # the model and its traced functions form a cycle: free them now, not later
    return run


def steps_to_target(eval_steps, losses, target):
    """The first measured step at which ``losses`` is at or below ``target``; None if never."""
    eval_steps, losses = np.asarray(eval_steps), np.asarray(losses)
    if eval_steps.shape != losses.shape or eval_steps.ndim != 1:
        raise ValueError(f"`eval_steps` and `losses` must be 1-D of the same length; got shapes "
                         f"{eval_steps.shape} and {losses.shape}.")
    target = check_number("target", target)
    hit = np.nonzero(losses <= target)[0]
    return int(eval_steps[hit[0]]) if hit.size else None


def results_table(runs, target_loss, ema=False, wall_time=False):
    """A plain-text table: final validation accuracy, steps to ``target_loss`` (training loss), and
    optionally the same for the averaged weights and the wall time.  ``runs`` is ``{label: Run}``."""
    target_loss = check_number("target_loss", target_loss, 0, None, low_open=True)
    width = max([len("run")] + [len(k) for k in runs])
    head = f"{'run':<{width}}  val acc  steps to loss<={target_loss:g}"
    if ema:
        head += "  EMA val acc  EMA steps"
    if wall_time:
        head += "  wall time"
    lines = [head, "-" * len(head)]

    def reached(s):
        return f"{s:>5d}" if s is not None else "never"

    for label, run in runs.items():
        line = (f"{label:<{width}}  {run.val_accuracy[-1]:7.4f}  "
                f"{reached(steps_to_target(run.eval_steps, run.train_loss, target_loss)):>{len(head.split('  ')[2])}}")
        if ema:
            if run.ema_val_accuracy is None:
                raise ValueError(f"run {label!r} has no EMA curves; train it with `ema=`.")
            line += (f"  {run.ema_val_accuracy[-1]:11.4f}  "
                     f"{reached(steps_to_target(run.eval_steps, run.ema_train_loss, target_loss)):>9}")
        if wall_time:
            line += f"  {run.seconds:8.2f}s"
        lines.append(line)
    return "\n".join(lines)
