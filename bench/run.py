"""Run every benchmark, each in its own process, and record the figures.

Usage: .venv/bin/python bench/run.py              (what `make bench` runs: every benchmark)
       .venv/bin/python bench/run.py ledger inbox  (only these; the others keep their last figures)
Writes `bench/results.json` and the summary section of `docs/benchmarks.md`. Each figure
comes from a script that measures it beside its baseline in the same process. Each script
runs in a child process so that its peak memory is its own.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"
START = "<!-- bench-summary:start -->"
END = "<!-- bench-summary:end -->"
SCANS = ROOT.parent / "shared" / "samples-real"

# name, command, and the targets of the figures it prints: (key, "max" or "min", value).
BENCHMARKS = [
    ("parse", ["bench/parse_bench.py"], [("parse_vs_pypdf_ratio", "max", 1.5)]),
    ("fanout", ["bench/fanout_bench.py"], [("fanout_lao_level_s_pg", "max", 1.0), ("rollup_p95_ms", "max", 200)]),
    # The scanned circulars beside the project; the OCR bench writes its own per-page table.
    ("ocr", ["bench/ocr_bench.py", "--pages", "2", "--expected", str(SCANS / "expected_page1.json"),
             *sorted(str(p) for p in SCANS.glob("dla_*.pdf"))],
     [("ocr_slowest_s_per_page", "max", 6.0), ("ocr_vs_tesseract_ratio", "max", 1.3)]),
    # Generates as many national circulars as fit in 10 minutes, then reads DLA's dashboard.
    ("dashboard", ["bench/dashboard_bench.py"], [("dashboard_p95_ms", "max", 200)]),
    ("ledger", ["bench/ledger_bench.py"],
     [("ledger_postings_per_s_pg", "min", 2000), ("ledger_verify_s_per_million", "max", 30)]),
    ("inbox", ["bench/inbox_bench.py"], [("inbox_p95_ms_50_users", "max", 100)]),
]


# Figures the project is to measure that have no benchmark yet.
NOT_MEASURED: tuple[str, ...] = ()


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model or platform.processor()}), Python {platform.python_version()}"


def _run(command: list[str]) -> dict:
    proc = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    # The figures are the last JSON object printed; anything before it is a report for people.
    start = proc.stdout.rstrip().rindex("\n{") + 1 if "\n{" in proc.stdout else proc.stdout.index("{")
    return json.loads(proc.stdout[start:])


def _verdict(value, kind: str, target: float) -> str:
    if not isinstance(value, (int, float)):
        return "not measured"
    met = value <= target if kind == "max" else value >= target
    return "met" if met else "NOT met"


def _summary(results: dict, started: str) -> str:
    lines = [
        START,
        "## Summary",
        "",
        f"Command: `make bench` (`.venv/bin/python bench/run.py`). Machine: {_machine()}. Last run: {started} UTC.",
        "Each benchmark's own run time (UTC) is in the last column; `bench/run.py NAME` reruns one.",
        "",
        "| figure | value | target | verdict | peak memory MB | run |",
        "| --- | ---: | ---: | --- | ---: | --- |",
    ]
    for name, _command, targets in BENCHMARKS:
        figures = results.get(name)
        if figures is None:
            lines.append(f"| {name} | not run | | | | |")
            continue
        run = figures.get("run", "")
        if "error" in figures:
            lines.append(f"| {name} | failed: {figures['error']} | | | | {run} |")
            continue
        targeted = {key: (kind, target) for key, kind, target in targets}
        for key, value in figures.items():
            if key == "peak_rss_mb" or not isinstance(value, (int, float)):
                continue
            kind, target = targeted.get(key, (None, None))
            target_text = f"{'≤' if kind == 'max' else '≥'} {target}" if kind else ""
            verdict = _verdict(value, kind, target) if kind else ""
            lines.append(f"| `{key}` | {value} | {target_text} | {verdict} | {figures.get('peak_rss_mb', '')} | {run} |")
    if NOT_MEASURED:
        lines += ["", "Not measured yet: " + ", ".join(f"`{name}`" for name in NOT_MEASURED) + "."]
    lines += ["", END]
    return "\n".join(lines)


def _write_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\nMeasured numbers, with the command and the machine behind each.\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        head, sep, tail = text.partition("\n\n")
        text = head + sep + tail.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")


def main(argv: list[str] | None = None) -> None:
    names = [name for name, _command, _targets in BENCHMARKS]
    parser = argparse.ArgumentParser(description="Run the benchmarks and record their figures.")
    parser.add_argument("only", nargs="*", metavar="NAME",
                        help=f"run only these benchmarks ({', '.join(names)}); default all")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only) - set(names))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; expected one of {', '.join(names)}")
    started = _now()
    # A partial run keeps the other benchmarks' last figures, each with its own run time.
    previous = json.loads(RESULTS.read_text()) if args.only and RESULTS.exists() else {}
    results = {name: previous[name] for name in names if isinstance(previous.get(name), dict)}
    for name, command, _targets in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        print(f"running {name} ...", file=sys.stderr)
        results[name] = {**_run(command), "run": _now()}
    RESULTS.write_text(json.dumps({"run": started, "machine": _machine(), **results}, ensure_ascii=False, indent=1))
    _write_doc(_summary(results, started))
    print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
