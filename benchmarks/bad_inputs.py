"""Run the bad-input battery (``tests/bad_inputs``) and print every case with the answer it got.

    python benchmarks/bad_inputs.py                 # the whole battery; a markdown table on stdout
    python benchmarks/bad_inputs.py -k disk --out cases.md

Each case's test asserts its exit code and one-line message (``tests/bad_inputs/conftest.py``); this script
records what each printed (``ROBOLEARN_BATTERY_LOG``) and lists it, with the pytest outcome, so that the table
in an issue note is the battery's own output, not a copy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: pytest's temporary folders, shown as TMP so that the table is the same from run to run
TMP = re.compile(r"/tmp/pytest-of-[^/]+/pytest-\d+/[^/\s'\"]+")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", default="", help="pytest -k expression: run only the matching cases")
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "battery.jsonl"
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/bad_inputs", "-rfE"]
        if args.k:
            cmd += ["-k", args.k]
        proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, "ROBOLEARN_BATTERY_LOG": str(log)})
        rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    lines = ["| case | kind | exit | message |", "|---|---|---|---|"]
    for r in rows:
        case = r["case"].removeprefix("tests/bad_inputs/")
        message = TMP.sub("TMP", r["message"]).replace(f"{REPO}/", "REPO/").replace("|", "\\|")
        lines.append(f"| `{case}` | {r['kind']} | {'' if r['code'] is None else r['code']} | {message} |")
    table = "\n".join(lines)
    print(table)
    print(f"\n{len(rows)} answers recorded; pytest exit status {proc.returncode}")
    if args.out:
        # an existing file keeps its prose: everything above its table stays, the table is replaced
        old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        head = old[: old.index("| case |")] if "| case |" in old else ""
        args.out.write_text(head + table + "\n", encoding="utf-8")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
