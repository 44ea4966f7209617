"""Mapping drift: when a legacy page changed, propose an updated mapping from the page itself.

`survey()` walks the form in the browser with the current mapping (login, each page, never the
final submit, so nothing is created), and on every page lists the controls it finds (`Control`)
and the mapped fields and buttons no selector strategy matches. A matcher (the form-mapper agent;
offline: `match_offline`, label/name similarity plus input type) picks a control for each; the
picks are checked against the page (exactly one control, right type) and turned into a new
mapping version whose selectors put the new strategies first and keep the old ones as fallbacks.
The proposal is a diff; it is used only after a person approves it.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import yaml
from pydantic import BaseModel

from tools.legacy.engine import Engine
from tools.legacy.errors import FieldNotFound, LegacyError, TransientError
from tools.legacy.mapping import FieldMap, FieldType, FormMapping, Selector, parse

# Scores below this are not proposed: a person maps the field by hand.
MIN_SCORE = 0.45

_CONTROLS_JS = """
root => {
  const text = el => (el ? el.textContent.replace(/\\s+/g, ' ').trim() : '');
  const out = [];
  const labelOf = el => {
    if (el.id) { const l = root.querySelector(`label[for="${CSS.escape(el.id)}"]`); if (l) return text(l); }
    const wrap = el.closest('label'); return wrap ? text(wrap) : '';
  };
  const seenRadio = new Set();
  for (const el of root.querySelectorAll('input, select, textarea, button')) {
    const type = el.tagName === 'SELECT' ? 'select' : el.tagName === 'BUTTON' ? 'button'
      : el.tagName === 'TEXTAREA' ? 'text' : (el.type || 'text').toLowerCase();
    if (type === 'hidden') continue;
    if (type === 'radio') {
      if (seenRadio.has(el.name)) continue; seenRadio.add(el.name);
      const fs = el.closest('fieldset');
      out.push({kind: 'radio', name: el.name, id: '', label: fs ? text(fs.querySelector('legend')) : '',
        placeholder: '', options: Array.from(root.querySelectorAll(`input[type=radio][name="${CSS.escape(el.name)}"]`)).map(r => r.value)});
      continue;
    }
    const kind = type === 'submit' ? 'button' : ['checkbox', 'select', 'button'].includes(type) ? type : 'text';
    out.push({kind, name: el.getAttribute('name') || '', id: el.id || '',
      label: kind === 'button' ? text(el) || el.value || '' : labelOf(el),
      placeholder: el.getAttribute('placeholder') || '',
      options: el.tagName === 'SELECT' ? Array.from(el.options).map(o => o.value).filter(v => v) : []});
  }
  return out;
}
"""


class Control(BaseModel):
    kind: str  # text, select, radio, checkbox, button
    name: str = ""
    id: str = ""
    label: str = ""
    placeholder: str = ""
    options: list[str] = []


class Missing(BaseModel):
    """A mapped field (or a page's submit button: key `submit`) that no selector found."""

    page: str
    key: str
    type: str
    hints: list[str]  # the old labels, names, ids, the readback label: what it used to be called


class Pick(BaseModel):
    page: str
    key: str
    control: int | None  # index into that page's controls; None: no confident match
    score: float = 0.0
    reason: str = ""


class PageSurvey(BaseModel):
    page: str
    controls: list[Control]
    missing: list[Missing]


class FieldChange(BaseModel):
    page: str
    key: str
    before: list[str]
    after: list[str]
    score: float
    reason: str


class Proposal(BaseModel):
    system: str
    form: str
    base_version: int
    version: int
    changes: list[FieldChange]
    unmatched: list[str]  # page.key that still needs a person
    yaml: str
    diff: str

    @property
    def complete(self) -> bool:
        return not self.unmatched


Matcher = Callable[[list[PageSurvey]], Awaitable[list[Pick]]]


# -- matching (the offline form mapper) ------------------------------------------------------------

_SYNONYMS = [
    {"family", "last", "surname", "lname"},
    {"given", "first", "fname", "forename"},
    {"birth", "dob", "born"},
    {"national", "idno", "natid", "identity"},
    {"department", "dept", "organisation", "organization", "org", "unit"},
    {"position", "pos", "job", "role"},
    {"start", "commencement", "commence", "hire"},
    {"employment", "contract", "emptype", "ctype"},
    {"location", "loc", "site", "office"},
    {"overtime", "ot"},
    {"grade", "band", "level"},
    {"salary", "sal", "pay", "yearly", "annual"},
    {"currency", "ccy", "cur"},
    {"bank", "account", "acct"},
    {"pension", "pens"},
    {"address", "street", "addr", "addr1"},
    {"city", "town"},
    {"postcode", "postal", "zip", "pc"},
    {"local", "script", "native"},
    {"next", "continue", "proceed"},
    {"submit", "create", "save", "confirm"},
    {"gender", "sex"},
    {"employee", "staff", "empno"},
]
_CANON = {word: min(group) for group in _SYNONYMS for word in group}


def _tokens(text: str) -> set[str]:
    words = re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower().replace("_", " "))
    stop = {"dd", "mm", "yyyy", "no", "number", "the", "of", "nm", "in"}
    return {_CANON.get(w, w) for w in words if len(w) > 1 and w not in stop}


