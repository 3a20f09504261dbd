"""Builds the Teams app package (manifest and icons, zipped) an admin uploads to Teams.

    TEAMS_APP_ID=... AGENCY_NAME="City of Port Alder" AGENCY_WEBSITE=https://portalder.gov \\
        python teams/package.py build/chatops-teams.zip
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIRED = ("TEAMS_APP_ID", "AGENCY_NAME", "AGENCY_WEBSITE")


def manifest(values: dict[str, str]) -> dict[str, object]:
    text = (HERE / "manifest.json").read_text(encoding="utf-8")
    for name in REQUIRED:
        text = text.replace("${" + name + "}", values[name])
    data: dict[str, object] = json.loads(text)
    return data


def build(target: Path, values: dict[str, str]) -> Path:
    missing = [name for name in REQUIRED if not values.get(name)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} to build the Teams package")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest(values), indent=2))
        package.write(HERE / "color.png", "color.png")
        package.write(HERE / "outline.png", "outline.png")
    return target


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/chatops-teams.zip")
    print(build(out, {name: os.environ.get(name, "") for name in REQUIRED}))
