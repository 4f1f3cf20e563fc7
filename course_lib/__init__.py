"""course_lib: numpy reference implementations for the course "How neural networks learn".

Each module holds one idea (objectives, optimizers, descent loops, data, ...), imports
only numpy, and names its objects after their TensorFlow twins.  TensorFlow itself is
imported by :mod:`course_lib.tf_twins`, and inside the functions of the capstone's
:mod:`course_lib.training` (and its checks), so ``import course_lib`` stays fast.

Importing the package also sets :data:`TF_ENVIRONMENT` (unless already set): TensorFlow reads
it when it is first imported, so every notebook imports the course before TensorFlow, and
the test suite's notebook kernels inherit it.
"""

import os as _os
import sys as _sys

__all__ = ["TF_ENVIRONMENT", "quiet_tensorflow", "__version__"]

__version__ = "0.1.0"

if _sys.version_info < (3, 11):
    raise ImportError(f"The course needs Python 3.11 to 3.13 (its pinned packages need 3.11 or newer); this is "
                      f"Python {_sys.version_info[0]}.{_sys.version_info[1]}. Create the course's virtual "
                      "environment with python3.11, python3.12 or python3.13.")

#: The environment TensorFlow is started with: no C++ start-up chatter on stderr (nbval compares
#: stderr, and students should not see it) and no oneDNN rewrites, whose float rounding differs.
TF_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def quiet_tensorflow(environ=None):
    """Put :data:`TF_ENVIRONMENT` into ``environ`` (``os.environ`` by default), keeping values already set."""
    environ = _os.environ if environ is None else environ
    for key, value in TF_ENVIRONMENT.items():
        environ.setdefault(key, value)
    return environ


quiet_tensorflow()
