"""Plotting helpers shared by the lessons (matplotlib, imported lazily)."""

import numpy as np

__all__ = ["contour", "path", "loss_curves", "grid"]


def grid(bounds, n=200):
    """Points of a ``n x n`` grid over ``bounds = (x_min, x_max, y_min, y_max)``: shape (n, n, 2)."""
    x0, x1, y0, y1 = bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.stack([xs, ys], axis=-1)


def contour(ax, objective, bounds, levels=30, log=False):
    """Filled-line contours of a 2-D objective; ``log=True`` spaces levels logarithmically."""
    pts = grid(bounds)
    z = objective(pts)
    if log:
        z = np.log10(z - z.min() + 1e-3)
    ax.contour(pts[..., 0], pts[..., 1], z, levels=levels, cmap="viridis", linewidths=0.8)
    if getattr(objective, "minimizer", None) is not None and np.ndim(objective.minimizer) == 1:
        ax.plot(*objective.minimizer, marker="*", color="k", markersize=12, linestyle="none")
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def path(ax, points, label=None, **kwargs):
    """Draw a 2-D parameter path (shape (steps, 2)) with its start marked."""
    points = np.asarray(points)
    line, = ax.plot(points[:, 0], points[:, 1], marker="o", markersize=3, linewidth=1.2, label=label, **kwargs)
    ax.plot(*points[0], marker="s", color=line.get_color(), markersize=6)
    return line


def loss_curves(ax, curves, log=True, xlabel="step"):
    """Plot ``{label: losses}`` against the step number, on a log scale by default."""
    for label, losses in curves.items():
        ax.plot(np.arange(len(losses)), losses, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    ax.legend()
    return ax
