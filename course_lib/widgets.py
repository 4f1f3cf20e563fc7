"""Explorers: thin ipywidgets layers over pure functions that compute what they draw.

Every explorer is built by :func:`explorer` from four parts:

* ``controls``: a dict of ipywidgets (sliders, dropdowns) keyed by argument name;
* ``compute(**values) -> result``: a pure function in a numpy module (tested on its own);
* ``static(result, fig) -> axes``: draws what only changes with the controls named in
  ``static_keys`` (contours, fixed axis limits, labels) and returns the axes;
* ``dynamic(result, axes) -> artists``: draws what moves with every slider (paths, curves,
  titles) and returns the new artists.

Moving a control calls ``compute``, then redraws only the moving parts over a cached
picture of the static ones (matplotlib "blitting"), and shows the PNG and the result's
``verdict`` (if it has one).  The kernel-side time of every redraw is kept in
``ui.update_times`` so the benchmark can report it.

ipywidgets and matplotlib are imported inside the functions, so ``import course_lib``
stays fast and the numpy modules never need a display.
"""

import struct
import time
import zlib

__all__ = ["explorer", "slider", "log_slider", "png_bytes"]

#: Losses below this are drawn on the explorers' floor (their log axes are fixed).
LOSS_FLOOR = 1e-12


def slider(description, value, low, high, step, width="320px", readout_format=".2f"):
    """A slider over ``[low, high]`` in steps of ``step`` that redraws while it is dragged."""
    import ipywidgets as w

    return w.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         readout_format=readout_format, continuous_update=True, layout=w.Layout(width=width))


def log_slider(description, value, low, high, steps=200, readout_format=".3g"):
    """A slider over ``[low, high]`` in log scale (ipywidgets' ``FloatLogSlider``)."""
    import ipywidgets as w
    import numpy as np

    lo, hi = np.log10(low), np.log10(high)
    return w.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=(hi - lo) / steps,
                            description=description, readout_format=readout_format,
                            continuous_update=True, style={"description_width": "initial"},
                            layout=w.Layout(width="480px"))


def png_bytes(rgba):
    """An RGBA image (``height x width x 4`` uint8, e.g. an Agg canvas's buffer) as PNG file bytes.

    The rows are stored as RGB without a PNG filter and compressed by zlib at level 1: a
    plot is mostly runs of one colour, which zlib packs well on its own.  Pillow's encoder
    tries every filter on every row, which took about 10 ms of each explorer redraw; this
    takes about 3 ms and gives a smaller file.  Transparency is dropped (the explorers'
    figures are opaque).
    """
    import numpy as np

    pixels = np.asarray(rgba)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ValueError(f"`rgba` must be a height x width x 4 uint8 array; got {pixels.dtype} "
                         f"of shape {pixels.shape}.")
    height, width = pixels.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), np.uint8)  # each row: filter type 0, then R G B ...
    np.reshape(rows[:, 1:], (height, width, 3), copy=False)[...] = pixels[..., :3]

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits per channel, RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
            + chunk(b"IEND", b""))


