"""House rules that keep the core portable: no platform SDK below the adapters."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDKS = ("slack_bolt", "slack_sdk", "microsoft_agents", "botbuilder", "tweepy", "aiohttp")
COMPOSITION = {"chatops/service.py", "chatops/cli.py"}


def core_modules() -> list[Path]:
    files = sorted((ROOT / "chatops").rglob("*.py")) + sorted((ROOT / "commands").rglob("*.py"))
    return [f for f in files if str(f.relative_to(ROOT)) not in COMPOSITION]


def test_core_sources_do_not_import_platform_sdks() -> None:
    offenders = []
    for path in core_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if name.split(".")[0] in SDKS or name.startswith("adapters")
            ]
    assert offenders == []


def test_importing_the_core_loads_no_platform_sdk() -> None:
    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in core_modules()
        if "migrations" not in path.parts
    ]
    program = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {SDKS!r})))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == []
