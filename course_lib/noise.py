"""The noise in mini-batch gradients, and what it does to stochastic gradient descent.

A mini-batch gradient is the mean of ``B`` per-example gradients drawn from ``N``.  It is an
unbiased estimate of the full-batch gradient whose total variance (the trace of its covariance,
``E||g_B - g||²``) is::

    sigma² / B                          # examples drawn with replacement
    sigma² / B * (N - B) / (N - 1)      # without replacement (the finite-population correction)

with ``sigma² = mean_i ||g_i - g||²`` the per-example variance.  At a constant learning rate that
noise keeps SGD from settling: on a quadratic with Hessian ``H`` and gradient-noise covariance
``C / B`` the error ``e = w - w*`` obeys ``e <- (I - lr H) e - lr * noise`` and its covariance
settles at the ``P`` that solves the (discrete) Lyapunov equation::

    P = (I - lr H) P (I - lr H)ᵀ + lr² C / B
    noise floor = E[loss - loss*] = ½ trace(H P)
                = sum_k lr c_k / (2 B (2 - lr λ_k))     # when C and H share eigenvectors

It grows with the learning rate, shrinks as ``1/B``, and is infinite from ``lr = 2/λ_max`` on.

Everything here works on the course's linear-regression data (``y = 3x + 2`` plus noise, the
model ``w x + b`` with parameters ``theta = [w, b]`` and the mean squared error that Keras's
``Dense(1)`` with ``loss="mse"`` uses), or on any matrix of per-example gradients.  Runs are
vectorised: many chains (learning rates, seeds) advance together in numpy.
"""

from typing import NamedTuple

import numpy as np

from .core import check_int, check_number
from .descent import linear_mse

__all__ = [
    # per-example gradients and the variance of their mini-batch means
    "linear_features", "linear_loss", "linear_per_example_grads", "linear_minimum", "linear_hessian",
    "mean_square_limit",
    "softmax_per_example_grads",
    "minibatch_variance", "sample_minibatch_variance",
    # the noise floor: derived and measured
    "noise_covariance", "noise_floor", "linear_noise_floor", "SGDRuns", "minibatch_sgd", "measured_noise_floor",
    # decaying rates, iterate averaging, cost against batch size
    "power_decay", "iterate_average", "steps_to_stay_below", "fit_critical_batch", "CriticalBatch",
    "steps_to_target", "BestSteps",
    "scaled_learning_rate",
    # data parallelism
    "shard", "all_reduce_mean",
    # the explorer
    "explore", "NoiseView",
]


