"""A custom training loop for a real Keras model, driven by a course_lib optimizer (lesson 10).

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

:func:`train_numpy` is the fast trainer of the study: the same network as :func:`build_mlp`
(course_lib's numpy :class:`~course_lib.backprop.MLP` with ReLU, the same Keras weight layout),
the gradients computed in numpy, several seeds trained at once as one stacked array, no
TensorFlow at all.  Given the Keras model's starting weights it follows :func:`train` to
float32 rounding (tested in ``tests/test_training_keras.py``).

:func:`fit` is the course's one mini-batch loop in numpy (batch order, the optimizer's rate,
the step, the weight EMA, a measure every ``eval_every`` updates): :func:`train_numpy` runs
it on its stacked networks, and lesson 09's :func:`course_lib.practice.train` on any model of
lesson 06's form, with the lesson's measurements (L2, update ratios, gradient norms, overflow)
switched on.
"""

import contextlib
import copy
import ctypes
import functools
import gc
import math
import time
from pathlib import Path
from typing import Any, NamedTuple, Optional

import numpy as np

from .backprop import MLP, accuracy, dense, relu, softmax, softmax_cross_entropy
from .core import check_bool, check_int, check_number, tree_leaves, tree_map
from .data import batch_indices
from .optimizers import Optimizer

__all__ = ["DIGITS_FILE", "Digits", "load_digits", "build_mlp", "cross_entropy", "get_weights", "set_weights",
           "loss_and_grads", "train_step", "keras_train_step", "evaluate", "batches", "Run", "train",
           "steps_to_target", "results_table", "max_difference",
           "MLP_UNITS", "numpy_initial_weights", "flatten_weights", "unflatten_weights", "numpy_loss_and_grads",
           "Fit", "fit", "train_numpy", "one_blas_thread",
           "SeedSpread", "seed_spread", "paired_difference", "study_table"]


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
        # One traced function per model is deliberate here: each is traced once and then reused.
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


def keras_train_step(model, optimizer, x, y, compiled=False):
    """One update of ``model`` by a ``tf.keras.optimizers`` optimizer; returns the batch loss.

    The gradients come from :func:`loss_and_grads`, exactly as in :func:`train_step`; the
    update is Keras's own ``apply_gradients``, run eagerly: TensorFlow executes Keras's update
    formulas op by op as they are written, which is what the course_lib optimizers copy, and
    the two agree to the last bit.  ``compiled=True`` runs it through
    :func:`course_lib.tf_twins.compiled_apply` instead (a ``tf.function`` traced once per model
    and optimizer, with TensorFlow's graph optimizer off): the same operations in the same order,
    the same bits, and each update several times cheaper once the trace is paid for, which takes
    a few tenths of a second, so it pays for long runs only.  (With the graph optimizer on, as
    ``model.fit`` runs it, TensorFlow may regroup a formula, and a few weights then differ by one
    float32 rounding.)
    """
    compiled = check_bool("compiled", compiled)
    loss, grads = loss_and_grads(model, x, y)
    if compiled:
        # One traced update per model and optimizer; it holds the optimizer, so the id stays that optimizer's.
        _compiled(model, ("apply_gradients", id(optimizer)), lambda: _compiled_apply(optimizer, model))(grads)
    else:
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss)


def _compiled_apply(optimizer, model):
    from . import tf_twins

    return tf_twins.compiled_apply(optimizer, model.trainable_variables)


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


# --------------------------------------------------------------------------- the numpy trainer
#: The widths of :func:`build_mlp`'s layers with its defaults: 64 pixels, 64 and 32 ReLU units, 10 logits.
MLP_UNITS = (64, 64, 32, 10)


def _units(hidden, inputs=64, classes=10):
    hidden = tuple(check_int("hidden", h, 1) for h in hidden)
    return (check_int("inputs", inputs, 1),) + hidden + (check_int("classes", classes, 2),)


