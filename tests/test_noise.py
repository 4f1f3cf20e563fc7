"""course_lib.noise: mini-batch gradient variance, the noise floor, decaying rates, data parallelism.

Numpy only: the derived quantities are checked against exact enumeration, closed forms and
seeded runs; the MirroredStrategy twin is tested with TensorFlow elsewhere.
"""

import itertools
import math

import numpy as np
import pytest

from course_lib import data, noise
from course_lib.schedules import InverseTimeDecay

X, Y = data.linear_regression()
THETA_STAR, LOSS_STAR = noise.linear_minimum(X, Y)
G_STAR = noise.linear_per_example_grads(THETA_STAR, X, Y)
H = noise.linear_hessian(X)


def test_per_example_gradients_average_to_the_keras_batch_gradient():
    theta = np.array([0.5, -1.0])
    g = noise.linear_per_example_grads(theta, X, Y)
    w, b = theta
    residual = w * X[:, 0] + b - Y[:, 0]
    assert g.shape == (100, 2)
    np.testing.assert_allclose(g.mean(axis=0), [2 * np.mean(residual * X[:, 0]), 2 * np.mean(residual)], rtol=1e-12)
    # and the least-squares minimum is where they average to zero
    np.testing.assert_allclose(G_STAR.mean(axis=0), 0.0, atol=1e-12)


def test_hessian_is_the_second_derivative_of_the_loss():
    theta, eps = np.array([1.0, 0.3]), 1e-4
    numeric = np.empty((2, 2))
    for j in range(2):
        d = np.zeros(2)
        d[j] = eps
        plus = noise.linear_per_example_grads(theta + d, X, Y).mean(axis=0)
        minus = noise.linear_per_example_grads(theta - d, X, Y).mean(axis=0)
        numeric[:, j] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(noise.linear_hessian(X), numeric, rtol=1e-7)


def test_softmax_per_example_gradients_match_central_differences():
    rng = np.random.default_rng(3)
    x, labels = rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])
    w, b = rng.normal(size=(3, 3)), rng.normal(size=3)

    def loss_i(w, b, i):
        z = x[i] @ w + b
        return np.log(np.exp(z - z.max()).sum()) + z.max() - z[labels[i]]

    g = noise.softmax_per_example_grads(w, b, x, labels)
    assert g.shape == (5, 12)
    eps = 1e-6
    for i in range(5):
        numeric = np.zeros((4, 3))
        for r, c in itertools.product(range(4), range(3)):
            wp, wm, bp, bm = w.copy(), w.copy(), b.copy(), b.copy()
            if r < 3:
                wp[r, c] += eps
                wm[r, c] -= eps
            else:
                bp[c] += eps
                bm[c] -= eps
            numeric[r, c] = (loss_i(wp, bp, i) - loss_i(wm, bm, i)) / (2 * eps)
        np.testing.assert_allclose(g[i].reshape(4, 3), numeric, atol=1e-7)


def test_minibatch_variance_is_exact_by_enumerating_every_batch():
    g = np.array([[1.0, 0.0], [3.0, 1.0], [-2.0, 4.0], [0.5, -1.0], [2.0, 2.0]])
    full = g.mean(axis=0)
    for b in range(1, 6):
        without = [np.sum((g[list(c)].mean(axis=0) - full) ** 2) for c in itertools.combinations(range(5), b)]
        assert noise.minibatch_variance(g, b) == pytest.approx(np.mean(without), rel=1e-12)
        with_ = [np.sum((g[list(c)].mean(axis=0) - full) ** 2) for c in itertools.product(range(5), repeat=b)]
        assert noise.minibatch_variance(g, b, replace=True) == pytest.approx(np.mean(with_), rel=1e-12)
    assert noise.minibatch_variance(g, 5) == 0.0  # the whole population: no noise


@pytest.mark.parametrize("batch_size", [1, 8, 50])
@pytest.mark.parametrize("replace", [False, True])
def test_sampled_variance_agrees_with_the_formula(batch_size, replace):
    predicted = noise.minibatch_variance(G_STAR, batch_size, replace=replace)
    measured = noise.sample_minibatch_variance(G_STAR, batch_size, samples=20000, replace=replace, seed=1)
    assert measured == pytest.approx(predicted, rel=0.04)


