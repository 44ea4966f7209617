"""From a chat request's fields (as read, people resolved) to the typed request a service takes.
Validation is the request models' own (the same as the CLI and
the API): a bad value comes back as the model's message, nothing is started."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from agents.assistant.intake import RequestKind
from tools.hr.changes import (
    AddressDetails,
    JobTitleDetails,
    ManagerDetails,
    RecordChange,
    SalaryDetails,
    TerminationDetails,
    TransferDetails,
)
from tools.hr.schemas import PostalAddress
from tools.market.models import MarketQuestion
from tools.onboarding.schemas import NewHire

# Fields naming a person: resolved to employee ids before a request is built.
PERSON_FIELDS = ("employee", "manager")


class Built(BaseModel):
    """The typed request, or what is wrong with the fields (in words a person can act on)."""

    request: Any = None
    problems: list[str] = []


def _details(kind: RequestKind, f: dict[str, str]) -> BaseModel:
    if kind is RequestKind.ADDRESS_CHANGE:
        address = PostalAddress(
            line1=f["line1"],
            line2=f.get("line2"),
            city=f["city"],
            region=f.get("region"),
            postcode=f.get("postcode"),
            country=f["country"],
        )
        return AddressDetails(address=address)
    if kind is RequestKind.JOB_TITLE:
        return JobTitleDetails(title=f["new_title"])
    if kind is RequestKind.TRANSFER:
        return TransferDetails(
            org_unit=f["org_unit"], manager_id=f.get("manager"), location=f.get("location")
        )
    if kind is RequestKind.MANAGER_CHANGE:
        return ManagerDetails(manager_id=f["manager"])
    if kind is RequestKind.SALARY_CHANGE:
        extra = {"frequency": f["frequency"]} if f.get("frequency") else {}
        return SalaryDetails(amount=f["amount"], currency=f["currency"], **extra)
    if kind is RequestKind.TERMINATION:
        return TerminationDetails(reason=f["reason_code"])
    raise ValueError(f"{kind.value} is not a record change")


def build(kind: RequestKind, fields: dict[str, str]) -> Built:
    """The service's request for `kind` from complete fields (people already as employee ids)."""
    try:
        if kind is RequestKind.ONBOARDING:
            extra = {k: fields[k] for k in ("local_name", "level", "frequency") if fields.get(k)}
            hire = NewHire(
                given_name=fields["given_name"],
                family_name=fields["family_name"],
                title=fields["title"],
                org_unit=fields["org_unit"],
                manager_id=fields["manager"],
                location=fields["location"],
                start_date=date.fromisoformat(fields["start_date"]),
                amount=fields["amount"],
                currency=fields["currency"],
                **extra,
            )
            return Built(request=hire)
        if kind is RequestKind.COMP_RESEARCH:
            return Built(
                request=MarketQuestion(
                    title=fields["title"],
                    level=fields.get("level"),
                    location=fields.get("location"),
                    currency=fields.get("currency", "USD"),
                )
            )
        change = RecordChange(
            employee_id=fields["employee"],
            details=_details(kind, fields),
            effective_on=date.fromisoformat(fields["effective_on"]),
        )
        return Built(request=change)
    except ValidationError as e:
        return Built(
            problems=[f"{'.'.join(map(str, x['loc'])) or kind.value}: {x['msg']}" for x in e.errors()]
        )
    except (KeyError, ValueError) as e:
        return Built(problems=[str(e)])