def _shapes(units):
    """Keras's variable order: kernel (in, out), bias (out,), layer after layer."""
    return [s for n_in, n_out in zip(units[:-1], units[1:]) for s in ((n_in, n_out), (n_out,))]


def numpy_initial_weights(seed=0, hidden=(64, 32)):
    """Starting weights for :func:`train_numpy` without TensorFlow, in Keras's layout (a list
    ``[kernel, bias, kernel, bias, ...]`` of float32 arrays).

    Glorot-uniform kernels and zero biases, as Keras draws them, but from numpy's generator
    (:meth:`course_lib.backprop.MLP.init`): the same distribution as :func:`build_mlp` with this
    seed, not the same numbers.  To start from a Keras model's weights, pass
    ``get_weights(build_mlp(seed))`` to :func:`train_numpy` instead.

    Examples:
        >>> [w.shape for w in numpy_initial_weights(seed=0)]
        [(64, 64), (64,), (64, 32), (32,), (32, 10), (10,)]
    """
    layers = MLP(_units(hidden), activation="relu").init(seed=seed, dtype=np.float32)
    return [a for layer in layers for a in (layer["kernel"], layer["bias"])]


def flatten_weights(weights):
    """One float32 vector holding every array of ``weights`` (Keras's order), end to end.

    Examples:
        >>> flatten_weights([np.ones((2, 3)), np.zeros(3)]).shape
        (9,)
    """
    if isinstance(weights, np.ndarray) or not hasattr(weights, "__len__") or not len(weights):
        raise TypeError("`weights` must be a non-empty list of arrays (kernel, bias, ...).")
    return np.concatenate([np.asarray(w, np.float32).ravel() for w in weights])


def unflatten_weights(vector, hidden=(64, 32)):
    """The inverse of :func:`flatten_weights` for the network with these ``hidden`` widths.

    ``vector`` may carry leading axes (several networks stacked); each array then keeps them.

    Examples:
        >>> w = numpy_initial_weights(seed=0)
        >>> all(np.array_equal(a, b) for a, b in zip(unflatten_weights(flatten_weights(w)), w))
        True
    """
    vector = np.asarray(vector)
    shapes = _shapes(_units(hidden))
    sizes = [int(np.prod(s)) for s in shapes]
    if vector.ndim < 1 or vector.shape[-1] != sum(sizes):
        raise ValueError(f"`vector` must end in an axis of {sum(sizes)} weights (the network "
                         f"{_units(hidden)}); got shape {vector.shape}.")
    ends = np.cumsum(sizes)
    return [vector[..., e - n:e].reshape(vector.shape[:-1] + s) for s, n, e in zip(shapes, sizes, ends)]


def numpy_loss_and_grads(weights, x, y):
    """The batch loss and the gradient of every weight, from course_lib's numpy MLP.

    The numpy twin of :func:`loss_and_grads`: ``weights`` in Keras's layout (as
    :func:`get_weights` returns them), the network of :func:`build_mlp` (ReLU hidden layers,
    logits, mean sparse cross-entropy), computed by :meth:`course_lib.backprop.MLP.loss_and_grad`.

    Examples:
        >>> w = numpy_initial_weights(seed=0)
        >>> x, y = np.zeros((4, 64), np.float32), np.array([0, 1, 2, 3])
        >>> loss, grads = numpy_loss_and_grads(w, x, y)
        >>> round(float(loss), 4), [g.shape for g in grads][-2:]          # zero inputs: ln 10
        (2.3026, [(32, 10), (10,)])
    """
    if isinstance(weights, np.ndarray) or not hasattr(weights, "__len__") or len(weights) % 2:
        raise TypeError("`weights` must be a list [kernel, bias, kernel, bias, ...] as get_weights returns.")
    units = (np.shape(weights[0])[0],) + tuple(np.shape(w)[0] for w in weights[1::2])
    net = MLP(units, activation="relu")
    layers = [{"kernel": k, "bias": b} for k, b in zip(weights[0::2], weights[1::2])]
    loss, grads = net.loss_and_grad(layers, x, y)
    return loss, [g for layer in grads for g in (layer["kernel"], layer["bias"])]


