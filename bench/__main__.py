"""Every benchmark, one command: `python -m bench [--quick]` (or `make bench`).

Writes bench/results.json (the machine, the date, every figure with its unit) and
bench/results.md (the tables). `--quick` is what CI runs to prove each still works; it
checks that they run, never a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ("slack_ack", "Slack command ack latency (ms) vs a bare bolt app"),
    ("pipeline", "Mention pipeline throughput (mentions/s) vs plain inserts"),
    ("x_latency", "Mention to alert and approval to publication (s), fake X API"),
    ("fanout", "Approval to every target live (s), one draft to three networks vs one"),
    ("memory", "Resident memory (MiB), every adapter configured"),
    ("scale_out", "Publication throughput (drafts/s), one vs two worker replicas"),
]


def machine() -> dict[str, object]:
    memory = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "0",
    )
    return {
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": os.cpu_count(),
        "memory_gib": round(int(memory) / 1024 / 1024, 1),
        "processor": platform.processor() or platform.machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="prove every benchmark runs")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    results: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "benchmarks": {},
    }
    sections = [f"# chatops benchmarks ({results['date']}{', quick' if args.quick else ''})", ""]
    failed = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, title in BENCHMARKS:
            figures = Path(scratch) / f"{name}.json"
            command = [sys.executable, "-m", f"bench.{name}", "--json", str(figures)]
            if args.quick:
                command.append("--quick")
            print(f"== {title}", flush=True)
            run = subprocess.run(command, cwd=HERE.parent, capture_output=True, text=True)
            print(run.stdout, flush=True)
            if run.returncode != 0 or not figures.exists():
                failed.append(name)
                print(run.stderr[-2000:], file=sys.stderr)
                continue
            results["benchmarks"][name] = {  # type: ignore[index]
                "title": title,
                "figures": json.loads(figures.read_text()),
            }
            sections += [f"## {title}", "", run.stdout.strip(), ""]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text("\n".join(sections) + "\n")
    if failed:
        print(f"benchmarks that did not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"{len(BENCHMARKS)} benchmarks ran; figures in {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
