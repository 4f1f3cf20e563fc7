"""Lesson 10's checks accept right answers and name the mistake in typical wrong ones."""

import functools

import numpy as np
import pytest
from check_helpers import predicts, rejects, sentence

import course_lib  # noqa: F401  (before TensorFlow: quiet start-up)
from course_lib import optimizers, schedules
from course_lib.checks import NotAttempted
from course_lib.checks import capstone as cc

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


# --------------------------------------------------------------------------- answers, right and wrong
def penalty(model, l2, form="right"):
    """The L2 penalty of exercise 1 (``l2 * sum(kernel**2)``), or a typical wrong form of it."""
    chosen = [v for v in model.trainable_variables if form == "biases too" or len(v.shape) == 2]
    total = sum((tf.reduce_mean if form == "mean" else tf.reduce_sum)(tf.square(v)) for v in chosen)
    return {"none": 0.0, "half": 0.5}.get(form, 1.0) * l2 * total


def make_step(from_logits=True, reduction="sum_over_batch_size", keep_state=True, assign=True, returns="both",
              outside_tape=False, loss_after=False, grads_first=False, swapped_loss=False, l2_form="right",
              takes_l2=True):
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=reduction)

    def loss_of(model, x, y, l2):
        logits = model(x, training=True)
        loss = loss_fn(logits, y) if swapped_loss else loss_fn(y, logits)
        return loss + penalty(model, l2, l2_form) if l2_form != "outside" else loss

    def train_step(model, optimizer, state, x, y, l2=0.0):
        if outside_tape:
            loss = loss_of(model, x, y, l2)
            with tf.GradientTape() as tape:
                pass
        else:
            with tf.GradientTape() as tape:
                loss = loss_of(model, x, y, l2)
        grads = tape.gradient(loss, model.trainable_variables)
        if l2_form == "outside":          # the penalty added to the loss after the tape: no gradient of it
            loss = loss + penalty(model, l2)
        params = [v.numpy() for v in model.trainable_variables]
        arrays = [g.numpy() for g in grads]
        new_params, new_state = (optimizer.step(arrays, params, state) if grads_first
                                 else optimizer.step(params, arrays, state))
        if assign:
            for v, p in zip(model.trainable_variables, new_params):
                v.assign(p)
        if returns == "loss":
            return loss
        if loss_after:
            loss = loss_of(model, x, y, l2)
        if returns == "swapped":
            return new_state, loss
        return loss, (new_state if keep_state else state)
    if not takes_l2:
        return lambda model, optimizer, state, x, y: train_step(model, optimizer, state, x, y)
    return train_step


RIGHT_STEP = make_step()


def make_ema(num_updates=True, init_after_first=False, apply=True, reset=False, start=1, swapped=False,
             step=RIGHT_STEP, before=False, return_state=False):
    def train_with_ema(model, optimizer, ema, batch_list):
        params = [v.numpy() for v in model.trainable_variables]
        state = optimizer.init(params)
        ema_state = None if init_after_first else ema.init(params)
        for k, (x, y) in enumerate(batch_list, start=start):
            if before:
                ema_state = ema.apply([v.numpy() for v in model.trainable_variables], ema_state, num_updates=k)
                _, state = step(model, optimizer, state, x, y)
                continue
            _, state = step(model, optimizer, state, x, y)
            now = [v.numpy() for v in model.trainable_variables]
            if ema_state is None or reset:
                ema_state = ema.init(now)
            elif apply:
                ema_state = ema.apply(now, ema_state, num_updates=k if num_updates else None)
        weights = [v.numpy() for v in model.trainable_variables]
        if return_state:
            return weights, ema_state
        if swapped:
            return ema.average(ema_state), weights
        return weights, ema.average(ema_state)
    return train_with_ema


