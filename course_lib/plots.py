"""Plotting helpers shared by the lessons (matplotlib, imported lazily)."""

import numpy as np

__all__ = ["OPTIMIZER_STYLES", "OPTIMIZER_FAMILIES", "optimizer_style", "optimizer_name", "line_style", "legend",
           "contour", "path", "loss_curves", "grid"]

#: Dash patterns beyond matplotlib's four named ones.
LONG_DASH, DASH_DOT_DOT = (0, (8, 3)), (0, (5, 2, 1, 2, 1, 2))

#: One colour, line style and marker per optimizer, used by every figure of the course.  The
#: colours are the Okabe-Ito palette (distinguishable with the common colour-vision
#: deficiencies) and a neutral grey.  In greyscale the colours fall into a dark group (black,
#: blue, green, vermillion) and a light one (orange, sky blue, grey, reddish purple); two
#: optimizers that share a line style are never in the same group, and the optimizers of one
#: family (:data:`OPTIMIZER_FAMILIES`) never share a line style.  "Momentum" is SGD with
#: momentum, "Nesterov" SGD with ``nesterov=True``.
OPTIMIZER_STYLES = {
    "SGD": {"color": "#000000", "linestyle": "-", "marker": "o"},
    "Momentum": {"color": "#0072B2", "linestyle": "--", "marker": "s"},
    "Nesterov": {"color": "#56B4E9", "linestyle": "-.", "marker": "D"},
    "Adagrad": {"color": "#009E73", "linestyle": ":", "marker": "^"},
    "RMSprop": {"color": "#E69F00", "linestyle": "-", "marker": "v"},
    "Adadelta": {"color": "#999999", "linestyle": DASH_DOT_DOT, "marker": "x"},
    "Adam": {"color": "#D55E00", "linestyle": "-", "marker": "P"},
    "AdamW": {"color": "#D55E00", "linestyle": LONG_DASH, "marker": "*"},
    "Adamax": {"color": "#CC79A7", "linestyle": "--", "marker": "<"},
    "Nadam": {"color": "#CC79A7", "linestyle": ":", "marker": ">"},
}

#: Other names the lessons give optimizers, and the optimizer whose style they take.
OPTIMIZER_ALIASES = {"GD": "SGD", "gradient descent": "SGD", "heavy ball": "Momentum", "SGD momentum": "Momentum",
                     "SGD with momentum": "Momentum", "SGD + momentum": "Momentum"}

#: The optimizers in families, for small multiples (one panel per family, at most four lines).
OPTIMIZER_FAMILIES = {
    "SGD, momentum, Nesterov": ("SGD", "Momentum", "Nesterov"),
    "Adagrad, RMSprop, Adadelta": ("Adagrad", "RMSprop", "Adadelta"),
    "Adam, AdamW, Adamax, Nadam": ("Adam", "AdamW", "Adamax", "Nadam"),
}


def optimizer_name(label):
    """The key of :data:`OPTIMIZER_STYLES` a label names, or ``None``.

    Matched without regard to case: a label that starts with a name ("Adam, lr 0.1") or an
    alias of :data:`OPTIMIZER_ALIASES` ("GD", "heavy ball") names that optimizer; the
    longest match wins, so "SGD momentum" is Momentum; a name must end where a word ends, so
    "AdamW ..." is AdamW, not Adam.
    """
    if not isinstance(label, str):
        raise TypeError(f"`label` must be a string such as 'Adam'; got {label!r}.")
    key = label.strip().lower()
    names = {**{k: k for k in OPTIMIZER_STYLES}, **OPTIMIZER_ALIASES}
    matches = [k for k in names if key.startswith(k.lower()) and (len(key) == len(k) or not key[len(k)].isalnum())]
    return names[max(matches, key=len)] if matches else None


