"""TensorFlow twins of course_lib's hand-rolled runs: the only module that imports TensorFlow.

Each function here runs the same computation as a course_lib function, with
``tf.Variable``, ``tf.GradientTape`` and ``tf.keras.optimizers``, and returns results
of the same shape, so a notebook can put both side by side and print the difference.

Importing this module checks that the installed TensorFlow and Keras are the versions the
course was tested with, and says which to install if they are not.  (Python imports the package
first, whose ``__init__`` sets :data:`course_lib.TF_ENVIRONMENT`, so TensorFlow starts quiet.)
"""

import numpy as np

from .core import as_param_tree, check_int, tree_leaves, tree_stack, tree_unflatten
from .descent import Trajectory, linear_mse
from .objectives import Quadratic, Rosenbrock

try:
    import keras
    import tensorflow as tf
except ImportError as exc:  # pragma: no cover - depends on the machine
    raise ImportError(f"TensorFlow could not be imported ({exc}). Install the course's packages with "
                      "`pip install -r requirements.txt`.") from exc

__all__ = ["tf", "keras", "TESTED_TENSORFLOW", "TESTED_KERAS", "check_versions", "set_seed", "objective_fn",
           "minimize", "apply_gradients", "linear_model", "batch_dataset", "fit_linear"]

TESTED_TENSORFLOW = ((2, 16), (2, 21))  # inclusive range of minor versions
TESTED_KERAS = ((3, 0), (3, 15))


def _version_tuple(text):
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_versions(tf_version, keras_version):
    """Raise ``ImportError`` with install advice when a version is outside the tested range."""
    problems = []
    for label, version, (low, high) in (("TensorFlow", tf_version, TESTED_TENSORFLOW),
                                        ("Keras", keras_version, TESTED_KERAS)):
        if not low <= _version_tuple(version) <= high:
            problems.append(f"{label} {version} is installed, but the course is tested with "
                            f"{label} {low[0]}.{low[1]} to {high[0]}.{high[1]}")
    if problems:
        raise ImportError("; ".join(problems) + ". Install the tested versions with "
                          "`pip install -r requirements.txt` in the course's virtual environment.")


check_versions(tf.__version__, keras.__version__)


