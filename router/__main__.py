"""``python -m router`` is the same as the ``ticket-router`` command."""

from router.cli import main

raise SystemExit(main())
