"""cxtext: text analytics for customer feedback (Chinese and English).

>>> from cxtext import Pipeline                      # doctest: +SKIP
>>> Pipeline.load().analyze(["快递太慢了"])[0].sentiment  # doctest: +SKIP
'negative'

Nothing heavy is imported here: models load in :meth:`Pipeline.load`.
"""

from cxtext.config import PipelineConfig
from cxtext.errors import ArtifactError, ConfigError, CxTextError, InvalidInputError
from cxtext.schemas import Analysis, Comment, ThemeHit
from cxtext.themes.taxonomy import Taxonomy

__version__ = "0.1.0"
__all__ = [
    "Analysis",
    "ArtifactError",
    "Comment",
    "ConfigError",
    "CxTextError",
    "InvalidInputError",
    "Pipeline",
    "PipelineConfig",
    "Taxonomy",
    "ThemeHit",
]


def __getattr__(name):
    if name == "Pipeline":
        from cxtext.pipeline import Pipeline

        return Pipeline
    raise AttributeError(f"module 'cxtext' has no attribute {name!r}")
