"""Checks for the exercises of lesson 04, learning-rate decay schedules.

The references are :mod:`course_lib.schedules` (float32, like Keras); answers in float64 pass
Exercises 1 to 4, since the comparison allows a relative error of 1e-5.  Exercise 5 asks for float32
weights, and its check requires them.
"""


import numpy as np

from ..descent import minimize
from ..objectives import SEED_LOSS
from ..optimizers import SGD
from ..schedules import CosineDecay, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay
from . import CheckFailed, Mistake, check_function, check_prediction, failure_message

__all__ = ["check_exponential_decay", "check_inverse_time_decay", "check_warmup_cosine", "check_rates_for_updates",
           "check_descend_with_schedule", "check_lower_loss", "check_rate_at_update_10"]


def _exponential(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    return ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase)(step)


_POWER_THEN_DIVIDE = ("brackets: `decay_rate ** step / decay_steps` raises decay_rate to the power step, then "
                      "divides the rate by decay_steps (** binds tighter than /); write "
                      "decay_rate ** (step / decay_steps).")


def check_exponential_decay(exponential_decay):
    """Exercise 1: ``initial_learning_rate * decay_rate ** (step / decay_steps)``, floor'ed with staircase."""
    cases = [(0, 0.1, 10, 0.9), (10, 0.1, 10, 0.9), (7, 0.1, 10, 0.9), (25, 0.5, 10, 0.5),
             ((12, 0.1, 10, 0.9), {"staircase": True}),
             ((7, 0.1, 10, 0.9), {"staircase": True}), ((15, 0.1, 10, 0.5), {"staircase": True}),
             ((19, 1.0, 10, 0.5), {"staircase": True}), ((20, 1.0, 10, 0.5), {"staircase": True}),
             ((3, 0.1, 1, 0.99), {"staircase": True}), (5, 0.2, 4, 0.5)]

    def rate(step, lr, ds, dr):
        return lr * dr ** (step / ds)

    check_function(exponential_decay, _exponential, cases, name="exponential_decay",
                   factors={"initial_learning_rate": lambda s, lr, ds, dr, staircase=False: lr}, mistakes=[
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** (np.round(s / ds) if staircase else s / ds),
                "staircase uses floor(step / decay_steps), not rounding: the rate stays flat for the whole "
                "`decay_steps` steps and drops only when a full period is done."),
        Mistake(lambda s, lr, ds, dr, staircase=False: rate(s, lr, ds, dr),
                "`staircase=True` is ignored: it should replace step / decay_steps by floor(step / decay_steps)."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** (np.ceil(s / ds) if staircase else s / ds),
                "staircase uses floor(step / decay_steps), not ceil: the first drop comes after decay_steps steps."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** (np.floor((s + 1) / ds) if staircase
                                                                    else (s + 1) / ds),
                "off by one step: the first update is step 0 and uses the initial learning rate unchanged."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** (np.floor(s) if staircase else s),
                "the exponent is step / decay_steps: the rate is multiplied by decay_rate once every "
                "decay_steps steps, not every step."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr * (np.floor(s / ds) if staircase else s / ds),
                "decay_rate is raised to the power step / decay_steps (**), not multiplied by it."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * ds ** (np.floor(s / dr) if staircase else s / dr),
                "decay_steps and decay_rate are swapped: the arguments come in the order "
                "(step, initial_learning_rate, decay_steps, decay_rate)."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** (ds / s),
                "the exponent is step / decay_steps, not decay_steps / step."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** (np.floor(s / ds) if staircase else s) / ds,
                _POWER_THEN_DIVIDE),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** np.floor(s / ds) if staircase
                else lr * dr ** s / ds, _POWER_THEN_DIVIDE),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** (s // ds),
                "`//` floors step / decay_steps always; only staircase=True floors it, the smooth decay "
                "uses step / decay_steps."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** (np.floor(s / ds) if staircase else s * ds),
                "the exponent is step / decay_steps, not step * decay_steps."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * dr ** (s / ds if staircase else np.floor(s / ds)),
                "the two cases are swapped: floor(step / decay_steps) belongs to staircase=True, the smooth "
                "step / decay_steps to staircase=False."),
        Mistake(lambda s, lr, ds, dr, staircase=False: lr * np.exp(-dr * (np.floor(s / ds) if staircase else s / ds)),
                "that is exp(-decay_rate * step / decay_steps); Keras's exponential decay raises decay_rate "
                "itself to the power: decay_rate ** (step / decay_steps)."),
        Mistake(lambda s, lr, ds, dr, staircase=False: (lr * dr) ** (np.floor(s / ds) if staircase else s / ds),
                "brackets: only decay_rate is raised to the power, initial_learning_rate * decay_rate ** (...)."),
        Mistake(lambda s, lr, ds, dr, staircase=False: _exponential(s, lr, ds, 1 - dr, staircase),
                "decay_rate is the factor kept every decay_steps steps (0.9 keeps 90%), not the part removed: "
                "decay_rate ** p, not (1 - decay_rate) ** p."),
        Mistake(lambda s, lr, ds, dr, staircase=False: np.floor(_exponential(s, lr, ds, dr)) if staircase
                else _exponential(s, lr, ds, dr),
                "with staircase=True floor the exponent, step / decay_steps, not the rate itself."),
    ])


