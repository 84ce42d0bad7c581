"""The codeframe the analyst owns: a YAML file of themes, validated before any model loads.

```yaml
name: ecommerce
version: 1
themes:
  - id: delivery                      # required: lowercase snake_case, unique
    name: Delivery & logistics        # required
    name_zh: 物流配送                   # optional
    description: Shipping speed, couriers, tracking, parcels arriving late, lost or damaged.   # required
    examples: ["the parcel arrived a week late", "快递太慢了"]                                   # optional
    keywords: [courier, 快递]                                                                   # optional
    parent: logistics                 # optional: one level of sub-themes
```

The fallback theme ``other`` (given to comments no theme fits) is added when the file does not define it.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cxtext.errors import ConfigError

OTHER = "other"
# What "no particular theme" sounds like: the `other` theme's prototype competes with every theme in zero-shot
# classification, so generic praise or filler ("ok", "好评") lands in `other` instead of the least-bad theme.
OTHER_EXAMPLES = ["ok", "good", "great, thanks", "no comment", "everything was fine", "nothing to add",
                  "好评", "不错", "满意", "还行", "一般般", "没什么好说的"]
_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class Theme(BaseModel):
    """One theme of a codeframe."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    name_zh: str | None = None
    examples: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    parent: str | None = None

    @field_validator("id")
    @classmethod
    def _snake_case(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"must be lowercase snake_case (like 'customer_service'), got {v!r}")
        return v

    def label(self, language: str | None = None) -> str:
        """The theme's name in ``language`` (``zh`` uses ``name_zh`` when there is one)."""
        return self.name_zh if language == "zh" and self.name_zh else self.name

    def definition_prompts(self) -> list[str]:
        """The theme's definition (name + description, in each language it is named in), for zero-shot."""
        head = [f"{self.name}: {self.description}"]
        if self.name_zh:
            head.append(f"{self.name_zh}：{self.description}")
        return head

    def example_prompts(self) -> list[str]:
        """Examples and keywords, for zero-shot."""
        return list(self.examples) + [str(k) for k in self.keywords]


class Taxonomy(BaseModel):
    """A validated codeframe. Load with :meth:`load` (a YAML file) or :meth:`default`.

    Example:
        >>> tax = Taxonomy.default()
        >>> tax.get("delivery").name_zh
        '物流配送'
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    version: int | str = 1
    description: str | None = None
    themes: list[Theme] = Field(min_length=1)
    source: str | None = Field(None, exclude=True, description="the file it was read from")

    def model_post_init(self, context, /) -> None:
        ids = [t.id for t in self.themes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ConfigError(f"{self.source or 'taxonomy'}: theme id(s) {dupes} appear more than once; ids must be "
                              "unique.")
        for t in self.themes:
            if t.parent is not None:
                parent = next((p for p in self.themes if p.id == t.parent), None)
                if parent is None:
                    raise ConfigError(f"{self.source or 'taxonomy'}: theme {t.id!r}, field 'parent': no theme has id "
                                      f"{t.parent!r} (ids: {ids}).")
                if parent.parent is not None:
                    raise ConfigError(f"{self.source or 'taxonomy'}: theme {t.id!r}, field 'parent': {t.parent!r} is "
                                      "itself a sub-theme; only one level of sub-themes is allowed.")
        if OTHER not in ids:
            self.themes.append(Theme(id=OTHER, name="Other", name_zh="其他", examples=list(OTHER_EXAMPLES),
                                     description="Feedback that fits none of the other themes."))

    # --- loading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Taxonomy:
        """Read and validate a taxonomy YAML (or JSON) file; errors name the file, the theme and the field."""
        import yaml

        path = Path(path)
        if not path.exists():
            raise ConfigError(f"Taxonomy file {path} does not exist. Pass a YAML file (see `cxtext/themes/default.yaml`"
                              " for the format) or leave --taxonomy out to use the default one.")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data, source: str = "taxonomy") -> Taxonomy:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping with 'name', 'version' and 'themes', got "
                              f"{type(data).__name__}.")
        try:
            return cls.model_validate({**data, "source": source})
        except ValidationError as exc:
            raise ConfigError(_explain(exc, data, source)) from None

    @classmethod
    def default(cls) -> Taxonomy:
        """The shipped customer-experience codeframe (``cxtext/themes/default.yaml``)."""
        text = resources.files("cxtext.themes").joinpath("default.yaml").read_text(encoding="utf-8")
        import yaml

        return cls.from_dict(yaml.safe_load(text), source="cxtext/themes/default.yaml")

    # --- use -------------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def get(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(f"theme {theme_id!r} is not in taxonomy {self.name!r} (ids: {self.ids})")

    def fingerprint(self) -> str:
        """Changes whenever anything a classifier depends on changes."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False)


def _explain(exc: ValidationError, data: dict, source: str) -> str:
    """One line per problem: file, theme (id or position) and field."""
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "themes" and isinstance(loc[1], int):
            idx = loc[1]
            raw = (data.get("themes") or [None] * (idx + 1))[idx]
            tid = raw.get("id") if isinstance(raw, dict) else None
            where = f"theme {tid!r} (#{idx + 1})" if tid else f"theme #{idx + 1}"
            loc = loc[2:]
        field = ".".join(str(x) for x in loc) or "(the theme itself)"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "extra_forbidden":
            msg = ("is not a known field (allowed: id, name, name_zh, description, examples, keywords, parent)"
                   if where else "is not a known field (allowed: name, version, description, themes)")
        lines.append(f"{source}: {where + ', ' if where else ''}field {field!r}: {msg}")
    return "Invalid taxonomy:\n  " + "\n  ".join(lines)
