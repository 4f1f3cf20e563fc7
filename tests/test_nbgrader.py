"""Grading the exercises with nbgrader: the metadata ``course_lib.build`` stamps on the solutions,
and a whole round trip through nbgrader 0.9.6 on a temporary course directory.

The tests stamp temporary copies of the solutions themselves, so they test whatever solutions are
in the tree, stamped or not.  The round trip is skipped when nbgrader is not installed
(instructors install it with ``pip install -r requirements-instructor.txt``).

The round trip is the README's instructor workflow without the exchange: the release is generated
from the stamped solutions with ``nbgrader generate_assignment`` and no flags, and compared with what
``course_lib.build`` makes of them for ``exercises/``; three students are placed in ``submitted/``:
bob hands in every lesson, with one typical mistake per lesson (see ``MISTAKES``) and one check cell
replaced by ``pass``; carol hands in every lesson as released, nothing attempted; alice hands in one
lesson only (``CHEAT``), with the solutions' answers.  One autograde run grades all three, then the
feedback the tests read (bob's, and alice's) and the CSV export are made.

What each student shows.  Bob: in every lesson, the check of his mistake fails and every other check
passes under nbgrader, so the grade ids, points and locked check cells work lesson by lesson.
Carol: an unattempted exercise notebook fails only in its exercises and their checks, and scores 0
(this is where ``tests/test_exercises.py``'s check of the unsolved notebooks runs when nbgrader is
installed: each notebook is executed once, not twice).  Alice: in the lesson she hands in, the
right answers get full marks, the check bob fails there included, and her feedback shows no failed
check; the lessons she did not hand in score 0 without stopping the grading.  That every solution
passes all its checks in every lesson is shown by nbval, which replays ``solutions/``.  nbgrader starts
``alembic`` from PATH when it creates the gradebook, so the ``nbgrader`` command gets this Python's
``bin`` folder first on PATH.
"""

import csv
import html
import importlib
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest

from course_lib import build

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "how_networks_learn"
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")   # what nbgrader's "Create Assignment" tool accepts

# One typical mistake per lesson, in an answer cell whose check is the only one that uses it:
# lesson: (answer's grade_id suffix, right text, wrong text, the check that must fail).
MISTAKES = {
    "01_gradient_descent": ("sgd_step", "w - learning_rate * grad", "w + learning_rate * grad", "check_sgd_step"),
    "02_learning_rate": ("stability_limit", "2.0 / np.linalg.eigvalsh(hessian).max()",
                         "1.0 / np.linalg.eigvalsh(hessian).max()", "check_stability_limit"),
    "04_learning_rate_decay": ("inverse_time_decay", "(1 + decay_rate * step", "(1 - decay_rate * step",
                               "check_inverse_time_decay"),
    "03_noise_and_batch_size": ("scale_for_batch", "base_learning_rate * batch_size / base_batch_size",
                                "base_learning_rate * base_batch_size / batch_size", "check_scale_for_batch"),
    "05_moving_average": ("debiased_ema", "v / (1 - decay ** t)", "v / (1 - decay ** (t + 1))", "check_debiased_ema"),
    "06_backpropagation": ("numerical_gradient", "(plus - minus) / (2 * epsilon)", "(plus - minus) / epsilon",
                           "check_numerical_gradient"),
    "07_landscapes": ("newton_step", "- np.linalg.solve(hessian, grad)", "+ np.linalg.solve(hessian, grad)",
                      "check_newton_step"),
    "08_adaptive_optimizers": ("momentum_step", "v = momentum * v - learning_rate * g",
                               "v = momentum * v + learning_rate * g", "check_momentum_step"),
    "09_practice_of_training": ("clip_by_global_norm", "norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))",
                                "norm = sum(np.sum(np.square(g)) for g in grads)", "check_clip_by_global_norm"),
    "10_capstone": ("evaluate_with", "float(np.mean(predictions == y))", "float(np.sum(predictions == y))",
                    "check_evaluate_with"),
}
CHEAT = "02_learning_rate"   # bob replaces this lesson's failing check call by `pass` (a lesson without TensorFlow)
HANDED_IN = {"alice": [CHEAT], "bob": None, "carol": None}   # the lessons each student hands in (None: all)


