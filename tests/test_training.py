"""course_lib.training without TensorFlow: the shipped digits, the batches and the study tools.
The Keras model and the training steps are tested in test_training_keras.py."""

import numpy as np
import pytest

from course_lib import optimizers, schedules, training
from course_lib.moving_averages import ExponentialMovingAverage


@pytest.fixture(scope="module")
def digits():
    return training.load_digits(seed=0)


# --------------------------------------------------------------------------- data
def test_the_shipped_digits_are_the_uci_test_set():
    with np.load(training.DIGITS_FILE) as raw:
        pixels, labels = raw["pixels"], raw["labels"]
    assert pixels.shape == (1797, 64) and pixels.dtype == np.uint8 and pixels.max() == 16
    assert labels.shape == (1797,) and labels.dtype == np.uint8
    # the published class sizes of the 1797 test images, digits 0 to 9
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert labels[:10].tolist() == list(range(10))  # the file starts 0, 1, ..., 9
    # every image is drawn on the 8x8 grid with ink somewhere, and no two classes share a mean image
    assert (pixels.sum(axis=1) > 0).all()
    means = np.stack([pixels[labels == k].mean(axis=0) for k in range(10)])
    assert np.min(np.linalg.norm(means[:, None] - means[None], axis=-1) + np.eye(10) * 1e9) > 5


def test_digits_split_is_seeded_complete_and_standardised(digits):
    with np.load(training.DIGITS_FILE) as raw:
        pixels = raw["pixels"].astype(np.float64)
    assert len(digits.x_train) + len(digits.x_val) == len(pixels) == 1797
    assert len(digits.x_val) == round(0.25 * 1797)
    assert digits.x_train.dtype == np.float32 and digits.x_train.shape[1] == 64
    assert sorted(np.unique(digits.y_train)) == list(range(10))
    # the two sets together are a permutation of the raw images (undo the scaling)
    back = np.concatenate([digits.x_train, digits.x_val]) * digits.std + digits.mean
    assert np.allclose(np.sort(back.sum(axis=1)), np.sort(pixels.sum(axis=1)), atol=1e-3)
    varying = pixels.std(axis=0) > 0
    assert np.allclose(digits.x_train.mean(axis=0), 0, atol=1e-5)
    moving = digits.x_train.std(axis=0)[digits.std != 1.0]
    assert np.allclose(moving, 1, atol=1e-4) and varying.sum() >= moving.size
    again, other = training.load_digits(seed=0), training.load_digits(seed=1)
    assert np.array_equal(again.x_val, digits.x_val) and np.array_equal(again.y_train, digits.y_train)
    assert not np.array_equal(other.y_val, digits.y_val)


def test_digits_bad_fraction_is_named():
    with pytest.raises(ValueError, match="validation_fraction"):
        training.load_digits(validation_fraction=1.0)


def test_batches_are_full_seeded_epochs():
    out = training.batches(10, 3, steps=7, seed=0)
    assert len(out) == 7 and all(len(b) == 3 for b in out)
    first_epoch = np.concatenate(out[:3])
    assert len(set(first_epoch.tolist())) == 9  # no repeats inside an epoch; the remainder is dropped
    assert all(np.array_equal(a, b) for a, b in zip(out, training.batches(10, 3, steps=7, seed=0)))
    with pytest.raises(ValueError, match="batch_size"):
        training.batches(10, 11, steps=1)


# --------------------------------------------------------------------------- study tools
def test_steps_to_target():
    steps, losses = np.array([0, 10, 20, 30]), np.array([2.0, 0.5, 0.09, 0.2])
    assert training.steps_to_target(steps, losses, 0.1) == 20
    assert training.steps_to_target(steps, losses, 0.5) == 10
    assert training.steps_to_target(steps, losses, 0.01) is None
    with pytest.raises(ValueError, match="same length"):
        training.steps_to_target(steps, losses[:2], 0.1)


def _fake_run(label, val_acc, losses, ema=True):
    n = len(losses)
    curve = np.asarray(losses, float)
    return training.Run(label, np.arange(n) * 10, curve, curve, np.full(n, val_acc),
                        curve * 2 if ema else None, curve if ema else None,
                        np.full(n, val_acc + 0.01) if ema else None, np.zeros(n), [], None, 1.5)


