"""Every lesson's explorer in a real browser: JupyterLab + headless Debian Chromium via Playwright.

The lessons with an explorer are found by reading the notebooks (a code cell that calls a
``*_explorer`` function of ``course_lib.widgets``).  One JupyterLab of our own serves them all
(127.0.0.1, a random free port, a random token, a temporary root folder holding copies of the
lessons, and the settings in ``tests/browser/settings`` that turn the news pop-up off).  It is
started with ``--LabApp.expose_app_in_browser=True``, so the page can reach the application as
``window.jupyterapp``.  One headless Chromium page loads JupyterLab once for the whole module and
stays open; loading and parsing the front end is what used to cost 5-7 s per lesson.

Each lesson is its own test.  It starts by closing every document in the page (unsaved changes
dropped) and shutting every kernel down through the sessions REST API, so that a lesson that
failed leaves nothing behind: only the new notebook's panel is left to match the ``NB`` selector,
and the test checks that exactly one notebook panel is open.  (If the page cannot be cleaned up,
a dialog left open for instance, JupyterLab is loaded afresh in it.)  It then opens the lesson in
the loaded page with the ``docmanager:open`` command and waits until the notebook's own kernel is
Idle.  Before anything runs, it checks that JupyterLab shows the static picture stored beside
each explorer (for renderers without a kernel), then runs every cell with the Run menu's "Run All
Cells" (a click, as a student would), waits until no cell is left to run and the kernel is Idle,
and fails on error output or a cell that did not run.  It then presses ArrowRight on the
explorer's first slider a few times and asserts that the slider's readout, the verdict text and
the plot image all change, and that the cell shows the live widget and not also the stored
picture (exactly one image).  Lesson 02 also presses End and waits for the verdict "diverges".
Before/after screenshots go to ``tests/artifacts/``.  The notebook is closed and its kernel shut
down before the next lesson; at the end the server is stopped by its process group id.

The timings go to ``tests/artifacts/browser_timings.json`` (one entry per lesson), which
``python -m bench`` reports: ``open_s`` is the time to open the notebook in the already-loaded
page until its kernel is Idle and the stored pictures show, ``run_all_s`` the time Run All takes,
and ``times_ms`` the time from each key press to the new plot image.

Playwright's own browser download does not work offline, so the system Chromium is used
(``/usr/bin/chromium``, or ``$CHROMIUM``).  Without it the tests are skipped with a message
saying how to install it.
"""

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Path(__file__).resolve().parent / "browser" / "settings"
ARTIFACTS = ROOT / "tests" / "artifacts"
TIMINGS = ARTIFACTS / "browser_timings.json"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
PRESSES = 3  # key presses per lesson: the median of their key-press-to-new-image times is reported


def _explorer_call():
    """A regular expression for a call of one of ``course_lib.widgets``'s ``*_explorer`` functions (not,
    say, ``schedules.decay_explorer``, which computes without drawing)."""
    from course_lib import widgets

    names = sorted(n for n in vars(widgets) if n.endswith("_explorer") and callable(getattr(widgets, n)))
    return re.compile(r"(?<![\w.])(?:widgets\.)?(?:" + "|".join(names) + r")\(")


def lessons_with_explorers(folder=ROOT / "notebooks"):
    """The lesson notebooks with a code cell that builds an explorer."""
    call, found = _explorer_call(), []
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        if call.search(code):
            found.append(path)
    return found


LESSONS = lessons_with_explorers()
TENSORFLOW = re.compile(r"\btf\b|tensorflow|tf_twins")


def without_tensorflow(source):
    """``source`` without its top-level statements that import or use TensorFlow: the explorers are
    numpy and matplotlib only, and importing TensorFlow would cost every lesson's kernel seconds."""
    import ast

    lines = source.splitlines()
    kept = [(node.lineno, node.end_lineno) for node in ast.parse(source).body
            if not TENSORFLOW.search("\n".join(lines[node.lineno - 1:node.end_lineno]))]
    return "\n".join("\n".join(lines[a - 1:b]) for a, b in kept)


