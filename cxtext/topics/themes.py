"""Topics meet the codeframe: each topic's nearest taxonomy theme, and topics that fit none as candidate themes.

A taxonomy is anything with ``themes`` (``cxtext.Taxonomy``, or a list of dicts) whose items have ``id``,
``name``, ``description`` and optionally ``name_zh``, ``examples``, ``keywords``. A theme's vector is the mean
of the embedded name + description and each example, in the same space as the topic centres.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from cxtext.errors import ConfigError

FALLBACK_THEME = "other"


def _field(theme, name, default=None):
    if isinstance(theme, Mapping):
        return theme.get(name, default)
    return getattr(theme, name, default)


def theme_entries(taxonomy) -> list[dict]:
    """The themes of a taxonomy as plain dicts (id, name, name_zh, description, examples, keywords)."""
    themes = taxonomy if isinstance(taxonomy, list | tuple) else _field(taxonomy, "themes")
    if themes is None:
        raise ConfigError(f"{type(taxonomy).__name__} has no themes: pass a cxtext.Taxonomy or a list of themes.")
    out = []
    for th in themes:
        ident, name = _field(th, "id"), _field(th, "name")
        if not ident or not name:
            raise ConfigError(f"Theme {th!r} needs an id and a name.")
        out.append({"id": str(ident), "name": str(name), "name_zh": _field(th, "name_zh"),
                    "description": _field(th, "description", "") or "",
                    "examples": list(_field(th, "examples", None) or []),
                    "keywords": list(_field(th, "keywords", None) or [])})
    return out


def theme_vectors(themes: list[dict], embedder) -> np.ndarray:
    """One unit vector per theme: the mean of its embedded description text and examples."""
    from cxtext.topics._fit import normalize_rows

    texts, owner = [], []
    for i, th in enumerate(themes):
        names = " / ".join(x for x in (th["name"], th.get("name_zh")) if x)
        parts = [f"{names}: {th['description']}".strip().rstrip(":")]
        if th["keywords"]:
            parts.append(", ".join(map(str, th["keywords"])))
        parts += [str(e) for e in th["examples"]]
        texts += parts
        owner += [i] * len(parts)
    vectors = normalize_rows(np.asarray(embedder.embed(texts), dtype=np.float32))
    owner = np.asarray(owner)
    return normalize_rows(np.stack([vectors[owner == i].mean(axis=0) for i in range(len(themes))]))


def map_to_themes(model, taxonomy, embedder=None) -> list:
    """Set each topic's nearest theme (``theme_id``, ``theme_name``, ``theme_similarity``); return the topics
    that fit no theme (similarity below ``config.theme_threshold``, or nearest is ``other``): candidate themes.

    Example:
        >>> candidates = map_to_themes(model, Taxonomy.load("taxonomy.yaml"))   # doctest: +SKIP
        >>> print(candidate_themes_yaml(candidates))                            # doctest: +SKIP
    """
    embedder = embedder or model.embedder
    if embedder is None:
        raise ConfigError("Mapping topics to themes embeds the theme descriptions: pass embedder= (a Pipeline).")
    themes = [t for t in theme_entries(taxonomy) if t["id"] != FALLBACK_THEME]
    if not themes:
        raise ConfigError("The taxonomy has no theme besides 'other'; add themes to map topics to.")
    sims = model.centres_ @ model.centre(theme_vectors(themes, embedder)).T
    candidates = []
    for topic, row in zip(model.topics_, sims):
        j = int(row.argmax())
        topic.theme_similarity = round(float(row[j]), 4)
        if row[j] >= model.config.theme_threshold:
            topic.theme_id, topic.theme_name = themes[j]["id"], themes[j]["name"]
        else:
            topic.theme_id = topic.theme_name = None
            candidates.append(topic)
    return candidates


def candidate_themes(model) -> list:
    """Topics of a fitted (and mapped) model that no theme covers."""
    return [t for t in model.topics_ if t.theme_id is None]


def _snake(words: list[str], fallback: str) -> str:
    ascii_words = [re.sub(r"[^a-z0-9]+", "_", w.lower()).strip("_") for w in words if w.isascii()]
    ident = "_".join(w for w in ascii_words if w)[:40].strip("_")
    return ident if ident and ident[0].isalpha() else fallback


def candidate_themes_yaml(topics) -> str:
    """A ready-to-paste taxonomy YAML snippet (the ``themes:`` list) for candidate topics.

    Example:
        >>> print(candidate_themes_yaml([model.topic(7)]))      # doctest: +SKIP
        themes:
        - id: app_crash_login
          name: app / crash / login
          ...
    """
    import yaml

    from cxtext.topics.text import is_chinese

    entries = []
    for t in topics:
        en = [w for w in t.words if not is_chinese(w)]
        zh = [w for w in t.words if is_chinese(w)]
        entry = {"id": _snake(en[:3], f"topic_{t.id}"),
                 "name": t.labels.get("en") or " / ".join(en[:3]) or t.label}
        if zh:
            entry["name_zh"] = t.labels.get("zh") or " / ".join(zh[:3])
        entry["description"] = f"Discovered topic {t.id} ({t.size} comments), e.g.: {t.representative}"
        entry["examples"] = t.examples[:3]
        entry["keywords"] = t.words[:5]
        entries.append(entry)
    if not entries:
        return "# every topic maps to a theme: no candidate new themes\n"
    return ("# candidate new themes from `cxtext topics fit`: review, rename, then paste under `themes:`\n"
            + yaml.safe_dump({"themes": entries}, allow_unicode=True, sort_keys=False, width=100))
