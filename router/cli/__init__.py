"""The ``ticket-router`` command line: the parser, ``serve`` and the token commands."""
