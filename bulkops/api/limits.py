"""Mutation limits: the documented policy, and parsing `100/10s`-style settings.

The Console API allows, per project, about 100 mutations per 10 seconds AND 900 per 15 minutes.
A limit is a pair `(count, span_seconds)`; a policy is a tuple of them, all enforced at once:

    >>> parse_mutation_limits("100/10s,900/15m")
    ((100, 10.0), (900, 900.0))

Units: `ms`, `s`, `m` (minutes), `h`. The environment variable `BULKOPS_MUTATION_LIMITS` holds a
comma-separated list; unset or empty means `DEFAULT_MUTATION_LIMITS`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping

from bulkops.errors import MutationLimitError, shown

__all__ = [
    "DEFAULT_MUTATION_LIMITS",
    "MUTATION_LIMITS_ENV",
    "MutationLimit",
    "MutationLimitError",
    "format_mutation_limit",
    "limits_from_env",
    "normalize_limits",
    "parse_mutation_limit",
    "parse_mutation_limits",
]

MutationLimit = tuple[int, float]
"""`(count, span_seconds)`: at most `count` mutations in any `span_seconds`-long interval."""

DEFAULT_MUTATION_LIMITS: tuple[MutationLimit, ...] = ((100, 10.0), (900, 900.0))
"""The Console API's documented per-project policy: 100 per 10 s and 900 per 15 min."""

MUTATION_LIMITS_ENV = "BULKOPS_MUTATION_LIMITS"
MAX_COUNT = 1_000_000_000
MAX_SPAN = 7 * 86400.0
"""The largest count and span (seconds) a limit may have: past them it is a typo, not a pace."""
_TOO_MANY = f"the count must be at most {MAX_COUNT:,}"

_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?|\.\d+)?\s*([a-z]+)?\s*$", re.IGNORECASE)
_EXAMPLE = "write it as COUNT/SPAN with a unit, e.g. 100/10s, 900/15m, 5/500ms or 1000/1h"


def parse_mutation_limit(text: str) -> MutationLimit:
    """Parse one limit such as `"100/10s"` into `(100, 10.0)`.

    Raises `MutationLimitError` (a `ValueError`) saying what is wrong and how to write it.
    """
    if not isinstance(text, str):
        raise MutationLimitError(f"mutation limit must be text like '100/10s', got {text!r}")
    match = _LIMIT.match(text)
    if match is None:
        raise MutationLimitError(f"cannot read mutation limit {text!r}: {_EXAMPLE}")
    count_text, span_text, unit = match.groups()
    if unit is None:
        raise MutationLimitError(f"mutation limit {text!r} has no time unit: {_EXAMPLE}")
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise MutationLimitError(
            f"unknown time unit {unit!r} in mutation limit {text!r}: use ms, s, m or h"
        )
    if len(count_text.lstrip("0")) > len(str(MAX_COUNT)):  # before int(): 10**5 digits are slow
        raise MutationLimitError(f"mutation limit {shown(repr(text))}: {_TOO_MANY}")
    count = int(count_text)
    span = (float(span_text) if span_text is not None else 1.0) * factor
    return _checked(count, span, text)


def parse_mutation_limits(text: str) -> tuple[MutationLimit, ...]:
    """Parse a comma-separated list such as `"100/10s,900/15m"`; all of them apply at once."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise MutationLimitError(f"no mutation limit in {text!r}: {_EXAMPLE}")
    return tuple(parse_mutation_limit(part) for part in parts)


def limits_from_env(environ: Mapping[str, str] | None = None) -> tuple[MutationLimit, ...]:
    """Limits from `BULKOPS_MUTATION_LIMITS`, or `DEFAULT_MUTATION_LIMITS` when unset or empty."""
    env = os.environ if environ is None else environ
    text = env.get(MUTATION_LIMITS_ENV, "").strip()
    if not text:
        return DEFAULT_MUTATION_LIMITS
    try:
        return parse_mutation_limits(text)
    except MutationLimitError as exc:
        raise MutationLimitError(f"{MUTATION_LIMITS_ENV}: {exc}") from None


def normalize_limits(
    limits: Iterable[MutationLimit | tuple[int, int] | str],
) -> tuple[MutationLimit, ...]:
    """Check limits given in code (pairs or `"100/10s"` strings) and return them as pairs."""
    if isinstance(limits, str):
        return parse_mutation_limits(limits)
    result: list[MutationLimit] = []
    for item in limits:
        if isinstance(item, str):
            result.append(parse_mutation_limit(item))
            continue
        try:
            count, span = item
        except (TypeError, ValueError):
            raise MutationLimitError(
                f"mutation limit must be a (count, span_seconds) pair, got {item!r}"
            ) from None
        raw: object = count
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise MutationLimitError(f"mutation limit count must be an integer, got {item!r}")
        count = raw
        if isinstance(span, bool) or not isinstance(span, int | float):
            raise MutationLimitError(f"mutation limit span must be seconds, got {item!r}")
        result.append(_checked(count, float(span), repr(item)))
    if not result:
        raise MutationLimitError("at least one mutation limit is needed, e.g. 100/10s")
    return tuple(result)


def format_mutation_limit(limit: MutationLimit) -> str:
    """Write a limit back in the short form: `(900, 900.0)` -> `"900/15m"`."""
    count, span = limit
    for unit, factor in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        value = span / factor
        if value >= 1 and abs(value - round(value)) < 1e-9:
            return f"{count}/{round(value)}{unit}"
    millis = span * 1000
    if abs(millis - round(millis)) < 1e-6:
        return f"{count}/{round(millis)}ms"
    return f"{count}/{span:g}s"


def _checked(count: int, span: float, source: str) -> MutationLimit:
    source = shown(repr(source))
    if count < 1:
        raise MutationLimitError(f"mutation limit {source}: the count must be at least 1")
    if count > MAX_COUNT:
        raise MutationLimitError(f"mutation limit {source}: {_TOO_MANY}")
    if not (span > 0 and math.isfinite(span)):
        raise MutationLimitError(f"mutation limit {source}: the span must be a positive time")
    if span > MAX_SPAN:
        raise MutationLimitError(f"mutation limit {source}: the span must be at most a week")
    return (count, span)
