"""Numpy twins of Keras's weight initializers, by the same names, arguments and defaults.

An initializer is built once (``init = HeNormal(seed=0)``) and called on a shape
(``kernel = init((fan_in, fan_out))``).  The draws come from ``numpy.random.default_rng(seed)``,
so they equal Keras's in distribution (scale, bounds), not number for number.

Keras's variance-scaling family draws with variance ``scale / n``, where ``n`` is the fan-in
(``mode="fan_in"``), the fan-out or their mean (``"fan_avg"``)::

    uniform:           U(-limit, limit), limit = sqrt(3 * scale / n)      # variance limit**2 / 3
    truncated_normal:  N(0, s) cut at 2 s, s = sqrt(scale / n) / 0.87962566103423978
    untruncated_normal: N(0, sqrt(scale / n))

The constant 0.8796... is the standard deviation of a unit normal cut at ±2, so the cut
distribution has variance exactly ``scale / n``.  Glorot (Xavier) is ``scale=1, fan_avg``;
He is ``scale=2, fan_in``; LeCun is ``scale=1, fan_in``.
"""

import math

import numpy as np

from .core import check_int, check_number

__all__ = ["Initializer", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
           "LecunNormal", "LecunUniform", "RandomNormal", "RandomUniform", "Zeros", "Ones", "compute_fans", "get",
           "glorot_uniform",
           "TRUNCATED_NORMAL_STDDEV"]

#: Standard deviation of a unit normal truncated to [-2, 2] (Keras divides by it).
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def _check_shape(shape):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or len(shape) == 0:
        raise ValueError(f"`shape` must be a non-empty tuple of positive integers; got {shape!r}.")
    return tuple(check_int(f"shape[{i}]", s, 1) for i, s in enumerate(shape))


def compute_fans(shape):
    """``(fan_in, fan_out)`` the way Keras counts them.

    A vector has fan-in = fan-out = its length; a kernel ``(fan_in, fan_out)`` is read as is;
    a convolution kernel ``(*receptive_field, in_channels, out_channels)`` multiplies both by
    the receptive field's size.

    Args:
        shape: a tuple of positive integers.

    Examples:
        >>> compute_fans((784, 100))
        (784, 100)
        >>> compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = _check_shape(shape)
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``init(shape, dtype=np.float64)`` returns a new array of that shape."""

    def __call__(self, shape, dtype=np.float64):
        shape = _check_shape(shape)
        return np.asarray(self._sample(shape), dtype=dtype)

    def _sample(self, shape):
        raise NotImplementedError

    def _rng(self):
        return np.random.default_rng(self.seed)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


def _check_seed(seed):
    return None if seed is None else check_int("seed", seed, 0)


class VarianceScaling(Initializer):
    """Draws with variance ``scale / n`` (see the module's docstring), like ``keras.initializers.VarianceScaling``.

    Args:
        scale: positive factor of the variance.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``: which ``n`` divides it.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: a non-negative integer, or ``None`` for fresh randomness.

    Examples:
        >>> w = VarianceScaling(2.0, "fan_in", "uniform", seed=0)((400, 300))
        >>> bool(np.abs(w).max() <= math.sqrt(6 / 400)), round(float(w.var() * 400 / 2), 1)
        (True, 1.0)
    """

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale = check_number("scale", scale, 0, None, low_open=True)
        if mode not in self.MODES:
            raise ValueError(f"`mode` must be one of {list(self.MODES)}; got {mode!r}.")
        if distribution == "normal":  # Keras's old spelling of truncated_normal
            distribution = "truncated_normal"
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(f"`distribution` must be one of {list(self.DISTRIBUTIONS)}; got {distribution!r}.")
        self.mode, self.distribution, self.seed = mode, distribution, _check_seed(seed)

    def variance(self, shape):
        """The variance every entry is drawn with: ``scale / n``."""
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        return self.scale / n

    def limit(self, shape):
        """The largest possible ``|entry|``: the uniform's bound, or the normal's cut (``inf`` uncut)."""
        var = self.variance(shape)
        if self.distribution == "uniform":
            return math.sqrt(3 * var)
        if self.distribution == "truncated_normal":
            return 2 * math.sqrt(var) / TRUNCATED_NORMAL_STDDEV
        return math.inf

    def _sample(self, shape):
        rng, var = self._rng(), self.variance(shape)
        if self.distribution == "uniform":
            limit = math.sqrt(3 * var)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(var), shape)
        std = math.sqrt(var) / TRUNCATED_NORMAL_STDDEV
        out = rng.normal(0.0, 1.0, shape)
        bad = np.abs(out) > 2
        while bad.any():  # redraw the entries beyond 2 standard deviations
            out[bad] = rng.normal(0.0, 1.0, int(bad.sum()))
            bad = np.abs(out) > 2
        return out * std


class GlorotUniform(VarianceScaling):
    """``U(-limit, limit)``, ``limit = sqrt(6 / (fan_in + fan_out))``: Keras's default kernel initializer.

    Examples:
        >>> GlorotUniform(seed=0).limit((16, 16))
        0.4330127018922193
    """

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)


