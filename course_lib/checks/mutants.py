"""Name a mistake no catalogue lists, by mutation analysis of the solution.

When a student's answer is wrong and no catalogue entry explains it, :func:`mutation_hint`
parses the solution's source with :mod:`ast`, makes single-point changes to it (mutants: an
operator swapped, a sign flipped or dropped, a factor or a term dropped, a constant off by
one, two arguments or two returned values swapped, an axis or ``keepdims`` changed,
``mean`` for ``sum``, ``*`` for ``@``, ``<`` for ``<=``, brackets moved, one name in place
of another, a line left out) and runs each mutant on copies of the check's inputs.  A mutant
that reproduces the student's answer on *every* input names the mistake, shown at the level
of the smallest expression that changed::

    your answer behaves like `w + learning_rate * grad` where the solution has
    `w - learning_rate * grad` (a sign: `+` for `-`).

Mutants never see the student's code: they run only the solution's changed source, on
deep copies of the inputs.  The search is bounded: at most :data:`MAX_MUTANTS` mutants,
:data:`MUTANT_SECONDS` per mutant and :data:`BUDGET_SECONDS` in all (CPU seconds of this process,
measured with ``time.process_time`` and an ``ITIMER_PROF`` timer in the main thread).  When several
mutants fit, the simplest (the first in the order the kinds are listed) is named.
"""

import ast
import copy
import functools
import inspect
import itertools
import math
import signal
import textwrap
import threading
import time

import numpy as np

__all__ = ["SOLUTIONS", "mutants", "mutation_hint"]

MAX_MUTANTS = 1500
MUTANT_SECONDS = 0.25
BUDGET_SECONDS = 1.2

# Kinds in order of simplicity: when several mutants reproduce the answer, the first kind wins.
_KINDS = ["a sign", "an operator", "a factor dropped", "a term dropped", "a constant changed",
          "counting from 0 or 1", "a factor 2", "a reduction", "the axis", "keepdims", "a product", "a comparison",
          "brackets", "brackets dropped", "swapped arguments", "swapped values", "swapped names",
          "one name for another", "a call dropped", "a missing line", "swapped operands"]
_RANK = {kind: i for i, kind in enumerate(_KINDS)}

_OP_SWAPS = {ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div, ast.MatMult],
             ast.Div: [ast.Mult, ast.FloorDiv], ast.MatMult: [ast.Mult], ast.Pow: [ast.Mult], ast.FloorDiv: [ast.Div]}
_OP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.MatMult: "@",
            ast.Pow: "**", ast.Mod: "%"}
_CMP_SWAPS = {ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.GtE], ast.Gt: [ast.GtE, ast.Lt],
              ast.GtE: [ast.Gt, ast.LtE], ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq]}
_CMP_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_FUNC_SWAPS = {"mean": ["sum"], "sum": ["mean"], "max": ["min"], "min": ["max"],
               "matmul": ["multiply"], "dot": ["multiply"], "multiply": ["matmul"]}
_INT_NAMES = {"t", "k", "i", "n", "step", "steps", "num_updates", "epoch", "epochs", "count", "iterations",
              "batch", "start"}


class _Mutant:
    """One single-point change: its kind, the expression before and after, and (built when run) its tree,
    then its function (kept: a student runs a check again and again, and the mutants stay the same)."""
    __slots__ = ("kind", "before", "after", "order", "_source", "_index", "_new", "_fn")

    def __init__(self, kind, before, after, order, source, index, new):
        self.kind, self.before, self.after, self.order = kind, before, after, order
        self._source, self._index, self._new = source, index, new
        self._fn = None   # the compiled function, or the exception compiling it raised

    @property
    def tree(self):
        tree = _replace(ast.parse(self._source), self._index, copy.deepcopy(self._new), copy_tree=False)
        return ast.fix_missing_locations(tree)

    def sentence(self, where=""):
        return (f"your answer behaves like `{self.after}` where the solution has `{self.before}` "
                f"({self.kind}){where}.")


