"""TensorFlow twins of course_lib's hand-rolled runs: the only module that imports TensorFlow.

Each function here runs the same computation as a course_lib function, with
``tf.Variable``, ``tf.GradientTape`` and ``tf.keras.optimizers``, and returns results
of the same shape, so a notebook can put both side by side and print the difference.

Importing this module checks that the installed TensorFlow and Keras are the versions the
course was tested with, and says which to install if they are not.  (Python imports the package
first, whose ``__init__`` sets :data:`course_lib.TF_ENVIRONMENT`, so TensorFlow starts quiet.)
"""

import contextlib
from typing import NamedTuple

import numpy as np

from .core import as_param_tree, check_bool, check_int, tree_leaves, tree_stack, tree_unflatten
from .descent import Trajectory, linear_mse
from .objectives import Quadratic, Rosenbrock

try:
    import keras
    import tensorflow as tf
except ImportError as exc:  # pragma: no cover - depends on the machine
    raise ImportError(f"TensorFlow could not be imported ({exc}). Install the course's packages with "
                      "`pip install -r requirements.txt`.") from exc

__all__ = ["tf", "keras", "TESTED_TENSORFLOW", "TESTED_KERAS", "check_versions", "set_seed", "objective_fn",
           "minimize", "apply_gradients", "compiled_apply", "grappler_off", "linear_model", "batch_dataset",
           "fit_linear", "use_logical_cpus", "MirroredRun", "mirrored_sgd"]

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


def apply_gradients(optimizer, params0, grad_fn, steps, compiled=False):
    """Apply a Keras optimizer ``steps`` times with gradients computed by ``grad_fn`` in numpy.

    ``grad_fn(params) -> grads`` receives the current values as numpy (same structure as
    ``params0``), which is how a parity test feeds the Keras optimizer and a course_lib
    optimizer exactly the same gradients.  Returns the parameters after every step,
    stacked on a leading axis.

    ``compiled=True`` runs each update through :func:`compiled_apply`: the same results to the
    last bit (``tests/test_optimizers_keras.py`` and ``tests/test_practice_tf.py`` check it), in
    well under half the time.  The default, ``False``, applies each update eagerly, as a notebook
    cell does.
    """
    steps = check_int("steps", steps, 0)
    params0 = as_param_tree("params0", params0)
    compiled = check_bool("compiled", compiled)
    variables = [tf.Variable(leaf) for leaf in tree_leaves(params0)]

    def current():
        return tree_unflatten(params0, [v.numpy() for v in variables])

    def eager(grads):
        optimizer.apply_gradients(list(zip(grads, variables)))

    update = compiled_apply(optimizer, variables) if compiled else eager
    history = [current()]
    for _ in range(steps):
        grads = tree_leaves(as_param_tree("grads", grad_fn(history[-1])))
        update([tf.constant(g, dtype=v.dtype) for g, v in zip(grads, variables)])
        history.append(current())
    return tree_stack(history)


def compiled_apply(optimizer, variables):
    """``apply(grads)``: ``optimizer.apply_gradients(zip(grads, variables))`` as one call of a
    ``tf.function``, traced on the first call, run with TensorFlow's graph optimizer (Grappler) off.

    With Grappler off the graph executes the operations eager execution would, in the same order,
    so the updates are the same to the last bit; with it on, its rewrites of the arithmetic can
    change the last bit of a weight, and a long run can amplify that.  Tracing costs a few tenths
    of a second once; each update then costs a fraction of an eager one (about 1-1.5 ms against 10 ms
    for Adam on the capstone's 6,570 weights), so it pays from a few dozen updates on.  The first
    call's concrete function is kept and called directly, so every call must pass gradients of the
    first call's shapes and dtypes (those of ``variables``, as gradients are).
    """
    variables = list(variables)
    update = tf.function(lambda grads: optimizer.apply_gradients(list(zip(grads, variables))), autograph=False)
    # One tf.function per optimizer is deliberate; TensorFlow's "frequent retracing" warning would
    # count the traces of all of them together.
    update._omit_frequent_tracing_warning = True
    traced = []   # the concrete function of the first call's gradients: later calls skip tf.function's lookup

    def apply(grads):
        grads = list(grads)
        with grappler_off():
            if not traced:
                traced.append(update.get_concrete_function(grads))
            traced[0](grads)
    return apply


@contextlib.contextmanager
def grappler_off():
    """TensorFlow's graph optimizer, Grappler, off inside the block (as it was before, after it).

    A ``tf.function`` first called inside the block runs the operations it traced, as eager code
    would, in the same order; Grappler would otherwise rewrite the arithmetic (fold constants,
    regroup products), which can change the last bit of a float32 result.
    """
    before = tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": before})


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