@functools.lru_cache(maxsize=1)
def _openblas():
    """``(get_num_threads, set_num_threads)`` of the OpenBLAS that numpy's wheel bundles, or None.

    Found by name in the wheel's library folder (``numpy.libs`` on Linux and Windows, ``numpy/.dylibs``
    on macOS); anything else (another BLAS, another build) gives None and nothing is changed.
    """
    here = Path(np.__file__).resolve().parent
    for lib in sorted([*here.parent.glob("numpy.libs/*openblas*"), *here.glob(".dylibs/*openblas*")]):
        try:
            dll = ctypes.CDLL(str(lib))
        except OSError:
            continue
        for suffix in ("64_", "_64_", ""):
            get = getattr(dll, f"scipy_openblas_get_num_threads{suffix}", None)
            put = getattr(dll, f"scipy_openblas_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                return get, put
    return None


@contextlib.contextmanager
def one_blas_thread():
    """numpy's matrix products in one thread, inside the ``with`` block.

    The trainer multiplies small matrices thousands of times (a batch of 32 x 64 against kernels of
    at most 64 x 64; the evaluation's, every ``eval_every`` steps, are the largest): on two cores
    OpenBLAS's extra threads saved no wall time there and cost CPU time (about 1.6 times that of one
    thread for :func:`train_numpy`, measured), so it runs in one.  The previous thread count is
    restored on exit.
    Without numpy's bundled OpenBLAS this changes nothing.

    Examples:
        >>> with one_blas_thread():
        ...     (np.ones((2, 2)) @ np.ones((2, 2))).tolist()
        [[2.0, 2.0], [2.0, 2.0]]
    """
    found = _openblas()
    if found is None:
        yield
        return
    get, put = found
    before = get()
    put(1)
    try:
        yield
    finally:
        put(before)


class _Stacked:
    """Forward and backward of several copies of one MLP at once, weights as one vector per copy.

    The weights of ``S`` networks are a ``(S, n_weights)`` float32 array; each layer's kernel and
    bias are views into it, so a course_lib optimizer and an EMA update all of them as one
    array.  A batch is ``(S, B, inputs)``: copy ``s`` sees its own batch.  The layers are
    :func:`course_lib.backprop.dense` and :func:`~course_lib.backprop.relu`, with matmul over the
    leading axis; the gradients are those of :meth:`MLP.backward`, written into one array.
    """

    def __init__(self, units, copies):
        self.units, self.copies = units, copies
        shapes = _shapes(units)
        ends = np.cumsum([int(np.prod(s)) for s in shapes])
        self.size = int(ends[-1])
        self.slices = [(slice(e - int(np.prod(s)), e), s) for s, e in zip(shapes, ends)]

    def views(self, vector):
        """``[(kernel, bias), ...]`` per layer: kernels ``(S, in, out)``, biases ``(S, 1, out)``."""
        lead = vector.shape[:-1]
        arrays = [vector[..., sl].reshape(lead + s) for sl, s in self.slices]
        return [(k, b[..., None, :]) for k, b in zip(arrays[0::2], arrays[1::2])]

    def loss_and_grads(self, vector, x, y):
        """Per-copy mean cross-entropy ``(S,)`` and the gradients ``(S, n_weights)``."""
        layers = self.views(vector)
        inputs = [x]
        for i, (k, b) in enumerate(layers):
            z = dense(inputs[-1], k, b)
            inputs.append(relu(z) if i < len(layers) - 1 else z)
        d = softmax(inputs.pop())                               # d loss / d logits = (p - onehot) / B
        picked = np.take_along_axis(d, y[..., None], axis=-1)
        losses = -np.log(picked[..., 0]).mean(axis=1)
        np.put_along_axis(d, y[..., None], picked - 1, axis=-1)
        d /= np.float32(x.shape[1])
        grads = [None] * (2 * len(layers))
        for i in reversed(range(len(layers))):                  # MLP.backward, batched
            a = inputs[i]
            grads[2 * i] = np.matmul(np.swapaxes(a, 1, 2), d).reshape(self.copies, -1)
            grads[2 * i + 1] = d.sum(axis=1)
            if i:
                d = (d @ np.swapaxes(layers[i][0], 1, 2)) * (a > 0)
        return losses, np.concatenate(grads, axis=1)

    def evaluate(self, vector, x, y):
        """Per-copy ``(loss, accuracy)`` on the whole set ``x, y`` (shared by every copy)."""
        losses, accuracies = [], []
        for s in range(self.copies):
            z = x
            layers = self.views(vector[s])
            for i, (k, b) in enumerate(layers):
                z = dense(z, k, b)
                if i < len(layers) - 1:
                    z = relu(z)
            losses.append(softmax_cross_entropy(y, z))
            accuracies.append(accuracy(y, z))
        return np.asarray(losses), np.asarray(accuracies)


class Fit(NamedTuple):
    """What :func:`fit` measured."""

    eval_steps: np.ndarray      # the updates after which ``evaluate`` ran (0 = the start)
    curves: tuple               # one array per value ``evaluate`` returns, stacked along ``eval_steps``
    ema_curves: Any             # the same for the EMA of the weights; None without ``ema``
    ratios: Any                 # (len(eval_steps) - 1, arrays): |Δw| / |w| of each measured update; None if not asked
    batch_losses: Any           # the batch loss of every update (before its step); None if not asked
    grad_norms: Any             # the global norm of every update's batch gradient; None if not asked
    learning_rates: np.ndarray  # the rate of every update made (float32; (updates, runs, 1) for stacked runs' own)
    params: Any                 # the final weights (with stop_on_overflow, the last finite ones)
    averaged: Any               # the final EMA of the weights; None without ``ema``
    diverged_at: Optional[int]  # the update whose weights or measures overflowed (stop_on_overflow), or None


def _finite(values):
    return all(np.isfinite(v).all() for v in values)


def fit(loss_and_grad, params, x, y, optimizer, batches, evaluate, eval_every=10, ema=None, l2=0.0, ratios=False,
        batch_losses=False, grad_norms=False, stop_on_overflow=False):
    """The course's one mini-batch training loop: every update, then a measure every ``eval_every`` updates.

    Update ``k`` (1, 2, ...) takes the gradient ``loss_and_grad(params, x[i], y[i])`` on the
    indices ``i = batches[k - 1]``, adds ``2 * l2 * w`` when ``l2 > 0`` (Keras's L2 penalty on
    every array, biases included), and lets ``optimizer`` step with its learning rate at
    ``k - 1``.  An optional :class:`~course_lib.moving_averages.ExponentialMovingAverage` is
    applied after every update with ``num_updates = k``.  At the start, after every
    ``eval_every``-th update and after the last, ``evaluate(params)`` returns a tuple of
    measures (losses, accuracies: numbers or arrays), recorded in :attr:`Fit.curves`, and
    for the average in :attr:`Fit.ema_curves`.  Optional measurements: ``ratios`` (the
    update-to-weight ratio ``|Δw| / |w|`` of every array for each measured update, NaN for an
    all-zero array), ``batch_losses`` (the loss of every update's batch, computed before its
    step: free, since the gradient needs it), ``grad_norms`` (every batch gradient's global norm, before ``l2`` and
    before any clipping inside the optimizer), ``stop_on_overflow`` (stop at the first update
    whose weights or measures are not finite, and set ``diverged_at``).

    :func:`train_numpy` (several digits networks stacked as one weight vector) and
    :func:`course_lib.practice.train` (any model of lesson 06's form) are this loop with their
    own ``loss_and_grad``, ``batches`` and ``evaluate``.

    Args:
        loss_and_grad: ``(params, x_batch, y_batch) -> (loss, grads)``, grads shaped like params.
        params: the starting weights (an array or a tree of arrays; not modified).
        x, y: the training data, indexed by each entry of ``batches``.
        optimizer: a course_lib optimizer (its state is made here).
        batches: one index array per update (e.g. from :func:`batches`); their number is the number of updates.
        evaluate: ``params -> tuple`` of measures.
        eval_every: measure every this many updates (and at 0 and the last), >= 1.
        ema, l2, ratios, batch_losses, grad_norms, stop_on_overflow: as above (``l2 >= 0``).

    Examples:
        >>> from course_lib.descent import linear_mse
        >>> from course_lib.optimizers import SGD
        >>> x = np.linspace(0, 1, 64)[:, None]; y = 3 * x + 2
        >>> p = {"kernel": np.ones((1, 1)), "bias": np.ones(1)}
        >>> out = fit(linear_mse, p, x, y, SGD(0.5), batches(64, 16, 100), lambda q: (linear_mse(q, x, y)[0],),
        ...           eval_every=50)
        >>> out.eval_steps.tolist(), bool(out.curves[0][-1] < 1e-3)
        ([0, 50, 100], True)
    """
    steps = check_int("steps (the number of batches)", len(batches), 1)
    eval_every = check_int("eval_every", eval_every, 1)
    l2 = check_number("l2", l2, 0)
    state = optimizer.init(params)
    ema_state = None if ema is None else ema.init(params)
    rows, ema_rows, ratio_rows, losses, norms, eval_steps = [], [], [], [], [], [0]
    rates = []
    diverged = None
    with contextlib.ExitStack() as stack:
        if stop_on_overflow:
            stack.enter_context(np.errstate(over="ignore", invalid="ignore", divide="ignore"))
        rows.append(tuple(evaluate(params)))
        if ema is not None:
            ema_rows.append(tuple(evaluate(ema.average(ema_state))))
        for step in range(1, steps + 1):
            idx = batches[step - 1]
            rates.append(optimizer.learning_rate_at(step - 1))
            loss, grads = loss_and_grad(params, x[idx], y[idx])
            if batch_losses:
                losses.append(float(loss))
            if grad_norms:
                norms.append(float(np.sqrt(sum(np.sum(np.square(g)) for g in tree_leaves(grads)))))
            if l2:
                grads = tree_map(lambda g, w: g + (2 * l2) * w, grads, params)
            new, state = optimizer.step(params, grads, state)
            if stop_on_overflow and not _finite(tree_leaves(new)):
                diverged = step
                break
            if ema is not None:
                ema_state = ema.apply(new, ema_state, num_updates=step)
            if step % eval_every == 0 or step == steps:
                row = tuple(evaluate(new))
                if stop_on_overflow and not _finite(row):
                    diverged = step
                    break
                eval_steps.append(step)
                rows.append(row)
                if ema is not None:
                    ema_rows.append(tuple(evaluate(ema.average(ema_state))))
                if ratios:
                    ratio_rows.append([float(np.linalg.norm(a - b)) / nb if (nb := float(np.linalg.norm(b))) else
                                       math.nan for b, a in zip(tree_leaves(params), tree_leaves(new))])
            params = new

    def stacked(table):
        return tuple(np.asarray([row[j] for row in table]) for j in range(len(table[0])))

    return Fit(np.asarray(eval_steps), stacked(rows), stacked(ema_rows) if ema is not None else None,
               np.asarray(ratio_rows).reshape(len(ratio_rows), -1) if ratios else None,
               np.asarray(losses) if batch_losses else None, np.asarray(norms) if grad_norms else None,
               np.asarray(rates, dtype=np.float32), params,
               None if ema is None else ema.average(ema_state), diverged)


class _RunRates:
    """A learning rate per stacked run and step: ``rates(step)`` is the column ``table[step]`` (runs, 1)."""

    def __init__(self, table):
        self.table = table

    def __call__(self, step):
        return self.table[step]

    def __repr__(self):
        return f"<{self.table.shape[1]} stacked runs' learning rates for {self.table.shape[0]} steps>"


def _stacked_optimizer(optimizers, seeds, steps):
    """One optimizer that updates ``len(optimizers) * len(seeds)`` stacked runs, each with its own rates."""
    if not isinstance(optimizers, (list, tuple)):
        optimizers = [optimizers]
    if not optimizers:
        raise ValueError("`optimizer` must be an optimizer or a non-empty list of them; got an empty list.")
    for o in optimizers:
        if not isinstance(o, Optimizer):
            raise TypeError(f"`optimizer` must be a course_lib optimizer (course_lib.optimizers), or a list of "
                            f"them; got {type(o).__name__}.")
    first = optimizers[0]

    def settings(o):
        return {k: v for k, v in vars(o).items() if k != "learning_rate"}

    for o in optimizers[1:]:
        if type(o) is not type(first) or settings(o) != settings(first):
            raise ValueError(f"`optimizer`: the optimizers of a list must differ only in their learning rate; "
                             f"got {first!r} and {o!r}.")
    if first.clipnorm is not None:
        raise ValueError("`optimizer`: clipnorm clips each tensor on its own, and train_numpy keeps each run's "
                         "weights as one vector; use global_clipnorm with one seed, or train().")
    if first.global_clipnorm is not None and len(optimizers) * len(seeds) > 1:
        raise ValueError("`optimizer`: global_clipnorm would clip all the stacked runs together; "
                         "train one optimizer and one seed at a time (seeds=(s,)).")
    table = np.repeat(np.stack([o.learning_rates(steps) for o in optimizers], axis=1), len(seeds), axis=1)
    stacked = copy.copy(first)
    stacked.learning_rate = _RunRates(table[:, :, None])
    return stacked, len(optimizers)


def train_numpy(optimizer, data, steps=3000, batch_size=32, seeds=(0,), eval_every=100, ema=None,
                initial_weights=None, hidden=(64, 32), label=""):
    """Train the digits MLP with a course_lib ``optimizer`` in numpy, one run per seed; a list of :class:`Run`.

    The same run as :func:`train` (same network, batches from :func:`batches` with each run's
    seed, the optimizer's learning rate at step 0 for the first update, an optional
    :class:`~course_lib.moving_averages.ExponentialMovingAverage` applied after every update with
    ``num_updates`` = the updates so far, curves every ``eval_every`` steps), without TensorFlow:
    the runs of all ``seeds`` are stacked into one ``(seeds, 6570)`` array and trained together,
    which costs little more than one run.  Each run starts from :func:`numpy_initial_weights` of
    its seed, or from ``initial_weights`` (one weight list per seed, e.g. ``[get_weights(build_mlp(0))]``).
    ``Run.seconds`` is the wall time of all the runs divided by their number.

    ``optimizer`` may also be a list of optimizers of one class that differ only in their learning
    rate (a grid of rates, say): every one is run with every seed, all stacked together, each run
    with its own rates, and the runs come back optimizer by optimizer, then seed by seed (a run
    gets the bits it gets alone).  ``label`` may then be a list with one label per optimizer.

    The optimizer updates each run's weights as one vector, so it must act element by element:
    ``clipnorm`` (per tensor) is refused, and ``global_clipnorm`` too with more than one run.

    Args:
        optimizer: a course_lib optimizer (its state is made here), or a list of them as above.
        data: a :class:`Digits`.
        steps: the number of updates, >= 1.
        batch_size: examples per batch, 1 to the number of training images.
        seeds: the runs' seeds (integers >= 0, at least one): initial weights and batch order.
        eval_every: measure the curves every this many steps (and at 0 and ``steps``), >= 1.
        ema: an optional ExponentialMovingAverage of the weights.
        initial_weights: None, or one list of arrays (Keras's layout) per seed.
        hidden: the hidden layers' widths.
        label: the runs' label, or with a list of optimizers a list of labels, one per optimizer.

    Examples:
        >>> from course_lib.optimizers import SGD
        >>> runs = train_numpy(SGD(0.1), load_digits(), steps=50, seeds=(0, 1), eval_every=25)
        >>> len(runs), runs[0].eval_steps.tolist(), bool(runs[1].train_loss[-1] < runs[1].train_loss[0])
        (2, [0, 25, 50], True)
        >>> grid = train_numpy([SGD(0.01), SGD(0.1)], load_digits(), steps=50, seeds=(0, 1), eval_every=25,
        ...                    label=["0.01", "0.1"])
        >>> [r.label for r in grid], bool(grid[3].train_loss[-1] == runs[1].train_loss[-1])
        (['0.01', '0.01', '0.1', '0.1'], True)
    """
    steps = check_int("steps", steps, 1)
    eval_every = check_int("eval_every", eval_every, 1)
    if isinstance(seeds, (int, np.integer)) or not hasattr(seeds, "__len__") or len(seeds) == 0:
        raise ValueError(f"`seeds` must be a non-empty list of integers >= 0; got {seeds!r}.")
    seeds = [check_int("seeds", s, 0) for s in seeds]
    stacked, groups = _stacked_optimizer(optimizer, seeds, steps)
    labels = [label] * groups if isinstance(label, str) else list(label)
    if len(labels) != groups:
        raise ValueError(f"`label` must be one label, or a list of one label per optimizer ({groups}); "
                         f"got {label!r}.")
    units = _units(hidden, data.x_train.shape[1], 10)
    if initial_weights is None:
        initial_weights = [numpy_initial_weights(s, hidden) for s in seeds]
    if len(initial_weights) != len(seeds):
        raise ValueError(f"`initial_weights` must hold one weight list per seed ({len(seeds)}); "
                         f"got {len(initial_weights)}.")
    copies = groups * len(seeds)
    net = _Stacked(units, copies)
    w = np.stack([flatten_weights(iw) for iw in initial_weights] * groups)
    if w.shape[1] != net.size:
        raise ValueError(f"`initial_weights` must hold {net.size} weights per run (the network {units}); "
                         f"got {w.shape[1]}.")
    start = time.perf_counter()
    order = np.stack([np.stack(batches(len(data.x_train), batch_size, steps, s)) for s in seeds] * groups, axis=1)
    y_train = data.y_train.astype(np.int64)
    y_val = data.y_val.astype(np.int64)

    def evaluate(vector):
        tl = net.evaluate(vector, data.x_train, y_train)[0]
        vl, va = net.evaluate(vector, data.x_val, y_val)
        return tl, vl, va

    with one_blas_thread():
        out = fit(net.loss_and_grads, w, data.x_train, y_train, stacked, order, evaluate, eval_every, ema=ema)
    seconds = (time.perf_counter() - start) / copies
    runs = []
    for i in range(copies):
        tl, vl, va = (c[:, i] for c in out.curves)
        etl, evl, eva = (None, None, None) if ema is None else (c[:, i] for c in out.ema_curves)
        runs.append(Run(labels[i // len(seeds)], out.eval_steps, tl, vl, va, etl, evl, eva,
                        out.learning_rates[:, i, 0].astype(np.float64),
                        [a.copy() for a in unflatten_weights(out.params[i], hidden)],
                        None if ema is None else [a.copy() for a in unflatten_weights(out.averaged[i], hidden)],
                        seconds))
    return runs


# --------------------------------------------------------------------------- several seeds
class SeedSpread(NamedTuple):
    mean: float             # the mean over the seeds
    standard_error: float   # the sample standard deviation (n - 1) over sqrt(n): how far the mean may be off
    values: np.ndarray      # one value per seed

    def within_noise(self, k=2.0):
        """True when ``|mean| <= k * standard_error``: a difference this small could be chance."""
        return bool(abs(self.mean) <= check_number("k", k, 0) * self.standard_error)

    def __str__(self):
        return f"{self.mean:.4f} ± {self.standard_error:.4f}"


def seed_spread(values):
    """The mean of one measure over several seeds, with its standard error.

    ``standard_error = std(values, ddof=1) / sqrt(n)``: with n seeds, the mean of a new set of
    n seeds would typically land within about one standard error of this one.

    Examples:
        >>> s = seed_spread([1.0, 2.0, 3.0])
        >>> s.mean, round(s.standard_error, 4), str(s)
        (2.0, 0.5774, '2.0000 ± 0.5774')
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"`values` must hold one number per seed, at least 2; got shape {values.shape}.")
    return SeedSpread(float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size)), values)


def paired_difference(a, b):
    """``a - b`` seed by seed, as a :class:`SeedSpread`.

    Runs with the same seed share their starting weights and their batches, so much of what
    makes two seeds differ can cancel in the difference: its standard error is then smaller than
    the unpaired ``sqrt(se_a**2 + se_b**2)``.  Not always: when the seeds that do better with ``a``
    do worse with ``b`` (a negative correlation), the paired standard error is the larger one.

    Examples:
        >>> d = paired_difference([1.0, 2.0, 3.0], [0.9, 1.9, 2.8])
        >>> round(d.mean, 4), d.within_noise()
        (0.1333, False)
        >>> a, b = [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]          # opposite orders: pairing does not help
        >>> unpaired = np.hypot(seed_spread(a).standard_error, seed_spread(b).standard_error)
        >>> bool(paired_difference(a, b).standard_error > unpaired)
        True
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"`a` and `b` must hold one value per seed, the same seeds; got shapes {a.shape} "
                         f"and {b.shape}.")
    return seed_spread(a - b)


def study_table(runs, n_val=None):
    """A plain-text table of multi-seed runs: final training loss, validation loss and accuracy
    (and the EMA's validation loss when the runs have one), each as mean ± standard error.

    ``runs`` maps a label to a list of :class:`Run` (one per seed).  With ``n_val`` (the number of
    validation images) the accuracy column counts misclassified images instead.
    """
    if not runs:
        raise ValueError("`runs` must map at least one label to a list of runs.")
    width = max(len("configuration"), *(len(str(k)) for k in runs))
    wrong = n_val is not None
    head = (f"{'configuration':<{width}}  {'train loss':>8s}  {'val loss':>15s}  "
            f"{'misclassified' if wrong else 'val accuracy':>15s}  {'EMA val loss':>15s}")
    lines = [head, "-" * len(head)]
    for label, seeds in runs.items():
        if len(seeds) < 2:
            raise ValueError(f"`runs[{label!r}]` must hold at least 2 runs (seeds); got {len(seeds)}.")
        train_loss = seed_spread([r.train_loss[-1] for r in seeds])
        val_loss = seed_spread([r.val_loss[-1] for r in seeds])
        acc = seed_spread([(1 - r.val_accuracy[-1]) * n_val if wrong else r.val_accuracy[-1] for r in seeds])
        acc_text = f"{acc.mean:6.1f} ± {acc.standard_error:4.1f}" if wrong else str(acc)
        ema = ("" if seeds[0].ema_val_loss is None else str(seed_spread([r.ema_val_loss[-1] for r in seeds])))
        lines.append(f"{str(label):<{width}}  {train_loss.mean:10.4f}  {str(val_loss):>15s}  {acc_text:>15s}  "
                     f"{ema:>15s}")
    return "\n".join(lines)
