"""Loss functions to descend on, each with its value, gradient and Hessian.

An objective is called on a point: a scalar (or array of scalars) for 1-D objectives,
an array whose last axis has length ``dim`` for n-D ones.  Leading axes are evaluated
point by point, so ``f(grid)`` draws a contour plot.  Arithmetic stays in the input's
dtype: float32 in, float32 out, which is how the seeds' TensorFlow 1 tables were made.
"""

import math

import numpy as np

from .core import check_number

__all__ = ["Objective", "Quadratic", "Rosenbrock", "WavyBowl", "Saddle", "rotated_quadratic",
           "SEED_LOSS", "ILL_CONDITIONED", "ROSENBROCK", "WAVY"]


def _as_point(x):
    if type(x) is np.ndarray and x.dtype.kind == "f":  # the common case, kept fast
        return x
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


class Objective:
    """Base class: ``f(x)`` is the value; ``grad`` and ``hessian`` are the derivatives."""

    dim = 1
    name = "objective"
    minimizer = None  # the global minimiser, when known

    def __call__(self, x):
        return self.value(x)

    def value(self, x):
        raise NotImplementedError

    def grad(self, x):
        raise NotImplementedError

    def hessian(self, x):
        raise NotImplementedError

    def value_and_grad(self, x):
        """``(value(x), grad(x))``: the same numbers; a subclass may compute the parts they share once."""
        return self.value(x), self.grad(x)

    def _check_point(self, x):
        x = _as_point(x)
        if self.dim > 1 and (x.ndim == 0 or x.shape[-1] != self.dim):
            raise ValueError(f"`x` must have a last axis of length {self.dim} for {self.name}; "
                             f"got shape {x.shape}.")
        return x

    def __repr__(self):
        return f"{type(self).__name__}({self.name})"


class Quadratic(Objective):
    """``f(x) = 0.5 * (x - minimum)ᵀ H (x - minimum)``, a bowl with constant Hessian ``H``.

    ``hessian`` may be a number (a 1-D quadratic: ``f(w) = hessian/2 * (w - minimum)**2``),
    a vector (a diagonal Hessian: axis-aligned ellipses) or a symmetric positive
    semi-definite matrix.  The seeds' loss ``(w + 1)**2`` is ``Quadratic(2.0, -1.0)``.

    For plain gradient descent the error along each eigenvector of ``H`` is multiplied by
    ``1 - learning_rate * eigenvalue`` per step, so the run converges exactly when
    ``0 < learning_rate < 2 / max(eigenvalues)``: :attr:`stability_limit`.
    """

    def __init__(self, hessian, minimum=0.0, name=None):
        h = np.asarray(hessian, dtype=np.float64)
        if h.ndim > 2 or (h.ndim == 2 and h.shape[0] != h.shape[1]):
            raise ValueError(f"`hessian` must be a number, a vector or a square matrix; got shape {h.shape}.")
        if not np.all(np.isfinite(h)):
            raise ValueError("`hessian` must be finite.")
        if h.ndim == 2 and not np.allclose(h, h.T):
            raise ValueError("`hessian` must be symmetric.")
        self.dim = 1 if h.ndim == 0 else h.shape[0]
        self.eigenvalues = np.sort(np.atleast_1d(np.linalg.eigvalsh(h) if h.ndim == 2 else h))
        if self.eigenvalues[0] < 0:
            raise ValueError(f"`hessian` must be positive semi-definite (eigenvalues in [0, inf)); "
                             f"smallest eigenvalue is {self.eigenvalues[0]:g}.")
        m = np.asarray(minimum, dtype=np.float64)
        if self.dim > 1:
            m = np.broadcast_to(m, (self.dim,)).copy()
        elif m.ndim != 0:
            raise ValueError(f"`minimum` must be a number for a 1-D quadratic; got shape {m.shape}.")
        if not np.all(np.isfinite(m)):
            raise ValueError("`minimum` must be finite.")
        self.h, self.minimizer, self._by_dtype = h, m, {}
        self.name = name or f"quadratic with Hessian eigenvalues {np.round(self.eigenvalues, 4).tolist()}"

    @property
    def stability_limit(self):
        """``2 / largest eigenvalue``: plain gradient descent converges for rates below it."""
        return 2.0 / self.eigenvalues[-1]

    @property
    def condition_number(self):
        """``largest / smallest eigenvalue``: how much slower the flattest direction converges."""
        return self.eigenvalues[-1] / self.eigenvalues[0] if self.eigenvalues[0] > 0 else np.inf

    def _in(self, dtype):
        """The minimum and the Hessian cast to ``dtype``, cast once per dtype (read-only)."""
        cached = self._by_dtype.get(dtype)
        if cached is None:
            cached = self.minimizer.astype(dtype), self.h.astype(dtype)
            for a in cached:
                a.flags.writeable = False
            self._by_dtype[dtype] = cached
        return cached

    def _terms(self, x):
        """``(d, H d, H)`` with ``d = x - minimum``, in ``x``'s dtype: what the value and the gradient share."""
        x = self._check_point(x)
        m, h = self._in(x.dtype)
        d = x - m
        return d, (d @ h.T if h.ndim == 2 else h * d), h

    @staticmethod
    def _value(d, hd, h):
        return (h * 0.5) * d * d if h.ndim == 0 else (d * hd).sum(axis=-1) * d.dtype.type(0.5)

    def value(self, x):
        return self._value(*self._terms(x))

    def grad(self, x):
        return self._terms(x)[1]

    def value_and_grad(self, x):
        terms = self._terms(x)
        return self._value(*terms), terms[1]

    def hessian(self, x=None):
        if self.h.ndim == 0:
            return self.h.copy()
        return np.diag(self.h) if self.h.ndim == 1 else self.h.copy()


