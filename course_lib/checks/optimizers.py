"""Checks for the exercises of lesson 08: momentum, Nesterov, RMSProp and Adam steps.

Every reference answer is one step of the course_lib optimizer (the Keras twin), started
from the state the exercise describes, so a correct answer also agrees with Keras.
"""

import copy

import numpy as np

from ..optimizers import SGD, Adam, AdamState, RMSprop, RMSpropState, SGDState
from . import CheckFailed, Mistake, check_function, check_prediction, failure_message, quietly

__all__ = ["check_momentum_step", "check_nesterov_step", "check_rmsprop_step", "check_adam_step",
           "check_adam_first_step_prediction", "check_terminal_velocity_prediction"]

_W = np.array([1.0, -2.0, 0.5])
_G = np.array([0.3, -1.2, 2.0])
_V = np.array([0.05, -0.4, 0.1])


# --------------------------------------------------------------------------- the linear-form diagnosis
def _product_candidates(atoms, max_atoms):
    """(text, function) for every product of up to ``max_atoms`` atoms, with the signs + and -."""
    products = [("1", lambda args: 1.0, 0)]
    frontier = list(products)
    for _ in range(max_atoms):
        grown = []
        for text, fn, n in frontier:
            for a_text, a_fn in atoms:
                if text != "1" and a_text < text.split("*")[-1]:   # each product once, factors in order
                    continue
                grown.append((a_text if text == "1" else f"{text}*{a_text}",
                              lambda args, f=fn, g=a_fn: f(args) * g(args), n + 1))
        products += grown
        frontier = grown
    out = []
    for text, fn, n in products:
        out.append((n, text, fn))
        out.append((n, f"-{text}", lambda args, f=fn: -f(args)))
    out.append((0, "0", lambda args: 0.0))
    return sorted(out, key=lambda c: c[0])


def _as_symbol(values, calls, candidates):
    """The simplest candidate equal to ``values`` (one array per case) on every case, or None."""
    for _, text, fn in candidates:
        try:
            if all(np.allclose(v, np.broadcast_to(fn(a), np.shape(v)), rtol=1e-5, atol=1e-10)
                   for v, a in zip(values, calls)):
                return text
        except (ValueError, TypeError, ZeroDivisionError):
            continue
    return None


def _coefficients(fn, args, linear, n_out):
    """{output: (constant, [coefficient per linear input])} of ``fn`` around ``args``, or None if not linear."""
    def call(replaced):
        a = list(args)
        for i, value in replaced.items():
            a[i] = value
        with quietly():
            out = fn(*copy.deepcopy(a))
        out = out if isinstance(out, tuple) else (out,)
        if len(out) != n_out:
            raise ValueError("wrong number of outputs")
        return [np.asarray(o, dtype=float) for o in out]

    zeros = {i: np.zeros_like(np.asarray(args[i], dtype=float)) for i in linear}
    base = call(zeros)
    cols = [[c - b for c, b in zip(call({**zeros, i: np.ones_like(zeros[i])}), base)] for i in linear]
    whole = call({})
    for k in range(n_out):
        predicted = base[k] + sum(cols[j][k] * np.asarray(args[i], dtype=float) for j, i in enumerate(linear))
        if np.shape(predicted) != np.shape(whole[k]) or not np.allclose(predicted, whole[k], rtol=1e-7, atol=1e-10):
            return None
    return [(base[k], [cols[j][k] for j in range(len(linear))]) for k in range(n_out)]


def _formula(terms):
    text = ""
    for coefficient, name in terms:
        if coefficient == "0":
            continue
        sign = "-" if coefficient.startswith("-") else "+"
        body = coefficient.lstrip("-")
        part = body if name == "1" else name if body == "1" else f"{body}*{name}"
        text += (f" {sign} {part}" if text else ("-" if sign == "-" else "") + part)
    return text or "0"


def linear_hint(student_fn, reference_fn, cases, *, linear, input_names, output_names, atoms, max_atoms=2):
    """Name the term that differs when the student's answer is linear in the ``linear`` inputs.

    The answer and the reference are probed with unit inputs; each coefficient is written with the
    exercise's symbols (``atoms``: ``(text, function of the case's arguments)``) when a product of up to
    ``max_atoms`` of them matches on every case.  Returns a sentence, or None when the answer is not
    linear, or its coefficients match no product.
    """
    calls = [tuple(c) for c in cases]
    n_out = len(output_names)
    try:
        got = [_coefficients(student_fn, a, linear, n_out) for a in calls]
        exp = [_coefficients(reference_fn, a, linear, n_out) for a in calls]
    except Exception:
        return None
    if any(g is None for g in got) or any(e is None for e in exp):
        return None
    candidates = _product_candidates(atoms, max_atoms)
    sentences = []
    for k, out_name in enumerate(output_names):
        names = input_names
        mine, theirs, differ = [], [], []
        for j in range(len(linear) + 1):
            pick = (lambda c, k=k: c[k][0]) if j == len(linear) else (lambda c, j=j, k=k: c[k][1][j])
            g_vals, e_vals = [pick(g) for g in got], [pick(e) for e in exp]
            g_sym, e_sym = _as_symbol(g_vals, calls, candidates), _as_symbol(e_vals, calls, candidates)
            if g_sym is None or e_sym is None:
                if not all(np.allclose(a, b, rtol=1e-7, atol=1e-12) for a, b in zip(g_vals, e_vals)):
                    return None
                g_sym = e_sym = "0" if np.allclose(e_vals[0], 0) else None
                if g_sym is None:
                    return None
            name = "1" if j == len(linear) else names[j]
            mine.append((g_sym, name))
            theirs.append((e_sym, name))
            if g_sym != e_sym:
                differ.append(name)
        if differ:
            sentences.append(f"your {out_name} = {_formula(mine)}; expected {out_name} = {_formula(theirs)} "
                             f"(the {' and '.join(d if d != '1' else 'constant' for d in differ)} "
                             f"term{'s differ' if len(differ) > 1 else ' differs'}).")
    return " ".join(sentences) or None


