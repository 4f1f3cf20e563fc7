"""The lesson 08 checks accept right answers, name the typical mistakes, and never crash."""

import numpy as np
import pytest
from check_helpers import predicts

from course_lib.checks import CheckFailed, NotAttempted
from course_lib.checks import optimizers as checks


# --------------------------------------------------------------------------- right answers
def momentum_step(w, v, g, learning_rate, momentum):
    v = momentum * v - learning_rate * g
    return w + v, v


def nesterov_step(w, v, g, learning_rate, momentum):
    v = momentum * v - learning_rate * g
    return w + momentum * v - learning_rate * g, v


def rmsprop_step(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
    s = rho * s + (1 - rho) * g * g
    return w - learning_rate * g / np.sqrt(s + epsilon), s


def adam_step(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v


def test_right_answers_pass(capsys):
    checks.check_momentum_step(momentum_step)
    checks.check_nesterov_step(nesterov_step)
    checks.check_rmsprop_step(rmsprop_step)
    checks.check_adam_step(adam_step)
    assert capsys.readouterr().out.count("✓") == 4


def test_the_float64_adam_reference_is_keras_adam():
    rng = np.random.default_rng(0)
    w, m, v, g = rng.normal(size=5), rng.normal(size=5) * 0.1, rng.random(5) * 0.1, rng.normal(size=5)
    for t in (1, 2, 50):
        ours = checks.adam_in_float64(w, m, v, g, t, learning_rate=0.01)
        lib = checks.adam_reference_course_lib(w, m, v, g, t, learning_rate=0.01)
        for a, b in zip(ours, lib):
            # float32 rounding: course_lib, like Keras, rounds beta_1 and beta_2 to float32 in beta**t
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-9)


# --------------------------------------------------------------------------- mistakes get their hint
def hint_of(check, fn):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return info.value.hint or ""


def test_momentum_mistakes():
    c = checks.check_momentum_step
    assert "w = w + v, not w - v" in hint_of(c, lambda w, v, g, lr, m: (w - (m * v - lr * g), m * v - lr * g))
    assert "opposite sign" in hint_of(c, lambda w, v, g, lr, m: (w - (m * v + lr * g), m * v + lr * g))
    assert "moving-average form" in hint_of(
        c, lambda w, v, g, lr, m: (w - lr * (m * v + (1 - m) * g), m * v + (1 - m) * g))
    assert "applied twice" in hint_of(c, lambda w, v, g, lr, m: (w + lr * (m * v - lr * g), m * v - lr * g))
    assert "old velocity" in hint_of(c, lambda w, v, g, lr, m: (w + v, m * v - lr * g))


def test_nesterov_mistakes():
    c = checks.check_nesterov_step
    assert "classical momentum" in hint_of(c, momentum_step)
    assert "classical momentum" in hint_of(c, lambda w, v, g, lr, m: (w + m * v - lr * g, m * v - lr * g))
    assert "sign convention" in hint_of(
        c, lambda w, v, g, lr, m: (w - (m * (m * v - lr * g) - lr * g), m * v - lr * g))
    assert "applied twice" in hint_of(
        c, lambda w, v, g, lr, m: (w + m * (m * v - lr * g) - lr * lr * g, m * v - lr * g))


def test_rmsprop_mistakes():
    c = checks.check_rmsprop_step

    def eps_outside(w, s, g, lr, rho=0.9, epsilon=1e-7):
        s = rho * s + (1 - rho) * g * g
        return w - lr * g / (np.sqrt(s) + epsilon), s

    def no_square(w, s, g, lr, rho=0.9, epsilon=1e-7):
        s = rho * s + (1 - rho) * g
        with np.errstate(invalid="ignore"):
            return w - lr * g / np.sqrt(s + epsilon), s

    def no_root(w, s, g, lr, rho=0.9, epsilon=1e-7):
        s = rho * s + (1 - rho) * g * g
        return w - lr * g / (s + epsilon), s

    def lr_twice(w, s, g, lr, rho=0.9, epsilon=1e-7):
        s = rho * s + (1 - rho) * g * g
        return w - lr * lr * g / np.sqrt(s + epsilon), s

    assert "epsilon is outside" in hint_of(c, eps_outside)
    assert "squared gradient" in hint_of(c, no_square)
    assert "square root is missing" in hint_of(c, no_root)
    assert "applied twice" in hint_of(c, lr_twice)


def _adam_variant(form):
    def fn(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        if form == "no correction":
            return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v
        if form == "t from 0":
            s = t - 1
            with np.errstate(divide="ignore", invalid="ignore"):
                alpha = learning_rate * np.sqrt(1 - beta_2 ** s) / (1 - beta_1 ** s)
                return w - alpha * m / (np.sqrt(v) + epsilon), m, v
        if form == "eps inside":
            alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
            return w - alpha * m / np.sqrt(v + epsilon), m, v
        if form == "paper":
            m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
            return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v
        if form == "seed 004":
            return w - learning_rate / (np.sqrt(v) + epsilon) * m / np.sqrt(1 - beta_1 ** t), m, v
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        return w - learning_rate * alpha * m / (np.sqrt(v) + epsilon), m, v
    return fn


@pytest.mark.parametrize("form,hint", [
    ("no correction", "bias correction is missing"),
    ("t from 0", "t counting from 0"),
    ("eps inside", "epsilon is inside"),
    ("paper", "paper's form"),
    ("seed 004", "seed 004"),
    ("lr twice", "applied twice"),
])
def test_adam_mistakes(form, hint):
    assert hint in hint_of(checks.check_adam_step, _adam_variant(form))


def momentum_student(w, v, g, learning_rate, momentum, slip):
    lr, m = learning_rate, momentum
    if slip == "no lr":
        v = m * v - g
    elif slip == "plus":
        v = m * v + lr * g
    elif slip == "no momentum":
        v = -lr * g
    elif slip == "brackets":
        v = m * (v - lr * g)
    elif slip == "1 - m":
        v = (1 - m) * v - lr * g
    else:
        v = m * v - lr * g
    w = w + v
    return (v, w) if slip == "order" else (w, v)


@pytest.mark.parametrize("slip, words", [
    ("no lr", "learning rate is missing"), ("plus", "gradient's sign is flipped"),
    ("no momentum", "momentum term is missing"), ("brackets", "precedence"), ("1 - m", "not (1 - beta)*v"),
    ("order", "wrong order"),
])
def test_momentum_more_mistakes(slip, words):
    hint = hint_of(checks.check_momentum_step, lambda *a: momentum_student(*a, slip))
    assert words in hint


def nesterov_student(w, v, g, learning_rate, momentum, slip):
    lr, m = learning_rate, momentum
    new_v = m * v - (g if slip == "no lr" else lr * g)
    if slip == "no lr in step":
        step = m * new_v - g
    elif slip == "no lr":
        step = m * new_v - g
    elif slip == "no gradient":
        step = m * new_v
    elif slip == "two steps":
        step = new_v + m * new_v - lr * g
    elif slip == "plus":
        step = m * new_v + lr * g
    else:
        step = m * new_v - lr * g
    if slip == "old v":
        return w + step, v
    if slip == "order":
        return new_v, w + step
    return w + step, new_v


@pytest.mark.parametrize("slip, words", [
    ("no lr in step", "missing from the gradient term"), ("no lr", "the velocity is v = beta*v - lr*g"),
    ("no gradient", "gradient term is missing"), ("two steps", "two steps"), ("plus", "sign is flipped"),
    ("old v", "velocity returned is the old one"), ("order", "wrong order"),
])
def test_nesterov_more_mistakes(slip, words):
    assert words in hint_of(checks.check_nesterov_step, lambda *a: nesterov_student(*a, slip))


def rmsprop_student(w, s, g, learning_rate, rho=0.9, epsilon=1e-7, slip=None):
    old = s
    if slip == "g*2":
        s = rho * s + (1 - rho) * g * 2
    elif slip == "brackets":
        s = rho * s + 1 - rho * g ** 2
    else:
        s = rho * s + (1 - rho) * g ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        if slip == "no eps":
            new_w = w - learning_rate * g / np.sqrt(s)
        elif slip == "plus":
            new_w = w + learning_rate * g / np.sqrt(s + epsilon)
        elif slip == "old s":
            new_w = w - learning_rate * g / np.sqrt(old + epsilon)
        else:
            new_w = w - learning_rate * g / np.sqrt(s + epsilon)
    return (s, new_w) if slip == "order" else (new_w, s)


@pytest.mark.parametrize("slip, words", [
    ("g*2", "doubles the gradient"), ("brackets", "precedence"), ("no eps", "epsilon is missing"),
    ("plus", "wrong sign"), ("old s", "old average"), ("order", "wrong order"),
])
def test_rmsprop_more_mistakes(slip, words):
    assert words in hint_of(checks.check_rmsprop_step, lambda *a, **k: rmsprop_student(*a, **k, slip=slip))


def adam_student(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, slip=None):
    m = beta_1 * m + (g if slip == "m factor" else (1 - beta_1) * g)
    v = beta_2 * v + (1 - beta_2) * g ** 2
    k = t + 1 if slip == "t + 1" else t
    lr = 1.0 if slip == "no lr" else learning_rate
    alpha = lr * np.sqrt(1 - beta_2 ** k) / (1 - beta_1 ** k)
    denominator = v + epsilon if slip == "no root" else np.sqrt(v) + epsilon
    new_w = w + alpha * m / denominator if slip == "plus" else w - alpha * m / denominator
    return (new_w, v, m) if slip == "order" else (new_w, m, v)


@pytest.mark.parametrize("slip, words", [
    ("m factor", "(1 - beta_1) is missing"), ("t + 1", "off by one"), ("no lr", "learning rate is missing"),
    ("no root", "square root is missing"), ("plus", "wrong sign"), ("order", "m and v are returned in the wrong"),
])
def test_adam_more_mistakes(slip, words):
    assert words in hint_of(checks.check_adam_step, lambda *a, **k: adam_student(*a, **k, slip=slip))


def test_adam_message_names_the_wrong_part():
    """Only new_w is wrong: the message says new_m and new_v are right."""
    with pytest.raises(CheckFailed) as info:
        checks.check_adam_step(lambda *a, **k: adam_student(*a, **k, slip="no root"))
    assert "new_m, new_v are right; new_w is not" in str(info.value)


# --------------------------------------------------------------------------- robustness
ALL = [(checks.check_momentum_step, 5), (checks.check_nesterov_step, 5), (checks.check_rmsprop_step, 6),
       (checks.check_adam_step, 9)]


@pytest.mark.parametrize("check,n_args", ALL)
def test_not_attempted(check, n_args):
    def todo(*args, **kwargs):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        check(todo)


@pytest.mark.parametrize("check,n_args", ALL)
def test_none_wrong_shape_and_crash_give_sentences(check, n_args):
    for fn, words in ((lambda *a, **k: None, "returned None"),
                      (lambda *a, **k: (np.zeros(7), np.zeros(7), np.zeros(7))[:2 if n_args < 9 else 3], "shape"),
                      (lambda *a, **k: 1 / 0, "ZeroDivisionError"),
                      ("not a function", "should be a function")):
        with pytest.raises(CheckFailed, match=words):
            check(fn)


def test_in_place_update_is_refused():
    def in_place(w, v, g, learning_rate, momentum):
        v *= momentum
        v -= learning_rate * g
        w += v
        return w, v
    with pytest.raises(CheckFailed, match="in place"):
        checks.check_momentum_step(in_place)


# --------------------------------------------------------------------------- the second round of mistakes
def test_momentum_second_round():
    def pytorch(w, v, g, learning_rate, momentum):
        buf = momentum * v + g
        return w - learning_rate * buf, buf

    def swapped_hyper(w, v, g, learning_rate, momentum):
        v = learning_rate * v - momentum * g
        return w + v, v
    assert "PyTorch's form" in hint_of(checks.check_momentum_step, pytorch)
    assert "that is the Nesterov step" in hint_of(checks.check_momentum_step, nesterov_step)
    assert "swapped" in hint_of(checks.check_momentum_step, swapped_hyper)


def test_nesterov_second_round():
    def pytorch(w, v, g, learning_rate, momentum):
        buf = momentum * v + g
        return w - learning_rate * (g + momentum * buf), buf

    def swapped_hyper(w, v, g, learning_rate, momentum):
        v = learning_rate * v - momentum * g
        return w + learning_rate * v - momentum * g, v
    assert "PyTorch's Nesterov" in hint_of(checks.check_nesterov_step, pytorch)
    assert "swapped" in hint_of(checks.check_nesterov_step, swapped_hyper)


def test_rmsprop_second_round():
    def eps_on_step(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
        s = rho * s + (1 - rho) * g * g
        with np.errstate(divide="ignore"):
            return w - (learning_rate * g / np.sqrt(s) + epsilon), s

    def root_state(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
        rms = np.sqrt(rho * s + (1 - rho) * g * g)
        return w - learning_rate * g / np.sqrt(rms ** 2 + epsilon), rms
    assert "adds epsilon to the step" in hint_of(checks.check_rmsprop_step, eps_on_step)
    assert "not its square root" in hint_of(checks.check_rmsprop_step, root_state)


def test_adam_second_round():
    def swapped_betas(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_2 * m + (1 - beta_2) * g
        v = beta_1 * v + (1 - beta_1) * g ** 2
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        return w - alpha * m / (np.sqrt(v) + epsilon), m, v

    def corrected_state(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        new_w, m, v = adam_step(w, m, v, g, t, learning_rate, beta_1, beta_2, epsilon)
        return new_w, m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)

    def alpha_brackets(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        alpha = learning_rate * (1 - beta_2 ** t) ** 0.5 / 1 - beta_1 ** t
        return w - alpha * m / (v ** 0.5 + epsilon), m, v

    def eps_on_ratio(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        with np.errstate(divide="ignore", invalid="ignore"):
            return w - alpha * (m / np.sqrt(v) + epsilon), m, v
    assert "beta_1 and beta_2 are swapped" in hint_of(checks.check_adam_step, swapped_betas)
    assert "bias-corrected m_hat" in hint_of(checks.check_adam_step, corrected_state)
    assert "brackets around (1 - beta_1**t)" in hint_of(checks.check_adam_step, alpha_brackets)
    assert "adds epsilon to the ratio" in hint_of(checks.check_adam_step, eps_on_ratio)


# --------------------------------------------------------------------------- predict, then run
@pytest.mark.parametrize("check, right, wrong, shown", [
    (checks.check_adam_first_step_prediction, 0.01, 0.0158,
     "gradient    5e+02: first step of Adam(0.01, beta_1=0.5, beta_2=0.9) moves w by 0.010000"),
    (checks.check_terminal_velocity_prediction, -1, -0.1, "step 100: velocity -0.999973"),
])
def test_predictions(check, right, wrong, shown, capsys):
    predicts(check, right, wrong, shown, capsys)


# --------------------------------------------------------------------------- mistakes no catalogue entry names
def test_momentum_unlisted_slip_is_written_as_a_formula():
    def momentum_twice(w, v, g, learning_rate, momentum):
        v = momentum * momentum * v - learning_rate * g
        return w + v, v
    hint = hint_of(checks.check_momentum_step, momentum_twice)
    assert "your new_v = momentum*momentum*v - learning_rate*g; expected new_v = momentum*v - learning_rate*g" in hint
    assert "(the v term differs)" in hint


def test_nesterov_unlisted_slip_is_written_as_a_formula():
    def old_velocity_look_ahead(w, v, g, learning_rate, momentum):
        new_v = momentum * v - learning_rate * g
        return w + momentum * v - (1 + momentum) * learning_rate * g, new_v
    hint = hint_of(checks.check_nesterov_step, old_velocity_look_ahead)
    assert "your new_w = w + momentum*v - (1 + momentum)*learning_rate*g" in hint and "the v term differs" in hint


def test_adam_unlisted_alpha_is_written_out():
    def no_root_in_alpha(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        alpha = learning_rate * (1 - beta_2 ** t) / (1 - beta_1 ** t)
        return w - alpha * m / (np.sqrt(v) + epsilon), m, v
    hint = hint_of(checks.check_adam_step, no_root_in_alpha)
    assert "with alpha = learning_rate/(1 - beta_1**t)*(1 - beta_2**t)" in hint


def test_adam_wrong_shape_keeps_its_sentence():
    with pytest.raises(CheckFailed, match="shape"):
        checks.check_adam_step(lambda *a, **k: (np.zeros(7), np.zeros(7), np.zeros(7)))


def test_rmsprop_unlisted_rate_is_written_out():
    def halved(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
        s = rho * s + (1 - rho) * g * g
        return w - learning_rate / 2 * g / np.sqrt(s + epsilon), s
    assert "rate = learning_rate/2" in hint_of(checks.check_rmsprop_step, halved)


def test_adam_step_along_the_gradient_is_named():
    def along_g(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        new_w, m, v = adam_step(w, m, v, g, t, learning_rate, beta_1, beta_2, epsilon)
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        return w - alpha * g / (np.sqrt(v) + epsilon), m, v
    assert "the step is along the gradient g" in hint_of(checks.check_adam_step, along_g)
    assert "alpha = 2*learning_rate" not in hint_of(checks.check_adam_step, along_g)

    def half_alpha(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        new_w, m, v = adam_step(w, m, v, g, t, learning_rate, beta_1, beta_2, epsilon)
        return (w + new_w) / 2, m, v
    assert "/2" in hint_of(checks.check_adam_step, half_alpha)


def test_fourth_round_entries():
    def abs_average(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * abs(g)
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        return w - alpha * m / (np.sqrt(v) + epsilon), m, v

    def eps_squared(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
        s = rho * s + (1 - rho) * g * g
        return w - learning_rate * g / np.sqrt(s + epsilon * epsilon), s
    assert "not of |g|" in hint_of(checks.check_adam_step, abs_average)
    assert "epsilon is squared" in hint_of(checks.check_rmsprop_step, eps_squared)


def test_fifth_round_entries():
    def squares_swapped(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * g ** 2
        v = beta_2 * v + (1 - beta_2) * g
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        with np.errstate(invalid="ignore"):
            return w - alpha * m / (np.sqrt(v) + epsilon), m, v

    def epsilon_on_w(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
        s = rho * s + (1 - rho) * g ** 2
        with np.errstate(divide="ignore"):
            return w - learning_rate * g / np.sqrt(s) + epsilon, s
    assert "g and g * g are swapped" in hint_of(checks.check_adam_step, squares_swapped)
    assert "epsilon is added to the weight" in hint_of(checks.check_rmsprop_step, epsilon_on_w)


def test_rmsprop_state_scaled_by_rho_is_named():
    def rescaled(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
        new_w, new_s = rmsprop_step(w, s, g, learning_rate, rho, epsilon)
        return new_w, new_s / (1 - rho)
    assert "times 1/(1 - rho)" in hint_of(checks.check_rmsprop_step, rescaled)


# --------------------------------------------------------------------------- the newcomer review's slips
def test_nesterov_missing_factor_is_named_in_new_v():
    def no_factor(w, v, g, learning_rate, momentum):
        new_v = momentum * v - learning_rate * g
        return w + new_v - learning_rate * g, new_v
    hint = hint_of(checks.check_nesterov_step, no_factor)
    assert "yours is w + new_v - lr*g; Nesterov's is w + beta*new_v - lr*g" in hint


def test_rmsprop_missing_share_names_new_s():
    def no_share(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
        s = rho * s + g * g
        return w - learning_rate * g / np.sqrt(s + epsilon), s
    hint = hint_of(checks.check_rmsprop_step, no_share)
    assert "the factor (1 - rho) is missing" in hint and "new_s is wrong" in hint


def test_adam_v_of_g_names_new_v():
    def v_of_g(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        with np.errstate(invalid="ignore"):
            return w - alpha * m / (np.sqrt(v) + epsilon), m, v
    hint = hint_of(checks.check_adam_step, v_of_g)
    assert hint.startswith("new_v is not right") and "*squared* gradient" in hint


def test_momentum_messages_use_the_lessons_letters():
    """The lesson writes beta for momentum and keeps m for Adam: no message writes m*v for momentum."""
    def sign(w, v, g, learning_rate, momentum):
        v = momentum * v + learning_rate * g
        return w + v, v
    for check, fn in ((checks.check_momentum_step, sign), (checks.check_nesterov_step, momentum_step)):
        with pytest.raises(CheckFailed) as info:
            check(fn)
        assert "beta*v" in str(info.value) and "m*v" not in str(info.value)
