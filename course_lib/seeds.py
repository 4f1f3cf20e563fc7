"""The tables printed in the course's source tutorials, kept verbatim as known values.

The lessons reproduce these digit for digit; :func:`compare` says how many lines agree.
Each table is the text the tutorial printed, one line per row, with its own format.
"""

__all__ = ["GD_LR_0_2", "GD_LR_0_2_ALT", "GD_LR_1", "GD_LR_0_001", "EXPONENTIAL_DECAY", "MOVING_AVERAGE", "compare"]

#: Seed 001: ``loss = (w+1)^2``, ``w0 = 5``, ``GradientDescentOptimizer(0.2)`` (the first 18 of 40 rows).
GD_LR_0_2 = """\
After 0 steps: w is 2.600000, loss is 12.959999
After 1 steps: w is 1.160000, loss is 4.665599
After 2 steps: w is 0.296000, loss is 1.679616
After 3 steps: w is -0.222400, loss is 0.604662
After 4 steps: w is -0.533440, loss is 0.217678
After 5 steps: w is -0.720064, loss is 0.078364
After 6 steps: w is -0.832038, loss is 0.028211
After 7 steps: w is -0.899223, loss is 0.010156
After 8 steps: w is -0.939534, loss is 0.003656
After 9 steps: w is -0.963720, loss is 0.001316
After 10 steps: w is -0.978232, loss is 0.000474
After 11 steps: w is -0.986939, loss is 0.000171
After 12 steps: w is -0.992164, loss is 0.000061
After 13 steps: w is -0.995298, loss is 0.000022
After 14 steps: w is -0.997179, loss is 0.000008
After 15 steps: w is -0.998307, loss is 0.000003
After 16 steps: w is -0.998984, loss is 0.000001
After 17 steps: w is -0.999391, loss is 0.000000"""

#: Seed 003: the same run printed with another format (the first 22 of 40 rows).
GD_LR_0_2_ALT = """\
After 0 steps,W is 2.600000 ,loss is 12.959999
After 1 steps,W is 1.160000 ,loss is 4.665599
After 2 steps,W is 0.296000 ,loss is 1.679616
After 3 steps,W is -0.222400 ,loss is 0.604662
After 4 steps,W is -0.533440 ,loss is 0.217678
After 5 steps,W is -0.720064 ,loss is 0.078364
After 6 steps,W is -0.832038 ,loss is 0.028211
After 7 steps,W is -0.899223 ,loss is 0.010156
After 8 steps,W is -0.939534 ,loss is 0.003656
After 9 steps,W is -0.963720 ,loss is 0.001316
After 10 steps,W is -0.978232 ,loss is 0.000474
After 11 steps,W is -0.986939 ,loss is 0.000171
After 12 steps,W is -0.992164 ,loss is 0.000061
After 13 steps,W is -0.995298 ,loss is 0.000022
After 14 steps,W is -0.997179 ,loss is 0.000008
After 15 steps,W is -0.998307 ,loss is 0.000003
After 16 steps,W is -0.998984 ,loss is 0.000001
After 17 steps,W is -0.999391 ,loss is 0.000000
After 18 steps,W is -0.999634 ,loss is 0.000000
After 19 steps,W is -0.999781 ,loss is 0.000000
After 20 steps,W is -0.999868 ,loss is 0.000000
After 21 steps,W is -0.999921 ,loss is 0.000000"""


#: Seed 001: the same run with learning rate 1, which oscillates between 5 and -7 (18 rows).
GD_LR_1 = """\
After 0 steps: w is -7.000000, loss is 36.000000
After 1 steps: w is 5.000000, loss is 36.000000
After 2 steps: w is -7.000000, loss is 36.000000
After 3 steps: w is 5.000000, loss is 36.000000
After 4 steps: w is -7.000000, loss is 36.000000
After 5 steps: w is 5.000000, loss is 36.000000
After 6 steps: w is -7.000000, loss is 36.000000
After 7 steps: w is 5.000000, loss is 36.000000
After 8 steps: w is -7.000000, loss is 36.000000
After 9 steps: w is 5.000000, loss is 36.000000
After 10 steps: w is -7.000000, loss is 36.000000
After 11 steps: w is 5.000000, loss is 36.000000
After 12 steps: w is -7.000000, loss is 36.000000
After 13 steps: w is 5.000000, loss is 36.000000
After 14 steps: w is -7.000000, loss is 36.000000
After 15 steps: w is 5.000000, loss is 36.000000
After 16 steps: w is -7.000000, loss is 36.000000
After 17 steps: w is 5.000000, loss is 36.000000"""