class Rosenbrock(Objective):
    """``f(x, y) = (a - x)**2 + b * (y - x**2)**2``: a curved valley with its minimum at (a, a**2)."""

    dim = 2

    def __init__(self, a=1.0, b=100.0):
        self.a = check_number("a", a)
        self.b = check_number("b", b, 0, None, low_open=True)
        self.minimizer = np.array([self.a, self.a ** 2])
        self.name = f"Rosenbrock(a={self.a:g}, b={self.b:g})"

    def _terms(self, x):
        """``(x, r)``, ``r = y - x**2`` (``x, y`` the point's coordinates): what the value and the gradient share."""
        x = self._check_point(x)
        u, v = x[..., 0], x[..., 1]
        return u, v - u * u

    def _value(self, u, r):
        return (self.a - u) ** 2 + self.b * r ** 2

    def _grad(self, u, r):
        return np.stack([-2 * (self.a - u) - 4 * self.b * u * r, 2 * self.b * r], axis=-1)

    def value(self, x):
        return self._value(*self._terms(x))

    def grad(self, x):
        return self._grad(*self._terms(x))

    def value_and_grad(self, x):
        terms = self._terms(x)
        return self._value(*terms), self._grad(*terms)

    def hessian(self, x):
        x = self._check_point(x)
        u, v = x[..., 0], x[..., 1]
        huu = 2 - 4 * self.b * (v - 3 * u * u)
        huv = -4 * self.b * u
        hvv = np.full_like(u, 2 * self.b)
        return np.stack([np.stack([huu, huv], -1), np.stack([huv, hvv], -1)], -2)


class WavyBowl(Objective):
    """``f(w) = curvature/2 * w**2 + amplitude * sin(frequency * w)``: a bowl with ripples.

    A 1-D loss with several minima when ``amplitude * frequency**2 > curvature``: the
    ripples make dips that gradient descent can settle in, and which dip it ends in depends
    on where it starts.  The default ``0.05*w**2 + sin(w)`` has four minima in [-15, 15];
    the global one is near w = -1.43.  :attr:`minimizer` is the global minimiser and
    :meth:`minima` lists every local one in a range, both found numerically (a sign change
    of the gradient on a fine grid, then bisection on the gradient).
    """

    dim = 1

    def __init__(self, curvature=0.1, amplitude=1.0, frequency=1.0, name=None):
        self.curvature = check_number("curvature", curvature, 0, None, low_open=True)
        self.amplitude = check_number("amplitude", amplitude, 0, None)
        self.frequency = check_number("frequency", frequency, 0, None, low_open=True)
        amp = "" if self.amplitude == 1 else f"{self.amplitude:g}*"
        arg = "w" if self.frequency == 1 else f"{self.frequency:g}*w"
        self.name = name or f"{self.curvature / 2:g}*w**2 + {amp}sin({arg})"
        # Every minimum lies where |curvature * w| <= amplitude * frequency.
        reach = self.amplitude * self.frequency / self.curvature + 1.0
        found = self.minima(-reach, reach)
        self.minimizer = min(found, key=lambda m: float(self.value(m)))

    def value(self, x):
        x = self._check_point(x)
        t = x.dtype.type
        return t(self.curvature / 2) * x * x + t(self.amplitude) * np.sin(t(self.frequency) * x)

    def grad(self, x):
        x = self._check_point(x)
        t = x.dtype.type
        return t(self.curvature) * x + t(self.amplitude * self.frequency) * np.cos(t(self.frequency) * x)

    def hessian(self, x):
        x = self._check_point(x)
        t = x.dtype.type
        return t(self.curvature) - t(self.amplitude * self.frequency ** 2) * np.sin(t(self.frequency) * x)

    def minima(self, low, high, points_per_period=400):
        """The local minimisers in ``[low, high]``, sorted, as float64 numbers."""
        low, high = check_number("low", low), check_number("high", high)
        if not high > low:
            raise ValueError(f"`high` must be greater than `low`; got low={low:g}, high={high:g}.")
        n = int(np.ceil((high - low) * self.frequency / (2 * np.pi) * points_per_period)) + 2
        w = np.linspace(low, high, n)
        g = self.grad(w)
        left = np.nonzero((g[:-1] < 0) & (g[1:] >= 0))[0]
        found = []
        for i in left:
            a, b = w[i], w[i + 1]
            m = 0.5 * (a + b)
            for _ in range(60):  # bisection keeps the root bracketed; it is cheap
                if self.grad(m) < 0:
                    a = m
                else:
                    b = m
                m = 0.5 * (a + b)
            found.append(float(m))
        return found


