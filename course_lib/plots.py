"""Plotting helpers shared by the lessons (matplotlib, imported lazily)."""

import numpy as np

__all__ = ["OPTIMIZER_STYLES", "optimizer_style", "contour", "path", "loss_curves", "grid"]

#: One colour, line style and marker per optimizer, used by every figure of the course.  The
#: colours are the Okabe-Ito palette (distinguishable with the common colour-vision
#: deficiencies); optimizers that share a colour differ in line style and marker, so the lines
#: also stay apart in greyscale.  "Momentum" is SGD with momentum, "Nesterov" SGD with
#: ``nesterov=True``.
OPTIMIZER_STYLES = {
    "SGD": {"color": "#000000", "linestyle": "-", "marker": "o"},
    "Momentum": {"color": "#0072B2", "linestyle": "--", "marker": "s"},
    "Nesterov": {"color": "#56B4E9", "linestyle": "-.", "marker": "D"},
    "Adagrad": {"color": "#009E73", "linestyle": ":", "marker": "^"},
    "RMSprop": {"color": "#E69F00", "linestyle": "-", "marker": "v"},
    "Adadelta": {"color": "#999999", "linestyle": "--", "marker": "x"},
    "Adam": {"color": "#D55E00", "linestyle": "-", "marker": "P"},
    "AdamW": {"color": "#D55E00", "linestyle": ":", "marker": "*"},
    "Adamax": {"color": "#CC79A7", "linestyle": "--", "marker": "<"},
    "Nadam": {"color": "#CC79A7", "linestyle": "-.", "marker": ">"},
}


