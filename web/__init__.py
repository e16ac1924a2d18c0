"""The HTTP entrance: app factory, middlewares, routes, CLI."""
