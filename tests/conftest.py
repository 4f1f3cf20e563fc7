"""Test-wide settings: quiet TensorFlow, also in the nbval kernels, which inherit the
environment (importing course_lib sets course_lib.TF_ENVIRONMENT).  (MPLBACKEND is deliberately
left alone: set to Agg, it would also reach the kernels, whose plots would then vanish instead
of being drawn inline.)  One compute thread per process.  And the order in which the workers take
the files: the longest first."""

import os

import course_lib  # noqa: F401  (sets course_lib.TF_ENVIRONMENT before anything imports TensorFlow)

# One compute thread per process.  Three workers share the two cores, each with a kernel of its own, and
# every kernel would otherwise start numpy's BLAS threads and TensorFlow's intra-op pool for two cores:
# threads that wait for a core spin, and the test command spent about a fifth more CPU time.  Set here,
# at start-up, the workers and every kernel they start (nbval, nbgrader, the browser test's JupyterLab)
# inherit it.  The stored outputs do not depend on it: nbval compares them under this setting.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
    os.environ.setdefault(_name, "1")

# The README's test command runs on three workers, one file (or notebook) per worker at a time.  The
# files that take longest start first, so that no worker is left with one of them at the end
# while the others idle (longest first is close to the best split; pytest-xdist's own reordering, by
# number of tests per file, is turned off in pyproject.toml because it sent the nbgrader round trip,
# ten tests but the longest file, last).  Seconds on an idle 2-core machine, roughly.
LONGEST_FIRST = [
    "tests/test_nbgrader.py",               # ~110 s: generate, three students' 21 notebooks autograded, feedback
    "tests/test_browser.py",                # ~65 s: JupyterLab and Chromium, six lessons' explorers
    "notebooks/10_capstone.ipynb",          # ~40 s: the capstone's study
    "tests/test_optimizers_keras.py",       # ~35 s: Keras parity runs
]


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)   # stable: every other file keeps its place
