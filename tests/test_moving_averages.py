"""course_lib.moving_averages without TensorFlow: seed 001's table by hand, known values, our
forms against each other, bad arguments and the explorer.  The runs against
tf.train.ExponentialMovingAverage and Keras's ``use_ema`` are in test_moving_averages_keras.py."""

import numpy as np
import pytest

from course_lib import moving_averages as ma
from course_lib import seeds
from course_lib.data import linear_regression
from course_lib.descent import fit, linear_mse
from course_lib.optimizers import SGD

# Printed by the seed (shared/seeds/001_*.txt) after each `sess.run(ema_op)`.
SEED_001_TABLE = seeds.MOVING_AVERAGE.splitlines()


def row(w, shadow):
    """Print a pair the way TF1 + numpy 1 printed ``sess.run([w1, ema.average(w1)])``."""
    return "[%s, %s]" % (np.float32(w), np.float32(shadow))


# --------------------------------------------------------------------------- seed 001
def test_seed_001_table_by_hand():
    ema = ma.ExponentialMovingAverage(0.99)
    w1 = np.float32(0.0)
    state = ema.init(w1)
    rows = [row(w1, ema.average(state))]
    w1 = np.float32(1.0)
    state = ema.apply(w1, state, num_updates=0)
    rows.append(row(w1, ema.average(state)))
    w1 = np.float32(10.0)
    for _ in range(7):
        state = ema.apply(w1, state, num_updates=100)
        rows.append(row(w1, ema.average(state)))
    assert rows == SEED_001_TABLE


# --------------------------------------------------------------------------- Keras use_ema
def _noisy_quadratic_grads(seed):
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(500, 3)).astype(np.float32)
    h = np.array([1.0, 0.3, 2.0], np.float32)
    calls = []

    def grad_fn(w):
        g = h * (w - 1.0) + noise[len(calls)]
        calls.append(1)
        return g.astype(np.float32)
    return grad_fn


def test_keras_average_is_tf_average_started_after_the_first_step():
    w0 = np.array([3.0, -2.0, 0.5], np.float32)
    params, avg = ma.apply_gradients_with_ema(SGD(0.05), w0, _noisy_quadratic_grads(4), 500, ema_momentum=0.9)
    tf_form = ma.average_trajectory(ma.ExponentialMovingAverage(0.9), params[1:])
    np.testing.assert_allclose(tf_form, avg[1:], rtol=1e-5, atol=1e-6)


def test_keras_ema_update_first_step_copies_then_averages():
    avg = np.zeros(2, np.float32)
    w = np.array([1.0, 2.0], np.float32)
    first = ma.keras_ema_update(avg, w, 0.9, iterations=0)
    np.testing.assert_array_equal(first, w)
    second = ma.keras_ema_update(first, np.array([2.0, 0.0], np.float32), 0.9, iterations=1)
    np.testing.assert_allclose(second, [1.1, 1.8], rtol=1e-6)
    assert second.dtype == np.float32


# --------------------------------------------------------------------------- known values
def test_effective_decay_num_updates_rule():
    assert ma.effective_decay(0.99) == np.float32(0.99)
    assert ma.effective_decay(0.99, 0) == np.float32(0.1)
    assert ma.effective_decay(0.99, 8) == np.float32(0.5)
    assert ma.effective_decay(0.99, 100) == np.float32(101) / np.float32(110)
    assert ma.effective_decay(0.99, 10_000) == np.float32(0.99)  # the cap
    # (1 + n) / (10 + n) reaches 0.99 at n = 890 (891 / 900).
    assert ma.effective_decay(0.99, 889) < np.float32(0.99) <= ma.effective_decay(0.99, 890)
    assert ma.effective_decay(0.99, 3).dtype == np.float32
    ema = ma.ExponentialMovingAverage(0.9, num_updates=4)
    assert ema.decay_at() == np.float32(5 / 14)
    assert ema.decay_at(100) == np.float32(0.9)  # a count given to apply wins


def test_ema_step_is_the_textbook_average_and_keeps_dtype():
    s = np.array([0.0, 2.0, -1.0], np.float32)
    v = np.array([1.0, 1.0, 1.0], np.float32)
    out = ma.ema_step(s, v, 0.9)
    np.testing.assert_allclose(out, 0.9 * s + 0.1 * v, rtol=1e-6, atol=1e-7)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(s, [0.0, 2.0, -1.0])  # not modified
    np.testing.assert_array_equal(ma.ema_step(s, v, 0.0), v)  # decay 0: the value
    np.testing.assert_array_equal(ma.ema_step(s, v, 1.0), s)  # decay 1: frozen


