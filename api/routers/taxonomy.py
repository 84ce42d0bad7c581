"""``GET /v1/taxonomy`` and ``PUT /v1/taxonomy``: the codeframe, versioned; stored analyses record the version used.

A taxonomy is validated by ``cxtext.themes.Taxonomy`` (the same rules as a YAML file), stored as a new version,
and made the pipeline's codeframe (``Pipeline.use_taxonomy``: zero-shot, or the shipped model for the default).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from api import deps

router = APIRouter(prefix="/v1", tags=["taxonomy"])
log = logging.getLogger("cxtext.api")


def validate_taxonomy(doc: Any) -> dict[str, Any]:
    """Check a taxonomy document; raises ApiError(422) naming the bad part."""
    if not isinstance(doc, dict) or not isinstance(doc.get("themes"), list) or not doc["themes"]:
        raise deps.ApiError(422, "InvalidTaxonomy", 'a taxonomy is {"themes": [{"id": "delivery", "name": '
                            '"Delivery", ...}, ...]} with at least one theme')
    seen: set[str] = set()
    for i, t in enumerate(doc["themes"]):
        if not isinstance(t, dict) or not isinstance(t.get("id"), str) or not t["id"].strip() \
                or not isinstance(t.get("name"), str):
            raise deps.ApiError(422, "InvalidTaxonomy", f"themes[{i}] = {str(t)[:200]!r} needs a string 'id' and "
                                "'name'")
        if t["id"] in seen:
            raise deps.ApiError(422, "InvalidTaxonomy", f"themes[{i}].id {t['id']!r} is used twice; ids are unique")
        seen.add(t["id"])
    try:
        from cxtext.themes import Taxonomy
    except ImportError:
        return doc
    try:
        Taxonomy.from_dict({"name": "api", **doc}, source="PUT /v1/taxonomy")
    except Exception as exc:  # noqa: BLE001 - any validation failure is the client's document
        raise deps.ApiError(422, "InvalidTaxonomy", f"the taxonomy does not validate: {exc}") from None
    return doc


def activate(app, version: int | None, doc: dict[str, Any] | None) -> None:
    """Make the pipeline use ``doc`` when it can; ``app.state.taxonomy_version`` is what analyses record."""
    pipeline = app.state.pipeline
    use = getattr(pipeline, "use_taxonomy", None)
    if doc is None or use is None:
        app.state.taxonomy_version = None
        return
    try:
        use(doc, version=version)
        app.state.taxonomy_version = version
    except Exception as exc:  # noqa: BLE001 - keep serving without themes, say why
        log.warning("taxonomy version %s not used by the pipeline: %s", version, exc)
        app.state.taxonomy_version = None


@router.get("/taxonomy", summary="The current taxonomy and its version")
async def get_taxonomy(request: Request) -> dict[str, Any]:
    found = await run_in_threadpool(request.app.state.store.get_taxonomy)
    if found is None:
        raise deps.ApiError(404, "NotFound", "no taxonomy yet: PUT /v1/taxonomy with {\"themes\": [...]}")
    version, doc = found
    return {"version": version, "taxonomy": doc, "in_use": request.app.state.taxonomy_version == version}


@router.put("/taxonomy", summary="Replace the taxonomy (a new version)")
async def put_taxonomy(request: Request, doc: dict[str, Any] = Body(..., examples=[{"themes": [
        {"id": "delivery", "name": "Delivery", "description": "Shipping speed, couriers, parcels late or lost."},
        {"id": "service", "name": "Customer service", "description": "Support agents, hotline, replies."}]}])
        ) -> dict[str, Any]:
    doc = validate_taxonomy(doc)
    version = await run_in_threadpool(request.app.state.store.save_taxonomy, doc)
    activate(request.app, version, doc)
    return {"version": version, "taxonomy": doc, "in_use": request.app.state.taxonomy_version == version}