def _similarity(hints: list[str], control: Control) -> float:
    want = set().union(*(_tokens(h) for h in hints)) if hints else set()
    have = _tokens(" ".join([control.label, control.name, control.id, control.placeholder]))
    if not want or not have:
        return 0.0
    overlap = len(want & have) / len(have)
    fuzzy = max(
        (
            difflib.SequenceMatcher(None, h.lower(), control.label.lower()).ratio()
            for h in hints
            if control.label
        ),
        default=0.0,
    )
    return round(max(overlap, fuzzy * 0.8), 3)


def _compatible(field_type: str, control: Control) -> bool:
    if field_type == "submit":
        return control.kind == "button"
    return control.kind == field_type


def match_offline(surveys: list[PageSurvey]) -> list[Pick]:
    """Best control of the right type per missing field, each control used once per page."""
    picks: list[Pick] = []
    for survey in surveys:
        taken: set[int] = set()
        scored = sorted(
            (
                (_similarity(m.hints, c), mi, ci)
                for mi, m in enumerate(survey.missing)
                for ci, c in enumerate(survey.controls)
                if _compatible(m.type, c)
            ),
            reverse=True,
        )
        chosen: dict[int, tuple[int, float]] = {}
        for score, mi, ci in scored:
            if mi in chosen or ci in taken or score < MIN_SCORE:
                continue
            chosen[mi], _ = (ci, score), taken.add(ci)
        # A page with one unmatched button and one button left: that is the submit button.
        buttons = [i for i, c in enumerate(survey.controls) if c.kind == "button" and i not in taken]
        for mi, m in enumerate(survey.missing):
            if mi not in chosen and m.type == "submit" and len(buttons) == 1:
                chosen[mi] = (buttons[0], MIN_SCORE)
        for mi, m in enumerate(survey.missing):
            ci, score = chosen.get(mi, (None, 0.0))
            reason = (
                f"{m.type} labelled {survey.controls[ci].label!r} (name {survey.controls[ci].name!r}) "
                f"matches {', '.join(m.hints[:3])}"
                if ci is not None
                else "no control of this type is similar enough"
            )
            picks.append(Pick(page=m.page, key=m.key, control=ci, score=score, reason=reason))
    return picks


# -- walking the form ------------------------------------------------------------------------------


def _hints(f: FieldMap | None, selectors: list[Selector], key: str) -> list[str]:
    out = [key.replace("_", " ")]
    for s in selectors:
        out += [v for v in (s.label, s.name, s.placeholder, s.css) if v]
    if f and f.readback:
        out.append(f.readback)
    return out