# --------------------------------------------------------------------------- the linear model
def _xy(x, y):
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise ValueError("`x` must hold at least one example.")
    if x.shape != y.shape:
        raise ValueError(f"`x` and `y` must hold the same number of examples; got {x.size} and {y.size}.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("`x` and `y` must be finite.")
    return x, y


def _theta(theta):
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape[-1:] != (2,):
        raise ValueError(f"`theta` must end in an axis of length 2 ([w, b]); got shape {theta.shape}.")
    return theta


def linear_features(x):
    """``phi_i = [x_i, 1]``, shape ``(N, 2)``: the model ``w x + b`` is ``phi @ [w, b]``.

    Args:
        x: the inputs, any shape holding ``N`` numbers.

    Examples:
        >>> linear_features([2.0, -1.0]).tolist()
        [[2.0, 1.0], [-1.0, 1.0]]
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.stack([x, np.ones_like(x)], axis=1)


def linear_loss(theta, x, y):
    """Mean squared error of ``w x + b`` over all examples; ``theta`` may hold many rows ``[w, b]``.

    For one point ``[w, b]`` this *is* :func:`course_lib.descent.linear_mse` (lesson 01's loss, a
    Keras ``Dense(1)`` with ``loss="mse"``), called with ``kernel = [[w]]`` and ``bias = [b]``.
    Many points (``theta`` of shape ``(..., 2)``) are the batched twin: evaluated from the data's
    moments (``mean x²``, ``mean xy``, ...), in time and memory independent of the number of
    examples, so that thousands of SGD chains cost no pass over the data; the tests check that
    both forms agree to rounding.

    Args:
        theta: one point ``[w, b]``, or an array of points of shape ``(..., 2)``.
        x, y: the data, ``N`` inputs and ``N`` targets (any shapes holding ``N`` numbers).

    Returns:
        The loss: a float64 number for one point, an array of shape ``theta.shape[:-1]`` for many.

    Examples:
        >>> x, y = [0.0, 1.0, 2.0], [1.0, 3.0, 5.0]           # y = 2x + 1 exactly
        >>> float(linear_loss([2.0, 1.0], x, y)), float(linear_loss([0.0, 0.0], x, y))
        (0.0, 11.666666666666666)
        >>> linear_loss([[2.0, 1.0], [0.0, 0.0]], x, y).round(6).tolist()
        [0.0, 11.666667]
    """
    x, y = _xy(x, y)
    theta = _theta(theta)
    if theta.ndim > 1:   # many points: from the data's moments, without an (points, N) array
        return _loss_from_moments(theta, x, y)
    loss, _ = linear_mse({"kernel": theta[:1].reshape(1, 1), "bias": theta[1:]}, x[:, None], y[:, None])
    return loss


def linear_per_example_grads(theta, x, y):
    """Gradient of each example's squared error ``(w x_i + b - y_i)²``: rows ``2 r_i [x_i, 1]``.

    Their mean is the full-batch gradient of :func:`linear_loss`, and the mean over a batch is
    the gradient Keras computes for that batch.  Shape ``(N, 2)``.

    Args:
        theta: one point ``[w, b]``.
        x, y: the data (``N`` inputs, ``N`` targets).

    Examples:
        >>> linear_per_example_grads([1.0, 0.0], [1.0, 2.0], [0.0, 2.0]).tolist()   # residuals 1 and 0
        [[2.0, 2.0], [0.0, 0.0]]
    """
    x, y = _xy(x, y)
    theta = _theta(theta)
    if theta.ndim != 1:
        raise ValueError(f"`theta` must be one point [w, b]; got shape {theta.shape}.")
    residual = theta[0] * x + theta[1] - y
    return 2.0 * residual[:, None] * linear_features(x)


def linear_hessian(x):
    """The (constant) Hessian of :func:`linear_loss`: ``2 mean_i phi_i phi_iᵀ``, shape ``(2, 2)``.

    Args:
        x: the inputs (``N`` numbers).

    Examples:
        >>> linear_hessian([1.0, 3.0]).tolist()        # 2 [[mean x², mean x], [mean x, 1]]
        [[10.0, 4.0], [4.0, 2.0]]
    """
    phi = linear_features(_xy(x, x)[0])
    return 2.0 * phi.T @ phi / len(phi)


def linear_minimum(x, y):
    """The least-squares ``[w*, b*]`` and the smallest loss ``loss*`` (``(theta, loss)``).

    Args:
        x, y: the data (``N`` inputs, ``N`` targets).

    Examples:
        >>> theta, loss = linear_minimum([0.0, 1.0, 2.0], [1.0, 2.0, 4.0])
        >>> theta.round(4).tolist(), round(loss, 4)
        ([1.5, 0.8333], 0.0556)
    """
    x, y = _xy(x, y)
    theta, *_ = np.linalg.lstsq(linear_features(x), y, rcond=None)
    return theta, float(linear_loss(theta, x, y))


def softmax_per_example_grads(weights, bias, x, labels):
    """Per-example gradients of softmax regression's cross-entropy, flattened: shape ``(N, (D+1)·K)``.

    The model is ``logits = x @ weights + bias`` (``weights`` ``(D, K)``); example ``i``'s gradient
    is ``(p_i - onehot_i)`` outer ``[x_i, 1]``, with ``p_i`` its softmax probabilities.

    Args:
        weights: ``(D, K)`` array; bias: ``(K,)`` array.
        x: ``(N, D)`` inputs; labels: ``N`` integer classes in ``[0, K - 1]``.

    Examples:
        >>> g = softmax_per_example_grads([[0.0, 0.0]], [0.0, 0.0], [[3.0]], [1])   # p = [½, ½], class 1
        >>> g.tolist()                                                               # rows: x, then 1
        [[1.5, -1.5, 0.5, -0.5]]
    """
    weights = np.asarray(weights, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    if weights.ndim != 2 or bias.shape != weights.shape[1:]:
        raise ValueError(f"`weights` must be (D, K) and `bias` (K,); got {weights.shape} and {bias.shape}.")
    if x.ndim != 2 or x.shape[1] != weights.shape[0]:
        raise ValueError(f"`x` must have shape (N, {weights.shape[0]}); got {x.shape}.")
    if labels.shape != (len(x),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"`labels` must be {len(x)} integer class numbers; got shape {labels.shape}.")
    if labels.size and (labels.min() < 0 or labels.max() >= weights.shape[1]):
        raise ValueError(f"`labels` must lie in [0, {weights.shape[1] - 1}].")
    logits = x @ weights + bias
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(x)), labels] -= 1.0
    inputs = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    return (inputs[:, :, None] * p[:, None, :]).reshape(len(x), -1)


# --------------------------------------------------------------------------- variance of a batch mean
def _per_example(per_example):
    g = np.asarray(per_example, dtype=np.float64)
    if g.ndim == 1:
        g = g[:, None]
    if g.ndim != 2 or len(g) < 2:
        raise ValueError(f"`per_example` must be an (N, P) array of per-example gradients with N >= 2; "
                         f"got shape {np.shape(per_example)}.")
    return g


def minibatch_variance(per_example, batch_size, replace=False):
    """``E||g_B - g||²`` for a batch of ``batch_size`` examples, from the per-example spread.

    ``sigma² / B`` with replacement; times ``(N - B) / (N - 1)`` without (a batch of all ``N``
    examples then has no noise at all).

    Args:
        per_example: ``(N, P)`` array, one gradient per row (``N >= 2``).
        batch_size: ``B``, in ``[1, N]`` without replacement, ``>= 1`` with.
        replace: draw the batch with replacement.

    Examples:
        >>> g = [[1.0], [-1.0], [3.0], [-3.0]]                        # sigma² = 5
        >>> minibatch_variance(g, 2, replace=True), minibatch_variance(g, 2), minibatch_variance(g, 4)
        (2.5, 1.6666666666666667, 0.0)
    """
    g = _per_example(per_example)
    n = len(g)
    b = check_int("batch_size", batch_size, 1, None if replace else n)
    sigma2 = float(np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1)))
    return sigma2 / b if replace else sigma2 / b * (n - b) / (n - 1)


def sample_minibatch_variance(per_example, batch_size, samples=2000, replace=False, seed=0, standard_error=False):
    """The same quantity measured: the mean of ``||g_B - g||²`` over ``samples`` random batches.

    Works through the batches a few MB at a time, so that memory stays small for any ``samples``.

    Args:
        per_example: ``(N, P)`` array, one gradient per row.
        batch_size: ``B`` (at most ``N`` without replacement).
        samples: the number of random batches, >= 2.
        replace: draw each batch with replacement.
        seed: the batches' seed, >= 0.
        standard_error: also return the standard error of the mean (the spread of
            ``||g_B - g||²`` over the batches divided by ``sqrt(samples)``).

    Returns:
        The mean, or ``(mean, standard error)``.

    Examples:
        >>> g = [[1.0], [-1.0], [3.0], [-3.0]]
        >>> mean, se = sample_minibatch_variance(g, 2, samples=20000, standard_error=True)
        >>> round(mean / minibatch_variance(g, 2), 1), bool(0 < se < 0.02 * mean)
        (1.0, True)
    """
    g = _per_example(per_example)
    n = len(g)
    b = check_int("batch_size", batch_size, 1, None if replace else n)
    samples = check_int("samples", samples, 2)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    full = g.mean(axis=0)
    total, squares = 0.0, 0.0
    chunk = max(1, min(1_000_000 // (b * g.shape[1]), 250_000 // n))   # a few MB at a time
    for start in range(0, samples, chunk):
        m = min(chunk, samples - start)
        if replace:
            idx = rng.integers(0, n, (m, b))
        elif b == n:
            idx = np.broadcast_to(np.arange(n), (m, n))
        else:   # the b smallest of n random keys: a uniformly random subset of b examples
            idx = np.argpartition(rng.random((m, n)), b - 1, axis=1)[:, :b]
        each = np.sum((g[idx].mean(axis=1) - full) ** 2, axis=1)
        total += float(np.sum(each))
        squares += float(np.sum(each * each))
    mean = total / samples
    if not standard_error:
        return mean
    return mean, float(np.sqrt(max(squares / samples - mean * mean, 0.0) / (samples - 1)))


# --------------------------------------------------------------------------- the noise floor
def noise_covariance(per_example, batch_size=1, replace=False):
    """The covariance ``C / B`` of a mini-batch gradient (finite-population corrected without replacement).

    ``C = mean_i (g_i - g)(g_i - g)ᵀ``; its trace is ``sigma²``.

    Args:
        per_example: ``(N, P)`` array, one gradient per row.
        batch_size: ``B``; replace: as in :func:`minibatch_variance`.

    Examples:
        >>> noise_covariance([[1.0, 0.0], [-1.0, 0.0]], 1).tolist()
        [[1.0, 0.0], [0.0, 0.0]]
    """
    g = _per_example(per_example)
    n = len(g)
    b = check_int("batch_size", batch_size, 1, None if replace else n)
    dev = g - g.mean(axis=0)
    cov = dev.T @ dev / n
    return cov / b if replace else cov / b * (n - b) / (n - 1)


def noise_floor(hessian, covariance, learning_rate):
    """Stationary ``E[loss - loss*]`` of SGD on a quadratic with gradient-noise covariance ``covariance``.

    Solves ``P = A P Aᵀ + lr² covariance`` with ``A = I - lr H`` and returns ``½ trace(H P)``.
    ``covariance`` is the covariance of one step's gradient (already divided by the batch size:
    see :func:`noise_covariance`).  Returns ``inf`` when ``learning_rate >= 2 / λ_max``, where
    plain gradient descent itself diverges.

    Args:
        hessian: symmetric positive-definite ``(D, D)`` matrix.
        covariance: ``(D, D)`` covariance of one step's gradient noise.
        learning_rate: > 0.

    Examples:
        >>> noise_floor([[1.0]], [[1.0]], 0.5)        # 1-D: lr σ² / (2 (2 - lr λ)) = 0.5 / 3
        0.16666666666666666
        >>> noise_floor([[1.0]], [[1.0]], 2.0)
        inf
    """
    h = np.atleast_2d(np.asarray(hessian, dtype=np.float64))
    c = np.atleast_2d(np.asarray(covariance, dtype=np.float64))
    if h.ndim != 2 or h.shape[0] != h.shape[1] or not np.allclose(h, h.T):
        raise ValueError(f"`hessian` must be a symmetric square matrix; got shape {h.shape}.")
    if c.shape != h.shape:
        raise ValueError(f"`covariance` must have the Hessian's shape {h.shape}; got {c.shape}.")
    lr = check_number("learning_rate", learning_rate, 0, None, low_open=True)
    lam = np.linalg.eigvalsh(h)
    if lam[0] <= 0:
        raise ValueError("`hessian` must be positive definite (all eigenvalues > 0) for a noise floor to exist.")
    if lr * lam[-1] >= 2:
        return float("inf")
    d = len(h)
    a = np.eye(d) - lr * h
    vec_p = np.linalg.solve(np.eye(d * d) - np.kron(a, a), lr * lr * c.reshape(-1))
    return 0.5 * float(np.trace(h @ vec_p.reshape(d, d)))


def _sample_factor(n, b, replace):
    """Covariance of a mean of ``b`` draws from ``n`` items, relative to one draw's."""
    return 1.0 / b if replace else (n - b) / (b * (n - 1))