def stamped_solutions():
    """``{stem: notebook}``: the solutions in the tree, stamped as ``build exercises`` would."""
    return {path.stem: nbformat.reads(text, as_version=4) for path, text in build.expected_solutions().items()}


def nbgrader_meta(cell):
    return cell.metadata["nbgrader"]


# ----------------------------------------------------------------------------- the metadata
def test_every_cell_of_every_solution_has_valid_nbgrader_metadata():
    total = 0
    for stem, nb in stamped_solutions().items():
        ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells]
        assert len(ids) == len(set(ids)), f"{stem}: repeated grade_ids"
        for cell in nb.cells:
            meta, calls = nbgrader_meta(cell), re.findall(r"\bchecks\.(check_\w+)\s*\(", cell.source)
            assert meta["schema_version"] == 3 and meta["task"] is False, meta
            assert GRADE_ID.match(meta["grade_id"]) and meta["grade_id"].startswith(f"{stem}-"), meta["grade_id"]
            answer = "BEGIN SOLUTION" in cell.source
            assert meta["solution"] is answer, (meta, cell.source)
            if cell.cell_type == "code" and calls:
                assert meta["grade"] and meta["locked"] and meta["points"] == len(calls), (meta, cell.source)
                assert meta["grade_id"] == f"{stem}-" + "-".join(calls) or meta["grade_id"].startswith(
                    f"{stem}-{calls[0]}-"), meta["grade_id"]
                total += meta["points"]
            elif answer:
                assert not meta["locked"] and meta["grade"] is (cell.cell_type == "markdown"), meta
            else:
                assert meta["locked"] and not meta["grade"] and "points" not in meta, meta
        navigation = [c for c in nb.cells if build.NAV_TAG in c.metadata.get("tags", [])]
        assert [nbgrader_meta(c)["grade_id"] for c in navigation] == [f"{stem}-nav-top", f"{stem}-nav-bottom"]
    checks_called = sum(len(re.findall(r"\bchecks\.check_\w+\s*\(", c.source))
                        for nb in stamped_solutions().values() for c in nb.cells if c.cell_type == "code")
    assert total == checks_called >= 33


def test_answer_and_check_ids_name_the_lesson_and_the_exercise():
    nb = stamped_solutions()["02_learning_rate"]
    ids = {nbgrader_meta(c)["grade_id"]: c for c in nb.cells}
    assert "checks.check_stability_limit(stability_limit)" in ids["02_learning_rate-check_stability_limit"].source
    assert "def stability_limit(" in ids["02_learning_rate-stability_limit"].source


def test_grade_ids_do_not_depend_on_positions():
    stem = "05_moving_average"
    nb = stamped_solutions()[stem]
    before = [nbgrader_meta(c)["grade_id"] for c in nb.cells]
    nb.cells.insert(3, nbformat.v4.new_markdown_cell("A new paragraph."))
    nb.cells.insert(5, nbformat.v4.new_code_cell("print('a new cell')"))
    after = [nbgrader_meta(c)["grade_id"] for c in build.nbgrader_metadata(nb, stem).cells]
    assert [gid for gid in after if gid in before] == before
    assert len(after) == len(before) + 2


def test_a_check_called_in_several_cells_gets_one_id_per_call():
    cells = [nbformat.v4.new_code_cell('guess = ...\n### BEGIN SOLUTION\nguess = "faster"\n### END SOLUTION'),
             nbformat.v4.new_code_cell('checks.check_prediction(guess, name="guess", correct="faster")'),
             nbformat.v4.new_code_cell("checks.check_prediction(rate, name='rate', correct=2.0, tolerance=0.1)"),
             nbformat.v4.new_code_cell("checks.check_a(f)\nchecks.check_b(f)"),
             nbformat.v4.new_markdown_cell("Same text."), nbformat.v4.new_markdown_cell("Same text.")]
    nb = build.nbgrader_metadata(nbformat.v4.new_notebook(cells=cells), "09_x")
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells]
    assert ids[:4] == ["09_x-guess", "09_x-check_prediction-guess", "09_x-check_prediction-rate",
                       "09_x-check_a-check_b"]
    assert ids[5] == ids[4] + "-2"
    assert [nbgrader_meta(c).get("points") for c in nb.cells[:4]] == [None, 1, 1, 2]
    twice = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("checks.check_a(f)") for _ in range(2)])
    with pytest.raises(ValueError, match="09_x-check_a"):
        build.nbgrader_metadata(twice, "09_x")


