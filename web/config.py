"""Settings live in `models.settings` so that workers and realtime read them without `web`."""

from models.settings import DEFAULT_ORIGIN, Settings

__all__ = ["DEFAULT_ORIGIN", "Settings"]
