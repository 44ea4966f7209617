"""The import mapping: which source column (or template, or constant) fills which employee field.

HR people edit these files, so every mistake gets a message naming the key and the valid choices.
A field can be written in full or, for a plain column, as `title: JobRole`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from tools.employee_io.errors import MappingError, did_you_mean, listing
from tools.employee_io.targets import ALWAYS_REQUIRED, TARGETS, Kind

AS_OF = "as_of"  # a date value meaning "the import's as-of date" (in `value`, `map` or `default`)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_FACT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def template_columns(template: str) -> list[str]:
    """Column names in a template such as "IBM-{EmployeeNumber}" ({{ and }} are literal braces)."""
    return [m.strip() for m in _PLACEHOLDER.findall(template.replace("{{", "").replace("}}", ""))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceSpec(_Strict):
    sheet: str | None = Field(None, description="Excel sheet name; default: the first sheet")
    header_row: int = Field(1, ge=1, description="Row holding the column names (1 = first row)")
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV only")
    encoding: str = Field("utf-8-sig", description="CSV only; utf-8-sig also reads plain UTF-8")


class ParentUnit(_Strict):
    """Where units created by the import go. Created itself when no unit has this code: as the top
    of the tree in an empty store, otherwise under `under` (default: the store's top unit)."""

    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    kind: str | None = Field(None, max_length=20, description="default: company at the top, else division")
    under: str | None = Field(None, description="code of the unit to create the parent under")


class OrgUnitPolicy(_Strict):
    unknown: Literal["refuse", "create"] = Field(
        "refuse",
        description="an org unit the store does not have: refuse the row, or create it under `parent`",
    )
    parent: ParentUnit | None = None
    kind: str = Field("department", max_length=20, description="kind of the units the import creates")


class FieldSpec(_Strict):
    column: str | None = None
    template: str | None = None
    value: Any = None
    map: dict[str, Any] | None = None
    date_format: str | None = None
    years_before_as_of: bool = False
    add: float | None = None
    default: Any = None
    required: bool | None = None
    _shorthand: bool = PrivateAttr(False)

    @model_validator(mode="wrap")
    @classmethod
    def _shorthand(cls, data: Any, handler: Any) -> FieldSpec:
        shorthand = isinstance(data, str)
        if shorthand:
            data = {"column": data}
        elif not isinstance(data, dict | FieldSpec):
            raise ValueError(f"expected a column name or keys such as column/template/value, got {data!r}")
        spec = handler(data)
        spec._shorthand = shorthand
        return spec

    @field_validator("column", "template")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be empty")
        return v.strip() if v is not None else None

    @field_validator("map", mode="before")
    @classmethod
    def _keys_as_text(cls, v: Any) -> Any:
        # Source cells arrive as text; `1: Junior` in YAML has an int key.
        return {_key(k): val for k, val in v.items()} if isinstance(v, dict) else v

    @field_validator("date_format")
    @classmethod
    def _strptime_format(cls, v: str | None) -> str | None:
        if v is not None and "%" not in v:
            raise ValueError(f"{v!r} is not a date format: use strptime codes such as %d/%m/%Y or %Y-%m-%d")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [k for k in ("column", "template", "value") if k in self.model_fields_set]
        if len(given) != 1:
            what = "none" if not given else " and ".join(given)
            raise ValueError(f"give exactly one of column, template or value (got {what})")
        if self.template is not None and not template_columns(self.template):
            raise ValueError(f"template {self.template!r} names no column: write {{Column}}, or use `value:`")
        if self.template is not None and any(not c for c in template_columns(self.template)):
            raise ValueError(f"template {self.template!r} has an empty {{}}")
        return self

    @property
    def is_constant(self) -> bool:
        return "value" in self.model_fields_set

    def columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        return template_columns(self.template) if self.template is not None else []

    def where(self) -> str:
        """How this field appears in messages: the source column(s) or 'constant'."""
        cols = self.columns()
        return ", ".join(cols) if cols else "(constant)"


def _key(k: Any) -> str:
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k).strip()