def explorer_copy(path):
    """The lesson as the browser test opens it: every cell kept in place (so cell indices and the
    stored pictures stay where they are), but the code cells that the explorers do not need are
    reduced to ``pass``.  The explorers need only the lesson's first code cell (its imports, less
    TensorFlow) and the cells that build them; every code cell of every lesson is run, and its
    outputs compared, by nbval."""
    nb, call = json.loads(Path(path).read_text()), _explorer_call()
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code):
        source = "".join(cell["source"])
        if i == 0:
            cell["source"] = without_tensorflow(source)
        elif not call.search(source):
            cell["source"], cell["outputs"], cell["execution_count"] = "pass", [], None
    return nb


WIDGET = "application/vnd.jupyter.widget-view+json"


def stored_pictures(path):
    """Indices of the cells whose stored output is an explorer that carries its static picture."""
    cells = json.loads(Path(path).read_text())["cells"]
    return [i for i, c in enumerate(cells) for o in c.get("outputs", [])
            if WIDGET in o.get("data", {}) and "image/png" in o["data"]]


def test_every_lesson_with_an_explorer_is_driven():
    # Lessons 02 (learning rate), 03 (noise and batch size), 04 (decay schedule), 05 (moving average) and
    # 08 (optimizer race) build explorers; the browser tests below are generated from this list.
    assert {p.name[:2] for p in LESSONS} >= {"02", "03", "04", "05", "08"}, [p.name for p in LESSONS]


