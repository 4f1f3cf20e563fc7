"""The course's benchmarks: how long things take and how much memory they need.

    .venv/bin/python -m bench                                   # everything
    .venv/bin/python -m bench --only notebooks,explorers,optimizers   # skip the slow test command
    .venv/bin/python -m bench --only notebooks --notebooks 'notebooks/0[12]_*.ipynb'

Five parts, each against its target:

* ``notebooks``  -- every lesson's Run-All in a fresh kernel (nbclient): wall time from kernel
  start to the last cell, and the kernel's peak resident memory (``VmHWM`` in
  ``/proc/<pid>/status``, the high-water mark the Linux kernel keeps for the process);
* ``tests``      -- the README's test command, ``.venv/bin/python -m pytest``, as a subprocess;
* ``browser``    -- every lesson's explorer in JupyterLab in headless Chromium (the browser test,
  ``tests/test_browser.py``): the time from a key press on its first slider to the new plot
  image, per lesson (taken from the test command's run when that part ran too);
* ``explorers``  -- every explorer in :mod:`course_lib.widgets`, its first numeric slider swept
  over 30 values inside a real Jupyter kernel; the kernel-side time per redraw comes from
  the widget's ``update_times``;
* ``optimizers`` -- one step of course_lib ``Adam`` / ``SGD(momentum=0.9)`` on 1M float32
  parameters against the Keras optimizer applying a gradient to a 1M-element ``tf.Variable``,
  median of many repetitions after a warm-up, as a ratio (the three are timed in
  interleaved rounds so that they share a busy machine's load alike).

The figures go to ``bench/results/<date>.json`` and ``bench/results/latest.json``, and
``BENCHMARKS.md`` is regenerated from them.  Parts not run this time are carried over from
``latest.json`` with their own dates, so ``BENCHMARKS.md`` always shows every figure.
"""

import argparse
import asyncio
import datetime
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from course_lib import TF_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MARKDOWN = ROOT / "BENCHMARKS.md"
PARTS = ("notebooks", "tests", "browser", "explorers", "optimizers")

# Targets (from the course's quality issue).
LESSON_SECONDS, CAPSTONE_SECONDS, LESSON_MB = 15.0, 60.0, 700.0
TEST_SECONDS = 240.0
EXPLORER_MS = 30.0
SLIDER_TO_PLOT_MS = 200.0  # browser test, median per lesson; the kernel-side time is a lower bound of it
OPTIMIZER_RATIO = 1.5

# The environment the test command gives its kernels (tests/conftest.py): quiet TensorFlow.
KERNEL_ENV = dict(TF_ENVIRONMENT)


# =========================================================================== small pure pieces
def format_table(headers, rows):
    """A Markdown table with columns padded to equal width (readable in a terminal too)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    if any(len(r) != len(headers) for r in cells):
        raise ValueError("`rows` must each have one cell per header")
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in cells[1:]])


def verdict(value, target):
    """``"✓"`` when ``value <= target``, ``"✗"`` when above, ``"–"`` when not measured."""
    if value is None:
        return "–"
    return "✓" if value <= target else "✗"


def median_ms(seconds):
    """Median of a list of durations in seconds, in milliseconds (None for an empty list)."""
    return 1000 * statistics.median(seconds) if seconds else None


def peak_memory_mb(pid):
    """Peak resident memory of process ``pid`` so far (``VmHWM``), in MB (10**6 bytes)."""
    text = Path(f"/proc/{pid}/status").read_text()
    kb = int(re.search(r"^VmHWM:\s+(\d+)\s+kB", text, re.MULTILINE).group(1))
    return kb * 1024 / 1e6


def file_backed_mb(pid):
    """Resident memory of process ``pid`` backed by files (``RssFile``: mostly shared libraries,
    whose pages the kernels of one machine share), now, in MB."""
    text = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^RssFile:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(found.group(1)) * 1024 / 1e6 if found else None


def process_cpu_seconds(pid):
    """CPU time (user + system, all threads) process ``pid`` has used so far, in seconds.

    On a machine shared with other jobs the wall time grows with the load, the CPU time
    hardly at all: it tells what the wall time would be on an idle machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def notebook_target(path):
    """Run-All target in seconds: about a minute for the capstone (``NN_capstone``), 15 s for a lesson."""
    return CAPSTONE_SECONDS if Path(path).stem.partition("_")[2] == "capstone" else LESSON_SECONDS


