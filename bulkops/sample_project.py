"""A realistic sample project for the demo and for rehearsals: gates, segments, a layer,
experiments, dynamic configs and a holdout, as an emulator snapshot.

:func:`sample_project` builds it deterministically (same ``gates`` and ``seed``, same project):
about a quarter of the gates are ``STALE`` with the ``typeReason`` Statsig gives them (a few
tagged ``keep``, a few modified recently, one still targeted by an experiment, one still named in
another gate's rule), a tenth are ``PERMANENT`` kill switches, the rest ``TEMPORARY`` rollouts
of six teams. The holdout ``demo_holdout`` starts empty. Field names and enums follow
console-v1.json (``ExternalGateDto.type``/``typeReason``, experiment ``status``...).
"""

from __future__ import annotations

import random
import time
from typing import Any

from bulkops.emulator import SNAPSHOT_FORMAT
from bulkops.emulator.kinds import KINDS, new_entity

__all__ = [
    "BLOCKING_EXPERIMENT",
    "DEMO_HOLDOUT",
    "QA_USERS",
    "STALE_REASONS",
    "sample_project",
]

STALE_REASONS = (
    "STALE_PROBABLY_LAUNCHED",
    "STALE_PROBABLY_UNLAUNCHED",
    "STALE_PROBABLY_FORGOTTEN",
    "STALE_NO_RULES",
    "STALE_PROBABLY_DEAD_CHECK",
    "STALE_EMPTY_CHECKS",
    "STALE_ALL_TRUE",
    "STALE_ALL_FALSE",
)
"""The ``typeReason`` values of a stale gate (console-v1.json, ``ExternalGateDto``)."""

DEMO_HOLDOUT = "demo_holdout"
QA_USERS = ("qa-alice", "qa-bob")
"""User IDs the demo lets pass every temporary gate (none have overrides at first)."""
BLOCKING_EXPERIMENT = "checkout_redesign_v2"
"""The experiment whose targeting gate is a stale gate (so that gate cannot be archived)."""

_TEAMS = ("checkout", "search", "onboarding", "growth", "payments", "notifications")
_FEATURES = (
    "new_flow",
    "dark_launch",
    "v2_api",
    "express_path",
    "ml_ranking",
    "redesign",
    "promo_banner",
    "smart_defaults",
    "fast_lane",
    "retry_logic",
    "inline_help",
    "beta_access",
    "cache_warmup",
    "one_click",
    "tooltips",
    "batch_mode",
    "split_view",
    "auto_save",
    "quick_filters",
    "badges",
)
_DAY_MS = 86_400_000
_AUTHORS = (("u_ada", "Ada Park"), ("u_ben", "Ben Ortiz"), ("u_chen", "Chen Li"))


def _author(rng: random.Random, modified_ms: float) -> dict[str, Any]:
    user_id, name = rng.choice(_AUTHORS)
    return {
        "lastModifierID": user_id,
        "lastModifierName": name,
        "lastModifierEmail": f"{user_id[2:]}@example.com",
        "lastModifiedTime": modified_ms,
    }


def _entity(
    kind: str, body: dict[str, Any], rng: random.Random, now_ms: float, age_days: float
) -> dict[str, Any]:
    modified = now_ms - age_days * _DAY_MS
    entity = new_entity(KINDS[kind], body, body["id"], _author(rng, modified), modified)
    entity["createdTime"] = modified - rng.randint(5, 200) * _DAY_MS
    return entity


def _rule(rule_id: str, name: str, percent: int, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rule_id,
        "baseID": rule_id,
        "name": name,
        "passPercentage": percent,
        "conditions": list(conditions),
        "environments": None,
    }