if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM}: install it with `sudo apt-get install -y chromium` "
                "(Debian/Ubuntu), or point $CHROMIUM at a Chromium binary. The browser test is skipped.",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: "
                               "`pip install -r requirements.txt`")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base, token, path, method="GET"):
    request = urllib.request.Request(f"{base}{path}?token={token}", method=method)
    with urllib.request.urlopen(request, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab server of our own; yields (base_url, token); killed by process group afterwards."""
    work = Path(tempfile.mkdtemp(prefix="explorers-browser-"))
    root, settings = work / "root", work / "settings"
    root.mkdir()
    for lesson in LESSONS:
        (root / lesson.name).write_text(json.dumps(explorer_copy(lesson), indent=1))
    shutil.copytree(SETTINGS, settings)
    port, token = _free_port(), os.urandom(12).hex()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(work / "ws"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), MPLBACKEND="module://matplotlib_inline.backend_inline")
    log = open(work / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.expose_app_in_browser=True"]  # window.jupyterapp: open and close documents in one page
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _api(base, token, "/api/status") is not None:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start; log:\n{(work / 'server.log').read_text()}")
            time.sleep(0.3)
        yield base, token
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _in_app(page, body, arg=None, timeout_ms=60_000):
    """Run ``body``, the statements of an async JavaScript function that sees JupyterLab's application
    as ``app`` and our argument as ``arg``, in the page; fail if it has not finished in ``timeout_ms``."""
    return page.evaluate(
        "async ([arg, ms]) => { const app = window.jupyterapp;"
        " const late = new Promise((_, no) => setTimeout(() => no(new Error(`no answer within ${ms} ms`)), ms));"
        f" return await Promise.race([(async () => {{ {body} }})(), late]); }}", [arg, timeout_ms])


def _load_app(page, base, token):
    """Load JupyterLab into ``page`` and wait until it has restored its layout."""
    page.goto(f"{base}/lab?token={token}", wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=120_000)
    _in_app(page, "await app.restored;", timeout_ms=120_000)


def _close_all(page, base, token):
    """Close every document in the page, its unsaved changes dropped (Run All leaves the notebook
    modified, and closing it would ask "Save your work?"), then shut every kernel down."""
    _in_app(page, """for (const widget of [...app.shell.widgets('main')]) {
                         if (widget.context) widget.context.model.dirty = false;
                         widget.close();
                     }""")
    page.wait_for_function("() => document.querySelectorAll('.jp-NotebookPanel').length === 0", timeout=30_000)
    for session in _api(base, token, "/api/sessions"):
        _api(base, token, f"/api/sessions/{session['id']}", method="DELETE")


def _fresh(page, base, token):
    """Nothing open and no kernel running, whatever the lesson before left behind; if the page cannot
    be cleaned up (a dialog left open, a broken page), JupyterLab is loaded afresh."""
    try:
        _close_all(page, base, token)
        if page.locator(".jp-Dialog").count():
            raise RuntimeError("a dialog is open")
    except (sync_api.Error, RuntimeError):
        _load_app(page, base, token)
        _close_all(page, base, token)


@pytest.fixture(scope="module")
def lab_page(lab, browser):
    """One page with JupyterLab, loaded once and kept open through every lesson."""
    base, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        started = time.perf_counter()
        _load_app(page, base, token)
        print(f"JupyterLab loaded once, in {time.perf_counter() - started:.1f} s")
        yield page
    finally:
        page.close()


@pytest.fixture(scope="module")
def timings():
    """Key-press-to-new-image times per lesson, written to ``TIMINGS`` once all lessons ran."""
    found = {}
    yield found
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps({"written": time.time(), "lessons": found}, indent=1) + "\n")


def _wait_idle(page, name, timeout_ms):
    """Wait until the notebook on show is ``name`` and its kernel is connected and Idle, by the
    application's account and by the status bar's kernel indicator (not the toolbar's)."""
    page.wait_for_function(
        """name => { const w = window.jupyterapp.shell.currentWidget, kernel = w?.sessionContext?.session?.kernel;
                     return w?.context?.path === name && kernel?.connectionStatus === 'connected'
                         && kernel.status === 'idle'
                         && [...document.querySelectorAll('.jp-StatusBar-TextItem, .jp-StatusBar-Item span')]
                            .some(e => /\\|\\s*Idle/.test(e.textContent)); }""", arg=name, timeout=timeout_ms)


#: The notebook on show (the one open: each test closes the others first and checks it is alone).
NB = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
_PROMPTS = f"[...document.querySelectorAll('{NB} .jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim())"
_SRC = (f"() => {{ const i = document.querySelector('{NB} .course-explorer img');"
        " return i && i.complete && i.naturalWidth > 0 ? i.getAttribute('src') : null; }")
_NEW_SRC = (f"old => {{ const i = document.querySelector('{NB} .course-explorer img');"
            " return i !== null && i.getAttribute('src') !== old; }")


def _run_all(page, name):
    """Run every cell and wait until none is queued or running; fail with the errors shown, if any."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    try:  # the click queues every cell at once: "[*]:"
        page.wait_for_function(f"() => {_PROMPTS}.some(t => t.includes('*'))", timeout=10_000)
    except sync_api.TimeoutError:
        pass  # already finished (an idle machine and a short lesson)
    page.wait_for_function(f"() => !{_PROMPTS}.some(t => t.includes('*'))", timeout=240_000)
    _wait_idle(page, name, 60_000)
    prompts = page.evaluate(f"() => {_PROMPTS}")
    errors = page.locator(f"{NB} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    unrun = [i for i, t in enumerate(prompts) if not re.fullmatch(r"\[\d+\]:", t)]
    texts = [errors.nth(i).inner_text()[-600:] for i in range(errors.count())]
    assert not unrun, f"{name}: code cells {unrun} did not run; error output: {texts}"


def _wait_plot_settled(page, quiet_s=0.4, timeout_s=60):
    """Wait until the explorer's image is loaded and has not been replaced for ``quiet_s`` seconds
    (one key press can queue more than one redraw)."""
    last, since, deadline = None, time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        src = page.evaluate(_SRC)
        if src != last:
            last, since = src, time.monotonic()
        elif src is not None and time.monotonic() - since >= quiet_s:
            page.wait_for_timeout(100)  # let Chromium paint the decoded image
            return src
        page.wait_for_timeout(50)
    raise AssertionError("the explorer's plot never settled")


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_explorer_in_browser(lab, lab_page, timings, lesson):
    base, token = lab
    page = lab_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _fresh(page, base, token)  # the lesson before, passed or failed, leaves nothing open
    started = time.perf_counter()
    # Open the lesson in the page already loaded: no reload of JupyterLab.
    _in_app(page, "await app.commands.execute('docmanager:open', {path: arg, factory: 'Notebook'});",
            lesson.name)
    page.locator(f"{NB} .jp-Cell").first.wait_for(state="attached", timeout=60_000)
    _wait_idle(page, lesson.name, 120_000)  # kernel started and connected
    panels = page.locator(".jp-NotebookPanel").count()
    assert panels == 1, f"{lesson.name}: {panels} notebook panels open, not this lesson's alone"
    # Before anything runs, JupyterLab does not trust the stored outputs, so it renders the
    # static picture stored beside each explorer (a safe image), not the widget (unsafe).
    unrun = []
    for index in stored_pictures(lesson):
        stored = page.locator(f"{NB} .jp-Cell[data-windowed-list-index=\"{index}\"]")
        stored.scroll_into_view_if_needed()
        stored.locator(".jp-OutputArea-output img").first.wait_for(timeout=30_000)
        unrun.append(stored.locator(".jp-OutputArea-output").inner_text())
    if unrun:
        stored.screenshot(path=str(ARTIFACTS / f"{lesson.stem}_explorer_stored.png"))
    opened = time.perf_counter()
    _run_all(page, lesson.name)
    ran = time.perf_counter()

    ui = page.locator(f"{NB} .course-explorer").first
    verdict = ui.locator(".course-explorer-verdict")
    ui.scroll_into_view_if_needed()
    ui.locator("img").first.wait_for(timeout=30_000)
    before_src = _wait_plot_settled(page)
    before_text = verdict.inner_text()
    # JupyterLab picks the live widget from the explorer's output; the static picture and
    # text stored beside it for renderers without a kernel must not show as well.
    cell = page.locator(f"{NB} .jp-CodeCell", has=page.locator(".course-explorer")).first
    pictures = cell.locator(".jp-OutputArea-output img").count()
    ui.screenshot(path=str(ARTIFACTS / f"{lesson.stem}_explorer_before.png"))

    handle = ui.locator(".widget-slider .noUi-handle").first
    label = ui.locator(".widget-slider .widget-label").first.inner_text()
    readout = ui.locator(".widget-slider .widget-readout").first
    readout_before = readout.inner_text()
    handle.focus()
    times_ms, src = [], before_src
    for _ in range(PRESSES):
        start = time.perf_counter()
        page.keyboard.press("ArrowRight")
        # The output area replaces its <img> on every redraw: query it afresh each time.
        page.wait_for_function(_NEW_SRC, arg=src, timeout=60_000)
        times_ms.append(1000 * (time.perf_counter() - start))
        src = _wait_plot_settled(page)
    after_text, after_src, readout_after = verdict.inner_text(), src, readout.inner_text()
    ui.screenshot(path=str(ARTIFACTS / f"{lesson.stem}_explorer_after.png"))
    if lesson.name.startswith("02"):  # the learning rate's maximum, 10, is far past the bowl's limit 0.5
        page.keyboard.press("End")
        page.wait_for_function(f"() => document.querySelector('{NB} .course-explorer-verdict')"
                               "?.textContent.startsWith('diverges')", timeout=60_000)
    _close_all(page, base, token)  # close the notebook and free its kernel before the next lesson
    timings[lesson.stem] = {"open_s": round(opened - started, 1), "run_all_s": round(ran - opened, 1),
                            "control": label, "readout_before": readout_before, "readout_after": readout_after,
                            "times_ms": [round(t, 1) for t in times_ms],
                            "median_ms": round(statistics.median(times_ms), 1),
                            "verdict_before": before_text, "verdict_after": after_text}
    print(f"{lesson.stem}: opened in {opened - started:.1f} s, Run All {ran - opened:.1f} s; "
          f"{label} {readout_before} -> {readout_after}; key press -> new plot image: median "
          f"{statistics.median(times_ms):.0f} ms over {PRESSES} presses ({', '.join(f'{t:.0f}' for t in times_ms)})")
    assert pictures == 1, f"{lesson.name}: the explorer's cell shows {pictures} images, not the live widget's one"
    assert not any("Error displaying widget" in text for text in unrun), unrun
    assert readout_after != readout_before, f"{lesson.name}: the slider did not move ({readout_before})"
    assert after_text and after_text != before_text, f"{lesson.name}: the verdict did not change: {after_text!r}"
    assert after_src != before_src, f"{lesson.name}: the plot image did not change"