# --------------------------------------------------------------------------- the source
def _function_tree(fn):
    """The solution's FunctionDef (a lambda becomes ``def name(args): return body``), or None."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        module = ast.parse(source)
    except SyntaxError:
        return None
    name = getattr(fn, "__name__", "")
    if name == "<lambda>":
        lambdas = [n for n in ast.walk(module) if isinstance(n, ast.Lambda)]
        if len(lambdas) != 1:
            return None
        lam = lambdas[0]
        fdef = ast.FunctionDef(name="_solution", args=lam.args, body=[ast.Return(lam.body)], decorator_list=[],
                               returns=None, type_params=[])
    else:
        fdefs = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == name]
        if not fdefs:
            return None
        fdef = fdefs[0]
        fdef.decorator_list = []
    module = ast.Module(body=[fdef], type_ignores=[])
    return ast.fix_missing_locations(module)


def _text(node):
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every node ast.parse makes
        return "?"


# --------------------------------------------------------------------------- the mutation sites
def _parents(tree):
    out = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            out[child] = parent
    return out


def _shown(node, parents):
    """The smallest enclosing expression worth showing for a change at ``node``."""
    shown = node
    while (isinstance(shown, (ast.Name, ast.Constant, ast.keyword, ast.UnaryOp, ast.Attribute))
           or len(_text(shown)) < 12) and isinstance(parents.get(shown), (ast.expr, ast.keyword)):
        shown = parents[shown]
    if isinstance(shown, ast.keyword):
        shown = parents[shown]
    return shown


def _names(fdef):
    params = [a.arg for a in fdef.args.args + fdef.args.kwonlyargs]
    stored = []
    for node in ast.walk(fdef):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in stored:
            stored.append(node.id)
    return [n for n in params + stored if n != "_"]


def _changes(node, parents, local_names, body_owner):
    """(kind, replacement) pairs for one node; a replacement is a new node put in ``node``'s place."""
    out = []
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        for new in _OP_SWAPS.get(op, []):
            kind = "a sign" if {op, new} == {ast.Add, ast.Sub} else (
                "a product" if ast.MatMult in (op, new) else "an operator")
            out.append((kind, ast.BinOp(node.left, new(), node.right)))
        outer = parents.get(node)
        if op is ast.Mult and not (isinstance(outer, ast.BinOp) and isinstance(outer.op, (ast.Mult, ast.Div))):
            out += [("a factor 2", ast.BinOp(node, ast.Mult(), ast.Constant(2))),
                    ("a factor 2", ast.BinOp(node, ast.Div(), ast.Constant(2)))]
        if op in (ast.Mult, ast.Div):
            out += [("a factor dropped", node.left)] + ([("a factor dropped", node.right)] if op is ast.Mult else [])
        if op in (ast.Add, ast.Sub):
            out += [("a term dropped", node.left), ("a term dropped", node.right)]
        if op in (ast.Sub, ast.Div, ast.Pow, ast.MatMult, ast.FloorDiv):
            out.append(("swapped operands", ast.BinOp(node.right, node.op, node.left)))
        # brackets moved: (a op1 b) op2 c  <->  a op1 (b op2 c)
        if isinstance(node.left, ast.BinOp):
            inner = node.left
            out.append(("brackets", ast.BinOp(inner.left, inner.op, ast.BinOp(inner.right, node.op, node.right))))
        if isinstance(node.right, ast.BinOp):
            inner = node.right
            out.append(("brackets", ast.BinOp(ast.BinOp(node.left, node.op, inner.left), inner.op, inner.right)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        out.append(("a sign", node.operand))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool):
        v = node.value
        owner = parents.get(node)
        kind = {"axis": "the axis", "start": "counting from 0 or 1"}.get(
            owner.arg if isinstance(owner, ast.keyword) else None, "a constant changed")
        for new in (v + 1, v - 1) + ((v / 2, v * 2) if v not in (0, 1) else ()):
            out.append((kind, ast.Constant(type(v)(new) if float(new).is_integer() else new)))
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        for new in _CMP_SWAPS.get(type(node.ops[0]), []):
            out.append(("a comparison", ast.Compare(node.left, [new()], node.comparators)))
    elif isinstance(node, ast.Call):
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        for new in _FUNC_SWAPS.get(fname, []):
            kind = "a product" if new in ("multiply", "matmul") or fname in ("matmul", "dot") else "a reduction"
            new_func = ast.Attribute(func.value, new, ast.Load()) if isinstance(func, ast.Attribute) else ast.Name(
                new, ast.Load())
            out.append((kind, ast.Call(new_func, node.args, node.keywords)))
        if fname in ("sqrt", "abs", "float", "float32", "float64", "array", "asarray", "copy") and len(node.args) == 1 \
                and not node.keywords:
            out.append(("a call dropped", node.args[0]))
        for i, j in itertools.combinations(range(min(len(node.args), 4)), 2):
            args = list(node.args)
            args[i], args[j] = args[j], args[i]
            out.append(("swapped arguments", ast.Call(func, args, node.keywords)))
        for i, kw in enumerate(node.keywords):
            rest = node.keywords[:i] + node.keywords[i + 1:]
            kind = {"axis": "the axis", "keepdims": "keepdims", "start": "counting from 0 or 1"}.get(
                kw.arg, "a constant changed")
            out.append((kind, ast.Call(func, node.args, rest)))
            if kw.arg == "axis" and isinstance(kw.value, ast.Constant):
                keeps = [] if any(k.arg == "keepdims" for k in rest) else [
                    ast.keyword("keepdims", ast.Constant(True))]
                for ax in (0, 1, -1, None):
                    if ax != kw.value.value:
                        for extra in ([], keeps) if keeps else ([],):
                            out.append(("the axis", ast.Call(func, node.args, rest[:i] + [
                                ast.keyword("axis", ast.Constant(ax))] + rest[i:] + extra)))
        if fname == "enumerate" and not any(kw.arg == "start" for kw in node.keywords):
            out.append(("counting from 0 or 1", ast.Call(func, node.args, node.keywords + [
                ast.keyword("start", ast.Constant(1))])))
    elif isinstance(node, ast.Tuple) and isinstance(node.ctx, ast.Load) and 2 <= len(node.elts) <= 4:
        for i, j in itertools.combinations(range(len(node.elts)), 2):
            elts = list(node.elts)
            elts[i], elts[j] = elts[j], elts[i]
            out.append(("swapped values", ast.Tuple(elts, ast.Load())))
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in local_names:
        parent = parents.get(node)
        if node.id in _INT_NAMES or isinstance(parent, ast.Call) and getattr(parent.func, "id", "") == "range":
            for op in (ast.Add, ast.Sub):
                out.append(("counting from 0 or 1", ast.BinOp(ast.Name(node.id, ast.Load()), op(), ast.Constant(1))))
        for other in local_names:
            if other != node.id:
                out.append(("one name for another", ast.Name(other, ast.Load())))
    if isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)):
        return out
    if isinstance(node, (ast.Name, ast.Call, ast.BinOp, ast.Attribute, ast.Subscript)) \
            and isinstance(parents.get(node), (ast.BinOp, ast.Return, ast.Tuple)) and not (
                isinstance(parents.get(node), ast.BinOp) and isinstance(parents[node].op, (ast.Pow,))):
        out.append(("a sign", ast.UnaryOp(ast.USub(), node)))
    return out


