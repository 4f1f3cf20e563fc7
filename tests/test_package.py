"""The package itself: the Python versions it accepts, TensorFlow's environment, and what it imports."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import course_lib

INIT = Path(course_lib.__file__)
NUMPY_MODULES = ["core", "data", "objectives", "optimizers", "schedules", "moving_averages", "backprop",
                 "descent", "stability", "race", "training", "seeds"]


def _import_init_as(monkeypatch, version_info):
    monkeypatch.setattr(sys, "version_info", version_info)
    spec = importlib.util.spec_from_file_location("course_lib_probe", INIT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_python_older_than_3_11_gets_a_clear_error(monkeypatch):
    with pytest.raises(ImportError, match=r"needs Python 3\.11 to 3\.13 .* this is Python 3\.10"):
        _import_init_as(monkeypatch, (3, 10, 12, "final", 0))


def test_python_3_11_is_accepted(monkeypatch):
    assert _import_init_as(monkeypatch, (3, 11, 0, "final", 0)).TF_ENVIRONMENT == course_lib.TF_ENVIRONMENT


def test_importing_the_course_sets_tensorflows_environment_without_overriding():
    assert all(os.environ[k] == v for k, v in course_lib.TF_ENVIRONMENT.items())
    env = course_lib.quiet_tensorflow({"TF_CPP_MIN_LOG_LEVEL": "1"})
    assert env == {"TF_CPP_MIN_LOG_LEVEL": "1", "TF_ENABLE_ONEDNN_OPTS": "0"}


def test_the_numerical_modules_import_no_tensorflow():
    code = ("import sys\n" + "".join(f"import course_lib.{m}\n" for m in NUMPY_MODULES)
            + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