def explorer(controls, compute, static, dynamic, static_keys=(), figsize=(10, 4), dpi=80):
    """Build the explorer widget; return it (display it as the last line of a cell).

    The returned ``ipywidgets.VBox`` has extra attributes: ``controls``, ``verdict`` (the
    text line), ``image`` (the plot), ``update()`` (redraw now) and ``update_times``
    (seconds per redraw).  ``static`` must fix every axis's limits: autoscaling is turned
    off once it has drawn, since the cached axes cannot follow the moving parts.
    """
    import ipywidgets as w
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    image = w.Image(format="png", layout=w.Layout(width=f"{int(figsize[0] * dpi)}px"))
    verdict = w.HTML(layout=w.Layout(min_height="1.6em"))
    cache = {"key": None, "axes": None, "background": None, "artists": []}

    def update(change=None):
        start = time.perf_counter()
        values = {k: c.value for k, c in controls.items()}
        result = compute(**values)
        key = tuple(values[k] for k in static_keys)
        if cache["background"] is None or key != cache["key"]:
            fig.clear()
            cache["axes"], cache["key"], cache["artists"] = static(result, fig), key, []
            for ax in fig.axes:
                ax.set_autoscale_on(False)
            canvas.draw()
            cache["background"] = canvas.copy_from_bbox(fig.bbox)
        for artist in cache["artists"]:
            try:
                artist.remove()
            except NotImplementedError:  # an axes title: dynamic() sets its text again
                pass
        cache["artists"] = list(dynamic(result, cache["axes"]))
        canvas.restore_region(cache["background"])
        for artist in cache["artists"]:
            fig.draw_artist(artist)
        text = getattr(result, "verdict", None) or (result.get("verdict") if isinstance(result, dict) else None)
        verdict.value = f"<b>{text}</b>" if text else ""
        image.value = png_bytes(canvas.buffer_rgba())
        ui.update_times.append(time.perf_counter() - start)

    for c in controls.values():
        c.observe(update, names="value")
    ui = w.VBox([w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap")), verdict, image])
    ui.controls, ui.verdict, ui.image, ui.update, ui.update_times = controls, verdict, image, update, []
    update()
    return ui


# --------------------------------------------------------------------------- lesson 04
EMA_LINES = (("C0", "EMA from 0"), ("C1", "EMA from 0, bias-corrected"), ("C2", "EMA from first value (TensorFlow)"))


def moving_average_explorer(decay=0.9, noise=1.0, n=200, seed=0):
    """Lesson 04: a decay slider over a noisy series, drawing the raw series, the EMA started
    at zero, its bias-corrected form and TensorFlow's (started at the first value).

    The numbers come from :func:`course_lib.moving_averages.explore_decay`.
    """

    from .moving_averages import explore_decay

    controls = {
        "decay": slider("decay", decay, 0.0, 0.995, 0.005, width="420px", readout_format=".3f"),
        "noise": slider("noise", noise, 0.0, 3.0, 0.1),
    }

    def static(r, fig):  # the series only changes with the noise
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(r.steps, r.series, color="0.75", linewidth=0.8, label="noisy series")
        ax.plot(r.steps, r.signal, "k--", linewidth=1, label="signal")
        low, high = min(float(r.series.min()), 0.0), max(float(r.series.max()), 0.0)
        ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
        ax.set_xlim(r.steps[0], r.steps[-1])
        ax.set_xlabel("step t")
        # The legend never changes, so it is drawn once, with empty stand-ins for the moving lines.
        for colour, label in EMA_LINES:
            ax.plot([], [], color=colour, label=label)
        ax.legend(loc="lower right", fontsize=8)
        return ax

    def dynamic(r, ax):
        lines = []
        for (colour, _), values in zip(EMA_LINES, (r.ema, r.ema_corrected, r.ema_tf)):
            lines += ax.plot(r.steps, values, color=colour)
        title = ax.set_title(f"decay {1 - 1 / r.window:.3f}: window 1/(1-decay) = {r.window:.4g} steps")
        return lines + [title]

    return explorer(controls, lambda decay, noise: explore_decay(decay, noise, n, seed), static, dynamic,
                    static_keys=("noise",))


# --------------------------------------------------------------------------- lesson 02
def learning_rate_explorer(objective="0.1*x1**2 + 2*x2**2", learning_rate=0.3, x1=-5.0, x2=2.0, steps=50):
    """Lesson 02: a log-scale learning-rate slider, an objective menu and start-point sliders.

    Draws the path on the loss surface and the loss per step, with the stability limit
    and a plain-words verdict ("converges", "oscillates", "diverges at step 7").  All
    numbers come from :func:`course_lib.stability.explore`; drawing is
    :func:`course_lib.plots.exploration_static` and ``exploration_dynamic``.  ``x2`` is greyed
    out for 1-D objectives.
    """
    import ipywidgets as w

    from .plots import exploration_dynamic, exploration_static
    from .stability import EXPLORER_OBJECTIVES, explore

    controls = {
        "learning_rate": log_slider("learning rate", learning_rate, 1e-4, 10.0),
        "objective": w.Dropdown(options=list(EXPLORER_OBJECTIVES), value=objective, description="loss",
                                layout=w.Layout(width="320px")),
        "x1": slider("start x1 (w)", x1, -6.0, 6.0, 0.1, width="300px"),
        "x2": slider("start x2", x2, -3.0, 3.0, 0.1, width="300px"),
    }

    def grey_out(change=None):
        controls["x2"].disabled = EXPLORER_OBJECTIVES[controls["objective"].value].dim == 1

    controls["objective"].observe(grey_out, names="value")
    grey_out()
    ui = explorer(controls, lambda **v: explore(steps=steps, **v), exploration_static, exploration_dynamic,
                  static_keys=("objective",), figsize=(10, 4))
    ui.verdict.add_class("lr-explorer-verdict")
    ui.add_class("lr-explorer")
    return ui


# --------------------------------------------------------------------------- lesson 03
def decay_schedule_explorer(kind="ExponentialDecay", initial_learning_rate=0.5, decay_steps=20, decay_rate=0.5,
                            n_steps=200, noise=2.0, seed=0):
    """Lesson 03: a schedule menu and sliders for its rate, length and strength, drawing the
    learning rate per step and the loss of SGD with noisy gradients run with it (next to a
    constant rate).  All numbers come from :func:`course_lib.schedules.decay_explorer`.
    """
    import ipywidgets as w
    import numpy as np

    from .schedules import SCHEDULES, decay_explorer

    controls = {
        "kind": w.Dropdown(options=["constant", *SCHEDULES], value=kind, description="schedule",
                           layout=w.Layout(width="320px")),
        "initial_learning_rate": log_slider("initial rate", initial_learning_rate, 0.01, 3.0),
        "decay_steps": w.IntSlider(value=decay_steps, min=1, max=n_steps, description="decay_steps",
                                   continuous_update=True, layout=w.Layout(width="420px")),
        "decay_rate": slider("decay_rate", decay_rate, 0.0, 1.0, 0.01, width="420px"),
    }

    def static(r, fig):  # fixed axes: the rate relative to its start, the loss on a log scale
        ax1, ax2 = fig.subplots(1, 2)
        ax1.axhline(1.0, color="0.6", linestyle="--", linewidth=1)
        ax1.set_xlim(0, n_steps), ax1.set_ylim(0, 1.05)
        ax1.set_xlabel("step"), ax1.set_ylabel("learning rate / initial rate (dashed: constant)")
        ax2.set_yscale("log")
        ax2.set_xlim(0, n_steps), ax2.set_ylim(LOSS_FLOOR, 1e4)
        ax2.set_xlabel("step"), ax2.set_ylabel("loss (noisy gradients)")
        fig.subplots_adjust(wspace=0.3)
        return ax1, ax2

    def dynamic(r, axes):
        ax1, ax2 = axes
        artists = ax1.plot(r.steps, r.rates / r.rates[0], color="C0", drawstyle="steps-post", label=r.kind)
        artists += ax2.plot(np.maximum(r.constant_loss, LOSS_FLOOR), color="0.6", linewidth=1, label="constant rate")
        artists += ax2.plot(np.maximum(r.loss, LOSS_FLOOR), color="C0", label=r.kind)
        artists.append(ax1.set_title(f"initial rate {float(r.rates[0]):.3g}, final {float(r.rates[-1]):.3g}",
                                     fontsize=10))
        return artists + [ax1.legend(fontsize=8, loc="lower left"), ax2.legend(fontsize=8, loc="upper right")]

    def compute(kind, initial_learning_rate, decay_steps, decay_rate):
        return decay_explorer(kind, initial_learning_rate, decay_steps, decay_rate, n_steps, noise, seed)

    return explorer(controls, compute, static, dynamic)


# ----------------------------------------------------------------------------- lesson 06: optimizer race
def optimizer_race_explorer(problem="ill-conditioned quadratic", names=("SGD", "Nesterov", "RMSprop", "Adam"),
                            steps=200):
    """Race optimizers on a 2-D function: paths on the contours and loss curves.

    Each optimizer starts at its usual learning rate for the problem
    (``race.RACE_RATES``), times the multiplier slider.  All numbers come from
    :func:`course_lib.race.race_by_name`.
    """
    import ipywidgets as w
    import numpy as np

    from .plots import contour
    from .race import RACE_RATES, race_by_name

    controls = {
        "problem": w.Dropdown(options=list(RACE_RATES), value=problem, description="function"),
        "names": w.SelectMultiple(options=list(RACE_RATES[problem]), value=tuple(names), rows=5,
                                  description="optimizers"),
        "lr_scale": log_slider("learning rate ×", 1.0, 0.1, 10.0),
        "momentum": slider("SGD momentum", 0.9, 0.0, 0.99, 0.01),
        "rho": slider("rho", 0.9, 0.0, 0.99, 0.01),
        "beta_1": slider("beta_1", 0.9, 0.0, 0.99, 0.01),
        "steps": w.IntSlider(value=steps, min=10, max=2000, step=10, description="steps",
                             continuous_update=False, layout=w.Layout(width="320px")),
    }

    def compute(problem, names, lr_scale, momentum, rho, beta_1, steps):
        r = race_by_name(problem, list(names) or ["SGD"], lr_scale, momentum, rho, beta_1, steps)
        reached = ", ".join(f"{k} {'—' if v is None else v}" for k, v in r.steps_to_tol.items())
        return r._replace(verdict=f"{r.verdict} Steps to the tolerance: {reached}.")

    def static(r, fig):  # what only changes with the function, the racers and the number of steps
        ax1, ax2 = fig.subplots(1, 2)
        contour(ax1, r.objective, r.bounds, levels=25, log=True)
        start = next(iter(r.paths.values()))[0]
        ax1.plot(*start, marker="s", color="k", markersize=5)
        ax1.set_title(r.objective.name, fontsize=10)
        for i, label in enumerate(r.paths):  # the legend is fixed: empty stand-ins for the moving lines
            ax1.plot([], [], color=f"C{i}", label=label)
        ax1.legend(fontsize=7, loc="lower right")
        ax2.set_yscale("log")
        ax2.set_xlim(0, len(next(iter(r.losses.values())))), ax2.set_ylim(LOSS_FLOOR, 1e4)
        ax2.set_xlabel("step"), ax2.set_ylabel("loss - minimum")
        return ax1, ax2

    def dynamic(r, axes):
        ax1, ax2 = axes
        f_min = float(r.objective(r.objective.minimizer))
        artists = []
        for i, label in enumerate(r.paths):
            artists += ax1.plot(r.paths[label][:, 0], r.paths[label][:, 1], color=f"C{i}", linewidth=1.2)
            artists += ax2.plot(np.maximum(r.losses[label] - f_min, LOSS_FLOOR), color=f"C{i}")
        return artists

    return explorer(controls, compute, static, dynamic, static_keys=("problem", "names", "steps"),
                    figsize=(11, 4.5))


__all__ += ["optimizer_race_explorer"]