def make_eval(restore=True, use_weights=True, fraction=True, result="accuracy", axis=1, references=False):
    def evaluate_with(model, weights, x, y):
        own = list(model.trainable_variables) if references else [v.numpy() for v in model.trainable_variables]
        if use_weights:
            for v, w in zip(model.trainable_variables, weights):
                v.assign(w)
        correct = np.sum(np.argmax(model(x).numpy(), axis=axis) == y)
        if restore:
            for v, w in zip(model.trainable_variables, own):
                v.assign(w)
        if result == "error rate":
            return 1 - correct / len(y)
        if result == "percent":
            return 100 * correct / len(y)
        if result == "loss":
            for v, w in zip(model.trainable_variables, weights):
                v.assign(w)
            loss = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x)))
            for v, w in zip(model.trainable_variables, own):
                v.assign(w)
            return loss
        return correct / len(y) if fraction else correct
    return evaluate_with


def twin(lr=None, momentum=0.9):
    lr = lr if lr is not None else schedules.ExponentialDecay(0.05, decay_steps=100, decay_rate=0.5)
    return optimizers.SGD(learning_rate=lr, momentum=momentum)


def test_reference_answers_pass(capsys):
    cc.check_train_step(RIGHT_STEP)
    cc.check_optimizer_twin(twin())
    cc.check_train_with_ema(make_ema())
    cc.check_evaluate_with(make_eval())
    assert capsys.readouterr().out.count("✓") == 4


# --------------------------------------------------------------------------- exercise 1
def test_train_step_mistakes():
    rejects(cc.check_train_step, make_step(assign=False), "assign")
    rejects(cc.check_train_step, make_step(keep_state=False), "state was not carried")
    rejects(cc.check_train_step, make_step(reduction="sum"), "summed")
    rejects(cc.check_train_step, make_step(from_logits=False), "from_logits=True")


def test_train_step_more_mistakes():
    rejects(cc.check_train_step, make_step(outside_tape=True), "inside the `with tf.GradientTape() as tape:`")
    rejects(cc.check_train_step, make_step(returns="swapped"), "the loss first")
    rejects(cc.check_train_step, make_step(loss_after=True), "*after* the update")
    rejects(cc.check_train_step, make_step(grads_first=True), "the weights first")


def test_train_step_swapped_loss_arguments():
    text = rejects(cc.check_train_step, make_step(swapped_loss=True), "labels first")
    assert "raised ValueError" in text


@pytest.mark.parametrize("form, words", [("none", "penalty is missing"), ("biases too", "biases are penalised"),
                                         ("half", "without a factor 1/2"), ("mean", "not their mean"),
                                         ("outside", "outside the `GradientTape` block")])
def test_train_step_l2_mistakes(form, words):
    rejects(cc.check_train_step, make_step(l2_form=form), words)


def test_train_step_without_the_l2_argument():
    rejects(cc.check_train_step, make_step(takes_l2=False), "sixth argument")


def test_train_step_bad_returns_get_a_sentence():
    sentence(cc.check_train_step, make_step(returns="loss"), "should return the pair")
    sentence(cc.check_train_step, lambda *a: 1 / 0, "raised ZeroDivisionError")
    sentence(cc.check_train_step, 3.0, "should be a function")

    def unfinished(*args):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        cc.check_train_step(unfinished)


# --------------------------------------------------------------------------- exercise 2
def test_optimizer_twin_mistakes():
    rejects(cc.check_optimizer_twin, twin(lr=0.05), "schedule itself")
    rejects(cc.check_optimizer_twin, twin(schedules.ExponentialDecay(0.05, 100, 0.5, staircase=True)), "staircase")
    text = rejects(cc.check_optimizer_twin, twin(schedules.ExponentialDecay(0.05, 0.5, 100)), "swapped")
    # the message names the first step where the rates differ, with both true values (at step 0 both are 0.05)
    swapped = schedules.ExponentialDecay(0.05, 0.5, 100)(7)
    keras_rate = keras.optimizers.schedules.ExponentialDecay(0.05, 100, 0.5)(7)
    assert f"at step 7 your learning rate is {float(swapped):.6g}; Keras's is {float(keras_rate):.6g}" in text, text
    rejects(cc.check_optimizer_twin, twin(schedules.InverseTimeDecay(0.05, 100, 0.5)), "ExponentialDecay")
    rejects(cc.check_optimizer_twin, twin(momentum=0.0), "momentum=0.9")
    rejects(cc.check_optimizer_twin, optimizers.SGD(twin().learning_rate, momentum=0.9, nesterov=True), "nesterov")
    rejects(cc.check_optimizer_twin, twin(schedules.ExponentialDecay(0.5, 100, 0.05)),
            "initial_learning_rate=0.5 (Keras: 0.05), decay_rate=0.05 (Keras: 0.5)")
    rejects(cc.check_optimizer_twin, keras.optimizers.SGD(0.05, momentum=0.9), "course_lib")
    sentence(cc.check_optimizer_twin, None, "should be a course_lib")
    with pytest.raises(NotAttempted):
        cc.check_optimizer_twin(...)


