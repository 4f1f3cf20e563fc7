"""The exercise notebooks: generated from the solutions, in sync, and failing only where the
student has work to do."""

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib import build

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def test_every_solution_has_an_exercise_and_they_are_in_sync():
    assert sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb")) == [p.name for p in EXERCISES]
    assert build.stale_solutions() == [], ("the solutions' navigation or nbgrader metadata is out of date: "
                                           "run `python -m course_lib.build exercises`")
    assert build.stale_exercises() == [], "run `python -m course_lib.build exercises`"


def test_exercises_carry_the_solutions_nbgrader_metadata_and_lock_flags():
    solutions = {p.name: nbformat.reads(t, as_version=4) for p, t in build.expected_solutions().items()}
    for path in EXERCISES:
        cells, stamped = nbformat.read(path, as_version=4).cells, solutions[path.name].cells
        assert all("nbgrader" in c.metadata for c in cells), (
            f"{path.name} has no nbgrader metadata: run `python -m course_lib.build exercises`")
        assert [c.metadata["nbgrader"] for c in cells] == [c.metadata["nbgrader"] for c in stamped], (
            f"{path.name}: run `python -m course_lib.build exercises`")
        for cell in cells:
            meta, flags = cell.metadata["nbgrader"], (cell.metadata.get("deletable"), cell.metadata.get("editable"))
            assert flags == ((False, None) if meta["solution"] else (False, False)), (path.name, meta, flags)


def test_no_solution_is_left_in_an_exercise():
    for path in EXERCISES:
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, path.name
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{path.name} has outputs"


def test_strip_solutions_keeps_indentation_and_surroundings():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n\nprint(f)"
    assert build.strip_solutions(source) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nprint(f)")
    two = "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = 2\n### BEGIN SOLUTION\nc = 3\n### END SOLUTION\n"
    assert build.strip_solutions(two) == (
        "# YOUR CODE HERE\nraise NotImplementedError()\nb = 2\n# YOUR CODE HERE\nraise NotImplementedError()\n")
    # As nbgrader does it: a marker anywhere in a line makes the whole line part of the region.
    assert build.strip_solutions("Answer: ### BEGIN SOLUTION\nforty-two\n### END SOLUTION\nDone.", "markdown") == (
        "YOUR ANSWER HERE\nDone.")
    assert build.strip_solutions("  ### BEGIN SOLUTION\n  Forty-two.\n  ### END SOLUTION", "markdown") == (
        "  YOUR ANSWER HERE")
    assert build.strip_solutions("no region here") == "no region here"
    for unbalanced in ("### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION",
                       "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"):
        with pytest.raises(ValueError, match="unbalanced"):
            build.strip_solutions(unbalanced)


def test_generator_refuses_to_overwrite_a_students_work(tmp_path, monkeypatch):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")])
    (solutions / "01_x.ipynb").write_text(nbformat.writes(nb))
    monkeypatch.setattr(build, "SOLUTIONS", solutions)
    monkeypatch.setattr(build, "EXERCISES", exercises)
    monkeypatch.setattr(build, "MANIFEST", exercises / ".generated.json")
    build.write_exercises()
    target = exercises / "01_x.ipynb"
    assert "raise NotImplementedError()" in target.read_text()
    build.write_exercises()  # unchanged since generated: regenerating is allowed
    student = target.read_text().replace("raise NotImplementedError()", "return 1")
    target.write_text(student)
    with pytest.raises(SystemExit, match="01_x.ipynb"):
        build.write_exercises()
    assert target.read_text() == student
    build.write_exercises(force=True)
    assert "raise NotImplementedError()" in target.read_text()
    assert json.loads((exercises / ".generated.json").read_text())["01_x.ipynb"]


def _is_exercise(cell):
    return cell.cell_type == "code" and "raise NotImplementedError()" in cell.source