def with_linear_hint(check, student_fn, **probe):
    """Run ``check``; when it fails without a hint (or with a mutant's only), add the linear-form hint if found."""
    try:
        check()
    except CheckFailed as failure:
        if failure.hint is not None and not failure.by_mutant:
            raise
        try:
            hint = linear_hint(student_fn, **probe)
        except Exception:  # an answer of the wrong shape or type: the failure's own sentence says so
            hint = None
        if hint is None:
            raise
        first, *rest = failure.unhinted.split("\n")
        verdict, _, what = first.partition(": ")
        details = [("what", what)] + [tuple(part.strip() for part in line.split(":", 1))
                                      for line in rest if ":" in line]
        raise CheckFailed(failure_message(verdict, hint, details), hint) from None


# --------------------------------------------------------------------------- momentum
def _momentum_reference(w, v, g, learning_rate, momentum, nesterov=False):
    opt = SGD(learning_rate, momentum=momentum, nesterov=nesterov)
    w_new, state = opt.step(w, g, SGDState(0, v))
    return w_new, state.momentums


_MOMENTUM_CASES = [
    (5.0, 0.0, 12.0, 0.1, 0.9),
    (_W, _V, _G, 0.1, 0.9),
    (_W, _V, _G, 0.5, 0.5),
    (np.array([2.0, 3.0]), np.array([-0.5, 0.25]), np.array([1.0, -1.0]), 0.25, 0.75),
    (np.array([0.5, -1.5]), np.array([0.2, 0.1]), np.array([2.0, 0.5]), 0.05, 0.8),  # lr != 1 - momentum
]


_LR = {"the learning rate": lambda w, v, g, lr, m: lr}


_MOMENTUM_ATOMS = [("learning_rate", lambda a: a[3]), ("momentum", lambda a: a[4]),
                   ("(1 - momentum)", lambda a: 1 - a[4]), ("(1 + momentum)", lambda a: 1 + a[4]), ("2", lambda a: 2.0)]


def _momentum_probe(reference):
    return dict(reference_fn=reference, cases=_MOMENTUM_CASES, linear=(0, 1, 2), input_names=("w", "v", "g"),
                output_names=("new_w", "new_v"), atoms=_MOMENTUM_ATOMS, max_atoms=3)


def check_momentum_step(momentum_step):
    """Exercise 1: ``v = momentum*v - learning_rate*g; w = w + v``, returning ``(w, v)``.

    A wrong answer that no catalogue entry explains, but that is linear in ``w``, ``v`` and ``g``
    (as every slip in these formulas is), is written back as a formula and compared term by term.
    """
    with_linear_hint(lambda: _check_momentum(momentum_step), momentum_step, **_momentum_probe(_momentum_reference))