def linear_noise_floor(x, y, learning_rate, batch_size, replace=False):
    """The exact stationary ``E[loss - loss*]`` of mini-batch SGD on the linear model.

    :func:`noise_floor` treats the gradient noise as the same at every point.  For least squares
    it is not: a batch's gradient is ``H_B e + g_B*``, with ``H_B`` the batch's own Hessian, so the
    noise grows as ``e = theta - theta*`` grows.  Because the gradient is affine in ``theta``, the
    second moment ``P = E[e eᵀ]`` still obeys a closed linear equation::

        P = E_B[(I - lr H_B) P (I - lr H_B)ᵀ] + lr² Cov(g_B*)
        E_B[H_B X H_B] = H X H + f (mean_i A_i X A_i - H X H),  A_i = 2 phi_i phi_iᵀ

    with ``f = 1/B`` (with replacement) or ``(N - B) / (B (N - 1))`` (without).  Returns
    ``½ trace(H P)``, or ``inf`` when that equation has no stationary solution: when the linear
    map ``P -> E_B[(I - lr H_B) P (I - lr H_B)ᵀ]`` has spectral radius >= 1, the iteration is
    not stable in mean square (see :func:`mean_square_limit`).

    Args:
        x, y: the data (``N`` inputs, ``N`` targets).
        learning_rate: the constant rate, > 0.
        batch_size: ``B``, in ``[1, N]`` without replacement, ``>= 1`` with.
        replace: draw every batch with replacement.

    Examples:
        >>> from course_lib.data import linear_regression
        >>> x, y = linear_regression()
        >>> f"{linear_noise_floor(x, y, 0.3, 1):.3e}", f"{linear_noise_floor(x, y, 0.3, 10):.3e}"
        ('6.868e-03', '5.711e-04')
        >>> linear_noise_floor(x, y, 0.7, 1)                  # beyond the mean-square limit of B = 1
        inf
    """
    x, y = _xy(x, y)
    n = len(x)
    b = check_int("batch_size", batch_size, 1, None if replace else n)
    lr = check_number("learning_rate", learning_rate, 0, None, low_open=True)
    h, operator = _second_moment_operator(x, lr, b, replace)
    if np.max(np.abs(np.linalg.eigvals(operator))) >= 1:
        return float("inf")
    theta_star, _ = linear_minimum(x, y)
    g_star = linear_per_example_grads(theta_star, x, y)
    cov = noise_covariance(g_star, b, replace)
    vec_p = np.linalg.solve(np.eye(4) - operator, lr * lr * cov.reshape(-1))
    return 0.5 * float(np.trace(h @ vec_p.reshape(2, 2)))


