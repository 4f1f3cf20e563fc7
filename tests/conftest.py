"""Test-wide settings: quiet TensorFlow, also in the nbval kernels, which inherit the
environment (importing course_lib sets course_lib.TF_ENVIRONMENT).  (MPLBACKEND is deliberately
left alone: set to Agg, it would also reach the kernels, whose plots would then vanish instead
of being drawn inline.)"""

import course_lib  # noqa: F401  (sets course_lib.TF_ENVIRONMENT before anything imports TensorFlow)
