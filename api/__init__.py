"""The cxtext HTTP service (FastAPI): a thin shell over :class:`cxtext.Pipeline`."""

from api.app import Settings, create_app

__all__ = ["Settings", "create_app"]
