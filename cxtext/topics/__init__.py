"""Topic discovery: what customers talk about that the codeframe does not cover yet.

>>> from cxtext.topics import TopicModel, TopicConfig          # doctest: +SKIP
>>> model = TopicModel(TopicConfig(), embedder=pipe).fit(texts)  # doctest: +SKIP

Public surface: :class:`TopicModel` (fit, transform, save/load), :class:`TopicConfig`, :class:`Topic`,
:class:`EmbeddingCache` / :class:`CachedEmbedder` (embeddings computed once), :func:`tokenize` (jieba +
stop words), :func:`map_to_themes` / :func:`candidate_themes_yaml`, and the service functions in
:mod:`cxtext.topics.service` (fit from an analysed file, topic summaries for the API and the report).
Nothing heavy is imported until used.
"""

from __future__ import annotations

from cxtext.topics.config import TopicConfig
from cxtext.topics.embeddings import CachedEmbedder, Embedder, EmbeddingCache, default_cache
from cxtext.topics.model import OUTLIER, Topic, TopicModel
from cxtext.topics.text import make_vectorizer, tokenize
from cxtext.topics.themes import candidate_themes, candidate_themes_yaml, map_to_themes

__all__ = [
    "OUTLIER",
    "CachedEmbedder",
    "Embedder",
    "EmbeddingCache",
    "Topic",
    "TopicConfig",
    "TopicModel",
    "candidate_themes",
    "candidate_themes_yaml",
    "default_cache",
    "make_vectorizer",
    "map_to_themes",
    "tokenize",
]
