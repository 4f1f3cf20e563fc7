"""The shape of a loss surface: saddles, curvature, Newton steps, preconditioning, initialization.

* :func:`classify_stationary_point`: minimum, maximum or saddle from a Hessian's eigenvalues.
  (Lesson 07's toy landscapes, :class:`~course_lib.objectives.Saddle` and
  :func:`~course_lib.objectives.rotated_quadratic`, live in :mod:`course_lib.objectives`.)
* :func:`newton_step` and :func:`newton_minimize`: Newton's method, with optional damping.
* :func:`hvp_finite_difference`, :func:`hessian_from_hvp`, :func:`extreme_eigenvalues` (power
  iteration) and :func:`lanczos_eigenvalues`:
  curvature from gradients alone (a Hessian-vector product costs two gradients).
* :func:`preconditioned_descent`: ``x <- x - learning_rate * P @ grad``.
* :func:`measured_rate`: the error's factor per step, from a run.
* :func:`layer_statistics`: forward activations and backward gradients, layer by layer, of a deep MLP.
* :func:`interpolate`: the weights on the straight line between two weight vectors.
* :func:`rotated_race`: SGD, tuned momentum and Adam on a rotated bowl (the explorer's computation).
"""

import copy
import math
from typing import Any, NamedTuple

import numpy as np

from .backprop import ACTIVATIONS, MLP, dense_backward
from .core import as_param_tree, check_int, check_number, tree_leaves, tree_map, tree_unflatten
from .initializers import get as get_initializer
from .objectives import Quadratic, rotated_quadratic  # noqa: F401  (Quadratic: the doctests' bowls)
from .stability import heavy_ball_tuning

__all__ = ["classify_stationary_point", "newton_step", "newton_minimize",
           "hvp_finite_difference",
           "hessian_from_hvp", "power_iteration", "lanczos_eigenvalues", "extreme_eigenvalues", "flatten", "unflatten",
           "preconditioned_descent", "measured_rate", "gd_rate", "momentum_rate", "LayerStatistics",
           "layer_statistics", "interpolate", "RotatedRace", "RACE_START", "race_start", "rotated_race"]


