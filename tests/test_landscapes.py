"""course_lib.landscapes: saddles, rotated bowls, Newton, curvature from gradients, initialization."""

import math

import numpy as np
import pytest

from course_lib import landscapes as L
from course_lib.backprop import MLP
from course_lib.objectives import Quadratic, Rosenbrock, rotated_quadratic


@pytest.mark.parametrize("call, words", [
    (lambda: L.layer_statistics(0), "`depth` must be an integer in [1, inf)"),
    (lambda: L.layer_statistics(3, initializer="xavier"), "`identifier` must be"),
    (lambda: L.layer_statistics(3, activation="gelu"), "`activation` must be one of"),
    (lambda: L.newton_step(Rosenbrock(), [0.0, 0.0], damping=-1), "`damping` must be in [0, inf)"),
    (lambda: L.hvp_finite_difference(lambda w: w, np.zeros(2), np.zeros(3)), "`v` must have the shape"),
    (lambda: L.preconditioned_descent(Quadratic([1.0, 2.0]), [1.0, 1.0], 0.1, [1.0], 3), "`preconditioner`"),
    (lambda: L.measured_rate([1.0, 0.5], 1, 1), "`stop`"),
])
def test_bad_input_is_named(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert words in str(info.value)


def test_one_newton_step_solves_a_quadratic_and_damping_shortens_it():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 4))
    q = Quadratic(a @ a.T + np.eye(4), minimum=rng.normal(size=4))
    x = rng.normal(size=4) * 5
    assert np.allclose(L.newton_step(q, x), q.minimizer)
    damped = L.newton_step(q, x, damping=1e6)
    assert np.allclose(damped, x - q.grad(x) / 1e6, rtol=1e-5)  # large damping: a small gradient step


def test_newton_on_rosenbrock_reaches_the_minimum_and_half_steps_are_slower():
    full = L.newton_minimize(Rosenbrock(), [-1.5, 2.0], 10)
    half = L.newton_minimize(Rosenbrock(), [-1.5, 2.0], 10, learning_rate=0.5)
    assert np.allclose(full[-1], [1, 1], atol=1e-10)
    assert np.linalg.norm(half[-1] - [1, 1]) > 1e-4


def test_hvp_by_finite_differences_matches_the_exact_hessian():
    r, rng = Rosenbrock(), np.random.default_rng(2)
    for _ in range(3):
        w, v = rng.normal(size=2), rng.normal(size=2)
        assert np.allclose(L.hvp_finite_difference(r.grad, w, v), r.hessian(w) @ v, rtol=1e-6, atol=1e-5)


def test_hvp_of_an_mlp_matches_differences_of_its_gradient_and_is_symmetric():
    net = MLP((2, 4, 2))
    params = net.init(seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 2)), rng.integers(0, 2, 10)
    w0 = L.flatten(params)

    def grad(w):
        return L.flatten(net.loss_and_grad(L.unflatten(w, params), x, y)[1])

    h = L.hessian_from_hvp(lambda v: L.hvp_finite_difference(grad, w0, v), w0.size)
    raw = np.column_stack([L.hvp_finite_difference(grad, w0, e) for e in np.eye(w0.size)])
    assert np.allclose(raw, raw.T, atol=1e-6)
    # second-order check: the loss along a direction bends by vᵀHv
    v = rng.normal(size=w0.size)
    f = [net.loss(L.unflatten(w0 + t * v, params), x, y) for t in (-1e-3, 0, 1e-3)]
    assert (f[0] - 2 * f[1] + f[2]) / 1e-6 == pytest.approx(v @ h @ v, rel=1e-3)


def test_power_iteration_finds_both_ends_of_the_spectrum():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    eig = np.concatenate([[-2.5], np.linspace(-1, 4, 28), [9.0]])
    h = q @ np.diag(eig) @ q.T
    low, high = L.extreme_eigenvalues(lambda v: h @ v, 30, iterations=400)
    assert low == pytest.approx(-2.5, rel=1e-4) and high == pytest.approx(9.0, rel=1e-6)


