"""The benchmark's pieces work (bench/run.py). Nothing here is timed against a target:
the tests check that tables, verdicts and the report are right, and that measuring a tiny
notebook, an explorer sweep and an optimizer step produce sensible figures."""

import importlib.util
import os
import resource
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_format_table_pads_columns_into_a_markdown_table():
    text = bench.format_table(["name", "s"], [["a", 1.5], ["long name", "10"]])
    assert text.splitlines() == [
        "| name      | s   |",
        "|-----------|-----|",
        "| a         | 1.5 |",
        "| long name | 10  |",
    ]
    with pytest.raises(ValueError, match="one cell per header"):
        bench.format_table(["a", "b"], [["only one"]])


def test_verdict_and_targets():
    assert bench.verdict(15.0, 15.0) == "✓"
    assert bench.verdict(15.01, 15.0) == "✗"
    assert bench.verdict(None, 15.0) == "–"
    assert bench.notebook_target("notebooks/10_capstone.ipynb") == 60
    assert bench.notebook_target("notebooks/04_learning_rate_decay.ipynb") == 15
    assert bench.median_ms([0.001, 0.003, 0.002]) == pytest.approx(2.0)
    assert bench.median_ms([]) is None


def test_peak_memory_agrees_with_getrusage():
    # Two independent views of the same high-water mark: /proc's VmHWM and getrusage's ru_maxrss (kB on Linux).
    ours = bench.peak_memory_mb(os.getpid())
    theirs = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    assert ours == pytest.approx(theirs, rel=0.05)


def test_cpu_seconds_agree_with_process_time():
    before = bench.process_cpu_seconds(os.getpid())
    start = time.process_time()
    while time.process_time() - start < 0.3:
        pass
    assert bench.process_cpu_seconds(os.getpid()) - before == pytest.approx(0.3, abs=0.05)


def test_sweep_values_span_each_kind_of_control():
    import ipywidgets as w

    log = w.FloatLogSlider(value=0.1, base=10, min=-4, max=1)
    values = bench.sweep_values(log, 30)
    assert len(values) == 30 and values[0] == pytest.approx(1e-4) and values[-1] == pytest.approx(10.0)
    assert np.all(np.diff(values) > 0)
    lin = bench.sweep_values(w.FloatSlider(value=0.5, min=0.0, max=0.995), 5)
    assert lin == pytest.approx([0.0, 0.24875, 0.4975, 0.74625, 0.995])
    assert bench.sweep_values(w.IntSlider(value=2, min=0, max=3), 30) == [0, 1, 2, 3]
    assert bench.sweep_values(w.Dropdown(options=["a", "b"], value="a"), 3) == ["a", "b", "a"]
    with pytest.raises(TypeError, match="cannot sweep"):
        bench.sweep_values(w.Text(), 3)
    # The first numeric slider is swept even when a menu comes first.
    controls = {"loss": w.Dropdown(options=["a", "b"]), "lr": log, "x": w.FloatSlider()}
    assert bench.sweepable(controls) == "lr"
    assert bench.sweepable({"loss": w.Dropdown(options=["a", "b"])}) == "loss"
    assert bench.sweepable({"t": w.Text()}) is None
    # The explorers' sliders are subclasses (their values stay on the grid): still swept as sliders.
    from course_lib.widgets import log_slider

    grid = log_slider("lr", 0.3, 1e-4, 10.0)
    assert bench.sweepable({"loss": w.Dropdown(options=["a", "b"]), "lr": grid}) == "lr"
    values = bench.sweep_values(grid, 5)
    assert values[0] == pytest.approx(10 ** grid.min) and values[-1] == pytest.approx(10 ** grid.max)


