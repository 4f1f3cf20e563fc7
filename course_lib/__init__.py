"""course_lib: numpy reference implementations for the course "How neural networks learn".

Each module holds one idea (objectives, optimizers, descent loops, data, ...), imports
only numpy, and names its objects after their TensorFlow twins.  TensorFlow itself is
imported by :mod:`course_lib.tf_twins`, and inside the functions of the capstone's
:mod:`course_lib.training` (and its checks), so ``import course_lib`` stays fast.
"""

import os as _os

# Keep TensorFlow's C++ start-up chatter off stderr in every notebook that imports the
# course before TensorFlow (nbval compares stderr, and students should not see it).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
