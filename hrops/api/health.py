"""Health endpoints for process supervisors (compose, Kubernetes, `hrops up`).

`/healthz` is liveness: the process answers. It touches nothing else, so a database or Temporal
outage never gets healthy API processes restarted in a loop. `/readyz` is readiness: the HR store
and Temporal both answer, so a load balancer only sends requests to a process that can serve them.
Neither needs a sign-in, and neither answer carries a URL, a password or personal data.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from hrops import __version__
from hrops.settings import get_settings
from hrops.temporal_client import TemporalUnavailable, connect
from tools.store.db import engine_for

router = APIRouter()

# A probe answers within the supervisor's timeout (Kubernetes' default is 1 s; ours allow 5).
CHECK_TIMEOUT = 3.0

# One store check at a time: a database that hangs (rather than refusing) would otherwise leave a
# stuck thread behind per probe.
_store_check: asyncio.Future[None] | None = None


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"
    version: str = __version__


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    store: str  # "ok" or what is wrong
    temporal: str


@router.get("/healthz")
def healthz() -> Liveness:
    """Liveness: the API process answers."""
    return Liveness()


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the HR store and Temporal answer (503 with what is wrong otherwise)."""
    store, temporal = await asyncio.gather(_store_problem(), _temporal_problem(request))
    ready = store is None and temporal is None
    body = Readiness(status="ready" if ready else "not ready", store=store or "ok", temporal=temporal or "ok")
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


def _select_one(url: str) -> None:
    with engine_for(url).connect() as conn:
        conn.execute(text("SELECT 1"))


async def _store_problem() -> str | None:
    global _store_check
    if _store_check is None or _store_check.done():
        _store_check = asyncio.ensure_future(asyncio.to_thread(_select_one, get_settings().db_url))
    try:
        await asyncio.wait_for(asyncio.shield(_store_check), CHECK_TIMEOUT)
    except TimeoutError:
        return f"the HR store did not answer within {CHECK_TIMEOUT:.0f} s"
    except Exception as e:  # noqa: BLE001 - any failure means not ready; the type says enough
        return f"the HR store did not answer ({type(e).__name__}); check HROPS_DATABASE_URL"
    return None


async def _temporal_problem(request: Request) -> str | None:
    client = getattr(request.app.state, "client", None)
    try:
        if client is None:
            # Kept for the routes that need it, as their own dependency does.
            client = request.app.state.client = await asyncio.wait_for(connect(), CHECK_TIMEOUT)
        await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT))
    except TemporalUnavailable as e:
        return str(e)
    except TimeoutError:
        return f"Temporal did not answer within {CHECK_TIMEOUT:.0f} s"
    except Exception as e:  # noqa: BLE001 - an RPC error from the cluster
        return f"Temporal did not answer ({type(e).__name__}); check HROPS_TEMPORAL_ADDRESS"
    return None
