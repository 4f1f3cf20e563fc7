"""The exercise notebooks: generated from the solutions, in sync, and failing only where the
student has work to do."""

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
    assert build.stale_exercises() == [], "run `python -m course_lib.build exercises`"


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
    two = "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = 2\n### BEGIN SOLUTION\nc = 3\n### END SOLUTION"
    assert build.strip_solutions(two) == (
        "# YOUR CODE HERE\nraise NotImplementedError()\nb = 2\n# YOUR CODE HERE\nraise NotImplementedError()")
    assert build.strip_solutions("Answer: ### BEGIN SOLUTION\nforty-two\n### END SOLUTION\n", "markdown") != ""
    with pytest.raises(ValueError, match="unbalanced"):
        build.strip_solutions("### BEGIN SOLUTION\nx = 1\n")


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


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_unsolved_exercise_fails_only_with_not_implemented(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
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
                    f"cell {i} failed but is not an exercise:\n{cell.source}\n{out.ename}: {out.evalue}")
                assert out.ename in ("NotImplementedError", "NotAttempted"), (
                    f"cell {i} failed with {out.ename}: {out.evalue}")
                failures += 1
    assert failures >= sum(_is_exercise(c) for c in code) > 0


def test_navigation_and_lesson_table_are_up_to_date():
    assert build.stale_navigation() == [], "run `python -m course_lib.build nav`"
    for folder in ("notebooks", "solutions", "exercises"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            cells = nbformat.read(path, as_version=4).cells
            for cell in (cells[0], cells[-1]):
                assert build.NAV_TAG in cell.metadata.get("tags", []), f"{path.name} lacks navigation"
                assert "[Contents](../README.md#lessons)" in cell.source


def test_navigation_links_point_to_existing_notebooks():
    titles = build.lesson_titles()
    for stem in titles:
        for kind in ("notebooks", "exercises", "solutions"):
            for target in re.findall(r"\]\(([^)#]+)", build.nav_text(kind, stem, titles)):
                assert (ROOT / kind / target).resolve().exists(), f"{kind}/{stem}: broken link {target}"
