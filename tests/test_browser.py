"""Lesson 02's explorer in a real browser: JupyterLab + headless Debian Chromium via Playwright.

The test starts its own JupyterLab on 127.0.0.1 (random free port, random token, a temporary
root folder holding a copy of the lesson, and the settings in ``tests/browser/settings`` that
turn the news pop-up off), opens the lesson, runs every cell, waits until the status bar says
the kernel is Idle, then moves the learning-rate slider with the keyboard.  It asserts that the
verdict text and the plot image both change, saves before/after screenshots in
``tests/artifacts/``, prints the time from key press to new plot, and stops the server it
started by its process group id.

Playwright's own browser download does not work offline, so the system Chromium is used
(``/usr/bin/chromium``, or ``$CHROMIUM``).  Without it the test is skipped with a message
saying how to install it.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "notebooks" / "02_learning_rate.ipynb"
SETTINGS = Path(__file__).resolve().parent / "browser" / "settings"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]

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


@pytest.fixture()
def lab():
    """A JupyterLab server of our own; yields (base_url, token); killed by process group afterwards."""
    work = Path(tempfile.mkdtemp(prefix="lesson02-browser-"))
    root, settings = work / "root", work / "settings"
    root.mkdir()
    shutil.copy(LESSON, root / LESSON.name)
    shutil.copytree(SETTINGS, settings)
    port, token = _free_port(), os.urandom(12).hex()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(work / "ws"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), MPLBACKEND="module://matplotlib_inline.backend_inline")
    log = open(work / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
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


def _wait_idle(page, timeout_ms):
    """Wait for the status bar's kernel indicator (not the toolbar's) to read Idle."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-StatusBar-TextItem, .jp-StatusBar-Item span')]
                 .some(e => /\\|\\s*Idle/.test(e.textContent))""", timeout=timeout_ms)


def _wait_plot_settled(page, quiet_s=1.5, timeout_s=60):
    """Wait until the explorer's image is loaded and has not been replaced for ``quiet_s`` seconds
    (one key press can queue several redraws)."""
    js = ("() => { const i = document.querySelector('.lr-explorer img');"
          " return i && i.complete && i.naturalWidth > 0 ? i.getAttribute('src') : null; }")
    last, since, deadline = None, time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        src = page.evaluate(js)
        if src != last:
            last, since = src, time.monotonic()
        elif src is not None and time.monotonic() - since >= quiet_s:
            page.wait_for_timeout(200)  # let Chromium paint the decoded image
            return
        page.wait_for_timeout(100)
    raise AssertionError("the explorer's plot never settled")


def test_learning_rate_explorer_in_browser(lab):
    base, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{LESSON.name}?token={token}", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            _wait_idle(page, 120_000)  # kernel started and connected
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            # The last code cell prints the update timing: wait for it, then for the status bar's Idle.
            page.wait_for_selector("text=/updates: median/", timeout=240_000)
            _wait_idle(page, 60_000)

            ui = page.locator(".lr-explorer")
            verdict = ui.locator(".lr-explorer-verdict")
            ui.scroll_into_view_if_needed()
            ui.locator("img").first.wait_for(timeout=30_000)
            page.wait_for_function("() => document.querySelector('.lr-explorer-verdict')"
                                   "?.textContent.startsWith('converges')", timeout=30_000)
            _wait_plot_settled(page)
            before_text = verdict.inner_text()
            before_src = ui.locator("img").first.get_attribute("src")
            ui.screenshot(path=str(ARTIFACTS / "lesson02_explorer_before.png"))

            # The learning-rate handle: ArrowRight moves it one step (10**0.025 times larger), End to
            # its maximum, 10, far past the stability limit 0.5 of the default bowl.
            ui.locator(".widget-slider .noUi-handle").first.focus()
            start = time.perf_counter()
            page.keyboard.press("ArrowRight")
            # The output area replaces its <img> on every redraw: query it afresh each time.
            page.wait_for_function("old => { const i = document.querySelector('.lr-explorer img');"
                                   " return i !== null && i.getAttribute('src') !== old; }",
                                   arg=before_src, timeout=120_000)
            new_plot_ms = 1000 * (time.perf_counter() - start)
            page.keyboard.press("End")
            page.wait_for_function("() => document.querySelector('.lr-explorer-verdict')"
                                   "?.textContent.startsWith('diverges')", timeout=120_000)
            _wait_idle(page, 60_000)
            _wait_plot_settled(page)
            after_text = verdict.inner_text()
            after_src = ui.locator("img").first.get_attribute("src")
            readout = ui.locator(".widget-slider .widget-readout").first.inner_text()
            ui.screenshot(path=str(ARTIFACTS / "lesson02_explorer_after.png"))
        finally:
            browser.close()
    assert after_text != before_text and after_text.startswith("diverges at step"), after_text
    assert after_src != before_src, "the plot image did not change"
    message = (f"browser: slider key press -> new plot image in {new_plot_ms:.0f} ms; learning rate now "
               f"{readout}; verdict before: {before_text!r}; after: {after_text!r}")
    (ARTIFACTS / "lesson02_browser_timing.txt").write_text(message + "\n")
    print(message)