def _replace(tree, index, new, copy_tree=True):
    """``tree`` (a copy, unless ``copy_tree`` is False) with its ``index``-th node in ast.walk order replaced."""
    if copy_tree:
        tree = copy.deepcopy(tree)
    target = list(ast.walk(tree))[index]
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, new)
                return tree
            if isinstance(value, list):
                for k, item in enumerate(value):
                    if item is target:
                        if new is None:
                            del value[k]
                        else:
                            value[k] = new
                        return tree
    return None


@functools.lru_cache(maxsize=64)
def _mutants_of(fn):
    module = _function_tree(fn)
    if module is None:
        return ()
    source = ast.unparse(module)
    module = ast.parse(source)   # the tree each mutant is built from, so its node indices match
    fdef = module.body[0]
    local_names = _names(fdef)
    nodes = list(ast.walk(module))
    position = {id(n): k for k, n in enumerate(nodes)}
    parents = _parents(module)
    skip = {id(n) for d in fdef.args.defaults + [k for k in fdef.args.kw_defaults if k] for n in ast.walk(d)}
    skip |= {id(fdef), id(fdef.args)}
    found, seen = [], set()
    order = itertools.count()
    for index, node in enumerate(nodes):
        if id(node) in skip:
            continue
        changes = _changes(node, parents, local_names, fdef)
        if isinstance(node, ast.stmt) and isinstance(parents.get(node), (ast.FunctionDef, ast.For, ast.If)):
            owner_body = getattr(parents[node], "body", [])
            if node in owner_body and len(owner_body) > 1 and not isinstance(node, ast.Return):
                changes.append(("a missing line", None))
        whole = []
        if isinstance(node, (ast.Assign, ast.Return, ast.AugAssign)) and node.value is not None:
            whole = _name_swaps(node, local_names) + _bracket_drops(node)
            if isinstance(node, ast.Return) and not isinstance(node.value, (ast.Tuple, ast.List, ast.Dict)):
                whole += [("a constant changed", ast.BinOp(node.value, op(), ast.Constant(1)))
                          for op in (ast.Add, ast.Sub)]
        for kind, new in whole:  # the statement's whole value changes: show that expression
            key = (position[id(node.value)], ast.dump(new))
            if key in seen:
                continue
            seen.add(key)
            found.append(_Mutant(kind, _cap_code(_text(node.value)), _cap_code(_text(new)), next(order), source,
                                 position[id(node.value)], new))
        for kind, new in changes:
            key = (index, ast.dump(new) if new is not None else None)
            if key in seen or (new is not None and key[1] == ast.dump(node)):
                continue
            seen.add(key)
            shown = _shown(node, parents) if isinstance(node, ast.expr) else node
            if kind == "a sign" and isinstance(new, ast.UnaryOp) and new.operand is node \
                    and isinstance(parents.get(shown), ast.expr):
                shown = parents[shown]
            before = _text(shown)
            if new is None:
                after = "(no such line)"
                before = before.splitlines()[0]
            elif shown is node:
                after = _text(new)
            else:
                after = _text(_replace_in(shown, node, new))
            if after == before:
                continue
            found.append(_Mutant(kind, _cap_code(before), _cap_code(after), next(order), source, index, new))
    found.sort(key=lambda m: (_RANK[m.kind], m.order))
    return tuple(found[:MAX_MUTANTS])


