"""Maintenance commands for the course's notebooks.

    python -m course_lib.build exercises [--force]   # write exercises/ from solutions/
    python -m course_lib.build check                 # exit 1 if exercises/ is out of date
    python -m course_lib.build execute NOTEBOOK...   # run notebooks, store clean outputs
    python -m course_lib.build nav                   # navigation cells + README lesson table

Exercises are generated from the solution notebooks the way nbgrader does it: in a code
cell, every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes
``raise NotImplementedError()`` (at the region's indentation); in a markdown cell it
becomes "YOUR ANSWER HERE".  Outputs are cleared.  The hash of every generated file is
kept in ``exercises/.generated.json``; an exercise notebook whose content no longer has
that hash holds a student's work and is not overwritten unless ``--force`` is given.
"""

import argparse
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
_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)",
                     re.MULTILINE | re.DOTALL)


def strip_solutions(source, cell_type="code"):
    """Replace each solution region of a cell's source (see the module docstring)."""
    if BEGIN not in source:
        return source
    if source.count(BEGIN) != source.count(END):
        raise ValueError(f"unbalanced solution markers in cell:\n{source}")

    def replace(match):
        indent, newline = match.group(1), match.group(2)
        if cell_type == "markdown":
            return "YOUR ANSWER HERE" + newline
        return f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError(){newline}"

    return _REGION.sub(replace, source)


def make_exercise(solution_nb):
    """The exercise notebook for a solution notebook (a new object)."""
    nb = nbformat.reads(nbformat.writes(solution_nb), as_version=4)
    for cell in nb.cells:
        cell.source = strip_solutions(cell.source, cell.cell_type)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
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
    """The navigation line for notebook ``stem`` in folder ``kind`` (notebooks/exercises/solutions)."""
    stems = list(titles)
    i = stems.index(stem) if stem in stems else -1
    folder = {"notebooks": "lesson", "exercises": "exercises", "solutions": "solutions"}[kind]
    parts = []
    if i > 0:
        parts.append(f"[← {titles[stems[i - 1]]}]({stems[i - 1]}.ipynb)")
    parts.append("[Contents](../README.md#lessons)")
    if kind == "notebooks":
        parts.append(f"[Exercises](../exercises/{stem}.ipynb)")
    else:
        parts.append(f"[Lesson](../notebooks/{stem}.ipynb)")
    if 0 <= i < len(stems) - 1:
        parts.append(f"[{titles[stems[i + 1]]} →]({stems[i + 1]}.ipynb)")
    return f"*Course navigation ({folder}):* " + " · ".join(parts)


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


def readme_table(titles):
    rows = ["| # | Lesson | Exercises |", "|---|--------|-----------|"]
    for stem, title in titles.items():
        number, _, name = title.partition(" · ")
        rows.append(f"| {number} | [{name or title}](notebooks/{stem}.ipynb) | [exercises](exercises/{stem}.ipynb) |")
    return "\n".join(rows)


def expected_navigation():
    """``{path: text}`` of every lesson/solution notebook and the README with current navigation."""
    titles = lesson_titles()
    out = {}
    for kind, folder in (("notebooks", LESSONS), ("solutions", SOLUTIONS)):
        for path in sorted(folder.glob("*.ipynb")):
            out[path] = to_text(with_navigation(nbformat.read(path, as_version=4), kind, path.stem, titles))
    readme = README.read_text()
    start, end = readme.index(TABLE_START) + len(TABLE_START), readme.index(TABLE_END)
    out[README] = readme[:start] + "\n" + readme_table(titles) + "\n" + readme[end:]
    return out


def stale_navigation():
    return [str(p.relative_to(ROOT)) for p, text in expected_navigation().items() if p.read_text() != text]


def to_text(nb):
    return nbformat.writes(nb) + "\n"


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def expected_exercises():
    """``{exercise file name: text}`` for every solution notebook (with the exercises' navigation)."""
    titles = lesson_titles()
    return {path.name: to_text(with_navigation(make_exercise(nbformat.read(path, as_version=4)),
                                               "exercises", path.stem, titles))
            for path in sorted(SOLUTIONS.glob("*.ipynb"))}


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
    """Names of exercise notebooks that are missing or differ from their solutions."""
    return [name for name, text in expected_exercises().items()
            if not (EXERCISES / name).exists() or (EXERCISES / name).read_text() != text]


def execute(paths, timeout=600):
    """Run each notebook top to bottom in its folder and store its outputs, without timings."""
    from nbclient import NotebookClient

    for path in map(Path, paths):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        nb.metadata.pop("widgets", None)  # widget state is regenerated on every run
        path.write_text(to_text(nb))
        print(f"executed {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_lib.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("exercises", help="write exercises/ from solutions/")
    ex.add_argument("--force", action="store_true", help="overwrite exercise notebooks a student edited")
    sub.add_parser("check", help="exit 1 if exercises/ or the navigation is out of date")
    sub.add_parser("nav", help="write navigation cells and the README's lesson table")
    run = sub.add_parser("execute", help="run notebooks and store their outputs")
    run.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "exercises":
        write_exercises(force=args.force)
    elif args.command == "nav":
        for path, text in expected_navigation().items():
            if path.read_text() != text:
                path.write_text(text)
                print(f"updated {path.relative_to(ROOT)}")
        write_exercises()
    elif args.command == "check":
        stale = stale_navigation() + stale_exercises()
        if stale:
            print("out of date: " + ", ".join(stale) + " (run `python -m course_lib.build nav`, which also "
                  "regenerates the exercises)")
            return 1
        print("navigation and exercises are up to date")
    else:
        execute(args.notebooks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