def test_a_markdown_answer_is_a_manually_graded_answer_worth_nothing():
    cell = nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nFaster.\n### END SOLUTION")
    nb = nbformat.v4.new_notebook(cells=[cell])
    meta = nbgrader_meta(build.nbgrader_metadata(nb, "09_x").cells[0])
    assert meta["solution"] and meta["grade"] and meta["points"] == 0 and not meta["locked"]


def test_nbgraders_own_validator_accepts_the_stamped_solutions():
    validator = pytest.importorskip("nbgrader.nbgraderformat", reason="nbgrader is not installed: instructors "
                                    "install it with `pip install -r requirements-instructor.txt`")
    for nb in stamped_solutions().values():
        validator.MetadataValidator().validate_nb(nb)


# ----------------------------------------------------------------------------- the round trip
def _run(args, cwd):
    """Run an nbgrader command in the course directory, with this Python's bin folder on PATH."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    return result


def _by_id(nb):
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells}


def _wrong_answer(stem, solution):
    """The source of ``stem``'s answer cell with the mistake of ``MISTAKES`` made."""
    answer, right, wrong, _ = MISTAKES[stem]
    source = _by_id(solution)[f"{stem}-{answer}"].source
    assert right in source, f"{stem}: the mistake {right!r} -> {wrong!r} no longer fits; update MISTAKES:\n{source}"
    return source.replace(right, wrong, 1)


def _submission(stem, release, solution, student):
    """A student's copy of a released notebook: carol's is the release itself; alice writes the
    solutions' answers; bob does too, then makes the mistake of ``MISTAKES`` and, in lesson ``CHEAT``,
    replaces the failing check by ``pass``."""
    nb = nbformat.reads(nbformat.writes(release), as_version=4)
    if student == "carol":
        return nb
    answers, cells = _by_id(solution), _by_id(nb)
    for gid, cell in cells.items():
        if nbgrader_meta(cell)["solution"]:
            cell.source = answers[gid].source
    if student == "bob":
        cells[f"{stem}-{MISTAKES[stem][0]}"].source = _wrong_answer(stem, solution)
        if stem == CHEAT:
            cells[f"{stem}-{MISTAKES[stem][3]}"].source = "pass  # no check here"
    return nb


