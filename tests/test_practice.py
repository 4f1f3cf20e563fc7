"""course_lib.practice: the range test, update ratios, clipping, L2 against weight decay, curvature, search.

Numpy only.  Each function is checked against a closed form or an independent computation.
"""

import math

import numpy as np
import pytest

from course_lib import practice
from course_lib.backprop import MLP
from course_lib.descent import linear_mse
from course_lib.optimizers import SGD, Adam, AdamW

X = np.linspace(0, 1, 40)[:, None]
Y = 3 * X + 2
P0 = {"kernel": np.zeros((1, 1)), "bias": np.zeros(1)}


def _leaves_close(a, b, **kw):
    for u, v in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        if isinstance(u, dict):
            for k in u:
                np.testing.assert_allclose(u[k], v[k], **kw)
        else:
            np.testing.assert_allclose(u, v, **kw)


def test_chance_loss_is_the_cross_entropy_of_uniform_logits():
    net = MLP((3, 10), activation=())
    params = [{"kernel": np.zeros((3, 10)), "bias": np.zeros(10)}]
    loss = net.loss(params, np.ones((5, 3)), np.arange(5))
    assert practice.chance_loss(10) == pytest.approx(loss, rel=1e-12)
    with pytest.raises(ValueError, match="classes"):
        practice.chance_loss(1)


def test_log_uniform_puts_the_same_share_in_every_decade():
    x = practice.log_uniform(1e-5, 1.0, size=200_000, seed=3)
    shares = np.histogram(np.log10(x), bins=5, range=(-5, 0))[0] / x.size
    np.testing.assert_allclose(shares, 0.2, atol=0.005)
    assert isinstance(practice.log_uniform(1e-3, 1.0), float)
    with pytest.raises(ValueError, match="low"):
        practice.log_uniform(0.0, 1.0)
    with pytest.raises(ValueError, match="high"):
        practice.log_uniform(1.0, 0.5)


def test_log_uniform_accepts_a_generator_and_advances_it():
    rng = np.random.default_rng(0)
    a, b = practice.log_uniform(1e-3, 1, 3, rng), practice.log_uniform(1e-3, 1, 3, rng)
    assert not np.allclose(a, b)
    np.testing.assert_allclose(a, practice.log_uniform(1e-3, 1, 3, 0))


def test_log_grid_and_best_so_far():
    np.testing.assert_allclose(np.log10(practice.log_grid(1e-4, 1.0, 5)), [-4, -3, -2, -1, 0])
    np.testing.assert_array_equal(practice.best_so_far([5, np.inf, 4, np.nan, 6, 1]), [5, 5, 4, 4, 4, 1])
    with pytest.raises(ValueError, match="losses"):
        practice.best_so_far([])


def test_random_search_tries_draws_inside_the_space_and_records_the_best():
    seen = []

    def objective(lr, decay):
        seen.append((lr, decay))
        return (math.log10(lr) + 2) ** 2 + (math.log10(decay) + 4) ** 2

    r = practice.random_search(objective, {"lr": (1e-4, 1.0), "decay": (1e-6, 1e-2)}, trials=30, seed=1)
    assert len(seen) == 30 and [(c["lr"], c["decay"]) for c in r.configs] == seen
    assert all(1e-4 <= lr <= 1 and 1e-6 <= d <= 1e-2 for lr, d in seen)
    np.testing.assert_array_equal(r.best, np.minimum.accumulate(r.losses))
    assert objective(**r.best_config) == r.best[-1]


def test_random_search_records_a_diverged_trial_as_inf():
    r = practice.random_search(lambda lr: np.nan if lr > 0.1 else lr, {"lr": (1e-3, 1.0)}, trials=20, seed=0)
    assert np.all(np.isinf(r.losses[[c["lr"] > 0.1 for c in r.configs]]))


