"""course_lib.noise against TensorFlow: per-example gradients, the 1/t schedule, one mini-batch step, and
data-parallel SGD with MirroredStrategy (tf_twins.mirrored_sgd) against the numpy all-reduce.

Skipped where TensorFlow is not installed.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from course_lib import data, noise, tf_twins  # noqa: E402

tf = tf_twins.tf
X, Y = data.linear_regression()


def test_linear_per_example_gradients_equal_the_tape_jacobian():
    theta = np.array([0.7, -0.4])
    w, b = tf.Variable(theta[0]), tf.Variable(theta[1])
    xs, ys = tf.constant(X[:, 0], tf.float64), tf.constant(Y[:, 0], tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        per_example = tf.square(w * xs + b - ys)
    jacobian = np.stack([tape.jacobian(per_example, w).numpy(), tape.jacobian(per_example, b).numpy()], axis=1)
    np.testing.assert_allclose(noise.linear_per_example_grads(theta, X, Y), jacobian, rtol=1e-12, atol=1e-12)


def test_softmax_per_example_gradients_equal_the_tape_jacobian():
    rng = np.random.default_rng(2)
    x, labels = rng.normal(size=(6, 4)), np.array([0, 2, 1, 2, 0, 1])
    weights, bias = rng.normal(size=(4, 3)), rng.normal(size=3)
    w, b = tf.Variable(weights), tf.Variable(bias)
    with tf.GradientTape(persistent=True) as tape:
        logits = tf.constant(x) @ w + b
        per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    jw, jb = tape.jacobian(per_example, w).numpy(), tape.jacobian(per_example, b).numpy()  # (6, 4, 3), (6, 3)
    expected = np.concatenate([jw, jb[:, None, :]], axis=1).reshape(6, -1)
    np.testing.assert_allclose(noise.softmax_per_example_grads(weights, bias, x, labels), expected, rtol=1e-10,
                               atol=1e-12)


def test_power_decay_one_is_keras_inverse_time_decay():
    ours = noise.power_decay(0.3, 100, 1.0)
    keras_schedule = tf.keras.optimizers.schedules.InverseTimeDecay(0.3, decay_steps=100, decay_rate=1.0)
    steps = np.array([0, 1, 50, 100, 999, 20000])
    np.testing.assert_allclose(ours(steps), [float(keras_schedule(int(t))) for t in steps], rtol=1e-6)


def test_one_minibatch_step_equals_keras_sgd_on_that_batch():
    # lr 0.25 is exact in float32, the dtype Keras keeps its learning rate in
    theta, lr, idx = np.array([0.5, 0.25]), 0.25, np.array([3, 17, 42, 8, 99])
    w, b = tf.Variable([[theta[0]]], dtype=tf.float64), tf.Variable([theta[1]], dtype=tf.float64)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.constant(X[idx], tf.float64) @ w + b - Y[idx].astype(np.float64)))
    tf.keras.optimizers.SGD(lr).apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
    ours = theta - lr * noise.linear_per_example_grads(theta, X[idx], Y[idx]).mean(axis=0)
    np.testing.assert_allclose([w.numpy().item(), b.numpy().item()], ours, rtol=1e-12)


# --------------------------------------------------------------------------- MirroredStrategy (in a fresh process)
# TensorFlow fixes its devices once, at first use: the run with two logical CPUs needs a process of its own.
_MIRRORED = r"""
import json
import numpy as np
import course_lib
from course_lib import data, tf_twins
tf_twins.use_logical_cpus(2)
x, y = data.linear_regression()
out = {}
for name, (lr, batch, steps, theta0) in {"a": (0.3, 20, 5, [0.0, 0.0]), "b": (0.1, 8, 12, [1.0, -1.0])}.items():
    run = tf_twins.mirrored_sgd(x, y, theta0, lr, batch, steps, replicas=2)
    out[name] = {k: np.asarray(v).tolist() for k, v in run._asdict().items()}
errors = []
for call in (lambda: tf_twins.mirrored_sgd(x, y, [0, 0], 0.1, 21, 2),
             lambda: tf_twins.mirrored_sgd(x, y, [0, 0], 0.1, 20, 2, replicas=3),
             lambda: tf_twins.mirrored_sgd(x, y, [0, 0], -0.1, 20, 2),
             lambda: tf_twins.mirrored_sgd(x, y, [0, 0], 0.1, 20, 2, replicas=1.5),
             lambda: tf_twins.mirrored_sgd(x, y, [0, 0], 0.1, 60, 2),
             lambda: tf_twins.use_logical_cpus(3)):
    try:
        call()
        errors.append("no error")
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
out["errors"] = errors
print("RESULT" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def mirrored():
    proc = subprocess.run([sys.executable, "-c", _MIRRORED], capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parent.parent)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(line[len("RESULT"):])


@pytest.mark.parametrize("case, lr, batch", [("a", 0.3, 20), ("b", 0.1, 8)])
def test_mirrored_strategy_equals_one_device_and_the_numpy_all_reduce(mirrored, case, lr, batch):
    run = {k: np.asarray(v, dtype=np.float32) for k, v in mirrored[case].items()}
    np.testing.assert_array_equal(run["mirrored"], run["single"])       # number for number
    theta = run["mirrored"][0]
    for step, shares in enumerate(run["shares"]):                       # shares: (replicas, [dw, db])
        lo = step * batch
        shards = noise.shard(X[lo:lo + batch], Y[lo:lo + batch], 2)
        means = [noise.linear_per_example_grads(run["mirrored"][step], xs, ys).mean(axis=0) for xs, ys in shards]
        # each replica's share is its shard's mean gradient over the number of replicas
        np.testing.assert_allclose(2 * shares, means, rtol=2e-5, atol=1e-6)
        theta = theta - np.float32(lr) * noise.all_reduce_mean([m.astype(np.float32) for m in means])[0]
        np.testing.assert_allclose(theta, run["mirrored"][step + 1], rtol=2e-6, atol=1e-6)
        theta = run["mirrored"][step + 1]


def test_mirrored_bad_input_names_the_argument(mirrored):
    shards, replicas, rate, kind, too_many, count = mirrored["errors"]
    assert shards.startswith("ValueError") and "`batch_size`=21" in shards and "replicas" in shards
    assert replicas.startswith("ValueError") and "`replicas`" in replicas and "[1, 2]" in replicas
    assert rate.startswith("ValueError") and "`learning_rate`" in rate
    assert kind.startswith("TypeError") and "`replicas`" in kind
    assert too_many.startswith("ValueError") and "`batch_size`" in too_many
    assert count.startswith("RuntimeError") and "`count`=3" in count
