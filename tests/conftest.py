"""Test-wide settings: quiet TensorFlow, also in the nbval kernels, which inherit the
environment.  (MPLBACKEND is deliberately left alone: set to Agg, it would also reach the
kernels, whose plots would then vanish instead of being drawn inline.)"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
