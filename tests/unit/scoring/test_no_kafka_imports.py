"""The scoring engine is pure: nothing under scoring/ (nor the `score` command) may import a Kafka client."""

from __future__ import annotations

import ast
import subprocess
import sys

from .conftest import REPO

FORBIDDEN = ("kafka", "aiokafka", "faust", "confluent_kafka", "mode")


def _imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            found.add(str(node.args[0].value))
    return found


def test_no_kafka_import_in_scoring_sources():
    sources = sorted((REPO / "scoring").rglob("*.py")) + [REPO / "streams" / "commands" / "score.py"]
    assert len(sources) > 5
    offenders = {
        str(path.relative_to(REPO)): sorted(m for m in _imported_modules(path) if m.split(".")[0] in FORBIDDEN)
        for path in sources
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_importing_scoring_loads_no_kafka_module():
    probe = ("import sys, scoring, scoring.engine, scoring.alerts, streams.commands.score; "
             f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