def test_apply_returns_new_state_without_mutation():
    ema = ma.ExponentialMovingAverage(0.5)
    params = {"w": np.array([1.0, 2.0]), "b": np.array(0.0)}
    state = ema.init(params)
    assert state.shadow["w"] is not params["w"]
    new = ema.apply({"w": np.array([3.0, 4.0]), "b": np.array(2.0)}, state)
    np.testing.assert_array_equal(state.shadow["w"], [1.0, 2.0])
    np.testing.assert_array_equal(new.shadow["w"], [2.0, 3.0])
    assert new.shadow["b"] == 1.0 and new.count == 1 and state.count == 0
    np.testing.assert_array_equal(params["w"], [1.0, 2.0])


def test_moving_average_bias_and_its_correction_on_a_constant():
    c, d = 4.0, 0.9
    x = np.full(30, c)
    t = np.arange(1, 31)
    np.testing.assert_allclose(ma.moving_average(x, d), c * (1 - d ** t), rtol=1e-12)
    np.testing.assert_allclose(ma.moving_average(x, d, bias_correction=True), c, rtol=1e-12)
    # 2-D series: every column averaged independently
    two = np.stack([x, 2 * x], axis=1)
    np.testing.assert_allclose(ma.moving_average(two, d, bias_correction=True), [[c, 2 * c]] * 30, rtol=1e-12)


def test_moving_average_corrected_equals_adam_first_moment():
    # Keras Adam's bias-corrected first moment m / (1 - beta_1**t) is this average of the gradients.
    grads = np.random.default_rng(5).normal(size=20)
    corrected = ma.moving_average(grads, 0.9, bias_correction=True)
    m = 0.0
    for t, g in enumerate(grads, start=1):
        m = 0.9 * m + 0.1 * g
        assert np.isclose(corrected[t - 1], m / (1 - 0.9 ** t), rtol=1e-12)


def test_average_trajectory_matches_apply_loop_with_counts():
    traj = np.random.default_rng(6).normal(size=(12, 2))
    ema = ma.ExponentialMovingAverage(0.99)
    out = ma.average_trajectory(ema, traj, num_updates=range(1, 12))
    state = ema.init(traj[0])
    np.testing.assert_array_equal(out[0], traj[0])
    for k in range(1, 12):
        state = ema.apply(traj[k], state, num_updates=k)
        np.testing.assert_array_equal(out[k], state.shadow)


def test_ema_of_noisy_minibatch_sgd_weights_generalises_better():
    x, y = linear_regression(n=200, noise=0.5, seed=1)
    x_test, y_test = linear_regression(n=1000, noise=0.5, seed=2)
    params0 = {"kernel": np.zeros((1, 1), np.float32), "bias": np.zeros(1, np.float32)}
    traj = fit(linear_mse, params0, x, y, SGD(0.1), epochs=20, batch_size=4, seed=0)
    avg = ma.average_trajectory(ma.ExponentialMovingAverage(0.98), traj.params)

    def test_loss(p, k):
        return linear_mse({"kernel": p["kernel"][k], "bias": p["bias"][k]}, x_test, y_test)[0]
    late = range(500, len(traj.loss))
    raw_losses = np.array([test_loss(traj.params, k) for k in late])
    avg_losses = np.array([test_loss(avg, k) for k in late])
    assert avg_losses.mean() < raw_losses.mean()
    assert avg_losses.std() < 0.5 * raw_losses.std()


# --------------------------------------------------------------------------- explorer
def test_explore_decay_pure_function():
    r = ma.explore_decay(0.9, noise=1.0, n=100, seed=0)
    assert r.window == pytest.approx(10.0)
    assert r.ema_tf[0] == r.series[0]  # TensorFlow's shadow starts at the first value
    assert r.ema[0] == pytest.approx(0.1 * r.series[0])  # the zero-started one is pulled to 0
    assert r.ema_corrected[0] == pytest.approx(r.series[0])
    assert r.errors["corrected"] < r.errors["ema"] and r.errors["corrected"] < r.errors["raw"]
    assert "decay 0.9" in r.verdict and "window about 10" in r.verdict
    again = ma.explore_decay(0.9, noise=1.0, n=100, seed=0)
    np.testing.assert_array_equal(again.series, r.series)
    zero = ma.explore_decay(0.0, n=50)
    np.testing.assert_array_equal(zero.ema, zero.series)
    one = ma.explore_decay(1.0, n=50)
    assert np.all(one.ema == 0) and np.all(one.ema_tf == one.series[0]) and one.window == np.inf