def test_noise_covariance_trace_is_the_minibatch_variance():
    for b in (1, 7, 100):
        assert np.trace(noise.noise_covariance(G_STAR, b)) == pytest.approx(noise.minibatch_variance(G_STAR, b))


def test_noise_floor_of_a_one_dimensional_quadratic_has_the_closed_form():
    lam, c, lr = 2.0, 0.3, 0.4
    assert noise.noise_floor(lam, c, lr) == pytest.approx(lr * c / (2 * (2 - lr * lam)), rel=1e-12)
    assert noise.noise_floor(lam, c, 2 / lam) == math.inf
    # for a diagonal problem the directions add up
    h, cov = np.diag([0.5, 3.0]), np.diag([0.2, 0.1])
    expected = sum(lr * ck / (2 * (2 - lr * lk)) for lk, ck in [(0.5, 0.2), (3.0, 0.1)])
    assert noise.noise_floor(h, cov, lr) == pytest.approx(expected, rel=1e-12)


def test_exact_floor_of_least_squares_agrees_with_runs_and_exceeds_the_additive_model():
    for lr, b in [(0.2, 4), (0.5, 1)]:
        exact = noise.linear_noise_floor(X, Y, lr, b)
        additive = noise.noise_floor(H, noise.noise_covariance(G_STAR, b), lr)
        runs = noise.minibatch_sgd(X, Y, THETA_STAR, lr, b, 2000, chains=40, seed=1)
        measured, stderr = noise.measured_noise_floor(runs, LOSS_STAR, 400)
        assert measured == pytest.approx(exact, rel=0.05), (lr, b, measured, exact, stderr)
        assert exact > additive
    assert noise.linear_noise_floor(X, Y, 0.3, 100) == 0.0
    # the noise of single examples makes lr 0.7 unstable, below the noiseless limit 2/L = 0.756
    assert 0.7 < 2 / np.linalg.eigvalsh(H)[-1]
    assert noise.linear_noise_floor(X, Y, 0.7, 1) == math.inf
    assert noise.linear_noise_floor(X, Y, 0.7, 4) < math.inf


def test_floor_grows_with_the_rate_and_shrinks_with_the_batch():
    floors = np.array([[noise.linear_noise_floor(X, Y, lr, b) for b in (1, 4, 16)] for lr in (0.05, 0.2, 0.5)])
    assert np.all(np.diff(floors, axis=0) > 0) and np.all(np.diff(floors, axis=1) < 0)


def test_full_batch_sgd_is_plain_gradient_descent():
    lr, steps = 0.3, 25
    runs = noise.minibatch_sgd(X, Y, [0.0, 0.0], lr, 100, steps, chains=2, seed=4)
    theta = np.zeros(2)
    for _ in range(steps):
        theta = theta - lr * noise.linear_per_example_grads(theta, X, Y).mean(axis=0)
    np.testing.assert_allclose(runs.theta[-1], [theta, theta], rtol=1e-12)
    np.testing.assert_allclose(runs.loss[-1], noise.linear_loss(theta, X, Y), rtol=1e-12)


def test_sgd_runs_are_seeded_and_take_schedules():
    a = noise.minibatch_sgd(X, Y, [0.0, 0.0], 0.1, 5, 30, chains=3, seed=2)
    b = noise.minibatch_sgd(X, Y, [0.0, 0.0], 0.1, 5, 30, chains=3, seed=2)
    np.testing.assert_array_equal(a.theta, b.theta)
    sched = noise.power_decay(0.2, 10, 1.0)
    c = noise.minibatch_sgd(X, Y, [0.0, 0.0], sched, 5, 30, chains=3, seed=2)
    np.testing.assert_allclose(c.learning_rates[:, 0], [sched(t) for t in range(30)])


def test_power_decay_of_power_one_is_keras_inverse_time_decay():
    sched, keras_form = noise.power_decay(0.5, 20, 1.0), InverseTimeDecay(0.5, 20, 1.0)
    for t in (0, 1, 7, 100, 1000):
        assert sched(t) == pytest.approx(float(keras_form(t)), rel=1e-6)
    assert noise.power_decay(1.0, 1, 0.5)(3) == pytest.approx(0.5)