def test_flatten_unflatten_round_trip():
    tree = [{"kernel": np.arange(6.0).reshape(2, 3), "bias": np.ones(3, np.float32)}]
    back = L.unflatten(L.flatten(tree), tree)
    assert np.array_equal(back[0]["kernel"], tree[0]["kernel"]) and back[0]["bias"].dtype == np.float32


def test_preconditioned_descent_with_the_inverse_hessian_is_newton():
    q = rotated_quadratic(0.7, 50.0)
    path = L.preconditioned_descent(q, [3.0, -1.0], 1.0, np.linalg.inv(q.hessian()), 1)
    assert np.allclose(path[-1], 0, atol=1e-12)
    aligned = Quadratic([50.0, 1.0])
    path = L.preconditioned_descent(aligned, [3.0, -1.0], 0.5, [1 / 50, 1.0], 20)
    assert np.allclose(path[-1], np.array([3.0, -1.0]) * 0.5 ** 20)


def test_gradient_descent_and_momentum_rates_match_theory():
    for kappa in (4.0, 30.0):
        q = rotated_quadratic(0.4, kappa)
        path = L.preconditioned_descent(q, [1.0, 1.0], 2 / (1 + 1 / kappa), [1.0, 1.0], 60)
        err = np.linalg.norm(path, axis=1)
        assert L.measured_rate(err, 20, 60) == pytest.approx(L.gd_rate(kappa), rel=0.01)
    assert L.momentum_rate(16.0) == pytest.approx(3 / 5)
    assert L.gd_rate(1.0) == 0.0


def test_layer_statistics_shows_vanishing_and_preserved_signals():
    small = L.layer_statistics(10, 64, "tanh", "random_normal")  # stddev 0.05: too small for width 64
    he = L.layer_statistics(10, 64, "relu", "he_normal")
    assert small.activation_std[-1] < 1e-3 * small.activation_std[0]
    assert 0.5 < he.activation_std[-1] / he.activation_std[0] < 2
    assert he.gradient_norm.shape == (10,) and len(he.params) == 10
    assert not np.array_equal(he.params[0]["kernel"], he.params[1]["kernel"])  # a draw per layer


def test_interpolate_ends_and_middle():
    a, b = [{"w": np.zeros(2)}], [{"w": np.array([2.0, 4.0])}]
    assert np.array_equal(L.interpolate(a, b, 0)[0]["w"], a[0]["w"])
    assert np.array_equal(L.interpolate(a, b, 1)[0]["w"], b[0]["w"])
    assert L.interpolate(a, b, 0.25)[0]["w"].tolist() == [0.5, 1.0]


def test_rotated_race_momentum_beats_sgd_on_an_ill_conditioned_bowl():
    r = L.rotated_race(45.0, 100.0, steps=80)
    assert r.losses["Momentum"][-1] < r.losses["SGD"][-1]
    assert r.rates["Momentum"][1] == pytest.approx((9 / 11) ** 2)
    assert "lowest" in r.verdict and r.paths["Adam"].shape == (81, 2)


def test_lanczos_finds_the_extremes_in_few_products():
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.normal(size=(200, 200)))
    eig = np.concatenate([[-0.3], rng.uniform(-0.1, 1.0, 198), [5.0]])
    h = q @ np.diag(eig) @ q.T
    calls = []
    ritz = L.lanczos_eigenvalues(lambda v: calls.append(1) or h @ v, 200, 40)
    assert len(calls) == 40
    assert ritz[0] == pytest.approx(-0.3, rel=1e-3) and ritz[-1] == pytest.approx(5.0, rel=1e-6)
    assert ritz[0] >= eig.min() - 1e-12 and ritz[-1] <= eig.max() + 1e-12  # Ritz values lie inside the spectrum