def _index_of(tree, node):
    return next(i for i, n in enumerate(ast.walk(tree)) if n is node)


def _name_swaps(stmt, local_names):
    """Two names swapped everywhere in one statement's value (``beta_1`` <-> ``beta_2``, ``m`` <-> ``v``)."""
    used = []
    for n in ast.walk(stmt.value):
        if isinstance(n, ast.Name) and n.id in local_names and n.id not in used:
            used.append(n.id)
    out = []
    for a, b in itertools.combinations(used, 2):
        new = copy.deepcopy(stmt.value)
        for n in ast.walk(new):
            if isinstance(n, ast.Name) and n.id in (a, b):
                n.id = b if n.id == a else a
        out.append(("swapped names", new))
    return out


def _bracket_drops(stmt):
    """One pair of grouping brackets removed from a statement's value (``a / (b * c)`` -> ``a / b * c``)."""
    text = _text(stmt.value)
    try:
        original = ast.dump(ast.parse(text, mode="eval").body)
    except SyntaxError:
        return []
    out, stack, pairs = [], [], []
    for i, ch in enumerate(text):
        if ch == "(":
            before = text[:i].rstrip()
            stack.append((i, bool(before) and (before[-1].isalnum() or before[-1] in "_)]")))
        elif ch == ")" and stack:
            start, is_call = stack.pop()
            if not is_call:
                pairs.append((start, i))
    every = "".join(ch for i, ch in enumerate(text) if not any(i in pair for pair in pairs))
    candidates = [text[:start] + text[start + 1:end] + text[end + 1:] for start, end in pairs]
    for candidate in candidates + ([every] if len(pairs) > 1 else []):
        try:
            new = ast.parse(candidate, mode="eval").body
        except SyntaxError:
            continue
        if ast.dump(new) != original:
            out.append(("brackets dropped", new))
    return out


