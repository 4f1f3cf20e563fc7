"""The practice of training (lesson 09): what a practitioner measures when a network will not train.

Everything works on any model given as ``loss_and_grad(params, x, y) -> (loss, grads)``, such as
:meth:`course_lib.backprop.MLP.loss_and_grad` (lesson 06), with parameters as a tree of arrays
(:mod:`course_lib.core`).  The pieces::

    test = lr_range_test(net.loss_and_grad, params, x, y)        # the learning-rate range test
    ratios = update_ratios(before, after)                         # |Δw| / |w| per parameter
    top = top_hessian_eigenvalue(grad_fn, params)                 # λmax, so 2/λmax (lesson 02)
    clipped, norm = clip_by_global_norm(grads, 1.0)               # tf.clip_by_global_norm
    grads = l2_gradients(grads, params, l2=1e-4)                  # Keras's L2 regularizer
    result = random_search(objective, {"learning_rate": (1e-3, 1.0)}, trials=16)

Clipping and weight decay inside an optimizer are the optimizers' own arguments
(``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``weight_decay`` in
:mod:`course_lib.optimizers`, with Keras's semantics); :func:`clip_by_global_norm` is the same
computation as a pure function, as TensorFlow offers it beside its optimizers.

The Hessian is never formed: a Hessian-vector product is the change of the gradient along
``v``, ``H v ≈ (g(w + εv) - g(w - εv)) / 2ε`` (lesson 07's central difference, from
:mod:`course_lib.landscapes`, here on parameter trees), and power iteration needs nothing else.
"""

import math
from typing import Any, NamedTuple, Optional

import numpy as np

from .core import as_param_tree, check_int, check_number, check_same_structure, tree_leaves, tree_map, tree_unflatten
from .data import batch_indices
from .landscapes import flatten, hvp_finite_difference, unflatten
from .optimizers import SGD
from .training import batches, fit

__all__ = ["chance_loss", "log_uniform", "log_grid", "best_so_far", "SearchResult", "random_search", "grid_search",
           "RangeTest", "lr_range_test", "update_ratios", "global_norm", "clip_by_global_norm", "l2_penalty",
           "l2_gradients", "hessian_vector_product", "PowerIteration", "top_hessian_eigenvalue", "TrainingRun",
           "train", "accumulate"]


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int("seed", seed, 0))


def chance_loss(classes):
    """The cross-entropy of a network that gives every class the same probability: ``ln(classes)``.

    Args:
        classes: the number of classes, at least 2.

    Examples:
        >>> round(chance_loss(10), 4)
        2.3026
    """
    return math.log(check_int("classes", classes, 2))


# =========================================================================== hyperparameter search
def log_uniform(low, high, size=None, seed=0):
    """Numbers spread evenly in ``log``: ``exp(U(ln low, ln high))``, so each decade gets the same share.

    Args:
        low, high: the range, ``0 < low < high``.
        size: None for one number, else the shape of the array returned.
        seed: an integer >= 0, or a ``np.random.Generator`` (drawn from, and so advanced).

    Examples:
        >>> x = log_uniform(1e-4, 1.0, size=100000, seed=0)
        >>> bool(x.min() >= 1e-4 and x.max() <= 1.0)
        True
        >>> round(float(np.mean(x < 1e-2)), 2)          # two of the four decades
        0.5
    """
    low = check_number("low", low, 0, None, low_open=True)
    high = check_number("high", high, low, None, low_open=True)
    rng = _rng(seed)
    out = np.exp(rng.uniform(math.log(low), math.log(high), size))
    return float(out) if size is None else out


def log_grid(low, high, num):
    """``num`` values from ``low`` to ``high`` (both included), evenly spaced in ``log``.

    Examples:
        >>> log_grid(1e-3, 1.0, 4)
        array([0.001, 0.01 , 0.1  , 1.   ])
    """
    low = check_number("low", low, 0, None, low_open=True)
    high = check_number("high", high, low, None, low_open=True)
    return np.geomspace(low, high, check_int("num", num, 1))