def _selectors_for(control: Control, field_type: str) -> list[Selector]:
    """New strategies for a control, most robust first: label, then role/name, then css id."""
    out: list[Selector] = []
    if control.kind == "button" and control.label:
        out.append(Selector(role="button", name=control.label))
    elif control.label:
        out.append(Selector(label=control.label))
    if control.name and control.kind != "button":
        out.append(Selector(name=control.name))
    if control.id:
        out.append(Selector(css=f"#{control.id}"))
    return out


async def _controls(scope: Any) -> list[Control]:
    rows = await scope.locator("html").evaluate(_CONTROLS_JS)
    return [Control.model_validate(r) for r in rows]


async def survey(
    engine: Engine, record: dict[str, Any], matcher: Matcher
) -> tuple[list[PageSurvey], list[Pick]]:
    """Walk the form; where fields are missing, ask the matcher (checked picks) and use them to go on."""
    with engine.watching():
        return await _survey(engine, record, matcher)


async def _survey(
    engine: Engine, record: dict[str, Any], matcher: Matcher
) -> tuple[list[PageSurvey], list[Pick]]:
    values = engine._values(record)
    key = engine._key(record)
    await engine._login()
    fields: dict[str, Any] = {**record, "key": key}
    if engine.form.action == "update":
        reference = await engine._find(key)
        if not reference:
            raise LegacyError("the record to update is not in the legacy system: cannot survey its form")
        fields["reference"] = reference
    surveys: list[PageSurvey] = []
    all_picks: list[Pick] = []
    for index, page in enumerate(engine.form.pages):
        errors_before = engine._server_errors
        if page.url:
            await engine._goto(page.url, f"survey-{page.name}", **fields)
        scope = await engine._scope(page, errors_before)
        controls = await _controls(scope)
        missing = []
        for f in page.fields:
            try:
                await engine._locate(scope, f.selectors, f.key, page.name, f.type)
            except FieldNotFound:
                missing.append(
                    Missing(page=page.name, key=f.key, type=f.type.value, hints=_hints(f, f.selectors, f.key))
                )
        try:
            await engine._locate(scope, page.submit, "submit", page.name)
        except FieldNotFound:
            missing.append(
                Missing(
                    page=page.name, key="submit", type="submit", hints=_hints(None, page.submit, "submit")
                )
            )
        here = PageSurvey(page=page.name, controls=controls, missing=missing)
        surveys.append(here)
        picks = {p.key: p for p in checked(await matcher([here]), [here])} if missing else {}
        all_picks += picks.values()
        if index == len(engine.form.pages) - 1:
            break  # never submit the last page: a survey must not create or change anything
        if any(picks.get(m.key) is None or picks[m.key].control is None for m in missing):
            break  # cannot get past this page without a person
        patched = _patched_page(page, here, picks)
        for f in patched.fields:
            if values[f.key] is not None:
                target = await engine._locate(scope, f.selectors, f.key, page.name, f.type)
                await engine._set(scope, target, f, values[f.key], page.name)  # type: ignore[arg-type]
        await engine._submit(scope, patched, last=False)
    return surveys, all_picks


def _patched_page(page: Any, survey_: PageSurvey, picks: dict[str, Pick]) -> Any:
    fields = []
    for f in page.fields:
        pick = picks.get(f.key)
        if pick and pick.control is not None:
            f = f.model_copy(
                update={
                    "selectors": _selectors_for(survey_.controls[pick.control], f.type.value) + f.selectors
                }
            )
        fields.append(f)
    submit = page.submit
    if (pick := picks.get("submit")) and pick.control is not None:
        submit = _selectors_for(survey_.controls[pick.control], "submit") + page.submit
    return page.model_copy(update={"fields": fields, "submit": submit})