def optimizer_style(name):
    """The matplotlib keyword arguments (``color``, ``linestyle``, ``marker``) for an optimizer.

    ``name`` names an optimizer as :func:`optimizer_name` reads it ("Adam", "adamw, lr 0.1",
    "momentum", "GD").
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` must be an optimizer name such as 'Adam'; got {name!r}.")
    found = optimizer_name(name)
    if found is None:
        raise ValueError(f"`name` must start with one of {list(OPTIMIZER_STYLES)} "
                         f"(or {list(OPTIMIZER_ALIASES)}); got {name!r}.")
    return dict(OPTIMIZER_STYLES[found])


def line_style(label, index=0, points=None):
    """Line options for a curve labelled ``label``: the optimizer's style if it names one, else
    the ``index``-th colour of matplotlib's cycle with a solid line.  With ``points`` (the
    number of points on the line), markers go on about ten of them; without, no markers.
    """
    style = optimizer_style(label) if isinstance(label, str) and optimizer_name(label) else {"color": f"C{index}"}
    if points is None:
        style.pop("marker", None)
    elif "marker" in style:
        style.update(markevery=max(1, int(points) // 10), markersize=5, markerfacecolor="white"
                     if style["marker"] not in ("x", "+") else style["color"])
    return style


def legend(ax, where="right", title=None, handles=None, labels=None, **kwargs):
    """Draw ``ax``'s legend outside its data: ``where`` is "right" (beside the axes), "below"
    (under the axes and its tick labels) or "inside" (matplotlib's best spot).  Returns it."""
    places = {"right": {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0},
              "below": {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "borderaxespad": 0.0},
              "inside": {"loc": "best"}}
    if where not in places:
        raise ValueError(f"`where` must be one of {list(places)}; got {where!r}.")
    if where == "below":  # under the tick labels and the x label, whatever the axes' height
        from matplotlib.transforms import offset_copy

        gap = 40 if ax.get_xlabel() else 24
        places["below"]["bbox_transform"] = offset_copy(ax.transAxes, fig=ax.figure, y=-gap, units="points")
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    options = {"fontsize": 8, "title_fontsize": 8, "frameon": where == "inside", **places[where], **kwargs}
    if where == "below" and "ncol" not in kwargs:
        options["ncol"] = min(len(handles), 2)
    return ax.legend(handles, labels, title=title, **options)


def grid(bounds, n=200):
    """Points of a ``n x n`` grid over ``bounds = (x_min, x_max, y_min, y_max)``: shape (n, n, 2)."""
    x0, x1, y0, y1 = bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.stack([xs, ys], axis=-1)


def contour(ax, objective, bounds, levels=30, log=False, alpha=1.0):
    """Filled-line contours of a 2-D objective; ``log=True`` spaces levels logarithmically;
    ``alpha`` < 1 fades them, so that paths drawn over them stand out."""
    pts = grid(bounds)
    z = objective(pts)
    if log:
        z = np.log10(z - z.min() + 1e-3)
    ax.contour(pts[..., 0], pts[..., 1], z, levels=levels, cmap="viridis", linewidths=0.8, alpha=alpha)
    if getattr(objective, "minimizer", None) is not None and np.ndim(objective.minimizer) == 1:
        ax.plot(*objective.minimizer, marker="*", color="k", markersize=12, linestyle="none")
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def path(ax, points, label=None, **kwargs):
    """Draw a 2-D parameter path (shape (steps, 2)) with its start marked (a square).

    A ``label`` that names an optimizer ("momentum=0.6, ...", see :func:`optimizer_name`) gets
    that optimizer's colour, line style and marker unless ``kwargs`` set a colour.
    """
    points = np.asarray(points)
    style = {"marker": "o", "markersize": 3, "linewidth": 1.2}
    if isinstance(label, str) and optimizer_name(label) and "color" not in kwargs:
        style.update(optimizer_style(label))
    style.update(kwargs)
    line, = ax.plot(points[:, 0], points[:, 1], label=label, **style)
    ax.plot(*points[0], marker="s", color=line.get_color(), markersize=6)
    return line


def loss_curves(ax, curves, log=True, xlabel="step", legend_at="right"):
    """Plot ``{label: losses}`` against the step number, on a log scale by default.

    Labels that name an optimizer get its style (:func:`line_style`); the legend goes
    ``legend_at`` "right" of the axes, "below" them, "inside" or nowhere (``None``).
    """
    for i, (label, losses) in enumerate(curves.items()):
        ax.plot(np.arange(len(losses)), losses, label=label, **line_style(label, i, points=len(losses)))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    if legend_at is not None:
        legend(ax, legend_at)
    return ax


# --------------------------------------------------------------------------- lesson 06
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
        ax.plot(ws, fs, color="0.6", linewidth=1)
        ax.plot(r.minimizer[0], r.min_loss, marker="*", color="k", markersize=12, linestyle="none")
        pad = 0.05 * (fs.max() - fs.min())
        ax.set_xlim(r.bounds[0], r.bounds[1])
        ax.set_ylim(fs.min() - pad, fs.max() + pad)
        ax.set_xlabel("w")
        ax.set_ylabel("loss")
        top = float(fs.max() - r.min_loss)
    else:
        xs, ys, z = r.surface
        ax.contour(xs, ys, z, levels=r.levels, cmap="viridis", linewidths=0.7, alpha=0.6)
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

    The path is drawn in plain SGD's colour (:data:`OPTIMIZER_STYLES`).  A diverging path is
    drawn until it leaves the view far behind; the loss curve is clipped to the panel.
    Everything drawn comes from ``result``; nothing is computed here.  Returns the new artists.
    """
    r, (ax, ax_loss) = result, axes
    p = r.path[:r.shown]
    colour = OPTIMIZER_STYLES["SGD"]["color"]  # the explorer runs plain gradient descent
    if r.dim == 1:
        artists = ax.plot(p[:, 0], r.loss[:r.shown], color=colour, linewidth=0.8, marker="o", markersize=3)
        artists += ax.plot(p[0, 0], r.loss[0], marker="s", color=colour, markersize=6)
    else:
        artists = ax.plot(p[:, 0], p[:, 1], color=colour, linewidth=1, marker="o", markersize=3)
        artists += ax.plot(p[0, 0], p[0, 1], marker="s", color=colour, markersize=6)
    artists += ax_loss.plot(np.arange(len(r.gap)), np.maximum(r.gap, EXPLORATION_FLOOR), color=colour, marker="o",
                            markersize=2, linewidth=1)
    artists.append(ax.text(0.5, 1.02, f"{r.objective}, learning rate {r.learning_rate:.3g}", fontsize=10,
                           ha="center", va="bottom", transform=ax.transAxes))
    artists.append(ax_loss.text(0.5, 1.02, f"stability limit {r.limit_text}", fontsize=10, ha="center",
                                va="bottom", transform=ax_loss.transAxes))
    return artists


__all__ += ["exploration_static", "exploration_dynamic", "EXPLORATION_FLOOR"]


# --------------------------------------------------------------------------- lesson 10
def train_val_curves(axes, curves, ylabel="loss", log=True, legend_at="right"):
    """Training and validation curves side by side: ``axes = (ax_train, ax_val)``.

    ``curves`` maps a label to ``(steps, train, val, style)``, ``style`` a dict of line options
    (colour, linestyle) or ``None``; a label that names an optimizer takes that optimizer's
    colour and line style where ``style`` does not set them.  Both panels share one legend,
    drawn ``legend_at`` "right" of the validation panel (or "below", "inside", ``None``).
    """
    ax_train, ax_val = axes
    for i, (label, (steps, train, val, style)) in enumerate(curves.items()):
        style = {**line_style(label, i), **(style or {})}
        ax_train.plot(steps, train, **style)
        ax_val.plot(steps, val, label=label, **style)
    for ax, title in ((ax_train, "training set"), (ax_val, "validation set")):
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
    if legend_at is not None:
        legend(ax_val, legend_at, ncol=2 if len(curves) > 8 else 1)
    return axes


__all__ += ["train_val_curves"]


# ----------------------------------------------------------------------------- lesson 08: optimizer race
#: Racers' losses below this (above the minimum) are drawn on the floor of the loss panels.
RACE_FLOOR = 1e-12


def _race_tol(result, tol):
    return tol if tol is not None else getattr(result, "tol", None)


def _reached_title(result, tol):
    tol = _race_tol(result, tol)
    within = f"within {tol:g} of the minimum" if tol is not None else "below the tolerance"
    return f"steps until the loss stays {within}"


def _labels(result, names):
    if names is None:
        return list(result.paths)
    if isinstance(names, str):
        raise TypeError(f"`names` must be a list of racer labels; got the string {names!r}.")
    missing = [n for n in names if n not in result.paths]
    if missing:
        raise ValueError(f"`names` must be labels of the race, {list(result.paths)}; got {missing}.")
    return list(names)


def race_paths(ax, result, log=True, title=None, names=None, legend_at="below", tol=None):
    """Contours of a race's objective with the racers' paths (``race``'s result), each in its
    optimizer's style (:func:`line_style`), the start marked with a black square.

    ``names`` picks the racers to draw (all by default; more than about five lines make a
    panel hard to read: see :func:`race_panels`).  The legend, ``legend_at`` "below" the
    panel (or "right", "inside", ``None``), gives each racer's steps until its loss stays
    within the tolerance (``result.steps_to_tol``; "never" if it does not within the run).
    """
    labels = _labels(result, names)
    contour(ax, result.objective, result.bounds, levels=25, log=log, alpha=0.5)
    for i, label in enumerate(labels):
        points = result.paths[label]
        reached = result.steps_to_tol.get(label)
        ax.plot(points[:, 0], points[:, 1], linewidth=1.3, label=f"{label}: {'never' if reached is None else reached}",
                **line_style(label, i, points=len(points)))
    if labels:
        ax.plot(*result.paths[labels[0]][0], marker="s", color="k", markersize=6, linestyle="none")
    ax.set_title(title or result.objective.name, fontsize=10)
    if legend_at is not None:
        legend(ax, legend_at, title=_reached_title(result, tol))
    return ax


def race_losses(ax, result, names=None, legend_at=None, tol=None, floor=RACE_FLOOR):
    """Each racer's loss minus the minimum against the step, on a log scale, in its optimizer's
    style; the tolerance (``tol``, or ``result.tol`` if the result has one) as a grey line.
    Values below ``floor`` are drawn on it."""
    labels = _labels(result, names)
    f_min = float(result.objective(result.objective.minimizer))
    for i, label in enumerate(labels):
        gap = np.asarray(result.losses[label], dtype=np.float64) - f_min
        ax.plot(np.arange(len(gap)), np.maximum(gap, floor), label=label, linewidth=1.3,
                **line_style(label, i, points=len(gap)))
    tol = _race_tol(result, tol)
    if tol is not None:
        ax.axhline(tol, color="0.5", linewidth=0.8, linestyle=(0, (2, 2)), zorder=0)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss − minimum")
    if legend_at is not None:
        legend(ax, legend_at)
    return ax


def family_groups(labels, families=None, size=5):
    """Split racer labels into panels: one per family of :data:`OPTIMIZER_FAMILIES` (or
    ``families``, a dict {title: optimizer names}) that has a racer, in the families' order;
    labels of no family go to further panels of at most ``size`` lines.  Returns a list of
    ``(title, labels)``."""
    families = OPTIMIZER_FAMILIES if families is None else families
    if not isinstance(families, dict):
        raise TypeError(f"`families` must be a dict {{title: optimizer names}}; got {families!r}.")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"`size` must be a whole number >= 1; got {size!r}.")
    groups, placed = [], set()
    for title, members in families.items():
        mine = [lb for lb in labels if lb not in placed and optimizer_name(lb) in members]
        placed.update(mine)
        groups += [(title, mine[i:i + size]) for i in range(0, len(mine), size)]
    rest = [lb for lb in labels if lb not in placed]
    groups += [(", ".join(rest[i:i + size]), rest[i:i + size]) for i in range(0, len(rest), size)]
    return groups


def race_panels(result, families=None, axes=None, losses=True, log=True, tol=None, size=5):
    """Small multiples of a race: one column per family of optimizers (:func:`family_groups`),
    the paths on the contours on top and, with ``losses``, the loss minus the minimum under
    them on one shared scale; each column's legend below it (steps until the loss stays within
    the tolerance).  ``axes``: a 2-D array of axes (rows: 2 with ``losses``, else 1; one
    column per group); by default a new figure.  Returns the axes array."""
    groups = family_groups(list(result.paths), families, size)
    rows = 2 if losses else 1
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(rows, len(groups), figsize=(4.3 * len(groups), 3.6 * rows), squeeze=False,
                               layout="constrained")
    axes = np.asarray(axes, dtype=object)
    if axes.size != rows * len(groups):
        raise ValueError(f"`axes` must have {rows} row(s) and {len(groups)} columns (one per group "
                         f"{[t for t, _ in groups]}); got shape {axes.shape}.")
    axes = axes.reshape(rows, len(groups))
    for col, (title, labels) in enumerate(groups):
        race_paths(axes[0, col], result, log=log, title=title, names=labels, legend_at=None if losses else "below",
                   tol=tol)
        if losses:
            race_losses(axes[1, col], result, names=labels, tol=tol)
            handles = [line for line in axes[0, col].get_lines() if not line.get_label().startswith("_")]
            legend(axes[1, col], "below", title=_reached_title(result, tol), handles=handles,
                   labels=[h.get_label() for h in handles])
    if losses:
        low = min(ax.get_ylim()[0] for ax in axes[1])
        high = max(ax.get_ylim()[1] for ax in axes[1])
        for ax in axes[1]:
            ax.set_ylim(low, high)
        for ax in axes[1, 1:]:
            ax.set_ylabel("")
    return axes


__all__ += ["race_paths", "race_losses", "family_groups", "race_panels", "RACE_FLOOR"]
