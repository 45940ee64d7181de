"""What a run of the kit found, and how it is told: a terminal summary, JUnit XML for CI,
an HTML matrix of operations × checks, and JSON (which `compare.py` reads)."""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET


@dataclass
class Failure:
    message: str
    curl: str | None = None
    detail: str | None = None  # e.g. the body that broke the check

    def to_json(self) -> dict:
        return {"message": self.message, "curl": self.curl, "detail": self.detail}


@dataclass
class CheckResult:
    passed: int = 0
    failed: int = 0
    skipped: str | None = None  # a reason
    first: Failure | None = None

    @property
    def status(self) -> str:
        if self.failed:
            return "fail"
        if self.passed:
            return "pass"
        return "skip" if self.skipped else "n/a"


@dataclass
class OperationResult:
    name: str  # an operation id, or `scenario:<name>`
    cases: int = 0
    seconds: float = 0.0
    checks: dict[str, CheckResult] = field(default_factory=dict)
    note: str | None = None

    def check(self, name: str) -> CheckResult:
        return self.checks.setdefault(name, CheckResult())

    def record(self, name: str, ok: bool, failure: Failure | None = None) -> None:
        result = self.check(name)
        if ok:
            result.passed += 1
        else:
            result.failed += 1
            if result.first is None:
                result.first = failure

    def skip(self, name: str, reason: str) -> None:
        result = self.check(name)
        if not result.passed and not result.failed:
            result.skipped = reason

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.checks.values())


