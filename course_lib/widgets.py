"""Explorers: thin ipywidgets layers over pure functions that compute what they draw.

Every explorer is built by :func:`explorer` from four parts:

* ``controls``: a dict of ipywidgets (sliders, dropdowns, check boxes) keyed by argument name;
* ``compute(**values) -> result``: a pure function in a numpy module (tested on its own);
* ``static(result, fig) -> axes``: draws what only changes with the controls named in
  ``static_keys`` (contours, fixed axis limits, labels) and returns the axes;
* ``dynamic(result, axes) -> artists``: draws what moves with every slider (paths, curves,
  titles) and returns the new artists.

Moving a control calls ``compute``, then redraws only the moving parts over a cached
picture of the static ones (matplotlib "blitting"), and shows the PNG and the result's
``verdict`` (if it has one).  The kernel-side time of every redraw is kept in
``ui.update_times`` so the benchmark can report it.

Displayed as a cell's result, an explorer gives Jupyter the live widget and, beside it, a
static picture of its current state (the verdict above the plot, ``image/png``) and the
verdict as text (``text/plain``).  JupyterLab and Notebook with a kernel show the widget;
renderers without one (GitHub, nbviewer, ``jupyter nbconvert --to html``) show the picture.

ipywidgets and matplotlib are imported inside the functions, so ``import course_lib``
stays fast and the numpy modules never need a display.
"""

import base64
import functools
import math
import struct
import textwrap
import time
import zlib

__all__ = ["explorer", "slider", "log_slider", "checkboxes", "png_bytes"]

#: Losses below this are drawn on the explorers' floor (their log axes are fixed).
LOSS_FLOOR = 1e-12

#: Every control shows its whole description, however long ("learning rate ×", "decay_steps").
FULL_LABEL = {"description_width": "initial"}


def _on_grid(value, low, high):
    """``value`` rounded to 12 significant digits (a slider's grid point computed in the browser
    is off in the last bits: 0.29999999999999993 for 0.3), kept within ``[low, high]``."""
    rounded = float(f"{value:.12g}")
    return rounded if low <= rounded <= high else value


@functools.lru_cache(maxsize=None)
def _classes():
    """The widget classes of this module, built on first use (ipywidgets is imported lazily)."""
    import ipywidgets as w
    import traitlets

    class GridSlider(w.FloatSlider):
        """A FloatSlider whose values are its grid points exactly (0.9, not 0.9000000000000001)."""

        @traitlets.validate("value")
        def _validate_value(self, proposal):
            return _on_grid(super()._validate_value(proposal), self.min, self.max)

    class GridLogSlider(w.FloatLogSlider):
        """A FloatLogSlider whose values are its grid points exactly (0.3, not 0.29999999999999993)."""

        @traitlets.validate("value")
        def _validate_value(self, proposal):
            return _on_grid(super()._validate_value(proposal), self.base ** self.min, self.base ** self.max)

    class Checkboxes(w.HBox):
        """One check box per option in a row that wraps; ``value`` is the tuple of the ticked
        options in the options' order.  The last ticked box cannot be unticked."""

        value = traitlets.Tuple()

        def __init__(self, description, options, value):
            self.options = tuple(options)
            unknown = [v for v in value if v not in self.options]
            if unknown or not value:
                raise ValueError(f"`value` must be a non-empty selection of {list(self.options)}; got {value!r}.")
            self.boxes = {o: w.Checkbox(value=o in value, description=o, indent=False,
                                        layout=w.Layout(width="auto", margin="0 12px 0 0")) for o in self.options}
            label = w.Label(description, layout=w.Layout(margin="0 8px 0 0"))
            super().__init__([label, *self.boxes.values()], layout=w.Layout(flex_flow="row wrap", width="100%"))
            self.value = tuple(o for o in self.options if o in value)
            for box in self.boxes.values():
                box.observe(self._ticked, names="value")
            self.observe(self._set, names="value")

        def _ticked(self, change):
            ticked = tuple(o for o, box in self.boxes.items() if box.value)
            if not ticked:  # keep at least one racer
                change["owner"].value = True
                return
            self.value = ticked

        def _set(self, change):
            for option, box in self.boxes.items():
                box.value = option in change["new"]

    class Explorer(w.VBox):
        """The explorer's widget; displayed, it also gives a static picture and its verdict as text."""

        def _repr_mimebundle_(self, **kwargs):
            data = super()._repr_mimebundle_(**kwargs)
            data["image/png"] = base64.b64encode(self.static_png()).decode("ascii")
            data["text/plain"] = self.verdict_text or "(an explorer: run the notebook to move its controls)"
            return data

    return GridSlider, GridLogSlider, Checkboxes, Explorer