def check_inverse_time_decay(inverse_time_decay):
    """Exercise 2: ``initial_learning_rate / (1 + decay_rate * step / decay_steps)``."""
    cases = [(0, 0.1, 1, 0.01), (1, 0.1, 1, 0.01), (100, 0.1, 1, 0.01), (30, 0.5, 10, 0.5), (7, 1.0, 4, 2.0),
             (5, 0.3, 3, 0.25)]

    def ref(step, lr, ds, dr):
        return InverseTimeDecay(lr, ds, dr)(step)

    check_function(inverse_time_decay, ref, cases, name="inverse_time_decay",
                   factors={"initial_learning_rate": lambda s, lr, ds, dr: lr}, mistakes=[
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr * (s + 1) / ds),
                "off by one step: the first update is step 0 and uses the initial learning rate unchanged."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr * s),
                "step must be divided by decay_steps: lr / (1 + decay_rate * step / decay_steps)."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr) ** (s / ds),
                "that is exponential decay with factor 1 / (1 + decay_rate); inverse-time decay divides by "
                "1 + decay_rate * step / decay_steps, which grows linearly."),
        Mistake(lambda s, lr, ds, dr: lr * (1 + dr * s / ds),
                "the rate must be *divided* by 1 + decay_rate * step / decay_steps, so that it shrinks."),
        Mistake(lambda s, lr, ds, dr: lr / (dr * s / ds),
                "the 1 + is missing from the denominator: at step 0 the rate must be initial_learning_rate."),
        Mistake(lambda s, lr, ds, dr: lr / 1 + dr * s / ds,
                "brackets: `lr / 1 + decay_rate * step / decay_steps` divides by 1 only; write "
                "lr / (1 + decay_rate * step / decay_steps)."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr * (s // ds)),
                "`//` floors step / decay_steps (that is the staircase form); the smooth decay divides, "
                "step / decay_steps."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + ds * s / dr),
                "decay_steps and decay_rate are swapped: the arguments come in the order "
                "(step, initial_learning_rate, decay_steps, decay_rate)."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr) * s / ds,
                "brackets: the whole 1 + decay_rate * step / decay_steps is the denominator."),
        Mistake(lambda s, lr, ds, dr: lr - dr * s / ds,
                "that subtracts (a linear decay, which turns negative); inverse-time decay divides: "
                "lr / (1 + decay_rate * step / decay_steps)."),
        Mistake(lambda s, lr, ds, dr: lr / (1 - dr * s / ds),
                "the sign: the denominator 1 + decay_rate * step / decay_steps grows, so the rate shrinks."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr * s) / ds,
                "brackets: step / decay_steps goes inside the denominator, lr / (1 + decay_rate * step / decay_steps); "
                "you divided the whole rate by decay_steps."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr + s / ds),
                "decay_rate multiplies step / decay_steps: lr / (1 + decay_rate * step / decay_steps), not "
                "1 + decay_rate + step / decay_steps."),
        Mistake(lambda s, lr, ds, dr: lr,
                "the rate never decays: divide initial_learning_rate by 1 + decay_rate * step / decay_steps."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr * s * ds),
                "step is divided by decay_steps, not multiplied: lr / (1 + decay_rate * step / decay_steps)."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr ** (s / ds)),
                "decay_rate * step / decay_steps is a product; decay_rate ** (...) is a power (that belongs to "
                "exponential decay)."),
        Mistake(lambda s, lr, ds, dr: lr / (1 + dr * s / ds) ** 2,
                "no square: inverse-time decay divides by 1 + decay_rate * step / decay_steps itself."),
    ])


