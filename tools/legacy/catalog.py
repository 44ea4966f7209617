"""Where mappings live and which version is in force.

Shipped mappings sit in this package (`tools/legacy/mappings/<system>/`); versions approved at run
time (mapping-drift fixes) are saved under `<var_dir>/legacy/mappings/<system>/<form>.v<N>.yaml`.
The highest version of a form wins; older files stay as history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hrops.settings import get_settings
from tools.legacy.mapping import FormMapping, MappingError, SystemMapping, check_form_against_system, load

SHIPPED = Path(__file__).parent / "mappings"
_VERSIONED = re.compile(r"^(?P<form>[a-z][a-z0-9_]*)\.v(?P<version>\d+)\.yaml$")


def approved_dir() -> Path:
    return get_settings().var_dir / "legacy" / "mappings"


def roots() -> list[Path]:
    return [SHIPPED, approved_dir()]


class UnknownSystem(LookupError):
    pass


@dataclass(frozen=True)
class Loaded:
    system: SystemMapping
    form: FormMapping
    path: Path


def systems() -> list[str]:
    found = {p.parent.name for root in roots() if root.exists() for p in root.glob("*/system.yaml")}
    return sorted(found)


def system(name: str) -> SystemMapping:
    for root in roots():
        path = root / name / "system.yaml"
        if path.exists():
            mapping = load(path)
            if not isinstance(mapping, SystemMapping):
                raise MappingError(path, ["expected `kind: system`"])
            return mapping
    known = ", ".join(systems()) or "none"
    raise UnknownSystem(
        f"no legacy system {name!r} (known: {known}); add tools/legacy/mappings/{name}/system.yaml"
    )


def _form_files(system_name: str) -> dict[str, list[tuple[int, Path]]]:
    files: dict[str, list[tuple[int, Path]]] = {}
    for root in roots():
        folder = root / system_name
        if not folder.exists():
            continue
        for path in folder.glob("*.yaml"):
            if path.name == "system.yaml":
                continue
            m = _VERSIONED.match(path.name)
            name, version = (m["form"], int(m["version"])) if m else (path.stem, 0)
            files.setdefault(name, []).append((version, path))
    return files


def forms(system_name: str) -> list[str]:
    return sorted(_form_files(system_name))


def form(system_name: str, form_name: str) -> Loaded:
    sysmap = system(system_name)
    candidates = _form_files(system_name).get(form_name)
    if not candidates:
        raise UnknownSystem(
            f"system {system_name!r} has no form {form_name!r} (known: {', '.join(forms(system_name)) or 'none'})"
        )
    best: tuple[int, Path, FormMapping] | None = None
    seen: dict[int, Path] = {}
    for named, path in candidates:
        mapping = load(path)
        if not isinstance(mapping, FormMapping):
            raise MappingError(path, ["expected `kind: form`"])
        if named and named != mapping.version:
            raise MappingError(path, [f"the file name says version {named}, the file says {mapping.version}"])
        if mapping.version in seen:
            # Which one is in force would depend on the order files are listed in: refuse.
            raise MappingError(
                path,
                [f"version {mapping.version} of {form_name!r} is also in {seen[mapping.version]}: keep one"],
            )
        seen[mapping.version] = path
        if best is None or mapping.version > best[0]:
            best = (mapping.version, path, mapping)
    assert best is not None
    check_form_against_system(best[2], sysmap, best[1])
    return Loaded(sysmap, best[2], best[1])


def save_version(mapping: FormMapping, yaml_text: str) -> Path:
    """Write an approved mapping version; refuses to overwrite an existing version."""
    folder = approved_dir() / mapping.system
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mapping.form}.v{mapping.version}.yaml"
    if path.exists():
        if path.read_text(encoding="utf-8") == yaml_text:
            return path  # the same approval delivered twice
        raise MappingError(path, [f"version {mapping.version} exists already with other content"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml_text, encoding="utf-8")
    tmp.replace(path)
    return path


def validate_file(path: Path) -> SystemMapping | FormMapping:
    """`hrops legacy validate`: the file on its own, and against its system when there is one."""
    mapping = load(path)
    if isinstance(mapping, FormMapping):
        sibling = path.parent / "system.yaml"
        sysmap = load(sibling) if sibling.exists() else None
        if sysmap is None:
            try:
                sysmap = system(mapping.system)
            except UnknownSystem as e:
                raise MappingError(path, [str(e)]) from None
        if isinstance(sysmap, SystemMapping):
            check_form_against_system(mapping, sysmap, path)
    return mapping
