"""The routing config file: its schema (pydantic), compiling it into the core's
frozen ``RoutingConfig``, loading it from YAML or a mapping, and decoding a document
sent over the API.

Above the core, below the service: pure but for reading the file it is given (see
docs/architecture.md).
"""