def _warmup_cosine(step, peak, warmup_steps, decay_steps, alpha=0.0):
    return CosineDecay(0.0, decay_steps, alpha=alpha, warmup_target=peak, warmup_steps=warmup_steps)(step)


def check_warmup_cosine(warmup_cosine):
    """Exercise 3: linear warmup from 0 to ``peak``, then cosine decay to ``alpha * peak``."""
    cases = [(0, 0.1, 10, 100), (5, 0.1, 10, 100), (10, 0.1, 10, 100), (35, 0.1, 10, 100), (60, 0.1, 10, 100),
             (110, 0.1, 10, 100), (500, 0.1, 10, 100), ((60, 1.0, 20, 40), {"alpha": 0.1}),
             ((200, 1.0, 20, 40), {"alpha": 0.1}), ((3, 1.0, 4, 8), {"alpha": 0.5}),
             ((30, 0.5, 20, 40), {"alpha": 0.2})]

    def cosine(t, peak, decay_steps, alpha):
        return peak * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * t / decay_steps)) + alpha)

    def no_clamp(s, peak, w, d, alpha=0.0):
        return peak * s / w if s < w else cosine(s - w, peak, d, alpha)

    def no_shift(s, peak, w, d, alpha=0.0):
        return peak * s / w if s < w else cosine(min(s, w + d), peak, d, alpha)

    def warm_off_by_one(s, peak, w, d, alpha=0.0):
        return peak * (s + 1) / w if s < w else cosine(min(s - w, d), peak, d, alpha)

    def no_alpha(s, peak, w, d, alpha=0.0):
        return peak * s / w if s < w else cosine(min(s - w, d), peak, d, 0.0)

    def alpha_added(s, peak, w, d, alpha=0.0):
        return peak * s / w if s < w else peak * (0.5 * (1 + np.cos(np.pi * min(s - w, d) / d)) + alpha)

    check_function(warmup_cosine, _warmup_cosine, cases, name="warmup_cosine",
                   factors={"peak": lambda s, peak, w, d, alpha=0.0: peak}, mistakes=[
        Mistake(warm_off_by_one, "off by one step in the warmup: step 0 uses rate 0 and the rate reaches the "
                                 "peak at step warmup_steps, so the warmup rate is peak * step / warmup_steps."),
        Mistake(no_shift, "the cosine must start when the warmup ends: use step - warmup_steps in the cosine."),
        Mistake(no_clamp, "after decay_steps steps of cosine the rate must stay at alpha * peak: clamp the cosine's "
                          "step with min(step - warmup_steps, decay_steps), or the cosine climbs back up."),
        Mistake(no_alpha, "alpha is ignored: the cosine ends at alpha * peak, "
                          "peak * ((1 - alpha) * 0.5 * (1 + cos(pi * t / decay_steps)) + alpha)."),
        Mistake(alpha_added, "scale the cosine by (1 - alpha) before adding alpha, or the rate starts above the peak."),
        Mistake(lambda s, peak, w, d, alpha=0.0: no_alpha(s, peak, w, d) * (1 - alpha) + alpha if s >= w
                else peak * s / w,
                "alpha is a fraction of the peak: the floor is alpha * peak, so add alpha inside, "
                "peak * ((1 - alpha) * 0.5 * (1 + cos(...)) + alpha)."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else
                peak * ((1 - alpha) * (1 + np.cos(np.pi * min(s - w, d) / d)) + alpha),
                "the 0.5 is missing: 1 + cos(...) runs from 2 down to 0, so halve it to run from 1 to 0."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else
                peak * ((1 - alpha) * 0.5 * np.cos(np.pi * min(s - w, d) / d) + alpha),
                "the cosine term is 0.5 * (1 + cos(pi * t / decay_steps)): the 1 + is missing."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else
                peak * ((1 - alpha) * 0.5 * (1 + np.cos(180 * min(s - w, d) / d)) + alpha),
                "np.cos and math.cos take radians: use pi * t / decay_steps, not 180 * t / decay_steps."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else cosine(s, peak, d, alpha),
                "the cosine must use t = min(step - warmup_steps, decay_steps): shift by the warmup, then cap "
                "at decay_steps (you used step itself)."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else
                (1 - alpha) * cosine(min(s - w, d), peak, d, 0.0),
                "alpha sets a floor: add it, peak * ((1 - alpha) * 0.5 * (1 + cos(...)) + alpha), instead of only "
                "scaling the cosine by (1 - alpha)."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / (w - 1) if s < w else cosine(min(s - w, d), peak, d, alpha),
                "the warmup divides by warmup_steps, peak * step / warmup_steps: it reaches the peak at step "
                "warmup_steps, where the cosine starts."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else
                peak * ((1 - alpha) * 0.5 * (1 + np.cos(2 * np.pi * min(s - w, d) / d)) + alpha),
                "half a cosine, pi * t / decay_steps: with 2 * pi the rate comes back up to the peak."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else
                peak * ((1 - alpha) * 0.5 * (1 + np.cos(np.radians(np.pi * min(s - w, d) / d))) + alpha),
                "pi * t / decay_steps is already in radians: no math.radians, np.cos(np.pi * t / decay_steps)."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak if s < w else cosine(min(s - w, d), peak, d, alpha),
                "the warmup is a ramp: the rate climbs from 0 at step 0 as peak * step / warmup_steps, it does not "
                "start at the peak."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else
                peak * max(0.5 * (1 + np.cos(np.pi * min(s - w, d) / d)), alpha),
                "alpha is not a cut-off: the whole cosine is squeezed between peak and alpha * peak, "
                "peak * ((1 - alpha) * 0.5 * (1 + cos(...)) + alpha)."),
        Mistake(lambda s, peak, w, d, alpha=0.0: cosine(min(s, d), peak, d, alpha),
                "the warmup is missing: for step < warmup_steps the rate is peak * step / warmup_steps, and the "
                "cosine starts after it."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * (s + 1) / (w + 1) if s < w else
                cosine(min(s - w, d), peak, d, alpha),
                "the warmup is peak * step / warmup_steps: rate 0 at step 0, the peak at step warmup_steps."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * (s // w) if s < w else cosine(min(s - w, d), peak, d, alpha),
                "`//` is floor division: step // warmup_steps is 0 during the whole warmup; use `/`."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else
                cosine(min(s - w, d - w), peak, d - w, alpha),
                "decay_steps counts the cosine's steps only, not the warmup's (as in Keras's CosineDecay): the "
                "cosine lasts decay_steps steps, from step warmup_steps to step warmup_steps + decay_steps; you "
                "made it decay_steps - warmup_steps steps long."),
        Mistake(lambda s, peak, w, d, alpha=0.0: peak * s / w if s < w else
                cosine(min(s - w, d), peak, d + w, alpha),
                "the cosine runs over decay_steps steps, not decay_steps + warmup_steps: divide t by decay_steps."),
    ])


def _rates_for_updates(schedule, epochs, batches_per_epoch):
    return [schedule(k) for k in range(epochs * batches_per_epoch)]


def check_rates_for_updates(rates_for_updates):
    """Exercise 4: the rate every update of an ``epochs x batches_per_epoch`` run uses (counted per update)."""
    schedule = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.9)
    steps = PiecewiseConstantDecay([3, 7], [1.0, 0.5, 0.25])
    cases = [(schedule, 3, 4), (schedule, 1, 5), (steps, 4, 3), (steps, 2, 6)]
    check_function(rates_for_updates, _rates_for_updates, cases, name="rates_for_updates", mistakes=[
        Mistake(lambda sch, e, b: [sch(epoch) for epoch in range(e) for _ in range(b)],
                "the decay is applied per epoch: every batch of an epoch got the same rate. The schedule's step "
                "counts updates (batches), epoch * batches_per_epoch + batch, as optimizer.iterations does."),
        Mistake(lambda sch, e, b: [sch(k + 1) for k in range(e * b)],
                "off by one step: the first update is step 0 (optimizer.iterations before the update), "
                "so it uses schedule(0)."),
        Mistake(lambda sch, e, b: [sch(batch) for _ in range(e) for batch in range(b)],
                "the step restarts at 0 every epoch: it must keep counting across epochs."),
        Mistake(lambda sch, e, b: [sch(epoch + 1) for epoch in range(e) for _ in range(b)],
                "the decay is applied per epoch and one epoch late: count updates from 0, across epochs."),
        Mistake(lambda sch, e, b: [sch(k) for k in range(e * b + 1)],
                "one rate too many: a run of epochs * batches_per_epoch updates uses steps 0 to "
                "epochs * batches_per_epoch - 1, so `range(epochs * batches_per_epoch)`, with no + 1."),
        Mistake(lambda sch, e, b: [sch(k) for k in range(e * b - 1)],
                "one rate per update: epochs * batches_per_epoch rates, `range(epochs * batches_per_epoch)`."),
        Mistake(lambda sch, e, b: [sch(epoch * e + batch) for epoch in range(e) for batch in range(b)],
                "the step is epoch * batches_per_epoch + batch: multiply by the number of batches, not of epochs."),
        Mistake(lambda sch, e, b: [sch(epoch + batch) for epoch in range(e) for batch in range(b)],
                "epoch + batch repeats steps: the step is epoch * batches_per_epoch + batch."),
        Mistake(lambda sch, e, b: [sch(batch * e + epoch) for epoch in range(e) for batch in range(b)],
                "the step is epoch * batches_per_epoch + batch (epochs outside, batches inside), "
                "not batch * epochs + epoch."),
        Mistake(lambda sch, e, b: [sch(epoch * b + batch) for epoch in [e - 1] for batch in range(b)],
                "only the last epoch's rates came back: create the list once, before the loops, not inside "
                "the epoch loop."),
        Mistake(lambda sch, e, b: [sch(epoch * b) for epoch in range(e) for _ in range(b)],
                "every batch of an epoch used the epoch's first step: use each update's own step, "
                "epoch * batches_per_epoch + batch."),
        Mistake(lambda sch, e, b: list(range(e * b)),
                "those are the step numbers: return the rate of each, schedule(step)."),
        Mistake(lambda sch, e, b: [sch(epoch * b) for epoch in range(e)],
                "one rate per epoch: append inside the batch loop, one rate per update."),
    ])


