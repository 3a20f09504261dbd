"""Builds the Teams app package (manifest and icons, zipped) an admin uploads to Teams.

    TEAMS_APP_ID=... AGENCY_NAME="City of Port Alder" AGENCY_WEBSITE=https://portalder.gov \\
        python teams/package.py build/chatops-teams.zip

The settings are put into the manifest as values (a quote in a name stays a quote), and the
manifest is checked against the published Teams manifest schema of the version its `$schema`
names, vendored in teams/schema/: anything Teams would refuse at upload (an agency name over
32 characters, an app id that is not a GUID, ...) is refused here, naming the setting to change,
and no package is written.
"""

from __future__ import annotations

import json
import os
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE / "schema"
REQUIRED = ("TEAMS_APP_ID", "AGENCY_NAME", "AGENCY_WEBSITE")
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")
_SCHEMA_VERSION = re.compile(r"/v(\d+\.\d+)/MicrosoftTeams\.schema\.json$")


def template() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    return data


def manifest(values: dict[str, str]) -> dict[str, Any]:
    filled: dict[str, Any] = _fill(template(), values)
    return filled


def build(target: Path, values: dict[str, str]) -> Path:
    missing = [name for name in REQUIRED if not values.get(name)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} to build the Teams package")
    data = manifest(values)
    found = problems(data)
    if found:
        raise SystemExit(
            "Teams would refuse this app package; nothing was written:\n"
            + "\n".join(f"  {line}" for line in found)
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(data, indent=2, ensure_ascii=False))
        package.write(HERE / "color.png", "color.png")
        package.write(HERE / "outline.png", "outline.png")
    return target


def problems(data: dict[str, Any]) -> list[str]:
    """What the Teams manifest schema refuses in `data`, each with the setting it came from."""
    try:
        import jsonschema
    except ImportError:  # a dev dependency; `make teams-package` runs in the dev environment
        raise SystemExit(
            "checking the manifest needs jsonschema: run `make teams-package`"
        ) from None
    schema = _schema_for(str(data.get("$schema", "")))
    guid = schema["definitions"]["guid"]["pattern"]
    sources = dict(_sources(template()))
    found = []
    for error in sorted(
        jsonschema.Draft4Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)
    ):
        path = tuple(str(part) for part in error.absolute_path)
        where = ".".join(path) or "(manifest)"
        line = f"{where} = {error.instance!r}: {_explain(error, guid)}"
        names = sources.get(path)
        if names:
            line += f"; it comes from {', '.join(names)}"
        found.append(line)
    return found


def _explain(error: Any, guid: str) -> str:
    if error.validator == "maxLength":
        return (
            f"too long, at most {error.validator_value} characters (it has {len(error.instance)})"
        )
    if error.validator == "pattern" and error.validator_value == guid:
        return "must be a GUID, like 11111111-2222-3333-4444-555555555555"
    if error.validator == "pattern" and "[Hh][Tt][Tt][Pp]" in str(error.validator_value):
        return "must be a web address starting with https://"
    return str(error.message)


def _schema_for(address: str) -> dict[str, Any]:
    match = _SCHEMA_VERSION.search(address)
    path = SCHEMAS / f"MicrosoftTeams.v{match.group(1)}.schema.json" if match else None
    if path is None or not path.exists():
        raise SystemExit(
            f"teams/manifest.json names the schema {address!r}, which is not in teams/schema/"
        )
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _fill(node: Any, values: dict[str, str]) -> Any:
    """The template with each `${NAME}` in a string replaced by the value, as text."""
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), node)
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    return node


def _sources(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], list[str]]]:
    """Each place in the template a setting is put, and which settings."""
    if isinstance(node, str):
        names = _PLACEHOLDER.findall(node)
        if names:
            yield path, names
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _sources(value, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _sources(item, (*path, str(index)))


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/chatops-teams.zip")
    print(build(out, {name: os.environ.get(name, "") for name in REQUIRED}))
