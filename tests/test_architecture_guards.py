"""Architecture guards: rules of CONTRIBUTING.md checked by reading the source.

* Stock changes only through :mod:`inventory.stock.services.ledger` (append-only movements).
  :func:`stock_writes` reads one module's source and lists every place that writes stock
  quantities or movement rows; no module of ``inventory/`` but the ledger may have one.
  Migrations and tests are outside the scan; the demo seeds through the ledger.

* ``labels/`` is a pure renderer: it imports neither ``inventory`` nor Flask nor the database.
* The app's PDFs take fonts and CJK text from ``inventory/core/pdf.py`` alone, the one module
  of ``inventory/`` that imports :mod:`labels.fonts`.

A failing guard names the file and line, e.g.
``inventory/stocktake/services/counts.py:120: assigns .quantity of a batch``.
"""
from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The one module allowed to write stock (relative to the project root).
LEDGER = "inventory/stock/services/ledger.py"
#: Models whose rows hold stock, and their table names.
STOCK_MODELS = {"Batch", "Movement"}
STOCK_TABLES = {"batch", "movement"}
#: Attribute and column names of a stock quantity (the column is ``quantity_milli``).
QUANTITY_NAMES = {"quantity", "quantity_milli"}
#: Statement constructors (``insert``, ``dialect_insert``, ``pg_insert`` …) and bulk ORM writes.
_DML = re.compile(r"(^|_)(insert|update|delete|upsert)$|^bulk_")
#: SQL text that writes a stock table.
_RAW_SQL = re.compile(
    r"""\b(update\s+["`]?(batch|movement)["`]?\s+set|insert\s+into\s+["`]?(batch|movement)\b|"""
    r"""delete\s+from\s+["`]?(batch|movement)\b)""", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Violation:
    """One stock write outside the ledger: ``path:line: what``."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _names(node: ast.AST) -> list[str]:
    """Identifiers of a Name / Attribute / Subscript / Call chain, outermost last
    (``db.session.get(Batch, 1)`` → ``["db", "session", "get"]``; arguments are left out)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return _names(node.value) + [node.attr]
    if isinstance(node, (ast.Subscript, ast.Starred)):
        return _names(node.value)
    if isinstance(node, ast.Call):
        return _names(node.func)
    return []


def _last_name(node: ast.AST) -> str:
    names = _names(node)
    return names[-1] if names else ""


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of the module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


class _StockWrites(ast.NodeVisitor):
    """Collects the stock writes of one module; see :func:`stock_writes` for what counts."""

    def __init__(self, path: str, tree: ast.Module):
        self.path = path
        self.found: set[Violation] = set()
        self.docstrings = _docstrings(tree)
        self.tables: set[str] = set()   # names bound to a stock model or table (b = Batch.__table__)
        self.objects: set[str] = set()  # names bound to a batch or movement object
        self.new_movements: set[str] = set()  # names bound to Movement(...)
        self._bind(tree)

    # ----------------------------------------------------------------- what names stand for

    def _is_stock_model(self, node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and (node.id in STOCK_MODELS or node.id in self.tables)) or (
            isinstance(node, ast.Attribute) and node.attr in STOCK_MODELS)

    def mentions_stock(self, node: ast.AST | None) -> bool:
        """True when ``node`` names a stock model, an alias of one, or a stock table by name."""
        if node is None:
            return False
        for sub in ast.walk(node):
            if self._is_stock_model(sub):
                return True
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value in STOCK_TABLES:
                return True
        return False

    def stock_object(self, node: ast.AST) -> bool:
        """True when ``node`` looks like a batch or movement: a name or attribute chain with
        "batch" or "movement" in it (``batch``, ``line.batch``, ``batches[0]``, ``src_batch``), or a
        name bound to a stock model's object (``b = db.session.get(Batch, 1)``, ``for b in batches``)."""
        names = _names(node)
        if any(n in self.objects for n in names[:1]):
            return True
        return any("batch" in n.lower() or "movement" in n.lower() for n in names)

    def _is_new_movement(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and _last_name(node.func) == "Movement" or (
            isinstance(node, ast.Name) and node.id in self.new_movements)

    def _bind(self, tree: ast.Module) -> None:
        """Record which local names stand for stock tables, stock objects and new movements."""
        pairs: list[tuple[ast.AST, ast.AST, bool]] = []  # (target, value, is_loop)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) and len(
                            target.elts) == len(node.value.elts):
                        pairs.extend((t, v, False) for t, v in zip(target.elts, node.value.elts))
                    else:
                        pairs.append((target, node.value, False))
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                pairs.append((node.target, node.value, False))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                pairs.append((node.target, node.iter, True))
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                pairs.append((node.optional_vars, node.context_expr, False))
        for _round in range(2):  # aliases of aliases
            for target, value, is_loop in pairs:
                for name in [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]:
                    if not is_loop and isinstance(value, (ast.Name, ast.Attribute)) and self.mentions_stock(value):
                        self.tables.add(name)  # b = Batch.__table__
                    if self.mentions_stock(value) or (is_loop or not isinstance(value, ast.Call)) and any(
                            "batch" in n.lower() or "movement" in n.lower() for n in _names(value)):
                        self.objects.add(name)
                    if not is_loop and self._is_new_movement(value):
                        self.new_movements.add(name)

    # ----------------------------------------------------------------- the rules

    def flag(self, node: ast.AST, what: str) -> None:
        # A method call is placed on the line of its name (``.values(`` in a chain over several lines).
        line = node.func.end_lineno if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            else node.lineno
        self.found.add(Violation(self.path, line, what))

    def _quantity_target(self, target: ast.AST) -> None:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Attribute) and sub.attr in QUANTITY_NAMES and isinstance(
                    sub.ctx, ast.Store) and self.stock_object(sub.value):
                self.flag(sub, f"assigns .{sub.attr} of a batch")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._quantity_target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._quantity_target(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._quantity_target(node.target)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _last_name(node.func)
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if name == "Movement":
            self.flag(node, "constructs Movement(...)")
        elif name == "Batch":
            self.flag(node, "constructs Batch(...)")
        elif name == "setattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and (
                node.args[1].value in QUANTITY_NAMES and self.stock_object(node.args[0])):
            self.flag(node, f"sets .{node.args[1].value} of a batch with setattr")
        elif _DML.search(name) and (any(self.mentions_stock(a) for a in node.args[:1])
                                    or self.mentions_stock(receiver)):
            self.flag(node, f"{name}() on a stock table (batch or movement)")
        elif name == "values" and self.mentions_stock(receiver) and (
                any(k.arg in QUANTITY_NAMES for k in node.keywords)
                or any(isinstance(a, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in QUANTITY_NAMES
                                                       for k in a.keys) for a in node.args)):
            self.flag(node, ".values(quantity=...) on a stock table")
        elif name in ("add", "add_all", "merge") and "session" in _names(node.func)[:-1]:
            items = [e for a in node.args for e in (a.elts if isinstance(a, (ast.List, ast.Tuple, ast.Set)) else [a])]
            if any(self._is_new_movement(e) for e in items):
                self.flag(node, f"session.{name}() of a Movement")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and id(node) not in self.docstrings and _RAW_SQL.search(node.value):
            self.flag(node, "SQL text writing a stock table")