def test_results_table_lists_every_run():
    runs = {"SGD": _fake_run("SGD", 0.9, [2, 1, 0.5]), "Adam": _fake_run("Adam", 0.95, [2, 0.05, 0.01])}
    text = training.results_table(runs, target_loss=0.1, ema=True, wall_time=True)
    lines = text.splitlines()
    assert len(lines) == 4 and "steps to loss<=0.1" in lines[0]
    assert lines[2].startswith("SGD") and "0.9000" in lines[2] and "never" in lines[2] and "0.9100" in lines[2]
    assert lines[3].startswith("Adam") and " 10 " in lines[3] + " " and "1.50s" in lines[3]
    assert "wall" not in training.results_table(runs, target_loss=0.1)
    with pytest.raises(ValueError, match="no EMA"):
        training.results_table({"x": _fake_run("x", 0.5, [1.0], ema=False)}, 0.1, ema=True)



# --------------------------------------------------------------------------- the numpy trainer
def _manual_run(optimizer, data, weights, steps, seed, batch_size=32):
    """The loop train_numpy stands for, written plainly: one network, a list of tensors, MLP's gradients."""
    state = optimizer.init(weights)
    for idx in training.batches(len(data.x_train), batch_size, steps, seed):
        _, grads = training.numpy_loss_and_grads(weights, data.x_train[idx], data.y_train[idx])
        weights, state = optimizer.step(weights, grads, state)
    return weights


def test_numpy_initial_weights_are_seeded_glorot_with_zero_biases():
    w = training.numpy_initial_weights(seed=3)
    assert [a.shape for a in w] == [(64, 64), (64,), (64, 32), (32,), (32, 10), (10,)]
    assert all(a.dtype == np.float32 for a in w)
    assert sum(a.size for a in w) == 6570
    for kernel, bias in zip(w[0::2], w[1::2]):
        limit = np.sqrt(6 / sum(kernel.shape))
        assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
        assert not bias.any()
    assert all(np.array_equal(a, b) for a, b in zip(w, training.numpy_initial_weights(seed=3)))
    assert not np.array_equal(w[0], training.numpy_initial_weights(seed=4)[0])


def test_flatten_and_unflatten_are_inverse_and_keep_leading_axes():
    w = training.numpy_initial_weights(seed=0)
    v = training.flatten_weights(w)
    assert v.shape == (6570,) and v[:64 * 64].reshape(64, 64).tolist() == w[0].tolist()
    stacked = training.unflatten_weights(np.stack([v, 2 * v]))
    assert [a.shape for a in stacked][:2] == [(2, 64, 64), (2, 64)]
    assert np.array_equal(stacked[4][1], 2 * w[4])
    with pytest.raises(ValueError, match="vector"):
        training.unflatten_weights(v[:-1])
    with pytest.raises(TypeError, match="weights"):
        training.flatten_weights(v)


def test_numpy_loss_and_grads_is_the_mlp_with_relu(digits):
    w = training.numpy_initial_weights(seed=0)
    x, y = digits.x_train[:16], digits.y_train[:16]
    loss, grads = training.numpy_loss_and_grads(w, x, y)
    # by hand: the forward pass and a central difference on one weight
    def forward_loss(weights):
        h = x
        for i, (k, b) in enumerate(zip(weights[0::2], weights[1::2])):
            h = h @ k + b
            h = np.maximum(h, 0) if i < 2 else h
        h = h - h.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(h).sum(axis=1)) - h[np.arange(16), y]))
    assert abs(loss - forward_loss(w)) < 1e-6
    w64 = [a.astype(np.float64) for a in w]
    plus, minus = [a.copy() for a in w64], [a.copy() for a in w64]
    plus[2][3, 5] += 1e-4
    minus[2][3, 5] -= 1e-4
    numeric = (forward_loss(plus) - forward_loss(minus)) / 2e-4
    assert abs(grads[2][3, 5] - numeric) < 1e-4 * max(1.0, abs(numeric))
    with pytest.raises(TypeError, match="weights"):
        training.numpy_loss_and_grads(w[:-1], x, y)


def test_stacked_gradients_equal_each_networks_own(digits):
    weights = [training.numpy_initial_weights(seed=s) for s in (0, 1, 2)]
    batches = [training.batches(len(digits.x_train), 32, 1, seed=s)[0] for s in (0, 1, 2)]
    net = training._Stacked(training.MLP_UNITS, 3)
    losses, grads = net.loss_and_grads(np.stack([training.flatten_weights(w) for w in weights]),
                                       np.stack([digits.x_train[i] for i in batches]),
                                       np.stack([digits.y_train[i] for i in batches]).astype(np.int64))
    for s in range(3):
        loss, own = training.numpy_loss_and_grads(weights[s], digits.x_train[batches[s]], digits.y_train[batches[s]])
        assert abs(losses[s] - loss) <= 1e-6
        assert np.abs(grads[s] - training.flatten_weights(own)).max() <= 1e-7