def sweep_values(control, n=30):
    """``n`` values spanning a control's range, for a slider sweep.

    Log sliders are swept evenly in the exponent, linear sliders evenly, integer sliders
    over distinct integers, menus cycle through their options.
    """
    import numpy as np

    kind, kinds = type(control).__name__, _kinds(control)
    if "FloatLogSlider" in kinds:
        return [float(control.base ** e) for e in np.linspace(control.min, control.max, n)]
    if "FloatSlider" in kinds:
        return [float(v) for v in np.linspace(control.min, control.max, n)]
    if "IntSlider" in kinds:
        return sorted({int(round(v)) for v in np.linspace(control.min, control.max, n)})
    if hasattr(control, "options") and len(control.options) > 1:
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return [values[i % len(values)] for i in range(n)]
    raise TypeError(f"cannot sweep a {kind}")


def _kinds(control):
    """The names of a control's class and its base classes (a slider subclass is still a slider)."""
    return {cls.__name__ for cls in type(control).__mro__}


def sweepable(controls):
    """The name of the control to sweep: the first numeric slider, else the first menu."""
    for name, c in controls.items():
        if _kinds(c) & {"FloatLogSlider", "FloatSlider", "IntSlider"}:
            return name
    for name, c in controls.items():
        if hasattr(c, "options") and len(c.options) > 1:
            return name
    return None


# =========================================================================== the machine
def machine():
    """CPU model, cores, memory and the versions that matter, plus the date."""
    cpu = platform.processor() or platform.machine()
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    try:
        kb = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE).group(1))
        memory_gb = round(kb * 1024 / 1e9, 1)
    except (OSError, AttributeError):
        memory_gb = None
    versions = {"python": platform.python_version()}
    for package in ("numpy", "tensorflow", "keras", "matplotlib", "ipywidgets", "nbclient", "pytest"):
        versions[package] = None
        for dist in (package, f"{package}-cpu"):  # TensorFlow's CPU wheel is "tensorflow-cpu"
            try:
                versions[package] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": cores, "memory_gb": memory_gb, "os": platform.platform(),
            "versions": versions, "date": now()}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def load():
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