def optimizer_style(name):
    """The matplotlib keyword arguments (``color``, ``linestyle``, ``marker``) for an optimizer.

    ``name`` is a key of :data:`OPTIMIZER_STYLES`, matched without regard to case; a label that
    starts with one ("Adam, lr 0.1") gets that optimizer's style (the longest match wins, so
    "AdamW ..." is AdamW, not Adam).
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` must be an optimizer name such as 'Adam'; got {name!r}.")
    key = name.strip().lower()
    matches = [k for k in OPTIMIZER_STYLES if key.startswith(k.lower())]
    if not matches:
        raise ValueError(f"`name` must start with one of {list(OPTIMIZER_STYLES)}; got {name!r}.")
    return dict(OPTIMIZER_STYLES[max(matches, key=len)])


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
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=1,
                    arrowprops={"arrowstyle": "->", "color": "0.55", "shrinkA": 4, "shrinkB": 4})
    for op in layout.ops:
        ax.text(op["x"], op["y"], {"sigmoid": "σ"}.get(op["op"], op["op"]), ha="center", va="center",
                fontsize=9, zorder=3,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "#fde9c9", "edgecolor": "0.4"})
    for v in layout.values:
        name = f"{v['label']}\n" if v["label"] else ""
        box = {"boxstyle": "round", "facecolor": "#dbe9f6", "edgecolor": "0.4"}
        ax.text(v["x"], v["y"], f"{name}data {v['data']:{fmt}}\ngrad {v['grad']:{fmt}}", ha="center",
                va="center", fontsize=8, bbox=box, zorder=3)
    xs = [v["x"] for v in layout.values] + [o["x"] for o in layout.ops]
    ys = [v["y"] for v in layout.values]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
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


# --------------------------------------------------------------------------- lesson 02
def exploration_static(result, fig):
    """The parts of the learning-rate explorer's figure that only change with the objective.

    Left: the 1-D loss curve, or contours of the 2-D loss, with the minimum starred.  Right:
    empty axes for the loss minus its minimum, on a fixed log scale (from 1e-10 to far above
    the largest value on the surface), so convergence is a falling straight line and
    divergence a rising one.  Returns the two axes for :func:`exploration_dynamic`.
    """
    r = result
    ax, ax_loss = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    if r.dim == 1:
        ws, fs = r.surface
        ax.plot(ws, fs, color="0.3", linewidth=1)
        ax.plot(r.minimizer[0], r.min_loss, marker="*", color="k", markersize=12, linestyle="none")
        pad = 0.05 * (fs.max() - fs.min())
        ax.set_xlim(r.bounds[0], r.bounds[1])
        ax.set_ylim(fs.min() - pad, fs.max() + pad)
        ax.set_xlabel("w")
        ax.set_ylabel("loss")
        top = float(fs.max() - r.min_loss)
    else:
        xs, ys, z = r.surface
        ax.contour(xs, ys, z, levels=r.levels, cmap="viridis", linewidths=0.7)
        ax.plot(*r.minimizer, marker="*", color="k", markersize=12, linestyle="none")
        ax.set_xlim(r.bounds[0], r.bounds[1])
        ax.set_ylim(r.bounds[2], r.bounds[3])
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        top = float(z.max())
    ax_loss.set_yscale("log")
    ax_loss.set_ylim(EXPLORATION_FLOOR, max(top, 1.0) * 1e4)
    # Plain "1e-05" labels and no minor ticks: mathtext labels cost more than the whole plot.
    from matplotlib import ticker
    ax_loss.yaxis.set_major_locator(ticker.LogLocator(numticks=6))
    ax_loss.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.0e}"))
    ax_loss.yaxis.set_minor_locator(ticker.NullLocator())
    ax_loss.set_xlim(0, len(r.gap))
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss − minimum")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
    return ax, ax_loss


#: Values of "loss − minimum" below this are drawn on the explorer's floor.
EXPLORATION_FLOOR = 1e-10


def exploration_dynamic(result, axes):
    """The parts that move with the sliders: the path, the start, the loss curve and the titles.

    A diverging path is drawn until it leaves the view far behind; the loss curve is
    clipped to the panel.  Everything drawn comes from ``result``; nothing is computed here.
    Returns the new artists.
    """
    r, (ax, ax_loss) = result, axes
    p = r.path[:r.shown]
    if r.dim == 1:
        artists = ax.plot(p[:, 0], r.loss[:r.shown], color="C1", linewidth=0.8, marker="o", markersize=3)
        artists += ax.plot(p[0, 0], r.loss[0], marker="s", color="C1", markersize=6)
    else:
        artists = ax.plot(p[:, 0], p[:, 1], color="C1", linewidth=1, marker="o", markersize=3)
        artists += ax.plot(p[0, 0], p[0, 1], marker="s", color="C1", markersize=6)
    artists += ax_loss.plot(np.arange(len(r.gap)), np.maximum(r.gap, EXPLORATION_FLOOR), color="C1", marker="o",
                            markersize=2, linewidth=1)
    artists.append(ax.text(0.5, 1.02, f"{r.objective}, learning rate {r.learning_rate:.3g}", fontsize=10,
                           ha="center", va="bottom", transform=ax.transAxes))
    artists.append(ax_loss.text(0.5, 1.02, f"stability limit {r.limit_text}", fontsize=10, ha="center",
                                va="bottom", transform=ax_loss.transAxes))
    return artists


__all__ += ["exploration_static", "exploration_dynamic", "EXPLORATION_FLOOR"]


# --------------------------------------------------------------------------- lesson 07
def train_val_curves(axes, curves, ylabel="loss", log=True):
    """Training and validation curves side by side: ``axes = (ax_train, ax_val)``.

    ``curves`` maps a label to ``(steps, train, val, style)``, ``style`` a dict of line options
    (colour, linestyle); both panels share one legend, drawn on the validation panel.
    """
    ax_train, ax_val = axes
    for label, (steps, train, val, style) in curves.items():
        ax_train.plot(steps, train, **style)
        ax_val.plot(steps, val, label=label, **style)
    for ax, title in ((ax_train, "training set"), (ax_val, "validation set")):
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
    ax_val.legend(fontsize=7, ncol=2 if len(curves) > 5 else 1, loc="upper right")
    return axes


__all__ += ["train_val_curves"]


# ----------------------------------------------------------------------------- lesson 06: optimizer race
def race_paths(ax, result, log=True, title=None):
    """Contours of a race's objective with every racer's path (``optimizers.race``'s result)."""
    contour(ax, result.objective, result.bounds, levels=25, log=log)
    for label, points in result.paths.items():
        reached = result.steps_to_tol.get(label)
        tag = f"{label} ({reached} steps)" if reached is not None else f"{label} (not reached)"
        ax.plot(points[:, 0], points[:, 1], linewidth=1.2, label=tag)
        ax.plot(*points[0], marker="s", color="k", markersize=5)
    ax.set_title(title or result.objective.name, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return ax


__all__ += ["race_paths"]
