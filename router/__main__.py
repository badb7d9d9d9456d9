"""``python -m router`` is the same as the ``ticket-router`` command."""

from router.cli.main import main

raise SystemExit(main())
