import sys
from pathlib import Path

# The CLI helpers of the run and job tests (clihelp, jobcli) are shared, not copied.
for folder in ("run", "jobs"):
    sys.path.insert(0, str(Path(__file__).parents[1] / folder))