# --------------------------------------------------------------------------- stationary points
def classify_stationary_point(hessian, tolerance=1e-9):
    """``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"inconclusive"`` from a symmetric Hessian's eigenvalues.

    All positive: a minimum; all negative: a maximum; both signs: a saddle.  An eigenvalue with
    ``|λ| <= tolerance * max(1, max |λ|)`` counts as zero, and then second derivatives cannot decide.

    Args:
        hessian: a symmetric square matrix.
        tolerance: relative size below which an eigenvalue is zero, >= 0.

    Examples:
        >>> classify_stationary_point([[1.0, 2.0], [2.0, 1.0]])
        'saddle'
        >>> classify_stationary_point(np.diag([-1.0, -3.0]))
        'maximum'
    """
    tolerance = check_number("tolerance", tolerance, 0)
    h = np.asarray(hessian, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or not np.allclose(h, h.T):
        raise ValueError(f"`hessian` must be a symmetric square matrix; got shape {h.shape}.")
    e = np.linalg.eigvalsh(h)
    if np.any(np.abs(e) <= tolerance * max(1.0, float(np.abs(e).max()))):
        return "inconclusive"
    return "minimum" if np.all(e > 0) else "maximum" if np.all(e < 0) else "saddle"


# --------------------------------------------------------------------------- Newton
def newton_step(objective, x, learning_rate=1.0, damping=0.0):
    """``x - learning_rate * (H + damping I)⁻¹ grad``: one (damped) Newton step.

    On a quadratic with positive-definite ``H`` one undamped step of rate 1 lands on the
    minimum.  ``damping`` > 0 blends in gradient descent (Levenberg's trick): for large
    damping the step tends to ``grad / damping``.

    Args:
        objective: an objective with ``grad`` and ``hessian`` (an n-D one).
        x: the point, shape ``(dim,)``.
        learning_rate: the step's scale, > 0.
        damping: added to the Hessian's diagonal, >= 0.

    Examples:
        >>> q = Quadratic([[3.0, 1.0], [1.0, 2.0]], minimum=[1.0, -1.0])
        >>> np.round(newton_step(q, np.array([5.0, 5.0])), 12).tolist()
        [1.0, -1.0]
    """
    lr = check_number("learning_rate", learning_rate, 0, None, low_open=True)
    damping = check_number("damping", damping, 0)
    x = np.asarray(x, dtype=np.float64)
    h = np.atleast_2d(objective.hessian(x))
    g = np.atleast_1d(objective.grad(x))
    step = np.linalg.solve(h + damping * np.eye(len(h)), g)
    return x - lr * step.reshape(x.shape)


def newton_minimize(objective, x0, steps, learning_rate=1.0, damping=0.0):
    """The points of ``steps`` Newton steps from ``x0`` (``steps + 1`` rows, the start first).

    Examples:
        >>> from course_lib.objectives import Rosenbrock
        >>> path = newton_minimize(Rosenbrock(), [-1.5, 2.0], 6)
        >>> np.round(path[-1], 6).tolist()
        [1.0, 1.0]
    """
    steps = check_int("steps", steps, 0)
    path = [np.asarray(x0, dtype=np.float64)]
    for _ in range(steps):
        path.append(newton_step(objective, path[-1], learning_rate, damping))
    return np.array(path)


# --------------------------------------------------------------------------- curvature from gradients
def flatten(tree):
    """All leaves of a parameter tree as one float64 vector.

    Examples:
        >>> flatten([{"kernel": np.ones((2, 2)), "bias": np.zeros(2)}]).shape
        (6,)
    """
    return np.concatenate([np.ravel(leaf).astype(np.float64) for leaf in tree_leaves(as_param_tree("tree", tree))])


def unflatten(vector, like):
    """The inverse of :func:`flatten`: ``vector`` cut into leaves shaped (and typed) like ``like``'s.

    Examples:
        >>> unflatten(np.arange(3.0), {"a": np.zeros(1), "b": np.zeros(2)})
        {'a': array([0.]), 'b': array([1., 2.])}
    """
    leaves = tree_leaves(as_param_tree("like", like))
    vector = np.asarray(vector)
    sizes = [leaf.size for leaf in leaves]
    if vector.shape != (sum(sizes),):
        raise ValueError(f"`vector` must have shape ({sum(sizes)},) to fill `like`; got {vector.shape}.")
    parts = np.split(vector, np.cumsum(sizes)[:-1])
    return tree_unflatten(like, [p.reshape(leaf.shape).astype(leaf.dtype) for p, leaf in zip(parts, leaves)])


def hvp_finite_difference(grad_fn, w, v, epsilon=1e-5):
    """``H v ≈ (grad(w + ε v) - grad(w - ε v)) / (2 ε)``: a Hessian-vector product from two gradients.

    Taylor's third-derivative term cancels in the central difference, so the truncation error is
    ``(ε²/6)`` times the fourth derivative of the loss (the third of its gradient) along ``v``;
    rounding adds about ``2.2e-16 · |grad| / ε``.  In float64 the two meet near ``ε = 1e-6`` on
    lesson 07's network; the default ``ε = 1e-5`` is a safe choice a little on the truncation side.

    Args:
        grad_fn: maps a flat float64 vector to the gradient, a vector of the same shape.
        w: the point, a vector.
        v: the direction, a vector of the same shape.
        epsilon: the step, > 0.

    Examples:
        >>> q = Quadratic([[2.0, 1.0], [1.0, 4.0]])
        >>> np.round(hvp_finite_difference(q.grad, np.array([0.3, -0.2]), np.array([1.0, 0.0])), 8).tolist()
        [2.0, 1.0]
    """
    eps = check_number("epsilon", epsilon, 0, None, low_open=True)
    w, v = np.asarray(w, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if w.shape != v.shape:
        raise ValueError(f"`v` must have the shape of `w` {w.shape}; got {v.shape}.")
    return (np.asarray(grad_fn(w + eps * v)) - np.asarray(grad_fn(w - eps * v))) / (2 * eps)


def hessian_from_hvp(hvp, dim):
    """The full ``dim x dim`` Hessian, one product per basis vector, symmetrised.

    Costs ``dim`` products (``2 dim`` gradients); fine for a few hundred parameters.

    Examples:
        >>> hessian_from_hvp(lambda v: np.array([[2.0, 1.0], [1.0, 4.0]]) @ v, 2).tolist()
        [[2.0, 1.0], [1.0, 4.0]]
    """
    dim = check_int("dim", dim, 1)
    h = np.column_stack([hvp(e) for e in np.eye(dim)])
    return (h + h.T) / 2


def power_iteration(hvp, dim, iterations=100, shift=0.0, seed=0):
    """The eigenvalue of largest magnitude of ``H - shift I``, plus ``shift``, and its eigenvector.

    Repeats ``v <- (H - shift I) v / |...|`` from a seeded random ``v``; the Rayleigh
    quotient ``vᵀ H v`` is returned.  It converges at the rate ``|λ₂ / λ₁|`` of the two
    largest magnitudes of the shifted matrix.

    Args:
        hvp: maps a vector ``v`` to ``H v``.
        dim: the length of ``v``, >= 1.
        iterations: products to spend, >= 1.
        shift: subtracted from every eigenvalue (see :func:`extreme_eigenvalues`).
        seed: the start vector's seed.

    Examples:
        >>> h = np.diag([3.0, 1.0, -2.0])
        >>> round(power_iteration(lambda v: h @ v, 3, 200)[0], 6)
        3.0
    """
    dim = check_int("dim", dim, 1)
    iterations = check_int("iterations", iterations, 1)
    shift = check_number("shift", shift)
    v = np.random.default_rng(check_int("seed", seed, 0)).normal(size=dim)
    v /= np.linalg.norm(v)
    for _ in range(iterations):
        w = np.asarray(hvp(v)) - shift * v
        norm = np.linalg.norm(w)
        if norm == 0:
            break
        v = w / norm
    return float(v @ np.asarray(hvp(v))), v


def extreme_eigenvalues(hvp, dim, iterations=100, seed=0):
    """``(smallest, largest)`` eigenvalues of a symmetric ``H`` known only through ``hvp``.

    A first power iteration finds the eigenvalue of largest magnitude ``λ``; a second on
    ``H - λ I`` finds the other end of the spectrum (its eigenvalues are all of one sign).

    Examples:
        >>> h = np.diag([3.0, 1.0, -2.0])
        >>> [round(e, 6) for e in extreme_eigenvalues(lambda v: h @ v, 3, 300)]
        [-2.0, 3.0]
    """
    first, _ = power_iteration(hvp, dim, iterations, 0.0, seed)
    other, _ = power_iteration(hvp, dim, iterations, first, seed + 1)
    return (min(first, other), max(first, other))


def lanczos_eigenvalues(hvp, dim, iterations=30, seed=0):
    """Ritz values of a symmetric ``H`` from ``iterations`` products (Lanczos, fully re-orthogonalised).

    Builds an orthonormal basis ``Q`` of the Krylov space ``{v, Hv, H²v, ...}`` and returns the
    eigenvalues of the small matrix ``Qᵀ H Q``, sorted.  Its smallest and largest converge to
    ``H``'s extreme eigenvalues far faster than :func:`power_iteration` (tens of products
    instead of hundreds), since they are the best over a whole polynomial space.

    Args:
        hvp: maps a vector ``v`` to ``H v``.
        dim: the length of ``v``, >= 1.
        iterations: products to spend, >= 1 (at most ``dim`` are used).
        seed: the start vector's seed.

    Examples:
        >>> h = np.diag(np.arange(1.0, 101.0)) - 5 * np.eye(100)
        >>> ritz = lanczos_eigenvalues(lambda v: h @ v, 100, 40)
        >>> round(float(ritz[0]), 3), round(float(ritz[-1]), 3)
        (-4.0, 95.0)
    """
    dim = check_int("dim", dim, 1)
    k = min(check_int("iterations", iterations, 1), dim)
    q = np.zeros((k, dim))
    v = np.random.default_rng(check_int("seed", seed, 0)).normal(size=dim)
    alpha, beta = np.zeros(k), np.zeros(k)
    q[0] = v / np.linalg.norm(v)
    for j in range(k):
        w = np.asarray(hvp(q[j]), dtype=np.float64)
        alpha[j] = q[j] @ w
        w = w - q[:j + 1].T @ (q[:j + 1] @ w)     # re-orthogonalise against the whole basis (twice)
        w = w - q[:j + 1].T @ (q[:j + 1] @ w)
        if j + 1 < k:
            beta[j] = np.linalg.norm(w)
            if beta[j] < 1e-12:                    # an invariant subspace: the values are exact
                k = j + 1
                break
            q[j + 1] = w / beta[j]
    t = np.diag(alpha[:k]) + np.diag(beta[:k - 1], 1) + np.diag(beta[:k - 1], -1)
    return np.linalg.eigvalsh(t)


# --------------------------------------------------------------------------- preconditioning and rates
def preconditioned_descent(objective, x0, learning_rate, preconditioner, steps):
    """Points of ``x <- x - learning_rate * P @ grad(x)`` (``steps + 1`` rows, the start first).

    With ``P = H⁻¹`` and rate 1 this is Newton's method; with a diagonal ``P`` it rescales
    each coordinate, which is what Adagrad, RMSprop and Adam do with ``P`` built from the
    gradients' running sizes.

    Args:
        objective: an n-D objective.
        x0: the start, shape ``(dim,)``.
        learning_rate: > 0.
        preconditioner: a ``(dim, dim)`` matrix, or a vector (the diagonal).
        steps: >= 0.

    Examples:
        >>> q = Quadratic([100.0, 1.0])
        >>> path = preconditioned_descent(q, [1.0, 1.0], 1.0, [0.01, 1.0], 1)
        >>> path[-1].tolist()
        [0.0, 0.0]
    """
    lr = check_number("learning_rate", learning_rate, 0, None, low_open=True)
    steps = check_int("steps", steps, 0)
    p = np.asarray(preconditioner, dtype=np.float64)
    x = np.asarray(x0, dtype=np.float64)
    if p.shape not in {(x.size,), (x.size, x.size)}:
        raise ValueError(f"`preconditioner` must have shape ({x.size},) or ({x.size}, {x.size}); got {p.shape}.")
    path = [x]
    for _ in range(steps):
        g = objective.grad(path[-1])
        path.append(path[-1] - lr * (p * g if p.ndim == 1 else p @ g))
    return np.array(path)


def measured_rate(errors, start, stop):
    """The error's mean factor per step between steps ``start`` and ``stop``: ``(e[stop]/e[start])**(1/(stop-start))``.

    Examples:
        >>> measured_rate(0.5 ** np.arange(10), 2, 8)
        0.5
    """
    errors = np.asarray(errors, dtype=np.float64)
    start = check_int("start", start, 0)
    stop = check_int("stop", stop, start + 1, len(errors) - 1)
    return float((errors[stop] / errors[start]) ** (1.0 / (stop - start)))


def gd_rate(condition_number):
    """``(κ - 1) / (κ + 1)``: the error's factor per step of gradient descent at its best rate ``2/(L + μ)``.

    Examples:
        >>> gd_rate(9.0)
        0.8
    """
    k = check_number("condition_number", condition_number, 1)
    return (k - 1) / (k + 1)


def momentum_rate(condition_number):
    """``(√κ - 1) / (√κ + 1)``: the factor per step of tuned heavy-ball momentum (see ``heavy_ball_tuning``).

    Examples:
        >>> momentum_rate(9.0)
        0.5
    """
    return heavy_ball_tuning(condition_number)[2]


# --------------------------------------------------------------------------- initialization
class LayerStatistics(NamedTuple):
    activation_std: np.ndarray   # standard deviation of each layer's outputs (layer 1 first)
    backward_std: np.ndarray     # standard deviation of d loss / d (each layer's output): the backward signal
    gradient_norm: np.ndarray    # norm of the loss's gradient with respect to each layer's kernel
    params: Any                  # the initial weights used


def layer_statistics(depth, width=100, activation="tanh", initializer="glorot_uniform", batch=200, seed=0):
    """Forward activations and backward gradients, layer by layer, of a deep MLP at its initial weights.

    The network is ``depth`` dense layers of ``width`` units, all with ``activation`` (biases
    start at 0 and play no part).  The input is ``batch`` standard-normal examples; the
    gradient sent back from the top is a standard-normal ``d loss / d output`` divided by the
    batch size (the gradient of a mean loss).  ``backward_std[i]`` is the size of
    ``d loss / d (output of layer i + 1)``: what the backward pass has made of that signal by
    the time it reaches the layer.  A kernel's gradient ``xᵀ d_z`` multiplies the forward and
    the backward signal, so it can stay level while both explode or both vanish.

    Args:
        depth: number of layers, >= 1.
        width: units per layer, >= 1.
        activation: ``"sigmoid"``, ``"tanh"``, ``"relu"`` or ``"linear"``.
        initializer: a name of :func:`course_lib.initializers.get` or an initializer (its seed is
            replaced by ``1000 * seed + layer``, so each layer gets its own draw).
        batch: examples, >= 1.
        seed: seeds the weights, the input and the top gradient.

    Examples:
        >>> s = layer_statistics(10, 50, "relu", "he_normal", batch=100)
        >>> bool(0.5 < s.activation_std[-1] / s.activation_std[0] < 2)
        True
        >>> layer_statistics(0)
        Traceback (most recent call last):
        ...
        ValueError: `depth` must be an integer in [1, inf); got 0.
    """
    depth = check_int("depth", depth, 1)
    width = check_int("width", width, 1)
    batch = check_int("batch", batch, 1)
    seed = check_int("seed", seed, 0)
    template = get_initializer(initializer)
    net = MLP((width,) * (depth + 1), activation=activation, output_activation=activation,
              loss="mean_squared_error")
    params = []
    for i in range(depth):
        make = copy.copy(template)
        if hasattr(make, "seed"):
            make.seed = seed * 1000 + i   # a different, reproducible draw per layer
        params.append({"kernel": make((width, width)), "bias": np.zeros(width)})
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, width))
    out, cache = net.forward(params, x)
    d_out = rng.normal(size=out.shape) / batch
    backward_std, kernel_norm = [], []
    for i in reversed(range(depth)):     # MLP.backward's loop, keeping the signal at every layer
        backward_std.append(d_out.std())
        d_z = ACTIVATIONS[activation][1](d_out, cache[i]["out"])
        d_out, d_kernel, _ = dense_backward(d_z, cache[i]["x"], params[i]["kernel"])
        kernel_norm.append(np.linalg.norm(d_kernel))
    return LayerStatistics(np.array([c["out"].std() for c in cache]), np.array(backward_std[::-1]),
                           np.array(kernel_norm[::-1]), params)


