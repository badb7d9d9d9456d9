"""The HTTP API on aiohttp: the app factory, authentication, the one error shape,
handlers by resource and the OpenAPI document (``GET /openapi.json``).

``create_app`` installs what the composition root (``router.service.composition``)
built; handlers find its parts under the keys of ``appkeys`` (see
docs/architecture.md).
"""