# --------------------------------------------------------------------------- exercise 3
def test_train_with_ema_mistakes():
    rejects(cc.check_train_with_ema, make_ema(num_updates=False), "num_updates")
    rejects(cc.check_train_with_ema, make_ema(apply=False), "never moved")
    rejects(cc.check_train_with_ema, make_ema(reset=True), "one EMA state")


def test_train_with_ema_more_mistakes():
    text = rejects(cc.check_train_with_ema, make_ema(start=0), "counted from 0")
    # the verdict names the average and its reference, then the named mistake
    assert "the averaged weights differ from tf.train.ExponentialMovingAverage's" in text, text
    rejects(cc.check_train_with_ema, make_ema(start=2), "not k + 1")
    # (starting the average after the first step is no mistake the check can see: with the warm-up's small
    # decays the difference fades below the tolerance within the first steps)
    rejects(cc.check_train_with_ema, make_ema(swapped=True), "wrong order")
    rejects(cc.check_train_with_ema, make_ema(before=True), "*before* the training step")
    rejects(cc.check_train_with_ema, make_ema(return_state=True), "ema.average(ema_state)")


def test_train_with_ema_names_a_wrong_train_step():
    # a right train_with_ema calling a wrong train_step: the mistake is named as exercise 1's
    for step, words in ((make_step(assign=False), "assign"), (make_step(keep_state=False), "state was not carried"),
                        (make_step(returns="swapped"), "the loss first")):
        text = rejects(functools.partial(cc.check_train_with_ema, train_step=step), make_ema(step=step),
                       "in `train_step` (exercise 1), which `train_with_ema` calls")
        assert words in text, text
    # without train_step the check cannot tell, and says what differs
    text = str(pytest.raises(cc.CheckFailed, cc.check_train_with_ema, make_ema(step=make_step(assign=False))).value)
    assert "exercise 1" not in text and "differ from Keras's optimizer's" in text, text
    # a wrong train_with_ema with a right train_step keeps its own hint
    rejects(functools.partial(cc.check_train_with_ema, train_step=RIGHT_STEP), make_ema(num_updates=False),
            "num_updates")


def test_train_with_ema_names_the_unwritten_train_step():
    def train_step(model, optimizer, state, x, y):
        raise NotImplementedError()
    with pytest.raises(NotAttempted) as info:
        cc.check_train_with_ema(make_ema(step=train_step))
    assert str(info.value).startswith("`train_step` is not written yet (`train_with_ema` calls it)")


def test_train_with_ema_bad_returns_get_a_sentence():
    sentence(cc.check_train_with_ema, lambda *a: None, "returned None")
    sentence(cc.check_train_with_ema, lambda m, o, e, b: ([v.numpy() for v in m.trainable_variables], None),
             "is None")
    sentence(cc.check_train_with_ema, lambda m, o, e, b: ([np.zeros(3)] * 6, [np.zeros(3)] * 6), "shape")


