"""HTML of the stand-in: 2003-style server-rendered pages. Every value goes through `escape`."""

from __future__ import annotations

from html import escape

from infra.legacy_hris.forms import (
    BUTTONS,
    CURRENCIES,
    DEPARTMENTS,
    EMPTYPES,
    FIELDS,
    GRADES,
    LOCATIONS,
    SEXES,
    VIEW,
    positions,
)

STYLE = """
body{font-family:Verdana,Arial,sans-serif;font-size:12px;background:#d4d0c8;margin:0}
#hdr{background:#003399;color:#fff;padding:6px 10px;font-weight:bold}
#main{padding:10px} table{border-collapse:collapse;background:#fff}
td,th{border:1px solid #808080;padding:3px 6px;text-align:left} th{background:#e0e0e0}
.errors{color:#900;border:1px solid #900;background:#fee;padding:4px;margin-bottom:8px}
.success{color:#060;border:1px solid #060;background:#efe;padding:4px;margin-bottom:8px}
.warning{color:#960} label{display:inline-block;min-width:200px} .row{margin:4px 0}
fieldset{display:inline-block;border:1px solid #808080}
"""

POSITIONS_JS = """
<script>
function loadPositions(sel, target) {
  var pos = document.getElementById(target);
  pos.innerHTML = '<option value="">-- loading --</option>'; pos.disabled = true;
  var x = new XMLHttpRequest();
  x.open('GET', '/api/positions?dept=' + encodeURIComponent(sel.value));
  x.onload = function () {
    if (x.status !== 200) { pos.innerHTML = '<option value="">-- error, choose again --</option>'; return; }
    var html = '<option value="">-- select --</option>';
    JSON.parse(x.responseText).forEach(function (p) {
      var o = document.createElement('option'); o.value = p.code; o.textContent = p.label; html += o.outerHTML;
    });
    pos.innerHTML = html; pos.disabled = false;
  };
  x.onerror = function () { pos.innerHTML = '<option value="">-- error, choose again --</option>'; };
  x.send();
}
</script>
"""


def page(title: str, body: str, *, user: str | None = None) -> str:
    who = (
        f" &middot; signed in as {escape(user)} &middot; <a href='/logout' style='color:#fff'>Sign out</a>"
        if user
        else ""
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)} - Classic HRIS</title>"
        f"<style>{STYLE}</style></head><body><div id='hdr'>Classic HRIS 4.2{who}</div>"
        f"<div id='main'><h2>{escape(title)}</h2>{body}</div></body></html>"
    )


def errors_box(errors: list[str]) -> str:
    if not errors:
        return ""
    return "<div class='errors'><ul>" + "".join(f"<li>{escape(e)}</li>" for e in errors) + "</ul></div>"


def _options(choices: list[tuple[str, str]], current: str, first: str = "-- select --") -> str:
    out = [f"<option value=''>{escape(first)}</option>"]
    for value, label in choices:
        sel = " selected" if value == current else ""
        out.append(f"<option value='{escape(value, quote=True)}'{sel}>{escape(label)}</option>")
    return "".join(out)


def _choices(key: str, values: dict[str, str]) -> list[tuple[str, str]]:
    return {
        "dept": list(DEPARTMENTS.items()),
        "pos": positions(values.get("dept", "")),
        "loc": list(LOCATIONS.items()),
        "grade": [(g, g) for g in GRADES],
        "ccy": [(c, c) for c in CURRENCIES],
        "sex": list(SEXES.items()),
        "emptype": list(EMPTYPES.items()),
    }[key]


def control(key: str, values: dict[str, str], layout: str) -> str:
    f = FIELDS[key]
    label, name, id_ = f.label(layout), f.name(layout), f.id(layout)
    value = values.get(key, "")
    if f.kind == "radio":
        radios = "".join(
            f"<label><input type='radio' name='{name}' value='{v}'{' checked' if v == value else ''}> {escape(t)}</label> "
            for v, t in _choices(key, values)
        )
        return f"<div class='row'><fieldset><legend>{escape(label)}</legend>{radios}</fieldset></div>"
    if f.kind == "checkbox":
        checked = " checked" if value == "Y" else ""
        return f"<div class='row'><label><input type='checkbox' id='{id_}' name='{name}' value='Y'{checked}> {escape(label)}</label></div>"
    if f.kind == "select":
        extra = ""
        choices = _choices(key, values)
        first = "-- select --"
        if key == "dept":
            extra = f" onchange=\"loadPositions(this, '{FIELDS['pos'].id(layout)}')\""
        if key == "pos" and not choices:
            extra, first = " disabled", "-- choose department first --"
        return (
            f"<div class='row'><label for='{id_}'>{escape(label)}</label>"
            f"<select id='{id_}' name='{name}'{extra}>{_options(choices, value, first)}</select></div>"
        )
    ph = f" placeholder='{escape(f.placeholder)}'" if f.placeholder else ""
    return (
        f"<div class='row'><label for='{id_}'>{escape(label)}</label>"
        f"<input type='text' id='{id_}' name='{name}' value='{escape(value, quote=True)}' size='40'{ph}></div>"
    )


def form(
    action: str,
    keys: list[str],
    values: dict[str, str],
    layout: str,
    csrf: str,
    button: str,
    *,
    target: str = "",
) -> str:
    controls = "".join(control(k, values, layout) for k in keys)
    label = BUTTONS[button][layout]
    return (
        f"<form method='post' action='{action}'{target}>"
        f"<input type='hidden' name='_csrf' value='{escape(csrf, quote=True)}'>{controls}"
        f"<div class='row'><button type='submit'>{escape(label)}</button></div></form>"
    )


def shown(key: str, value: str) -> str:
    if FIELDS[key].kind == "checkbox":
        return "Yes" if value == "Y" else "No"
    return value


def record_table(values: dict[str, str], *, ref: str | None = None) -> str:
    rows = [("Reference", ref)] if ref else []
    rows += [(label, shown(key, values.get(key, ""))) for label, key in VIEW]
    return (
        "<table class='record'>"
        + "".join(f"<tr><th>{escape(label)}</th><td>{escape(v or '')}</td></tr>" for label, v in rows)
        + "</table>"
    )
