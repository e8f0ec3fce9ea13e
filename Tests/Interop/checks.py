"""The report format of the interop scripts: one JSON line per check, {"check", "ok", "detail"}.

The Swift tests assert on these lines, so a check that cannot run reports ok=false rather than
disappearing.
"""

import json
import traceback


def report(check, ok, detail=""):
    print(json.dumps({"check": check, "ok": bool(ok), "detail": str(detail)}), flush=True)


def run(check, fn):
    """Runs fn() -> (ok, detail) and reports it; an exception is a failed check."""
    try:
        ok, detail = fn()
        report(check, ok, detail)
    except Exception as error:  # a failed check, not a crashed script
        report(check, False, "".join(traceback.format_exception_only(type(error), error)).strip())
