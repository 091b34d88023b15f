"""Built-in jobs (imported as ``bulkops.jobs``), one module each, written against ``bulkops.run.job``."""