def _replace_in(shown, node, new):
    wrapper = ast.Expression(body=copy.deepcopy(shown))
    index = list(ast.walk(shown)).index(node)
    target = list(ast.walk(wrapper.body))[index]
    if target is wrapper.body:
        return new
    for parent in ast.walk(wrapper):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, new)
                return wrapper.body
            if isinstance(value, list):
                for k, item in enumerate(value):
                    if item is target:
                        value[k] = new
                        return wrapper.body
    return wrapper.body


def _cap_code(text, limit=90):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 4] + " ..."


def mutants(fn):
    """The mutants of ``fn``'s source, simplest first: objects with ``kind``, ``before``, ``after``, ``sentence()``."""
    return _mutants_of(fn)


# --------------------------------------------------------------------------- running
class _TimeUp(BaseException):  # not caught by the quiet runner's `except Exception`
    pass


def _compiled(mutant, fn):
    """The mutant's function, built once: ``fn`` is the solution the mutant was made from (``_mutants_of``
    keeps one tuple of mutants per solution), a course_lib function whose globals do not change."""
    if mutant._fn is None:
        try:
            mutant._fn = _build(mutant, fn)
        except Exception as exc:
            mutant._fn = exc
    if isinstance(mutant._fn, Exception):
        raise mutant._fn
    return mutant._fn


def _build(mutant, fn):
    tree = mutant.tree
    fdef = tree.body[0]
    namespace = dict(fn.__globals__)
    if fn.__closure__:
        namespace.update({name: cell.cell_contents for name, cell in zip(fn.__code__.co_freevars, fn.__closure__)})
    exec(compile(tree, f"<mutant of {fn.__name__}>", "exec"), namespace)
    new = namespace[fdef.name]
    if fn.__defaults__ and not fdef.args.defaults:  # a lambda's defaults
        new.__defaults__ = fn.__defaults__
    return new


def _undefined(value):
    """True for a division by zero: a ZeroDivisionError, or a number that is infinite or NaN."""
    exc = getattr(value, "exc", None)
    if isinstance(exc, BaseException):
        return isinstance(exc, (ZeroDivisionError, FloatingPointError))
    try:
        with np.errstate(all="ignore"):
            arr = np.asarray(value, dtype=float)
        return bool(arr.size) and not np.all(np.isfinite(arr))
    except (TypeError, ValueError):
        return False


def mutation_hint(solution, calls, answers, same, run):
    """The sentence naming the simplest mutant of ``solution`` that reproduces every answer, or None.

    ``calls`` are the cases' ``(args, kwargs)``; ``answers`` the student's answers;
    ``same(answer, mutant_answer)`` compares two answers; ``run(fn, args, kwargs)`` calls a
    function quietly on copies of the inputs (an exception becomes a value).
    """
    if solution is None or not calls:
        return None
    found = mutants(solution)
    if not found:
        return None
    use_timer = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    start = time.process_time()   # CPU time, so that other processes on a busy machine do not cut the search
    previous = None
    if use_timer:
        def _alarm(signum, frame):
            raise _TimeUp()
        previous = signal.signal(signal.SIGPROF, _alarm)
    try:
        guarded = None   # the simplest mutant that fits everywhere except where it divides by zero
        for mutant in found:
            if time.process_time() - start > BUDGET_SECONDS:
                break
            try:
                fn = _compiled(mutant, solution)
            except Exception:
                continue
            try:
                if use_timer:
                    signal.setitimer(signal.ITIMER_PROF, MUTANT_SECONDS)
                fits, undefined = 0, 0
                for (args, kwargs), got in zip(calls, answers):
                    wrong = run(fn, args, kwargs)
                    if same(got, wrong):
                        fits += 1
                    elif _undefined(wrong) and not _undefined(got):
                        undefined += 1
                    else:
                        break
            except (_TimeUp, Exception):  # a mutant too slow, or an answer that cannot be compared
                fits, undefined = 0, len(calls)
            finally:
                if use_timer:
                    signal.setitimer(signal.ITIMER_PROF, 0)
            if fits == len(calls):
                return mutant.sentence()
            if guarded is None and undefined and fits >= 2 and fits + undefined == len(calls):
                guarded = mutant
        if guarded is not None:
            return guarded.sentence(", on every input where that formula is defined (on the others it divides by "
                                    "zero, and your answer is a number there)")
        return None
    finally:
        if use_timer:
            signal.signal(signal.SIGPROF, previous)