def interpolate(start, end, alpha):
    """The weights ``(1 - alpha) * start + alpha * end``: a point on the line between two weight trees.

    ``alpha = 0`` is ``start``, ``1`` is ``end``; values outside [0, 1] extend the line.

    Examples:
        >>> interpolate({"w": np.array([0.0, 2.0])}, {"w": np.array([1.0, 4.0])}, 0.5)
        {'w': array([0.5, 3. ])}
    """
    alpha = check_number("alpha", alpha)
    return tree_map(lambda a, b: (1 - alpha) * a + alpha * b, as_param_tree("start", start),
                    as_param_tree("end", end))


# --------------------------------------------------------------------------- the rotated race
class RotatedRace(NamedTuple):
    objective: Any      # the rotated quadratic
    paths: dict         # {"SGD" | "Momentum" | "Adam": array (steps + 1, 2)}
    losses: dict        # {name: losses}
    rates: dict         # {name: (learning_rate, momentum or None)}
    verdict: str        # who is closest to the minimum after `steps` steps


#: The race's start on the axis-aligned bowl; :func:`rotated_race` turns it with the bowl.
RACE_START = (-4.0, 2.5)


def race_start(angle_degrees):
    """:data:`RACE_START` turned by ``angle_degrees`` (degrees), as the bowl of :func:`rotated_race` is.

    Turned together, the start sits at the same place relative to the bowl's axes at every angle,
    so a method that does not care about the coordinate axes (SGD, momentum) has the same losses
    at every angle.

    Examples:
        >>> np.round(race_start(90.0), 12).tolist()
        [-2.5, -4.0]
    """
    a = math.radians(check_number("angle_degrees", angle_degrees))
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s], [s, c]]) @ np.array(RACE_START)


