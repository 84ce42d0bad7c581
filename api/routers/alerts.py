"""Alert rules (``POST/GET/DELETE /v1/alert-rules``) and the delivery log (``GET /v1/alerts``)."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api import deps
from cxtext.alerts import AlertRule

router = APIRouter(prefix="/v1", tags=["alerts"])


@router.post("/alert-rules", status_code=201, summary="Create an alert rule (a webhook for matching feedback)")
async def create_rule(rule: AlertRule, request: Request) -> dict[str, Any]:
    state = request.app.state
    existing = {r["id"] for r in await run_in_threadpool(state.store.list_alert_rules)}
    if rule.id in existing:
        raise deps.ApiError(409, "Conflict", f"an alert rule with id {rule.id!r} exists; DELETE it first or "
                            "leave id out to get a new one")
    await run_in_threadpool(state.store.save_alert_rule, rule.id, rule.model_dump())
    if state.dispatcher:
        state.dispatcher.invalidate_rules()
    return rule.public()


@router.get("/alert-rules", summary="List alert rules (secrets hidden)")
async def list_rules(request: Request) -> dict[str, Any]:
    rules = await run_in_threadpool(request.app.state.store.list_alert_rules)
    return {"rules": [AlertRule.model_validate(r).public() for r in rules]}


@router.get("/alert-rules/{rule_id}", summary="One alert rule")
async def get_rule(rule_id: str, request: Request) -> dict[str, Any]:
    for r in await run_in_threadpool(request.app.state.store.list_alert_rules):
        if r["id"] == rule_id:
            return AlertRule.model_validate(r).public()
    raise deps.ApiError(404, "NotFound", f"no alert rule with id {rule_id!r}")


@router.delete("/alert-rules/{rule_id}", status_code=204, summary="Delete an alert rule")
async def delete_rule(rule_id: str, request: Request) -> Response:
    state = request.app.state
    if not await run_in_threadpool(state.store.delete_alert_rule, rule_id):
        raise deps.ApiError(404, "NotFound", f"no alert rule with id {rule_id!r}")
    if state.dispatcher:
        state.dispatcher.invalidate_rules()
    return Response(status_code=204)


@router.get("/alerts", summary="The webhook delivery log, newest first")
async def list_alerts(request: Request, rule_id: str | None = Query(None),
                      status: Literal["pending", "retrying", "delivered", "failed"] | None = Query(None),
                      limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> dict[str, Any]:
    rows, total = await run_in_threadpool(request.app.state.store.list_deliveries, limit, offset, rule_id, status)
    for r in rows:
        r["payload"] = json.loads(r["payload"]) if r.get("payload") else None
    return {"items": rows, "total": total, "limit": limit, "offset": offset}