def _descend_with_schedule(schedule, w0, steps):
    opt = SGD(schedule)
    w = np.float32(w0)
    state = opt.init(w)
    out = [w]
    for _ in range(steps):
        w, state = opt.step(w, SEED_LOSS.grad(w), state)
        out.append(w)
    return out


def _schedule_variant(schedule, w0, steps, grad=lambda w: 2 * (w + 1), update=lambda w, lr, g: w - lr * g,
                      rate=lambda schedule, k, w: schedule(k), record_before=False):
    """The float32 loop a student writes, with one ingredient changed (for the catalogue)."""
    w = np.float32(w0)
    out = [w]
    for k in range(steps):
        new = np.float32(update(w, np.float32(rate(schedule, k, w)), np.float32(grad(w))))
        out.append(w if record_before else new)
        w = new
    return out


def check_descend_with_schedule(descend_with_schedule):
    """Exercise 5: SGD on ``(w + 1)**2`` in float32 whose k-th update (from 0) uses ``schedule(k)``."""
    seed_schedule = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.99, staircase=True)
    drop = PiecewiseConstantDecay([0, 2], [0.5, 0.1, 0.01])
    cases = [(seed_schedule, 5.0, 20), (drop, 5.0, 4), (InverseTimeDecay(0.4, 1, 1.0), -3.0, 6)]

    def shifted(schedule, w0, steps):
        return _descend_with_schedule(lambda k: schedule(k + 1), w0, steps)

    def constant(schedule, w0, steps):
        return _descend_with_schedule(lambda k: schedule(0), w0, steps)

    check_function(descend_with_schedule, _descend_with_schedule, cases, name="descend_with_schedule",
                   rtol=1e-5, atol=1e-6, mistakes=[
        Mistake(shifted, "off by one step: update k (counting from 0) uses schedule(k); the first update uses "
                         "schedule(0), the initial rate. (The seed's table prints schedule(k + 1) only because it "
                         "prints after the update.)"),
        Mistake(constant, "the rate never changes: call the schedule with the current step count in every update."),
        Mistake(lambda sch, w0, s: _descend_with_schedule(sch, w0, s)[1:],
                "the list should start with w0 itself, then hold the weight after each update (steps + 1 values)."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, update=lambda w, lr, g: w + lr * g),
                "the weight moves *up* the gradient: descent subtracts, w = w - schedule(k) * grad."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, grad=lambda w: 2 * w),
                "the gradient of (w + 1)**2 is 2*(w + 1); 2*w is the gradient of w**2."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, update=lambda w, lr, g: w - g / lr),
                "the gradient was divided by the rate; multiply: w - schedule(k) * grad."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, grad=lambda w: w + 1),
                "the gradient of (w + 1)**2 is 2*(w + 1): the factor 2 is missing."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, rate=lambda sch, k, w: sch(s)),
                "every update used the last step's rate, schedule(steps): call schedule(k) inside the loop."),
        Mistake(lambda sch, w0, s: _descend_with_schedule(sch, w0, s + 1),
                "one update too many: `range(steps)` runs exactly `steps` updates."),
        Mistake(lambda sch, w0, s: _descend_with_schedule(sch, w0, s - 1),
                "one update too few: the list holds w0 and then `steps` updates."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, rate=lambda sch, k, w: 2 * sch(k)),
                "an extra factor 2 in the step: the gradient 2 * (w + 1) already holds the 2; the update is "
                "w - schedule(k) * 2 * (w + 1)."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, rate=lambda sch, k, w: sch(k) ** 2),
                "the rate is applied twice (schedule(k) * schedule(k)): the update is w - schedule(k) * grad."),
        Mistake(lambda sch, w0, s: _descend_with_schedule(sch, w0, s)[-1],
                "return the whole list of weights (w0, then one per update), not only the last one."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, record_before=True),
                "each weight was recorded before its update (the list repeats w0 and misses the last weight): "
                "append w after the update."),
        Mistake(lambda sch, w0, s: [_descend_with_schedule(sch, w0, s)[-1]] * (s + 1),
                "every entry is the final weight: the loop changed one array in place (`w -= ...`) and appended "
                "that same array each time; write `w = w - rate * grad`, which makes a new value."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, grad=lambda w: 2 * (np.float32(w0) + 1)),
                "the gradient was computed once at w0 and reused: compute 2 * (w + 1) at the current w every step."),
        Mistake(lambda sch, w0, s: _schedule_variant(sch, w0, s, update=lambda w, lr, g: w - g),
                "the learning rate is missing from the update: w = w - schedule(k) * grad."),
    ], quiet=True)
    _require_float32(descend_with_schedule, cases)
    print(f"✓ descend_with_schedule is correct on {len(cases)} inputs (float32 weights).")


