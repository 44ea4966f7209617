"""The mapping schema: how to drive one legacy system and its forms, as data.

Two kinds of YAML file live in `mappings/<system>/`:

- `system.yaml` (`kind: system`): base URL, login, how an expired session and validation errors
  show, how to find a record by its key (the idempotency search), the record page used for
  read-back, and code tables shared by the forms.
- `<form>.yaml` (`kind: form`): the pages of one form, each with its fields (selector strategies
  tried in order, value transforms), the submit button and what success looks like.

Every model forbids unknown keys, so a typo is an error that names the key and where it is.
"""

from __future__ import annotations

import importlib
import re
import string
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tools import yaml_problems
from tools.approvals.rules import ChangeType

NAME = r"^[a-z][a-z0-9_]*$"


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"not a valid regular expression ({e})") from None
    return pattern


def _placeholders(template: str) -> set[str]:
    """Names a format string uses: `{department}-{value}` -> {department, value}."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"{template!r} is not a valid template ({e})") from None
    return {re.split(r"[.\[]", name)[0] for _, name, _, _ in parsed if name}


def record_attributes() -> set[str]:
    """What `source:` and templates may name: the HR record as mappings see it."""
    from tools.legacy.record import LegacyEmployee

    return set(LegacyEmployee.model_fields)


def _unknown(names: set[str], allowed: set[str]) -> str | None:
    bad = sorted(names - allowed)
    return ", ".join(bad) if bad else None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- selectors -------------------------------------------------------------------------------


class Selector(Strict):
    """One way to find an element. Exactly one strategy key; `name` with `role` is the accessible name."""

    label: str | None = Field(None, description="Visible label text (exact, whitespace-normalised)")
    role: str | None = Field(None, description="ARIA role, e.g. button, link, textbox; with `name`")
    name: str | None = Field(None, description="With `role`: accessible name. Alone: the name attribute")
    placeholder: str | None = None
    css: str | None = None

    @model_validator(mode="after")
    def _one_strategy(self) -> Selector:
        keys = [k for k in ("label", "role", "placeholder", "css") if getattr(self, k) is not None]
        if not keys and self.name is None:
            raise ValueError("a selector needs one of: label, role (+ name), name, placeholder, css")
        if len(keys) > 1:
            raise ValueError(
                f"a selector uses one strategy, this one has {', '.join(keys)}: split it into two"
            )
        return self

    @property
    def strategy(self) -> str:
        for k in ("label", "role", "placeholder", "css"):
            if getattr(self, k) is not None:
                return k
        return "name"

    def describe(self) -> str:
        if self.role:
            return f"role={self.role}" + (f"[{self.name}]" if self.name else "")
        return f"{self.strategy}={getattr(self, self.strategy)!r}"


Selectors = Annotated[list[Selector], Field(min_length=1)]


# -- transforms ------------------------------------------------------------------------------


class Transform(Strict):
    """One step that turns the HR value into what the legacy field wants. Exactly one key."""

    date: str | None = Field(None, description="strftime format, e.g. '%d/%m/%Y'")
    table: str | None = Field(None, description="code table name: value -> legacy code")
    template: str | None = Field(None, description="format string; {value} and any record field")
    pad: int | None = Field(None, description="left-pad with zeros to this width")
    digits: bool | None = Field(None, description="keep only the digits")
    upper: bool | None = None
    lower: bool | None = None
    number: str | None = Field(None, description="format spec for numbers, e.g. '.2f'")
    truncate: int | None = Field(None, description="cut to at most this many characters")
    yes_no: bool | None = Field(None, description="truthy -> 'Y', else 'N'")
    default: str | None = Field(None, description="used when the value is empty")
    hook: str | None = Field(None, description="'module:function' taking (value, record) -> value")

    @model_validator(mode="after")
    def _one_key(self) -> Transform:
        keys = [k for k, v in self.model_dump().items() if v is not None]
        if len(keys) != 1:
            raise ValueError(f"a transform has exactly one key (has {', '.join(keys) or 'none'})")
        return self

    @property
    def op(self) -> tuple[str, Any]:
        return next((k, v) for k, v in self.model_dump().items() if v is not None)


# -- fields, pages, forms -----------------------------------------------------------------------


class FieldType(StrEnum):
    TEXT = "text"
    SELECT = "select"
    RADIO = "radio"
    CHECKBOX = "checkbox"


class FieldMap(Strict):
    key: str = Field(pattern=NAME, description="the field's name in this mapping")
    type: FieldType = FieldType.TEXT
    source: str | None = Field(None, description="attribute of the HR record (see `hrops legacy fields`)")
    value: str | None = Field(None, description="a constant instead of a source; may use {field} templates")
    transforms: list[Transform] = []
    selectors: Selectors
    required: bool = Field(True, description="an empty value is an error (false: the field is left alone)")
    secret: bool = Field(
        False,
        description="kept out of evidence: masked in screenshots, blanked in saved HTML (on the record "
        "page too, under its `readback` label)",
    )
    wait_for_options: bool = Field(
        False, description="select filled by the page after another choice (XHR): wait for the option"
    )
    readback: str | None = Field(
        None, description="label of this value on the record page; unset: not verified"
    )

    @model_validator(mode="after")
    def _source_or_value(self) -> FieldMap:
        if (self.source is None) == (self.value is None):
            raise ValueError("give exactly one of `source` or `value`")
        if self.source is not None and self.source not in record_attributes():
            raise ValueError(
                f"source {self.source!r} is not an attribute of the HR record (`hrops legacy fields` lists them)"
            )
        return self


class Expect(Strict):
    """What shows a step worked: the browser reached a URL (path prefix) and/or a text appeared."""

    url: str | None = None
    text: str | None = Field(None, description="regular expression searched in the top page's text")

    @model_validator(mode="after")
    def _something(self) -> Expect:
        if self.url is None and self.text is None:
            raise ValueError("give `url`, `text` or both")
        if self.text:
            _check_regex(self.text)
        return self


class Page(Strict):
    name: str = Field(pattern=NAME)
    url: str | None = Field(None, description="path to open first; {reference} and record fields allowed")
    frame: str | None = Field(None, description="CSS of the iframe that holds this page's form")
    fields: list[FieldMap] = []
    submit: Selectors
    next: Expect | None = Field(None, description="how to know the step was accepted (last page: `success`)")


class Success(Strict):
    """How the final page says the record was saved, and where the reference number is."""

    text: str = Field(description="regular expression over the page text; group `reference` if any")
    selector: str | None = Field(None, description="CSS of the element holding the message")

    @field_validator("text")
    @classmethod
    def _regex(cls, v: str) -> str:
        return _check_regex(v)


class FormMapping(Strict):
    kind: Literal["form"]
    system: str = Field(pattern=NAME)
    form: str = Field(pattern=NAME)
    version: int = Field(1, ge=1)
    title: str
    action: Literal["create", "update"] = Field(
        description="create: searched first, entered only if absent; update: the record must exist"
    )
    pages: Annotated[list[Page], Field(min_length=1)]
    success: Success
    tables: dict[str, dict[str, str]] = {}
    on_changes: list[ChangeType] = Field(
        [], description="Record changes (e.g. transfer) after which this form is pushed again"
    )
    notes: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> FormMapping:
        keys = [f.key for p in self.pages for f in p.fields]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"field keys must be unique in a form; repeated: {', '.join(dupes)}")
        for p in self.pages[:-1]:
            if p.next is None:
                raise ValueError(
                    f"page {p.name!r} is not the last: give `next` (how to know it was accepted)"
                )
        if self.action == "create" and "reference" not in re.compile(self.success.text).groupindex:
            raise ValueError(
                "success.text of a create form needs a group (?P<reference>...) around the new "
                "record's reference: the read-back and later updates open the record by it"
            )
        if problems := self._names():
            raise ValueError("; ".join(problems))
        return self

    def _names(self) -> list[str]:
        """Every {name} in a URL, value or template must exist when the push fills it in."""
        record = record_attributes()
        url_names = record | {"key"} | ({"reference"} if self.action == "update" else set())
        problems, earlier = [], set()
        for p in self.pages:
            if p.url and (bad := _unknown(_placeholders(p.url), url_names)):
                problems.append(
                    f"page {p.name!r}: url uses {{{bad}}}; known: key"
                    + (", reference" if self.action == "update" else " (no reference before it is created)")
                    + " and the HR record's attributes"
                )
            for f in p.fields:
                names = record | earlier
                if f.value is not None and (bad := _unknown(_placeholders(f.value), names)):
                    problems.append(f"field {f.key!r}: value uses unknown {{{bad}}}")
                for t in f.transforms:
                    if t.template is not None and (
                        bad := _unknown(_placeholders(t.template), names | {"value"})
                    ):
                        problems.append(
                            f"field {f.key!r}: template uses unknown {{{bad}}} "
                            "(known: value, the HR record's attributes, keys of earlier fields)"
                        )
                earlier.add(f.key)
        return problems

    def fields(self) -> list[FieldMap]:
        return [f for p in self.pages for f in p.fields]


# -- system ----------------------------------------------------------------------------------


class Credential(Strict):
    selectors: Selectors


class Login(Strict):
    url: str
    username: Credential
    password: Credential
    submit: Selectors
    success: Expect
    failure: str | None = Field(None, description="CSS of the message shown for wrong credentials")


class Find(Strict):
    """The search used before creating anything: a result row whose key column equals the key."""

    url: str = Field(description="path with {key}, e.g. /employees/search?q={key}")
    rows: str = Field(description="CSS of the result rows")
    key_column: int = Field(ge=1, description="1-based column holding the key")
    reference_column: int = Field(ge=1, description="1-based column holding the legacy reference")
    empty: str | None = Field(
        None,
        description="CSS of the no-results message: with it, a page showing neither results nor "
        "this message is never taken for 'not there'",
    )

    @field_validator("url")
    @classmethod
    def _has_key(cls, v: str) -> str:
        if _placeholders(v) != {"key"}:
            raise ValueError("the search url must use {key} (and nothing else), e.g. /search?q={key}")
        return v


class RecordPage(Strict):
    """The read-only page of one record, read back after entry: rows of label + value."""

    url: str = Field(description="path with {reference}")
    rows: str = Field("table tr", description="CSS of the label/value rows")

    @field_validator("url")
    @classmethod
    def _has_reference(cls, v: str) -> str:
        if _placeholders(v) != {"reference"}:
            raise ValueError(
                "the record url must use {reference} (and nothing else), e.g. /records/{reference}"
            )
        return v

    label: str = Field("th", description="CSS of the label cell within a row")
    value: str = Field("td", description="CSS of the value cell within a row")
    yes: list[str] = ["Yes", "Y", "true", "1", "on"]


class Key(Strict):
    source: str
    transforms: list[Transform] = []

    @field_validator("source")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in record_attributes():
            raise ValueError(f"{v!r} is not an attribute of the HR record (`hrops legacy fields` lists them)")
        return v


class SystemMapping(Strict):
    kind: Literal["system"]
    system: str = Field(pattern=NAME)
    title: str
    version: int = Field(1, ge=1)
    base_url: str = Field(description="default; HROPS_LEGACY_URLS overrides it per system")
    login: Login
    session_expired: Expect = Field(description="where the system sends you when the session is gone")
    errors: str = Field(description="CSS of validation messages on a page")
    server_error: str | None = Field(None, description="regular expression of an error page's text")
    key: Key
    find: Find
    record: RecordPage
    tables: dict[str, dict[str, str]] = {}


# -- loading ---------------------------------------------------------------------------------


class MappingError(ValueError):
    """A mapping file that cannot be used, with every problem and where it is."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(
            f"{path}: " + ("; ".join(problems) if len(problems) == 1 else f"{len(problems)} problems")
        )

    def report(self) -> str:
        return "\n".join([f"{self.path}:"] + [f"  - {p}" for p in self.problems])