def slider(description, value, low, high, step, width="320px", readout_format=".2f"):
    """A slider over ``[low, high]`` in steps of ``step`` that redraws while it is dragged.

    ``value`` should be a grid point ``low + k * step``; the slider's values are its grid
    points rounded to 12 significant digits, so 0.9 stays 0.9.
    """
    import ipywidgets as w

    return _classes()[0](value=value, min=low, max=high, step=step, description=description,
                         readout_format=readout_format, continuous_update=True, style=FULL_LABEL,
                         layout=w.Layout(width=width))


def log_grid(value, low, high, per_decade=40):
    """The exponents ``(min, max, step)`` of a base-10 log slider whose grid, ``per_decade``
    points per factor of 10, passes through ``value``: ``value * 10**(k / per_decade)`` for
    every whole ``k`` that keeps it within ``[low, high]``."""
    if not 0 < low <= value <= high:
        raise ValueError(f"`value` must lie within [low, high] and `low` must be > 0; got value={value!r}, "
                         f"low={low!r}, high={high!r}.")
    if isinstance(per_decade, bool) or not isinstance(per_decade, int) or per_decade < 1:
        raise ValueError(f"`per_decade` must be a whole number >= 1; got {per_decade!r}.")
    step, centre = 1.0 / per_decade, math.log10(value)
    below = math.floor((centre - math.log10(low)) * per_decade + 1e-9)
    above = math.floor((math.log10(high) - centre) * per_decade + 1e-9)
    return centre - below * step, centre + above * step, step


def log_slider(description, value, low, high, per_decade=40, readout_format=".3", width="480px"):
    """A slider over about ``[low, high]`` in log scale (ipywidgets' ``FloatLogSlider``), with
    ``per_decade`` positions per factor of 10 (each ArrowRight multiplies by 10**(1/40), about
    1.06), placed so that ``value`` is one of them: the default shows as 0.3, not 0.299.
    The ends are the grid points closest to ``low`` and ``high`` within them.  The readout
    has three significant digits without trailing zeros (d3-format ".3": 0.3, 0.316)."""
    import ipywidgets as w

    lo, hi, step = log_grid(value, low, high, per_decade)
    return _classes()[1](value=value, base=10, min=lo, max=hi, step=step, description=description,
                         readout_format=readout_format, continuous_update=True, style=FULL_LABEL,
                         layout=w.Layout(width=width))


def checkboxes(description, options, value):
    """Check boxes for several choices at once, every option in view; ``.value`` is the tuple
    of the ticked options in the options' order (at least one stays ticked)."""
    return _classes()[2](description, options, tuple(value))


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