def test_train_numpy_equals_the_plain_loop_and_stacking_changes_nothing(digits):
    opt = optimizers.Adam(schedules.CosineDecay(0.003, 40, warmup_target=0.01, warmup_steps=10))
    both = training.train_numpy(opt, digits, steps=40, seeds=(0, 1), eval_every=20, label="Adam")
    one = training.train_numpy(opt, digits, steps=40, seeds=(1,), eval_every=20)[0]
    assert [r.label for r in both] == ["Adam", "Adam"] and both[0].eval_steps.tolist() == [0, 20, 40]
    assert training.max_difference(both[1].weights, one.weights) <= 1e-7
    assert np.allclose(both[1].train_loss, one.train_loss, rtol=1e-6)
    manual = _manual_run(opt, digits, training.numpy_initial_weights(seed=1), 40, seed=1)
    assert training.max_difference(one.weights, manual) <= 1e-6
    assert not np.allclose(both[0].train_loss, both[1].train_loss)           # two seeds, two runs
    assert np.allclose(one.learning_rates, [opt.learning_rate_at(t) for t in range(40)])
    assert one.ema_val_loss is None and one.averaged is None
    assert one.train_loss[-1] < 0.5 * one.train_loss[0] and one.val_accuracy[-1] > 0.8


def test_train_numpy_stacks_a_grid_of_rates_and_each_run_gets_its_bits_alone(digits):
    """A list of optimizers that differ only in their rate: every one with every seed, stacked, in order; each run
    has the bits of the same run trained alone (one seed, one network)."""
    def warmup_cosine(peak):
        return schedules.CosineDecay(0.0, decay_steps=30, warmup_target=peak, warmup_steps=10)

    for make, peaks in ((lambda lr: optimizers.Adam(lr), (0.003, warmup_cosine(0.01))),
                        (lambda lr: optimizers.SGD(lr, momentum=0.9), (0.01, 0.1, warmup_cosine(0.03)))):
        grid = training.train_numpy([make(p) for p in peaks], digits, steps=40, seeds=(0, 1), eval_every=20,
                                    ema=ExponentialMovingAverage(0.9), label=[str(i) for i in range(len(peaks))])
        assert [r.label for r in grid] == [str(i) for i in range(len(peaks)) for _ in (0, 1)]
        for i, p in enumerate(peaks):
            alone = [training.train_numpy(make(p), digits, steps=40, seeds=(s,), eval_every=20,
                                          ema=ExponentialMovingAverage(0.9))[0] for s in (0, 1)]   # one network each
            for a, b in zip(grid[2 * i:2 * i + 2], alone):
                for field in ("train_loss", "val_loss", "val_accuracy", "ema_val_loss", "learning_rates"):
                    np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
                for u, v in zip(a.weights + a.averaged, b.weights + b.averaged):
                    np.testing.assert_array_equal(u, v)
        assert grid[0].learning_rates[0] != grid[-1].learning_rates[0]          # each run had its own rates
    one_label = training.train_numpy([optimizers.SGD(0.1), optimizers.SGD(0.2)], digits, steps=2, label="SGD")
    assert [r.label for r in one_label] == ["SGD", "SGD"]
    assert [float(r.learning_rates[0]) for r in one_label] == [np.float32(0.1), np.float32(0.2)]


def test_train_numpy_refuses_a_grid_it_cannot_stack(digits):
    with pytest.raises(ValueError, match="differ only in their learning rate"):
        training.train_numpy([optimizers.SGD(0.1), optimizers.Adam(0.1)], digits, steps=1)
    with pytest.raises(ValueError, match="differ only in their learning rate"):
        training.train_numpy([optimizers.SGD(0.1), optimizers.SGD(0.1, momentum=0.9)], digits, steps=1)
    with pytest.raises(ValueError, match="non-empty list"):
        training.train_numpy([], digits, steps=1)
    with pytest.raises(TypeError, match="course_lib optimizer"):
        training.train_numpy([optimizers.SGD(0.1), "SGD"], digits, steps=1)
    with pytest.raises(ValueError, match="one label per optimizer"):
        training.train_numpy([optimizers.SGD(0.1), optimizers.SGD(0.2)], digits, steps=1, label=["a"])
    with pytest.raises(ValueError, match="global_clipnorm"):
        training.train_numpy([optimizers.SGD(0.1, global_clipnorm=1.0), optimizers.SGD(0.2, global_clipnorm=1.0)],
                             digits, steps=1)


