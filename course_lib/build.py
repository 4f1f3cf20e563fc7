"""Maintenance commands for the course's notebooks.

    python -m course_lib.build exercises [--force]   # stamp solutions/, write exercises/ from them
    python -m course_lib.build check                 # exit 1 if anything generated is out of date
    python -m course_lib.build execute NOTEBOOK...   # run notebooks, store clean outputs
    python -m course_lib.build nav                   # navigation cells + README lesson table, then the above

**Exercises.**  They are generated from the solution notebooks the way nbgrader's
``generate_assignment`` does it.  A solution region starts at a line containing
``BEGIN SOLUTION`` and ends at a line containing ``END SOLUTION`` (the course writes
``### BEGIN SOLUTION`` / ``### END SOLUTION``); the whole region, marker lines included,
becomes ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` in a code cell, or
``YOUR ANSWER HERE`` in a markdown cell, at the indentation of the ``BEGIN`` line.  Outputs
and execution counts are cleared.  The hash of every generated file is kept in
``exercises/.generated.json``; an exercise notebook whose content no longer has that hash
holds a student's work and is not overwritten unless ``--force`` is given.

**nbgrader metadata.**  ``exercises`` (and ``nav``) first stamp every solution notebook with
nbgrader's cell metadata (``schema_version`` 3), written here and never by hand, so that
``nbgrader generate_assignment`` takes ``solutions/`` as they are:

* an *answer cell* (a cell with a solution region) is a solution cell; its ``grade_id`` is
  ``<notebook>-<name>``, the name being the function whose body holds the region (or, in
  a region outside a function, the first name the region assigns), e.g.
  ``01_gradient_descent-sgd_step``.  A markdown answer cell becomes a manually graded
  answer worth 0 points: no check can score prose, so the course's marks stay automatic;
* a *check cell* (a cell that calls ``checks.check_...(...)``) is an autograded test,
  locked.  Points: one per ``checks.check_...`` call in the cell, so a cell that runs two
  checks is worth two.  Its ``grade_id`` is ``<notebook>-<check name>``
  (``02_learning_rate-check_stability_limit``); a cell with several checks joins their names
  with ``-``.  When one check function is called in several cells, each id gets the call's
  ``name=`` argument, or else its first argument (``...-check_prediction-rate_guess``);
  ids that are still equal are an error;
* every other cell, the two navigation cells included, is read-only (``locked``).  Its
  ``grade_id`` is ``<notebook>-text-<hash>`` or ``<notebook>-code-<hash>`` (the first 8 hex
  digits of the SHA-256 of its source), ``-2``, ``-3`` ... for repeated identical sources;
  the navigation cells are ``<notebook>-nav-top`` and ``<notebook>-nav-bottom``.

No id depends on a cell's position, so inserting a cell changes no other cell's id.  Ids use
only letters, digits, ``_`` and ``-`` (what nbgrader accepts) and are unique in a notebook.

The exercise notebooks keep that metadata and, like nbgrader's release, carry its lock
flags: answer cells ``deletable: false``; check cells and read-only cells ``deletable:
false`` and ``editable: false``.  What nbgrader's release adds beyond that is its own record
of each released cell, ``checksum`` and ``cell_type`` inside the ``nbgrader`` metadata (the
autograder's test for "left unanswered" and "cell changed"); nothing else differs
(``tests/test_nbgrader.py`` compares them).

**Navigation for nbgrader.**  An instructor grades the course as one nbgrader assignment
holding every exercise notebook: one gradebook entry and one total per student, and the
notebooks stay together (the README gives the course directory and the commands).  One
assignment per lesson would put each notebook alone in its folder, its "previous" and "next"
links leading nowhere.  The release folder ``release/<assignment>/`` holds exactly the
exercise notebooks, and so does a student's fetched copy; ``../notebooks/`` and
``../README.md`` do not exist beside them.  So the navigation line of the exercises (and of
the solutions, from which the release is made, which is why the two are identical) links
only to the neighbouring exercise notebooks, which sit in the same folder everywhere, and
names the lesson's path in the course instead of linking to it.
"""