# --------------------------------------------------------------------------- the solutions' source
# The mutants are made from the exercise's solution as a student would write it, not from the
# check's reference (which often calls the library, e.g. ``minimize(SEED_LOSS, ...)``, so its
# source says nothing about the formula).  Each function here is the solution notebook's answer;
# tests/test_checks_mutants.py passes every one through its own check.

def loss_grad(w):
    return 2 * (w + 1)


def sgd_step(w, grad, learning_rate):
    return w - learning_rate * grad


def descend(w0, learning_rate, steps):
    w, lr = np.float32(w0), np.float32(learning_rate)
    weights = [w]
    for _ in range(steps):
        w = w - lr * (2 * (w + 1))
        weights.append(w)
    return np.array(weights, dtype=np.float32)


def minibatches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def mse_grad(w, b, x, y):
    error = w * x + b - y
    return 2 * np.mean(error * x), 2 * np.mean(error)


def stability_limit(hessian):
    return 2.0 / np.linalg.eigvalsh(hessian).max()


def classify_learning_rate(learning_rate, hessian):
    factor = np.max(np.abs(1 - learning_rate * np.linalg.eigvalsh(hessian)))
    if abs(factor - 1) <= 1e-12:
        return "oscillating"
    return "converging" if factor < 1 else "diverging"


def steps_to_tolerance(learning_rate, curvature, distance, tol):
    factor, distance = abs(1 - learning_rate * curvature), abs(distance)
    if distance <= tol:
        return 0
    if factor >= 1:
        return math.inf
    if factor == 0:
        return 1
    return math.ceil(math.log(tol / distance) / math.log(factor))


def best_learning_rate(hessian):
    eigenvalues = np.linalg.eigvalsh(hessian)
    return 2.0 / (eigenvalues.min() + eigenvalues.max())


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = step / decay_steps
    if staircase:
        p = np.floor(p)
    return initial_learning_rate * decay_rate ** p


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate):
    return initial_learning_rate / (1 + decay_rate * step / decay_steps)


def warmup_cosine(step, peak, warmup_steps, decay_steps, alpha=0.0):
    if step < warmup_steps:
        return peak * step / warmup_steps
    t = min(step - warmup_steps, decay_steps)
    return peak * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * t / decay_steps)) + alpha)


def rates_for_updates(schedule, epochs, batches_per_epoch):
    rates = []
    for epoch in range(epochs):
        for batch in range(batches_per_epoch):
            rates.append(schedule(epoch * batches_per_epoch + batch))
    return rates


def descend_with_schedule(schedule, w0, steps):
    w = np.float32(w0)
    weights = [w]
    for k in range(steps):
        w = w - schedule(k) * (2 * (w + 1))
        weights.append(w)
    return weights


def gradient_variance(per_example, batch_size):
    per_example = np.asarray(per_example, dtype=np.float64)
    n = len(per_example)
    g = per_example.mean(axis=0)
    sigma2 = np.mean(np.sum((per_example - g) ** 2, axis=1))
    return sigma2 / batch_size * (n - batch_size) / (n - 1)