# --------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("decay", [-0.1, 1.5])
def test_decay_outside_unit_interval_is_refused(decay):
    with pytest.raises(ValueError, match=r"`decay` must be in \[0, 1\]"):
        ma.ExponentialMovingAverage(decay)
    with pytest.raises(ValueError, match="`decay`"):
        ma.moving_average([1.0, 2.0], decay)
    with pytest.raises(ValueError, match="`decay`"):
        ma.ema_step(0.0, 1.0, decay)


def test_bad_arguments_name_themselves():
    ema = ma.ExponentialMovingAverage(0.9)
    state = ema.init(np.zeros(3))
    with pytest.raises(ValueError, match="`var_list` must have the same structure and shapes as `state.sh"):
        ema.apply(np.zeros(4), state)
    with pytest.raises(ValueError, match="`var_list`"):
        ema.apply({"w": np.zeros(3)}, state)
    with pytest.raises(ValueError, match="`value` must have the shape of `shadow`"):
        ma.ema_step(np.zeros(3), np.zeros((3, 1)), 0.9)
    with pytest.raises(TypeError, match="`state` must be the EMAState"):
        ema.apply(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="`num_updates`"):
        ema.apply(np.zeros(3), state, num_updates=-1)
    with pytest.raises(ValueError, match="`num_updates`"):
        ma.ExponentialMovingAverage(0.9, num_updates=-3)
    with pytest.raises(TypeError, match="`zero_debias`"):
        ma.ExponentialMovingAverage(0.9, zero_debias=1)
    with pytest.raises(TypeError, match="`decay`"):
        ma.ExponentialMovingAverage("0.9")
    with pytest.raises(ValueError, match="`ema_momentum`"):
        ma.keras_ema_update(np.zeros(2), np.zeros(2), ema_momentum=1.2)
    with pytest.raises(ValueError, match="`average`"):
        ma.keras_ema_update(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="`ema_overwrite_frequency`"):
        ma.apply_gradients_with_ema(SGD(0.1), np.zeros(2), lambda w: w, 3, ema_overwrite_frequency=0)
    with pytest.raises(ValueError, match="`series`"):
        ma.moving_average([], 0.9)
    with pytest.raises(ValueError, match="bias_correction"):
        ma.moving_average([1.0], 1.0, bias_correction=True)
    with pytest.raises(ValueError, match="`num_updates` must give one count per update"):
        ma.average_trajectory(ema, np.zeros((5, 3)), num_updates=[1, 2])


def test_explorer_widget_redraws_from_the_pure_function():
    import matplotlib

    matplotlib.use("Agg")
    from course_lib import widgets

    ui = widgets.moving_average_explorer(decay=0.9)
    assert ui.verdict.value == f"<b>{ma.explore_decay(0.9, 1.0).verdict}</b>"
    ui.controls["decay"].value = 0.99
    assert ui.verdict.value == f"<b>{ma.explore_decay(0.99, 1.0).verdict}</b>"
    assert len(ui.update_times) == 2


def test_explorer_images_are_pngs_of_the_canvas_pixels():
    import io

    from PIL import Image

    from course_lib import widgets

    rgba = np.random.default_rng(0).integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    decoded = Image.open(io.BytesIO(widgets.png_bytes(rgba)))
    assert decoded.mode == "RGB" and decoded.size == (53, 37)
    np.testing.assert_array_equal(np.asarray(decoded), rgba[..., :3])

    ui = widgets.moving_average_explorer()
    shown = Image.open(io.BytesIO(ui.image.value))
    assert shown.size == (800, 320)  # figsize (10, 4) at 80 dpi
    assert len(np.unique(np.asarray(shown).reshape(-1, 3), axis=0)) > 10  # a drawn plot, not a blank

    with pytest.raises(ValueError, match="`rgba` must be a height x width x 4 uint8 array"):
        widgets.png_bytes(np.zeros((4, 4, 3), np.uint8))

