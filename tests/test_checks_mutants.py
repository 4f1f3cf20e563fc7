"""The mutation fallback: a mistake no catalogue lists is named by the single change of the
solution's source that reproduces the answer on every input, and only then."""

import inspect
import time

import numpy as np
import pytest

from course_lib.checks import CheckFailed, check_function
from course_lib.checks import backpropagation as c05
from course_lib.checks import gradient_descent as c01
from course_lib.checks import learning_rate as c02
from course_lib.checks import learning_rate_decay as c03
from course_lib.checks import moving_average as c04
from course_lib.checks import noise_and_batch_size as c03n
from course_lib.checks import optimizers as c06
from course_lib.checks.mutants import SOLUTIONS, mutants

CHECKS = {
    "loss_grad": c01.check_loss_grad, "sgd_step": c01.check_sgd_step, "descend": c01.check_descend,
    "minibatches": c01.check_minibatches, "mse_grad": c01.check_mse_grad,
    "stability_limit": c02.check_stability_limit, "classify_learning_rate": c02.check_classify_learning_rate,
    "steps_to_tolerance": c02.check_steps_to_tolerance, "best_learning_rate": c02.check_best_learning_rate,
    "exponential_decay": c03.check_exponential_decay, "inverse_time_decay": c03.check_inverse_time_decay,
    "warmup_cosine": c03.check_warmup_cosine, "rates_for_updates": c03.check_rates_for_updates,
    "descend_with_schedule": c03.check_descend_with_schedule,
    "gradient_variance": c03n.check_gradient_variance, "noise_floor_1d": c03n.check_noise_floor_1d,
    "scale_for_batch": c03n.check_scale_for_batch, "all_reduce": c03n.check_all_reduce,
    "ema_step": c04.check_ema_step, "decay_with_num_updates": c04.check_decay_with_num_updates,
    "debiased_ema": c04.check_debiased_ema, "sgd_with_ema": c04.check_sgd_with_ema,
    "sgd_with_keras_ema": c04.check_sgd_with_keras_ema,
    "sigmoid_backward": c05.check_sigmoid_backward,
    "softmax_cross_entropy_backward": c05.check_softmax_cross_entropy_backward,
    "numerical_gradient": c05.check_numerical_gradient,
    "momentum_step": c06.check_momentum_step, "nesterov_step": c06.check_nesterov_step,
    "rmsprop_step": c06.check_rmsprop_step, "adam_step": c06.check_adam_step,
}


def _hint(check, fn):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return info.value.hint or ""


def test_every_solution_has_a_check_here():
    assert set(SOLUTIONS) == set(CHECKS)


def test_lesson_05s_keras_exercise_mutates_the_solution_here():
    # Its check names no solution of its own: the fallback finds mutants.SOLUTIONS' one by the name.
    from course_lib.checks import _solution_for
    assert _solution_for("sgd_with_keras_ema", None) is SOLUTIONS["sgd_with_keras_ema"]
    assert "solution=" not in inspect.getsource(c04.check_sgd_with_keras_ema)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_solution_passes_its_own_check(name, capsys):
    CHECKS[name](SOLUTIONS[name])
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_solution_has_mutants_that_compile(name):
    found = mutants(SOLUTIONS[name])
    assert len(found) >= 5
    for m in found[:20]:
        assert m.before != m.after
        compile(m.tree, "<test>", "exec")


# Mistakes no catalogue entry lists, each a single change of the solution.
def _mb_from_1(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[start:start + batch_size] for start in range(1, n, batch_size)]


def _mse_no_bias(w, b, x, y):
    error = w * x - y
    return 2 * np.mean(error * x), 2 * np.mean(error)


def _allreduce_axis1(per_replica):
    mean = np.mean(np.stack(per_replica), axis=1)
    return [mean.copy() for _ in per_replica]


def _adam_betas_swapped(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    alpha = learning_rate * np.sqrt(1 - beta_1 ** t) / (1 - beta_2 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v


def _warmup_unshifted(step, peak, warmup_steps, decay_steps, alpha=0.0):
    if step < warmup_steps:
        return peak * step / warmup_steps
    t = min(step, decay_steps)
    return peak * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * t / decay_steps)) + alpha)


def _keras_ema_gradient_sign(w0, noise, learning_rate, ema_momentum, ema_overwrite_frequency=None):
    w = np.asarray(w0, dtype=float)
    average = w.copy()
    weights, averages = [w], [average]
    for k, n in enumerate(noise, start=1):
        w = w - learning_rate * (2 * (w + 3) + n)
        momentum = ema_momentum if k > 1 else 0.0
        average = momentum * average + (1 - momentum) * w
        if ema_overwrite_frequency is not None and k % ema_overwrite_frequency == 0:
            w = average.copy()
        weights.append(w)
        averages.append(average)
    return np.array(weights), np.array(averages)


def _nesterov_no_momentum(w, v, g, learning_rate, momentum):
    v = momentum * v - learning_rate * g
    return w + v - learning_rate * g, v