def test_grid_search_tries_every_combination_once_and_a_seed_only_reorders():
    space = {"a": (1.0, 1000.0), "b": (0.1, 10.0)}
    r = practice.grid_search(lambda a, b: a * b, space, points=4)
    assert len(r.configs) == 16
    assert sorted({c["a"] for c in r.configs}) == pytest.approx([1, 10, 100, 1000])
    shuffled = practice.grid_search(lambda a, b: a * b, space, points=4, seed=0)
    assert shuffled.configs != r.configs
    as_pairs = [sorted(tuple(c.values()) for c in res.configs) for res in (shuffled, r)]
    assert as_pairs[0] == as_pairs[1]
    assert practice.grid_search(lambda a: a, {"a": (1.0, 100.0)}, points=1).configs == [{"a": pytest.approx(10.0)}]


@pytest.mark.parametrize("space, match", [({}, "space"), ({"a": (1.0,)}, "pair"), ({"a": (0.0, 1.0)}, "low"),
                                          ({"a": (1.0, 0.5)}, "high")])
def test_search_spaces_are_checked(space, match):
    with pytest.raises((ValueError, TypeError), match=match):
        practice.random_search(lambda **k: 0.0, space, trials=2)


def test_range_test_rates_grow_geometrically_and_stop_at_the_blow_up():
    t = practice.lr_range_test(linear_mse, P0, X, Y, min_lr=1e-3, max_lr=10.0, steps=80)
    full = np.geomspace(1e-3, 10.0, 80)
    np.testing.assert_allclose(t.rates, full[:len(t.rates)])
    assert t.blowup_rate is not None and len(t.rates) < 80
    # least squares on x in [0, 1]: lambda_max of the Hessian 2 E[[x², x], [x, 1]]
    lam = np.linalg.eigvalsh(2 * np.array([[np.mean(X ** 2), np.mean(X)], [np.mean(X), 1.0]]))[-1]
    assert 2 / lam < t.blowup_rate       # full-batch descent on a quadratic cannot blow up below 2/λmax
    assert t.smoothed[list(t.rates).index(t.best_rate)] < t.losses[0] / 100
    assert t.suggestion == t.best_rate / 10
    assert t.smoothed[0] == pytest.approx(t.losses[0])   # bias-corrected: the first value is the loss itself


def test_range_test_records_the_loss_each_update_was_computed_from():
    t = practice.lr_range_test(linear_mse, P0, X, Y, min_lr=1e-3, max_lr=1e-2, steps=5, beta=0.0)
    params, opt = P0, SGD(learning_rate=lambda k: np.geomspace(1e-3, 1e-2, 5)[k])
    state = opt.init(params)
    for k in range(5):
        loss, grads = linear_mse(params, X, Y)
        assert t.losses[k] == pytest.approx(loss, rel=1e-12)
        params, state = opt.step(params, grads, state)
    np.testing.assert_allclose(t.smoothed, t.losses)       # beta = 0: no smoothing
    assert t.blowup_rate is None


@pytest.mark.parametrize("kwargs, match", [(dict(min_lr=0.0), "min_lr"), (dict(max_lr=1e-5), "max_lr"),
                                           (dict(steps=1), "steps"), (dict(beta=1.0), "beta"),
                                           (dict(stop_factor=1.0), "stop_factor"), (dict(optimizer=3), "optimizer")])