@dataclass
class Report:
    target: str
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    seed: int | None = None
    operations: dict[str, OperationResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def op(self, name: str) -> OperationResult:
        return self.operations.setdefault(name, OperationResult(name))

    @property
    def failures(self) -> int:
        return sum(o.failed for o in self.operations.values())

    @property
    def cases(self) -> int:
        return sum(o.cases for o in self.operations.values())

    @property
    def check_names(self) -> list[str]:
        names: list[str] = []
        for result in self.operations.values():
            for name in result.checks:
                if name not in names:
                    names.append(name)
        return names

    def totals(self) -> dict[str, int]:
        checks = [c for o in self.operations.values() for c in o.checks.values()]
        return {"operations": sum(1 for o in self.operations if not o.startswith("scenario:")),
                "scenarios": sum(1 for o in self.operations if o.startswith("scenario:")),
                "cases": self.cases, "checks_passed": sum(c.passed for c in checks),
                "checks_failed": sum(c.failed for c in checks), "failures": self.failures}

    # --- output ------------------------------------------------------------------------

    def summary(self, color: bool = False) -> str:
        def paint(text: str, code: str) -> str:
            return f"\033[{code}m{text}\033[0m" if color else text

        lines = [f"Contract suite against {self.target} (seed {self.seed}, {self.seconds:.1f} s)", ""]
        width = max([len(n) for n in self.operations] + [10])
        for name, result in self.operations.items():
            failed = result.failed
            passed = sum(c.passed for c in result.checks.values())
            mark = paint("FAIL", "31") if failed else paint("ok  ", "32") if passed else paint("skip", "33")
            extra = f"  ({result.note})" if result.note else ""
            lines.append(f"  {mark} {name:<{width}}  {result.cases:>4} cases  {passed:>5} passed  {failed:>4} failed{extra}")
            for check, outcome in result.checks.items():
                if outcome.failed and outcome.first:
                    lines.append(f"       {paint(check, '31')}: {outcome.failed} failed; first: {outcome.first.message}")
                    if outcome.first.detail:
                        lines.append(f"         {outcome.first.detail[:400]}")
                    if outcome.first.curl:
                        lines.append("         reproduce: " + outcome.first.curl.replace("\n", "\n         "))
                elif outcome.skipped and not outcome.passed and len(result.checks) > 0 and not failed and not passed:
                    lines.append(f"       {check}: skipped ({outcome.skipped})")
        totals = self.totals()
        lines += ["", f"{totals['operations']} operations, {totals['scenarios']} scenarios, {totals['cases']} cases: "
                      f"{totals['checks_passed']} checks passed, {totals['checks_failed']} failed"]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"target": self.target, "seed": self.seed, "seconds": round(self.seconds, 2), "totals": self.totals(),
                "notes": self.notes, "operations": {
                    name: {"cases": r.cases, "seconds": round(r.seconds, 2), "note": r.note, "checks": {
                        check: {"status": c.status, "passed": c.passed, "failed": c.failed, "skipped": c.skipped,
                                "first_failure": c.first.to_json() if c.first else None}
                        for check, c in r.checks.items()}}
                    for name, r in self.operations.items()}}

    def write_json(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")

    def junit(self) -> str:
        totals = self.totals()
        suites = ET.Element("testsuites", name="mockserver contract", tests=str(sum(len(o.checks) for o in self.operations.values())),
                            failures=str(sum(1 for o in self.operations.values() for c in o.checks.values() if c.failed)),
                            time=f"{self.seconds:.3f}")
        for name, result in self.operations.items():
            suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(result.checks)),
                                  failures=str(sum(1 for c in result.checks.values() if c.failed)),
                                  skipped=str(sum(1 for c in result.checks.values() if c.status in ("skip", "n/a"))),
                                  time=f"{result.seconds:.3f}")
            for check, outcome in result.checks.items():
                case = ET.SubElement(suite, "testcase", classname=name, name=check)
                ET.SubElement(case, "system-out").text = f"{outcome.passed} passed, {outcome.failed} failed"
                if outcome.failed:
                    failure = ET.SubElement(case, "failure", message=(outcome.first.message if outcome.first else "failed")[:500])
                    if outcome.first:
                        failure.text = "\n".join(filter(None, [outcome.first.detail, outcome.first.curl]))
                elif outcome.status in ("skip", "n/a"):
                    ET.SubElement(case, "skipped", message=outcome.skipped or "no case reached this check")
        suites.set("cases", str(totals["cases"]))
        return ET.tostring(suites, encoding="unicode")

    def write_junit(self, path: Path) -> None:
        Path(path).write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + self.junit() + "\n")

    def html(self) -> str:
        checks = self.check_names
        colors = {"pass": "#cfc", "fail": "#fbb", "skip": "#eee", "n/a": "#fff"}
        rows = []
        for name, result in self.operations.items():
            cells = []
            for check in checks:
                c = result.checks.get(check)
                if c is None:
                    cells.append("<td></td>")
                    continue
                title = html.escape(c.first.message if c.first else c.skipped or "", quote=True)
                text = f"{c.passed}✓" + (f" {c.failed}✗" if c.failed else "") if c.status != "skip" else "skip"
                cells.append(f'<td style="background:{colors[c.status]}" title="{title}">{text}</td>')
            rows.append(f"<tr><th>{html.escape(name)}</th><td>{result.cases}</td>{''.join(cells)}</tr>")
        details = []
        for name, result in self.operations.items():
            for check, c in result.checks.items():
                if c.first:
                    details.append(f"<h3>{html.escape(name)} — {html.escape(check)}</h3><p>{html.escape(c.first.message)}</p>"
                                   + (f"<pre>{html.escape(c.first.detail)}</pre>" if c.first.detail else "")
                                   + (f"<pre>{html.escape(c.first.curl)}</pre>" if c.first.curl else ""))
        totals = self.totals()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in checks)
        return (f"<!doctype html><meta charset=utf-8><title>Contract suite: {html.escape(self.target)}</title>"
                "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
                "table{border-collapse:collapse}pre{background:#f6f6f6;padding:6px;white-space:pre-wrap}</style>"
                f"<h1>Contract suite against {html.escape(self.target)}</h1>"
                f"<p>seed {self.seed}, {self.seconds:.1f} s: {totals['operations']} operations, {totals['scenarios']} scenarios, "
                f"{totals['cases']} cases, {totals['checks_passed']} checks passed, {totals['checks_failed']} failed</p>"
                f"<table><tr><th>operation</th><th>cases</th>{head}</tr>{''.join(rows)}</table>"
                f"<h2>First failures</h2>{''.join(details) or '<p>none</p>'}")

    def write_html(self, path: Path) -> None:
        Path(path).write_text(self.html())


def curl(method: str, url: str, headers: dict[str, str] | None = None, body: Any = None) -> str:
    """A curl command that sends the same request."""
    import shlex

    parts = ["curl", "-X", method, shlex.quote(url)]
    for key, value in (headers or {}).items():
        if key.lower() in ("content-length", "host", "accept-encoding", "connection", "user-agent", "accept"):
            continue
        parts += ["-H", shlex.quote(f"{key}: {value}")]
    if body is not None:
        text = body if isinstance(body, str) else body.decode("utf-8", "replace") if isinstance(body, bytes) else json.dumps(body)
        if len(text) > 4000:
            text = text[:4000] + "…"
        parts += ["-d", shlex.quote(text)]
    return " ".join(parts)
