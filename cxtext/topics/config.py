"""Typed settings of a topic fit (:class:`TopicConfig`), validated up front; unknown keys are an error."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TopicConfig(BaseModel):
    """How :class:`cxtext.topics.TopicModel` fits. The defaults suit a few hundred to 100k comments.

    Example:
        >>> TopicConfig(min_topic_size=5, seed=7).min_topic_size
        5
    """

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(42, description="random seed of UMAP: the same input and seed give the same topics")
    min_topic_size: int = Field(10, ge=2, description="smallest cluster HDBSCAN keeps as a topic")
    n_neighbors: int = Field(15, ge=2, description="UMAP neighbourhood (capped at n_comments - 1)")
    n_components: int = Field(5, ge=2, description="UMAP output dimensions clustered by HDBSCAN")
    max_topics: int | None = Field(None, ge=2, description="merge similar topics down to this many (None: keep all)")
    top_n_words: int = Field(10, ge=1, le=50, description="words kept per topic")
    label_words: int = Field(3, ge=1, le=10, description="top words shown in a topic's label")
    n_examples: int = Field(5, ge=1, le=50, description="example comments kept per topic")
    min_df: int = Field(1, ge=1, description="a word must occur in at least this many comments")
    max_outlier_share: float = Field(
        0.15, ge=0, le=1, description="after outlier reduction, at most this share of comments stays in topic -1")
    outlier_quantile: float = Field(
        0.1, ge=0, le=1, description="an outlier joins its nearest topic when it is at least as similar to the "
        "topic's centre as this quantile of the topic's own members (also the cut-off of `transform`)")
    match_threshold: float = Field(
        0.9, ge=-1, le=1, description="refit: a new topic keeps a previous topic's id when their centres' cosine "
        "similarity is at least this (one-to-one, best pairs first)")
    theme_threshold: float = Field(
        0.8, ge=-1, le=1, description="a topic maps to its nearest taxonomy theme when the cosine similarity of "
        "the topic's centre and the theme's description is at least this; below, it is a candidate new theme")
