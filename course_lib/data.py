"""Seeded synthetic datasets and the order in which their examples are visited.

Everything here is generated from a seed, so a lesson run twice sees the same data and
nothing is downloaded.  ``batch_indices`` fixes the visiting order once, so that a
hand-rolled loop and Keras's ``model.fit`` can be fed the very same batches.
"""

import numpy as np

from .core import check_bool, check_int, check_number

__all__ = ["linear_regression", "moons", "batch_indices"]


def linear_regression(n=100, slope=3.0, intercept=2.0, noise=0.1, seed=0, dtype=np.float32):
    """The seeds' data: ``x ~ U[0, 1)``, ``y = slope * x + intercept + N(0, noise)``.

    Returns ``x`` and ``y`` as column arrays of shape ``(n, 1)`` (Keras's layout for a
    ``Dense(1)`` model), in ``dtype``.
    """
    n = check_int("n", n, 1)
    slope = check_number("slope", slope)
    intercept = check_number("intercept", intercept)
    noise = check_number("noise", noise, 0)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1))
    y = slope * x + intercept + rng.normal(0.0, noise, (n, 1))
    return x.astype(dtype), y.astype(dtype)


def moons(n=200, noise=0.1, seed=0, dtype=np.float32):
    """Two interleaving half circles, a 2-D classification problem no straight line solves.

    Class 0 lies on the upper half circle ``(cos t, sin t)``, class 1 on the lower one
    ``(1 - cos t, 0.5 - sin t)``, ``t ~ U[0, pi]``, plus Gaussian noise of standard deviation
    ``noise``.  The classes alternate (0, 1, 0, 1, ...), so any batch is roughly balanced.
    Returns ``x`` of shape ``(n, 2)`` in ``dtype`` and integer ``labels`` of shape ``(n,)``.
    """
    n = check_int("n", n, 2)
    noise = check_number("noise", noise, 0)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    labels = np.arange(n) % 2
    t = rng.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    x = np.where(labels[:, None] == 0, upper, lower) + rng.normal(0.0, noise, (n, 2))
    return x.astype(dtype), labels


def batch_indices(n, batch_size=None, epochs=1, shuffle=True, seed=0, drop_remainder=False):
    """The example indices of every batch, epoch by epoch: a list (epochs) of lists of arrays.

    ``batch_size=None`` (or ``n``) is batch gradient descent, ``1`` is stochastic gradient
    descent, anything between is mini-batch.  With ``shuffle`` each epoch visits the examples
    in a fresh seeded permutation.  The last batch of an epoch may be smaller, as in Keras,
    unless ``drop_remainder`` (``tf.data``'s name) leaves it out, so that every batch holds
    ``batch_size`` examples.

    Args:
        n: the number of examples, at least 1.
        batch_size: examples per batch, 1 to ``n``; None for one batch of all ``n``.
        epochs: how many passes over the examples, at least 1.
        shuffle: visit each epoch in a fresh seeded permutation (else in order 0, 1, ...).
        seed: the seed of the permutations, an integer >= 0.
        drop_remainder: leave out each epoch's last batch when it is smaller than ``batch_size``.

    Examples:
        >>> batch_indices(5, batch_size=2, shuffle=False)
        [[array([0, 1]), array([2, 3]), array([4])]]
        >>> batch_indices(5, batch_size=2, shuffle=False, drop_remainder=True)
        [[array([0, 1]), array([2, 3])]]
    """
    n = check_int("n", n, 1)
    batch_size = n if batch_size is None else check_int("batch_size", batch_size, 1, n)
    epochs = check_int("epochs", epochs, 1)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    drop_remainder = check_bool("drop_remainder", drop_remainder)
    end = n - n % batch_size if drop_remainder else n
    order = []
    for _ in range(epochs):
        perm = rng.permutation(n) if shuffle else np.arange(n)
        order.append([perm[i:i + batch_size] for i in range(0, end, batch_size)])
    return order
