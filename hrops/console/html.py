"""Small HTML building blocks (no template engine is installed, and none is needed): every value
from outside goes through `e()`; functions return HTML that is safe to join."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from tools.knowledge.cases import ANSWERERS
from tools.market.tools import RESEARCHERS
from tools.store.identity import Principal
from tools.store.models import Role


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


@dataclass
class View:
    """What every page needs: who is looking, in which language, the form token, a message."""

    who: Principal | None
    lang: str
    w: dict[str, str]
    csrf: str
    flash: tuple[str, bool] | None = None


# Roles that read published market research (the same as may request it).
COMP_READERS = RESEARCHERS  # who reads market reports: who may request them
CASE_ANSWERERS = ANSWERERS  # who answers policy cases: HR ops and admins
NAV: tuple[tuple[str, str, frozenset[Role] | None], ...] = (
    ("chat", "/console/chat", None),
    ("approvals", "/console/approvals", None),
    ("analytics", "/console/analytics", None),
    ("policy", "/console/policy", None),
    ("cases", "/console/cases", CASE_ANSWERERS),
    ("comp", "/console/comp", COMP_READERS),
    ("tools", "/console/tools", None),
)


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{e(name)}" value="{e(value)}">'


def form(v: View, action: str, inner: str, cls: str = "") -> str:
    """A POST form with the session's CSRF token."""
    return f'<form method="post" action="{e(action)}" class="{e(cls)}">{hidden("csrf", v.csrf)}{inner}</form>'


def table(head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    """Cells are HTML already (escape them with e() first)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    thead = f"<thead><tr>{th}</tr></thead>" if th else ""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{e(cls)}">{thead}<tbody>{body}</tbody></table>'


def section(title: str, inner: str, cls: str = "") -> str:
    return f'<section class="card {e(cls)}"><h2>{e(title)}</h2>{inner}</section>'


def badge(text: str) -> str:
    return f'<span class="badge stage-{e(text.replace(" ", "_"))}">{e(text)}</span>'


def page(v: View, title: str, body: str, active: str = "") -> str:
    w = v.w
    head = (
        '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>{title} · {product}</title><link rel="stylesheet" href="/console/static/console.css">'
        "</head><body>"
    ).format(lang="zh-CN" if v.lang == "zh" else "en", title=e(title), product=e(w["product"]))
    langs = "".join(
        f'<button name="lang" value="{code}" class="link{" on" if v.lang == code else ""}">{label}</button>'
        for code, label in (("en", "EN"), ("zh", "中文"))
    )
    bar = f'<header class="top"><a class="brand" href="/console/">{e(w["product"])}</a>'
    if v.who is not None:
        links = "".join(
            f'<a href="{href}" class="{"on" if key == active else ""}">{e(w[key])}</a>'
            for key, href, roles in NAV
            if roles is None or v.who.has(*roles)
        )
        bar += f"<nav>{links}</nav>"
    bar += form(v, "/console/lang", langs, "lang")
    if v.who is not None:
        roles = ", ".join(sorted(v.who.roles))
        bar += (
            f'<span class="me" title="{e(w["roles"])}: {e(roles)}">{e(v.who.display_name)}'
            f" <small>({e(v.who.username)} · {e(roles)})</small></span>"
            + form(v, "/console/logout", f'<button class="link">{e(w["sign_out"])}</button>', "out")
        )
    bar += "</header>"
    flash = ""
    if v.flash:
        text, ok = v.flash
        flash = f'<p class="flash {"ok" if ok else "bad"}" role="status">{e(text)}</p>'
    return f"{head}{bar}<main><h1>{e(title)}</h1>{flash}{body}</main></body></html>"


def num(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"
