"""A job file that puts the API key everywhere it can (for the secrets test).

``--crash`` chooses where: ``prepare``, ``plan`` (an item's planning), ``init`` (the job's
constructor, not a JobConfigError) or ``none``; with ``LEAKY_AT_IMPORT=1`` loading the file
fails. Whatever it does, its messages, descriptions, bodies, skip reasons and undo bodies quote
the key of ``STATSIG_CONSOLE_API_KEY`` and its base64.
"""

from __future__ import annotations

import argparse
import base64
import os
from typing import Any

from bulkops.run import Item, Job, Operation, ReadContext, Skip, Source

KEY = os.environ.get("STATSIG_CONSOLE_API_KEY", "")
QUOTED = f"key {KEY} (base64 {base64.b64encode(KEY.encode()).decode()})"

if os.environ.get("LEAKY_AT_IMPORT"):
    raise RuntimeError(f"cannot load with {QUOTED}")


class LeakyJob(Job):
    name = "leaky"
    help = "quotes the API key in everything it plans or raises"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--crash", default="none")

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        if self.options["crash"] == "init":
            raise RuntimeError(f"refusing to start with {QUOTED}")

    def sources(self) -> list[Source]:
        return [Source("gates")]

    async def prepare(self, ctx: ReadContext) -> None:
        if self.options["crash"] == "prepare":
            raise ValueError(f"prepare failed with {QUOTED}")

    def plan_meta(self) -> dict[str, Any]:
        return {"note": QUOTED, "plan_lines": [f"planned with {QUOTED}"]}

    async def plan_item(self, item: Item, ctx: ReadContext) -> Operation | Skip:
        if self.options["crash"] == "plan":
            raise KeyError(f"planning {item.id} failed with {QUOTED}")
        if item.id.startswith("skip"):
            return Skip(item.key, f"skipped because of {QUOTED}")
        path = f"/gates/{item.id}"
        return Operation(
            f"leak:{item.id}",
            "PATCH",
            path,
            body={"description": f"set by {QUOTED}"},
            description=f"describe {item.id} with {QUOTED}",
            before={"description": item.data.get("description")},
            undo=Operation(
                f"unleak:{item.id}",
                "PATCH",
                path,
                body={"description": f"restored by {QUOTED}"},
            ),
        )
