"""The shared pictures (course_lib.plots) and the explorers (course_lib.widgets), without a browser.

The browser test (tests/test_browser.py) drives the explorers in JupyterLab; here the pieces are
checked one by one: the optimizer palette, legends outside the data, small multiples of a race,
log sliders whose defaults lie on their grid, and the static picture an explorer stores for
renderers without a kernel."""

import base64
import itertools
from collections import namedtuple

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from course_lib import plots  # noqa: E402
from course_lib.descent import minimize  # noqa: E402
from course_lib.objectives import ILL_CONDITIONED  # noqa: E402
from course_lib.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop  # noqa: E402

OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def grey(colour):
    """Lightness 0..255 of a colour converted to greyscale (ITU-R 601 luma, as PIL's "L" mode)."""
    r, g, b = (255 * np.array(matplotlib.colors.to_rgb(colour)))
    return 0.299 * r + 0.587 * g + 0.114 * b


# =========================================================================== palette
def test_optimizer_name_reads_labels_and_aliases():
    assert plots.optimizer_name("Adam") == "Adam"
    assert plots.optimizer_name("adamw, lr 0.1") == "AdamW"
    assert plots.optimizer_name("Adamax") == "Adamax"
    assert plots.optimizer_name("momentum=0.6, learning_rate=0.4") == "Momentum"
    assert plots.optimizer_name("SGD momentum 0.9") == "Momentum"
    assert plots.optimizer_name("SGD(0.1)") == "SGD"
    assert plots.optimizer_name("GD") == "SGD"
    assert plots.optimizer_name("gradient descent, learning_rate=0.4") == "SGD"
    assert plots.optimizer_name("Nadam + cosine") == "Nadam"
    # A name must end where a word ends: "SGDR" and "Adamant" are not SGD and Adam.
    assert plots.optimizer_name("SGDR") is None and plots.optimizer_name("Adamant") is None
    assert plots.optimizer_name("lr 0.1") is None
    with pytest.raises(TypeError, match="`label`"):
        plots.optimizer_name(3)


def test_optimizer_style_is_a_copy_and_rejects_unknown_names():
    style = plots.optimizer_style("rmsprop")
    assert style == plots.OPTIMIZER_STYLES["RMSprop"]
    style["color"] = "red"
    assert plots.OPTIMIZER_STYLES["RMSprop"]["color"] != "red"
    with pytest.raises(ValueError, match="`name` must start with one of"):
        plots.optimizer_style("lr 0.1")
    with pytest.raises(TypeError, match="`name`"):
        plots.optimizer_style(None)


def test_palette_stays_apart_in_colour_and_in_greyscale():
    styles = plots.OPTIMIZER_STYLES
    assert {s["color"].upper() for s in styles.values()} <= OKABE_ITO | {"#999999"}
    assert len({(s["color"], str(s["linestyle"])) for s in styles.values()}) == len(styles)
    assert len({s["marker"] for s in styles.values()}) == len(styles)
    # Two optimizers with one line style differ clearly in grey (> 40 of 255) ...
    for (a, sa), (b, sb) in itertools.combinations(styles.items(), 2):
        if str(sa["linestyle"]) == str(sb["linestyle"]):
            assert abs(grey(sa["color"]) - grey(sb["color"])) > 40, (a, b)
    # ... and the optimizers of one family (one panel of the small multiples) differ in line style.
    for family in plots.OPTIMIZER_FAMILIES.values():
        assert len({str(styles[n]["linestyle"]) for n in family}) == len(family), family
    assert sorted(itertools.chain(*plots.OPTIMIZER_FAMILIES.values())) == sorted(styles)


def test_line_style_marks_about_ten_points_and_falls_back_to_the_colour_cycle():
    style = plots.line_style("Adam", points=300)
    assert style["color"] == plots.OPTIMIZER_STYLES["Adam"]["color"] and style["markevery"] == 30
    assert "marker" not in plots.line_style("Adam")
    assert plots.line_style("lr 0.1", 2) == {"color": "C2"}


# =========================================================================== legends
def _extents(fig, *artists):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [a.get_window_extent(renderer) for a in artists]


