"""The viewer's routers, one module per kind of page."""