def _race_paths(h, x0, steps, sgd_rate, momentum_rate_, momentum, adam_rate, beta_1=0.9, beta_2=0.999,
                epsilon=1e-7):
    """SGD, heavy-ball momentum (Keras's form) and Adam (Keras's form) on ``0.5 xᵀHx``, as plain loops.

    The same updates as :class:`course_lib.optimizers.SGD` and :class:`~course_lib.optimizers.Adam`
    (tests compare them), without the optimizers' per-step checks, so that the explorer stays fast.
    """
    x_sgd, x_mom, x_adam = (np.array(x0, dtype=np.float64) for _ in range(3))
    v, m, s = np.zeros(2), np.zeros(2), np.zeros(2)
    paths = {name: np.empty((steps + 1, 2)) for name in ("SGD", "Momentum", "Adam")}
    for name, x in (("SGD", x_sgd), ("Momentum", x_mom), ("Adam", x_adam)):
        paths[name][0] = x
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            x_sgd = x_sgd - sgd_rate * (h @ x_sgd)
            v = momentum * v - momentum_rate_ * (h @ x_mom)
            x_mom = x_mom + v
            g = h @ x_adam
            m = m + (g - m) * (1 - beta_1)
            s = s + (g * g - s) * (1 - beta_2)
            alpha = adam_rate * math.sqrt(1 - beta_2 ** k) / (1 - beta_1 ** k)
            x_adam = x_adam - m * alpha / (np.sqrt(s) + epsilon)
            paths["SGD"][k], paths["Momentum"][k], paths["Adam"][k] = x_sgd, x_mom, x_adam
    return paths