def _gate_plan(count: int) -> list[dict[str, Any]]:
    """Type, typeReason, tags and age of each gate (before names are given)."""
    plans = []
    for i in range(count):
        team = _TEAMS[i % len(_TEAMS)]
        if i % 4 == 0:
            stale = i // 4
            plans.append(
                {
                    "type": "STALE",
                    "typeReason": STALE_REASONS[stale % len(STALE_REASONS)],
                    "tags": [team, "keep"] if stale % 7 == 3 else [team],
                    "age": 20 + stale % 3 if stale % 9 == 5 else 120 + (stale * 37) % 300,
                    "team": team,
                }
            )
        elif i % 10 == 1:
            plans.append(
                {
                    "type": "PERMANENT",
                    "typeReason": "NONE",
                    "tags": ["infra", team],
                    "age": 200 + i % 90,
                    "team": team,
                }
            )
        else:
            tags = [team, "qa"] if i % 3 == 0 else [team]
            plans.append(
                {
                    "type": "TEMPORARY",
                    "typeReason": "NONE",
                    "tags": tags,
                    "age": 1 + i % 60,
                    "team": team,
                }
            )
    return plans


def _gates(count: int, rng: random.Random, now_ms: float) -> list[dict[str, Any]]:
    gates = []
    used: set[str] = set()
    for n, plan in enumerate(_gate_plan(count)):
        feature = _FEATURES[(n * 7) % len(_FEATURES)]
        prefix = "kill_switch_" if plan["type"] == "PERMANENT" else ""
        gate_id = f"{prefix}{plan['team']}_{feature}"
        if gate_id in used:
            gate_id = f"{gate_id}_{n}"
        used.add(gate_id)
        rules = [
            _rule(
                f"r{n}a",
                "Employees",
                100,
                {"type": "passes_segment", "targetValue": ["internal_employees"]},
            ),
            _rule(
                f"r{n}b",
                "Rollout",
                rng.choice((5, 10, 25, 50, 100)),
                {"type": "public", "targetValue": None},
            ),
        ]
        if plan["typeReason"] == "STALE_NO_RULES":
            rules = []
        body = {
            "id": gate_id,
            "name": gate_id,
            "description": f"{plan['team']}: {feature.replace('_', ' ')}",
            "type": plan["type"],
            "typeReason": plan["typeReason"],
            "tags": plan["tags"],
            "rules": rules,
            "checksPerHour": 0 if plan["type"] == "STALE" else rng.randint(10, 90_000),
        }
        if plan["typeReason"] == "STALE_PROBABLY_LAUNCHED":
            body["status"] = "Launched"
        gates.append(_entity("gates", body, rng, now_ms, plan["age"]))
    _reference_a_stale_gate_from_a_rule(gates, now_ms)
    return gates


def _old_stale(gates: list[dict[str, Any]], now_ms: float) -> list[dict[str, Any]]:
    """Stale gates a 90-day cleanup would select."""
    return [
        g
        for g in gates
        if g["type"] == "STALE"
        and "keep" not in g["tags"]
        and g["lastModifiedTime"] < now_ms - 90 * _DAY_MS
    ]


def _reference_a_stale_gate_from_a_rule(gates: list[dict[str, Any]], now_ms: float) -> None:
    """A live gate whose rule still requires a stale one: that stale gate is blocked."""
    stale, live = _old_stale(gates, now_ms), [g for g in gates if g["type"] == "TEMPORARY"]
    if len(stale) > 2 and live:
        live[0]["rules"].append(
            _rule(
                "r_dep",
                "Needs legacy flow",
                100,
                {"type": "passes_gate", "targetValue": stale[-1]["id"]},
            )
        )


def _segments(rng: random.Random, now_ms: float) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = [
        {
            "id": "internal_employees",
            "type": "id_list",
            "count": 42,
            "description": "Everyone at the company",
        },
        {
            "id": "beta_testers",
            "type": "rule_based",
            "description": "Opted into betas",
            "rules": [
                _rule(
                    "s1",
                    "Beta email",
                    100,
                    {"type": "email", "operator": "str_contains_any", "targetValue": ["+beta@"]},
                )
            ],
        },
        {
            "id": "eu_users",
            "type": "rule_based",
            "description": "Users in the EU",
            "rules": [
                _rule(
                    "s2",
                    "EU",
                    100,
                    {
                        "type": "country",
                        "operator": "any",
                        "targetValue": ["DE", "FR", "ES", "IT", "NL"],
                    },
                )
            ],
        },
    ]
    return [_entity("segments", {**b, "name": b["id"]}, rng, now_ms, 30) for b in bodies]