def _second_moment_operator(x, lr, b, replace):
    """``(H, M)``: the Hessian and the 4x4 matrix of ``vec P -> vec E_B[(I - lr H_B) P (I - lr H_B)ᵀ]``."""
    n = len(x)
    phi = linear_features(x)
    a_i = 2.0 * phi[:, :, None] * phi[:, None, :]                    # (N, 2, 2)
    h = a_i.mean(axis=0)
    f = _sample_factor(n, b, replace)
    kron_a = np.einsum("nij,nkl->ikjl", a_i, a_i).reshape(4, 4) / n  # mean_i A_i (x) A_i
    kron_h = np.kron(h, h)
    step = np.eye(2) - lr * h
    return h, np.kron(step, step) + lr * lr * f * (kron_a - kron_h)


def mean_square_limit(x, batch_size, replace=False, tol=1e-9):
    """The largest learning rate at which mini-batch SGD on the linear model is stable in mean square.

    The error ``e = theta - theta*`` of a run obeys ``e <- (I - lr H_B) e - lr g_B*``; its second
    moment ``P = E[e eᵀ]`` is multiplied at each step by the linear map
    ``P -> E_B[(I - lr H_B) P (I - lr H_B)ᵀ]`` (see :func:`linear_noise_floor`).  The expected
    squared error stays finite while that map's spectral radius is below 1; this returns the rate
    at which it reaches 1, by bisection between 0 (stable) and ``2 / λ_max`` (where the mean
    error alone already diverges).
    It lies below plain gradient descent's ``2 / λ_max``, and approaches it as the batch grows.

    Args:
        x: the inputs (``N`` numbers); the targets do not enter.
        batch_size: ``B``, in ``[1, N]`` without replacement, ``>= 1`` with.
        replace: draw every batch with replacement.
        tol: the bisection's absolute tolerance on the rate, > 0.

    Examples:
        >>> from course_lib.data import linear_regression
        >>> x, _ = linear_regression()
        >>> [round(mean_square_limit(x, b), 3) for b in (1, 4, 100)]     # 2/λmax = 0.756
        [0.675, 0.741, 0.756]
    """
    x = _xy(x, x)[0]
    b = check_int("batch_size", batch_size, 1, None if replace else len(x))
    tol = check_number("tol", tol, 0, None, low_open=True)
    h = _second_moment_operator(x, 0.0, b, replace)[0]
    low, high = 0.0, 2.0 / np.linalg.eigvalsh(h)[-1]           # stable at 0; never stable beyond GD's limit
    while high - low > tol:
        mid = 0.5 * (low + high)
        radius = np.max(np.abs(np.linalg.eigvals(_second_moment_operator(x, mid, b, replace)[1])))
        low, high = (mid, high) if radius < 1 else (low, mid)
    return float(low)


class SGDRuns(NamedTuple):
    theta: np.ndarray   # parameters after every step: shape (steps + 1, chains, 2)
    loss: np.ndarray    # full-data loss after every step: shape (steps + 1, chains)
    learning_rates: np.ndarray  # the rate of every chain at every step: shape (steps, chains)


def minibatch_sgd(x, y, theta0, learning_rate, batch_size, steps, chains=1, seed=0, replace=False):
    """Mini-batch SGD on the linear model, many independent chains at once.

    Every step of every chain draws a fresh batch of ``batch_size`` examples, independently of the
    other steps (without replacement within the batch unless ``replace``), and takes
    ``theta <- theta - lr_t * mean batch gradient``.  (Keras instead cuts each reshuffled epoch
    into batches, so the batches of one epoch never share an example.)  A run that overflows
    carries on as inf/nan; its loss is ``inf``.

    Args:
        x, y: the data (``N`` inputs, ``N`` targets).
        theta0: one start ``[w, b]``, or one per chain (shape ``(chains, 2)``).
        learning_rate: a number, one number per chain (shape ``(chains,)``), or a callable
            ``f(step) -> rate`` of the 0-based step (a schedule); rates >= 0.
        batch_size: ``B``, in ``[1, N]`` without replacement, ``>= 1`` with.
        steps: the number of steps, >= 0.
        chains: the number of independent chains, >= 1.
        seed: the batches' seed, >= 0.
        replace: draw each batch with replacement.

    Returns:
        :class:`SGDRuns`: ``theta`` (steps + 1, chains, 2), ``loss`` (steps + 1, chains) and
        ``learning_rates`` (steps, chains).

    Examples:
        >>> from course_lib.data import linear_regression
        >>> x, y = linear_regression()
        >>> runs = minibatch_sgd(x, y, [0.0, 0.0], [0.1, 0.3], 10, 500, chains=2)
        >>> runs.theta.shape, runs.loss.shape
        ((501, 2, 2), (501, 2))
        >>> bool(runs.loss[-1, 0] < 0.02 and runs.loss[-1, 1] < 0.02)          # near loss* = 0.0094
        True
    """
    x, y, theta, rates, b, steps, chains, rng, replace = _sgd_setup(x, y, theta0, learning_rate, batch_size, steps,
                                                                    chains, seed, replace)
    thetas = np.empty((steps + 1, chains, 2))
    thetas[0] = theta
    for start, chunk in _sgd_chunks(x, y, theta, rates, b, steps, rng, replace):
        thetas[start + 1:start + 1 + len(chunk)] = chunk
    per_chunk = _per_chunk(len(x), b, chains, replace)
    loss = np.empty((steps + 1, chains))
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, steps + 1, per_chunk):   # in chunks: the moments' temporaries stay small
            loss[start:start + per_chunk] = _loss_from_moments(thetas[start:start + per_chunk], x, y)
    loss[~np.isfinite(loss)] = np.inf
    return SGDRuns(thetas, loss, rates)