def test_iterate_average_is_the_running_mean():
    thetas = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 8.0], [7.0, 0.0]])
    np.testing.assert_allclose(noise.iterate_average(thetas), [[1, 2], [2, 2], [3, 4], [4, 3]])
    np.testing.assert_allclose(noise.iterate_average(thetas, start=2), [[5, 8], [6, 4]])


def test_steps_to_stay_below_ignores_a_touch_that_does_not_last():
    assert noise.steps_to_stay_below([5.0, 0.5, 2.0, 0.5, 0.4], 1.0) == 3
    assert noise.steps_to_stay_below([0.5, 0.4], 1.0) == 0
    assert noise.steps_to_stay_below([5.0, 0.5, 2.0], 1.0) is None
    chains = np.array([[5.0, 5.0], [0.5, 0.5], [2.0, 0.5], [0.5, 3.0]])
    np.testing.assert_array_equal(noise.steps_to_stay_below(chains, 1.0), [3, -1])


def test_critical_batch_fit_recovers_a_known_curve():
    b = np.array([1, 2, 4, 8, 16, 32, 64, 128])
    fit = noise.fit_critical_batch(b, 200 * (1 + 12.0 / b))
    assert fit.min_steps == pytest.approx(200) and fit.critical_batch == pytest.approx(12.0)
    with pytest.raises(ValueError, match="batch_sizes"):
        noise.fit_critical_batch([1], [3])


def test_critical_batch_fit_weighs_relative_errors():
    # 10 % noise on every point: a relative fit stays close at both ends of the curve
    b = np.array([1, 2, 4, 8, 16, 32, 64, 128])
    true = 20 * (1 + 25.0 / b)
    noisy = true * np.array([1.1, 0.9, 1.1, 0.9, 1.1, 0.9, 1.1, 0.9])
    fit = noise.fit_critical_batch(b, noisy)
    assert np.max(np.abs(fit.predicted / noisy - 1)) < 0.15
    assert fit.min_steps == pytest.approx(20, rel=0.15) and fit.critical_batch == pytest.approx(25, rel=0.2)


def test_steps_to_target_halves_with_the_batch_then_levels_off():
    target = 1.5 * LOSS_STAR
    best = noise.steps_to_target(X, Y, [1, 4, 64, 128], np.geomspace(0.01, 0.7, 13), target, chains=4)
    assert np.all(np.isfinite(best.steps))
    assert 2.5 < best.steps[0] / best.steps[1] < 5.5         # 4 times the batch: about a quarter of the steps
    assert best.steps[2] / best.steps[3] < 1.3                # doubling a large batch barely helps
    assert best.learning_rate[0] < best.learning_rate[1] < best.learning_rate[2]  # the best rate grows with B
    assert best.learning_rate[3] < 2 / np.linalg.eigvalsh(H)[-1]
    # a target below the minimum is never reached
    assert np.all(np.isinf(noise.steps_to_target(X, Y, [8], [0.1], 0.5 * LOSS_STAR, chains=2,
                                                  max_examples=800).steps))
    with pytest.raises(ValueError, match="learning_rates"):
        noise.steps_to_target(X, Y, [8], [0.0], target)
    with pytest.raises(ValueError, match="batch_sizes"):
        noise.steps_to_target(X, Y, [0], [0.1], target)