def text_strip(text, width, dpi=80, fontsize=10):
    """``text`` in bold on white, wrapped to ``width`` pixels, as an RGBA array ``width`` pixels
    wide (the verdict line above an explorer's static picture)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    chars = max(20, int(width / (0.62 * fontsize * dpi / 72)))  # a bold character is about 0.62 em wide
    lines = textwrap.wrap(text, chars) or [""]
    height = (len(lines) * 1.35 + 0.8) * fontsize / 72
    fig = Figure(figsize=(width / dpi, height), dpi=dpi, facecolor="white")
    fig.text(6 / width, 0.5, "\n".join(lines), va="center", ha="left", fontsize=fontsize, weight="bold",
             linespacing=1.35)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())
    if pixels.shape[1] != width:  # figure sizes round to whole pixels
        pad = np.full((pixels.shape[0], max(width - pixels.shape[1], 0), 4), 255, np.uint8)
        pixels = np.concatenate([pixels, pad], axis=1)[:, :width]
    return pixels


def explorer(controls, compute, static, dynamic, static_keys=(), figsize=(10, 4), dpi=80):
    """Build the explorer widget; return it (display it as the last line of a cell).

    The returned ``ipywidgets.VBox`` has extra attributes: ``controls``, ``verdict`` (the
    text line), ``image`` (the plot), ``update()`` (redraw now), ``update_times`` (seconds
    per redraw), ``verdict_text`` (the verdict as plain text), ``figure`` (the matplotlib
    figure) and ``static_png()`` (the PNG a renderer without a kernel shows: the verdict above
    the plot).  ``static`` must fix every
    axis's limits: autoscaling is turned off once it has drawn, since the cached axes cannot
    follow the moving parts.
    """
    import ipywidgets as w
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    image = w.Image(format="png", layout=w.Layout(width=f"{int(figsize[0] * dpi)}px"))
    verdict = w.HTML(layout=w.Layout(min_height="1.6em"))
    verdict.add_class("course-explorer-verdict")
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
        ui.verdict_text = text or ""
        verdict.value = f"<b>{_html(text)}</b>" if text else ""
        image.value = png_bytes(canvas.buffer_rgba())
        ui.update_times.append(time.perf_counter() - start)

    def static_png():
        plot = np.asarray(canvas.buffer_rgba())
        if not ui.verdict_text:
            return png_bytes(plot)
        return png_bytes(np.concatenate([text_strip(ui.verdict_text, plot.shape[1], dpi), plot]))

    for c in controls.values():
        c.observe(update, names="value")
    ui = _classes()[3]([w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap")), verdict, image])
    ui.add_class("course-explorer")
    ui.controls, ui.verdict, ui.image, ui.update, ui.update_times = controls, verdict, image, update, []
    ui.verdict_text, ui.static_png, ui.figure = "", static_png, fig
    update()
    return ui


def _html(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- lesson 05
#: The moving averages the lesson-05 explorer draws: colour, line style, label (apart in greyscale).
EMA_LINES = (("#0072B2", "-", "EMA from 0"), ("#D55E00", "--", "EMA from 0, bias-corrected"),
             ("#009E73", ":", "EMA from first value (TensorFlow)"))


def moving_average_explorer(decay=0.9, noise=1.0, n=200, seed=0):
    """Lesson 05: a decay slider over a noisy series, drawing the raw series, the EMA started
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
        for colour, style, label in EMA_LINES:
            ax.plot([], [], color=colour, linestyle=style, linewidth=1.6, label=label)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8, frameon=False)
        fig.subplots_adjust(left=0.07, right=0.7, bottom=0.13, top=0.9)
        return ax

    def dynamic(r, ax):
        lines = []
        for (colour, style, _), values in zip(EMA_LINES, (r.ema, r.ema_corrected, r.ema_tf)):
            lines += ax.plot(r.steps, values, color=colour, linestyle=style, linewidth=1.6)
        title = ax.set_title(f"decay {1 - 1 / r.window:.3f}: window 1/(1-decay) = {r.window:.4g} steps")
        return lines + [title]

    ui = explorer(controls, lambda decay, noise: explore_decay(decay, noise, n, seed), static, dynamic,
                  static_keys=("noise",))
    ui.add_class("ema-explorer")
    return ui