def _kind_of(value):
    """``float32``, ``float64 (a Python float)``, ... : how a weight is stored."""
    if isinstance(value, float):
        return "float64 (Python float)"
    try:
        return str(np.asarray(value).dtype)
    except Exception:  # noqa: BLE001  (an object numpy cannot read: name its type)
        return type(value).__name__


def _require_float32(descend_with_schedule, cases):
    """The values are right; the exercise also asks for float32 weights (float64 ones pass the values' tolerance)."""
    for schedule, w0, steps in cases:
        got = descend_with_schedule(schedule, w0, steps)
        items = list(got) if isinstance(got, (list, tuple)) else list(np.atleast_1d(np.asarray(got)))
        kinds = [_kind_of(item) for item in items]
        if all(kind == "float32" for kind in kinds):
            continue
        first = next(i for i, kind in enumerate(kinds) if kind != "float32")
        hint = (f"the values are right, but the weights are not float32: entry {first} is {kinds[first]}. The "
                "exercise asks for float32: start from w = np.float32(w0) and keep the update in float32 "
                "(float(...) and np.float64 values make float64).")
        details = [("called as", f"descend_with_schedule(schedule, {w0!r}, {steps!r})"), ("schedule", repr(schedule)),
                   ("returned", f"{len(items)} weights, of type {', '.join(sorted(set(kinds)))}"),
                   ("expected", f"{steps + 1} weights, each float32 (the first np.float32({w0!r}))")]
        raise CheckFailed(failure_message("descend_with_schedule is wrong", hint, details), hint) from None