import argparse
import ast
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
LESSONS, README = ROOT / "notebooks", ROOT / "README.md"
MANIFEST = EXERCISES / ".generated.json"
NAV_TAG = "navigation"
TABLE_START, TABLE_END = "<!-- lessons:start -->", "<!-- lessons:end -->"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_DELIMITER, END_DELIMITER = "BEGIN SOLUTION", "END SOLUTION"   # what nbgrader looks for in a line
CODE_STUB, TEXT_STUB = "# YOUR CODE HERE\nraise NotImplementedError()", "YOUR ANSWER HERE"
SCHEMA_VERSION = 3
_CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\s*\(")


def has_solution(source):
    """Whether ``source`` holds a solution region (a line containing ``BEGIN SOLUTION``)."""
    return any(BEGIN_DELIMITER in line for line in source.split("\n"))


def strip_solutions(source, cell_type="code"):
    """Replace each solution region of a cell's source (see the module docstring)."""
    if not has_solution(source) and END_DELIMITER not in source:
        return source
    stub = (CODE_STUB if cell_type == "code" else TEXT_STUB).split("\n")
    kept, inside = [], False
    for line in source.split("\n"):
        if BEGIN_DELIMITER in line:
            if inside:
                raise ValueError(f"unbalanced solution markers (a BEGIN inside a region) in cell:\n{source}")
            inside = True
            indent = line[:len(line) - len(line.lstrip())]
            kept.extend(indent + s for s in stub)
        elif END_DELIMITER in line:
            if not inside:
                raise ValueError(f"unbalanced solution markers (an END without BEGIN) in cell:\n{source}")
            inside = False
        elif not inside:
            kept.append(line)
    if inside:
        raise ValueError(f"unbalanced solution markers (a BEGIN without END) in cell:\n{source}")
    return "\n".join(kept)


# ----------------------------------------------------------------------------- nbgrader metadata
def _slug(text):
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")


def _hash8(text):
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def check_calls(source):
    """``[(check name, key)]`` for every ``checks.check_...(...)`` call in a cell's source.

    ``key`` tells apart two calls of the same check: the call's ``name=`` argument when it is
    a string, else its first argument as written, else ``""``."""
    names = _CHECK_CALL.findall(source)
    if not names:
        return []
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics): the names are known, the keys are not
        return [(name, "") for name in names]
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"
                and node.func.attr.startswith("check_")):
            key = next((kw.value.value for kw in node.keywords if kw.arg == "name"
                        and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)), None)
            if key is None:
                key = ast.unparse(node.args[0]) if node.args else ""
            calls.append((node.lineno, node.col_offset, node.func.attr, _slug(key)))
    return [(name, key) for *_, name, key in sorted(calls)]


def _answer_name(source):
    """The name an answer cell defines: the function around its first region, or what the region assigns."""
    lines = source.split("\n")
    first = next(i for i, line in enumerate(lines) if BEGIN_DELIMITER in line)
    indent = len(lines[first]) - len(lines[first].lstrip())
    for line in reversed(lines[:first]):
        match = re.match(r"([ \t]*)(?:async\s+)?(?:def|class)\s+(\w+)", line)
        if match and len(match.group(1)) < indent:
            return match.group(2)
    for line in lines[first + 1:]:
        if END_DELIMITER in line:
            break
        match = re.match(r"[ \t]*([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", line)
        if match:
            return match.group(1)
    return None


def cell_kind(cell):
    """``"answer"``, ``"check"``, ``"answer+check"`` or ``"locked"`` (see the module docstring)."""
    answer = has_solution(cell.source)
    check = cell.cell_type == "code" and bool(_CHECK_CALL.search(cell.source))
    return "answer+check" if answer and check else "answer" if answer else "check" if check else "locked"


def nbgrader_metadata(nb, stem):
    """``nb`` (changed in place and returned) with nbgrader metadata on every cell; see the module docstring."""
    kinds = [cell_kind(c) for c in nb.cells]
    check_ids = {}
    for i, (cell, kind) in enumerate(zip(nb.cells, kinds)):
        if "check" in kind:
            check_ids[i] = check_calls(cell.source)
    plain = {i: f"{stem}-" + "-".join(name for name, _ in calls) for i, calls in check_ids.items()}
    repeated = {gid for gid in plain.values() if list(plain.values()).count(gid) > 1}
    seen, ids = {}, []
    for i, (cell, kind) in enumerate(zip(nb.cells, kinds)):
        if "check" in kind:
            grade_id = plain[i]
            if grade_id in repeated:
                grade_id = f"{stem}-" + "-".join(f"{name}-{key}" if key else name for name, key in check_ids[i])
        elif kind == "answer":
            name = _answer_name(cell.source)
            grade_id = f"{stem}-{name}" if name else f"{stem}-answer-{_hash8(cell.source)}"
        elif NAV_TAG in cell.metadata.get("tags", []) and str(cell.get("id", "")).startswith("nav-"):
            grade_id = f"{stem}-{cell.id}"
        else:
            grade_id = f"{stem}-{'text' if cell.cell_type == 'markdown' else cell.cell_type}-{_hash8(cell.source)}"
            seen[grade_id] = seen.get(grade_id, 0) + 1
            if seen[grade_id] > 1:
                grade_id += f"-{seen[grade_id]}"
        meta = {"grade": False, "grade_id": grade_id, "locked": kind == "locked" or kind == "check",
                "schema_version": SCHEMA_VERSION, "solution": "answer" in kind, "task": False}
        if "check" in kind:
            meta.update(grade=True, points=len(check_ids[i]))
        elif "answer" in kind and cell.cell_type == "markdown":
            meta.update(grade=True, points=0)
        cell.metadata["nbgrader"] = meta
        ids.append(grade_id)
    duplicates = sorted({gid for gid in ids if ids.count(gid) > 1})
    if duplicates:
        raise ValueError(f"{stem}: nbgrader grade_ids must be unique in a notebook; these repeat: "
                         f"{', '.join(duplicates)}. Give the repeated checks distinct `name=` arguments.")
    return nb