# --------------------------------------------------------------------------- exercise 4
def test_evaluate_with_mistakes():
    rejects(cc.check_evaluate_with, make_eval(restore=False), "never put back")
    rejects(cc.check_evaluate_with, make_eval(references=True), "keeps references")
    rejects(cc.check_evaluate_with, make_eval(fraction=False), "divide by the number")
    rejects(cc.check_evaluate_with, make_eval(use_weights=False), "assign `weights`")
    sentence(cc.check_evaluate_with, lambda *a: "high", "should return the accuracy")
    rejects(cc.check_evaluate_with, make_eval(result="error rate"), "error rate")
    rejects(cc.check_evaluate_with, make_eval(result="percent"), "percentage")
    rejects(cc.check_evaluate_with, make_eval(result="loss"), "cross-entropy loss")
    rejects(cc.check_evaluate_with, make_eval(axis=0), "axis=1")


# --------------------------------------------------------------------------- predict, then run
@pytest.mark.parametrize("check, right, wrong, shown", [
    (cc.check_schedule_prediction, 0.0125, 0.025, "step 200: course_lib 0.012500, Keras 0.012500"),
    (cc.check_first_average_prediction, 0.82, 0.01, "share of the way to the new weights, per weight: [0.8182"),
])
def test_predictions(check, right, wrong, shown, capsys):
    predicts(check, right, wrong, shown, capsys)


# --------------------------------------------------------------------------- exercise 5 and its prediction
def _se(fn, mean=np.mean):
    return lambda values: (float(mean(np.asarray(values, float))), float(fn(np.asarray(values, float))))


def test_mean_and_standard_error_passes_and_accepts_the_ddof0_form(capsys):
    cc.check_mean_and_standard_error(lambda v: (np.mean(v), np.std(v, ddof=1) / np.sqrt(len(v))))
    # std with ddof=0 over sqrt(n - 1) is the same number, written differently
    cc.check_mean_and_standard_error(lambda v: (np.mean(v), np.std(v) / np.sqrt(len(v) - 1)))
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize("wrong, words", [
    (_se(lambda v: v.std() / np.sqrt(v.size)), "ddof=0"),
    (_se(lambda v: v.std(ddof=1)), "standard deviation of one seed"),
    (_se(lambda v: v.std()), "not divided by sqrt(n)"),
    (_se(lambda v: v.std(ddof=1) / v.size), "not by n"),
    (_se(lambda v: v.std(ddof=1) / np.sqrt(v.size - 1)), "not sqrt(n - 1)"),
    (_se(lambda v: v.var(ddof=1) / np.sqrt(v.size)), "variance divided by sqrt(n)"),
    (_se(lambda v: v.var(ddof=1) / v.size), "square of the standard error"),
    (_se(lambda v: v.var() / v.size), "with ddof=0 too"),
    (_se(lambda v: np.ptp(v) / np.sqrt(v.size)), "range"),
    (_se(lambda v: np.mean(np.abs(v - v.mean())) / np.sqrt(v.size)), "mean absolute deviation"),
    (_se(lambda v: np.sqrt(np.sum(v * v) / (v.size - 1)) / np.sqrt(v.size)), "distances from the mean"),
    (_se(lambda v: v.std(ddof=1) / np.sqrt(v.size), mean=np.sum), "sum of the values"),
    (_se(lambda v: v.std(ddof=1) / np.sqrt(v.size), mean=np.median), "median"),
])
def test_mean_and_standard_error_mistakes(wrong, words):
    rejects(cc.check_mean_and_standard_error, wrong, words)


def test_mean_and_standard_error_swapped_and_unwritten():
    from course_lib.checks import CheckFailed
    with pytest.raises(CheckFailed, match="(?i)swap|order"):
        cc.check_mean_and_standard_error(lambda v: (np.std(v, ddof=1) / np.sqrt(len(v)), np.mean(v)))

    def unwritten(values):
        raise NotImplementedError()
    with pytest.raises(NotAttempted):
        cc.check_mean_and_standard_error(unwritten)


def test_more_seeds_prediction(capsys):
    predicts(cc.check_more_seeds_prediction, 27, 9, "ratio 27 seeds / 3 seeds: 0.33", capsys)