def _check_momentum(momentum_step):
    check_function(momentum_step, _momentum_reference, _MOMENTUM_CASES, name="momentum_step",
                   names=("new_w", "new_v"), factors=_LR, mistakes=[
        Mistake(lambda w, v, g, lr, m: (w - (m * v - lr * g), m * v - lr * g),
                "the momentum sign convention is mixed up: Keras's velocity v = beta*v - lr*g already points "
                "downhill, so the weight update is w = w + v, not w - v."),
        Mistake(lambda w, v, g, lr, m: (w - (m * v + lr * g), m * v + lr * g),
                "the momentum sign convention is mixed up: you used v = beta*v + lr*g and w = w - v. That moves the "
                "weight correctly, but the velocity you return has the opposite sign: use v = beta*v - lr*g, "
                "w = w + v as Keras does."),
        Mistake(lambda w, v, g, lr, m: (w - lr * (m * v + (1 - m) * g), m * v + (1 - m) * g),
                "that is the moving-average form v = beta*v + (1-beta)*g, w = w - lr*v. It is the same method with a "
                "different scale; the exercise asks for Keras's velocity form v = beta*v - lr*g, w = w + v."),
        Mistake(lambda w, v, g, lr, m: (w + lr * (m * v - lr * g), m * v - lr * g),
                "the learning rate is applied twice: it is already inside v = beta*v - lr*g, so the update is "
                "w = w + v."),
        Mistake(lambda w, v, g, lr, m: (w + m * v - lr * g, v),
                "you moved the weight but returned the old velocity: return the new v as well."),
        Mistake(lambda w, v, g, lr, m: (w + v, m * v - lr * g),
                "the weight moved by the old velocity: compute the new v first, then w = w + v (new v)."),
        Mistake(lambda w, v, g, lr, m: (w + m * v - g, m * v - g),
                "the learning rate is missing: the velocity is v = beta*v - lr*g (you wrote beta*v - g)."),
        Mistake(lambda w, v, g, lr, m: (w + m * v + lr * g, m * v + lr * g),
                "the gradient's sign is flipped in the velocity: v = beta*v - lr*g, so that it points downhill "
                "(new_v is wrong, and new_w with it)."),
        Mistake(lambda w, v, g, lr, m: (w - lr * g, -lr * g),
                "the momentum term is missing: v = beta*v - lr*g keeps a share beta (= momentum) of the old velocity "
                "(without it this is plain SGD)."),
        Mistake(lambda w, v, g, lr, m: (m * v - lr * g, w + m * v - lr * g),
                "the parts are returned in the wrong order: return (new_w, new_v)."),
        Mistake(lambda w, v, g, lr, m: (w + m * (v - lr * g), m * (v - lr * g)),
                "precedence: the velocity is beta*v - lr*g; beta*(v - lr*g) also multiplies the gradient step "
                "by beta."),
        Mistake(lambda w, v, g, lr, m: (w - lr * (m * v + g), m * v + g),
                "that is PyTorch's form, v = beta*v + g and w = w - lr*v: the weight moves the same, but the velocity "
                "is another quantity. Keras's velocity is v = beta*v - lr*g, and w = w + v."),
        Mistake(lambda w, v, g, lr, m: _momentum_reference(w, v, g, lr, m, True),
                "that is the Nesterov step (w + beta*new_v - lr*g); plain momentum moves the weight by the new "
                "velocity, "
                "w = w + v."),
        Mistake(lambda w, v, g, lr, m: (w + lr * v - m * g, lr * v - m * g),
                "the learning rate and the momentum are swapped: v = momentum*v - learning_rate*g."),
        Mistake(lambda w, v, g, lr, m: (w + (1 - m) * v - lr * g, (1 - m) * v - lr * g),
                "the velocity keeps the share beta (= momentum) of the old one, v = beta*v - lr*g, not (1 - beta)*v."),
    ])


def _nesterov_reference(w, v, g, lr, m):
    return _momentum_reference(w, v, g, lr, m, True)


def check_nesterov_step(nesterov_step):
    """Exercise 2: Keras's Nesterov, ``v = beta*v - lr*g; w = w + beta*new_v - lr*g`` (with the new v)."""
    with_linear_hint(lambda: _check_nesterov(nesterov_step), nesterov_step, **_momentum_probe(_nesterov_reference))


def _check_nesterov(nesterov_step):
    check_function(nesterov_step, _nesterov_reference,
                   _MOMENTUM_CASES, name="nesterov_step", names=("new_w", "new_v"), factors=_LR, mistakes=[
        Mistake(lambda w, v, g, lr, m: _momentum_reference(w, v, g, lr, m, False),
                "that is classical momentum (w = w + new_v, which is also w + beta*v - lr*g with the old v). "
                "Nesterov's step is w = w + beta*new_v - lr*g with the NEW v, new_v = beta*v - lr*g: the velocity's "
                "next move plus this gradient step."),
        Mistake(lambda w, v, g, lr, m: (w - (m * (m * v - lr * g) - lr * g), m * v - lr * g),
                "the momentum sign convention is mixed up: with v = beta*v - lr*g the update adds, "
                "w = w + beta*new_v - lr*g."),
        Mistake(lambda w, v, g, lr, m: (w + m * (m * v - lr * g) - lr * lr * g, m * v - lr * g),
                "the learning rate is applied twice to the gradient term: the step is w + beta*new_v - lr*g."),
        Mistake(lambda w, v, g, lr, m: (w + m * (m * v - lr * g) - g, m * v - lr * g),
                "the learning rate is missing from the gradient term: the step is w + beta*new_v - lr*g."),
        Mistake(lambda w, v, g, lr, m: (w + m * (m * v - g) - g, m * v - g),
                "the learning rate is missing: the velocity is v = beta*v - lr*g, and the step w + beta*new_v - lr*g."),
        Mistake(lambda w, v, g, lr, m: (w + m * (m * v - lr * g) - lr * g, v),
                "the weight is right but the velocity returned is the old one: return new_v = beta*v - lr*g."),
        Mistake(lambda w, v, g, lr, m: (m * v - lr * g, w + m * (m * v - lr * g) - lr * g),
                "the parts are returned in the wrong order: return (new_w, new_v)."),
        Mistake(lambda w, v, g, lr, m: (w + (m * v - lr * g) - lr * g, m * v - lr * g),
                "the factor beta (= momentum) on the new velocity is missing: yours is w + new_v - lr*g; "
                "Nesterov's is w + beta*new_v - lr*g, with new_v = beta*v - lr*g."),
        Mistake(lambda w, v, g, lr, m: (w + m * (m * v - lr * g), m * v - lr * g),
                "the gradient term is missing from the weight's step: w + beta*new_v - lr*g."),
        Mistake(lambda w, v, g, lr, m: (w + (m * v - lr * g) + m * (m * v - lr * g) - lr * g, m * v - lr * g),
                "the weight took two steps: Nesterov's step *replaces* w + v, it is w + beta*new_v - lr*g alone."),
        Mistake(lambda w, v, g, lr, m: (w + m * (m * v - lr * g) + lr * g, m * v - lr * g),
                "the gradient term's sign is flipped: w + beta*new_v - lr*g."),
        Mistake(lambda w, v, g, lr, m: (w - lr * (g + m * (m * v + g)), m * v + g),
                "that is PyTorch's Nesterov, v = beta*v + g and w = w - lr*(g + beta*v): the weight moves the same, "
                "but "
                "the velocity is another quantity. Keras's is v = beta*v - lr*g, then w = w + beta*new_v - lr*g."),
        Mistake(lambda w, v, g, lr, m: (w + lr * (lr * v - m * g) - m * g, lr * v - m * g),
                "the learning rate and the momentum are swapped: v = momentum*v - learning_rate*g, "
                "w = w + momentum*new_v - learning_rate*g."),
    ])