def test_layer_statistics_kernel_gradients_equal_mlp_backward():
    from course_lib.backprop import MLP
    s = L.layer_statistics(4, 8, "tanh", "glorot_uniform", batch=5, seed=2)
    net = MLP((8,) * 5, activation="tanh", output_activation="tanh", loss="mean_squared_error")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 8))
    out, cache = net.forward(s.params, x)
    grads = net.backward(s.params, cache, rng.normal(size=out.shape) / 5)
    assert np.allclose(s.gradient_norm, [np.linalg.norm(g["kernel"]) for g in grads])
    assert s.backward_std.shape == (4,)


def test_backward_signal_explodes_with_a_large_relu_scale_and_vanishes_with_a_small_one():
    from course_lib.initializers import RandomNormal
    big = L.layer_statistics(10, 100, "relu", RandomNormal(stddev=1.0))
    small = L.layer_statistics(10, 100, "tanh", RandomNormal(stddev=0.01))
    # ReLU with Var(w) = 1: each layer back multiplies the signal by about sqrt(100 / 2) ≈ 7
    assert big.backward_std[0] / big.backward_std[-1] == pytest.approx(math.sqrt(50) ** 9, rel=0.5)
    assert small.backward_std[0] / small.backward_std[-1] < 1e-8


def test_rotated_race_loops_equal_course_lib_optimizers():
    from course_lib.descent import minimize
    from course_lib.optimizers import SGD, Adam
    from course_lib.stability import heavy_ball_tuning

    r = L.rotated_race(30.0, 50.0, steps=80)
    lr_m, beta, _ = heavy_ball_tuning(50.0)
    start = L.race_start(30.0)
    assert np.allclose(r.paths["SGD"][0], start) and np.linalg.norm(start) == pytest.approx(np.hypot(*L.RACE_START))
    for name, opt in (("SGD", SGD(2 / (1 + 1 / 50))), ("Momentum", SGD(lr_m, momentum=beta)), ("Adam", Adam(0.3))):
        ref = minimize(r.objective, start, opt, 80)
        # course_lib's optimizers round beta_1, beta_2 and momentum through float32, as Keras does; the loops
        # use the float64 values, which moves Adam's path by about 1e-5 (relative), the others by far less
        assert np.allclose(r.paths[name], ref.params, rtol=1e-4, atol=1e-4), name
        assert np.allclose(r.losses[name], ref.loss, rtol=1e-3, atol=1e-9), name
        assert not np.allclose(r.paths[name][1:], start), name  # the runs move


def test_rotated_race_turns_the_start_with_the_bowl():
    # SGD and momentum only see the gradient: with the start turned too, their losses do not depend on the angle
    races = [L.rotated_race(a, 200.0, steps=60) for a in (0.0, 30.0, 45.0)]
    for name in ("SGD", "Momentum"):
        for r in races[1:]:
            assert np.allclose(r.losses[name], races[0].losses[name], rtol=1e-9, atol=1e-300), name
    # Adam scales each coordinate: it does care
    assert not np.allclose(races[2].losses["Adam"], races[0].losses["Adam"], rtol=1e-2)


@pytest.mark.parametrize("h, label", [(np.diag([1.0, 2.0]), "minimum"), (np.diag([-1.0, -2.0]), "maximum"),
                                      ([[1.0, 2.0], [2.0, 1.0]], "saddle"), ([[1.0, 1.0], [1.0, 1.0]], "inconclusive"),
                                      (np.diag([2.0, 1.0, -1e-3]), "saddle")])
def test_classify_stationary_point(h, label):
    assert L.classify_stationary_point(h) == label


def test_classify_rejects_a_non_symmetric_matrix():
    with pytest.raises(ValueError, match="`hessian` must be a symmetric square matrix"):
        L.classify_stationary_point([[1.0, 2.0], [0.0, 1.0]])
