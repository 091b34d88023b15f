"""bulkops: bulk operations and migrations for the Statsig Console API.

Layout (see ``../shared/STYLE.md`` for the house rules):

- ``bulkops.api``      talking to the Console API: ``ConsoleClient``, the exception tree, the
                       two-window ``MutationBudget``, pagination and the resource catalog.
- ``bulkops.run``      executing work: the public job model, the journaled runner, reports.
- ``bulkops.emulator`` a local Console API (aiohttp.web); imports nothing from ``api`` or ``run``.
- ``bulkops.jobs``     the built-in jobs (sources in the top-level ``jobs/`` folder).
- ``bulkops.testing``  fixtures for users' and our own tests: a running emulator, a fake clock.
- ``bulkops.cli``      the one door: parses, wires, prints.
"""

__version__ = "0.1.0"