def noise_floor_1d(learning_rate, batch_size, variance, curvature):
    if learning_rate * curvature >= 2:
        return math.inf
    return learning_rate * variance / (2 * batch_size * (2 - learning_rate * curvature))


def scale_for_batch(base_learning_rate, base_batch_size, batch_size, warmup_examples):
    learning_rate = base_learning_rate * batch_size / base_batch_size
    warmup_steps = math.ceil(warmup_examples / batch_size)
    return learning_rate, warmup_steps


def all_reduce(per_replica):
    mean = np.mean(np.stack(per_replica), axis=0)
    return [mean.copy() for _ in per_replica]


def ema_step(shadow, value, decay):
    return shadow - (shadow - value) * (1 - decay)


def decay_with_num_updates(decay, num_updates):
    if num_updates is None:
        return decay
    return min(decay, (1 + num_updates) / (10 + num_updates))


def debiased_ema(series, decay):
    v, out = 0.0, []
    for t, x in enumerate(series, start=1):
        v = decay * v + (1 - decay) * x
        out.append(v / (1 - decay ** t))
    return np.array(out)


def sgd_with_ema(w0, noise, learning_rate, decay):
    w = np.asarray(w0, dtype=float)
    shadow = w.copy()
    weights, shadows = [w], [shadow]
    for k, n in enumerate(noise, start=1):
        w = w - learning_rate * (2 * (w - 3) + n)
        shadow = ema_step(shadow, w, decay_with_num_updates(decay, k))
        weights.append(w)
        shadows.append(shadow)
    return np.array(weights), np.array(shadows)


def sgd_with_keras_ema(w0, noise, learning_rate, ema_momentum, ema_overwrite_frequency=None):
    w = np.asarray(w0, dtype=float)
    average = w.copy()
    weights, averages = [w], [average]
    for k, n in enumerate(noise, start=1):
        w = w - learning_rate * (2 * (w - 3) + n)
        momentum = ema_momentum if k > 1 else 0.0
        average = momentum * average + (1 - momentum) * w
        if ema_overwrite_frequency is not None and k % ema_overwrite_frequency == 0:
            w = average.copy()
        weights.append(w)
        averages.append(average)
    return np.array(weights), np.array(averages)


def sigmoid_backward(d_out, out):
    return d_out * out * (1 - out)


def softmax_cross_entropy_backward(labels, logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    one_hot = np.eye(logits.shape[1])[labels]
    return (probs - one_hot) / len(labels)


def numerical_gradient(f, w, epsilon):
    w = np.array(w, dtype=np.float64)
    grad = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        saved = w[i]
        w[i] = saved + epsilon
        plus = f(w)
        w[i] = saved - epsilon
        minus = f(w)
        w[i] = saved
        grad[i] = (plus - minus) / (2 * epsilon)
    return grad


def momentum_step(w, v, g, learning_rate, momentum):
    v = momentum * v - learning_rate * g
    return w + v, v


def nesterov_step(w, v, g, learning_rate, momentum):
    v = momentum * v - learning_rate * g
    return w + momentum * v - learning_rate * g, v


def rmsprop_step(w, s, g, learning_rate, rho=0.9, epsilon=1e-7):
    s = rho * s + (1 - rho) * g * g
    return w - learning_rate * g / np.sqrt(s + epsilon), s


def adam_step(w, m, v, g, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v


SOLUTIONS = {fn.__name__: fn for fn in (
    loss_grad, sgd_step, descend, minibatches, mse_grad, stability_limit, classify_learning_rate,
    steps_to_tolerance, best_learning_rate, exponential_decay, inverse_time_decay, warmup_cosine,
    rates_for_updates, descend_with_schedule, gradient_variance, noise_floor_1d, scale_for_batch, all_reduce,
    ema_step, decay_with_num_updates, debiased_ema, sgd_with_ema, sgd_with_keras_ema, sigmoid_backward,
    softmax_cross_entropy_backward, numerical_gradient, momentum_step, nesterov_step, rmsprop_step, adam_step)}