@pytest.mark.parametrize("check, fn, words", [
    (c01.check_minibatches, _mb_from_1, ["range(1, n, batch_size)", "range(0, n, batch_size)", "a constant changed"]),
    (c01.check_mse_grad, _mse_no_bias, ["`w * x - y`", "`w * x + b - y`", "a term dropped"]),
    (c02.check_stability_limit, lambda h: 2.0 * np.linalg.eigvalsh(h).max(),
     ["2.0 * np.linalg.eigvalsh(hessian).max()", "2.0 / np.linalg.eigvalsh(hessian).max()"]),
    (c03n.check_all_reduce, _allreduce_axis1, ["axis=1", "axis=0", "the axis"]),
    (c06.check_adam_step, _adam_betas_swapped, ["np.sqrt(1 - beta_1 ** t) / (1 - beta_2 ** t)", "swapped names"]),
    (c03.check_warmup_cosine, _warmup_unshifted, ["`step` where the solution has `step - warmup_steps`"]),
    (c04.check_sgd_with_keras_ema, _keras_ema_gradient_sign, ["`2 * (w + 3) + n`", "`2 * (w - 3) + n`", "a sign"]),
])
def test_a_mistake_no_catalogue_lists_is_named_by_its_mutant(check, fn, words):
    start = time.perf_counter()
    hint = _hint(check, fn)
    assert time.perf_counter() - start < 4.0
    assert "behaves like" in hint
    for w in words:
        assert w in hint


def test_a_checks_own_fallback_comes_before_a_mutant():
    # Nesterov without the momentum on v is also the mutant `v` for `momentum * v`; the check's own
    # hint (its catalogue, else its linear form), written in the exercise's symbols, is the one shown.
    with pytest.raises(CheckFailed) as info:
        check_function(_nesterov_no_momentum, c06._nesterov_reference, c06._MOMENTUM_CASES, name="nesterov_step",
                       names=("new_w", "new_v"), quiet=True)
    assert info.value.by_mutant and "`v` where the solution has `momentum * v`" in info.value.hint
    hint = _hint(c06.check_nesterov_step, _nesterov_no_momentum)
    assert "behaves like" not in hint and "beta" in hint

    # A mistake no catalogue entry lists, which the linear form names: w + new_v + beta*new_v.
    def v_twice(w, v, g, learning_rate, momentum):
        v = momentum * v - learning_rate * g
        return w + v + momentum * v, v
    hint = _hint(c06.check_nesterov_step, v_twice)
    assert "behaves like" not in hint and "expected new_w = w + momentum*momentum*v" in hint


def test_nothing_is_named_unless_one_mutant_reproduces_every_input():
    # Right on one case by accident, a random answer is no mutant: no hint, only the verdict.
    def ref(w, grad, learning_rate):
        return w - learning_rate * grad
    rng = np.random.default_rng(0)
    with pytest.raises(CheckFailed) as info:
        check_function(lambda w, g, lr: rng.normal(), ref, [(1.0, 2.0, 0.1), (3.0, -1.0, 0.5), (0.5, 0.5, 2.0)],
                       name="sgd_step")
    assert info.value.hint is None


def test_a_lambda_reference_is_mutated_and_the_simplest_mutant_wins():
    # w + lr*g is also -(-w - lr*g) and other longer forms: the sign swap is the one named.
    reference = lambda w, g, lr: w - lr * g  # noqa: E731 (a reference written as a lambda, alone on its line)
    with pytest.raises(CheckFailed) as info:
        check_function(lambda w, g, lr: w + lr * g, reference,
                       [(1.0, 2.0, 0.1), (np.array([1.0, 2.0]), np.array([3.0, -1.0]), 0.5)], name="a_step")
    assert info.value.hint == "your answer behaves like `w + lr * g` where the solution has `w - lr * g` (a sign)."


def test_a_mutant_that_loops_forever_is_stopped():
    def ref(n):
        total, k = 0, 0
        while k < n:
            total += k
            k += 1
        return total
    start = time.perf_counter()
    with pytest.raises(CheckFailed):
        check_function(lambda n: -1, ref, [(3,), (5,)], name="count")
    assert time.perf_counter() - start < 3.0


def test_mutants_never_change_the_callers_inputs():
    w = np.array([1.0, 2.0])
    with pytest.raises(CheckFailed):
        check_function(lambda w, g, lr: w * 7, lambda w, g, lr: w - lr * g, [(w, np.array([1.0, 1.0]), 0.1)],
                       name="a_step")
    assert w.tolist() == [1.0, 2.0]


def test_a_mutant_hint_is_marked_and_the_message_without_it_kept():
    reference = lambda w, g, lr: w - lr * g  # noqa: E731
    with pytest.raises(CheckFailed) as info:
        check_function(lambda w, g, lr: w + lr * g, reference, [(1.0, 2.0, 0.1), (3.0, -1.0, 0.5)], name="a_step")
    failure = info.value
    assert failure.by_mutant and "Likely mistake: your answer behaves like" in str(failure).splitlines()[0]
    assert "Likely mistake" not in failure.unhinted and failure.unhinted.startswith("a_step is wrong: it returned 1.2")


def test_a_guarded_division_is_named_where_the_mutant_is_defined():
    # The student divides the other way round and catches step = 0 themselves.
    def upside_down(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        p = decay_steps / step if step else 0
        if staircase:
            p = np.floor(p)
        return initial_learning_rate * decay_rate ** p
    hint = _hint(c03.check_exponential_decay, upside_down)
    assert hint.startswith("your answer behaves like `decay_steps / step` where the solution has "
                           "`step / decay_steps`")
    assert "on every input where that formula is defined" in hint
