"""A realistic project to rehearse migrations on: every kind, every reference, overrides.

:func:`migration_sample` builds it deterministically (same arguments, same snapshot) as a
single-project ``bulkops-snapshot/1`` document that ``bulkops emulator --seed`` and
``RunningEmulator.load`` take. At ``scale=1`` it holds about 240 entities:

- segments: rule-based ones naming other segments (``passes_segment``/``fails_segment``), two
  that name each other (a reference cycle), ``id_list`` and ``user_store_id_list`` segments
  with their IDs (one holds more IDs than a single ``add_ids`` call takes);
- gates: rules naming segments and earlier gates (``passes_gate``/``fails_gate``), two gates
  that name each other, ``STALE`` and disabled ones, override documents on some;
- dynamic configs whose rules name gates and segments; layers with parameters;
- experiments in every status, with targeting gates, layers and override documents that force
  gates and segments into groups, some with fields only the live API has; holdouts naming
  gates, experiments, layers and a targeting gate, some with overrides;
- a name shared by three kinds (a gate, a dynamic config and an experiment named ``checkout``).

:func:`half_populated` turns a copy of it into a target project that already holds about half
of those entities (as an earlier migration left them) and one of them changed by hand.
``python -m bulkops.migrate.sample [--scale N] > sample.json`` writes it for
``bulkops emulator --seed sample.json``.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from bulkops.emulator import SNAPSHOT_FORMAT
from bulkops.emulator.kinds import KINDS, new_entity

__all__ = ["COLLIDING_NAME", "half_populated", "migration_sample"]

COLLIDING_NAME = "checkout"
"""The name of a gate, a dynamic config and an experiment of the sample."""

_NOW_MS = 1_750_000_000_000.0
_AUTHOR = {
    "lastModifierID": "u_ada",
    "lastModifierName": "Ada Park",
    "lastModifierEmail": "ada@example.com",
    "lastModifiedTime": _NOW_MS,
}
_COUNTRIES = ("DE", "FR", "US", "JP", "BR", "IN")
_TEAMS = ("checkout", "search", "growth", "payments")


def _entity(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    entity = new_entity(KINDS[kind], body, body["id"], _AUTHOR, _NOW_MS)
    entity["creatorID"] = "u_ada"
    return entity


def _rule(name: str, percent: float, *conditions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    rule_id = f"r_{name.replace(' ', '_')}"
    return {
        "id": rule_id,
        "baseID": rule_id,
        "name": name,
        "passPercentage": percent,
        "conditions": list(conditions),
        "environments": None,
        **extra,
    }


def _names(kind: str, target: list[str] | str) -> dict[str, Any]:
    return {"type": kind, "targetValue": target}


def _segments(n: int, rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    segments: list[dict[str, Any]] = []
    id_lists: dict[str, list[str]] = {}
    for i in range(n):
        rules = [
            _rule(
                f"seg{i} country",
                100,
                {"type": "country", "operator": "any", "targetValue": [_COUNTRIES[i % 6]]},
            )
        ]
        if i >= 2 and i % 3 == 0:
            rules.append(_rule(f"seg{i} needs", 100, _names("passes_segment", [f"seg_{i - 2}"])))
        if i >= 4 and i % 5 == 0:
            rules.append(_rule(f"seg{i} not", 100, _names("fails_segment", [f"seg_{i - 4}"])))
        segments.append({"id": f"seg_{i}", "type": "rule_based", "rules": rules})
    for one, other, condition in (("a", "b", "passes_segment"), ("b", "a", "fails_segment")):
        rules = [_rule(one, 100, _names(condition, [f"seg_loop_{other}"]))]
        segments.append({"id": f"seg_loop_{one}", "type": "rule_based", "rules": rules})
    for i in range(max(2, n // 4)):
        ids = [f"user-{i}-{k:05}" for k in range(40 + 37 * i)]
        segments.append({"id": f"list_{i}", "type": "id_list", "rules": [], "count": len(ids)})
        id_lists[f"list_{i}"] = ids
    for i, size in enumerate((1_200, 300)):
        ids = [f"store-{i}-{k:05}" for k in range(size)]
        segments.append(
            {"id": f"store_{i}", "type": "user_store_id_list", "rules": [], "count": size}
        )
        id_lists[f"store_{i}"] = ids
    rng.shuffle(segments)  # the listing order is not the dependency order
    entities = [
        _entity("segments", {**s, "name": s["id"], "description": f"segment {s['id']}"})
        for s in segments
    ]
    return entities, id_lists


def _gate_rules(i: int, segments: list[str], gates: list[str]) -> list[dict[str, Any]]:
    rules = [_rule(f"g{i} segment", 100, _names("passes_segment", [segments[i % len(segments)]]))]
    if gates and i % 2 == 0:
        rules.append(
            _rule(f"g{i} gate", 50, _names("passes_gate", gates[-1 - i % min(5, len(gates))]))
        )
    if gates and i % 7 == 0:
        rules.append(_rule(f"g{i} not gate", 100, _names("fails_gate", [gates[i % len(gates)]])))
    if i % 11 == 0:
        rules.append(_rule(f"g{i} not segment", 100, _names("fails_segment", [segments[-1]])))
    rules.append(_rule(f"g{i} rollout", (i * 7) % 101, {"type": "public", "targetValue": None}))
    return rules


def _gates(n: int, segment_ids: list[str]) -> list[dict[str, Any]]:
    gates: list[dict[str, Any]] = []
    ids: list[str] = []
    for i in range(n):
        gate_id = COLLIDING_NAME if i == 3 else f"{_TEAMS[i % 4]}_gate_{i}"
        body: dict[str, Any] = {
            "id": gate_id,
            "description": f"gate {i} of {_TEAMS[i % 4]}",
            "rules": _gate_rules(i, segment_ids, ids),
            "tags": [_TEAMS[i % 4]],
            "isEnabled": i % 9 != 4,
            "type": "PERMANENT" if i % 10 == 1 else "TEMPORARY",
        }
        if i % 8 == 5:
            body.update(type="STALE", typeReason="STALE_PROBABLY_FORGOTTEN")
        gates.append(body)
        ids.append(gate_id)
    # a cycle; one condition names a list, the other a single ID, as rules may
    for one, other, named in (("a", "b", ["gate_loop_b"]), ("b", "a", "gate_loop_a")):
        condition = _names("passes_gate" if one == "a" else "fails_gate", named)
        rules = [_rule(f"l{one}", 100, condition)]
        body = {"id": f"gate_loop_{one}", "description": f"names gate_loop_{other}"}
        gates.append({**body, "rules": rules})
    return [_entity("gates", {**g, "name": g["id"]}) for g in gates]


def _configs(n: int, gate_ids: list[str], segment_ids: list[str]) -> list[dict[str, Any]]:
    configs = []
    for i in range(n):
        config_id = COLLIDING_NAME if i == 0 else f"config_{i}"
        value = {"limit": i, "mode": _TEAMS[i % 4]}
        rules = [
            _rule(
                f"c{i} gate",
                100,
                _names("passes_gate", [gate_ids[(i * 3) % len(gate_ids)]]),
                returnValue={**value, "limit": i + 1},
            ),
            _rule(
                f"c{i} segment",
                100,
                _names("passes_segment", [segment_ids[i % len(segment_ids)]]),
                returnValue=value,
            ),
        ]
        configs.append(
            _entity(
                "dynamic_configs",
                {
                    "id": config_id,
                    "name": config_id,
                    "description": f"config {i}",
                    "defaultValue": value,
                    "rules": rules,
                    "isEnabled": i % 6 != 2,
                    "tags": [_TEAMS[i % 4]],
                },
            )
        )
    return configs


def _layers(n: int) -> list[dict[str, Any]]:
    return [
        _entity(
            "layers",
            {
                "id": f"layer_{i}",
                "name": f"layer_{i}",
                "description": f"layer {i}",
                "parameters": [
                    {"name": "enabled", "type": "boolean", "defaultValue": False},
                    {"name": "variant", "type": "string", "defaultValue": "a"},
                ],
            },
        )
        for i in range(n)
    ]


_STATUSES = ("active", "setup", "decision_made", "abandoned", "active")


def _experiments(n: int, gate_ids: list[str], layer_ids: list[str]) -> list[dict[str, Any]]:
    experiments = []
    for i in range(n):
        exp_id = COLLIDING_NAME if i == 0 else f"experiment_{i}"
        in_layer = i % 3 == 0
        groups = [
            {"name": "Control", "size": 50, "parameterValues": {"enabled": False, "variant": "a"}},
            {"name": "Test", "size": 50, "parameterValues": {"enabled": True, "variant": "b"}},
        ]
        body: dict[str, Any] = {
            "id": exp_id,
            "name": exp_id,
            "description": f"experiment {i}",
            "hypothesis": f"change {i} helps",
            "status": _STATUSES[i % len(_STATUSES)],
            "groups": groups,
            "allocation": 100 if in_layer else 50 + i % 50,
            "targetingGateID": gate_ids[(i * 5) % len(gate_ids)] if i % 4 else None,
            "layerID": layer_ids[i % len(layer_ids)] if in_layer else None,
            "tags": [_TEAMS[i % 4]],
        }
        if i % 5 == 1:  # fields of the live API that the 2025-10 spec snapshot lacks
            body.update(enabledNonProdEnvironments=["staging"], turboMode=True, userBuckets=[i])
        experiments.append(_entity("experiments", body))
    return experiments


def _holdouts(
    n: int, gates: list[str], experiments: list[str], layers: list[str]
) -> list[dict[str, Any]]:
    return [
        _entity(
            "holdouts",
            {
                "id": f"holdout_{i}",
                "name": f"holdout_{i}",
                "description": f"holdout {i}",
                "passPercentage": 1 + i % 10,
                "gateIDs": gates[i::17][:4],
                "experimentIDs": experiments[i + 1 :: 11][:3],
                "layerIDs": layers[i % len(layers) :][:1],
                "targetingGateID": gates[-1 - i] if i % 2 else None,
                "isEnabled": i != 2,
            },
        )
        for i in range(n)
    ]


def _gate_overrides(i: int) -> dict[str, Any]:
    env = (
        [
            {
                "environment": "staging",
                "unitID": "userID",
                "passingIDs": [f"qa-{i}"],
                "failingIDs": [],
            }
        ]
        if i % 2
        else []
    )
    return {
        "passingUserIDs": [f"vip-{i}-{k}" for k in range(1 + i % 4)],
        "failingUserIDs": [f"banned-{i}"],
        "passingCustomIDs": [],
        "failingCustomIDs": [],
        "environmentOverrides": env,
    }


def _experiment_overrides(i: int, gate_ids: list[str], segment_ids: list[str]) -> dict[str, Any]:
    return {
        "overrides": [
            {"type": "gate", "id": gate_ids[(i * 13) % len(gate_ids)], "groupID": "Test"},
            {"type": "segment", "id": segment_ids[i % len(segment_ids)], "groupID": "Control"},
        ],
        "userIDOverrides": [{"groupID": "Test", "ids": [f"tester-{i}-{k}" for k in range(3)]}],
    }


def _link_holdouts(holdouts: list[dict[str, Any]], named: dict[str, list[dict[str, Any]]]) -> None:
    """``holdoutIDs``: the holdouts naming each gate, experiment and layer (as the API says)."""
    fields = {"gates": "gateIDs", "experiments": "experimentIDs", "layers": "layerIDs"}
    for kind, rows in named.items():
        for row in rows:
            row["holdoutIDs"] = [h["id"] for h in holdouts if row["id"] in h[fields[kind]]]


def migration_sample(scale: int = 1, *, seed: int = 11, project: str = "default") -> dict[str, Any]:
    """The sample project (see the module docstring) at ``scale`` times its size."""
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    rng = random.Random(seed)
    segments, id_lists = _segments(20 * scale, rng)
    segment_ids = sorted(s["id"] for s in segments)
    gates = _gates(120 * scale, segment_ids)
    gate_ids = [g["id"] for g in gates]
    configs = _configs(30 * scale, gate_ids, segment_ids)
    layers = _layers(6 * scale)
    layer_ids = [layer["id"] for layer in layers]
    experiments = _experiments(50 * scale, gate_ids, layer_ids)
    experiment_ids = [e["id"] for e in experiments]
    holdouts = _holdouts(5 * scale, gate_ids, experiment_ids, layer_ids)
    _link_holdouts(holdouts, {"gates": gates, "experiments": experiments, "layers": layers})
    overrides = {
        "gates": {g: _gate_overrides(i) for i, g in enumerate(gate_ids) if i % 6 == 0},
        "experiments": {
            e: _experiment_overrides(i, gate_ids, segment_ids)
            for i, e in enumerate(experiment_ids)
            if i % 5 == 1
        },
        "holdouts": {h["id"]: _gate_overrides(i) for i, h in enumerate(holdouts) if i % 2 == 0},
    }
    tags = [
        {"id": team, "name": team, "description": f"team {team}", "isCore": False}
        for team in _TEAMS
    ]
    return {
        "format": SNAPSHOT_FORMAT,
        "project": project,
        "entities": {
            "segments": segments,
            "gates": gates,
            "dynamic_configs": configs,
            "layers": layers,
            "experiments": experiments,
            "holdouts": holdouts,
        },
        "overrides": overrides,
        "id_lists": id_lists,
        "catalog": {"tags": tags},
    }


def half_populated(sample: dict[str, Any], *, project: str = "target") -> dict[str, Any]:
    """A target holding about half of ``sample`` as an earlier migration would have left it:
    every other entity and everything those name (with their overrides and IDs), and the gate
    named :data:`COLLIDING_NAME` changed by hand (its description)."""
    from bulkops.migrate.graph import references

    target = copy.deepcopy(sample)
    target["project"] = project
    entities, overrides = target["entities"], target["overrides"]
    by_ref = {(kind, row["id"]): row for kind, rows in entities.items() for row in rows}
    wanted = [
        (kind, row["id"])
        for kind, rows in entities.items()
        for i, row in enumerate(rows)
        if i % 2 == 0 or row["id"] == COLLIDING_NAME
    ]
    kept: set[tuple[str, str]] = set()
    while wanted:
        ref = wanted.pop()
        if ref in kept or ref not in by_ref:
            continue
        kept.add(ref)
        wanted += references(ref[0], by_ref[ref], overrides.get(ref[0], {}).get(ref[1]))
    for kind, rows in entities.items():
        rows[:] = [row for row in rows if (kind, row["id"]) in kept]
    for kind, docs in overrides.items():
        overrides[kind] = {k: v for k, v in docs.items() if (kind, k) in kept}
    target["id_lists"] = {k: v for k, v in target["id_lists"].items() if ("segments", k) in kept}
    for gate in entities["gates"]:
        if gate["id"] == COLLIDING_NAME:
            gate["description"] = "changed in the target by hand"
    _link_holdouts(
        entities["holdouts"], {k: entities[k] for k in ("gates", "experiments", "layers")}
    )
    return target


def main(argv: list[str] | None = None) -> None:
    """``python -m bulkops.migrate.sample [--scale N] > sample.json``: the sample as a file."""
    import argparse
    import sys

    import orjson

    parser = argparse.ArgumentParser(
        prog="python -m bulkops.migrate.sample", description=main.__doc__
    )
    parser.add_argument("--scale", type=int, default=1, help="times the size (about 240 entities)")
    args = parser.parse_args(argv)
    sys.stdout.buffer.write(orjson.dumps(migration_sample(args.scale)) + b"\n")


if __name__ == "__main__":
    main()
