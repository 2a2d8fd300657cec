"""`python -m kwizard` runs the same entry point as the `kwizard` console script."""

from __future__ import annotations

from kwizard.cli import main

raise SystemExit(main())