def test_range_test_arguments_are_checked(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        practice.lr_range_test(linear_mse, P0, X, Y, **kwargs)


def test_update_ratios_per_parameter():
    before = [{"kernel": np.array([3.0, 4.0]), "bias": np.array([1.0])}]
    after = [{"kernel": np.array([3.0, 4.01]), "bias": np.array([0.5])}]
    r = practice.update_ratios(before, after)
    assert r[0]["kernel"] == pytest.approx(0.01 / 5) and r[0]["bias"] == pytest.approx(0.5)
    assert math.isnan(practice.update_ratios(np.zeros(2), np.ones(2)))
    with pytest.raises(ValueError, match="after"):
        practice.update_ratios([np.ones(2)], [np.ones(3)])


def test_clip_by_global_norm_scales_every_gradient_by_one_factor():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    norm = math.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
    clipped, measured = practice.clip_by_global_norm(grads, norm / 2)
    assert measured == pytest.approx(norm)
    for c, g in zip(clipped, grads):
        np.testing.assert_allclose(c, g / 2)
    same, _ = practice.clip_by_global_norm(grads, 2 * norm)       # under the limit: unchanged
    for c, g in zip(same, grads):
        np.testing.assert_array_equal(c, g)
    nan, _ = practice.clip_by_global_norm([np.array([np.inf, 1.0])], 1.0)
    assert np.all(np.isnan(nan[0]))
    with pytest.raises(ValueError, match="clip_norm"):
        practice.clip_by_global_norm(grads, 0.0)


def test_clip_by_global_norm_is_what_global_clipnorm_does_inside_the_optimizer():
    rng = np.random.default_rng(1)
    params = [rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=2).astype(np.float32)]
    grads = [10 * rng.normal(size=(3, 2)).astype(np.float32), 10 * rng.normal(size=2).astype(np.float32)]
    inside, _ = SGD(0.1, global_clipnorm=1.0).step(params, grads, SGD(0.1).init(params))
    clipped, _ = practice.clip_by_global_norm(grads, 1.0)
    outside, _ = SGD(0.1).step(params, clipped, SGD(0.1).init(params))
    for a, b in zip(inside, outside):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_l2_gradients_are_the_gradient_of_the_penalty():
    rng = np.random.default_rng(2)
    params, grads = [rng.normal(size=3), rng.normal(size=2)], [rng.normal(size=3), rng.normal(size=2)]
    out = practice.l2_gradients(grads, params, 0.3)
    eps = 1e-6
    for i, w in enumerate(params):
        for j in range(w.size):
            up = [p.copy() for p in params]
            up[i][j] += eps
            down = [p.copy() for p in params]
            down[i][j] -= eps
            numeric = (practice.l2_penalty(up, 0.3) - practice.l2_penalty(down, 0.3)) / (2 * eps)
            assert out[i][j] - grads[i][j] == pytest.approx(numeric, rel=1e-6)
    with pytest.raises(ValueError, match="l2"):
        practice.l2_gradients(grads, params, -1.0)


def test_l2_with_sgd_is_weight_decay_with_twice_the_coefficient_but_not_with_adam():
    net = MLP((4, 5, 3), activation="relu")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 4)), rng.integers(0, 3, 20)
    l2 = 0.05
    gaps = []
    for opt_l2, opt_wd in [(SGD(0.1), SGD(0.1, weight_decay=2 * l2)), (Adam(0.01), AdamW(0.01, weight_decay=2 * l2))]:
        a = practice.train(net.loss_and_grad, net.init(0), x, y, opt_l2, steps=50, batch_size=10, l2=l2)
        b = practice.train(net.loss_and_grad, net.init(0), x, y, opt_wd, steps=50, batch_size=10)
        gap = max(float(np.max(np.abs(u - v))) for u, v in zip(
            [leaf for d in a.params for leaf in d.values()], [leaf for d in b.params for leaf in d.values()]))
        gaps.append(gap)
    assert gaps[0] < 1e-7 and gaps[1] > 1e-3, gaps   # SGD: float rounding only; Adam: a different method


