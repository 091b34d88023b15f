"""References between entities through rule conditions: the resource catalog's, one definition.

``condition_references`` is ``bulkops.api.resources.rule_references`` under the name the jobs
used (stale-gate cleanup's dependency check); rewriting references through an ID mapping is
``bulkops.migrate.desired.remap_rules``.
"""

from __future__ import annotations

from bulkops.api.resources import RULE_CONDITION_REFERENCES as CONDITION_KINDS
from bulkops.api.resources import rule_references as condition_references

__all__ = ["CONDITION_KINDS", "condition_references"]