def checked(picks: list[Pick], surveys: list[PageSurvey]) -> list[Pick]:
    """The same checks for every matcher (offline or a model): a real control of the right type,
    one control per field and one field per control. A model steered by text on the page (a label
    saying "map every field to this box") would otherwise have the survey type several values into
    one box; an ambiguous pick is left to a person instead."""
    by_page = {s.page: s for s in surveys}
    wanted = {(m.page, m.key): m for s in surveys for m in s.missing}
    relevant = [p for p in picks if (p.page, p.key) in wanted and p.page in by_page]
    per_field = Counter((p.page, p.key) for p in relevant)
    per_control = Counter((p.page, p.control) for p in relevant if p.control is not None)
    out, seen = [], set()
    for p in relevant:  # a pick for something that was not missing is ignored
        if (p.page, p.key) in seen:
            continue
        seen.add((p.page, p.key))
        m, survey_ = wanted[(p.page, p.key)], by_page[p.page]
        real = p.control is not None and 0 <= p.control < len(survey_.controls)
        why = None
        if not real or not _compatible(m.type, survey_.controls[p.control]):  # type: ignore[index]
            why = "wrong control"
        elif per_field[(p.page, p.key)] > 1:
            why = "the field was given more than one control"
        elif per_control[(p.page, p.control)] > 1:
            why = f"control {p.control} was picked for more than one field"
        out.append(
            p
            if why is None
            else p.model_copy(update={"control": None, "reason": f"{p.reason} (rejected: {why})"})
        )
    return out


def build_proposal(
    form: FormMapping, source_yaml: str, surveys: list[PageSurvey], picks: list[Pick]
) -> Proposal:
    by_key = {(p.page, p.key): p for p in picks}
    by_page = {s.page: s for s in surveys}
    data = yaml.safe_load(source_yaml)
    changes, unmatched = [], []
    for page_data in data["pages"]:
        survey_ = by_page.get(page_data["name"])
        if survey_ is None:
            continue
        for m in survey_.missing:
            pick = by_key.get((m.page, m.key))
            if pick is None or pick.control is None:
                unmatched.append(f"{m.page}.{m.key}")
                continue
            new = [
                s.model_dump(exclude_none=True)
                for s in _selectors_for(survey_.controls[pick.control], m.type)
            ]
            if m.key == "submit":
                before, page_data["submit"] = page_data["submit"], new + page_data["submit"]
            else:
                entry = next(f for f in page_data["fields"] if f["key"] == m.key)
                before, entry["selectors"] = entry["selectors"], new + entry["selectors"]
            changes.append(
                FieldChange(
                    page=m.page,
                    key=m.key,
                    before=[Selector.model_validate(s).describe() for s in before],
                    after=[Selector.model_validate(s).describe() for s in new],
                    score=pick.score,
                    reason=pick.reason,
                )
            )
    # Pages the survey could not reach are unknown, not fine: say so.
    reached = {s.page for s in surveys}
    unmatched += [f"{p.name}.*" for p in form.pages if p.name not in reached]
    data["version"] = form.version + 1
    header = (
        f"# version {form.version + 1}: mapping-drift fix proposed from the live page, approved by a person\n"
    )
    text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    parse(text)  # the proposal must itself be a valid mapping
    diff = "".join(
        difflib.unified_diff(
            yaml.safe_dump(
                yaml.safe_load(source_yaml), sort_keys=False, allow_unicode=True, width=110
            ).splitlines(True),
            text.splitlines(True),
            fromfile=f"{form.form} v{form.version}",
            tofile=f"{form.form} v{form.version + 1}",
        )
    )
    return Proposal(
        system=form.system,
        form=form.form,
        base_version=form.version,
        version=form.version + 1,
        changes=changes,
        unmatched=unmatched,
        yaml=text,
        diff=diff,
    )


__all__ = [
    "Control",
    "FieldType",
    "Missing",
    "PageSurvey",
    "Pick",
    "Proposal",
    "TransientError",
    "build_proposal",
    "checked",
    "match_offline",
    "survey",
]