def _notebook(tmp_path, name, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_measure_notebook_reports_time_and_the_kernels_peak_memory(tmp_path):
    path = _notebook(tmp_path, "01_tiny.ipynb", "import time\ntime.sleep(0.5)",
                     "t = time.process_time()\nwhile time.process_time() - t < 0.5:\n    pass",
                     "block = b'x' * 300_000_000  # 300 MB, written so it is resident\ndel block")
    r = bench.measure_notebook(path, timeout=120)
    assert r["error"] is None
    assert r["run_all_s"] >= r["cells_s"] + r["kernel_start_s"] - 0.02
    assert r["cells_s"] >= 1.0  # half a second asleep, half a second busy
    # CPU time counts the busy half second, not the sleep, and is in seconds (not clock ticks):
    # at most two cores' worth of the wall time.
    assert 0.5 <= r["cpu_s"] < 2 * r["run_all_s"]
    assert 0 < r["file_mb"] < r["peak_mb"]
    assert 300 < r["peak_mb"] < 2000  # the freed block still counts: it is a high-water mark
    assert r["target_s"] == 15 and r["target_mb"] == 700
    assert len(r["cell_s"]) == len(r["cell_peak_mb"]) == 3
    assert r["cell_s"][0] >= 0.5 and r["cell_s"][1] >= 0.5
    assert r["cell_peak_mb"][2] - r["cell_peak_mb"][1] > 290  # the big block is in code cell [3]
    assert bench.largest_rise(r["cell_peak_mb"]).startswith("[3] +")


def test_slowest_cell_and_largest_rise_name_the_cell():
    assert bench.slowest_cell([0.1, 2.5, 0.3]) == "[2] 2.5 s"
    # The imports cell [1] is left out: it loads TensorFlow in every lesson.
    assert bench.largest_rise([600.0, 610.0, 900.0, 901.0]) == "[3] +290 MB"
    assert bench.slowest_cell([]) == bench.largest_rise([]) == bench.largest_rise([600.0]) == "–"


def test_measure_notebook_reports_a_failing_cell(tmp_path):
    path = _notebook(tmp_path, "02_broken.ipynb", "x = 1", "raise ValueError('learning_rate must be > 0')", "y = 2")
    r = bench.measure_notebook(path, timeout=120)
    assert "ValueError" in r["error"] and "learning_rate must be > 0" in r["error"]
    assert r["peak_mb"] > 0


def test_explorers_are_discovered_and_swept():
    names = bench.discover_explorers()
    assert len(names) >= 4 and not {"explorer", "log_slider", "png_bytes"} & set(names)
    (row,) = bench.sweep_explorers(n=4, names=names[:1])
    assert row["error"] is None, row["error"]
    assert row["control"] is not None and row["updates"] >= 3  # at most one value equals the default
    assert 0 < row["median_ms"] <= row["max_ms"] and row["cpu_ms"] > 0


def test_time_interleaved_runs_each_function_in_rounds():
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    times = bench.time_interleaved(fns, reps=6, warmup=1, rounds=3)
    assert [len(times["a"]), len(times["b"])] == [6, 6]
    assert all(t >= 0 for t in times["a"] + times["b"])
    assert calls == ["a", "b"] + ["a", "a", "b", "b"] * 3


def test_course_lib_stepper_chains_steps_without_touching_the_inputs():
    from course_lib.optimizers import Adam

    rng = np.random.default_rng(0)
    params = rng.standard_normal(1000, dtype=np.float32)
    grads = rng.standard_normal(1000, dtype=np.float32)
    before = params.copy(), grads.copy()
    step = bench.course_lib_stepper(Adam(), params, grads)
    for _ in range(3):
        step()
    np.testing.assert_array_equal(params, before[0])
    np.testing.assert_array_equal(grads, before[1])


def _results(load=0.3):
    machine = {"cpu": "Test CPU", "cores": 2, "memory_gb": 8.0, "os": "Linux", "date": "2025-01-01 00:00 UTC",
               "versions": {"python": "3.11", "numpy": "2", "tensorflow": "2.21", "keras": "3", "matplotlib": "3",
                            "ipywidgets": "8", "nbclient": "0.10", "pytest": "8"}}
    stamp = {"date": "2025-01-01 00:00 UTC", "load_before": load, "load_after": load}
    notebooks = {**stamp, "rows": [
        {"notebook": "notebooks/01_a.ipynb", "run_all_s": 9.0, "kernel_start_s": 1.0, "cells_s": 8.0,
         "peak_mb": 650.0, "target_s": 15.0, "target_mb": 700.0, "error": None},
        {"notebook": "notebooks/02_b.ipynb", "run_all_s": 21.0, "kernel_start_s": 1.0, "cells_s": 20.0,
         "peak_mb": 720.0, "target_s": 15.0, "target_mb": 700.0, "error": None}]}
    optimizers = {**stamp, "size": 1000000, "reps": 100, "warmup": 10, "target_ratio": 1.5,
                  "tf_threads": {"intra_op": 0, "inter_op": 0}, "rows": [
                      {"optimizer": "Adam", "course_lib_ms": 3.0, "keras_eager_ms": 4.0, "keras_tf_function_ms": 1.5,
                       "ratio_eager": 0.75, "ratio_tf_function": 2.0}]}
    return {"machine": machine, "note": None, "parts": {"notebooks": notebooks, "optimizers": optimizers}}


def test_report_shows_machine_figures_and_misses():
    results = _results()
    text = bench.render_markdown(results)
    assert "Test CPU, 2 cores" in text and "TensorFlow 2.21" in text and "8.0 GB" in text
    assert "| 01_a.ipynb" in text and "| 02_b.ipynb" in text
    assert "Not measured yet." in text  # the test command and the explorers were not run
    assert "shared with other jobs" not in text
    assert bench.misses(results) == [
        "02_b.ipynb: Run-All 21.0 s > 15 s",
        "02_b.ipynb: peak memory 720 MB > 700 MB",
        "Adam: course_lib is 2.00x Keras (tf.function) > 1.5x",
    ]
    for line in bench.misses(results):
        assert f"- {line}" in text


def test_report_says_when_the_machine_was_busy():
    text = bench.render_markdown(_results(load=3.5))
    assert "shared with other jobs" in text and "3.5 on 2 cores" in text


def test_browser_timings_are_read_only_when_fresh(tmp_path):
    import json
    import time

    from bench import run

    path = tmp_path / "timings.json"
    assert run.browser_timings(0, path) is None
    lessons = {"02_learning_rate": {"control": "learning rate", "readout_before": "0.3", "readout_after": "0.4",
                                    "times_ms": [90.0, 84.0, 120.0], "median_ms": 90.0, "run_all_s": 6.0},
               "08_adaptive_optimizers": {"control": "learning rate ×", "readout_before": "1",
                                          "readout_after": "1.33", "times_ms": [250.0, 210.0, 230.0],
                                          "median_ms": 230.0}}
    path.write_text(json.dumps({"written": time.time(), "lessons": lessons}))
    assert run.browser_timings(time.time() - 60, path) == lessons
    assert run.browser_timings(time.time() + 60, path) is None  # written before the run: stale
    path.write_text("not json")
    assert run.browser_timings(0, path) is None

    results = _results()
    results["parts"]["browser"] = {"date": "2025-01-01 00:00 UTC", "load_before": 0.3, "load_after": 0.3,
                                   "command": "python -m pytest -n 0 -q tests/test_browser.py", "seconds": 80.0,
                                   "exit_code": 0, "summary": "5 passed", "lessons": lessons, "target_ms": 200.0}
    text = run.render_markdown(results)
    assert "| 02_learning_rate " in text and "90 84 120" in text and "`learning rate ×` 1 → 1.33" in text
    assert "08_adaptive_optimizers: browser key press to new image, median 230 ms > 200 ms" in run.misses(results)
    assert not any(line.startswith("02_learning_rate") for line in run.misses(results))
    tests = {"command": ".venv/bin/python -m pytest", "seconds": 200.0, "exit_code": 0, "summary": "1 passed",
             "target_s": 240.0, "timed_out": False, "cpu_s": 300.0, "browser": lessons}
    assert "02 90 ms, 08 230 ms" in run.tests_table(tests)
    reused = run.browser_part({"parts": {"tests": tests}}, timeout=1, tests_ran=True)
    assert reused["lessons"] == lessons and reused["exit_code"] == 0