def test_legends_go_outside_the_data():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="SGD")
    ax.set_xlabel("step")
    below = plots.legend(ax, "below")
    box, leg, label = _extents(fig, ax, below, ax.xaxis.label)
    assert leg.y1 < label.y0 < box.y0  # under the x label, which is under the axes
    right = plots.legend(ax, "right")
    box, leg = _extents(fig, ax, right)
    assert leg.x0 > box.x1
    with pytest.raises(ValueError, match="`where` must be one of"):
        plots.legend(ax, "above")


def test_loss_curves_and_train_val_curves_use_the_palette():
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3)
    plots.loss_curves(ax1, {"Adam": [1.0, 0.5, 0.2], "lr 0.1": [1.0, 0.9, 0.8]})
    adam, other = ax1.get_lines()
    assert adam.get_color() == plots.OPTIMIZER_STYLES["Adam"]["color"] and other.get_color() == "C1"
    assert ax1.get_legend() is not None
    box, leg = _extents(fig, ax1, ax1.get_legend())
    assert leg.x0 > box.x1
    plots.train_val_curves((ax2, ax3), {"momentum": ([0, 1], [1, 0.5], [1, 0.6], None),
                                        "Adam": ([0, 1], [1, 0.4], [1, 0.7], {"color": "k"})})
    mom, adam = ax3.get_lines()
    assert mom.get_color() == plots.OPTIMIZER_STYLES["Momentum"]["color"]
    assert mom.get_linestyle() == "--" and adam.get_color() == "k"


# =========================================================================== races
Race = namedtuple("Race", "objective bounds paths losses steps_to_tol verdict")


@pytest.fixture(scope="module")
def ten_racers():
    racers = {"GD": SGD(0.4), "momentum": SGD(0.3, momentum=0.5), "Nesterov": SGD(0.2, momentum=0.9, nesterov=True),
              "Adagrad": Adagrad(1.0), "RMSprop": RMSprop(0.1), "Adadelta": Adadelta(10.0), "Adam": Adam(0.3),
              "AdamW": AdamW(0.3), "Adamax": Adamax(0.3), "Nadam": Nadam(0.3)}
    start = np.array([-5.0, -2.0])
    runs = {k: minimize(ILL_CONDITIONED, start, opt, 60) for k, opt in racers.items()}
    reached = {k: (int(np.nonzero(r.loss < 1e-3)[0][0]) if (r.loss < 1e-3).any() else None) for k, r in runs.items()}
    return Race(ILL_CONDITIONED, (-5.5, 5.5, -3.0, 3.0), {k: r.params for k, r in runs.items()},
                {k: r.loss for k, r in runs.items()}, reached, "")


def test_family_groups_split_racers_into_small_panels():
    labels = ["GD", "momentum", "Adam", "Nesterov", "RMSprop", "Nadam", "mine", "yours"]
    assert plots.family_groups(labels) == [
        ("SGD, momentum, Nesterov", ["GD", "momentum", "Nesterov"]), ("Adagrad, RMSprop, Adadelta", ["RMSprop"]),
        ("Adam, AdamW, Adamax, Nadam", ["Adam", "Nadam"]), ("mine, yours", ["mine", "yours"])]
    assert [g for _, g in plots.family_groups(["a", "b", "c"], size=2)] == [["a", "b"], ["c"]]
    with pytest.raises(ValueError, match="`size`"):
        plots.family_groups(labels, size=0)
    with pytest.raises(TypeError, match="`families`"):
        plots.family_groups(labels, families=["SGD"])


def test_race_panels_draw_each_family_in_its_own_panel_with_the_legend_below(ten_racers):
    axes = plots.race_panels(ten_racers, tol=1e-3)
    assert axes.shape == (2, 3)
    fig = axes[0, 0].figure
    for col, family in enumerate(plots.OPTIMIZER_FAMILIES.values()):
        top, bottom = axes[:, col]
        paths = [ln for ln in top.get_lines() if not ln.get_label().startswith("_")]
        assert 1 <= len(paths) <= 5
        assert {plots.optimizer_name(ln.get_label()) for ln in paths} == set(family)
        for line in paths:
            assert line.get_color() == plots.optimizer_style(line.get_label())["color"]
        legend = bottom.get_legend()
        assert "stays within 0.001" in legend.get_title().get_text()
        box, leg = _extents(fig, bottom, legend)
        assert leg.y1 < box.y0  # below the data
    # The loss panels share one scale, so the families can be compared.
    assert len({ax.get_ylim() for ax in axes[1]}) == 1
    for label, steps in ten_racers.steps_to_tol.items():
        entry = f"{label}: {'never' if steps is None else steps}"
        assert any(t.get_text() == entry for ax in axes[1] for t in ax.get_legend().get_texts())


