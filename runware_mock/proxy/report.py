"""The drift report: each drift once, with how many exchanges showed it and the first example;
false refusals first. Kept as JSON lines (one per drift, rewritten as it changes), served at
``/__admin/drift``, shown on the dashboard's drift page, and printed as a table at exit."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runware_mock.protocol import jsoncodec
from runware_mock.proxy.drift import Drift

log = logging.getLogger("runware_mock.proxy")


@dataclass
class Entry:
    drift: Drift
    count: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.drift.kind, "key": self.drift.key, "count": self.count,
                "detail": self.drift.detail, "example": self.drift.example}


class DriftReport:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, Entry] = {}
        self.relayed = 0  # answers the client was given; each is checked or counted unchecked
        self.exchanges = 0
        self.unchecked = 0  # answers that were not JSON, or arrived after the checks stopped
        self.not_recorded = 0
        self._dirty = True  # an empty file says no drift was seen
        self._unwritable = False

    def add(self, drifts: list[Drift]) -> None:
        """One exchange's drifts (each key once)."""
        self.exchanges += 1
        for drift in {drift.key: drift for drift in drifts}.values():
            entry = self._entries.get(drift.key)
            if entry is None:
                self._entries[drift.key] = Entry(drift)
            else:
                entry.count += 1
            self._dirty = True

    def entries(self) -> list[Entry]:
        return sorted(self._entries.values(), key=lambda e: (e.drift.rank, -e.count, e.drift.key))

    def to_json(self) -> dict[str, Any]:
        return {"relayed": self.relayed, "exchanges": self.exchanges,
                "unchecked": self.unchecked,
                "notRecorded": self.not_recorded,
                "drifts": [entry.to_json() for entry in self.entries()]}

    @property
    def changed(self) -> bool:
        """Whether the file is behind the report."""
        return self._dirty and self.path is not None

    def save(self) -> None:
        """Rewrite the JSON lines file (atomically) when anything changed since the last save."""
        if self.path is None or not self._dirty:
            return
        self._dirty = False
        lines = b"".join(jsoncodec.dumps(entry.to_json()) + b"\n" for entry in self.entries())
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".drift-")
            with os.fdopen(handle, "wb") as out:
                out.write(lines)
            os.replace(temporary, self.path)
        except OSError as exc:
            # The checks go on (the report is still served and printed at exit).
            if not self._unwritable:
                log.warning("cannot write the drift report to %s: %s", self.path, exc)
            self._unwritable = True

    def table(self) -> str:
        """The summary printed at exit."""
        head = (f"drift report: {self.exchanges} exchanges checked, {len(self._entries)} "
                f"kinds of drift" + (f", {self.unchecked} not checked" if self.unchecked else "")
                + (f", {self.not_recorded} not recorded (cassette full)"
                   if self.not_recorded else ""))
        if not self._entries:
            return head
        rows = [(entry.drift.kind, str(entry.count), entry.drift.key) for entry in self.entries()]
        widths = [max(len(row[i]) for row in [("kind", "count", "drift"), *rows])
                  for i in range(2)]
        lines = [head, f"{'kind':<{widths[0]}}  {'count':>{widths[1]}}  drift"]
        lines += [f"{kind:<{widths[0]}}  {count:>{widths[1]}}  {key}" for kind, count, key in rows]
        if self.path is not None:
            lines.append(f"details and one example of each: {self.path}")
        return "\n".join(lines)
