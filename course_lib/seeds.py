"""The tables printed in the course's source tutorials, kept verbatim as known values.

The lessons reproduce these digit for digit; :func:`compare` says how many lines agree.
Each table is the text the tutorial printed, one line per row, with its own format.
"""

__all__ = ["GD_LR_0_2", "GD_LR_0_2_ALT", "compare"]

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