# --------------------------------------------------------------------------- lesson 02
def learning_rate_explorer(objective="0.1*x1**2 + 2*x2**2", learning_rate=0.3, x1=-5.0, x2=2.0, steps=50):
    """Lesson 02: a log-scale learning-rate slider, an objective menu and start-point sliders.

    Draws the path on the loss surface and the loss per step, with the stability limit
    and a plain-words verdict ("converges", "oscillates", "diverges at step 7").  All
    numbers come from :func:`course_lib.stability.explore`; drawing is
    :func:`course_lib.plots.exploration_static` and ``exploration_dynamic``.  ``x2`` is greyed
    out for 1-D objectives.  The learning-rate slider runs from about 1e-4 to 10, 40
    positions per factor of 10, through ``learning_rate``.
    """
    import ipywidgets as w

    from .plots import exploration_dynamic, exploration_static
    from .stability import EXPLORER_OBJECTIVES, explore

    controls = {
        "learning_rate": log_slider("learning rate", learning_rate, 1e-4, 10.0),
        "objective": w.Dropdown(options=list(EXPLORER_OBJECTIVES), value=objective, description="loss",
                                style=FULL_LABEL, layout=w.Layout(width="340px")),
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


# --------------------------------------------------------------------------- lesson 04
def decay_schedule_explorer(kind="ExponentialDecay", initial_learning_rate=0.5, decay_steps=20, decay_rate=0.5,
                            n_steps=200, noise=2.0, seed=0):
    """Lesson 04: a schedule menu and sliders for its rate, length and strength, drawing the
    learning rate per step (relative to the initial rate) and the loss of SGD with noisy
    gradients run with it, next to a constant rate.  All numbers come from
    :func:`course_lib.schedules.decay_explorer`.
    """
    from types import SimpleNamespace

    import ipywidgets as w
    import numpy as np

    from .schedules import SCHEDULES, decay_explorer

    controls = {
        "kind": w.Dropdown(options=["constant", *SCHEDULES], value=kind, description="schedule", style=FULL_LABEL,
                           layout=w.Layout(width="340px")),
        "initial_learning_rate": log_slider("initial_learning_rate", initial_learning_rate, 0.01, 3.0),
        "decay_steps": w.IntSlider(value=decay_steps, min=1, max=n_steps, description="decay_steps",
                                   continuous_update=True, style=FULL_LABEL, layout=w.Layout(width="420px")),
        "decay_rate": slider("decay_rate", decay_rate, 0.0, 1.0, 0.01, width="420px"),
    }
    constant_style = {"color": "0.55", "linestyle": "--", "linewidth": 1}

    def static(r, fig):  # fixed axes: the rate relative to its start, the loss on a log scale
        ax1, ax2 = fig.subplots(1, 2)
        ax1.axhline(1.0, **constant_style)
        ax1.set_xlim(0, n_steps), ax1.set_ylim(0, 1.05)
        ax1.set_xlabel("step"), ax1.set_ylabel("learning rate / initial rate")
        ax2.set_yscale("log")
        ax2.set_xlim(0, n_steps), ax2.set_ylim(LOSS_FLOOR, 1e4)
        ax2.set_xlabel("step"), ax2.set_ylabel("loss (noisy gradients)")
        ax2.plot([], [], color="#0072B2", label="the schedule")  # the legend is fixed: stand-ins
        ax2.plot([], [], **constant_style, label="constant initial rate")
        ax2.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8, frameon=False)
        fig.subplots_adjust(left=0.07, right=0.78, bottom=0.13, top=0.9, wspace=0.3)
        return ax1, ax2

    def dynamic(s, axes):
        r, (ax1, ax2) = s.result, axes
        artists = ax1.plot(r.steps, r.rates / s.initial, color="#0072B2", drawstyle="steps-post")
        artists += ax2.plot(np.maximum(r.constant_loss, LOSS_FLOOR), **constant_style)
        artists += ax2.plot(np.maximum(r.loss, LOSS_FLOOR), color="#0072B2", linewidth=1.2)
        artists.append(ax1.set_title(f"{r.kind}: initial rate {s.initial:.3g}, final {float(r.rates[-1]):.3g}",
                                     fontsize=10))
        return artists

    def compute(kind, initial_learning_rate, decay_steps, decay_rate):
        r = decay_explorer(kind, initial_learning_rate, decay_steps, decay_rate, n_steps, noise, seed)
        return SimpleNamespace(result=r, initial=float(initial_learning_rate), verdict=r.verdict)

    ui = explorer(controls, compute, static, dynamic)
    ui.add_class("decay-explorer")
    return ui


# ----------------------------------------------------------------------------- lesson 08: optimizer race
#: The race explorer's tolerance: a racer has arrived once its loss stays within it of the minimum.
RACE_TOL = 1e-3