def _sgd_setup(x, y, theta0, learning_rate, batch_size, steps, chains, seed, replace):
    """Check :func:`minibatch_sgd`'s arguments; return them as arrays (the rates as ``(steps, chains)``)."""
    x, y = _xy(x, y)
    n = len(x)
    b = check_int("batch_size", batch_size, 1, None if replace else n)
    steps = check_int("steps", steps, 0)
    chains = check_int("chains", chains, 1)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    if callable(learning_rate):
        rates = np.array([check_number("learning_rate", learning_rate(t), 0) for t in range(steps)])
        rates = np.broadcast_to(rates[:, None], (steps, chains))
    else:
        lr = np.asarray(learning_rate, dtype=np.float64)
        if lr.ndim > 1 or (lr.ndim == 1 and lr.shape != (chains,)):
            raise ValueError(f"`learning_rate` must be a number, {chains} numbers (one per chain) or a "
                             f"schedule; got shape {lr.shape}.")
        if not np.all(np.isfinite(lr)) or np.any(lr < 0):
            raise ValueError("`learning_rate` must hold finite rates in [0, inf).")
        rates = np.broadcast_to(lr, (steps, chains))
    theta = np.broadcast_to(_theta(theta0), (chains, 2)).astype(np.float64)
    return x, y, theta, rates, b, steps, chains, rng, bool(replace)


def _per_chunk(n, b, chains, replace):
    """Steps drawn at once: the batch indices of a chunk stay near 250,000 numbers."""
    return max(1, 250_000 // (chains * (n if not replace and 1 < b < n else b)))


def _sgd_chunks(x, y, theta, rates, b, steps, rng, replace):
    """The SGD loop: yields ``(start, thetas)`` with the parameters after steps ``start + 1 ...``."""
    n, chains = len(x), len(theta)
    per_chunk = _per_chunk(n, b, chains, replace)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, steps, per_chunk):
            k = min(per_chunk, steps - start)
            if replace or b == 1:   # one example: with or without replacement is the same draw
                idx = rng.integers(0, n, (k, chains, b))
            elif b == n:
                idx = np.broadcast_to(np.arange(n), (k, chains, n))
            else:
                idx = np.argsort(rng.random((k, chains, n)), axis=2)[:, :, :b]
            xs, ys = x[idx], y[idx]
            scale = 2.0 / b * rates[start:start + k]          # lr * 2/B: the mean's 1/B and the square's 2
            out = np.empty((k, chains, 2))
            if b == 1:   # one example: the batch sums are the single terms (the same numbers, fewer operations)
                xs, ys = xs[:, :, 0], ys[:, :, 0]
                for t in range(k):
                    grad = np.empty((chains, 2))
                    np.subtract(theta[:, 0] * xs[t] + theta[:, 1], ys[t], out=grad[:, 1])
                    np.multiply(grad[:, 1], xs[t], out=grad[:, 0])
                    theta = theta - scale[t][:, None] * grad
                    out[t] = theta
                yield start, out
                continue
            for t in range(k):
                xb = xs[t]
                r = theta[:, :1] * xb + theta[:, 1:] - ys[t]
                grad = np.empty((chains, 2))
                np.einsum("cb,cb->c", r, xb, out=grad[:, 0])
                r.sum(axis=1, out=grad[:, 1])
                theta = theta - scale[t][:, None] * grad
                out[t] = theta
            yield start, out


def _mean_loss_curves(x, y, learning_rates, batch_size, steps, chains, seed):
    """Mean loss over ``chains`` chains per rate, step by step: shape ``(steps + 1, rates)``.

    The same numbers as averaging :func:`minibatch_sgd`'s ``loss`` (from ``[0, 0]``, with
    replacement), without keeping every chain's path: memory ``(steps + 1) x rates``.
    """
    rates = np.repeat(learning_rates, chains)
    x, y, theta, rates, b, steps, total, rng, _ = _sgd_setup(x, y, [0.0, 0.0], rates, batch_size, steps,
                                                            len(rates), seed, True)
    mean = np.empty((steps + 1, len(learning_rates)))

    def put(start, thetas):
        with np.errstate(over="ignore", invalid="ignore"):
            loss = _loss_from_moments(thetas, x, y)
        loss[~np.isfinite(loss)] = np.inf
        mean[start:start + len(thetas)] = loss.reshape(len(thetas), len(learning_rates), chains).mean(axis=2)

    put(0, theta[None])
    for start, chunk in _sgd_chunks(x, y, theta, rates, b, steps, rng, True):
        put(start + 1, chunk)
    return mean


def _loss_from_moments(theta, x, y):
    """``mean_i (w x_i + b - y_i)²`` for every row of ``theta`` from the data's moments (no pass over the data)."""
    mxx, mx, mxy, my, myy = (float(np.mean(v)) for v in (x * x, x, x * y, y, y * y))
    points = np.reshape(theta, (-1, 2))
    out = np.empty(len(points))
    for start in range(0, len(points), 65536):   # in blocks: the temporaries stay near 0.5 MB each
        w, b = points[start:start + 65536, 0], points[start:start + 65536, 1]
        loss = w * w * mxx + 2 * w * b * mx + b * b - 2 * w * mxy - 2 * b * my + myy
        np.maximum(loss, 0.0, out=out[start:start + 65536])
    return out.reshape(np.shape(theta)[:-1])


