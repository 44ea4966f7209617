"""The channels' HTTP endpoints, mounted in the API app under `/channels`.

A channel without its secret in the settings is off: its endpoint answers 404. A request that
does not prove it comes from the platform (signature, token) gets 401 and changes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, FastAPI, HTTPException, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

from hrops.channels import feishu, slack
from hrops.channels.hub import Channels, later
from hrops.channels.webhook import SIGNATURE_HEADER, WebhookIn, WebhookReply, genuine
from hrops.logging import get_logger
from hrops.settings import get_settings
from tools.notify.links import CHANNEL_NAME

log = get_logger(__name__)

router = APIRouter(prefix="/channels", tags=["channels"])


def channels_of(app: FastAPI) -> Channels:
    """The app's channels (tests put their own in `app.state.channels`)."""
    hub = getattr(app.state, "channels", None)
    if hub is None:

        async def temporal() -> Any:
            from hrops.temporal_client import connect

            if getattr(app.state, "client", None) is None:
                app.state.client = await connect(get_settings())
            return app.state.client

        hub = app.state.channels = Channels(settings=get_settings(), temporal=temporal)
    return hub


def _off(name: str, setting: str) -> HTTPException:
    return HTTPException(404, f"the {name} channel is off (set {setting})")


@router.post("/slack/events")
async def slack_events(request: Request, background: BackgroundTasks) -> Response:
    """Slack Events API and interactivity (both Request URLs point here)."""
    hub = channels_of(request.app)
    if hub.settings.slack_signing_secret is None:
        raise _off("Slack", "HROPS_SLACK_SIGNING_SECRET")
    handler = hub.platform("slack-handler", lambda: AsyncSlackRequestHandler(slack.build_app(hub)))
    return await handler.handle(request, {"hrops_background": background})


@router.post("/feishu/events")
async def feishu_events(request: Request, background: BackgroundTasks) -> dict[str, Any]:
    """Feishu/Lark event subscription (v2) and card callbacks."""
    hub = channels_of(request.app)
    cfg = hub.settings
    if cfg.feishu_verification_token is None:
        raise _off("Feishu", "HROPS_FEISHU_VERIFICATION_TOKEN")
    body = await request.body()
    try:
        event = feishu.open_event(
            body,
            {k.lower(): v for k, v in request.headers.items()},
            cfg.feishu_verification_token.get_secret_value(),
            cfg.feishu_encrypt_key.get_secret_value() if cfg.feishu_encrypt_key else None,
        )
    except feishu.NotGenuine as e:
        log.warning("feishu request refused", channel=feishu.FEISHU, why=str(e))
        raise HTTPException(401, "not a genuine Feishu request") from None
    if event.get("type") == "url_verification":
        return {"challenge": event.get("challenge", "")}
    # Genuine (the token matched) but shaped by whoever holds the token: parts that are not objects are none.
    header, payload = (part if isinstance(part := event.get(k), dict) else {} for k in ("header", "event"))
    kind = header.get("event_type")
    if kind == feishu.MESSAGE_RECEIVED:
        later(background, feishu.answer_message(hub, payload), "feishu message")
    elif kind == feishu.CARD_ACTION:
        return await feishu.card_clicked(hub, str(header.get("event_id", "")), payload)
    return {}


@router.post("/webhook/{name}")
async def webhook(name: str, request: Request) -> WebhookReply:
    """A generic webhook: signed JSON in, the answer as JSON."""
    hub = channels_of(request.app)
    secret = hub.settings.webhook_secrets.get(name)
    channel = f"webhook:{name}"
    if secret is None or not CHANNEL_NAME.match(channel):
        raise HTTPException(404, f"no webhook {name!r} (set it in HROPS_WEBHOOK_SECRETS)")
    body = await request.body()
    if not genuine(secret.get_secret_value(), body, request.headers.get(SIGNATURE_HEADER)):
        log.warning("webhook request refused: bad signature", channel=channel)
        raise HTTPException(401, f"bad or missing {SIGNATURE_HEADER}")
    try:
        msg = WebhookIn.model_validate_json(body)
    except ValueError as e:
        raise HTTPException(422, f"not a webhook message: {e}") from None
    if msg.action is not None:
        a = msg.action
        clicked = await hub.click(channel, msg.user, a.action, a.request_id, a.reason, msg.message_id)
        if clicked is None:
            return WebhookReply(duplicate=True)
        return WebhookReply(text=clicked[1], recorded=clicked[0])
    out = await hub.chat(channel, msg.user, msg.text, msg.thread or msg.message_id, msg.message_id)
    if out is None:
        return WebhookReply(duplicate=True)
    return WebhookReply(text=out.text, buttons=out.buttons)