def test_sgd_losses_from_moments_equal_the_loss_over_the_data():
    runs = noise.minibatch_sgd(X, Y, [0.0, 0.0], [0.1, 0.5], 5, 30, chains=2, seed=4)
    direct = [[noise.linear_loss(theta, X, Y) for theta in step] for step in runs.theta]   # one point at a time
    np.testing.assert_allclose(runs.loss, direct, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(noise.linear_loss(runs.theta, X, Y), direct, rtol=1e-10, atol=1e-13)


def test_explore_agrees_with_the_floor_and_says_what_happens():
    view = noise.explore(0.3, 10)
    assert view.theta.shape == (301, 2) and view.excess.shape == (301,)
    assert view.measured / view.floor == pytest.approx(1.0, abs=0.15)
    assert "hovers" in view.verdict and f"{view.floor:.2e}" in view.verdict
    assert "unstable" in noise.explore(0.74, 1).verdict and "a larger batch" in noise.explore(0.74, 1).verdict
    assert noise.explore(0.74, 1).floor == np.inf
    assert "diverges" in noise.explore(0.8, 100).verdict        # above 2/λmax even without noise
    assert view.learning_rate == 0.3 and view.batch_size == 10
    whole = noise.explore(0.5, 100)
    assert "no noise" in whole.verdict and whole.excess[-1] < 1e-12
    slow = noise.explore(0.02, 10)
    assert "on its way down" in slow.verdict and slow.measured > 10 * slow.floor
    # a larger batch at the same rate hovers lower
    assert noise.explore(0.3, 40).measured < noise.explore(0.3, 10).measured
    with pytest.raises(ValueError, match="learning_rate"):
        noise.explore(0.0, 10)
    with pytest.raises(ValueError, match="batch_size"):
        noise.explore(0.1, 101)


def test_linear_scaling_with_warmup_over_the_same_examples():
    small, big = noise.scaled_learning_rate(0.1, 32, 32, 3200), noise.scaled_learning_rate(0.1, 32, 256, 3200)
    assert small.peak == pytest.approx(0.1) and big.peak == pytest.approx(0.8)
    assert small.warmup_steps == 100 and big.warmup_steps == 13
    assert big(0) == pytest.approx(0.8 / 13) and big(12) == pytest.approx(0.8) and big(500) == pytest.approx(0.8)
    assert noise.scaled_learning_rate(0.1, 32, 64)(0) == pytest.approx(0.2)


def test_all_reduce_of_shard_gradients_is_the_whole_batch_gradient():
    theta = np.array([0.7, 0.1])
    xb, yb = X[:24], Y[:24]
    shards = noise.shard(xb, yb, 4)
    assert [len(s[0]) for s in shards] == [6, 6, 6, 6]
    per_replica = [noise.linear_per_example_grads(theta, sx, sy).mean(axis=0) for sx, sy in shards]
    reduced = noise.all_reduce_mean(per_replica)
    whole = noise.linear_per_example_grads(theta, xb, yb).mean(axis=0)
    assert len(reduced) == 4
    for r in reduced:
        np.testing.assert_allclose(r, whole, rtol=1e-12)
    tree = noise.all_reduce_mean([{"kernel": np.ones((2, 1)), "bias": np.zeros(1)},
                                  {"kernel": 3 * np.ones((2, 1)), "bias": np.ones(1)}])
    np.testing.assert_array_equal(tree[0]["kernel"], 2 * np.ones((2, 1)))
    np.testing.assert_array_equal(tree[1]["bias"], [0.5])


@pytest.mark.parametrize("call, match", [
    (lambda: noise.minibatch_variance(G_STAR, 0), "batch_size"),
    (lambda: noise.minibatch_variance(G_STAR, 101), "batch_size"),
    (lambda: noise.sample_minibatch_variance(G_STAR, 4, samples=1), "samples"),
    (lambda: noise.minibatch_sgd(X, Y, [0, 0], -0.1, 4, 10), "learning_rate"),
    (lambda: noise.minibatch_sgd(X, Y, [0, 0], 0.1, 0, 10), "batch_size"),
    (lambda: noise.minibatch_sgd(X, Y[:50], [0, 0], 0.1, 4, 10), "same number of examples"),
    (lambda: noise.minibatch_sgd(X, Y, [0, 0, 0], 0.1, 4, 10), "theta"),
    (lambda: noise.noise_floor(H, np.eye(3), 0.1), "covariance"),
    (lambda: noise.noise_floor(H, np.eye(2), -0.1), "learning_rate"),
    (lambda: noise.noise_floor([[1.0, 0.0], [0.0, -1.0]], np.eye(2), 0.1), "positive definite"),
    (lambda: noise.linear_noise_floor(X, Y, 0.1, 0), "batch_size"),
    (lambda: noise.shard(X[:10], Y[:10], 3), "replicas"),
    (lambda: noise.shard(X[:10], Y[:10], 0), "replicas"),
    (lambda: noise.shard(X[:10], Y[:9], 2), "same number"),
    (lambda: noise.all_reduce_mean([np.ones(2), np.ones(3)]), "mismatched shapes"),
    (lambda: noise.all_reduce_mean([{"a": np.ones(2)}, {"b": np.ones(2)}]), "same keys"),
    (lambda: noise.power_decay(0.1, 0, 1.0), "decay_steps"),
    (lambda: noise.scaled_learning_rate(0.1, 32, 0), "batch_size"),
    (lambda: noise.steps_to_stay_below([1.0], float("nan")), "target"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: noise.shard(X[:10], Y[:10], 2.5), "replicas"),
    (lambda: noise.all_reduce_mean([]), "per_replica"),
    (lambda: noise.minibatch_variance(G_STAR, 2.5), "batch_size"),
])
def test_wrong_types_name_the_argument(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_linear_loss_is_lesson_01s_linear_mse_and_its_batched_twin_agrees():
    from course_lib.descent import linear_mse
    rng = np.random.default_rng(8)
    points = np.concatenate([rng.normal([3.0, 2.0], 2.0, size=(40, 2)), [THETA_STAR, [0.0, 0.0]]])
    one_by_one = []
    for w, b in points:
        keras_form, _ = linear_mse({"kernel": np.array([[w]]), "bias": np.array([b])}, X, Y)
        assert noise.linear_loss([w, b], X, Y) == keras_form            # the single-point path is linear_mse
        one_by_one.append(keras_form)
    np.testing.assert_allclose(noise.linear_loss(points, X, Y), one_by_one, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(noise.linear_loss(points.reshape(6, 7, 2), X, Y), np.reshape(one_by_one, (6, 7)),
                               rtol=1e-11, atol=1e-14)


def test_mean_square_limit_is_where_the_noise_floor_becomes_infinite():
    gd_limit = 2 / np.linalg.eigvalsh(H)[-1]
    limits = [noise.mean_square_limit(X, b) for b in (1, 4, 16, 100)]
    assert limits == sorted(limits) and limits[-1] == pytest.approx(gd_limit, rel=1e-6)   # B = N: plain GD
    assert limits[0] < 0.9 * gd_limit
    for b, limit in zip((1, 4, 16), limits):
        assert np.isfinite(noise.linear_noise_floor(X, Y, limit - 1e-4, b))
        assert noise.linear_noise_floor(X, Y, limit + 1e-4, b) == np.inf
    # with replacement a batch of 100 is still noisy, so it stays below plain GD's limit
    assert noise.mean_square_limit(X, 100, replace=True) < gd_limit - 1e-4
    with pytest.raises(ValueError, match="batch_size"):
        noise.mean_square_limit(X, 0)


def test_mean_square_limit_matches_runs():
    # just below the limit the runs' mean stays bounded; well above it most runs blow up
    limit = noise.mean_square_limit(X, 1)
    below = noise.minibatch_sgd(X, Y, THETA_STAR, 0.6, 1, 1500, chains=100, seed=2)
    above = noise.minibatch_sgd(X, Y, THETA_STAR, limit + 0.06, 1, 1500, chains=100, seed=2)
    assert np.mean(below.loss[-1] > 1) < 0.1 and np.mean(above.loss[-1] > 1) > 0.5


def test_steps_to_target_keeps_only_the_mean_curves():
    # the per-rate mean curves equal minibatch_sgd's losses averaged over the chains, bit for bit
    lrs = np.array([0.1, 0.4])
    curves = noise._mean_loss_curves(X, Y, lrs, 8, 60, 3, 5)
    runs = noise.minibatch_sgd(X, Y, [0.0, 0.0], np.repeat(lrs, 3), 8, 60, chains=6, seed=5, replace=True)
    np.testing.assert_array_equal(curves, runs.loss.reshape(61, 2, 3).mean(axis=2))


def test_one_example_steps_are_plain_sgd_on_the_drawn_examples():
    # B = 1 takes its own, shorter path through the loop: check it against SGD written out by hand
    steps, chains, lr = 50, 3, np.array([0.1, 0.3, 0.6])
    runs = noise.minibatch_sgd(X, Y, [0.0, 0.0], lr, 1, steps, chains=chains, seed=9)
    idx = np.random.default_rng(9).integers(0, len(X), (steps, chains, 1))[:, :, 0]   # the same draws
    theta = np.zeros((chains, 2))
    x, y = X[:, 0].astype(np.float64), Y[:, 0].astype(np.float64)
    for t in range(steps):
        xi, yi = x[idx[t]], y[idx[t]]
        residual = theta[:, 0] * xi + theta[:, 1] - yi
        theta = theta - (2 * lr)[:, None] * np.stack([residual * xi, residual], axis=1)
        np.testing.assert_allclose(runs.theta[t + 1], theta, rtol=1e-13, atol=1e-15)