def rotated_race(angle_degrees=45.0, condition_number=20.0, steps=60, adam_rate=0.3):
    """SGD at its best rate, tuned heavy-ball momentum and Adam on :func:`~course_lib.objectives.rotated_quadratic`.

    SGD runs at ``2 / (L + μ)``, momentum with :func:`course_lib.stability.heavy_ball_tuning`,
    Adam at ``adam_rate`` with Keras's defaults; all start at :func:`race_start` (``RACE_START``
    turned with the bowl, float64), so SGD's and momentum's losses do not depend on the angle.

    Args:
        angle_degrees: the bowl's turn in **degrees** (:func:`~course_lib.objectives.rotated_quadratic` takes radians).
        condition_number: ``κ``, >= 1 (``L = 1``).
        steps: the number of steps, >= 1.
        adam_rate: Adam's learning rate, > 0.

    Examples:
        >>> r = rotated_race(45.0, 20.0, steps=40)
        >>> sorted(r.paths), r.paths["SGD"].shape
        (['Adam', 'Momentum', 'SGD'], (41, 2))
    """
    angle = check_number("angle_degrees", angle_degrees)
    kappa = check_number("condition_number", condition_number, 1)
    steps = check_int("steps", steps, 1)
    adam_rate = check_number("adam_rate", adam_rate, 0, None, low_open=True)
    q = rotated_quadratic(math.radians(angle), kappa)
    lr_m, beta, _ = heavy_ball_tuning(kappa)
    lr_sgd = 2 / (1 + 1 / kappa)
    h = q.hessian()
    paths = _race_paths(h, race_start(angle), steps, lr_sgd, lr_m, beta, adam_rate)
    losses = {n: 0.5 * np.einsum("ki,ij,kj->k", p, h, p) for n, p in paths.items()}
    best = min(losses, key=lambda n: losses[n][-1])
    verdict = (f"turned {angle:g}°, κ = {kappa:.4g}: after {steps} steps "
               + ", ".join(f"{n} {losses[n][-1]:.1e}" for n in losses) + f"; {best} is lowest.")
    rates = {"SGD": (lr_sgd, None), "Momentum": (lr_m, beta), "Adam": (adam_rate, None)}
    return RotatedRace(q, paths, losses, rates, verdict)