def test_race_paths_keeps_its_old_call_and_checks_names(ten_racers):
    fig, ax = plt.subplots()
    plots.race_paths(ax, ten_racers, title="bowl")
    assert ax.get_title() == "bowl" and len(ax.get_legend().get_texts()) == 10
    with pytest.raises(ValueError, match="`names` must be labels of the race"):
        plots.race_paths(ax, ten_racers, names=["SGD"])
    with pytest.raises(TypeError, match="`names`"):
        plots.race_paths(ax, ten_racers, names="Adam")
    with pytest.raises(ValueError, match="`axes` must have 2 row"):
        plots.race_panels(ten_racers, axes=np.array([[ax]]))


# =========================================================================== explorers
from course_lib import widgets  # noqa: E402

EXPLORERS = ["learning_rate_explorer", "decay_schedule_explorer", "moving_average_explorer",
             "optimizer_race_explorer"]


@pytest.fixture(scope="module")
def explorers():
    return {name: getattr(widgets, name)() for name in EXPLORERS}


def browser_snap(slider, exponent):
    """What the browser's slider does with a position: the nearest grid point min + k*step."""
    return slider.min + round((exponent - slider.min) / slider.step) * slider.step


@pytest.mark.parametrize("value, low, high", [(0.3, 1e-4, 10.0), (0.5, 0.01, 3.0), (1.0, 0.1, 10.0), (0.07, 0.05, 0.9)])
def test_log_slider_puts_its_default_on_the_grid(value, low, high):
    s = widgets.log_slider("x", value, low, high)
    assert s.value == value and s.step == pytest.approx(1 / 40)
    assert low <= 10 ** s.min < low * 10 ** (1 / 40) and high / 10 ** (1 / 40) < 10 ** s.max <= high * (1 + 1e-12)
    # The browser snaps the handle to its grid and sends back 10**position: the default survives.
    snapped = 10 ** browser_snap(s, np.log10(value))
    s.value = snapped
    assert s.value == value, (snapped, s.value)
    # One step to the right multiplies by 10**(1/40), shown with 12 significant digits.
    s.value = 10 ** browser_snap(s, np.log10(value) + 1 / 40)
    assert s.value == float(f"{value * 10 ** (1 / 40):.12g}")


def test_log_grid_and_sliders_reject_bad_arguments():
    with pytest.raises(ValueError, match="`value` must lie within"):
        widgets.log_grid(20.0, 0.1, 10.0)
    with pytest.raises(ValueError, match="`value` must lie within"):
        widgets.log_grid(0.3, 0.0, 10.0)
    with pytest.raises(ValueError, match="`per_decade`"):
        widgets.log_grid(0.3, 0.1, 10.0, per_decade=0)
    with pytest.raises(ValueError, match="`value` must be a non-empty selection"):
        widgets.checkboxes("pick", ["a", "b"], ["c"])


def test_linear_slider_keeps_grid_values_exact():
    s = widgets.slider("decay", 0.9, 0.0, 0.995, 0.005)
    s.value = 0.9000000000000001
    assert s.value == 0.9
    s.value = 0.0 + 181 * 0.005  # 0.9049999999999999 in floating point
    assert s.value == 0.905


def test_every_control_shows_its_whole_label(explorers):
    for name, ui in explorers.items():
        for key, control in ui.controls.items():
            if getattr(control, "description", ""):
                assert control.style.description_width == "initial", (name, key)
    boxes = explorers["optimizer_race_explorer"].controls["names"]
    assert list(boxes.boxes) == list(boxes.options) and len(boxes.options) == 9  # every optimizer in view
    assert all(b.layout.width == "auto" for b in boxes.boxes.values())


