"""What the built-in jobs need to know about a kind of entity, read from the resource catalog.

Jobs ask ``kind_facts("gates")`` for the list path, the filters the list endpoint takes
server-side, the fields a PATCH may write and the read-only ones. The answers come from
``bulkops.api.resources`` (``get_kind``); this module only adapts them to one small shape, so a
job never depends on the catalog's internals, and names the problem when a kind is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulkops.run.job import JobConfigError

__all__ = ["KindFacts", "is_not_found", "kind_facts"]


@dataclass(frozen=True)
class KindFacts:
    """The catalog facts about one kind that jobs use."""

    name: str
    path: str
    list_filters: frozenset[str]
    update_fields: frozenset[str]
    create_fields: frozenset[str]
    read_only_fields: frozenset[str]
    #: how an entity is updated (``PATCH``, or ``POST`` where the API has no PATCH; None: never)
    update_method: str | None = "PATCH"

    def entity_path(self, entity_id: str) -> str:
        """The path of one entity of this kind, e.g. ``/gates/g1``."""
        return f"{self.path}/{entity_id}"

    @property
    def known_fields(self) -> frozenset[str]:
        """Every field name the catalog knows for this kind (writable or read-only)."""
        return self.update_fields | self.create_fields | self.read_only_fields | {"id"}


def kind_facts(name: str) -> KindFacts:
    """Facts about catalog kind ``name``; unknown kinds raise ``JobConfigError``."""
    from bulkops.api.resources import CATALOG, get_kind

    try:
        kind = get_kind(name)
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise JobConfigError(f"unknown kind {name!r}; known kinds: {known}") from None
    return KindFacts(
        name=kind.name,
        path=kind.list_path.rstrip("/"),
        list_filters=frozenset(kind.list_filters),
        update_fields=frozenset(kind.update_fields) if kind.update_method else frozenset(),
        create_fields=frozenset(kind.create_fields),
        read_only_fields=frozenset(kind.read_only_fields),
        update_method=kind.update_method,
    )


def is_not_found(exc: BaseException) -> bool:
    """True for the API's 404 (``NotFoundError``), however the client spelled it."""
    try:
        from bulkops.api.errors import NotFoundError
    except ImportError:  # pragma: no cover - the api part always ships errors.py
        NotFoundError = ()  # type: ignore[assignment,misc]
    return isinstance(exc, NotFoundError) or getattr(exc, "status", None) == 404