class EmployeeMapping(_Strict):
    version: Literal[1] = Field(description="format version; 1")
    name: str | None = Field(
        None, max_length=33, description="recorded as the employees' source; default: file name"
    )
    description: str | None = None
    source: SourceSpec = SourceSpec()
    org_units: OrgUnitPolicy = OrgUnitPolicy()
    snapshot: bool = Field(
        False,
        description="the file is one day's picture without event dates (dates derived from the as-of date): "
        "analytics answers its units on their own, as of that day, and refuses periods",
    )
    fields: dict[str, FieldSpec]
    facts: dict[str, FieldSpec] = Field(
        {}, description="numbers kept per employee as of the import's date: fact name -> column"
    )
    _path: Path | None = PrivateAttr(None)

    @field_validator("fields", mode="before")
    @classmethod
    def _known_targets(cls, v: Any) -> Any:
        if not isinstance(v, dict) or not v:
            raise ValueError(
                "`fields` must map employee fields to source columns, e.g. `employee_id: EmployeeNumber`"
            )
        for name in v:
            if name not in TARGETS:
                raise ValueError(
                    f"unknown employee field {name!r}{did_you_mean(str(name), TARGETS)}; "
                    f"valid fields: {listing(TARGETS)}"
                )
        return v

    @field_validator("facts")
    @classmethod
    def _fact_names(cls, v: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for name, spec in v.items():
            if not _FACT_NAME.match(name) or name in TARGETS:
                raise ValueError(
                    f"fact name {name!r}: use lower-case letters, digits and _ (at most 60), "
                    "not an employee field's name"
                )
            if spec.date_format or spec.years_before_as_of:
                raise ValueError(f"{name}: facts are numbers (no date_format or years_before_as_of)")
        return v

    @model_validator(mode="after")
    def _complete(self) -> EmployeeMapping:
        problems: list[str] = []
        have = set(self.fields)
        missing = [f for f in ALWAYS_REQUIRED if f not in have]
        if "org_unit_code" not in have and "org_unit_name" not in have:
            missing.append("org_unit_code or org_unit_name")
        if "display_name" not in have and not {"given_name", "family_name"} <= have:
            missing.append("display_name (or given_name and family_name)")
        if missing:
            problems.append(
                f"no mapping for {', '.join(missing)}: every employee needs them (use `value:` for a constant)"
            )
        for anchor, needs in (
            ("base_amount", ("currency", "pay_frequency")),
            ("address_line1", ("address_city", "address_country")),
        ):
            group = [f for f in have if TARGETS[f].group == TARGETS[anchor].group]
            if group and anchor not in have:
                problems.append(f"{', '.join(sorted(group))} given without {anchor}")
            elif anchor in have and (lack := [n for n in needs if n not in have]):
                problems.append(f"{anchor} needs {' and '.join(lack)} too")
        for name, spec in self.fields.items():
            kind = TARGETS[name].kind
            if spec.date_format and kind is not Kind.DATE:
                problems.append(f"fields.{name}: date_format only applies to date fields")
            if spec.years_before_as_of and kind is not Kind.DATE:
                problems.append(f"fields.{name}: years_before_as_of only applies to date fields")
            if spec.add is not None and kind is not Kind.NUMBER and not spec.years_before_as_of:
                problems.append(f"fields.{name}: add only applies to numbers and years_before_as_of")
        if self.snapshot and self.org_units.parent is None:
            problems.append(
                "snapshot: true needs org_units.parent: a snapshot lands under its own unit, "
                "so analytics never mixes it with dated records"
            )
        if self.org_units.unknown == "create" and self.org_units.parent is None:
            problems.append(
                "org_units.unknown is 'create' but org_units.parent is missing: "
                "name the unit new ones go under (code and name)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def match_org_by(self) -> Literal["code", "name"]:
        return "code" if "org_unit_code" in self.fields else "name"

    @property
    def label(self) -> str:
        return self.name or (self._path.stem if self._path else "import")

    @property
    def source_name(self) -> str:
        """What the employees' `source` column records."""
        return f"import:{self.label}"[:40]

    @property
    def derived_fields(self) -> list[str]:
        """Fields whose dates are worked out from the as-of date rather than read from the file."""
        return [
            name
            for name, s in self.fields.items()
            if s.years_before_as_of or AS_OF in (s.value, s.default, *(s.map or {}).values())
        ]

    def where(self, field_name: str | None) -> str | None:
        """The source column(s) a field (or fact) comes from, for messages; None for derived fields."""
        spec = self.fields.get(field_name or "") or self.facts.get(field_name or "")
        return spec.where() if spec else None

    def columns(self) -> list[str]:
        """Every source column the mapping reads, in mapping order, without repeats."""
        specs = [*self.fields.values(), *self.facts.values()]
        return list(dict.fromkeys(c for spec in specs for c in spec.columns()))

    @classmethod
    def for_columns(cls, columns: Iterable[str]) -> EmployeeMapping:
        """The mapping for a file whose headers are the field names (such as an export): each such
        column fills its field; org units are matched by code and never created."""
        from tools.employee_io.errors import ImportFileError

        present = [c for c in columns if c in TARGETS]
        try:
            if not present:
                raise MappingError("mapping: no column is named like an employee field")
            return parse_mapping({"version": 1, "name": "spreadsheet", "fields": {c: c for c in present}})
        except MappingError as e:
            detail = str(e).split(": ", 1)[-1]
            raise ImportFileError(
                f"without a mapping the columns must be named like employee fields ({listing(TARGETS, 6)}) "
                f"and cover the required ones; here: {detail}. Pass a mapping YAML instead "
                "(see examples/ibm_attrition/mapping.yaml)"
            ) from None


# --- loading -------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only (so `Yes: terminated` keeps the key 'Yes'), and no duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise MappingError(f"line {key_node.start_mark.line + 1}: key {key!r} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

_MODELS_AT: dict[tuple[str, ...], type[BaseModel]] = {
    (): EmployeeMapping,
    ("source",): SourceSpec,
    ("org_units",): OrgUnitPolicy,
    ("org_units", "parent"): ParentUnit,
}


def _model_at(loc: tuple[str, ...]) -> type[BaseModel] | None:
    if len(loc) == 2 and loc[0] in ("fields", "facts"):
        return FieldSpec
    return _MODELS_AT.get(loc)


def _explain(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        loc = tuple(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            parent, key = loc[:-1], loc[-1]
            model = _model_at(parent)
            valid = [k for k in model.model_fields] if model else []
            where = ".".join(parent) or "the top level"
            lines.append(
                f"unknown key {key!r} in {where}{did_you_mean(key, valid)}; valid keys: {', '.join(valid)}"
            )
            continue
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "is required"
        lines.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    return "; ".join(lines)


def parse_mapping(data: Any, *, where: str = "mapping") -> EmployeeMapping:
    if not isinstance(data, dict):
        raise MappingError(
            f"{where}: expected keys version, source, org_units, fields; got {type(data).__name__}"
        )
    try:
        return EmployeeMapping.model_validate(data)
    except ValidationError as e:
        raise MappingError(f"{where}: {_explain(e)}") from None


def load_mapping(path: str | Path) -> EmployeeMapping:
    """Read and check a mapping YAML; any problem raises `MappingError` naming the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"mapping file {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise MappingError(f"cannot read mapping {str(path)!r}: {e}") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except MappingError as e:
        raise MappingError(f"{path.name}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise MappingError(f"{path.name}: not valid YAML{at}: {problem}") from None
    mapping = parse_mapping(data, where=path.name)
    mapping._path = path
    return mapping


def resolve_as_of(value: Any, as_of: date) -> Any:
    return as_of if value == AS_OF else value