def stock_writes(source: str, path: str = "<source>") -> list[Violation]:
    """Places in one module's ``source`` that write stock, sorted by line.

    Counted as writes: assigning ``.quantity`` (or ``.quantity_milli``, also with ``+=`` or
    ``setattr``) of a batch-like object; constructing ``Movement(...)`` or ``Batch(...)``;
    ``insert`` / ``update`` / ``delete`` (also ``dialect_insert``, ``bulk_*`` …) of the batch or
    movement table, in either form (``update(Batch)``, ``Batch.__table__.update()``,
    ``query(Batch).update(...)``); ``.values(quantity=...)`` on those tables;
    ``session.add`` / ``add_all`` / ``merge`` of a new Movement; and SQL text that updates,
    inserts into or deletes from ``batch`` or ``movement``.  Reading a quantity is no write.
    Raises SyntaxError for source that does not parse.
    """
    tree = ast.parse(source, filename=path)
    visitor = _StockWrites(path, tree)
    visitor.visit(tree)
    return sorted(visitor.found)


def stock_writes_in_tree(root: Path) -> list[Violation]:
    """:func:`stock_writes` over every module of ``root/inventory`` except the ledger."""
    found: list[Violation] = []
    for path in sorted((root / "inventory").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative != LEDGER:
            found.extend(stock_writes(path.read_text(encoding="utf-8"), relative))
    return found


# --------------------------------------------------------------------------- the guard


def ledger_message(violations: list[Violation]) -> str:
    """The guard's failure message: the rule, then one ``path:line: what`` per violation."""
    return (f"Stock changes only through {LEDGER}; move these writes into a ledger operation:\n"
            + "\n".join(map(str, violations)))


def test_only_the_ledger_writes_stock():
    violations = stock_writes_in_tree(ROOT)
    assert not violations, ledger_message(violations)


def test_the_checker_sees_the_ledgers_own_writes():
    """The ledger's real writes are recognised, so the guard cannot pass by being blind."""
    whats = {v.what for v in stock_writes((ROOT / LEDGER).read_text(encoding="utf-8"), LEDGER)}
    assert {"constructs Movement(...)", "constructs Batch(...)", "update() on a stock table (batch or movement)",
            ".values(quantity=...) on a stock table", "session.add() of a Movement"} <= whats


# --------------------------------------------------------------------------- the checker on snippets

BAD = [
    ("batch.quantity = 0", 1, "assigns .quantity of a batch"),
    ("def f(line):\n    line.batch.quantity -= 1", 2, "assigns .quantity of a batch"),
    ("for b in location.batches:\n    b.quantity += 1", 2, "assigns .quantity of a batch"),
    ("b = db.session.get(Batch, 1)\nb.quantity = 5", 2, "assigns .quantity of a batch"),
    ("setattr(batch, 'quantity', 3)", 1, "sets .quantity of a batch with setattr"),
    ("mv = Movement(batch_id=1, quantity=2)", 1, "constructs Movement(...)"),
    ("x = models.Movement(**data)", 1, "constructs Movement(...)"),
    ("b = Batch(item_id=1, quantity=2)", 1, "constructs Batch(...)"),
    ("db.session.execute(update(Batch).where(Batch.id == 1).values(quantity=0))", 1,
     "update() on a stock table (batch or movement)"),
    ("db.session.execute(update(Batch).where(Batch.id == 1).values(quantity=0))", 1,
     ".values(quantity=...) on a stock table"),
    ("stmt = (\n    update(Batch)\n    .where(Batch.id == 1)\n    .values(quantity=Batch.quantity - 1)\n)", 4,
     ".values(quantity=...) on a stock table"),
    ("db.session.execute(insert(Movement), rows)", 1, "insert() on a stock table (batch or movement)"),
    ("db.session.execute(dialect_insert(Movement.__table__).values(x=1))", 1,
     "dialect_insert() on a stock table (batch or movement)"),
    ("t = Batch.__table__\ndb.session.execute(t.update().values(quantity_milli=0))", 2,
     "update() on a stock table (batch or movement)"),
    ("db.session.query(Batch).filter_by(id=1).update({'quantity': 0})", 1,
     "update() on a stock table (batch or movement)"),
    ("db.session.bulk_insert_mappings(Movement, rows)", 1, "bulk_insert_mappings() on a stock table (batch or movement)"),
    ("stmt = update(table('batch')).values({'quantity_milli': 0})", 1, ".values(quantity=...) on a stock table"),
    ("mv = Movement(batch_id=1)\ndb.session.add(mv)", 2, "session.add() of a Movement"),
    ("db.session.add_all([Movement(batch_id=1)])", 1, "session.add_all() of a Movement"),
    ("db.session.execute(text('UPDATE batch SET quantity_milli = 0'))", 1, "SQL text writing a stock table"),
    ("sql = 'insert into movement (batch_id) values (1)'", 1, "SQL text writing a stock table"),
]


@pytest.mark.parametrize("source, line, what", BAD)
def test_the_checker_flags_a_stock_write(source, line, what):
    found = stock_writes(source, "inventory/x.py")
    assert Violation("inventory/x.py", line, what) in found, found


GOOD = [
    "total = batch.quantity + 1",                          # reading
    "line.quantity = Decimal(3)",                         # a standard line, not a batch
    "override.quantity = None",
    "row = StandardLine(version_id=1, quantity=q)",
    "db.session.add(StandardLine(quantity=q))",
    "report.results.insert(0, result)",                   # list.insert
    "db.session.execute(update(Alert).where(Alert.batch_id == 1).values(level=2))",
    "db.session.execute(insert(KitCounter).values(quantity=1))",
    "line = StocktakeLine(batch_id=batch.id, counted=qty, book_quantity=batch.quantity)",
    "def f():\n    '''Update batch set: only the ledger does.'''",
    "ledger.adjust(batch_id=b.id, delta=-1, user=user)",  # going through the ledger
    "q = select(Batch).where(Batch.quantity > 0)",
]


@pytest.mark.parametrize("source", GOOD)
def test_the_checker_leaves_reads_and_other_tables_alone(source):
    assert stock_writes(source) == []


def test_a_stock_write_in_a_copied_tree_is_named_by_file_and_line(tmp_path):
    """A module slipped into a copy of the tree is reported with its path and line."""
    shutil.copytree(ROOT / "inventory", tmp_path / "inventory", ignore=shutil.ignore_patterns("__pycache__"))
    assert stock_writes_in_tree(tmp_path) == []
    sneaky = tmp_path / "inventory" / "stocktake" / "services" / "shortcut.py"
    sneaky.write_text('"""Settle a count by editing the book."""\n\n\ndef settle(line):\n'
                      '    line.batch.quantity = line.counted\n', encoding="utf-8")
    violations = stock_writes_in_tree(tmp_path)
    assert [str(v) for v in violations] == [
        "inventory/stocktake/services/shortcut.py:5: assigns .quantity of a batch"]
    assert ledger_message(violations).endswith("\ninventory/stocktake/services/shortcut.py:5: assigns .quantity "
                                               "of a batch")


# --------------------------------------------------------------------------- imports


def imports_of(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import in ``source``; ``from a.b import c`` gives ``a.b`` and
    ``a.b.c`` (``c`` may be a module).  Relative imports are left out."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _importers(folder: str, wanted) -> list[str]:
    return [f"{path.relative_to(ROOT).as_posix()}:{line}: imports {module}"
            for path in sorted((ROOT / folder).rglob("*.py"))
            for line, module in imports_of(path.read_text(encoding="utf-8")) if wanted(module)]


def _top(module: str) -> str:
    return module.split(".")[0]


def test_labels_is_a_pure_renderer():
    assert _importers("labels", lambda m: _top(m) in ("inventory", "flask", "sqlalchemy", "werkzeug", "config")
                      or _top(m).startswith("flask_")) == []


def test_pdf_fonts_come_through_core_pdf():
    offending = _importers("inventory", lambda m: m == "labels.fonts" or m.startswith("labels.fonts."))
    assert [o for o in offending if not o.startswith("inventory/core/pdf.py:")] == []
    assert offending, "inventory/core/pdf.py builds on labels.fonts"


def test_imports_of_names_modules_and_lines():
    assert imports_of("import os\nfrom labels import fonts\nfrom . import x\n") == [
        (1, "os"), (2, "labels"), (2, "labels.fonts")]
