"""`/api/reviews`: the compliance review queue of model-written outputs, for HR ops and admins.

Included by `hrops/api/app.py` after its `Caller` dependency exists (this module imports it).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query

from hrops.api.app import Caller
from hrops.settings import get_settings
from tools.review import queue
from tools.review.models import Decision, ReviewItem, ReviewStatus
from tools.store.db import session_scope

router = APIRouter(prefix="/api/reviews", tags=["reviews"])

_STATUS = {
    queue.NotAReviewer: 403,
    queue.ConflictOfInterest: 403,
    queue.NoSuchItem: 404,
    queue.AlreadyDecided: 409,
    queue.BadCorrection: 422,
}


def _refused(e: queue.ReviewError) -> HTTPException:
    return HTTPException(_STATUS.get(type(e), 409), str(e))


@router.get("")
def list_reviews(
    who: Caller,
    status: Literal["pending", "approved", "corrected", "all"] = "pending",
    topic: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[ReviewItem]:
    """The queue, oldest first; the prompt is left out here (GET one item for it)."""
    try:
        with session_scope(get_settings().db_url) as s:
            items = queue.list_items(
                s, who, status=None if status == "all" else ReviewStatus(status), topic=topic, limit=limit
            )
    except queue.ReviewError as e:
        raise _refused(e) from None
    return [i.model_copy(update={"prompt": ""}) for i in items]


@router.get("/{review_id}")
def get_review(review_id: str, who: Caller) -> ReviewItem:
    try:
        with session_scope(get_settings().db_url) as s:
            return queue.get(s, who, review_id)
    except queue.ReviewError as e:
        raise _refused(e) from None


@router.post("/{review_id}/decision")
def decide_review(review_id: str, body: Decision, who: Caller) -> ReviewItem:
    """Approve the output, or correct it: `{"verdict": "correct", "reason": "...", "correction": {...}}`
    with the fields to change (or the corrected text for a text output). A decision is final."""
    try:
        with session_scope(get_settings().db_url, write=True) as s:
            return queue.decide(s, who, review_id, body)
    except queue.ReviewError as e:
        raise _refused(e) from None
