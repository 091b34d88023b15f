"""Request validation as the service does it (NestJS class-validator style messages).

Bodies are checked against :mod:`.fields`: unknown and read-only properties ("property X should
not exist"), missing required ones, JSON types, enums, numeric ranges (holdout passPercentage
0..10, rule passPercentage 0..100) and string lengths. References are checked against the
project: gates, segments, layers and experiments named by a body must exist there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .fields import RULE, BodySpec, Field
from .replies import ApiProblem

__all__ = ["CONDITION_TYPES", "Exists", "check_body", "check_references", "check_rules"]

CONDITION_TYPES = frozenset(
    [
        "app_version",
        "browser_name",
        "browser_version",
        "country",
        "custom_field",
        "email",
        "environment_tier",
        "fails_gate",
        "fails_segment",
        "ip_address",
        "locale",
        "os_name",
        "os_version",
        "passes_gate",
        "passes_segment",
        "public",
        "time",
        "unit_id",
        "user_id",
        "url",
        "javascript",
        "device_model",
        "target_app",
        # added by the live spec after the 2025-10-20 snapshot (its 2026-03 drift)
        "user_agent",
        "experiment_group",
    ]
)
_CONDITION_REFERENCES = {
    "passes_gate": "gates",
    "fails_gate": "gates",
    "passes_segment": "segments",
    "fails_segment": "segments",
}

Exists = Callable[[str, str], bool]
"""``exists(kind, id)``: whether the project holds that entity."""

_TYPE_WORDS = {
    "string": "a string",
    "number": "a number conforming to the specified constraints",
    "integer": "an integer number",
    "boolean": "a boolean value",
    "array": "an array",
    "object": "an object",
}


def _is_type(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if json_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if json_type == "array":
        return isinstance(value, list)
    if json_type == "object":
        return isinstance(value, dict)
    return True


def field_errors(name: str, value: Any, spec: Field) -> list[str]:
    """What is wrong with one value, in the service's words (empty when valid)."""
    if value is None:
        return [] if spec.nullable else [f"{name} should not be null"]
    types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    if not any(_is_type(value, t) for t in types):
        return [f"{name} must be {_TYPE_WORDS.get(types[0], types[0])}"]
    errors = []
    if spec.enum is not None and value not in spec.enum:
        errors.append(
            f"{name} must be one of the following values: " + ", ".join(str(v) for v in spec.enum)
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum:
            errors.append(f"{name} must not be less than {spec.minimum}")
        if spec.maximum is not None and value > spec.maximum:
            errors.append(f"{name} must not be greater than {spec.maximum}")
    if isinstance(value, str):
        if spec.min_length is not None and len(value) < spec.min_length:
            errors.append(f"{name} must be longer than or equal to {spec.min_length} characters")
        if spec.max_length is not None and len(value) > spec.max_length:
            errors.append(f"{name} must be shorter than or equal to {spec.max_length} characters")
    return errors


def _object_errors(
    body: Any, spec: BodySpec, allowed: Iterable[str], required: Iterable[str], prefix: str = ""
) -> list[str]:
    if not isinstance(body, dict):
        return [f"{prefix or 'body'} must be an object"]
    allowed = set(allowed)
    errors = [f"property {prefix}{key} should not exist" for key in body if key not in allowed]
    errors += [f"{prefix}{key} should not be empty" for key in required if key not in body]
    for key, value in body.items():
        if key in allowed and key in spec.fields:
            errors += field_errors(prefix + key, value, spec.fields[key])
    return errors


def check_body(body: Any, spec: BodySpec, operation: str) -> None:
    """Raise a 400 unless ``body`` fits ``operation`` (``create``, ``full`` or ``partial``)."""
    if operation == "create":
        allowed, required = spec.create, spec.create_required
    else:
        allowed = spec.update
        required = spec.full_update_required if operation == "full" else ()
    errors = _object_errors(body, spec, allowed, required)
    if not errors and isinstance(body, dict) and "rules" in body:
        check_rules(body["rules"], partial=False)
    if errors:
        raise ApiProblem(400, "; ".join(errors))


def check_rules(rules: Any, *, partial: bool, prefix: str = "rules") -> None:
    """Raise a 400 unless every rule has a name, a passPercentage in 0..100 and conditions."""
    if not isinstance(rules, list):
        raise ApiProblem(400, f"{prefix} must be an array")
    errors: list[str] = []
    for index, rule in enumerate(rules):
        errors += rule_errors(rule, partial=partial, prefix=f"{prefix}.{index}.")
    if errors:
        raise ApiProblem(400, "; ".join(errors))


def rule_errors(rule: Any, *, partial: bool, prefix: str = "") -> list[str]:
    """What is wrong with one rule (nested unknown keys are tolerated, as for variants)."""
    if not isinstance(rule, dict):
        return [f"{prefix or 'rule'} must be an object"]
    required = () if partial else RULE.create_required
    errors = [f"{prefix}{key} should not be empty" for key in required if key not in rule]
    for key, value in rule.items():
        if key in RULE.fields:
            errors += field_errors(prefix + key, value, RULE.fields[key])
    for index, condition in enumerate(rule.get("conditions") or []):
        where = f"{prefix}conditions.{index}."
        if not isinstance(condition, dict) or "type" not in condition:
            errors.append(f"{where}type should not be empty")
        elif condition["type"] not in CONDITION_TYPES:
            errors.append(
                f"{where}type must be one of the following values: "
                + ", ".join(sorted(CONDITION_TYPES))
            )
    return errors


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def check_references(
    body: Mapping[str, Any], references: Mapping[str, str], exists: Exists
) -> None:
    """Raise a 400 if ``body`` names a gate/segment/layer/experiment the project lacks.

    Covers the kind's reference fields and the rule conditions
    ``passes_gate``/``fails_gate``/``passes_segment``/``fails_segment``.
    """
    missing: list[str] = []
    for field_name, kind in references.items():
        missing += [
            f"{field_name}: {kind[:-1]} {name} does not exist"
            for name in _names(body.get(field_name))
            if not exists(kind, name)
        ]
    rules = body.get("rules")
    for rule in rules if isinstance(rules, list) else []:
        missing += condition_reference_errors(rule, exists)
    if missing:
        raise ApiProblem(400, "Invalid reference: " + "; ".join(missing))


def condition_reference_errors(rule: Any, exists: Exists) -> list[str]:
    """Names of gates/segments in one rule's conditions that the project lacks."""
    errors = []
    for condition in rule.get("conditions") or [] if isinstance(rule, dict) else []:
        kind = (
            _CONDITION_REFERENCES.get(str(condition.get("type")))
            if isinstance(condition, dict)
            else None
        )
        if kind is not None:
            errors += [
                f"{condition['type']}: {kind[:-1]} {name} does not exist"
                for name in _names(condition.get("targetValue"))
                if not exists(kind, name)
            ]
    return errors
