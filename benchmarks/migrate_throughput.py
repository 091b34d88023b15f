"""Wall time of a migration against the mutation budget's lower bound for its mutation count.

    python benchmarks/migrate_throughput.py [--scales 4] [--concurrency 16]

For each scale, the sample project (``bulkops.migrate.sample``, about 240 entities per unit of
scale) is loaded into the source project of an emulator running in its own process, with the
mutation windows scaled like ``mutation_budget.py`` (100 per 1 s and 900 per 90 s, 1-10 ms of
latency), and ``bulkops run migrate --to prod --yes`` runs in a fresh process into an empty
target with the same windows. The table shows the run's mutation count N, the policy's lower
bound T(N) (the earliest the N-th mutation can be sent), the wall time of the whole command
(start, listing, planning reads, sending, exit) and of its sending alone (the journal's
``elapsed_seconds``), each divided by T(N), and the 429s the server counted.

Target: wall time / T(N) <= 1.1 for a migration of about 1,000 entities (scale 4).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from mutation_budget import JITTER, LIMITS, SCALE, lower_bound

from bulkops.emulator import EmulatorConfig, FaultPlan, start_emulator_process
from bulkops.migrate.sample import migration_sample
from bulkops.run.journal import Journal, journal_path

SOURCE_KEY, TARGET_KEY = "console-src", "console-dst"


def migrate(scale: int, concurrency: int, state: Path) -> dict[str, float]:
    sample = migration_sample(scale)
    entities = sum(len(rows) for rows in sample["entities"].values())
    config = EmulatorConfig(
        projects={"default": SOURCE_KEY, "target": TARGET_KEY},
        time_scale=SCALE,
        faults=FaultPlan(latency=JITTER, seed=scale),
        seed=sample,
    )
    with start_emulator_process(config) as emulator:
        env = dict(os.environ)
        env.update(
            STATSIG_CONSOLE_API_URL=emulator.base_url,
            STATSIG_CONSOLE_API_KEY=SOURCE_KEY,
            STATSIG_TARGET_CONSOLE_API_KEY=TARGET_KEY,
            BULKOPS_MUTATION_LIMITS=",".join(f"{n}/{s:g}s" for n, s in LIMITS),
            BULKOPS_STATE_DIR=str(state),
            PYTHONPATH=str(REPO),
        )
        argv = [sys.executable, "-m", "bulkops", "run", "migrate", "--to", "prod", "--yes"]
        argv += ["--run-id", f"bench-{scale}", "--concurrency", str(concurrency)]
        start = time.monotonic()
        done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False)
        wall = time.monotonic() - start
        if done.returncode != 0:
            raise SystemExit(f"migrate failed ({done.returncode}):\n{done.stderr}")
        refused = emulator.stats()["projects"]["target"]["rate_limited"]
    mutations = int(re.search(r"plan: (\d+) operation", done.stderr).group(1))  # type: ignore[union-attr]
    journal = Journal.open(journal_path(state, f"bench-{scale}"), readonly=True)
    sending = float(journal.meta()["elapsed_seconds"])
    journal.close()
    return {
        "entities": entities,
        "mutations": mutations,
        "wall": wall,
        "sending": sending,
        "refused": refused,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="4", help="sample scales, comma-separated")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    print(f"windows {', '.join(f'{n}/{s:g}s' for n, s in LIMITS)}, latency 1-10 ms")
    header = (
        f"{'entities':>8} {'N':>6} {'T(N) s':>7} | {'wall s':>7} {'/ T(N)':>7} "
        f"{'sending s':>9} {'/ T(N)':>7} {'429s':>5}"
    )
    print(header)
    print("-" * len(header))
    for scale in (int(s) for s in args.scales.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            r = migrate(scale, args.concurrency, Path(tmp))
        bound = lower_bound(int(r["mutations"]))
        print(
            f"{r['entities']:>8.0f} {r['mutations']:>6.0f} {bound:>7.1f} | {r['wall']:>7.1f} "
            f"{r['wall'] / bound:>7.3f} {r['sending']:>9.1f} {r['sending'] / bound:>7.3f} "
            f"{r['refused']:>5.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