def measured_noise_floor(runs, min_loss, burn_in):
    """Mean excess loss ``loss - min_loss`` after ``burn_in`` steps, over steps and chains.

    ``runs`` comes from :func:`minibatch_sgd` with a constant rate.  Returns ``(mean, standard
    error)``; the standard error treats the chains as independent and each chain's time average
    as one sample.

    Args:
        runs: an :class:`SGDRuns`.
        min_loss: ``loss*``, the smallest loss.
        burn_in: steps left out at the start, in ``[0, steps - 1]``.

    Examples:
        >>> from course_lib.data import linear_regression
        >>> x, y = linear_regression()
        >>> theta_star, loss_star = linear_minimum(x, y)
        >>> runs = minibatch_sgd(x, y, theta_star, 0.3, 10, 2000, chains=20)
        >>> mean, se = measured_noise_floor(runs, loss_star, burn_in=200)
        >>> bool(abs(mean / linear_noise_floor(x, y, 0.3, 10) - 1) < 4 * se / mean + 0.02)
        True
    """
    burn_in = check_int("burn_in", burn_in, 0, len(runs.loss) - 2)
    excess = runs.loss[burn_in + 1:] - float(min_loss)
    per_chain = excess.mean(axis=0)
    spread = per_chain.std(ddof=1) / np.sqrt(len(per_chain)) if len(per_chain) > 1 else float("nan")
    return float(per_chain.mean()), float(spread)


# --------------------------------------------------------------------------- decaying rates and averaging
def power_decay(initial_learning_rate, decay_steps, power):
    """The schedule ``lr_t = initial_learning_rate / (1 + t / decay_steps) ** power`` as a function of ``t``.

    ``power = 1`` is Keras's ``InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate=1)``;
    ``power = 0.5`` decays as ``1/sqrt(t)``.  The rates sum to infinity for ``power <= 1`` and
    their squares to a finite number for ``power > 0.5``: Robbins and Monro's two conditions hold
    together for ``0.5 < power <= 1``.

    Args:
        initial_learning_rate: ``lr_0`` > 0.
        decay_steps: ``T`` > 0, the step at which the rate has fallen by ``2 ** power``.
        power: ``p`` >= 0.

    Examples:
        >>> schedule = power_decay(0.3, 100, 1.0)
        >>> float(schedule(0)), float(schedule(100)), schedule([0, 300]).tolist()
        (0.3, 0.15, [0.3, 0.075])
    """
    lr0 = check_number("initial_learning_rate", initial_learning_rate, 0, None, low_open=True)
    steps = check_number("decay_steps", decay_steps, 0, None, low_open=True)
    power = check_number("power", power, 0)

    def schedule(step):
        return lr0 / (1.0 + np.asarray(step, dtype=np.float64) / steps) ** power

    return schedule


def iterate_average(thetas, start=0):
    """Running (Polyak-Ruppert) average of the iterates from step ``start`` on, along axis 0.

    Entry ``k`` of the result is the mean of ``thetas[start : start + k + 1]``.

    Args:
        thetas: iterates along axis 0 (any further axes: chains, parameters).
        start: the first iterate averaged, in ``[0, len(thetas) - 1]``.

    Examples:
        >>> iterate_average([[0.0], [2.0], [4.0], [6.0]], start=1).tolist()
        [[2.0], [3.0], [4.0]]
    """
    thetas = np.asarray(thetas, dtype=np.float64)
    start = check_int("start", start, 0, len(thetas) - 1)
    tail = thetas[start:]
    counts = np.arange(1, len(tail) + 1).reshape((-1,) + (1,) * (tail.ndim - 1))
    average = np.cumsum(tail, axis=0)
    average /= counts            # in place: one array of the iterates' size, not two
    return average


def steps_to_stay_below(loss, target):
    """The first step from which ``loss`` stays at or below ``target`` to the end (``None`` if it ends above).

    ``loss`` has one row per step (index 0 is the start); extra axes are chains, each judged alone
    (the result is then an array with ``-1`` for "never").

    Args:
        loss: losses, one row per step.
        target: the level to stay at or below (a finite number).

    Examples:
        >>> steps_to_stay_below([5.0, 1.0, 3.0, 0.5, 0.4], 2.0), steps_to_stay_below([5.0, 3.0], 2.0)
        (3, None)
    """
    loss = np.asarray(loss, dtype=np.float64)
    target = check_number("target", target)
    above = ~(loss <= target)
    last_above = np.where(above.any(axis=0), len(loss) - 1 - np.argmax(above[::-1], axis=0), -1)
    first = last_above + 1
    never = above[-1]
    if loss.ndim == 1:
        return None if never else int(first)
    return np.where(never, -1, first)


class CriticalBatch(NamedTuple):
    min_steps: float      # S_min: steps needed with an infinitely large batch
    critical_batch: float # B_crit: the batch size at which S(B) = 2 S_min
    predicted: np.ndarray # S(B) = S_min (1 + B_crit / B) at the given batch sizes


def fit_critical_batch(batch_sizes, steps):
    """Fit ``steps = S_min (1 + B_crit / B)`` by least squares on the *relative* error.

    Below ``B_crit`` doubling the batch nearly halves the steps; above it the steps barely
    fall, so each extra example is wasted.  ``examples = B * steps`` is then smallest for small
    batches and grows linearly beyond ``B_crit``.  The steps span orders of magnitude, so the fit
    minimises ``sum ((S_min + S_min B_crit / B) / steps - 1)²``: an unweighted fit would follow the
    smallest batches (the largest step counts) and ignore where the curve levels off.

    Args:
        batch_sizes: 1-D array of batch sizes, all > 0, at least 2.
        steps: the steps each batch size needed (finite, > 0), same length.

    Examples:
        >>> fit = fit_critical_batch([1, 2, 4, 8], [90.0, 50.0, 30.0, 20.0])
        >>> round(fit.min_steps, 1), round(fit.critical_batch, 1)
        (10.0, 8.0)
    """
    b = np.asarray(batch_sizes, dtype=np.float64)
    s = np.asarray(steps, dtype=np.float64)
    if b.ndim != 1 or b.shape != s.shape or len(b) < 2:
        raise ValueError("`batch_sizes` and `steps` must be 1-D arrays of the same length, at least 2.")
    if np.any(~np.isfinite(b)) or np.any(b <= 0) or np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ValueError("`batch_sizes` must be > 0 and `steps` finite and > 0.")
    design = np.stack([np.ones_like(b), 1.0 / b], axis=1) / s[:, None]
    (s_min, slope), *_ = np.linalg.lstsq(design, np.ones_like(s), rcond=None)
    if s_min <= 0:
        raise ValueError("the fit gives S_min <= 0: the steps do not level off over these batch sizes.")
    return CriticalBatch(float(s_min), float(slope / s_min), s_min + slope / b)


