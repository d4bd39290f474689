"""A tenant's log: its files and their rotation (``files``), the handler that writes them
(``handler``), what a reader asks for (``query``) and the reader (``reader``).

``tenant_logger`` is the one name most callers need, so it can be imported from here.
"""

from tenants.logs.handler import tenant_logger

__all__ = ["tenant_logger"]