def test_hessian_vector_products_and_the_top_eigenvalue_of_a_quadratic():
    rng = np.random.default_rng(0)
    q = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    eigenvalues = np.array([0.1, 0.5, 1.0, 2.0, 3.0, 9.0])
    a = q @ np.diag(eigenvalues) @ q.T
    v = rng.normal(size=6)
    np.testing.assert_allclose(practice.hessian_vector_product(lambda w: a @ w + 1, np.ones(6), v), a @ v, rtol=1e-8)
    top = practice.top_hessian_eigenvalue(lambda w: a @ w, np.zeros(6), iterations=200, tolerance=1e-12)
    assert top.eigenvalue == pytest.approx(9.0, rel=1e-8)
    np.testing.assert_allclose(np.abs(top.vector), np.abs(q[:, -1]), atol=1e-6)
    with pytest.raises(ValueError, match="vector"):
        practice.hessian_vector_product(lambda w: w, np.ones(2), np.zeros(2))
    warm = practice.top_hessian_eigenvalue(lambda w: a @ w, np.zeros(6), tolerance=1e-9, start=top.vector)
    assert len(warm.history) <= 2 and warm.eigenvalue == pytest.approx(9.0, rel=1e-8)   # started at the answer
    flipped = practice.top_hessian_eigenvalue(lambda w: -a @ w, np.zeros(6), iterations=200, tolerance=1e-12)
    assert flipped.eigenvalue == pytest.approx(-9.0, rel=1e-8)          # the largest *size*: a negative one
    with pytest.raises(ValueError, match="start"):
        practice.top_hessian_eigenvalue(lambda w: a @ w, np.zeros(6), start=np.ones(5))


def test_top_eigenvalue_of_a_network_matches_the_full_hessian():
    net = MLP((3, 4, 2), activation="tanh")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    params = net.init(0)
    flat = np.concatenate([leaf.ravel() for d in params for leaf in d.values()])

    def unflat(v):
        out, i = [], 0
        for d in params:
            layer = {}
            for k, leaf in d.items():
                layer[k] = v[i:i + leaf.size].reshape(leaf.shape)
                i += leaf.size
            out.append(layer)
        return out

    def grad_flat(v):
        g = net.loss_and_grad(unflat(v), x, y)[1]
        return np.concatenate([leaf.ravel() for d in g for leaf in d.values()])

    h = np.stack([(grad_flat(flat + 1e-5 * e) - grad_flat(flat - 1e-5 * e)) / 2e-5 for e in np.eye(flat.size)])
    eig = np.linalg.eigvalsh((h + h.T) / 2)
    largest = eig[np.argmax(np.abs(eig))]
    top = practice.top_hessian_eigenvalue(lambda p: net.loss_and_grad(p, x, y)[1], params, iterations=500,
                                          tolerance=1e-10)
    assert top.eigenvalue == pytest.approx(largest, rel=1e-4)


def test_accumulate_equals_one_call_on_all_examples():
    net = MLP((4, 6, 3), activation="relu")
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(50, 4)), rng.integers(0, 3, 50)
    params = net.init(0)
    whole, chunked = net.loss_and_grad(params, x, y), practice.accumulate(net.loss_and_grad, 16)(params, x, y)
    assert chunked[0] == pytest.approx(whole[0], rel=1e-12)
    _leaves_close(chunked[1], whole[1], rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="chunk_size"):
        practice.accumulate(net.loss_and_grad, 0)


def test_train_measures_the_curves_and_the_ratios_of_the_measured_updates():
    p = {"kernel": np.ones((1, 1)), "bias": np.ones(1)}
    run = practice.train(linear_mse, p, X, Y, SGD(0.1), steps=20, batch_size=8, eval_every=5, x_val=X, y_val=Y)
    np.testing.assert_array_equal(run.eval_steps, [0, 5, 10, 15, 20])
    np.testing.assert_allclose(run.train_loss, run.val_loss)     # the same data for both
    assert run.ratios.shape == (4, 2) and np.all(run.ratios > 0)
    assert run.grad_norms.shape == (20,) and np.all(run.grad_norms > 0)
    assert run.diverged_at is None and np.all(np.diff(run.train_loss) < 0)
    blown = practice.train(linear_mse, p, X, Y, SGD(50.0), steps=200, batch_size=8)
    assert blown.diverged_at is not None and all(np.isfinite(v).all() for v in blown.params.values())
    with pytest.raises(ValueError, match="batch_size"):
        practice.train(linear_mse, p, X, Y, SGD(0.1), steps=5, batch_size=41)