def race_verdict(result, lr_scale, tol=RACE_TOL):
    """The race explorer's verdict: each racer's steps until its loss stays within ``tol`` of
    the minimum (``result.steps_to_tol``), and who got there first."""
    counts = ", ".join(f"{k} {'never' if v is None else v}" for k, v in result.steps_to_tol.items())
    done = {k: v for k, v in result.steps_to_tol.items() if v is not None}
    first = (f"First to stay: {min(done, key=done.get)}." if done else
             "None stays within it by the last step.")
    return (f"Learning rates × {lr_scale:.3g}. Steps until the loss stays within {tol:g} of the minimum: "
            f"{counts}. {first}")


def optimizer_race_explorer(problem="ill-conditioned quadratic", names=("SGD", "Nesterov", "Adam"),
                            steps=200):
    """Race optimizers on a 2-D function: paths on the contours and loss curves.

    Each optimizer starts at its usual learning rate for the problem (``race.RACE_RATES``),
    times the multiplier slider; every optimizer has a check box.  The verdict gives each
    racer's steps until its loss stays within :data:`RACE_TOL` of the minimum (a run that
    touches the tolerance and leaves it again has not arrived).  All numbers come from
    :func:`course_lib.race.race_by_name`; lines take the course's optimizer styles
    (:func:`course_lib.plots.line_style`).
    """
    import ipywidgets as w
    import numpy as np

    from .plots import contour, line_style
    from .race import RACE_RATES, race_by_name

    controls = {
        "problem": w.Dropdown(options=list(RACE_RATES), value=problem, description="function", style=FULL_LABEL,
                              layout=w.Layout(width="340px")),
        "lr_scale": log_slider("learning rate ×", 1.0, 0.1, 10.0),
        "names": checkboxes("optimizers:", list(RACE_RATES[problem]), names),
        "momentum": slider("SGD and Nesterov momentum", 0.9, 0.0, 0.99, 0.01, width="360px"),
        "rho": slider("RMSprop and Adadelta rho", 0.9, 0.0, 0.99, 0.01, width="360px"),
        "beta_1": slider("Adam family beta_1", 0.9, 0.0, 0.99, 0.01, width="360px"),
        "steps": w.IntSlider(value=steps, min=10, max=2000, step=10, description="steps", style=FULL_LABEL,
                             continuous_update=False, layout=w.Layout(width="360px")),
    }

    def compute(problem, names, lr_scale, momentum, rho, beta_1, steps):
        r = race_by_name(problem, list(names), lr_scale, momentum, rho, beta_1, steps, tol=RACE_TOL)
        return r._replace(verdict=race_verdict(r, lr_scale))

    def static(r, fig):  # what only changes with the function, the racers and the number of steps
        ax1, ax2 = fig.subplots(1, 2)
        contour(ax1, r.objective, r.bounds, levels=25, log=True, alpha=0.5)
        start = next(iter(r.paths.values()))[0]
        ax1.plot(*start, marker="s", color="k", markersize=5)
        ax1.set_title(r.objective.name, fontsize=10)
        for i, label in enumerate(r.paths):  # the legend is fixed: empty stand-ins for the moving lines
            ax2.plot([], [], label=label, linewidth=1.3, **line_style(label, i))
        ax2.axhline(RACE_TOL, color="0.5", linewidth=0.8, linestyle=(0, (2, 2)))
        ax2.plot([], [], color="0.5", linewidth=0.8, linestyle=(0, (2, 2)), label=f"tolerance {RACE_TOL:g}")
        ax2.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0), borderaxespad=0.0, fontsize=8, frameon=False)
        ax2.set_yscale("log")
        ax2.set_xlim(0, len(next(iter(r.losses.values())))), ax2.set_ylim(LOSS_FLOOR, 1e4)
        ax2.set_xlabel("step"), ax2.set_ylabel("loss − minimum")
        fig.subplots_adjust(left=0.06, right=0.83, bottom=0.12, top=0.92, wspace=0.22)
        return ax1, ax2

    def dynamic(r, axes):
        ax1, ax2 = axes
        f_min = float(r.objective(r.objective.minimizer))
        artists = []
        for i, label in enumerate(r.paths):
            style = line_style(label, i)
            artists += ax1.plot(r.paths[label][:, 0], r.paths[label][:, 1], linewidth=1.3, **style)
            artists += ax2.plot(np.maximum(r.losses[label] - f_min, LOSS_FLOOR), linewidth=1.3, **style)
        return artists

    ui = explorer(controls, compute, static, dynamic, static_keys=("problem", "names", "steps"),
                  figsize=(11, 4.5))
    ui.add_class("race-explorer")
    return ui