def set_seed(seed=0):
    """Seed Python, numpy and TensorFlow, and make TensorFlow's kernels deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def objective_fn(objective):
    """The objective written with TensorFlow operations, for ``tf.GradientTape``.

    The seeds' 1-D loss is written exactly as they wrote it, ``tf.square(w + 1)``.
    """
    if isinstance(objective, Quadratic):
        h, c = objective.h, objective.minimizer
        if h.ndim == 0:
            if h == 2.0:
                return lambda w: tf.square(w - tf.cast(c, w.dtype))
            return lambda w: tf.cast(h * 0.5, w.dtype) * tf.square(w - tf.cast(c, w.dtype))
        hm = np.diag(h) if h.ndim == 1 else h

        def quadratic(x):
            d = x - tf.cast(c, x.dtype)
            return 0.5 * tf.reduce_sum(d * tf.linalg.matvec(tf.cast(hm, x.dtype), d))
        return quadratic
    if isinstance(objective, Rosenbrock):
        a, b = objective.a, objective.b
        return lambda x: (a - x[0]) ** 2 + b * (x[1] - x[0] ** 2) ** 2
    raise TypeError(f"no TensorFlow form is written for {objective!r}.")


def minimize(objective, x0, optimizer, steps):
    """The twin of :func:`course_lib.descent.minimize`: ``tf.Variable`` + ``GradientTape``.

    ``optimizer`` is a Keras optimizer, e.g. ``tf.keras.optimizers.SGD(0.2)``.  TensorFlow
    computes the gradient itself, from :func:`objective_fn`.
    """
    steps = check_int("steps", steps, 0)
    x0 = np.asarray(x0)
    w = tf.Variable(x0, dtype=x0.dtype if x0.dtype in (np.float32, np.float64) else np.float32)
    loss_fn = objective_fn(objective)
    params, losses = [w.numpy()], [loss_fn(w).numpy()]
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = loss_fn(w)
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])
        params.append(w.numpy())
        losses.append(loss_fn(w).numpy())
    return Trajectory(np.stack(params), np.asarray(losses), None, f"finished {steps} steps")


def apply_gradients(optimizer, params0, grad_fn, steps):
    """Apply a Keras optimizer ``steps`` times with gradients computed by ``grad_fn`` in numpy.

    ``grad_fn(params) -> grads`` receives the current values as numpy (same structure as
    ``params0``), which is how a parity test feeds the Keras optimizer and a course_lib
    optimizer exactly the same gradients.  Returns the parameters after every step,
    stacked on a leading axis.
    """
    steps = check_int("steps", steps, 0)
    params0 = as_param_tree("params0", params0)
    variables = [tf.Variable(leaf) for leaf in tree_leaves(params0)]

    def current():
        return tree_unflatten(params0, [v.numpy() for v in variables])

    history = [current()]
    for _ in range(steps):
        grads = tree_leaves(as_param_tree("grads", grad_fn(history[-1])))
        optimizer.apply_gradients([(tf.constant(g, dtype=v.dtype), v) for g, v in zip(grads, variables)])
        history.append(current())
    return tree_stack(history)


def linear_model(kernel0, bias0):
    """A Keras ``Dense`` model without activation (``x @ kernel + bias``) holding the given weights."""
    kernel0, bias0 = np.asarray(kernel0, np.float32), np.asarray(bias0, np.float32)
    if kernel0.ndim != 2 or bias0.shape != (kernel0.shape[1],):
        raise ValueError(f"`kernel0` must have shape (inputs, units) and `bias0` shape (units,); "
                         f"got {kernel0.shape} and {bias0.shape}.")
    model = keras.Sequential([keras.Input(shape=(kernel0.shape[0],)), keras.layers.Dense(kernel0.shape[1])])
    model.layers[0].set_weights([kernel0, bias0])
    return model


def batch_dataset(x, y, batches):
    """The given batches of ``(x, y)``, in the given order, as one ``tf.data`` stream.

    ``batches`` comes from :func:`course_lib.data.batch_indices` (a list of epochs, each a
    list of index arrays).  One ``model.fit(dataset, epochs=1, shuffle=False)`` then makes
    exactly the updates the hand-rolled :func:`course_lib.descent.fit` made, batch for batch,
    however the epochs were shuffled and whatever size each batch has.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(f"`x` and `y` must hold one row per example, the same number of rows; "
                         f"got shapes {x.shape} and {y.shape}.")
    try:
        order = [np.asarray(idx) for epoch in batches for idx in epoch]
    except TypeError:
        raise TypeError("`batches` must be a list of epochs, each a list of index arrays "
                        "(as data.batch_indices returns).") from None
    for idx in order:
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= len(x):
            raise ValueError(f"`batches` must hold non-empty 1-D integer index arrays with values in "
                             f"[0, {len(x) - 1}]; got {idx!r}.")
    spec = (tf.TensorSpec((None,) + x.shape[1:], x.dtype), tf.TensorSpec((None,) + y.shape[1:], y.dtype))
    stream = tf.data.Dataset.from_generator(lambda: ((x[i], y[i]) for i in order), output_signature=spec)
    return stream.apply(tf.data.experimental.assert_cardinality(len(order)))


def fit_linear(x, y, batches, optimizer, kernel0, bias0):
    """Keras's ``model.fit`` on a :func:`linear_model` started from ``kernel0`` and ``bias0``,
    fed the given batches in the given order.

    One ``model.fit`` call over :func:`batch_dataset` sees exactly the batches the
    hand-rolled :func:`course_lib.descent.fit` saw.  ``optimizer`` is a Keras optimizer or
    its name.  Returns the kernel and bias after every update, like
    :class:`course_lib.descent.Trajectory`.
    """
    model = linear_model(kernel0, bias0)
    model.compile(optimizer=optimizer, loss="mean_squared_error")
    layer = model.layers[0]
    history = [{"kernel": layer.kernel.numpy(), "bias": layer.bias.numpy()}]

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            history.append({"kernel": layer.kernel.numpy(), "bias": layer.bias.numpy()})

    model.fit(batch_dataset(x, y, batches), epochs=1, shuffle=False, verbose=0, callbacks=[Record()])
    losses = np.array([linear_mse(p, x, y)[0] for p in history])  # the loss descent.fit records
    return Trajectory(tree_stack(history), losses, None, f"finished {len(history) - 1} updates")
