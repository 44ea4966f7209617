"""The tool registry: one decorated function per tool, everything else derived from it.

```python
@tool("employee.profile", risk=Risk.READ, roles=STAFF)
def profile(ctx: ToolContext, args: EmployeeRef) -> EmployeeProfile:
    \"\"\"Work profile of one employee: name, title, org unit, manager, location.\"\"\"
```

From that the registry derives: the Temporal activity (`tool:employee.profile`), the pydantic-ai
toolset entry (with `requires_approval` for risky tools), the `hrops tools list` catalogue, and
the contract test that every tool satisfies. `call()` enforces roles and approval in code, so a
model or a workflow bug cannot skip them.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.store.models import Role

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)

NAME_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"


class Risk(StrEnum):
    READ = "read"  # no side effect
    WRITE = "write"  # changes HR data
    PII = "pii"  # changes personal data, or discloses it beyond its owner
    MONEY = "money"  # changes pay or moves money

    @property
    def needs_approval(self) -> bool:
        return self is not Risk.READ


ALL_ROLES = frozenset(Role)


def args_digest(args: BaseModel) -> str:
    """Fingerprint of a tool's validated arguments: an approval covers exactly these."""
    return hashlib.sha256(args.model_dump_json().encode()).hexdigest()


class ApprovalGrant(BaseModel):
    """Proof that a person allowed to decide approved this exact change of this request."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    approver: str
    decided_at: str
    args_digest: str = Field(description="args_digest() of the arguments that were approved")

    @classmethod
    def for_args(cls, args: BaseModel, **fields: str) -> ApprovalGrant:
        return cls(args_digest=args_digest(args), **fields)


class ToolContext(BaseModel):
    """Who is calling and on whose behalf. Small on purpose: it crosses every activity boundary."""

    model_config = ConfigDict(frozen=True)

    actor: str  # username
    roles: frozenset[Role]
    actor_employee_id: str | None = None
    request_id: str | None = None
    workflow_id: str | None = None
    approval: ApprovalGrant | None = None


class ToolError(Exception):
    """A tool refused or failed for a reason the caller should see (not retried)."""


class ToolDenied(ToolError):
    pass


class ApprovalRequired(ToolDenied):
    pass


class ToolRegistrationError(TypeError):
    pass


@dataclass(frozen=True)
class ToolSpec(Generic[In, Out]):
    name: str
    description: str
    input_model: type[In]
    output_model: type[Out]
    risk: Risk
    roles: frozenset[Role]
    fn: Callable[[ToolContext, In], Out] = field(repr=False)

    @property
    def requires_approval(self) -> bool:
        return self.risk.needs_approval

    @property
    def activity_name(self) -> str:
        return f"tool:{self.name}"


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec[Any, Any]] = {}

    def register(self, spec: ToolSpec[Any, Any]) -> None:
        if spec.name in self._tools:
            raise ToolRegistrationError(f"tool {spec.name!r} is registered twice")
        self._tools[spec.name] = spec

    def get(self, name: str) -> ToolSpec[Any, Any]:
        try:
            return self._tools[name]
        except KeyError:
            raise ToolError(f"no tool named {name!r}; `hrops tools list` shows the catalogue") from None

    def __iter__(self) -> Iterator[ToolSpec[Any, Any]]:
        return iter(sorted(self._tools.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._tools)

    def check(self, name: str, ctx: ToolContext) -> ToolSpec[Any, Any]:
        """Refuse a call the context does not allow, before anything runs."""
        spec = self.get(name)
        if not (ctx.roles & spec.roles):
            allowed = ", ".join(sorted(spec.roles))
            raise ToolDenied(f"{ctx.actor} may not use {spec.name} (needs one of: {allowed})")
        if spec.requires_approval:
            grant = ctx.approval
            if grant is None or grant.request_id != ctx.request_id:
                raise ApprovalRequired(
                    f"{spec.name} is a {spec.risk} tool: it runs only for an approved request"
                )
        return spec

    def _check_grant(self, spec: ToolSpec[Any, Any], ctx: ToolContext, args: BaseModel) -> None:
        if spec.requires_approval and ctx.approval and ctx.approval.args_digest != args_digest(args):
            raise ApprovalRequired(
                f"{spec.name}: the approval of {ctx.approval.request_id} covers other arguments than these"
            )

    def call(self, name: str, ctx: ToolContext, args: BaseModel | dict[str, Any]) -> BaseModel:
        spec = self.check(name, ctx)
        try:
            parsed = spec.input_model.model_validate(
                args.model_dump() if isinstance(args, BaseModel) else args
            )
        except ValidationError as e:
            raise ToolError(f"bad input for {spec.name}: {e}") from None
        self._check_grant(spec, ctx, parsed)
        return spec.fn(ctx, parsed)


registry = ToolRegistry()


def tool(
    name: str,
    *,
    risk: Risk,
    roles: frozenset[Role] | set[Role],
    target: ToolRegistry | None = None,
) -> Callable[[Callable[[ToolContext, In], Out]], Callable[[ToolContext, In], Out]]:
    """Register `fn(ctx: ToolContext, args: InModel) -> OutModel`. Fails fast on anything missing."""
    import re

    def decorate(fn: Callable[[ToolContext, In], Out]) -> Callable[[ToolContext, In], Out]:
        where = f"{fn.__module__}.{fn.__qualname__}"
        if not re.match(NAME_PATTERN, name):
            raise ToolRegistrationError(f"{where}: tool name {name!r} must look like 'area.action'")
        description = inspect.getdoc(fn)
        if not description:
            raise ToolRegistrationError(f"{where}: a tool needs a docstring; it is the tool's description")
        try:
            hints = get_type_hints(fn)
        except NameError as e:
            raise ToolRegistrationError(
                f"{where}: cannot resolve its type hints ({e}); define the models at module level"
            ) from None
        params = list(inspect.signature(fn).parameters)
        if len(params) != 2 or hints.get(params[0]) is not ToolContext:
            raise ToolRegistrationError(f"{where}: signature must be (ctx: ToolContext, args: <InputModel>)")
        input_model, output_model = hints.get(params[1]), hints.get("return")
        for what, model in (("input", input_model), ("output", output_model)):
            if not (inspect.isclass(model) and issubclass(model, BaseModel)):
                raise ToolRegistrationError(f"{where}: the {what} type must be a pydantic model")
        if not roles:
            raise ToolRegistrationError(f"{where}: name the roles that may use {name!r}")
        (registry if target is None else target).register(
            ToolSpec(
                name=name,
                description=description,
                input_model=input_model,
                output_model=output_model,
                risk=risk,
                roles=frozenset(roles),
                fn=fn,
            )
        )
        return fn

    return decorate
