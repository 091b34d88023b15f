"""Lists of unit IDs given on the command line: ``a,b,c`` or ``@file`` (one ID per line).

IDs are validated before anything is sent: no empty IDs, no duplicates, no whitespace inside an
ID. Files may hold thousands of IDs; blank lines and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

from bulkops.run.job import JobConfigError
from bulkops.run.userfile import read_user_text

__all__ = ["parse_id_list"]


def _read_file(option: str, path: str) -> list[str]:
    if not path:
        raise JobConfigError(f"{option}: '@' needs a file name, e.g. {option} @ids.txt")
    text = read_user_text(
        path, f"{option} file", "UTF-8 text with one ID per line", error=JobConfigError
    )
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def parse_id_list(option: str, value: str | None) -> tuple[str, ...]:
    """The IDs of ``value`` (``a,b`` or ``@file``); ``option`` names the flag in errors."""
    if value is None:
        return ()
    if value.startswith("@"):
        ids = _read_file(option, value[1:])
        where = f"in {value[1:]!r}"
    else:
        ids = [part.strip() for part in value.split(",")]
        where = "on the command line"
    seen: set[str] = set()
    for position, unit_id in enumerate(ids, start=1):
        if not unit_id:
            raise JobConfigError(f"{option}: ID #{position} {where} is empty")
        if any(ch.isspace() for ch in unit_id):
            raise JobConfigError(f"{option}: ID {unit_id!r} {where} contains whitespace")
        if unit_id in seen:
            raise JobConfigError(f"{option}: ID {unit_id!r} is given twice {where}")
        seen.add(unit_id)
    if not ids:
        raise JobConfigError(f"{option}: no IDs {where}")
    return tuple(ids)