def _plain(html_text):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", html_text)))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course directory after the round trip, with the stamped solutions, the release and the grades.

    ``generate_assignment`` runs as the command an instructor types.  Autograde, feedback and export
    run nbgrader's own converters and CSV exporter in this process, as its commands do after reading
    their arguments: each command would first spend about 4 s of CPU importing nbgrader."""
    pytest.importorskip("nbgrader", reason="nbgrader is not installed: instructors install it with "
                        "`pip install -r requirements-instructor.txt`")
    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.plugins import CsvExportPlugin
    from sqlalchemy.exc import SAWarning
    from traitlets.config import Config

    course = tmp_path_factory.mktemp("nbgrader") / "course"
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    solutions = stamped_solutions()
    assert sorted(MISTAKES) == sorted(solutions), "every exercise notebook needs one typical mistake in MISTAKES"
    for stem, nb in solutions.items():
        (source / f"{stem}.ipynb").write_text(build.to_text(nb))
    _run(["nbgrader", "generate_assignment", ASSIGNMENT], course)   # no flags, no config file
    release = {stem: nbformat.read(course / "release" / ASSIGNMENT / f"{stem}.ipynb", as_version=4)
               for stem in solutions}
    for student, handed_in in HANDED_IN.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for stem in handed_in or release:
            (folder / f"{stem}.ipynb").write_text(
                build.to_text(_submission(stem, release[stem], solutions[stem], student)))

    config = Config()
    config.Execute.timeout = 600   # per cell; nbgrader's default, 30 s, is short for the capstone on a busy machine
    # Each graded notebook's kernel is stopped at once when the notebook is done, as nbval stops its kernels: a
    # kernel's orderly exit (its atexit hooks, then Python's shutdown, longest with TensorFlow loaded) cost the
    # round trip about 10 s of CPU over its 21 notebooks, and changes no grade.
    config.Execute.shutdown_kernel = "immediate"
    coursedir = CourseDirectory(config=config, root=str(course), assignment_id=ASSIGNMENT)   # every student
    with warnings.catch_warnings():   # nbgrader 0.9.6's own session handling warns under SQLAlchemy 2.1
        warnings.simplefilter("ignore", SAWarning)
        Autograde(coursedir=coursedir, config=config).start()      # every student in one run
    # Feedback for what the tests read: all of bob's notebooks, and alice's copy of the lesson bob cheated in.
    for student, notebook in (("bob", "*"), ("alice", CHEAT)):
        GenerateFeedback(coursedir=CourseDirectory(config=config, root=str(course), assignment_id=ASSIGNMENT,
                                                   student_id=student, notebook_id=notebook), config=config).start()
    with Gradebook(coursedir.db_url) as gb:
        CsvExportPlugin(to=str(course / "grades.csv")).export(gb)
    with open(course / "grades.csv", newline="") as f:
        grades = {row["student_id"]: row for row in csv.DictReader(f)}
    exercises = {stem: build.make_exercise(nb) for stem, nb in solutions.items()}   # what exercises/ gets
    return course, solutions, release, grades, exercises


def test_release_equals_the_generated_exercises_but_for_nbgraders_checksums(graded):
    course, solutions, release, _, exercises = graded
    assert sorted(release) == sorted(exercises) == sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
    assert sorted(p.name for p in (course / "release" / ASSIGNMENT).iterdir()) == [f"{s}.ipynb" for s in release]
    for stem, released in release.items():
        ours = exercises[stem]
        assert released.metadata == ours.metadata, stem
        assert [c.get("id") for c in released.cells] == [c.get("id") for c in ours.cells], stem
        for got, want in zip(released.cells, ours.cells):
            added = {k: got.metadata["nbgrader"].pop(k) for k in ("checksum", "cell_type")
                     if k in got.metadata["nbgrader"]}
            assert set(added) == {"checksum", "cell_type"} and added["cell_type"] == got.cell_type, added
            assert (got.cell_type, got.source, got.metadata) == (want.cell_type, want.source, want.metadata), stem
            assert not got.get("outputs") and got.get("execution_count") is None
        for cell in released.cells[:1] + released.cells[-1:]:   # the navigation works inside the release folder
            for target in re.findall(r"\]\(([^)#]+)", cell.source):
                assert (course / "release" / ASSIGNMENT / target).exists(), f"{stem}: broken link {target}"


def test_each_mistake_costs_its_checks_points_and_full_answers_get_full_marks(graded):
    course, solutions, _, grades, _ = graded
    points = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"]
              for nb in solutions.values() for c in nb.cells if nbgrader_meta(c)["grade"]}
    total = sum(points.values())
    lost = sum(points[f"{stem}-{check}"] for stem, (*_, check) in MISTAKES.items())
    cheat_lesson = sum(p for gid, p in points.items() if gid.startswith(f"{CHEAT}-"))
    assert {student: float(row["max_score"]) for student, row in grades.items()} == dict.fromkeys(HANDED_IN, total)
    assert total >= 33 and 0 < cheat_lesson < total
    assert float(grades["bob"]["score"]) == total - lost, grades["bob"]
    assert float(grades["alice"]["score"]) == cheat_lesson, grades["alice"]
    assert float(grades["carol"]["score"]) == 0, grades["carol"]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        below = {student: {(nb.name, g.name) for nb in gb.find_submission(ASSIGNMENT, student).notebooks
                           for g in nb.grades if g.score < g.max_score} for student in HANDED_IN}
        manual = [(student, g.name) for student in HANDED_IN for nb in gb.find_submission(ASSIGNMENT, student).notebooks
                  for g in nb.grades if g.needs_manual_grade and g.max_score > 0]
    scored = {(stem, gid) for gid, p in points.items() if p > 0 for stem in MISTAKES if gid.startswith(f"{stem}-")}
    assert below["bob"] == {(stem, f"{stem}-{check}") for stem, (*_, check) in MISTAKES.items()}
    assert below["alice"] == {(stem, gid) for stem, gid in scored if stem != CHEAT}
    assert below["carol"] == scored
    assert not manual, manual


@pytest.mark.parametrize("stem", sorted(MISTAKES))
def test_an_unattempted_notebook_fails_only_in_its_exercises(graded, stem):
    """Carol's autograded notebooks are the exercise notebooks run as released (the release equals
    ``exercises/``, see above): the check of ``tests/test_exercises.py``, on nbgrader's run."""
    from test_exercises import assert_fails_only_where_work_is_left

    course = graded[0]
    nb = nbformat.read(course / "autograded" / "carol" / ASSIGNMENT / f"{stem}.ipynb", as_version=4)
    assert_fails_only_where_work_is_left(nb, f"exercises/{stem}.ipynb")