__all__ += ["optimizer_race_explorer", "moving_average_explorer", "learning_rate_explorer",
            "decay_schedule_explorer", "race_verdict", "log_grid", "text_strip"]


# ----------------------------------------------------------------------------- lesson 07: the turned bowl
def rotated_bowl_explorer(angle_degrees=45.0, condition_number=20.0, steps=100):
    """Turn an ill-conditioned bowl and race SGD, tuned momentum and Adam on it.

    Sliders for the bowl's angle (degrees) and condition number κ; the racers and their rates
    come from :func:`course_lib.landscapes.rotated_race` (SGD at ``2/(L + μ)``, momentum tuned
    by ``heavy_ball_tuning``, Adam at 0.3).  The bowl's level sets are drawn as ellipses
    (computed, not contoured, so a redraw stays fast); the verdict gives each racer's loss
    after ``steps`` steps.
    """
    import numpy as np

    from .landscapes import rotated_race
    from .plots import line_style

    controls = {"angle_degrees": slider("angle (°)", angle_degrees, 0.0, 90.0, 5.0, readout_format=".0f"),
                "condition_number": log_slider("condition number κ", condition_number, 1.0, 1000.0,
                                               per_decade=10, readout_format=".3g")}
    names = ("SGD", "Momentum", "Adam")

    def compute(angle_degrees, condition_number):
        return rotated_race(angle_degrees, condition_number, steps)

    def static(r, fig):
        ax1, ax2 = fig.subplots(1, 2)
        ax1.set_xlim(-6.5, 6.5), ax1.set_ylim(-6.5, 6.5), ax1.set_aspect("equal")
        ax1.plot(0, 0, marker="*", color="k", markersize=10)
        ax1.set_xlabel("$x_1$"), ax1.set_ylabel("$x_2$")
        ax1.set_title("paths on the level sets (grey) from the start (●) to the minimum (★);\n"
                      "colours as in the legend; a path may leave this window", fontsize=9)
        for i, label in enumerate(names):
            ax2.plot([], [], label=label, linewidth=1.3, **line_style(label, i))
        ax2.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0), borderaxespad=0.0, fontsize=8, frameon=False)
        ax2.set_yscale("log")
        ax2.set_xlim(0, steps), ax2.set_ylim(LOSS_FLOOR, 1e2)
        ax2.set_xlabel("step"), ax2.set_ylabel("loss")
        ax2.set_title(f"loss (below {LOSS_FLOOR:.0e}: drawn on the bottom edge)", fontsize=9)
        fig.subplots_adjust(left=0.07, right=0.85, bottom=0.13, top=0.9, wspace=0.3)
        return ax1, ax2

    def dynamic(r, axes):
        ax1, ax2 = axes
        h = r.objective.hessian()
        values, vectors = np.linalg.eigh(h)
        t = np.linspace(0, 2 * np.pi, 120)
        artists = []
        for level in (0.05, 0.5, 2.0, 8.0):   # 0.5 xᵀHx = level: an ellipse with half-axes √(2 level / λ)
            pts = vectors @ np.stack([np.sqrt(2 * level / values[0]) * np.cos(t),
                                      np.sqrt(2 * level / values[1]) * np.sin(t)])
            artists += ax1.plot(pts[0], pts[1], color="0.75", linewidth=0.8)
        for i, label in enumerate(names):
            style = line_style(label, i)
            artists += ax1.plot(r.paths[label][:, 0], r.paths[label][:, 1], linewidth=1.3, **style)
            artists += ax2.plot(np.maximum(r.losses[label], LOSS_FLOOR), linewidth=1.3, **style)
        artists += ax1.plot(*r.paths[names[0]][0], marker="o", color="k", markersize=6, linestyle="none")
        return artists

    ui = explorer(controls, compute, static, dynamic, figsize=(10, 4.2))
    ui.add_class("rotated-bowl-explorer")
    return ui