#: Seed 001: the run the tutorial labels "learning rate 0.0001". Its first row, 5 - lr * 12 = 4.988,
#: shows it was made with 0.001 (lesson 02 proves it), so the name says what produced it (18 rows).
GD_LR_0_001 = """\
After 0 steps: w is 4.988000, loss is 35.856144
After 1 steps: w is 4.976024, loss is 35.712864
After 2 steps: w is 4.964072, loss is 35.570156
After 3 steps: w is 4.952144, loss is 35.428020
After 4 steps: w is 4.940240, loss is 35.286449
After 5 steps: w is 4.928360, loss is 35.145447
After 6 steps: w is 4.916503, loss is 35.005009
After 7 steps: w is 4.904670, loss is 34.865124
After 8 steps: w is 4.892860, loss is 34.725803
After 9 steps: w is 4.881075, loss is 34.587044
After 10 steps: w is 4.869313, loss is 34.448833
After 11 steps: w is 4.857574, loss is 34.311172
After 12 steps: w is 4.845859, loss is 34.174068
After 13 steps: w is 4.834167, loss is 34.037510
After 14 steps: w is 4.822499, loss is 33.901497
After 15 steps: w is 4.810854, loss is 33.766029
After 16 steps: w is 4.799233, loss is 33.631104
After 17 steps: w is 4.787634, loss is 33.496712"""

#: Seed 001: ``exponential_decay(0.1, global_step, 1, 0.99, staircase=True)`` with
#: ``GradientDescentOptimizer`` on ``(w + 1)**2`` from ``w0 = 5``, 20 rows.  (The last row lost its
#: final digit when the tutorial was copied: TensorFlow prints ``0.011561``.)
EXPONENTIAL_DECAY = """\
After 0 steps: global_step is 1.000000, w is 3.800000, learning rate is 0.099000, loss is 23.040001
After 1 steps: global_step is 2.000000, w is 2.849600, learning rate is 0.098010, loss is 14.819419
After 2 steps: global_step is 3.000000, w is 2.095001, learning rate is 0.097030, loss is 9.579033
After 3 steps: global_step is 4.000000, w is 1.494386, learning rate is 0.096060, loss is 6.221961
After 4 steps: global_step is 5.000000, w is 1.015167, learning rate is 0.095099, loss is 4.060896
After 5 steps: global_step is 6.000000, w is 0.631886, learning rate is 0.094148, loss is 2.663051
After 6 steps: global_step is 7.000000, w is 0.324608, learning rate is 0.093207, loss is 1.754587
After 7 steps: global_step is 8.000000, w is 0.077684, learning rate is 0.092274, loss is 1.161403
After 8 steps: global_step is 9.000000, w is -0.121202, learning rate is 0.091352, loss is 0.772287
After 9 steps: global_step is 10.000000, w is -0.281761, learning rate is 0.090438, loss is 0.515867
After 10 steps: global_step is 11.000000, w is -0.411674, learning rate is 0.089534, loss is 0.346128
After 11 steps: global_step is 12.000000, w is -0.517024, learning rate is 0.088638, loss is 0.233266
After 12 steps: global_step is 13.000000, w is -0.602644, learning rate is 0.087752, loss is 0.157891
After 13 steps: global_step is 14.000000, w is -0.672382, learning rate is 0.086875, loss is 0.107334
After 14 steps: global_step is 15.000000, w is -0.729305, learning rate is 0.086006, loss is 0.073276
After 15 steps: global_step is 16.000000, w is -0.775868, learning rate is 0.085146, loss is 0.050235
After 16 steps: global_step is 17.000000, w is -0.814036, learning rate is 0.084294, loss is 0.034583
After 17 steps: global_step is 18.000000, w is -0.845387, learning rate is 0.083451, loss is 0.023905
After 18 steps: global_step is 19.000000, w is -0.871193, learning rate is 0.082617, loss is 0.016591
After 19 steps: global_step is 20.000000, w is -0.892476, learning rate is 0.081791, loss is 0.01156"""

#: Seed 001: ``ExponentialMovingAverage(0.99, global_step)`` on ``w1``: set to 1 at step 0, then to 10
#: with ``global_step = 100``; ``[w1, shadow]`` printed after each ``apply``, 9 rows.
MOVING_AVERAGE = """\
[0.0, 0.0]
[1.0, 0.9]
[10.0, 1.6445453]
[10.0, 2.3281732]
[10.0, 2.955868]
[10.0, 3.532206]
[10.0, 4.061389]
[10.0, 4.547275]
[10.0, 4.9934072]"""


def compare(lines, table):
    """``"18 of 18 lines match"`` (or the first line that differs) between ``lines`` and ``table``.

    ``lines`` may hold more rows than the tutorial printed; only the printed ones are compared.
    """
    expected = table.splitlines()
    got = list(lines)[: len(expected)]
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            return f"line {i + 1} differs:\n  ours: {g}\n  seed: {e}"
    if len(got) < len(expected):
        return f"only {len(got)} lines to compare with the seed's {len(expected)}"
    return f"{len(expected)} of {len(expected)} lines match the seed digit for digit"
