"""ticket-router: routes support tickets to in-house and outsourced agent pools."""

__version__ = "0.1.0"