def test_autograde_restores_an_edited_check_cell_and_the_feedback_names_the_mistake(graded):
    course, solutions, release, *_ = graded
    check_id = f"{CHEAT}-{MISTAKES[CHEAT][3]}"
    autograded = nbformat.read(course / "autograded" / "bob" / ASSIGNMENT / f"{CHEAT}.ipynb", as_version=4)
    cell = _by_id(autograded)[check_id]
    assert cell.source == _by_id(release[CHEAT])[check_id].source and "checks.check_" in cell.source
    errors = [out for out in cell.outputs if out.output_type == "error"]
    assert errors and errors[0].ename == "CheckFailed", cell.outputs

    # The hint the check gives for this mistake, asked of the check directly, is in bob's feedback.
    import numpy as np

    from course_lib.checks import CheckFailed

    checks = importlib.import_module("course_lib.checks." + CHEAT.split("_", 1)[1])
    answer, *_, check = MISTAKES[CHEAT]
    namespace = {"np": np}
    exec("\n".join(line for line in _wrong_answer(CHEAT, solutions[CHEAT]).split("\n") if "SOLUTION" not in line),
         namespace)
    with pytest.raises(CheckFailed) as failure:
        getattr(checks, check)(namespace[answer])
    hint = failure.value.hint or str(failure.value).splitlines()[0]
    feedback = _plain((course / "feedback" / "bob" / ASSIGNMENT / f"{CHEAT}.html").read_text())
    assert re.sub(r"\s+", " ", hint) in feedback, hint
    for stem in MISTAKES:   # every failing check's message reaches the student's feedback
        page = _plain((course / "feedback" / "bob" / ASSIGNMENT / f"{stem}.html").read_text())
        failing = _by_id(nbformat.read(course / "autograded" / "bob" / ASSIGNMENT / f"{stem}.ipynb", as_version=4))
        message = next(o for o in failing[f"{stem}-{MISTAKES[stem][3]}"].outputs if o.output_type == "error").evalue
        assert re.sub(r"\s+", " ", message.splitlines()[0]) in page, (stem, message)
    assert "CheckFailed" not in _plain((course / "feedback" / "alice" / ASSIGNMENT / f"{CHEAT}.html").read_text())


def test_the_instructors_pins_are_what_is_installed_and_leave_the_courses_pins_alone():
    pytest.importorskip("nbgrader", reason="nbgrader is not installed: instructors install it with "
                        "`pip install -r requirements-instructor.txt`")
    from importlib.metadata import version

    from packaging.requirements import Requirement

    def pins(name):
        """``{package: version}`` of a requirements file's pins that apply on this machine."""
        lines = (line.split(" #")[0].strip() for line in (ROOT / name).read_text().splitlines())
        requirements = [Requirement(line) for line in lines if "==" in line and not line.startswith("#")]
        return {r.name.lower(): str(r.specifier)[2:] for r in requirements if not r.marker or r.marker.evaluate()}

    course, instructor = pins("requirements.txt"), pins("requirements-instructor.txt")
    assert instructor["nbgrader"] == "0.9.6" and not set(course) & set(instructor), instructor
    assert {name: version(name) for name in {**course, **instructor}} == {**course, **instructor}