# --------------------------------------------------------------------------- RMSprop
def _rmsprop_reference(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
    opt = RMSprop(learning_rate, rho=rho, epsilon=epsilon)
    w_new, state = opt.step(w, g, RMSpropState(0, s, None, None))
    return w_new, state.velocities


_RMS_CASES = [
    ((_W, np.zeros(3), _G, 0.01), {}),
    ((_W, np.array([0.2, 1.0, 0.01]), _G, 0.1), {"rho": 0.8}),
    ((np.array([1.0, 1.0]), np.array([1e-6, 4.0]), np.array([1e-4, 3.0]), 0.01), {"epsilon": 1e-3}),
]


def _implied_rms_rate_hint(rmsprop_step):
    """When new_s is right and w moved along g / sqrt(s + epsilon) by another factor than the learning rate."""
    atoms = [("learning_rate", lambda k: k["lr"]), ("rho", lambda k: k["rho"]), ("(1 - rho)", lambda k: 1 - k["rho"]),
             ("2", lambda k: 2.0), ("/2", lambda k: 0.5), ("/(1 - rho)", lambda k: 1 / (1 - k["rho"]))]
    rates, symbols = [], []
    for args, kwargs in _RMS_CASES:
        w, s, g, lr = args
        rho, eps = kwargs.get("rho", 0.9), kwargs.get("epsilon", 1e-7)
        with quietly():
            new_w, new_s = (np.asarray(x, dtype=float) for x in rmsprop_step(*copy.deepcopy(args), **kwargs))
            exp_w, exp_s = _rmsprop_reference(*args, **kwargs)
            if not np.allclose(new_s, exp_s, rtol=1e-5, atol=1e-12):
                return None
            implied = (w - new_w) / (g / np.sqrt(exp_s + eps))
        if not np.all(np.isfinite(implied)) or not np.allclose(implied, implied.flat[0], rtol=1e-5):
            return None
        rates.append(implied.flat[0])
        symbols.append({"lr": lr, "rho": rho})
    for n in (1, 2, 3):
        for combo in _combinations(atoms, n):
            values = [np.prod([fn(k) for _, fn in combo]) for k in symbols]
            if all(np.isclose(a, v, rtol=1e-5) for a, v in zip(rates, values)):
                text = "*".join(name for name, _ in combo).replace("*/", "/")
                if text == "learning_rate":
                    return None
                return (f"your step is w - rate * g / sqrt(s + epsilon) with rate = {text}; "
                        "the rate is the learning rate alone.")
    return None


def check_rmsprop_step(rmsprop_step):
    """Exercise 3: ``s = rho*s + (1-rho)*g*g; w = w - lr*g / sqrt(s + epsilon)``, returning ``(w, s)``.

    A slip no catalogue entry explains, where new_s is right, is diagnosed by the rate the step implies.
    """
    try:
        _check_rmsprop(rmsprop_step)
    except CheckFailed as failure:
        if failure.hint is not None and not failure.by_mutant:
            raise
        try:
            hint = _implied_rms_rate_hint(rmsprop_step)
        except Exception:  # the failure's own sentence says what is wrong
            hint = None
        if hint is None:
            raise
        _reraise(failure, hint)


def _reraise(failure, hint):
    """``failure`` again, with ``hint`` named in its first line (the layout of checks.failure_message)."""
    first, *rest = failure.unhinted.split("\n")
    verdict, _, what = first.partition(": ")
    details = [("what", what)] + [tuple(p.strip() for p in line.split(":", 1)) for line in rest if ":" in line]
    raise CheckFailed(failure_message(verdict, hint, details), hint) from None


def _check_rmsprop(rmsprop_step):
    def rms(w, s, g, lr, rho=0.9, epsilon=1e-7, outside=False, square=True, root=True, swap=False, lr2=False,
            no_eps=False, sign=1, old_s=False, twice=False, precedence=False, eps_on_step=False, root_s=False,
            eps_squared=False, no_share=False):
        old = s
        if precedence:
            s = rho * s + 1 - rho * g * g
        elif swap:
            s = (1 - rho) * s + rho * g * g
        elif no_share:
            s = rho * s + g * g
        else:
            s = rho * s + (1 - rho) * (g * 2 if twice else g * g if square else g)
        with np.errstate(invalid="ignore", divide="ignore"):  # a wrong s may be negative
            base = old if old_s else s
            epsilon = epsilon ** 2 if eps_squared else epsilon
            denom = (np.sqrt(base) + epsilon if outside else np.sqrt(base + (0 if no_eps else epsilon))) if root \
                else base + epsilon
            if eps_on_step:
                return w - (lr * g / np.sqrt(s) + epsilon), s
            return w - sign * (lr * lr if lr2 else lr) * g / denom, (np.sqrt(s) if root_s else s)

    check_function(rmsprop_step, _rmsprop_reference, _RMS_CASES, name="rmsprop_step", rtol=1e-5, atol=1e-8,
                   names=("new_w", "new_s"),
                   factors={"the learning rate": lambda w, s, g, lr, **k: lr,
                            "1/(1 - rho)": lambda w, s, g, lr, rho=0.9, **k: 1 / (1 - rho),
                            "(1 - rho)": lambda w, s, g, lr, rho=0.9, **k: 1 - rho},
                   mistakes=[
        Mistake(lambda *a, **k: rms(*a, **k, outside=True),
                "epsilon is outside the square root: Keras's RMSprop divides by sqrt(s + epsilon)."),
        Mistake(lambda *a, **k: rms(*a, **k, square=False),
                "the running average must be of the squared gradient, (1 - rho) * g * g."),
        Mistake(lambda *a, **k: rms(*a, **k, root=False),
                "the square root is missing: divide by sqrt(s + epsilon), the root mean square of the gradient."),
        Mistake(lambda *a, **k: rms(*a, **k, swap=True),
                "rho and 1 - rho are swapped: s = rho*s + (1 - rho)*g*g keeps most of the old average "
                "(new_s is wrong, and new_w with it)."),
        Mistake(lambda *a, **k: rms(*a, **k, no_share=True),
                "the factor (1 - rho) is missing: s = rho*s + (1 - rho)*g*g. new_s is wrong (its new g*g part is "
                "1/(1 - rho) times too large), and the step, which divides by sqrt(s + epsilon), with it."),
        Mistake(lambda *a, **k: rms(*a, **k, lr2=True),
                "the learning rate is applied twice."),
        Mistake(lambda *a, **k: rms(*a, **k, no_eps=True),
                "epsilon is missing: divide by sqrt(s + epsilon), which stays finite when s is 0."),
        Mistake(lambda *a, **k: rms(*a, **k, sign=-1),
                "the step has the wrong sign: RMSprop *subtracts*, w - lr*g / sqrt(s + epsilon)."),
        Mistake(lambda *a, **k: rms(*a, **k, old_s=True),
                "the step divides by the old average: update s first, then divide by sqrt(new s + epsilon)."),
        Mistake(lambda *a, **k: rms(*a, **k)[::-1],
                "the parts are returned in the wrong order: return (new_w, new_s)."),
        Mistake(lambda *a, **k: rms(*a, **k, twice=True),
                "`g * 2` doubles the gradient; the average is of its square, g * g or g**2."),
        Mistake(lambda *a, **k: rms(*a, **k, eps_on_step=True),
                "precedence: `lr * g / np.sqrt(s) + epsilon` adds epsilon to the step; it belongs under the root, "
                "lr * g / np.sqrt(s + epsilon)."),
        Mistake(lambda *a, **k: (rms(*a, **k, no_eps=True)[0] + k.get("epsilon", 1e-7), rms(*a, **k)[1]),
                "epsilon is added to the weight: it belongs under the root, w - lr * g / sqrt(s + epsilon)."),
        Mistake(lambda *a, **k: rms(*a, **k, eps_squared=True),
                "epsilon is squared: Keras's RMSprop divides by sqrt(s + epsilon)."),
        Mistake(lambda *a, **k: rms(*a, **k, root_s=True),
                "the state to return is the average s itself, not its square root: the root is taken only in the "
                "step."),
        Mistake(lambda *a, **k: rms(*a, **k, precedence=True),
                "precedence: `rho*s + 1 - rho*g*g` is not (1 - rho)*g*g; put brackets around (1 - rho)."),
    ])


# --------------------------------------------------------------------------- Adam
def adam_in_float64(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras's Adam step in exact float64 arithmetic (course_lib's ``Adam``, like Keras, rounds
    ``beta_1`` and ``beta_2`` to float32 inside ``beta**t``; the tests check the two agree)."""
    return _adam(w, m, v, g, t, learning_rate, beta_1, beta_2, epsilon, "keras")


def adam_reference_course_lib(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """The same step taken by ``course_lib.optimizers.Adam`` from state ``(t - 1, m, v)``."""
    opt = Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    w_new, state = opt.step(w, g, AdamState(t - 1, m, v, None))
    return w_new, state.momentums, state.velocities


def _adam(w, m, v, g, t, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, form="keras"):
    if form == "m without 1 - beta_1":
        m, v, form = b1 * m + g, b2 * v + (1 - b2) * g * g, "keras"
    elif form == "g and g*g swapped":
        m, v, form = b1 * m + (1 - b1) * g * g, b2 * v + (1 - b2) * g, "keras"
    elif form == "v of g":
        m, v, form = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g, "keras"
    elif form == "v of |g|":
        m, v, form = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * np.abs(g), "keras"
    elif form == "betas swapped":
        m, v, form = b2 * m + (1 - b2) * g, b1 * v + (1 - b1) * g * g, "keras"
    else:
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    with np.errstate(divide="ignore", invalid="ignore"):
        if form == "alpha precedence":
            alpha = lr * np.sqrt(1 - b2 ** t) / 1 - b1 ** t
            return w - alpha * m / (np.sqrt(v) + eps), m, v
        if form == "eps on the ratio":
            return w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * (m / np.sqrt(v) + eps), m, v
        if form == "corrected state":
            step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
            return w - step, m / (1 - b1 ** t), v / (1 - b2 ** t)
        if form == "no correction":
            step = lr * m / (np.sqrt(v) + eps)
        elif form == "t from 0":
            step = lr * np.sqrt(1 - b2 ** (t - 1)) / (1 - b1 ** (t - 1)) * m / (np.sqrt(v) + eps)
        elif form == "seed 004":
            step = lr / (np.sqrt(v) + eps) * m / np.sqrt(1 - b1 ** t)
        elif form == "no v correction":
            step = lr * m / (1 - b1 ** t) / (np.sqrt(v) + eps)
        elif form == "paper":
            step = lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        elif form == "eps inside":
            step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / np.sqrt(v + eps)
        elif form == "lr twice":
            step = lr * lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        elif form == "t + 1":
            step = lr * np.sqrt(1 - b2 ** (t + 1)) / (1 - b1 ** (t + 1)) * m / (np.sqrt(v) + eps)
        elif form == "no root":
            step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (v + eps)
        elif form == "no lr":
            step = np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        elif form == "sign":
            step = -lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        else:
            step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    return w - step, m, v


_ADAM_CASES = [
    (_W, np.zeros(3), np.zeros(3), _G, 1),
    ((_W, np.array([0.1, -0.2, 0.3]), np.array([0.01, 0.2, 0.5]), _G, 2), {"learning_rate": 0.01}),
    ((_W, np.array([0.1, -0.2, 0.3]), np.array([0.01, 0.2, 0.5]), _G, 10), {"learning_rate": 0.1}),
    ((np.array([1.0, 2.0]), np.zeros(2), np.zeros(2), np.array([1e-5, 2e-5]), 1), {"epsilon": 1e-4}),
    ((np.array([1.0, 2.0]), np.array([1e-6, 1e-6]), np.array([1e-12, 4e-12]), np.array([1e-5, 2e-5]), 3),
     {"epsilon": 1e-4, "beta_2": 0.9}),
]


def _implied_alpha_hint(adam_step):
    """When new_m and new_v are right and new_w moved along m / (sqrt(v) + epsilon) by another factor than
    alpha, write that factor with the exercise's symbols."""
    atoms = [("learning_rate", lambda k: k["lr"]), ("sqrt(1 - beta_2**t)", lambda k: np.sqrt(1 - k["b2"] ** k["t"])),
             ("/(1 - beta_1**t)", lambda k: 1 / (1 - k["b1"] ** k["t"])),
             ("sqrt(1 - beta_2**(t + 1))", lambda k: np.sqrt(1 - k["b2"] ** (k["t"] + 1))),
             ("/(1 - beta_1**(t + 1))", lambda k: 1 / (1 - k["b1"] ** (k["t"] + 1))),
             ("sqrt(1 - beta_2**(t - 1))", lambda k: np.sqrt(1 - k["b2"] ** (k["t"] - 1))),
             ("/(1 - beta_1**(t - 1))", lambda k: 1 / (1 - k["b1"] ** (k["t"] - 1)) if k["t"] > 1 else np.inf),
             ("/(1 - beta_1)**t", lambda k: 1 / (1 - k["b1"]) ** k["t"]),
             ("(1 - beta_1**t)", lambda k: 1 - k["b1"] ** k["t"]),
             ("/sqrt(1 - beta_2**t)", lambda k: 1 / np.sqrt(1 - k["b2"] ** k["t"])),
             ("(1 - beta_2**t)", lambda k: 1 - k["b2"] ** k["t"]),
             ("/sqrt(1 - beta_1**t)", lambda k: 1 / np.sqrt(1 - k["b1"] ** k["t"])), ("2", lambda k: 2.0),
             ("/2", lambda k: 0.5)]
    alphas, symbols = [], []
    for case in _ADAM_CASES:
        args, kwargs = (case if isinstance(case[-1], dict) else (case, {}))
        w, m, v, g, t = args
        lr, b1 = kwargs.get("learning_rate", 0.001), kwargs.get("beta_1", 0.9)
        b2, eps = kwargs.get("beta_2", 0.999), kwargs.get("epsilon", 1e-7)
        try:
            with quietly():
                new_w, new_m, new_v = (np.asarray(x, dtype=float) for x in adam_step(*copy.deepcopy(args), **kwargs))
        except Exception:
            return None
        exp_w, exp_m, exp_v = adam_in_float64(*args, **kwargs)
        if not (np.allclose(new_m, exp_m, rtol=1e-5, atol=1e-12) and np.allclose(new_v, exp_v, rtol=1e-5, atol=1e-15)):
            return None
        with quietly():
            for along, top in (("m", exp_m), ("g", np.asarray(g, dtype=float))):
                implied = (w - new_w) / (top / (np.sqrt(exp_v) + eps))
                if np.all(np.isfinite(implied)) and np.allclose(implied, implied.flat[0], rtol=1e-5):
                    direction = along
                    break
            else:
                return None
        if direction == "g":
            return ("the step is along the gradient g; Adam steps along its moving average: "
                    "w - alpha * m / (sqrt(v) + epsilon), with the new m.")
        alphas.append(implied.flat[0])
        symbols.append({"lr": lr, "b1": b1, "b2": b2, "t": t})
    for n in (1, 2, 3, 4):
        for combo in _combinations(atoms, n):
            with quietly():
                values = [np.prod([fn(k) for _, fn in combo]) for k in symbols]
            if all(np.isclose(a, v, rtol=1e-5) for a, v in zip(alphas, values)):
                text = "*".join(name for name, _ in combo).replace("*/", "/")
                if text == "learning_rate*sqrt(1 - beta_2**t)/(1 - beta_1**t)":
                    return None
                return (f"your step is w - alpha * m / (sqrt(v) + epsilon) with alpha = {text}; Keras's alpha is "
                        "learning_rate*sqrt(1 - beta_2**t)/(1 - beta_1**t), with t the number of this step "
                        "(1 for the first).")
    return None


def _combinations(atoms, n):
    import itertools
    return itertools.combinations(atoms, n)


def check_adam_step(adam_step):
    """Exercise 4: one Adam step with step number ``t`` (1 for the first), returning ``(w, m, v)``.

    A slip no catalogue entry explains, where new_m and new_v are right, is diagnosed by the step
    size ``alpha`` the answer implies, written with the exercise's symbols when possible.
    """
    try:
        _check_adam(adam_step)
    except CheckFailed as failure:
        if failure.hint is not None and not failure.by_mutant:
            raise
        try:
            hint = _implied_alpha_hint(adam_step)
        except Exception:  # an answer of the wrong shape or type: the failure's own sentence says so
            hint = None
        if hint is None:
            raise
        first, *rest = failure.unhinted.split("\n")
        verdict, _, what = first.partition(": ")
        details = [("what", what)] + [tuple(p.strip() for p in line.split(":", 1)) for line in rest if ":" in line]
        raise CheckFailed(failure_message(verdict, hint, details), hint) from None


def _check_adam(adam_step):
    def mistake(form):
        def fn(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
            return _adam(w, m, v, g, t, learning_rate, beta_1, beta_2, epsilon, form)
        return fn

    def swapped(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        new_w, new_m, new_v = adam_in_float64(w, m, v, g, t, learning_rate, beta_1, beta_2, epsilon)
        return new_w, new_v, new_m

    check_function(adam_step, adam_in_float64, _ADAM_CASES, name="adam_step", rtol=1e-5, atol=1e-9,
                   names=("new_w", "new_m", "new_v"), mistakes=[
        Mistake(mistake("no correction"),
                "the bias correction is missing: m and v start at zero, so divide the step by (1 - beta_1**t) and "
                "multiply by sqrt(1 - beta_2**t) (Keras folds both into alpha)."),
        Mistake(mistake("t from 0"),
                "the bias correction uses t counting from 0: the first step has t = 1, so 1 - beta_1**t is 0.1, "
                "not 0."),
        Mistake(mistake("seed 004"),
                "that is seed 004's printed formula, which corrects m by sqrt(1 - beta_1**t) and leaves v "
                "uncorrected: use m / (1 - beta_1**t) and v / (1 - beta_2**t)."),
        Mistake(mistake("no v correction"),
                "the correction of v is missing: the step also needs the factor sqrt(1 - beta_2**t)."),
        Mistake(mistake("paper"),
                "that is the paper's form, epsilon added to sqrt(v_hat). Keras adds epsilon to the uncorrected "
                "sqrt(v) and folds both corrections into alpha = lr*sqrt(1 - beta_2**t)/(1 - beta_1**t); "
                "the two differ when v is tiny."),
        Mistake(mistake("eps inside"),
                "epsilon is inside the square root: Adam adds it outside, sqrt(v) + epsilon."),
        Mistake(mistake("lr twice"),
                "the learning rate is applied twice."),
        Mistake(mistake("t + 1"),
                "the bias-correction exponent is off by one: with t the number of this step (1 for the first), "
                "use beta_1**t and beta_2**t, not beta**(t + 1)."),
        Mistake(mistake("no root"),
                "the square root is missing: the step divides by sqrt(v) + epsilon, the root of the average "
                "squared gradient."),
        Mistake(mistake("no lr"),
                "the learning rate is missing: alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)."),
        Mistake(mistake("sign"),
                "the step has the wrong sign: Adam *subtracts*, w - alpha * m / (sqrt(v) + epsilon)."),
        Mistake(mistake("m without 1 - beta_1"),
                "the factor (1 - beta_1) is missing in m = beta_1*m + (1 - beta_1)*g."),
        Mistake(swapped,
                "m and v are returned in the wrong order: return (new_w, new_m, new_v)."),
        Mistake(mistake("g and g*g swapped"),
                "g and g * g are swapped: m averages the gradient, m = beta_1*m + (1 - beta_1)*g, and v its "
                "square, v = beta_2*v + (1 - beta_2)*g*g."),
        Mistake(mistake("v of g"),
                "new_v is not right: v is the moving average of the *squared* gradient, "
                "v = beta_2*v + (1 - beta_2)*g*g, not of g. An average of g can be negative, and then sqrt(v) is NaN."),
        Mistake(mistake("v of |g|"),
                "v is the moving average of the *squared* gradient, g * g, not of |g|."),
        Mistake(mistake("betas swapped"),
                "beta_1 and beta_2 are swapped: m = beta_1*m + (1 - beta_1)*g and v = beta_2*v + (1 - beta_2)*g*g."),
        Mistake(mistake("corrected state"),
                "the state returned is the bias-corrected m_hat, v_hat: return the raw averages m and v (the "
                "correction is recomputed at every step from t)."),
        Mistake(mistake("alpha precedence"),
                "precedence: `lr * sqrt(1 - beta_2**t) / 1 - beta_1**t` divides by 1; put brackets around "
                "(1 - beta_1**t)."),
        Mistake(mistake("eps on the ratio"),
                "precedence: `m / np.sqrt(v) + epsilon` adds epsilon to the ratio; it belongs in the denominator, "
                "m / (np.sqrt(v) + epsilon)."),
    ])


# --------------------------------------------------------------------------- predict, then run
_FIRST_STEP = dict(learning_rate=0.01, beta_1=0.5, beta_2=0.9)


def _adam_first_step_run():
    lines = []
    for g in (5e-7, 1e-3, 1.0, 500.0, 1e6):
        w, _, _ = adam_in_float64(np.zeros(1), np.zeros(1), np.zeros(1), np.array([g]), 1, **_FIRST_STEP)
        lines.append(f"gradient {g:8.0e}: first step of Adam(0.01, beta_1=0.5, beta_2=0.9) moves w by {abs(w[0]):.6f}")
    return "\n".join(lines)


def check_adam_first_step_prediction(answer):
    """Predict: Keras's Adam(learning_rate=0.01, beta_1=0.5, beta_2=0.9), first step, gradient 500: how far?"""
    check_prediction(
        answer, name="first_step_length", correct=0.01, tolerance=1e-3,
        explanation="at t = 1, m = (1 - beta_1) g and v = (1 - beta_2) g**2, and alpha = lr * sqrt(1 - beta_2) / "
                    "(1 - beta_1). The step is alpha * m / (sqrt(v) + eps) = lr * sqrt(1 - beta_2) |g| / "
                    "(sqrt(1 - beta_2) |g| + eps): the learning rate times a number below 1, close to 1 unless "
                    "sqrt(1 - beta_2) |g| is comparable to epsilon (the 5e-07 row). The betas and the size of the "
                    "gradient cancel: the first step is the learning rate, 0.01. (3.16 lr is a bound for later steps "
                    "with the default betas; (1 - beta_1)/sqrt(1 - beta_2) lr = 0.0158 would be the step without the "
                    "bias correction.)",
        evidence=_adam_first_step_run)


def _terminal_velocity_run():
    w, v, lines = 0.0, 0.0, []
    for k in range(1, 101):
        w, v = w + (0.9 * v - 0.1 * 1.0), 0.9 * v - 0.1 * 1.0
        if k in (1, 2, 10, 50, 100):
            lines.append(f"step {k:3d}: velocity {v:.6f}")
    lines.append(f"-learning_rate * g / (1 - momentum) = {-0.1 * 1.0 / (1 - 0.9):.6f}")
    return "\n".join(lines)


def check_terminal_velocity_prediction(answer):
    """Predict: momentum 0.9, learning rate 0.1, a constant gradient 1: the velocity it settles at."""
    check_prediction(
        answer, name="terminal_velocity", correct=-1.0, tolerance=0.01,
        explanation="the velocity stops changing when v = 0.9 v - 0.1 * 1, that is v = -0.1 / (1 - 0.9) = -1: "
                    "on a constant slope momentum multiplies the step by 1 / (1 - momentum), here 10 times the "
                    "plain gradient step of 0.1.",
        evidence=_terminal_velocity_run)
