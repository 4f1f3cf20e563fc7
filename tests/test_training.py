"""course_lib.training without TensorFlow: the shipped digits, the batches and the study tools.
The Keras model and the training steps are tested in test_training_keras.py."""

import numpy as np
import pytest

from course_lib import training


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