def glorot_uniform(fan_in, fan_out, rng, dtype=np.float64):
    """A ``(fan_in, fan_out)`` kernel drawn from ``rng``: ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``.

    :class:`GlorotUniform` as a function of a generator the caller owns (``MLP.init`` draws all
    its layers from one generator); ``GlorotUniform(seed=s)((i, o))`` equals
    ``glorot_uniform(i, o, np.random.default_rng(s))``.

    Args:
        fan_in: inputs, >= 1.
        fan_out: outputs, >= 1.
        rng: a ``numpy.random.Generator``.
        dtype: the kernel's dtype.

    Examples:
        >>> w = glorot_uniform(3, 5, np.random.default_rng(0))
        >>> w.shape, bool(np.abs(w).max() <= math.sqrt(6 / 8))
        ((3, 5), True)
    """
    fan_in, fan_out = check_int("fan_in", fan_in, 1), check_int("fan_out", fan_out, 1)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(dtype)


class GlorotNormal(VarianceScaling):
    """Truncated normal with variance ``2 / (fan_in + fan_out)``.

    Examples:
        >>> GlorotNormal(seed=0).variance((30, 10))
        0.05
    """

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)


class HeUniform(VarianceScaling):
    """``U(-limit, limit)``, ``limit = sqrt(6 / fan_in)``: variance ``2 / fan_in``, for ReLU layers.

    Examples:
        >>> HeUniform(seed=0).limit((6, 4))
        1.0
    """

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)


class HeNormal(VarianceScaling):
    """Truncated normal with variance ``2 / fan_in``, for ReLU layers.

    Examples:
        >>> HeNormal(seed=0).variance((50, 7))
        0.04
    """

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)


class LecunNormal(VarianceScaling):
    """Truncated normal with variance ``1 / fan_in``.

    Examples:
        >>> LecunNormal(seed=0).variance((4, 9))
        0.25
    """

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)


class LecunUniform(VarianceScaling):
    """``U(-limit, limit)``, ``limit = sqrt(3 / fan_in)``: variance ``1 / fan_in``.

    Examples:
        >>> LecunUniform(seed=0).limit((3, 9))
        1.0
    """

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)


class RandomNormal(Initializer):
    """``N(mean, stddev)`` whatever the shape, like ``keras.initializers.RandomNormal``.

    Args:
        mean: the mean.
        stddev: the standard deviation, >= 0.
        seed: a non-negative integer, or ``None``.

    Examples:
        >>> RandomNormal(stddev=0.0)((2,))
        array([0., 0.])
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = check_number("mean", mean)
        self.stddev = check_number("stddev", stddev, 0)
        self.seed = _check_seed(seed)

    def variance(self, shape):
        return self.stddev ** 2

    def _sample(self, shape):
        return self._rng().normal(self.mean, self.stddev, shape)


class RandomUniform(Initializer):
    """``U(minval, maxval)`` whatever the shape, like ``keras.initializers.RandomUniform``.

    Examples:
        >>> RandomUniform(-1.0, 1.0).variance((3, 3))
        0.3333333333333333
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = check_number("minval", minval)
        self.maxval = check_number("maxval", maxval, self.minval)
        self.seed = _check_seed(seed)

    def variance(self, shape):
        return (self.maxval - self.minval) ** 2 / 12

    def _sample(self, shape):
        return self._rng().uniform(self.minval, self.maxval, shape)


class Zeros(Initializer):
    """All zeros (Keras's default bias initializer).

    Examples:
        >>> Zeros()((2, 2)).sum()
        np.float64(0.0)
    """

    def _sample(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    """All ones.

    Examples:
        >>> Ones()((3,))
        array([1., 1., 1.])
    """

    def _sample(self, shape):
        return np.ones(shape)


_BY_NAME = {"glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
            "he_normal": HeNormal, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
            "random_normal": RandomNormal, "random_uniform": RandomUniform, "zeros": Zeros, "ones": Ones}


def get(identifier, **kwargs):
    """An initializer from its Keras name (``"he_normal"`` or ``"HeNormal"``), or the initializer itself.

    Args:
        identifier: a name of :data:`_BY_NAME` in snake_case or CamelCase, or an :class:`Initializer`.
        **kwargs: the initializer's arguments (``seed=0``, ``stddev=0.1``...).

    Examples:
        >>> get("HeNormal", seed=1)
        HeNormal(scale=2.0, mode='fan_in', distribution='truncated_normal', seed=1)
        >>> get("xavier")
        Traceback (most recent call last):
        ...
        ValueError: `identifier` must be an Initializer or one of ['glorot_normal', 'glorot_uniform', \
'he_normal', 'he_uniform', 'lecun_normal', 'lecun_uniform', 'ones', 'random_normal', 'random_uniform', \
'zeros'] (or their CamelCase names); got 'xavier'.
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        key = identifier if identifier in _BY_NAME else next(
            (k for k, cls in _BY_NAME.items() if cls.__name__ == identifier), None)
        if key is not None:
            return _BY_NAME[key](**kwargs)
    raise ValueError(f"`identifier` must be an Initializer or one of {sorted(_BY_NAME)} (or their CamelCase names); "
                     f"got {identifier!r}.")