# --------------------------------------------------------------------------- data parallelism (lesson 03)
def use_logical_cpus(count=2):
    """Split the machine's first CPU into ``count`` logical devices, so that ``tf.distribute`` has replicas.

    TensorFlow fixes its devices the first time it uses them, so call this before any tensor is
    made (lesson 03 calls it in its imports cell).  Calling it again with the same count is harmless.

    Args:
        count: the number of logical CPU devices, an integer >= 1.

    Returns:
        The logical CPU devices' names, e.g. ``['/device:CPU:0', '/device:CPU:1']``.

    Raises:
        RuntimeError: TensorFlow already started its devices with another count.
    """
    count = check_int("count", count, 1)
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise RuntimeError(f"TensorFlow has already started its devices, so it cannot split the CPU into "
                               f"`count`={count} logical devices now: call use_logical_cpus first, before any "
                               "TensorFlow computation (restart the kernel).") from None
    return [d.name for d in tf.config.list_logical_devices("CPU")]


class MirroredRun(NamedTuple):
    mirrored: np.ndarray  # [w, b] after every data-parallel step, shape (steps + 1, 2), float32
    single: np.ndarray    # [w, b] after every single-device step on the whole batch, the same shape
    shares: np.ndarray    # every replica's gradient share before the all-reduce: (steps, replicas, 2)


def mirrored_sgd(x, y, theta0, learning_rate, batch_size, steps, replicas=2):
    """Data-parallel SGD of ``w x + b`` (mean squared error) with ``tf.distribute.MirroredStrategy``.

    Takes ``steps`` consecutive batches of ``batch_size`` examples from ``x, y``.  The strategy
    splits each global batch into ``replicas`` equal shards, one per logical CPU (see
    :func:`use_logical_cpus`); each replica divides its shard's summed loss by the *global*
    batch size (``tf.nn.compute_average_loss``), so that Keras's ``SGD.apply_gradients``, which
    sums the replicas' gradients with an all-reduce before it updates, applies the whole batch's
    mean gradient.  The same batches also train a model on one device.  The steps run inside
    ``tf.function``.  Numpy's twin: the shards' mean gradients averaged by
    ``course_lib.noise.all_reduce_mean``.

    Args:
        x, y: the data, ``(N, 1)`` arrays (cast to float32).
        theta0: the start ``[w, b]``.
        learning_rate: Keras ``SGD``'s rate, >= 0.
        batch_size: the global batch, a multiple of ``replicas``, with ``steps * batch_size <= N``.
        steps: the number of steps, >= 1.
        replicas: the number of replicas, an integer in [1, number of logical CPUs].

    Returns:
        :class:`MirroredRun`.
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1, 1)
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    if len(x) != len(y):
        raise ValueError(f"`x` and `y` must hold the same number of examples; got {len(x)} and {len(y)}.")
    devices = tf.config.list_logical_devices("CPU")
    replicas = check_int("replicas", replicas, 1, len(devices))
    steps = check_int("steps", steps, 1)
    batch_size = check_int("batch_size", batch_size, replicas, len(x) // steps)
    if batch_size % replicas:
        raise ValueError(f"`batch_size`={batch_size} does not split into `replicas`={replicas} equal shards: "
                         "use a multiple of the number of replicas.")
    if isinstance(learning_rate, bool) or not np.isfinite(learning_rate) or learning_rate < 0:
        raise ValueError(f"`learning_rate` must be a finite number in [0, inf); got {learning_rate!r}.")
    w0, b0 = (float(v) for v in np.asarray(theta0, dtype=np.float64).reshape(2))
    strategy = tf.distribute.MirroredStrategy([f"/cpu:{k}" for k in range(replicas)])
    with strategy.scope():
        w, b = tf.Variable([[w0]]), tf.Variable([b0])
        mirrored_opt = keras.optimizers.SGD(learning_rate)
    w1, b1, single_opt = tf.Variable([[w0]]), tf.Variable([b0]), keras.optimizers.SGD(learning_rate)

    @tf.function
    def mirrored_step(xs, ys):
        def replica_step(xs, ys):
            with tf.GradientTape() as tape:
                per_example = tf.reduce_mean(tf.square(xs @ w + b - ys), axis=1)
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch_size)
            grads = tape.gradient(loss, [w, b])
            mirrored_opt.apply_gradients(zip(grads, [w, b]))   # all-reduce (sum), then the update
            return grads
        return strategy.run(replica_step, args=(xs, ys))

    @tf.function
    def single_step(xs, ys):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(xs @ w1 + b1 - ys))
        single_opt.apply_gradients(zip(tape.gradient(loss, [w1, b1]), [w1, b1]))

    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    mirrored, single, shares = [[w0, b0]], [[w0, b0]], []
    for step, (xs, ys) in zip(range(steps), strategy.experimental_distribute_dataset(dataset)):
        grads = mirrored_step(xs, ys)
        local = [[t.numpy().item() for t in strategy.experimental_local_results(g)] for g in grads]
        shares.append(np.array(local, dtype=np.float32).T)
        single_step(x[step * batch_size:(step + 1) * batch_size], y[step * batch_size:(step + 1) * batch_size])
        mirrored.append([w.numpy().item(), b.numpy().item()])
        single.append([w1.numpy().item(), b1.numpy().item()])
    return MirroredRun(np.array(mirrored, dtype=np.float32), np.array(single, dtype=np.float32), np.array(shares))