def test_train_numpy_ema_is_the_course_ema_of_the_weights(digits):
    ema = ExponentialMovingAverage(0.9)
    run = training.train_numpy(optimizers.SGD(0.05), digits, steps=5, seeds=(2,), eval_every=5, ema=ema)[0]
    weights, state = training.numpy_initial_weights(seed=2), None
    opt = optimizers.SGD(0.05)
    opt_state, state = opt.init(weights), ema.init(weights)
    for step, idx in enumerate(training.batches(len(digits.x_train), 32, 5, seed=2), start=1):
        _, grads = training.numpy_loss_and_grads(weights, digits.x_train[idx], digits.y_train[idx])
        weights, opt_state = opt.step(weights, grads, opt_state)
        state = ema.apply(weights, state, num_updates=step)
    assert training.max_difference(run.averaged, ema.average(state)) <= 1e-6
    assert run.ema_train_loss.shape == run.train_loss.shape == (2,)
    assert run.ema_train_loss[0] == run.train_loss[0]                            # the average starts as the weights


def test_fit_is_the_loop_of_train_numpy_and_of_practice_train(digits):
    """One loop: lesson 09's trainer on the digits network in Keras's layout follows train_numpy's stacked run."""
    from course_lib import practice

    stacked = training.train_numpy(optimizers.SGD(0.1, momentum=0.9), digits, steps=30, seeds=(3,), eval_every=10)[0]
    plain = practice.train(training.numpy_loss_and_grads, training.numpy_initial_weights(seed=3), digits.x_train,
                           digits.y_train, optimizers.SGD(0.1, momentum=0.9), steps=30, eval_every=10, seed=3)
    assert plain.eval_steps.tolist() == stacked.eval_steps.tolist() == [0, 10, 20, 30]
    assert training.max_difference(plain.params, stacked.weights) <= 1e-6
    np.testing.assert_allclose(plain.train_loss, stacked.train_loss, rtol=1e-5)
    assert stacked.train_loss[-1] < 0.5 * stacked.train_loss[0]


def test_fit_measures_what_it_is_asked_and_stops_on_overflow():
    x = np.linspace(0, 1, 32)[:, None]
    y = 3 * x + 2

    def mse(p, xb, yb):
        r = xb @ p["kernel"] + p["bias"] - yb
        return float(np.mean(r ** 2)), {"kernel": 2 * xb.T @ r / len(xb), "bias": 2 * r.mean(axis=0)}

    p = {"kernel": np.ones((1, 1)), "bias": np.ones(1)}
    order = training.batches(32, 8, 12, seed=1)
    out = training.fit(mse, p, x, y, optimizers.SGD(0.2), order, lambda q: (mse(q, x, y)[0], 7.0), eval_every=5,
                       l2=0.1, ratios=True, grad_norms=True, ema=ExponentialMovingAverage(0.5))
    assert out.eval_steps.tolist() == [0, 5, 10, 12] and out.curves[1].tolist() == [7.0] * 4
    assert out.ratios.shape == (3, 2) and out.grad_norms.shape == (12,) and out.learning_rates.shape == (12,)
    manual = p                                    # the same run by hand: L2 gradient 2 * l2 * w, then SGD
    for k, idx in enumerate(order):
        _, g = mse(manual, x[idx], y[idx])
        assert out.grad_norms[k] == pytest.approx(np.sqrt(sum(float(np.sum(v ** 2)) for v in g.values())))
        manual = {n: manual[n] - 0.2 * (g[n] + 0.2 * manual[n]) for n in manual}
    assert all(np.allclose(out.params[n], manual[n], rtol=1e-12) for n in p)
    assert out.curves[0][-1] == pytest.approx(mse(manual, x, y)[0]) and out.averaged is not None
    blown = training.fit(mse, p, x, y, optimizers.SGD(500.0), training.batches(32, 8, 400),
                         lambda q: (mse(q, x, y)[0],), stop_on_overflow=True)
    assert blown.diverged_at is not None and len(blown.learning_rates) == blown.diverged_at
    assert all(np.isfinite(v).all() for v in blown.params.values())
    with pytest.raises(ValueError, match="l2"):
        training.fit(mse, p, x, y, optimizers.SGD(0.1), order, lambda q: (0.0,), l2=-1.0)
    with pytest.raises(ValueError, match="eval_every"):
        training.fit(mse, p, x, y, optimizers.SGD(0.1), order, lambda q: (0.0,), eval_every=0)