__all__ += ["rotated_bowl_explorer"]


# ----------------------------------------------------------------------------- lesson 03: noise and batch size
def noise_explorer(learning_rate=0.3, batch_size=10, steps=300, seed=0):
    """Lesson 03: learning-rate and batch-size sliders over mini-batch SGD on the ``y = 3x + 2`` data.

    Draws one run's path in ``(w, b)`` over the loss's contours, and its loss above the minimum
    with the derived noise floor; the verdict says whether it hovers at the floor, is still on
    its way down, or blows up.  The numbers come from :func:`course_lib.noise.explore`.
    """
    import numpy as np

    from .data import linear_regression
    from .noise import explore, linear_loss, linear_minimum
    from .plots import legend, optimizer_style

    x, y = linear_regression()
    theta_star, loss_star = linear_minimum(x, y)
    controls = {
        "learning_rate": log_slider("learning rate", learning_rate, 0.01, 0.9, width="420px"),
        "batch_size": slider("batch size B", batch_size, 1, 100, 1, width="420px", readout_format="d"),
    }
    sgd = optimizer_style("SGD")

    def static(r, fig):  # contours, fixed limits, labels, the legend with stand-ins for the moving lines
        ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        w, b = np.meshgrid(np.linspace(-0.5, 4.5, 120), np.linspace(-0.5, 4.0, 120))
        excess = linear_loss(np.stack([w, b], axis=-1).reshape(-1, 2), x, y).reshape(w.shape) - loss_star
        ax1.contour(w, b, np.log10(excess + 1e-3), levels=12, colors="0.8", linewidths=0.7, linestyles="solid")
        ax1.plot(*theta_star, "k*", markersize=9)
        ax1.set(xlim=(-0.5, 4.5), ylim=(-0.5, 4.0), xlabel="w", ylabel="b")
        ax1.set_title("the path in (w, b) from (0, 0); ★ the minimum", fontsize=9)
        ax2.set(yscale="log", xlim=(0, steps), ylim=(1e-6, 1e2), xlabel="step", ylabel="loss - loss*")
        ax2.plot([], [], color=sgd["color"], linewidth=0.6, alpha=0.6, label="this run")
        ax2.plot([], [], color="k", linewidth=1.6, label="mean of the second half")
        ax2.plot([], [], color="0.4", linestyle="--", linewidth=1.4, label="derived noise floor")
        legend(ax2, where="below")
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.25, top=0.9, wspace=0.28)
        return ax1, ax2

    def dynamic(r, axes):
        ax1, ax2 = axes
        path = np.clip(r.theta, -1e3, 1e3)
        artists = ax1.plot(path[:, 0], path[:, 1], color=sgd["color"], linewidth=0.7, alpha=0.8)
        artists += ax1.plot(*path[-1], "o", color=sgd["color"], markerfacecolor="white", markersize=5)
        steps_axis = np.arange(1, len(r.excess))
        excess = np.clip(r.excess[1:], LOSS_FLOOR, 1e6)
        artists += ax2.plot(steps_axis, excess, color=sgd["color"], linewidth=0.6, alpha=0.6)
        # a single run is skewed (mostly below its mean, with spikes above): its mean, not its typical value,
        # is what the floor (itself a mean) should be compared with
        if np.isfinite(r.measured):
            artists += ax2.plot([steps // 2, steps], [r.measured, r.measured], color="k", linewidth=1.6)
        if np.isfinite(r.floor) and r.floor > 0:
            artists += ax2.plot([1, steps], [r.floor, r.floor], color="0.4", linestyle="--", linewidth=1.4)
        artists.append(ax2.set_title(f"loss above the minimum; floor {r.floor:.2e}", fontsize=9))
        return artists

    def compute(learning_rate, batch_size):
        return explore(learning_rate, int(batch_size), steps=steps, seed=seed, x=x, y=y)

    ui = explorer(controls, compute, static, dynamic, static_keys=(), figsize=(10, 4.2))
    ui.add_class("noise-explorer")
    return ui


__all__ += ["noise_explorer"]