def assert_fails_only_where_work_is_left(nb, name):
    """``nb``, an exercise notebook run with nothing attempted and errors allowed, failed only in its
    exercises (``NotImplementedError``) and in the check cells right after them (``NotAttempted``),
    and in each exercise at least."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    allowed = set()
    for i, cell in enumerate(code):
        if _is_exercise(cell):
            allowed.add(i)
            if i + 1 < len(code) and re.search(r"\bcheck", code[i + 1].source):
                allowed.add(i + 1)  # the check cell right after an exercise
    failures = 0
    for i, cell in enumerate(code):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                assert i in allowed, (
                    f"{name}: cell {i} failed but is not an exercise:\n{cell.source}\n{out.ename}: {out.evalue}")
                assert out.ename in ("NotImplementedError", "NotAttempted"), (
                    f"{name}: cell {i} failed with {out.ename}: {out.evalue}")
                failures += 1
    assert failures >= sum(_is_exercise(c) for c in code) > 0, name


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_unsolved_exercise_fails_only_with_not_implemented(path):
    if importlib.util.find_spec("nbgrader") is not None:
        pytest.skip("run by the nbgrader round trip instead (tests/test_nbgrader.py, student carol, who hands in "
                    "every exercise notebook as released): each notebook is executed once, not twice")
    if re.search(r"import (tensorflow|keras)|tf_twins|training", path.read_text()):
        pytest.importorskip("tensorflow")  # this exercise notebook runs TensorFlow
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True, shutdown_kernel="immediate",
                   resources={"metadata": {"path": str(path.parent)}}).execute()   # stopped at once, as nbval does
    assert_fails_only_where_work_is_left(nb, path.name)


def test_navigation_and_lesson_table_are_up_to_date():
    assert build.stale_navigation() == [], "run `python -m course_lib.build nav`"
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for cell in (cells[0], cells[-1]):
            assert build.NAV_TAG in cell.metadata.get("tags", []), f"{path.name} lacks navigation"
            assert "[Contents](../README.md#lessons)" in cell.source
    for folder in ("solutions", "exercises"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            cells = nbformat.read(path, as_version=4).cells
            for cell in (cells[0], cells[-1]):
                assert build.NAV_TAG in cell.metadata.get("tags", []), f"{path.name} lacks navigation"
                assert cell.source == build.nav_text(folder, path.stem, build.lesson_titles()), (
                    f"{folder}/{path.name}: run `python -m course_lib.build exercises`")


def test_navigation_links_point_to_existing_notebooks():
    titles = build.lesson_titles()
    for stem in titles:
        for kind in ("notebooks", "exercises", "solutions"):
            for target in re.findall(r"\]\(([^)#]+)", build.nav_text(kind, stem, titles)):
                assert (ROOT / kind / target).resolve().exists(), f"{kind}/{stem}: broken link {target}"
    with pytest.raises(ValueError, match="kind"):
        build.nav_text("lessons", stem, titles)


def test_exercise_navigation_links_only_to_neighbouring_exercises():
    """An nbgrader release holds only the exercise notebooks: its links must stay in that folder."""
    titles = build.lesson_titles()
    stems = [stem for stem in titles if build.has_exercises(stem)]
    for i, stem in enumerate(stems):
        text = build.nav_text("exercises", stem, titles)
        assert text == build.nav_text("solutions", stem, titles)
        neighbours = [s + ".ipynb" for s in stems[max(i - 1, 0):i] + stems[i + 1:i + 2]]
        assert re.findall(r"\]\(([^)]+)\)", text) == neighbours, text
        assert f"`notebooks/{stem}.ipynb`" in text


def test_a_lesson_without_exercises_is_skipped_by_the_exercise_navigation(tmp_path, monkeypatch):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    for stem in ("01_a", "03_c"):
        (solutions / f"{stem}.ipynb").write_text("{}")
    monkeypatch.setattr(build, "SOLUTIONS", solutions)
    titles = {"01_a": "01 · A", "02_b": "02 · B", "03_c": "03 · C"}
    assert build.nav_text("exercises", "01_a", titles) == (
        "*Course navigation (exercises):* lesson: `notebooks/01_a.ipynb` · [03 · C →](03_c.ipynb)")
    assert "[← 01 · A](01_a.ipynb)" in build.nav_text("solutions", "03_c", titles)
    assert "Exercises" not in build.nav_text("notebooks", "02_b", titles)
    assert "[Exercises](../exercises/03_c.ipynb)" in build.nav_text("notebooks", "03_c", titles)
    assert "| 02 | [B](notebooks/02_b.ipynb) | — |" in build.readme_table(titles).splitlines()


def test_execute_stores_consecutive_prints_to_one_stream_as_one_output():
    out = nbformat.v4.new_output
    outputs = [out("stream", name="stdout", text="a\n"), out("stream", name="stdout", text="b\n"),
               out("stream", name="stderr", text="warning\n"), out("stream", name="stdout", text="c\n"),
               out("execute_result", data={"text/plain": "1"}), out("stream", name="stdout", text="d\n")]
    merged = build._merged_streams(outputs)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "a\nb\n"), ("stream", "stderr", "warning\n"), ("stream", "stdout", "c\n"),
        ("execute_result", None, None), ("stream", "stdout", "d\n")]