def _label(node: dict[str, Any]) -> str | None:
    if "key" in node:
        return f"key {node['key']!r}"
    if "name" in node and "submit" in node:
        return f"page {node['name']!r}"
    return None


def parse(text: str, path: Path | str = "<mapping>") -> SystemMapping | FormMapping:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise MappingError(path, [f"not valid YAML: {e}"]) from None
    if not isinstance(data, dict):
        raise MappingError(path, ["expected a mapping of keys at the top level"])
    kind = data.get("kind")
    model = {"system": SystemMapping, "form": FormMapping}.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise MappingError(path, [f"`kind` must be 'system' or 'form' (found {kind!r})"])
    try:
        return model.model_validate(data)
    except ValidationError as e:
        hint = "check the spelling; docs/legacy-systems.md lists every key"
        raise MappingError(path, yaml_problems.problems(e, data, _label, hint)) from None


def load(path: Path) -> SystemMapping | FormMapping:
    if not path.exists():
        raise MappingError(path, ["no such file"])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise MappingError(path, [f"not UTF-8 text (at byte {e.start}): save it as UTF-8"]) from None
    return parse(text, path)


def _hook_problem(spec: str) -> str | None:
    module, _, name = spec.partition(":")
    if not module or not name:
        return "must be 'module:function'"
    try:
        target = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, TypeError) as e:  # TypeError: a relative name, ".module"
        return f"cannot be loaded ({e})"
    return None if callable(target) else "is not a function"


def check_form_against_system(form: FormMapping, system: SystemMapping, path: Path | str) -> None:
    """Cross-file checks: the form's system matches and every code table it names exists."""
    problems = []
    if form.system != system.system:
        problems.append(f"system: form says {form.system!r} but it sits with system {system.system!r}")
    tables = {**system.tables, **form.tables}
    for f in form.fields():
        for t in f.transforms:
            if t.table is not None and t.table not in tables:
                problems.append(
                    f"field {f.key!r}: code table {t.table!r} is not defined "
                    f"(known: {', '.join(sorted(tables)) or 'none'})"
                )
            if t.hook is not None and (why := _hook_problem(t.hook)):
                problems.append(f"field {f.key!r}: hook {t.hook!r} {why}")
    if problems:
        raise MappingError(path, problems)
