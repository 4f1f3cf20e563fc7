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


# --------------------------------------------------------------------------- lesson 05
def computational_graph(ax, root, fmt=".4f"):
    """Draw the graph of a :class:`course_lib.backprop.Value` with its data and grad per node.

    Values are boxes (label, ``data``, ``grad``), operations small circles; arrows run from
    inputs to outputs.  Positions come from :func:`course_lib.backprop.graph_layout`.
    """
    from .backprop import graph_layout

    layout = graph_layout(root)
    for (x0, y0), (x1, y1) in layout.edges:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": "0.5", "shrinkA": 22, "shrinkB": 14})
    for op in layout.ops:
        ax.text(op["x"], op["y"], op["op"], ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "circle", "facecolor": "#fde9c9", "edgecolor": "0.4"})
    for v in layout.values:
        name = f"{v['label']}\n" if v["label"] else ""
        box = {"boxstyle": "round", "facecolor": "#dbe9f6", "edgecolor": "0.4"}
        ax.text(v["x"], v["y"], f"{name}data {v['data']:{fmt}}\ngrad {v['grad']:{fmt}}", ha="center",
                va="center", fontsize=8, bbox=box)
    xs = [v["x"] for v in layout.values] + [o["x"] for o in layout.ops]
    ys = [v["y"] for v in layout.values]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    return ax


def decision_boundary(ax, predict, x, labels, bounds=None, n=150):
    """Shade the class ``predict(points)`` picks over a grid, and scatter the labelled data.

    ``predict(points) -> scores`` of shape ``(points, classes)``; the class is the argmax.
    """
    x, labels = np.asarray(x), np.asarray(labels)
    if bounds is None:
        pad = 0.5
        bounds = (x[:, 0].min() - pad, x[:, 0].max() + pad, x[:, 1].min() - pad, x[:, 1].max() + pad)
    pts = grid(bounds, n)
    scores = np.asarray(predict(pts.reshape(-1, 2).astype(x.dtype)))
    cls = scores.argmax(axis=-1).reshape(n, n)
    ax.contourf(pts[..., 0], pts[..., 1], cls, levels=np.arange(scores.shape[-1] + 1) - 0.5,
                cmap="coolwarm", alpha=0.25)
    ax.scatter(x[:, 0], x[:, 1], c=labels, cmap="coolwarm", s=10, edgecolors="k", linewidths=0.3)
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    return ax


__all__ += ["computational_graph", "decision_boundary"]