def lock_flags(cell):
    """The ``deletable``/``editable`` flags nbgrader's release gives a cell with this nbgrader metadata."""
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("solution"):
        return {"deletable": False}
    if meta.get("grade") or meta.get("locked"):
        return {"deletable": False, "editable": False}
    return {}


def make_exercise(solution_nb):
    """The exercise notebook for a (stamped) solution notebook (a new object)."""
    nb = nbformat.reads(nbformat.writes(solution_nb), as_version=4)
    for cell in nb.cells:
        cell.source = strip_solutions(cell.source, cell.cell_type)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
        cell.metadata.update(lock_flags(cell))
    return nb


# ----------------------------------------------------------------------------- navigation
def lesson_titles():
    """``{stem: title}`` for every lesson, from the ``# NN · Title`` heading of its first cell."""
    titles = {}
    for path in sorted(LESSONS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        lines = (line for c in nb.cells if c.cell_type == "markdown" and NAV_TAG not in c.metadata.get("tags", [])
                 for line in c.source.splitlines() if line.startswith("# "))
        heading = next(lines, f"# {path.stem}")
        titles[path.stem] = heading[2:].strip()
    return titles


def nav_text(kind, stem, titles):
    """The navigation line for notebook ``stem`` in folder ``kind`` (notebooks/exercises/solutions).

    Exercises and solutions get the same line, which links only to the neighbouring exercise
    notebooks (see "Navigation for nbgrader" in the module docstring); a lesson without an
    exercise notebook is skipped there, and its own line has no "Exercises" link."""
    if kind not in ("notebooks", "exercises", "solutions"):
        raise ValueError(f"kind must be 'notebooks', 'exercises' or 'solutions', not {kind!r}")
    stems = list(titles) if kind == "notebooks" else [s for s in titles if has_exercises(s)]
    i = stems.index(stem) if stem in stems else -1
    previous = f"[← {titles[stems[i - 1]]}]({stems[i - 1]}.ipynb)" if i > 0 else None
    following = f"[{titles[stems[i + 1]]} →]({stems[i + 1]}.ipynb)" if 0 <= i < len(stems) - 1 else None
    if kind == "notebooks":
        exercises = f"[Exercises](../exercises/{stem}.ipynb)" if has_exercises(stem) else None
        parts = [previous, "[Contents](../README.md#lessons)", exercises, following]
        return "*Course navigation (lesson):* " + " · ".join(p for p in parts if p)
    parts = [previous, f"lesson: `notebooks/{stem}.ipynb`", following]
    return "*Course navigation (exercises):* " + " · ".join(p for p in parts if p)


def with_navigation(nb, kind, stem, titles):
    """``nb`` with its navigation cells (first and last) replaced by up-to-date ones."""
    cells = [c for c in nb.cells if NAV_TAG not in c.metadata.get("tags", [])]
    text = nav_text(kind, stem, titles)

    def nav_cell(position):
        cell = nbformat.v4.new_markdown_cell(text, metadata={"tags": [NAV_TAG]})
        cell.id = f"nav-{position}"
        return cell

    nb.cells = [nav_cell("top")] + cells + [nav_cell("bottom")]
    return nb


def has_exercises(stem):
    """Whether lesson ``stem`` has an exercise notebook (that is, a solution notebook to make it from)."""
    return (SOLUTIONS / f"{stem}.ipynb").exists()


def readme_table(titles):
    rows = ["| # | Lesson | Exercises |", "|---|--------|-----------|"]
    for stem, title in titles.items():
        number, _, name = title.partition(" · ")
        exercises = f"[exercises](exercises/{stem}.ipynb)" if has_exercises(stem) else "—"
        rows.append(f"| {number} | [{name or title}](notebooks/{stem}.ipynb) | {exercises} |")
    return "\n".join(rows)


def expected_navigation():
    """``{path: text}`` of every lesson notebook and the README with current navigation."""
    titles = lesson_titles()
    out = {path: to_text(with_navigation(nbformat.read(path, as_version=4), "notebooks", path.stem, titles))
           for path in sorted(LESSONS.glob("*.ipynb"))}
    readme = README.read_text()
    start, end = readme.index(TABLE_START) + len(TABLE_START), readme.index(TABLE_END)
    out[README] = readme[:start] + "\n" + readme_table(titles) + "\n" + readme[end:]
    return out


def stale_navigation():
    """Lessons and README whose navigation is out of date."""
    return [str(p.relative_to(ROOT)) for p, text in expected_navigation().items() if p.read_text() != text]


def to_text(nb):
    return nbformat.writes(nb) + "\n"


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def stamp_solution(nb, stem, titles):
    """A solution notebook with current navigation and nbgrader metadata (changed in place)."""
    return nbgrader_metadata(with_navigation(nb, "solutions", stem, titles), stem)


def expected_solutions(folder=None):
    """``{path: text}`` of every solution notebook, stamped (navigation and nbgrader metadata)."""
    titles = lesson_titles()
    return {path: to_text(stamp_solution(nbformat.read(path, as_version=4), path.stem, titles))
            for path in sorted((folder or SOLUTIONS).glob("*.ipynb"))}


def stale_solutions():
    """Solution notebooks whose navigation or nbgrader metadata is out of date."""
    return [str(p.relative_to(ROOT)) for p, text in expected_solutions().items() if p.read_text() != text]


def write_solutions():
    """Stamp the solution notebooks that need it (only their navigation cells and cell metadata change)."""
    for path, text in expected_solutions().items():
        if path.read_text() != text:
            path.write_text(text)
            print(f"updated {path.relative_to(ROOT)}")


def expected_exercises():
    """``{exercise file name: text}``, made from every solution notebook as stamped."""
    return {path.name: to_text(make_exercise(nbformat.reads(text, as_version=4)))
            for path, text in expected_solutions().items()}


def write_exercises(force=False):
    """Write exercises/; refuse (listing them) to overwrite files that hold a student's work."""
    EXERCISES.mkdir(exist_ok=True)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    refused = []
    for name, text in expected_exercises().items():
        target = EXERCISES / name
        if target.exists() and not force:
            current = target.read_text()
            if current != text and manifest.get(name) != _digest(current):
                refused.append(name)
                continue
        target.write_text(text)
        manifest[name] = _digest(text)
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if refused:
        raise SystemExit("Not overwritten, because they differ from what was last generated "
                         f"(a student's work?): {', '.join(refused)}. Use --force to overwrite.")


def stale_exercises():
    """Names of exercise notebooks that are missing or differ from the (stamped) solutions."""
    return [name for name, text in expected_exercises().items()
            if not (EXERCISES / name).exists() or (EXERCISES / name).read_text() != text]


def _merged_streams(outputs):
    """``outputs`` with each run of consecutive stream outputs of the same name joined into one."""
    merged = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (out.output_type == "stream" and last is not None and last.output_type == "stream"
                and last.name == out.name):
            last.text += out.text
        else:
            merged.append(out)
    return merged


def execute(paths, timeout=600):
    """Run each notebook top to bottom in its folder and store its outputs, without timings.

    Consecutive prints to one stream are stored as one output, as nbval compares them: how the
    kernel happened to split them into messages depends on timing, and would change the file."""
    from nbclient import NotebookClient

    for path in map(Path, paths):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
            if cell.cell_type == "code":
                cell.outputs = _merged_streams(cell.outputs)
        nb.metadata.pop("widgets", None)  # widget state is regenerated on every run
        path.write_text(to_text(nb))
        print(f"executed {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_lib.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("exercises", help="stamp solutions/ (navigation, nbgrader metadata), write exercises/")
    ex.add_argument("--force", action="store_true", help="overwrite exercise notebooks a student edited")
    sub.add_parser("check", help="exit 1 if the navigation, the solutions' stamp or exercises/ is out of date")
    sub.add_parser("nav", help="write the lessons' navigation and the README's lesson table, then as `exercises`")
    run = sub.add_parser("execute", help="run notebooks and store their outputs")
    run.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "exercises":
        write_solutions()
        write_exercises(force=args.force)
    elif args.command == "nav":
        for path, text in expected_navigation().items():
            if path.read_text() != text:
                path.write_text(text)
                print(f"updated {path.relative_to(ROOT)}")
        write_solutions()
        write_exercises()
    elif args.command == "check":
        stale = stale_navigation() + stale_solutions() + [f"exercises/{name}" for name in stale_exercises()]
        if stale:
            print("out of date: " + ", ".join(stale) + " (run `python -m course_lib.build exercises`, or "
                  "`python -m course_lib.build nav` after a lesson's title changed)")
            return 1
        print("navigation, solutions' nbgrader metadata and exercises are up to date")
    else:
        execute(args.notebooks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