def test_titles_and_verdicts_show_the_exact_defaults(explorers):
    import ipywidgets

    lr = explorers["learning_rate_explorer"]
    assert lr.controls["learning_rate"].value == 0.3
    titles = [t.get_text() for ax in lr.figure.axes for t in ax.texts]
    assert "0.1*x1**2 + 2*x2**2, learning rate 0.3" in titles, titles
    decay = explorers["decay_schedule_explorer"]
    assert decay.controls["initial_learning_rate"].value == 0.5
    assert decay.verdict_text.endswith("with the constant rate 0.5")
    assert decay.figure.axes[0].get_title().startswith("ExponentialDecay: initial rate 0.5, final")
    race = explorers["optimizer_race_explorer"]
    assert race.controls["lr_scale"].value == 1.0 and race.verdict_text.startswith("Learning rates × 1. ")
    assert isinstance(race.controls["names"], ipywidgets.HBox)


def _png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")  # width, height


def test_displayed_explorer_also_carries_a_static_picture_and_its_verdict(explorers):
    for name, ui in explorers.items():
        bundle = ui._repr_mimebundle_()
        assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ui.model_id
        picture = base64.b64decode(bundle["image/png"])
        live_width, live_height = _png_size(ui.image.value)
        width, height = _png_size(picture)
        assert width == live_width and height > live_height, name  # the verdict above the plot
        assert bundle["text/plain"] == ui.verdict_text and ui.verdict_text, name
        assert "<" not in bundle["text/plain"]
        assert ui.verdict.value == f"<b>{widgets._html(ui.verdict_text)}</b>"


def test_the_static_picture_follows_the_controls():
    ui = widgets.moving_average_explorer()
    before, text = ui.static_png(), ui.verdict_text
    ui.controls["decay"].value = 0.5
    assert ui.static_png() != before and ui.verdict_text != text and ui.verdict_text.startswith("decay 0.5:")
    strip = widgets.text_strip("a verdict " * 40, 800)
    assert strip.shape[1] == 800 and strip.dtype == np.uint8 and (strip[..., :3] < 100).any()


def test_race_verdict_counts_steps_until_the_loss_stays_within_the_tolerance():
    from course_lib.race import race_by_name

    ui = widgets.optimizer_race_explorer()
    result = race_by_name("ill-conditioned quadratic", list(ui.controls["names"].value), ui.controls["lr_scale"].value,
                          steps=200, tol=widgets.RACE_TOL)
    assert ui.verdict_text == widgets.race_verdict(result, 1.0)
    assert "Steps until the loss stays within 0.001 of the minimum" in ui.verdict_text
    f_min = float(result.objective(result.objective.minimizer))
    for label, steps in result.steps_to_tol.items():
        gap = result.losses[label] - f_min
        if steps is None:
            assert f"{label} never" in ui.verdict_text and not gap[-1] < widgets.RACE_TOL
        else:
            assert f"{label} {steps}" in ui.verdict_text
            assert np.all(gap[steps:] < widgets.RACE_TOL) and (steps == 0 or gap[steps - 1] >= widgets.RACE_TOL)
    done = {k: v for k, v in result.steps_to_tol.items() if v is not None}
    assert ui.verdict_text.endswith(f"First to stay: {min(done, key=done.get)}.")


def test_race_checkboxes_pick_the_racers_and_keep_one():
    ui = widgets.optimizer_race_explorer(names=("Adam",))
    boxes = ui.controls["names"]
    boxes.boxes["Adagrad"].value = True
    assert boxes.value == ("Adagrad", "Adam") and "Adagrad" in ui.verdict_text
    boxes.boxes["Adagrad"].value = False
    boxes.boxes["Adam"].value = False  # the last one: it stays ticked
    assert boxes.value == ("Adam",) and boxes.boxes["Adam"].value
    boxes.value = ("SGD", "Nadam")
    assert [o for o, b in boxes.boxes.items() if b.value] == ["SGD", "Nadam"]
    assert "SGD" in ui.verdict_text and "Nadam" in ui.verdict_text and "Adam " not in ui.verdict_text
