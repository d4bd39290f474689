"""A local WhatsApp Web simulator for testing the worker without the real site.

`make_server()` binds it, `serve()` runs it until SIGTERM/SIGINT; see
`server.py` for the routes and `static/` for the page.
"""

from workers.simulator.server import make_server, serve

__all__ = ["make_server", "serve"]