def _experiments(
    gates: list[dict[str, Any]], rng: random.Random, now_ms: float
) -> list[dict[str, Any]]:
    stale = _old_stale(gates, now_ms)
    temporary = [g for g in gates if g["type"] == "TEMPORARY"]
    groups = [
        {"name": "Control", "size": 50, "parameterValues": {"enabled": False}},
        {"name": "Test", "size": 50, "parameterValues": {"enabled": True}},
    ]
    bodies: list[dict[str, Any]] = [
        {
            "id": BLOCKING_EXPERIMENT,
            "status": "active",
            "layerID": "checkout_layer",
            "targetingGateID": stale[0]["id"] if stale else None,
            "hypothesis": "A one-page checkout converts better",
        },
        {
            "id": "search_ranking_ml",
            "status": "active",
            "targetingGateID": temporary[0]["id"] if temporary else None,
            "hypothesis": "Learned ranking raises clicks",
        },
        {"id": "onboarding_tour_copy", "status": "setup", "hypothesis": "Shorter copy"},
        {"id": "growth_referral_bonus", "status": "decision_made", "hypothesis": "A bonus helps"},
    ]
    return [
        _entity("experiments", {**b, "name": b["id"], "groups": groups}, rng, now_ms, 10)
        for b in bodies
    ]


def _configs(gates: list[dict[str, Any]], rng: random.Random, now_ms: float) -> list[dict]:
    live = [g for g in gates if g["type"] == "PERMANENT"] or gates
    bodies: list[dict[str, Any]] = [
        {
            "id": "checkout_settings",
            "defaultValue": {"max_items": 50},
            "rules": [
                _rule(
                    "c1",
                    "Kill switch on",
                    100,
                    {"type": "fails_gate", "targetValue": live[0]["id"]},
                )
            ]
            if live
            else [],
        },
        {"id": "search_tuning", "defaultValue": {"boost": 1.5}},
    ]
    return [_entity("dynamic_configs", {**b, "name": b["id"]}, rng, now_ms, 15) for b in bodies]


def sample_project(
    gates: int = 150, *, seed: int = 7, now: float | None = None, project: str = "default"
) -> dict[str, Any]:
    """A single-project emulator snapshot of a realistic project with ``gates`` gates."""
    if gates < 1:
        raise ValueError(f"a sample project needs at least 1 gate, got {gates}")
    rng = random.Random(seed)
    now_ms = (now if now is not None else time.time()) * 1000
    gate_list = _gates(gates, rng, now_ms)
    layer = _entity(
        "layers",
        {
            "id": "checkout_layer",
            "name": "checkout_layer",
            "description": "Checkout tests",
            "parameters": [{"name": "enabled", "type": "boolean", "defaultValue": False}],
        },
        rng,
        now_ms,
        40,
    )
    holdout = _entity(
        "holdouts",
        {
            "id": DEMO_HOLDOUT,
            "name": DEMO_HOLDOUT,
            "passPercentage": 5,
            "description": "Q3 holdout: 5% of users see no new rollouts",
        },
        rng,
        now_ms,
        3,
    )
    return {
        "format": SNAPSHOT_FORMAT,
        "project": project,
        "entities": {
            "gates": gate_list,
            "segments": _segments(rng, now_ms),
            "layers": [layer],
            "experiments": _experiments(gate_list, rng, now_ms),
            "dynamic_configs": _configs(gate_list, rng, now_ms),
            "holdouts": [holdout],
        },
    }
