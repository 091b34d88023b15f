"""The ``x-respect-review-settings`` header, modeled simply.

The spec accepts the header on every mutation ("Optional header to respect review settings
for mutation endpoints"). Without it (the default) a Console API write bypasses reviews and
applies at once. With it set to ``true``, a write to a gate or dynamic config whose
``reviewSettings.requiredReview`` is true is *not* applied: the entity gets an
``activeReview`` (``{reviewID, reviewStatus, description}``, as ``ExternalGateDto`` has it),
the answer is a 200 carrying the unchanged entity, and the mutation log records it. Deleting
the entity and creating new ones are never held.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from .kinds import KINDS
from .replies import json_reply
from .store import Project

__all__ = ["REVIEW_HEADER", "hold_for_review", "wants_review"]

REVIEW_HEADER = "x-respect-review-settings"
_REVIEWED_KINDS = ("gates", "dynamic_configs")
_PREFIX = "/console/v1/"


def wants_review(headers: Mapping[str, str]) -> bool:
    """Whether the request asks the service to respect review settings."""
    return headers.get(REVIEW_HEADER, "").strip().lower() in ("true", "1", "yes")


def hold_for_review(project: Project, method: str, path: str) -> web.Response | None:
    """The answer of a write held for review, or ``None`` when it applies as usual."""
    parts = path[len(_PREFIX) :].split("/") if path.startswith(_PREFIX) else []
    if len(parts) < 2 or parts[0] not in _REVIEWED_KINDS:
        return None
    if len(parts) == 2 and method == "DELETE":
        return None
    entity = project.get(parts[0], parts[1])
    settings = entity.get("reviewSettings") if entity else None
    if (
        entity is None
        or not isinstance(settings, dict)
        or settings.get("requiredReview") is not True
    ):
        return None
    review_id = project.new_rule_id()
    entity["activeReview"] = {
        "reviewID": review_id,
        "reviewStatus": "PENDING",
        "description": f"{method} {path} (submitted through the Console API)",
    }
    label = KINDS[parts[0]].singular
    return json_reply(
        {
            "message": f"{label} {entity['id']} requires review: change submitted for review "
            f"{review_id}, not applied (x-respect-review-settings: true).",
            "data": entity,
        }
    )
