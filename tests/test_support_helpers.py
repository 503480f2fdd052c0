"""The tests keep one set of helpers (tests/support/): no test module imports another test
module or conftest, each shared helper is defined once, nothing polls against a deadline of
its own instead of support.waiting.wait_until, and the CLI is started as support.cli.CMSFEED
(this interpreter's `-m cmsfeed`), never by a path into one virtual environment. Read from the
source tree, so a second copy fails here with its file and line."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# Helpers the tests share, and the one module allowed to define each.
SHARED = {
    "FixedClock": "support/clock.py",
    "free_port": "support/ports.py",
    "make_item": "support/items.py",
    "wait_until": "support/waiting.py",
}
CLI_PATH = "/".join(("bin", "cmsfeed"))  # joined, so that this file does not hold it


def python_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*.py") if "data" not in path.relative_to(root).parts)


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
    return found


def helper_problems(root: Path) -> list[str]:
    """Every breach of the rules above under `root`, one line each: `file:line: what`."""
    problems: list[tuple[str, int, str]] = []
    for path in python_files(root):
        name = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=name)
        for line, module in imported_modules(tree):
            last = module.rsplit(".", 1)[-1]
            if last.startswith("test_") or last == "conftest":
                problems.append((name, line, f"imports the test module {module}"))
        for node in ast.walk(tree):
            defined = isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            if defined and SHARED.get(node.name, name) != name:
                problems.append(
                    (
                        name,
                        node.lineno,
                        f"defines {node.name} again (use the one in {SHARED[node.name]})",
                    )
                )
            if (
                name != SHARED["wait_until"]
                and isinstance(node, ast.Attribute)
                and node.attr == "monotonic"
                and _in_deadline(tree, node)
            ):
                problems.append((name, node.lineno, "its own deadline loop (use wait_until)"))
            if isinstance(node, ast.Constant) and CLI_PATH in str(node.value):
                problems.append((name, node.lineno, "a path to cmsfeed (use support.cli)"))
    return [f"{name}:{line}: {what}" for name, line, what in sorted(problems)]


def _in_deadline(tree: ast.AST, monotonic: ast.Attribute) -> bool:
    """`time.monotonic() + …`: the start of a hand-written deadline."""
    return any(
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Add)
        and isinstance(node.left, ast.Call)
        and node.left.func is monotonic
        for node in ast.walk(tree)
    )


def test_the_tests_keep_one_set_of_helpers() -> None:
    assert helper_problems(TESTS) == []


def test_a_second_helper_or_a_test_module_import_is_found(tmp_path: Path) -> None:
    (tmp_path / "support").mkdir()
    (tmp_path / "support" / "clock.py").write_text("class FixedClock:\n    pass\n")
    (tmp_path / "test_a.py").write_text(
        "import time\n"
        "from test_b import helper\n"
        "import conftest\n"
        "class FixedClock:\n    pass\n"
        "def free_port():\n    return 1\n"
        "deadline = time.monotonic() + 5\n"
        f'CLI = ".venv/{CLI_PATH}"\n'
    )
    (tmp_path / "data").mkdir()  # fixture data is not test code
    (tmp_path / "data" / "make_item.py").write_text("def make_item():\n    pass\n")
    assert helper_problems(tmp_path) == [
        "test_a.py:2: imports the test module test_b",
        "test_a.py:3: imports the test module conftest",
        "test_a.py:4: defines FixedClock again (use the one in support/clock.py)",
        "test_a.py:6: defines free_port again (use the one in support/ports.py)",
        "test_a.py:8: its own deadline loop (use wait_until)",
        "test_a.py:9: a path to cmsfeed (use support.cli)",
    ]