class Saddle(Objective):
    """``f(x, y) = curvature/2 * x**2 - depth/2 * y**2 + depth/4 * y**4``: a saddle between two minima (lesson 07).

    At the origin the gradient is zero and the Hessian is ``diag(curvature, -depth)``: one
    positive and one negative eigenvalue, a saddle.  The quartic term stops the fall: the
    minima are at ``(0, ±1)`` with value ``-depth/4``.

    Args:
        curvature: the positive curvature along x, > 0.
        depth: minus the curvature along y at the saddle, > 0.

    Examples:
        >>> s = Saddle()
        >>> s.grad(np.array([0.0, 0.0])).tolist(), np.linalg.eigvalsh(s.hessian(np.zeros(2))).tolist()
        ([0.0, 0.0], [-1.0, 1.0])
        >>> float(s(np.array([0.0, 1.0])))
        -0.25
    """

    dim = 2

    def __init__(self, curvature=1.0, depth=1.0):
        self.curvature = check_number("curvature", curvature, 0, None, low_open=True)
        self.depth = check_number("depth", depth, 0, None, low_open=True)
        self.minimizer = np.array([0.0, 1.0])
        self.name = f"saddle {self.curvature:g}/2 x² - {self.depth:g}/2 y² + {self.depth:g}/4 y⁴"

    def value(self, x):
        x = self._check_point(x)
        u, v = x[..., 0], x[..., 1]
        return self.curvature / 2 * u * u - self.depth / 2 * v * v + self.depth / 4 * v ** 4

    def grad(self, x):
        x = self._check_point(x)
        u, v = x[..., 0], x[..., 1]
        return np.stack([self.curvature * u, self.depth * (v ** 3 - v)], axis=-1)

    def hessian(self, x):
        x = self._check_point(x)
        u, v = x[..., 0], x[..., 1]
        zero = np.zeros_like(u)
        huu = np.full_like(u, self.curvature)
        hvv = self.depth * (3 * v * v - 1)
        return np.stack([np.stack([huu, zero], -1), np.stack([zero, hvv], -1)], -2)


def rotated_quadratic(angle, condition_number, largest_eigenvalue=1.0):
    """A 2-D bowl ``0.5 xᵀ H x`` whose axes are turned by ``angle`` radians (lesson 07).

    ``H = R diag(L, L/κ) Rᵀ`` with ``R`` the rotation by ``angle``: the steep axis points along
    ``(cos angle, sin angle)``.  At ``angle = 0`` the bowl is axis-aligned and a per-coordinate
    (diagonal) scaling can undo its ill-conditioning; at 45° it cannot.

    Args:
        angle: the rotation in radians, finite.
        condition_number: ``κ = L / μ``, >= 1.
        largest_eigenvalue: ``L``, > 0.

    Examples:
        >>> q = rotated_quadratic(math.pi / 4, 10.0)
        >>> np.round(q.eigenvalues, 6).tolist(), round(float(q.condition_number), 6)
        ([0.1, 1.0], 10.0)
        >>> rotated_quadratic(0.0, 0.5)
        Traceback (most recent call last):
        ...
        ValueError: `condition_number` must be in [1, inf); got 0.5.
    """
    angle = check_number("angle", angle)
    kappa = check_number("condition_number", condition_number, 1)
    big = check_number("largest_eigenvalue", largest_eigenvalue, 0, None, low_open=True)
    c, s = math.cos(angle), math.sin(angle)
    r = np.array([[c, -s], [s, c]])
    h = r @ np.diag([big, big / kappa]) @ r.T
    h = (h + h.T) / 2
    return Quadratic(h, name=f"bowl turned {math.degrees(angle):g}°, κ = {kappa:g}")


#: The seeds' loss ``(w + 1)**2``: gradient ``2w + 2``, minimum at w = -1, curvature 2.
SEED_LOSS = Quadratic(2.0, -1.0, name="(w + 1)**2")
#: The ill-conditioned bowl ``0.1*x1**2 + 2*x2**2`` (Hessian eigenvalues 0.2 and 4).
ILL_CONDITIONED = Quadratic([0.2, 4.0], name="0.1*x1**2 + 2*x2**2")
#: The classic banana valley, minimum at (1, 1).
ROSENBROCK = Rosenbrock()
#: Lesson 02's loss with several minima: ``0.05*w**2 + sin(w)``.
WAVY = WavyBowl()
