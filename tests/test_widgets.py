"""The shared pictures (course_lib.plots) and the explorers (course_lib.widgets), without a browser.

The browser test (tests/test_browser.py) drives the explorers in JupyterLab; here the pieces are
checked one by one: the optimizer palette, legends outside the data, small multiples of a race,
log sliders whose defaults lie on their grid, and the static picture an explorer stores for
renderers without a kernel."""

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
