"""Fault injection, seeded and switchable at run time.

Two forms, checked in this order for every request:

- **scripted** (:class:`ScriptedFault`): deterministic, "the next N requests matching METHOD
  PATH-PREFIX": e.g. ``ScriptedFault("error", "GET", "/gates", count=1)`` makes the next
  gate read a 503 and the one after a 200; ``ScriptedFault("apply_then_reset", "POST",
  "/gates")`` creates the gate and then kills the connection.
- **random** (:class:`FaultPlan` rates): each request draws from one seeded RNG.

Actions: ``latency`` (delay only), ``error`` (5xx, JSON body, nothing applied), ``html_error``
(5xx with an HTML page), ``reset`` (connection reset before the effect), ``apply_then_reset``
and ``apply_then_500`` (the effect is applied, the response is lost).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ACTIONS", "HTML_ERROR_PAGE", "Decision", "FaultInjector", "FaultPlan", "ScriptedFault"]

ACTIONS = (
    "latency",
    "error",
    "html_error",
    "rate_limited",
    "reset",
    "apply_then_reset",
    "apply_then_500",
)
BEFORE = frozenset({"error", "html_error", "rate_limited", "reset"})
AFTER = frozenset({"apply_then_reset", "apply_then_500"})
API_PREFIX = "/console/v1"

HTML_ERROR_PAGE = (
    "<html>\r\n<head><title>{status} Service Temporarily Unavailable</title></head>\r\n"
    "<body>\r\n<center><h1>{status} Service Temporarily Unavailable</h1></center>\r\n"
    "</body>\r\n</html>\r\n"
)


def _full_prefix(prefix: str) -> str:
    if prefix and not prefix.startswith(("/console/", "/_emulator")):
        return API_PREFIX + (prefix if prefix.startswith("/") else "/" + prefix)
    return prefix


@dataclass
class ScriptedFault:
    """Apply ``action`` to the next ``count`` requests matching ``method`` and ``path_prefix``.

    ``method`` ``None`` matches any method; ``path_prefix`` may be given relative to
    ``/console/v1`` (``"/gates"``). ``status`` is used by ``error``/``html_error``, ``delay``
    (seconds) by ``latency`` and added before any other action. ``project`` (a project name)
    limits the fault to requests made with that project's key; ``None`` matches every project.
    ``retry_after`` (seconds) is the ``Retry-After`` header of a ``rate_limited`` answer;
    ``None`` sends none.
    """

    action: str
    method: str | None = None
    path_prefix: str = ""
    count: int = 1
    status: int = 503
    delay: float = 0.0
    project: str | None = None
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}: use one of {ACTIONS}")
        self.method = self.method.upper() if self.method else None
        self.path_prefix = _full_prefix(self.path_prefix)

    def matches(self, method: str, path: str, project: str | None = None) -> bool:
        """Whether a request of ``method`` to ``path`` (by ``project``) takes this fault."""
        return (
            self.count > 0
            and (self.method is None or self.method == method)
            and (self.project is None or self.project == project)
            and path.startswith(self.path_prefix)
        )


@dataclass
class FaultPlan:
    """Random faults with probabilities in 0..1, drawn from an RNG seeded with ``seed``.

    ``latency``: fixed seconds or a ``(low, high)`` uniform range. ``error_rate``: a 5xx
    (``error_status``; ``error_body`` ``"json"`` or ``"html"``). ``reset_rate``: connection reset
    before the effect. ``lost_rate``: effect applied, response lost (``lost_mode`` ``"reset"``
    or ``"500"``). ``methods``/``path_prefix``/``projects`` (names; empty: all) restrict which
    requests draw at all.
    """

    latency: float | tuple[float, float] | None = None
    error_rate: float = 0.0
    error_status: int = 503
    error_body: str = "json"
    reset_rate: float = 0.0
    lost_rate: float = 0.0
    lost_mode: str = "reset"
    methods: tuple[str, ...] = ("GET", "POST", "PATCH", "PUT", "DELETE")
    path_prefix: str = API_PREFIX
    scripted: list[ScriptedFault] = field(default_factory=list)
    seed: int | None = None
    projects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("error_rate", "reset_rate", "lost_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"FaultPlan.{name} must be within 0..1")
        if self.error_body not in ("json", "html"):
            raise ValueError("FaultPlan.error_body must be 'json' or 'html'")
        if self.lost_mode not in ("reset", "500"):
            raise ValueError("FaultPlan.lost_mode must be 'reset' or '500'")
        if isinstance(self.latency, list):
            self.latency = (float(self.latency[0]), float(self.latency[1]))
        self.methods = tuple(m.upper() for m in self.methods)
        self.projects = tuple(self.projects)
        self.path_prefix = _full_prefix(self.path_prefix)
        self.scripted = [
            s if isinstance(s, ScriptedFault) else ScriptedFault(**s) for s in self.scripted
        ]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultPlan:
        """Build from the admin endpoint's JSON (same names as the fields)."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON (what the admin endpoint answers)."""
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """What to do with one request: delay, then maybe an action before or after the effect."""

    delay: float = 0.0
    action: str | None = None
    status: int = 503
    retry_after: float | None = None

    @property
    def before(self) -> bool:
        return self.action in BEFORE

    @property
    def after(self) -> bool:
        return self.action in AFTER


NO_FAULT = Decision()


class FaultInjector:
    """Holds the current plan and decides, request by request (on the server loop)."""

    def __init__(self, plan: FaultPlan | None = None, rng_seed: int = 0) -> None:
        self._rng_seed = rng_seed
        self.injected: dict[str, int] = {}
        self.set_plan(plan)

    def set_plan(self, plan: FaultPlan | None) -> None:
        self.plan = plan or FaultPlan()
        seed = self.plan.seed if self.plan.seed is not None else self._rng_seed
        self._rng = random.Random(seed)

    def add_scripted(self, fault: ScriptedFault) -> None:
        self.plan.scripted.append(fault)

    def decide(self, method: str, path: str, project: str | None = None) -> Decision:
        """The fault (if any) for one request of ``project`` (a project name)."""
        plan = self.plan
        for fault in plan.scripted:
            if fault.matches(method, path, project):
                fault.count -= 1
                plan.scripted = [f for f in plan.scripted if f.count > 0]
                return self._count(
                    Decision(
                        fault.delay,
                        None if fault.action == "latency" else fault.action,
                        429 if fault.action == "rate_limited" else fault.status,
                        fault.retry_after,
                    )
                )
        if (
            method not in plan.methods
            or not path.startswith(plan.path_prefix)
            or (plan.projects and project not in plan.projects)
        ):
            return NO_FAULT
        delay = self._latency()
        draw = self._rng.random
        action = None
        if plan.reset_rate and draw() < plan.reset_rate:
            action = "reset"
        elif plan.error_rate and draw() < plan.error_rate:
            action = "html_error" if plan.error_body == "html" else "error"
        elif plan.lost_rate and draw() < plan.lost_rate:
            action = "apply_then_reset" if plan.lost_mode == "reset" else "apply_then_500"
        if not delay and action is None:
            return NO_FAULT
        return self._count(Decision(delay, action, plan.error_status))

    def _latency(self) -> float:
        latency = self.plan.latency
        if latency is None:
            return 0.0
        if isinstance(latency, tuple):
            return self._rng.uniform(latency[0], latency[1])
        return float(latency)

    def _count(self, decision: Decision) -> Decision:
        key = decision.action or "latency"
        self.injected[key] = self.injected.get(key, 0) + 1
        return decision