def best_so_far(losses):
    """The lowest loss among the first 1, 2, ... trials (a NaN or diverged trial counts as +inf).

    Examples:
        >>> best_so_far([3.0, np.nan, 2.0, 2.5, 1.0])
        array([3., 3., 2., 2., 1.])
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 1 or losses.size == 0:
        raise ValueError(f"`losses` must be a non-empty 1-D sequence; got shape {losses.shape}.")
    return np.minimum.accumulate(np.where(np.isnan(losses), np.inf, losses))


class SearchResult(NamedTuple):
    configs: list          # one dict of hyperparameters per trial, in the order tried
    losses: np.ndarray     # the objective of each trial (inf where it diverged)
    best: np.ndarray       # best_so_far(losses)

    @property
    def best_config(self):
        """The hyperparameters of the trial with the lowest loss."""
        return self.configs[int(np.argmin(self.best))]


def _check_space(space):
    if not isinstance(space, dict) or not space:
        raise TypeError(f"`space` must be a non-empty dict {{name: (low, high)}}; got {space!r}.")
    out = {}
    for name, bounds in space.items():
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
            raise ValueError(f"`space[{name!r}]` must be a pair (low, high); got {bounds!r}.")
        low = check_number(f"space[{name!r}] low", bounds[0], 0, None, low_open=True)
        out[name] = (low, check_number(f"space[{name!r}] high", bounds[1], low, None, low_open=True))
    return out


def _run_trials(objective, configs):
    losses = []
    for config in configs:
        loss = float(objective(**config))
        losses.append(loss if np.isfinite(loss) else np.inf)
    losses = np.asarray(losses)
    return SearchResult(configs, losses, best_so_far(losses))


def random_search(objective, space, trials, seed=0):
    """Try ``trials`` configurations, each hyperparameter drawn log-uniformly from its range.

    Args:
        objective: ``objective(**config) -> loss``; a non-finite loss is recorded as ``inf``.
        space: ``{name: (low, high)}``, every range positive (searched on a log scale).
        trials: how many configurations, at least 1.
        seed: the seed of the draws (integer >= 0).

    Examples:
        >>> r = random_search(lambda lr: (math.log10(lr) + 2) ** 2, {"lr": (1e-4, 1.0)}, trials=8)
        >>> len(r.configs), bool(r.best[-1] <= r.best[0])
        (8, True)
    """
    space = _check_space(space)
    trials = check_int("trials", trials, 1)
    rng = _rng(seed)
    draws = {name: log_uniform(low, high, trials, rng) for name, (low, high) in space.items()}
    return _run_trials(objective, [{name: float(draws[name][i]) for name in space} for i in range(trials)])


def grid_search(objective, space, points, seed=None):
    """Try every combination of ``points`` log-spaced values per hyperparameter (``points ** len(space)`` trials).

    Args:
        objective, space: as for :func:`random_search`.
        points: values per hyperparameter, at least 1 (1 takes the geometric middle of the range).
        seed: None tries the grid in order (the last hyperparameter varying fastest); an integer
            tries it in a seeded random order, so that the best-so-far curve is not an artefact
            of the order.

    Examples:
        >>> r = grid_search(lambda a, b: a * b, {"a": (1.0, 100.0), "b": (1.0, 100.0)}, points=3)
        >>> len(r.configs), r.best_config
        (9, {'a': 1.0, 'b': 1.0})
    """
    space = _check_space(space)
    points = check_int("points", points, 1)
    axes = {name: (log_grid(low, high, points) if points > 1 else np.array([math.sqrt(low * high)]))
            for name, (low, high) in space.items()}
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    configs = [{name: float(m.flat[i]) for name, m in zip(axes, mesh)} for i in range(mesh[0].size)]
    if seed is not None:
        configs = [configs[i] for i in _rng(seed).permutation(len(configs))]
    return _run_trials(objective, configs)


# =========================================================================== the range test
class RangeTest(NamedTuple):
    rates: np.ndarray        # the learning rate of each update made (the test stops at a blow-up)
    losses: np.ndarray       # the batch loss each update was computed from
    smoothed: np.ndarray     # bias-corrected exponential moving average of the losses
    best_rate: float         # the rate at the lowest smoothed loss
    steepest_rate: float     # the rate where the smoothed loss falls fastest per decade of rate
    blowup_rate: Optional[float]  # the first rate whose smoothed loss exceeds stop_factor x the lowest; None
    params: Any              # the parameters at the lowest smoothed loss

    @property
    def suggestion(self):
        """A rate to train with: a tenth of the rate at the lowest loss (the rule fastai's ``lr_find`` shows)."""
        return self.best_rate / 10


def lr_range_test(loss_and_grad, params, x, y, min_lr=1e-4, max_lr=10.0, steps=100, batch_size=None,
                  optimizer=SGD, beta=0.9, stop_factor=4.0, seed=0):
    """One short run whose learning rate grows exponentially from ``min_lr`` to ``max_lr``.

    Update ``k`` (0, 1, ...) uses ``min_lr * (max_lr / min_lr) ** (k / (steps - 1))`` and
    records the batch loss it was computed from.  The losses are smoothed by an exponential
    moving average with bias correction (lesson 05); the test stops early once the smoothed
    loss exceeds ``stop_factor`` times its lowest value, or a loss overflows.

    Args:
        loss_and_grad: ``(params, x, y) -> (loss, grads)``.
        params: the starting parameters (a tree of arrays; not modified).
        x, y: the training data.
        min_lr, max_lr: the first and last rate, ``0 < min_lr < max_lr``.
        steps: how many updates at most, at least 2.
        batch_size: examples per batch (None: the whole data, so the test sees no batch noise).
        optimizer: a course_lib optimizer class, or a function ``learning_rate -> optimizer``.
        beta: the smoothing's decay in [0, 1).
        stop_factor: stop once the smoothed loss exceeds this multiple of its lowest value (> 1).
        seed: the seed of the batch order.

    Examples:
        >>> from course_lib.descent import linear_mse
        >>> x = np.linspace(0, 1, 20)[:, None]; y = 3 * x + 2
        >>> p = {"kernel": np.zeros((1, 1)), "bias": np.zeros(1)}
        >>> t = lr_range_test(linear_mse, p, x, y, min_lr=1e-3, max_lr=10.0, steps=60)
        >>> bool(t.best_rate < t.blowup_rate)
        True
    """
    params = as_param_tree("params", params)
    min_lr = check_number("min_lr", min_lr, 0, None, low_open=True)
    max_lr = check_number("max_lr", max_lr, min_lr, None, low_open=True)
    steps = check_int("steps", steps, 2)
    beta = check_number("beta", beta, 0, 1, high_open=True)
    stop_factor = check_number("stop_factor", stop_factor, 1, None, low_open=True)
    if not callable(optimizer):
        raise TypeError(f"`optimizer` must be an optimizer class or a function learning_rate -> optimizer; "
                        f"got {type(optimizer).__name__}.")
    n = len(x)
    order = batch_indices(n, batch_size, -(-steps // -(-n // (batch_size or n))), seed=seed)
    batches = [idx for epoch in order for idx in epoch][:steps]
    schedule = np.geomspace(min_lr, max_lr, steps)
    opt = optimizer(learning_rate=lambda k: schedule[min(int(k), steps - 1)])
    state = opt.init(params)
    losses, smoothed, average, blowup, best_params = [], [], 0.0, None, params
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k, idx in enumerate(batches):
            loss, grads = loss_and_grad(params, x[idx], y[idx])
            loss = float(loss)
            if not np.isfinite(loss):
                blowup = float(schedule[k])
                break
            average = beta * average + (1 - beta) * loss
            losses.append(loss)
            smoothed.append(average / (1 - beta ** (k + 1)))
            if smoothed[-1] > stop_factor * min(smoothed):
                blowup = float(schedule[k])
                break
            if smoothed[-1] <= min(smoothed):
                best_params = params
            params, state = opt.step(params, grads, state)
    rates = schedule[:len(losses)]
    smoothed = np.asarray(smoothed)
    best = int(np.argmin(smoothed))
    slope = np.gradient(smoothed[:best + 1], np.log10(rates[:best + 1])) if best > 0 else np.zeros(1)
    return RangeTest(rates, np.asarray(losses), smoothed, float(rates[best]), float(rates[int(np.argmin(slope))]),
                     blowup, best_params)


# =========================================================================== update-to-weight ratios
def update_ratios(before, after):
    """``|after - before| / |before|`` for every parameter (norms over the whole array), in its tree.

    A rule of thumb (CS231n's) asks for about ``1e-3`` per step: much less and the layer
    hardly learns, much more and the rate is too high for it.  An all-zero array (a bias at
    its start) has no ratio: NaN.

    Examples:
        >>> r = update_ratios({"kernel": np.array([3.0, 4.0])}, {"kernel": np.array([3.0, 4.005])})
        >>> round(r["kernel"], 6)
        0.001
    """
    before, after = as_param_tree("before", before), as_param_tree("after", after)
    check_same_structure("after", after, before, "before")

    def ratio(b, a):
        norm = float(np.linalg.norm(b))
        return float(np.linalg.norm(a - b)) / norm if norm else math.nan

    return tree_map(ratio, before, after)


# =========================================================================== clipping and L2
def global_norm(tree):
    """``sqrt`` of the sum of squares of every element of every array: ``tf.linalg.global_norm``.

    Examples:
        >>> float(global_norm([np.array([3.0]), np.array([4.0])]))
        5.0
    """
    leaves = tree_leaves(as_param_tree("tree", tree))
    return np.sqrt(sum(np.sum(np.square(leaf)) for leaf in leaves))


def clip_by_global_norm(grads, clip_norm):
    """All gradients scaled together so their global norm is at most ``clip_norm``: ``tf.clip_by_global_norm``.

    Returns ``(clipped, norm)``, the norm measured before clipping.  The direction of the whole
    update is kept (every array is scaled by the same ``clip_norm / max(norm, clip_norm)``);
    that is what ``global_clipnorm=`` does inside every course_lib (and Keras) optimizer.  A
    non-finite norm gives NaN gradients, as TensorFlow's does.

    Args:
        grads: a tree of arrays.
        clip_norm: the largest global norm allowed, > 0.

    Examples:
        >>> clipped, norm = clip_by_global_norm([np.array([3.0]), np.array([4.0])], 1.0)
        >>> clipped, float(norm)
        ([array([0.6]), array([0.8])], 5.0)
    """
    grads = as_param_tree("grads", grads)
    clip_norm = check_number("clip_norm", clip_norm, 0, None, low_open=True)
    norm = global_norm(grads)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = clip_norm * min(1.0 / norm, 1.0 / clip_norm) if np.isfinite(norm) else np.nan
    return tree_map(lambda g: g * np.asarray(scale, g.dtype), grads), norm


def l2_penalty(params, l2):
    """Keras's ``regularizers.L2(l2)`` summed over every array: ``l2 * sum(w ** 2)``.

    Examples:
        >>> float(l2_penalty([np.array([1.0, 2.0])], 0.1))
        0.5
    """
    l2 = check_number("l2", l2, 0)
    return l2 * sum(float(np.sum(np.square(w))) for w in tree_leaves(as_param_tree("params", params)))


def l2_gradients(grads, params, l2):
    """The gradients of ``loss + l2_penalty(params, l2)``: each gradient plus ``2 * l2 * w``.

    With plain SGD this is weight decay: ``w - lr (g + 2 l2 w) = w - w * (2 l2) * lr - lr g``,
    which is ``SGD(weight_decay=2 * l2)``.  With Adam it is not: the ``2 l2 w`` term is divided
    by Adam's ``sqrt(v)`` like the rest of the gradient.

    Examples:
        >>> l2_gradients(np.array([1.0]), np.array([3.0]), 0.5)
        array([4.])
    """
    l2 = check_number("l2", l2, 0)
    grads, params = as_param_tree("grads", grads), as_param_tree("params", params)
    return tree_map(lambda g, w: g + (2 * l2) * w, grads, params)


# =========================================================================== curvature
def hessian_vector_product(grad_fn, params, vector, epsilon=1e-6):
    """``H v`` without forming ``H``, for parameter trees: lesson 07's central difference
    (:func:`course_lib.landscapes.hvp_finite_difference`) taken along ``v / |v|`` and scaled back by ``|v|``.

    Args:
        grad_fn: ``params -> grads`` (a tree shaped like ``params``).
        params, vector: trees of the same structure (``vector`` nonzero).
        epsilon: the length of the step along ``v / |v|``, > 0.  Small, because a ReLU network's
            gradient jumps where a unit switches on or off: a step that crosses such a kink
            reads the jump as a huge curvature.  ``1e-6`` crosses few of them, and float64
            rounding (about ``1e-16 |g| / epsilon``) stays negligible.

    Examples:
        >>> a = np.array([[2.0, 1.0], [1.0, 3.0]])                   # the Hessian of ½ wᵀAw
        >>> np.round(hessian_vector_product(lambda w: a @ w, np.zeros(2), np.array([1.0, 0.0])), 6)
        array([2., 1.])
    """
    params, vector = as_param_tree("params", params), as_param_tree("vector", vector)
    check_same_structure("vector", vector, params)
    epsilon = check_number("epsilon", epsilon, 0, None, low_open=True)
    v = flatten(vector)
    length = float(np.linalg.norm(v))
    if length == 0:
        raise ValueError("`vector` must not be all zeros.")
    hv = hvp_finite_difference(lambda w: flatten(grad_fn(unflatten(w, params))), flatten(params), v / length, epsilon)
    return unflatten(hv * length, vector)


class PowerIteration(NamedTuple):
    eigenvalue: float        # the Rayleigh quotient vᵀHv of the last vector
    vector: Any              # the last vector, of unit global norm, shaped like the parameters
    history: np.ndarray      # the estimate after each iteration


def top_hessian_eigenvalue(grad_fn, params, iterations=30, tolerance=1e-3, epsilon=1e-6, seed=0, start=None):
    """The Hessian's eigenvalue of largest size, by power iteration on Hessian-vector products.

    Start from a seeded random vector (or from ``start``, e.g. the vector of an earlier call at
    nearby weights, which then converges in a few iterations); repeat ``v <- Hv / |Hv|``; the
    estimate is ``vᵀ H v``.  Each repetition multiplies the share of the eigenvector of largest
    ``|λ|`` by ``|λ1 / λ2|`` against the next one, so the result is the eigenvalue of largest
    *size*: where the curvature is negative enough, a negative number.
    It stops when two estimates differ by less than ``tolerance`` (relative) or after
    ``iterations`` (lesson 07's :func:`course_lib.landscapes.power_iteration` always spends
    its ``iterations``; on a network each costs two backward passes, so stopping early matters).
    For a loss near a minimum that eigenvalue is the largest curvature ``L``, and plain
    gradient descent is stable up to ``2 / L`` (lesson 02).

    Examples:
        >>> a = np.diag([1.0, 4.0, 10.0])
        >>> round(top_hessian_eigenvalue(lambda w: a @ w, np.zeros(3), tolerance=1e-9).eigenvalue, 3)
        10.0
    """
    params = as_param_tree("params", params)
    iterations = check_int("iterations", iterations, 1)
    tolerance = check_number("tolerance", tolerance, 0)
    rng = _rng(seed)
    leaves = tree_leaves(params)
    if start is None:
        v = tree_unflatten(params, [rng.standard_normal(np.shape(w)) for w in leaves])
    else:
        v = as_param_tree("start", start)
        check_same_structure("start", v, params)
    history = []
    for _ in range(iterations):
        norm = float(global_norm(v))
        v = tree_map(lambda a, norm=norm: a / norm, v)
        hv = hessian_vector_product(grad_fn, params, v, epsilon)
        history.append(float(sum(np.sum(a * b) for a, b in zip(tree_leaves(v), tree_leaves(hv)))))
        v = hv
        if len(history) > 1 and abs(history[-1] - history[-2]) <= tolerance * abs(history[-1]):
            break
    norm = float(global_norm(v))
    return PowerIteration(history[-1], tree_map(lambda a: a / norm, v), np.asarray(history))


# =========================================================================== a training run
def accumulate(loss_and_grad, chunk_size=64):
    """``loss_and_grad`` over many examples, computed chunk by chunk: gradient accumulation.

    The mean loss and gradient over ``n`` examples is the size-weighted mean of the chunks'
    means, so the result equals one call on all examples up to float rounding, while no chunk
    holds more than ``chunk_size`` examples (less memory; and small matrix products stay on
    one core, which on a busy machine is faster than one large threaded product).

    Examples:
        >>> from course_lib.descent import linear_mse
        >>> x = np.linspace(0, 1, 100)[:, None]; y = 3 * x + 2
        >>> p = {"kernel": np.ones((1, 1)), "bias": np.zeros(1)}
        >>> whole, chunked = linear_mse(p, x, y), accumulate(linear_mse, 32)(p, x, y)
        >>> bool(np.isclose(whole[0], chunked[0]) and np.allclose(whole[1]["kernel"], chunked[1]["kernel"]))
        True
    """
    chunk_size = check_int("chunk_size", chunk_size, 1)

    def chunked(params, x, y):
        n = len(x)
        total_loss, total = 0.0, None
        for start in range(0, n, chunk_size):
            loss, grads = loss_and_grad(params, x[start:start + chunk_size], y[start:start + chunk_size])
            share = min(chunk_size, n - start) / n
            total_loss = total_loss + share * loss
            total = tree_map(lambda g, s=share: s * g, grads) if total is None else tree_map(
                lambda t, g, s=share: t + s * g, total, grads)
        return total_loss, total

    return chunked


class TrainingRun(NamedTuple):
    eval_steps: np.ndarray    # the updates after which the curves were measured (0 = the start)
    train_loss: np.ndarray    # loss on the whole training set
    val_loss: np.ndarray      # loss on the validation set (empty without validation data)
    ratios: np.ndarray        # (len(eval_steps) - 1, parameters): |Δw|/|w| of the update before each measure
    batch_losses: np.ndarray  # the loss of every update's batch, computed before its step
    grad_norms: np.ndarray    # the global norm of every update's batch gradient (before l2 and clipping)
    params: Any               # the final parameters (the last finite ones if it diverged)
    diverged_at: Optional[int]  # the update whose loss overflowed, or None


def train(loss_and_grad, params, x, y, optimizer, steps, batch_size=32, l2=0.0, x_val=None, y_val=None,
          eval_every=10, seed=0):
    """Mini-batch training with ``optimizer``, measured every ``eval_every`` updates.

    The loop is the course's one, :func:`course_lib.training.fit` (the capstone's
    :func:`~course_lib.training.train_numpy` runs it too), with the batches of
    :func:`course_lib.training.batches` (seeded epochs, remainders dropped) and every
    measurement lesson 09 reads: the loss on the whole training set (and on ``x_val, y_val``),
    the update-to-weight ratio of every parameter for each measured update
    (:func:`update_ratios`, zero-norm parameters given NaN), the loss and the global norm of
    every batch gradient, and a stop at the first update whose weights or loss overflow (``diverged_at``).
    ``l2 > 0`` adds Keras's L2 penalty to every parameter, biases included
    (:func:`l2_gradients`; the recorded losses stay the data loss).

    Examples:
        >>> from course_lib.descent import linear_mse
        >>> x = np.linspace(0, 1, 64)[:, None]; y = 3 * x + 2
        >>> p = {"kernel": np.ones((1, 1)), "bias": np.ones(1)}
        >>> run = train(linear_mse, p, x, y, SGD(0.5), steps=100, batch_size=16, eval_every=50)
        >>> run.eval_steps, bool(run.train_loss[-1] < 1e-3)
        (array([  0,  50, 100]), True)
    """
    params = as_param_tree("params", params)
    steps = check_int("steps", steps, 1)
    with_val = x_val is not None

    def evaluate(p):
        train_loss = float(loss_and_grad(p, x, y)[0])
        return (train_loss, float(loss_and_grad(p, x_val, y_val)[0])) if with_val else (train_loss,)

    out = fit(loss_and_grad, params, x, y, optimizer, batches(len(x), batch_size, steps, seed), evaluate,
              eval_every, l2=l2, ratios=True, batch_losses=True, grad_norms=True, stop_on_overflow=True)
    return TrainingRun(out.eval_steps, out.curves[0], out.curves[1] if with_val else np.asarray([]), out.ratios,
                       out.batch_losses, out.grad_norms, out.params, out.diverged_at)
