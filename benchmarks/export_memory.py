"""Peak RSS of ``bulkops export`` for a project of many gates, against a naive export.

    python benchmarks/export_memory.py [--sizes 5000,20000]

For each size, an emulator (in its own process) is seeded with that many gates (three rules
each, overrides on one in ten), then two exports of the whole project run side by side, each
in a fresh process whose peak RSS (``ru_maxrss`` from ``wait4``) is its own:

- ``bulkops export``: the real command (streamed to disk, bounded reads);
- ``in memory``: the naive way, every list and override document gathered into one dict,
  then written with one ``orjson.dumps`` (what "never build the whole document" avoids).

Target: ``bulkops export`` of 20,000 gates in <= 150 MB peak RSS.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bulkops.emulator import EmulatorConfig, start_emulator_process

TARGET_MB = 150.0
_NAIVE = """
import sys, anyio, orjson
from bulkops.api import ConsoleClient

async def main(out):
    doc = {"format": "bulkops-snapshot/1", "entities": {}, "overrides": {}}
    async with ConsoleClient() as client:
        for kind in ("segments", "gates", "dynamic_configs", "layers", "experiments", "holdouts"):
            doc["entities"][kind] = [e async for e in client.paginate(kind)]
        gates = doc["entities"]["gates"]
        doc["overrides"]["gates"] = {
            g["id"]: await client.request("GET", f"/gates/{g['id']}/overrides") for g in gates
        }
    with open(out, "wb") as f:
        f.write(orjson.dumps(doc))

anyio.run(main, sys.argv[1])
"""


def project(gates: int) -> dict[str, Any]:
    """A snapshot of ``gates`` gates with realistic rules and some overrides."""
    rows, overrides = [], {}
    for i in range(gates):
        gate_id = f"team{i % 40}_feature_{i}"
        rules = [
            {
                "id": f"r{i}{k}",
                "baseID": f"r{i}{k}",
                "name": f"rule {k} of {gate_id}",
                "passPercentage": (i * 7 + k) % 101,
                "conditions": [
                    {"type": "country", "operator": "any", "targetValue": ["DE", "FR", "US"]},
                    {"type": "email", "operator": "str_contains_any", "targetValue": ["@x.io"]},
                ],
                "environments": None,
            }
            for k in range(3)
        ]
        rows.append(
            {
                "id": gate_id,
                "name": gate_id,
                "description": f"gate {i}: rolls out feature {i} to team {i % 40}",
                "idType": "userID",
                "isEnabled": True,
                "type": "TEMPORARY",
                "rules": rules,
                "tags": [f"team{i % 40}"],
            }
        )
        if i % 10 == 0:
            overrides[gate_id] = {
                "passingUserIDs": [f"user-{i}-{k}" for k in range(20)],
                "failingUserIDs": [],
                "passingCustomIDs": [],
                "failingCustomIDs": [],
                "environmentOverrides": [],
            }
    return {
        "format": "bulkops-snapshot/1",
        "entities": {"gates": rows},
        "overrides": {"gates": overrides},
    }


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one child process.

    The parent must stay small: a child's ``ru_maxrss`` starts at its parent's RSS (it is
    forked before it execs), which is why the seed files are written by a child as well.
    """
    start = time.monotonic()
    child = subprocess.Popen(
        argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - start
    if child.returncode != 0:
        raise SystemExit(f"{argv[2:4]} failed ({child.returncode}): {child.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000", help="gate counts, comma-separated")
    parser.add_argument("--write-seed", nargs=2, metavar=("GATES", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_seed:
        import orjson

        Path(args.write_seed[1]).write_bytes(orjson.dumps(project(int(args.write_seed[0]))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'gates':>7} | {'export':<14} {'seconds':>8} {'peak MB':>8} {'file MB':>8} {'/ 150 MB':>9}"
    )
    print("-" * 64)
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            seed = Path(tmp) / f"seed-{n}.json"
            subprocess.run(
                [sys.executable, __file__, "--write-seed", str(n), str(seed)], check=True
            )
            config = EmulatorConfig(seed=str(seed), page_cap=100)
            with start_emulator_process(config) as emulator:
                env = dict(os.environ)
                env.update(
                    STATSIG_CONSOLE_API_URL=emulator.base_url,
                    STATSIG_CONSOLE_API_KEY=emulator.api_key(),
                    PYTHONPATH=str(REPO),
                )
                runs = {
                    "bulkops export": [sys.executable, "-m", "bulkops", "export", "--out"],
                    "in memory": [sys.executable, "-c", _NAIVE],
                }
                for name, argv in runs.items():
                    out = Path(tmp) / f"{name.replace(' ', '-')}-{n}.json"
                    seconds, peak = measure([*argv, str(out)], env)
                    size = out.stat().st_size / 1e6
                    print(
                        f"{n:>7} | {name:<14} {seconds:>8.1f} {peak:>8.1f} {size:>8.1f} "
                        f"{peak / TARGET_MB:>9.2f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
