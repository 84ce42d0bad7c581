"""Themes: the analyst's codeframe (:class:`Taxonomy`), zero-shot and trained theme models, the decision rule."""

from cxtext.themes.taxonomy import OTHER, Taxonomy, Theme

__all__ = ["OTHER", "Taxonomy", "Theme"]
