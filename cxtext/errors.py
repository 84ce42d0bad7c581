"""The cxtext error tree. Every error says what was wrong, with the value, and how to fix it.

::

    CxTextError
    ├── InvalidInputError      bad user input: a missing column, an unknown file type, a bad value
    ├── ConfigError            a config or taxonomy that does not validate
    └── ArtifactError          a model directory or encoder build that is missing or broken

The CLI prints the message and exits with status 2; the API maps InvalidInputError to 4xx.
"""

from __future__ import annotations

__all__ = ["ArtifactError", "ConfigError", "CxTextError", "InvalidInputError"]


class CxTextError(Exception):
    """Base class of every error cxtext raises on purpose."""


class InvalidInputError(CxTextError, ValueError):
    """The input (a file, a column, a value) cannot be used as given."""


class ConfigError(CxTextError, ValueError):
    """A configuration value is invalid."""


class ArtifactError(CxTextError, RuntimeError):
    """A model artifact is missing, incomplete or from an incompatible version."""