def test_train_numpy_refuses_what_it_cannot_do(digits):
    with pytest.raises(ValueError, match="clipnorm"):
        training.train_numpy(optimizers.SGD(0.1, clipnorm=1.0), digits, steps=1)
    with pytest.raises(ValueError, match="global_clipnorm"):
        training.train_numpy(optimizers.SGD(0.1, global_clipnorm=1.0), digits, steps=1, seeds=(0, 1))
    with pytest.raises(ValueError, match="seeds"):
        training.train_numpy(optimizers.SGD(0.1), digits, steps=1, seeds=())
    with pytest.raises(ValueError, match="seeds"):
        training.train_numpy(optimizers.SGD(0.1), digits, steps=1, seeds=(-1,))
    with pytest.raises(ValueError, match="initial_weights"):
        training.train_numpy(optimizers.SGD(0.1), digits, steps=1, seeds=(0, 1),
                             initial_weights=[training.numpy_initial_weights(0)])
    with pytest.raises(ValueError, match="initial_weights"):
        training.train_numpy(optimizers.SGD(0.1), digits, steps=1, initial_weights=[[np.zeros((3, 2))]])
    with pytest.raises(ValueError, match="steps"):
        training.train_numpy(optimizers.SGD(0.1), digits, steps=0)
    # global_clipnorm with one seed is the clipping of the whole network's gradient, as in Keras
    clipped = training.train_numpy(optimizers.SGD(0.1, global_clipnorm=0.01), digits, steps=3)[0]
    manual = _manual_run(optimizers.SGD(0.1, global_clipnorm=0.01), digits, training.numpy_initial_weights(0), 3, 0)
    assert training.max_difference(clipped.weights, manual) <= 1e-7


# --------------------------------------------------------------------------- several seeds
def test_seed_spread_and_paired_difference():
    s = training.seed_spread([0.2, 0.4, 0.3, 0.5])
    assert abs(s.mean - 0.35) < 1e-12
    assert abs(s.standard_error - np.std([0.2, 0.4, 0.3, 0.5], ddof=1) / 2) < 1e-12
    assert not s.within_noise() and training.seed_spread([-1.0, 1.2, 0.1]).within_noise()
    # a shared offset per seed cancels in the paired difference, not in the separate spreads
    base = np.array([0.1, 0.5, 0.9])
    d = training.paired_difference(base + 0.01, base)
    assert abs(d.mean - 0.01) < 1e-12 and d.standard_error < 1e-12
    assert training.seed_spread(base).standard_error > 0.2
    with pytest.raises(ValueError, match="values"):
        training.seed_spread([1.0])
    with pytest.raises(ValueError, match="same seeds"):
        training.paired_difference([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="k"):
        s.within_noise(-1)


def test_study_table_gives_mean_and_standard_error_per_configuration():
    runs = {"SGD": [_fake_run("SGD", acc, [2, 1, loss]) for acc, loss in ((0.9, 0.5), (0.8, 0.3))],
            "Adam": [_fake_run("Adam", acc, [2, 1, 0.1], ema=False) for acc in (0.95, 0.97, 0.96)]}
    lines = training.study_table(runs).splitlines()
    assert len(lines) == 4 and "val loss" in lines[0] and "EMA" in lines[0]
    assert lines[2].startswith("SGD") and "0.4000 ± 0.1000" in lines[2] and "0.8500 ± 0.0500" in lines[2]
    assert lines[3].startswith("Adam") and "0.9600 ± 0.0058" in lines[3] and lines[3].rstrip().endswith("0.0058")
    counted = training.study_table(runs, n_val=100).splitlines()
    assert "misclassified" in counted[0] and "15.0 ±  5.0" in counted[2]
    with pytest.raises(ValueError, match="at least 2"):
        training.study_table({"one": runs["SGD"][:1]})
    with pytest.raises(ValueError, match="runs"):
        training.study_table({})


def test_one_blas_thread_sets_one_thread_and_restores_the_count():
    found = training._openblas()
    if found is None:
        pytest.skip("numpy does not bundle OpenBLAS here: one_blas_thread changes nothing")
    get, put = found
    before = get()
    with training.one_blas_thread():
        assert get() == 1
    assert get() == before
    with pytest.raises(ValueError, match="inside"), training.one_blas_thread():
        raise ValueError("an error inside the block")
    assert get() == before