# --------------------------------------------------------------------------- predict, then run
def check_lower_loss(answer):
    """Prediction 1: 100 steps on ``(w + 1)**2`` from w = 5: a halving schedule from 0.1, or a constant 0.02?"""
    def run():
        lines = []
        for label, schedule in (("decaying", ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)),
                                ("constant", lambda k: 0.02)):
            rates = np.array([schedule(k) for k in range(100)], dtype=np.float64)
            result = minimize(SEED_LOSS, 5.0, SGD(schedule), 100)
            lines.append(f"  {label}: rates {rates[0]:.4g} at step 0, {rates[50]:.4g} at step 50; "
                         f"product of (1 - 2*rate) = {np.prod(1 - 2 * rates):.4f}; "
                         f"w = {result.params[-1]:.4f}, loss {result.loss[-1]:.4f}")
        return "\n".join(lines)

    check_prediction(answer, name="lower_loss", choices=("decaying", "constant"), correct="constant",
                     explanation="each step multiplies the distance to -1 by 1 - 2*rate, so after 100 steps the "
                                 "distance is 6 times the product of those factors. The decaying rates start "
                                 "five times higher but halve every 10 steps, so most of its steps are tiny: its "
                                 "product stays larger than the constant rate's.",
                     evidence=run)


def check_rate_at_update_10(answer):
    """Prediction 2: the rate of update 10 (from 0) under ``ExponentialDecay(0.1, 10, 0.5, staircase=True)``."""
    def run():
        schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
        return "\n".join(f"  update {k}: rate {float(schedule(k)):g}" for k in (0, 9, 10, 19, 20))

    check_prediction(answer, name="rate_at_update_10", correct=0.05, tolerance=1e-9,
                     explanation="counting from 0, update 10 is the eleventh: floor(10 / 10) = 1 full period has "
                                 "passed, so the rate is 0.1 * 0.5**1 = 0.05. Updates 0 to 9 use 0.1. (In the "
                                 "lesson's section 3, row k of seed 001's table prints schedule(k + 1), the next "
                                 "update's rate; update k itself uses schedule(k).)",
                     evidence=run)