class BestSteps(NamedTuple):
    steps: np.ndarray          # per batch size: the steps the best rate needs to keep the mean loss below the target
    learning_rate: np.ndarray  # per batch size: that best rate (from the grid)


def steps_to_target(x, y, batch_sizes, learning_rates, target, chains=6, max_examples=12000, seed=0):
    """For every batch size, the fewest steps any rate of the grid needs to keep the mean loss below ``target``.

    Every (batch size, rate) pair runs ``chains`` seeded chains of :func:`minibatch_sgd` from
    ``[0, 0]``, drawing each batch with replacement (so a batch may be larger than the data, as
    if examples came from an endless stream).  The chains' losses are averaged step by step (an
    estimate of the expected loss), and the pair's steps are :func:`steps_to_stay_below` of that
    mean curve: judging single runs would count their late excursions above the target, which
    are more likely the longer a run is.  Each batch size runs ``200 + max_examples // B`` steps,
    a budget in examples, so a small batch gets more steps.

    Args:
        x, y: the data (as for :func:`linear_loss`).
        batch_sizes: batch sizes, each >= 1.
        learning_rates: the grid of constant rates tried, each > 0.
        target: the loss to stay below.
        chains: seeded chains per (batch size, rate), >= 1.
        max_examples: the example budget that sets the number of steps, >= 1.
        seed: seed of the first batch size's runs (the ``k``-th batch size uses ``seed + k``).

    Returns:
        :class:`BestSteps`; ``inf`` steps where no rate got there.

    Examples:
        >>> from course_lib.data import linear_regression
        >>> x, y = linear_regression()
        >>> best = steps_to_target(x, y, [4, 64], [0.05, 0.2, 0.5], 1.5 * linear_minimum(x, y)[1])
        >>> bool(best.steps[0] > 2 * best.steps[1]), best.learning_rate.tolist()
        (True, [0.2, 0.5])
    """
    lrs = np.asarray(learning_rates, dtype=np.float64).reshape(-1)
    if lrs.size == 0 or not np.all(np.isfinite(lrs)) or np.any(lrs <= 0):
        raise ValueError("`learning_rates` must hold at least one finite rate > 0.")
    chains = check_int("chains", chains, 1)
    max_examples = check_int("max_examples", max_examples, 1)
    seed = check_int("seed", seed, 0)
    target = check_number("target", target)
    best, best_lr = [], []
    for k, b in enumerate(batch_sizes):
        b = check_int("batch_sizes", b, 1)
        mean = _mean_loss_curves(x, y, lrs, b, 200 + max_examples // b, chains, seed + k)
        steps = steps_to_stay_below(mean, target).astype(np.float64)
        steps[steps < 0] = np.inf
        i = int(np.argmin(steps))
        best.append(steps[i])
        best_lr.append(lrs[i])
    return BestSteps(np.array(best), np.array(best_lr))


def scaled_learning_rate(base_learning_rate, base_batch_size, batch_size, warmup_examples=0):
    """The linear scaling rule with warmup, as a schedule ``f(step) -> rate``.

    The rate grows with the batch: ``lr = base_learning_rate * batch_size / base_batch_size``.
    During warmup it climbs linearly from ``lr / warmup_steps`` to ``lr``, over as many steps as
    it takes to see ``warmup_examples`` examples (``ceil(warmup_examples / batch_size)`` steps),
    so a larger batch warms up in fewer steps over the same data.  The schedule carries its
    ``peak`` rate and ``warmup_steps`` as attributes.

    Args:
        base_learning_rate: the rate tuned at ``base_batch_size``, > 0.
        base_batch_size: >= 1.
        batch_size: the new batch size, >= 1.
        warmup_examples: examples over which the rate climbs, >= 0 (0: no warmup).

    Examples:
        >>> schedule = scaled_learning_rate(0.05, 4, 64, warmup_examples=400)
        >>> schedule.peak, schedule.warmup_steps, round(float(schedule(0)), 4), float(schedule(6))
        (0.8, 7, 0.1143, 0.8)
    """
    base = check_number("base_learning_rate", base_learning_rate, 0, None, low_open=True)
    b0 = check_int("base_batch_size", base_batch_size, 1)
    b = check_int("batch_size", batch_size, 1)
    warm = check_int("warmup_examples", warmup_examples, 0)
    peak = base * b / b0
    warmup_steps = -(-warm // b)

    def schedule(step):
        t = np.asarray(step, dtype=np.float64)
        if warmup_steps == 0:
            return peak + 0.0 * t
        return peak * np.minimum(1.0, (t + 1.0) / warmup_steps)

    schedule.peak, schedule.warmup_steps = peak, warmup_steps
    return schedule


# --------------------------------------------------------------------------- data parallelism
def shard(x, y, replicas):
    """Split one global batch into ``replicas`` equal, consecutive shards: ``[(x_0, y_0), ...]``.

    ``tf.distribute.MirroredStrategy`` splits a global batch the same way.  The batch size must be
    a multiple of ``replicas``: with unequal shards the mean of the replicas' mean gradients is no
    longer the mean over the whole batch.

    Args:
        x, y: one global batch (equal lengths).
        replicas: the number of shards, >= 1, dividing the batch size.

    Examples:
        >>> [xs.tolist() for xs, _ in shard([1, 2, 3, 4], [0, 0, 0, 0], 2)]
        [[1, 2], [3, 4]]
    """
    replicas = check_int("replicas", replicas, 1)
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"`x` and `y` must hold the same number of examples; got {len(x)} and {len(y)}.")
    if len(x) % replicas:
        raise ValueError(f"the batch of {len(x)} examples does not split into `replicas`={replicas} equal "
                         "shards: use a batch size that is a multiple of the number of replicas.")
    size = len(x) // replicas
    return [(x[k * size:(k + 1) * size], y[k * size:(k + 1) * size]) for k in range(replicas)]


def all_reduce_mean(per_replica):
    """The all-reduce of data-parallel SGD: every replica ends with the mean of all replicas' values.

    ``per_replica`` is a list with one gradient per replica (arrays, or dicts/lists of arrays of
    identical structure).  Returns a list with the mean once per replica, as MirroredStrategy's
    ``reduce`` with ``MEAN`` leaves every replica the same value (here the same array object:
    the caller must not change it in place).

    Args:
        per_replica: a non-empty list (or tuple) of gradients, one per replica.

    Examples:
        >>> [r.tolist() for r in all_reduce_mean([np.array([1.0, 2.0]), np.array([3.0, 6.0])])]
        [[2.0, 4.0], [2.0, 4.0]]
    """
    if not isinstance(per_replica, (list, tuple)) or not per_replica:
        raise TypeError("`per_replica` must be a non-empty list with one gradient per replica.")

    def mean(items):
        first = items[0]
        if isinstance(first, dict):
            if any(not isinstance(i, dict) or i.keys() != first.keys() for i in items):
                raise ValueError("`per_replica`: every replica's gradient must have the same keys.")
            return {k: mean([i[k] for i in items]) for k in first}
        if isinstance(first, (list, tuple)):
            if any(not isinstance(i, (list, tuple)) or len(i) != len(first) for i in items):
                raise ValueError("`per_replica`: every replica's gradient must have the same structure.")
            return type(first)(mean(list(parts)) for parts in zip(*items))
        arrays = [np.asarray(i) for i in items]
        if any(a.shape != arrays[0].shape for a in arrays):
            raise ValueError("`per_replica`: mismatched shapes "
                             f"{[a.shape for a in arrays]}; every replica must hold the same variables.")
        total = arrays[0]
        for a in arrays[1:]:
            total = total + a
        return total / len(arrays)

    reduced = mean(list(per_replica))
    return [reduced for _ in per_replica]


# --------------------------------------------------------------------------- the explorer's computation
class NoiseView(NamedTuple):
    theta: np.ndarray        # the path [w, b] after every step, shape (steps + 1, 2)
    excess: np.ndarray       # loss - loss* after every step, shape (steps + 1,)
    floor: float             # the derived noise floor (inf when the rate is unstable)
    measured: float          # mean excess loss over the second half of the run
    theta_star: np.ndarray   # the least-squares [w*, b*]
    learning_rate: float     # the run's rate
    batch_size: int          # and batch size
    verdict: str             # the run in words


def explore(learning_rate, batch_size, steps=300, seed=0, x=None, y=None):
    """What the noise explorer draws: one mini-batch SGD run from ``[0, 0]`` and its noise floor.

    Runs :func:`minibatch_sgd` (batches without replacement) on the course's ``y = 3x + 2`` data
    (or ``x``, ``y``), compares the mean excess loss of the run's second half with
    :func:`linear_noise_floor`, and says in words whether the run settles on the floor.

    Args:
        learning_rate: the constant rate, > 0.
        batch_size: examples per step, in [1, N].
        steps: number of steps, >= 2.
        seed: the batches' seed.
        x, y: the data (default: ``course_lib.data.linear_regression()``).

    Examples:
        >>> view = explore(0.3, 10)
        >>> round(view.measured / view.floor, 1)
        1.0
    """
    if x is None or y is None:
        from .data import linear_regression
        x, y = linear_regression()
    lr = check_number("learning_rate", learning_rate, 0, None, low_open=True)
    steps = check_int("steps", steps, 2)
    theta_star, loss_star = linear_minimum(x, y)
    floor = linear_noise_floor(x, y, lr, batch_size)
    runs = minibatch_sgd(x, y, [0.0, 0.0], lr, batch_size, steps, seed=seed)
    excess = runs.loss[:, 0] - loss_star
    half = excess[steps // 2:]
    measured = float(np.mean(half)) if np.all(np.isfinite(half)) else float("inf")
    b = int(batch_size)
    lam = np.linalg.eigvalsh(linear_hessian(x))
    left = abs(1.0 - lr * lam[0]) ** (steps // 2)   # how much of the start the slow direction still holds
    if lr * lam[-1] >= 2:
        verdict = (f"lr {lr:.3g}, batch {b}: diverges: the rate is above the stability limit 2/λmax = "
                   f"{2 / lam[-1]:.3f}, with or without noise.")
    elif not np.isfinite(floor):
        verdict = (f"lr {lr:.3g}, batch {b}: unstable: the noise makes the run blow up, although the rate is "
                   f"below the noiseless limit 2/λmax = {2 / lam[-1]:.3f}; a larger batch tames it.")
    elif floor < 1e-12:
        verdict = (f"lr {lr:.3g}, batch {b}: every batch is the whole data: no noise, no floor; "
                   "the loss falls to its minimum.")
    elif left > 0.05:
        verdict = (f"lr {lr:.3g}, batch {b}: still on its way down after {steps} steps (mean excess {measured:.2e} in "
                   f"the second half, floor {floor:.2e}): a small rate has a low floor but takes long to reach it.")
    else:
        verdict = (f"lr {lr:.3g}, batch {b}: hovers {measured:.2e} above the minimum loss "
                   f"(derived floor {floor:.2e}, measured/derived {measured / floor:.2f}); "
                   "a smaller rate or a larger batch lowers it.")
    return NoiseView(runs.theta[:, 0], excess, float(floor), measured, theta_star, lr, b, verdict)