# =========================================================================== notebooks
def measure_notebook(path, timeout=600):
    """Run a notebook top to bottom in a fresh kernel; return its figures.

    ``kernel_start_s`` is the time to start the kernel and get it ready, ``cells_s`` the
    time to run every cell, ``run_all_s`` their sum (what Restart & Run All costs), and
    ``peak_mb`` the kernel's peak resident memory, ``cpu_s`` the CPU time the kernel used
    (see :func:`process_cpu_seconds`).  Per code cell (in order, so code cell ``[n]`` is
    item ``n - 1``): ``cell_s`` its wall time and ``cell_peak_mb`` the peak memory after it;
    ``start_mb`` is the peak memory of the idle kernel, ``file_mb`` the file-backed part of
    the resident memory at the end (:func:`file_backed_mb`).  A failing cell is reported in ``error``.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, **KERNEL_ENV}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    out = {"notebook": str(path.relative_to(ROOT) if path.is_absolute() and ROOT in path.parents else path),
           "target_s": notebook_target(path), "target_mb": LESSON_MB, "error": None}

    async def run():
        client.reset_execution_trackers()
        start = time.perf_counter()
        async with client.async_setup_kernel(env=env):
            await client.async_wait_for_reply(await _maybe_await(client.kc.kernel_info()))
            ready = time.perf_counter()
            pid = client.km.provisioner.process.pid
            out["start_mb"] = round(peak_memory_mb(pid), 1)
            out["cell_s"], out["cell_peak_mb"] = [], []
            try:
                for index, cell in enumerate(client.nb.cells):
                    if cell.cell_type != "code":
                        continue
                    cell_start = time.perf_counter()
                    await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                    out["cell_s"].append(round(time.perf_counter() - cell_start, 3))
                    out["cell_peak_mb"].append(round(peak_memory_mb(pid), 1))
            except Exception as exc:  # a failing cell: report it, keep benchmarking the others
                out["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
            done = time.perf_counter()
            stalled = [i + 1 for i, t in enumerate(out["cell_s"]) if t >= 0.99 * timeout]
            if stalled and not out["error"]:
                out["error"] = (f"cell [{stalled[0]}] waited the whole {timeout:.0f} s timeout for the kernel's "
                                "reply, then went on without an error")
            out["peak_mb"] = round(peak_memory_mb(pid), 1)
            out["cpu_s"] = round(process_cpu_seconds(pid), 2)
            out["file_mb"] = round(file_backed_mb(pid), 1)
        out["kernel_start_s"] = round(ready - start, 2)
        out["cells_s"] = round(done - ready, 2)
        out["run_all_s"] = round(done - start, 2)

    asyncio.run(run())
    return out


async def _maybe_await(value):
    return await value if asyncio.iscoroutine(value) or asyncio.isfuture(value) else value


def slowest_cell(cell_s):
    """``"[n] x.x s"`` for the slowest code cell (numbered from 1 like Jupyter's ``In [n]``)."""
    if not cell_s:
        return "–"
    i = max(range(len(cell_s)), key=cell_s.__getitem__)
    return f"[{i + 1}] {cell_s[i]:.1f} s"


def largest_rise(cell_peak_mb):
    """``"[n] +x MB"`` for the code cell after the imports (code cell [1], which loads TensorFlow
    and costs most of the memory) that raised the kernel's peak memory the most."""
    if len(cell_peak_mb or []) < 2:
        return "–"
    rises = [b - a for a, b in zip(cell_peak_mb[:-1], cell_peak_mb[1:])]
    i = max(range(len(rises)), key=rises.__getitem__)
    return f"[{i + 2}] +{rises[i]:.0f} MB"


def bench_notebooks(pattern, timeout=120):
    paths = sorted(glob.glob(str(ROOT / pattern))) if not Path(pattern).is_absolute() else sorted(glob.glob(pattern))
    rows = []
    for p in paths:
        print(f"  running {Path(p).name} ...", flush=True)
        rows.append(measure_notebook(p, timeout))
    return {"pattern": pattern, "rows": rows}


def notebook_table(part):
    rows = []
    for r in part["rows"]:
        rows.append([Path(r["notebook"]).name, f"{r['run_all_s']:.1f}", f"{r['kernel_start_s']:.1f}",
                     "–" if r.get("cpu_s") is None else f"{r['cpu_s']:.1f}",
                     f"≤ {r['target_s']:.0f}", verdict(r["run_all_s"], r["target_s"]),
                     f"{r['peak_mb']:.0f}", f"≤ {r['target_mb']:.0f}", verdict(r["peak_mb"], r["target_mb"]),
                     "–" if r.get("file_mb") is None else f"{r['file_mb']:.0f}",
                     "–" if not r.get("cell_peak_mb") else f"{r['cell_peak_mb'][0]:.0f}",
                     slowest_cell(r.get("cell_s")), largest_rise(r.get("cell_peak_mb")),
                     r["error"] or ""])
    return format_table(["notebook", "Run-All s", "of which kernel start s", "kernel CPU s", "target s", "",
                         "peak MB", "target MB", "", "of which files MB", "after imports MB", "slowest cell",
                         "largest rise after imports", "error"], rows)


# =========================================================================== test command
def bench_tests(timeout):
    """Time the README's test command; keep its last summary line."""
    python = ROOT / ".venv" / "bin" / "python"
    cmd = [str(python if python.exists() else Path(sys.executable)), "-m", "pytest"]
    import resource

    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        code, output = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as exc:
        code = None
        output = (exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or "")
    seconds = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    lines = [ln.strip("= ").strip() for ln in output.splitlines() if ln.strip()]
    summary = next((ln for ln in reversed(lines) if re.search(r"\b(passed|failed|error|skipped)\b", ln)),
                   "timed out" if code is None else "")
    failed = [ln.split(" - ")[0].split(" ", 1)[1] for ln in lines if ln.startswith(("FAILED ", "ERROR "))]
    return {"command": ".venv/bin/python -m pytest", "seconds": round(seconds, 1), "exit_code": code, "failed": failed,
            "summary": summary, "target_s": TEST_SECONDS, "timed_out": code is None,
            "cpu_s": round(cpu, 1), "browser": browser_timings(since=time.time() - seconds)}


BROWSER_TIMINGS = ROOT / "tests" / "artifacts" / "browser_timings.json"


def browser_timings(since, path=BROWSER_TIMINGS):
    """The browser test's figures per lesson (``{lesson: {"median_ms", "times_ms", ...}}``), if
    that test wrote them after ``since`` (epoch s); else None."""
    if not path.exists() or path.stat().st_mtime < since:
        return None
    try:
        found = json.loads(path.read_text())
    except ValueError:
        return None
    if found.get("written", 0) < since or not found.get("lessons"):
        return None
    return found["lessons"]


def bench_browser(timeout):
    """Run the browser test alone (one pytest process) and read its figures per lesson."""
    python = ROOT / ".venv" / "bin" / "python"
    cmd = [str(python if python.exists() else Path(sys.executable)), "-m", "pytest", "-n", "0", "-q", "-rf",
           "tests/test_browser.py"]
    start, since = time.perf_counter(), time.time()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        code, output = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as exc:
        code, output = None, (exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or "")
    lines = [ln.strip("= ").strip() for ln in output.splitlines() if ln.strip()]
    summary = next((ln for ln in reversed(lines) if re.search(r"\b(passed|failed|error|skipped)\b", ln)),
                   "timed out" if code is None else "")
    failed = [ln[len("FAILED "):][:300] for ln in lines if ln.startswith(("FAILED ", "ERROR "))]
    return {"command": " ".join(["python"] + cmd[1:]), "seconds": round(time.perf_counter() - start, 1),
            "exit_code": code, "summary": summary, "failed": failed, "lessons": browser_timings(since) or {},
            "target_ms": SLIDER_TO_PLOT_MS}


def tests_table(part):
    status = "timed out" if part["timed_out"] else f"exit {part['exit_code']}"
    cpu = part.get("cpu_s")
    table = format_table(["command", "total s", "CPU s, all processes", "target s", "", "result"],
                         [[f"`{part['command']}`", f"{part['seconds']:.0f}", "–" if cpu is None else f"{cpu:.0f}",
                           f"≤ {part['target_s']:.0f}",
                           verdict(part["seconds"], part["target_s"]), f"{status}: {part['summary']}"]])
    lessons = part.get("browser")
    if lessons:
        medians = ", ".join(f"{k[:2]} {v['median_ms']:.0f} ms" for k, v in lessons.items())
        table += ("\n\nDuring this run the browser test measured the median time from a key press on each explorer's "
                  f"first slider to the new plot image: {medians} (see *Browser* below).")
    elif part.get("browser_ms") is not None:  # results from before the browser test covered every lesson
        table += (f"\n\nDuring this run the browser test (lesson 02 only) measured {part['browser_ms']:.0f} ms "
                  "from a slider key press to the new plot image.")
    else:
        table += "\n\nThe browser test gave no timings during this run (skipped or failed)."
    return table


def browser_table(part):
    rows = [[lesson, f"`{r['control']}` {r['readout_before']} → {r['readout_after']}",
             " ".join(f"{t:.0f}" for t in r["times_ms"]), f"{r['median_ms']:.0f}", f"≤ {SLIDER_TO_PLOT_MS:.0f}",
             verdict(r["median_ms"], SLIDER_TO_PLOT_MS), "–" if r.get("run_all_s") is None else f"{r['run_all_s']:.1f}"]
            for lesson, r in part["lessons"].items()]
    if not rows:
        return f"No timings: the browser test did not write them ({part.get('summary') or 'no summary'})."
    return format_table(["lesson", "slider moved", "key press → new image, ms", "median ms", "target ms", "",
                         "Run All in the browser s"], rows)


# =========================================================================== explorers
def discover_explorers():
    """Every explorer of course_lib.widgets (its public ``*_explorer`` functions), in file order."""
    import inspect

    from course_lib import widgets

    found = [(fn.__code__.co_firstlineno, name) for name, fn in vars(widgets).items()
             if inspect.isfunction(fn) and fn.__module__ == widgets.__name__ and name.endswith("_explorer")]
    return [name for _, name in sorted(found)]


def sweep_explorers(n=30, names=None):
    """Build each explorer with its defaults and sweep one control over ``n`` values.

    Meant to run inside a Jupyter kernel (see :func:`bench_explorers`), where the widget's
    redraw really displays its figure.  Returns one dict per explorer.
    """
    import matplotlib.pyplot as plt

    from course_lib import widgets

    rows = []
    for name in names or discover_explorers():
        row = {"explorer": name, "control": None, "updates": 0, "median_ms": None, "max_ms": None,
               "build_ms": None, "cpu_ms": None, "error": None}
        try:
            start = time.perf_counter()
            ui = getattr(widgets, name)()
            row["build_ms"] = round(1000 * (time.perf_counter() - start), 1)
            if not hasattr(ui, "update_times") or not hasattr(ui, "controls"):
                row["error"] = "not an explorer (no update_times)"
                rows.append(row)
                continue
            control = sweepable(ui.controls)
            row["control"] = control
            if control is None:
                row["error"] = "no control to sweep"
            else:
                ui.update_times.clear()
                cpu = time.process_time()
                for value in sweep_values(ui.controls[control], n):
                    ui.controls[control].value = value
                cpu = time.process_time() - cpu
                times = list(ui.update_times)
                row["cpu_ms"] = round(1000 * cpu / len(times), 1) if times else None
                row["updates"] = len(times)
                row["median_ms"] = round(median_ms(times), 1) if times else None
                row["max_ms"] = round(1000 * max(times), 1) if times else None
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"[:200]
        plt.close("all")
        rows.append(row)
    return rows


def _run_in_kernel(code, env, timeout=600):
    """Execute ``code`` in a fresh python3 kernel; return everything it printed to stdout."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT), env=env)
    chunks = []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            chunks.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            chunks.append("\nKERNEL ERROR: " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])

    try:
        kc.execute_interactive(code, output_hook=hook, timeout=timeout)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return "".join(chunks)


def bench_explorers(n=30):
    """Sweep every explorer inside a fresh kernel (Agg backend; the explorer renders its own PNG)."""
    code = (f"import sys, json\nsys.path.insert(0, {str(ROOT)!r})\n"
            f"from bench.run import sweep_explorers\n"
            f"print('BENCH-JSON' + json.dumps(sweep_explorers({n})))\n")
    env = {**os.environ, **KERNEL_ENV, "MPLBACKEND": "Agg"}
    text = _run_in_kernel(code, env)
    if "BENCH-JSON" not in text:
        raise RuntimeError(f"explorer sweep failed in the kernel:\n{text[-2000:]}")
    return {"values_per_sweep": n, "rows": json.loads(text.split("BENCH-JSON", 1)[1].strip().splitlines()[0])}


def explorers_table(part):
    def ms(r, key):
        return "–" if r.get(key) is None else f"{r[key]:.1f}"

    rows = [[r["explorer"], f"`{r['control']}` × {r['updates']}", ms(r, "median_ms"), ms(r, "max_ms"),
             ms(r, "cpu_ms"), f"≤ {EXPLORER_MS:.0f}", verdict(r.get("median_ms"), EXPLORER_MS),
             f"≤ {SLIDER_TO_PLOT_MS:.0f}", verdict(r.get("median_ms"), SLIDER_TO_PLOT_MS), r.get("error") or ""]
            for r in part["rows"]]
    return format_table(["explorer", "swept", "median ms", "max ms", "mean CPU ms", "target ms", "",
                         "slider-to-plot budget ms", "", "error"], rows)


# =========================================================================== optimizers
def time_interleaved(fns, reps, warmup, rounds=10):
    """Durations (s) of ``reps`` calls of each function in ``fns`` (a dict), after ``warmup``
    untimed calls each.  The calls are interleaved in ``rounds`` rounds, so that all functions
    see the same share of a busy machine's load."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    per_round = max(1, reps // rounds)
    while any(len(t) < reps for t in times.values()):
        for name, fn in fns.items():
            for _ in range(min(per_round, reps - len(times[name]))):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return times


def course_lib_stepper(optimizer, params, grads):
    """A function doing one ``optimizer.step`` on numpy arrays, chained from ``init``."""
    box = [params, optimizer.init(params)]

    def step():
        box[0], box[1] = optimizer.step(box[0], grads, box[1])

    return step


def keras_stepper(optimizer, params, grads, compiled=False):
    """A function doing one ``optimizer.apply_gradients`` on one ``tf.Variable``, eagerly or in a
    ``tf.function``; it waits for the update (reads one element back)."""
    tf = _tensorflow()
    var, grad = tf.Variable(params), tf.constant(grads)

    def apply():
        optimizer.apply_gradients([(grad, var)])

    run = tf.function(apply, autograph=False) if compiled else apply

    def step():
        run()
        var[0].numpy()

    return step


def bench_optimizers(size=1_000_000, reps=100, warmup=10):
    import numpy as np

    from course_lib import optimizers  # course_lib before TensorFlow: it quiets TensorFlow's start-up log

    tf = _tensorflow()
    rng = np.random.default_rng(0)
    params = rng.standard_normal(size, dtype=np.float32)
    grads = (rng.standard_normal(size, dtype=np.float32) * np.float32(0.01)).astype(np.float32)
    cases = [("Adam", lambda: optimizers.Adam(), lambda: tf.keras.optimizers.Adam()),
             ("SGD(momentum=0.9)", lambda: optimizers.SGD(momentum=0.9),
              lambda: tf.keras.optimizers.SGD(momentum=0.9))]
    rows = []
    for name, ours, theirs in cases:
        print(f"  timing {name} ...", flush=True)
        times = time_interleaved({"ours": course_lib_stepper(ours(), params, grads),
                                  "eager": keras_stepper(theirs(), params, grads),
                                  "compiled": keras_stepper(theirs(), params, grads, compiled=True)},
                                 reps, warmup)
        ours_ms, eager_ms, compiled_ms = (median_ms(times[k]) for k in ("ours", "eager", "compiled"))
        rows.append({"optimizer": name, "course_lib_ms": round(ours_ms, 3), "keras_eager_ms": round(eager_ms, 3),
                     "keras_tf_function_ms": round(compiled_ms, 3), "ratio_eager": round(ours_ms / eager_ms, 2),
                     "ratio_tf_function": round(ours_ms / compiled_ms, 2)})
    return {"size": size, "dtype": "float32", "reps": reps, "warmup": warmup,
            "tf_threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                           "inter_op": tf.config.threading.get_inter_op_parallelism_threads()},
            "target_ratio": OPTIMIZER_RATIO, "rows": rows}


def _tensorflow():
    import tensorflow

    return tensorflow


def optimizers_table(part):
    rows = [[r["optimizer"], f"{r['course_lib_ms']:.2f}", f"{r['keras_eager_ms']:.2f}",
             f"{r['keras_tf_function_ms']:.2f}", f"{r['ratio_eager']:.2f}", f"{r['ratio_tf_function']:.2f}",
             f"≤ {part['target_ratio']}", verdict(r["ratio_eager"], part["target_ratio"]),
             verdict(r["ratio_tf_function"], part["target_ratio"])]
            for r in part["rows"]]
    return format_table(["optimizer", "course_lib ms", "Keras eager ms", "Keras tf.function ms",
                         "ratio vs eager", "ratio vs tf.function", "target", "eager", "tf.function"], rows)


# =========================================================================== report
TABLES = {"notebooks": notebook_table, "tests": tests_table, "browser": browser_table, "explorers": explorers_table,
          "optimizers": optimizers_table}

TITLES = {
    "notebooks": "Notebooks: Run-All in a fresh kernel",
    "tests": "The README's test command",
    "browser": "Browser: key press to new plot image, per lesson",
    "explorers": "Explorers: kernel-side update time over a slider sweep",
    "optimizers": "Optimizer step on 1M float32 parameters: course_lib against Keras",
}

EXPLAIN = {
    "notebooks": "Each notebook is executed top to bottom by nbclient in a new `python3` kernel. "
                 "*Run-All* counts from starting the kernel to the end of the last cell; *peak MB* is "
                 "the kernel process's resident-memory high-water mark (`VmHWM` in `/proc/<pid>/status`); "
                 "*kernel CPU s* the CPU time the kernel used, which a busy machine hardly changes (on an idle "
                 "machine Run-All is about kernel CPU plus half a second of start-up). *After imports MB* is the "
                 "peak once the first code cell (the imports, TensorFlow among them) has run; *of which files MB* "
                 "is the part of the resident memory mapped from files at the end (`RssFile`: mostly "
                 "TensorFlow's shared libraries, whose pages the kernels on one machine share); *slowest cell* and "
                 "*largest rise after imports* name the code cell (`In [n]`) to look at first. "
                 f"Targets: at most {LESSON_SECONDS:.0f} s and {LESSON_MB:.0f} MB per lesson, about "
                 f"{CAPSTONE_SECONDS:.0f} s for the capstone (10).",
    "tests": "The whole test command of the README, run as a subprocess from the repository's folder "
             "(unit tests, exercise checks, the browser test, every notebook replayed by nbval, on 3 "
             "workers sharing the 2 cores). *CPU s* adds up every process it started (pytest workers, kernels, "
             "the browser); on an idle 2-core machine the total time is at least half of it. "
             f"Target: at most {TEST_SECONDS / 60:.0f} minutes on 2 cores.",
    "browser": "The browser test (`tests/test_browser.py`) opens every lesson that has an explorer in JupyterLab "
               "in headless Chromium, runs the cells its explorer needs (its imports and the explorer; nbval "
               "runs every cell), focuses the explorer's first slider and presses "
               "ArrowRight five times; each time it measures from the key press until the page shows a new plot "
               "image (kernel round trip, redraw, PNG transfer and decoding included). Figures from the test "
               "command's run when that part ran, else from the browser test run alone. Target: median at most "
               f"{SLIDER_TO_PLOT_MS:.0f} ms per lesson on an idle 2-core machine.",
    "explorers": "Every public function of `course_lib.widgets` that builds an explorer is called with its "
                 "defaults inside a Jupyter kernel (Agg backend), and its first numeric slider is set to 30 "
                 "values across its range; the widget records the kernel-side time of every redraw (compute, "
                 "draw, encode the PNG it sends to the browser); *mean CPU ms* is the kernel's CPU time over "
                 f"the sweep per update. Target: median at most {EXPLORER_MS:.0f} ms. The kernel-side time is "
                 "also a lower bound of the browser's slider-to-new-plot time, whose budget is "
                 f"{SLIDER_TO_PLOT_MS:.0f} ms (the browser test measures the whole of it).",
    "optimizers": "One `step` of the course_lib optimizer (numpy, explicit state, new arrays each step) "
                  "against `apply_gradients` of its Keras twin on a `tf.Variable`, called eagerly and "
                  "inside a `tf.function`; median over the repetitions after a warm-up, the three timed in interleaved "
                  "rounds so that they see the same load. Ratio = course_lib "
                  f"time / Keras time; target: at most {OPTIMIZER_RATIO}.",
}


def render_markdown(results):
    """BENCHMARKS.md from a results dict (``{"machine": ..., "parts": {...}}``)."""
    m = results["machine"]
    v = m["versions"]
    lines = ["# Benchmarks", "",
             "<!-- Generated by `python -m bench` (bench/run.py) from bench/results/latest.json; "
             "do not edit by hand. -->", "",
             "How long the course takes to run and how much memory it needs, each figure against its target. "
             "Re-measure with `.venv/bin/python -m bench` (all parts) or, e.g., "
             "`.venv/bin/python -m bench --only notebooks,explorers,optimizers` (the test command takes "
             "minutes); the raw figures go to `bench/results/` (not committed).", "",
             "## Machine", "",
             f"- CPU: {m['cpu']}, {m['cores']} cores available",
             f"- Memory: {m['memory_gb']} GB",
             f"- OS: {m['os']}",
             f"- Python {v['python']}, TensorFlow {v['tensorflow']}, Keras {v['keras']}, numpy {v['numpy']}, "
             f"matplotlib {v['matplotlib']}, ipywidgets {v['ipywidgets']}, nbclient {v['nbclient']}, "
             f"pytest {v['pytest']}",
             f"- Run: {m['date']}", ""]
    busy = [(name, p) for name, p in results["parts"].items()
            if max(p.get("load_before") or 0, p.get("load_after") or 0) > 0.5 * m["cores"]]
    if results.get("note"):
        lines += [f"**Note.** {results['note']}", ""]
    if busy:
        worst = max(max(p.get("load_before") or 0, p.get("load_after") or 0) for _, p in busy)
        lines += [f"**The machine was shared with other jobs during this run** (1-minute load average up to "
                  f"{worst:.1f} on {m['cores']} cores during: {', '.join(n for n, _ in busy)}), so these "
                  "times are pessimistic; an idle machine is faster.", ""]
    for name in PARTS:
        part = results["parts"].get(name)
        lines += [f"## {TITLES[name]}", "", EXPLAIN[name], ""]
        if part is None:
            lines += ["Not measured yet.", ""]
            continue
        lines += [f"Measured {part['date']} (load average {part.get('load_before')} before, "
                  f"{part.get('load_after')} after).", "", TABLES[name](part), ""]
        if name == "optimizers":
            lines += [f"{part['size']:,} float32 parameters, {part['reps']} timed steps after {part['warmup']} "
                      f"warm-up steps; TensorFlow threads: {part['tf_threads']}.", ""]
        if name == "browser" and part.get("failed"):
            lines += ["The browser test failed: " + "; ".join(f"`{t}`" for t in part["failed"][:6]) + ".", ""]
        if name == "tests" and part.get("failed"):
            lines += ["Failing at the time of the run (work in progress elsewhere, not a benchmark figure): "
                      + ", ".join(f"`{t}`" for t in part["failed"][:12]) + ".", ""]
        if part.get("remark"):
            lines += [part["remark"], ""]
    missed = misses(results)
    lines += ["## Against the targets", ""]
    lines += ([f"- {x}" for x in missed] if missed else ["Every measured figure meets its target."]) + [""]
    return "\n".join(lines)


def misses(results):
    """One line per figure that misses its target."""
    out = []
    parts = results["parts"]
    for r in parts.get("notebooks", {}).get("rows", []):
        name = Path(r["notebook"]).name
        if r["run_all_s"] > r["target_s"]:
            out.append(f"{name}: Run-All {r['run_all_s']:.1f} s > {r['target_s']:.0f} s")
        if r["peak_mb"] > r["target_mb"]:
            out.append(f"{name}: peak memory {r['peak_mb']:.0f} MB > {r['target_mb']:.0f} MB")
        if r["error"]:
            out.append(f"{name}: a cell failed ({r['error']})")
    t = parts.get("tests")
    if t and (t["timed_out"] or t["seconds"] > t["target_s"]):
        out.append(f"test command: {t['seconds']:.0f} s > {t['target_s']:.0f} s")
    b = parts.get("browser")
    for lesson, r in (b or {}).get("lessons", {}).items():
        if r["median_ms"] > SLIDER_TO_PLOT_MS:
            out.append(f"{lesson}: browser key press to new image, median {r['median_ms']:.0f} ms > "
                       f"{SLIDER_TO_PLOT_MS:.0f} ms")
    if b and b.get("exit_code") not in (0, None):
        out.append(f"browser test: exit code {b['exit_code']} ({b['summary']})")
    if t and t["exit_code"] not in (0, None):
        out.append(f"test command: exit code {t['exit_code']} ({t['summary']})")
    for r in parts.get("explorers", {}).get("rows", []):
        if r["median_ms"] is not None and r["median_ms"] > EXPLORER_MS:
            out.append(f"{r['explorer']}: median kernel-side update {r['median_ms']:.1f} ms > {EXPLORER_MS:.0f} ms")
        if r["error"]:
            out.append(f"{r['explorer']}: {r['error']}")
    for r in parts.get("optimizers", {}).get("rows", []):
        for key, label in (("ratio_eager", "eager"), ("ratio_tf_function", "tf.function")):
            if r[key] > OPTIMIZER_RATIO:
                out.append(f"{r['optimizer']}: course_lib is {r[key]:.2f}x Keras ({label}) > {OPTIMIZER_RATIO}x")
    return out


def browser_part(results, timeout, tests_ran=False):
    """The browser figures: those of the test command if it ran just before (``tests_ran``) and
    gave them, else a run of the browser test alone."""
    tests = results["parts"].get("tests")
    if tests_ran and tests and tests.get("browser"):
        return {"command": "(from the test command's run)", "seconds": None, "exit_code": tests["exit_code"],
                "summary": tests["summary"], "lessons": tests["browser"], "target_ms": SLIDER_TO_PLOT_MS}
    return bench_browser(timeout)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run (default: all of {','.join(PARTS)})")
    parser.add_argument("--skip", default="", help="comma-separated parts not to run (e.g. tests)")
    parser.add_argument("--notebooks", default="notebooks/*.ipynb", help="glob of notebooks (from the repo root)")
    parser.add_argument("--cell-timeout", type=float, default=120.0, help="seconds a notebook cell may take")
    parser.add_argument("--test-timeout", type=float, default=900.0, help="seconds before the test command is stopped")
    parser.add_argument("--sweep", type=int, default=30, help="values per explorer slider sweep")
    parser.add_argument("--reps", type=int, default=100, help="timed optimizer steps (after 10 warm-up steps)")
    parser.add_argument("--note", default=None, help="a sentence to print in BENCHMARKS.md (e.g. about the run)")
    parser.add_argument("--render", action="store_true",
                        help="run nothing: rewrite BENCHMARKS.md from bench/results/latest.json")
    parser.add_argument("--no-write", action="store_true", help="print the tables only; write no files")
    args = parser.parse_args(argv)

    chosen = [p.strip() for p in args.only.split(",") if p.strip()]
    skipped = {p.strip() for p in args.skip.split(",") if p.strip()}
    unknown = sorted((set(chosen) | skipped) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    chosen = [p for p in PARTS if p in chosen and p not in skipped]

    latest = RESULTS / "latest.json"
    results = json.loads(latest.read_text()) if latest.exists() else {"parts": {}}
    if args.render:
        if not latest.exists():
            parser.error("no bench/results/latest.json yet: run the benchmarks first")
        if args.note is not None:
            results["note"] = args.note
            latest.write_text(json.dumps(results, indent=1) + "\n")
        MARKDOWN.write_text(render_markdown(results))
        print(f"wrote {MARKDOWN.name} from {latest.relative_to(ROOT)}")
        return 0
    if not args.render:
        results["machine"] = machine()
    results["note"] = args.note
    runners = {"notebooks": lambda: bench_notebooks(args.notebooks, args.cell_timeout),
               "tests": lambda: bench_tests(args.test_timeout),
               "browser": lambda: browser_part(results, args.test_timeout, "tests" in ran),
               "explorers": lambda: bench_explorers(args.sweep),
               "optimizers": lambda: bench_optimizers(reps=args.reps)}
    ran = set()
    for name in chosen:
        print(f"[{name}]", flush=True)
        before, date = load(), now()
        part = runners[name]()
        part.update(date=date, load_before=before, load_after=load())
        results["parts"][name] = part
        ran.add(name)
        print(TABLES[name](part) + "\n", flush=True)

    missed = misses(results)
    print("Misses its target:\n" + "\n".join(f"  {x}" for x in missed) if missed else "Every figure meets its target.")
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        text = json.dumps(results, indent=1) + "\n"
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        (RESULTS / f"{stamp}.json").write_text(text)
        latest.write_text(text)
        MARKDOWN.write_text(render_markdown(results))
        print(f"wrote {latest.relative_to(ROOT)} and {MARKDOWN.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
