"""Custom search attributes: the approval inbox and request lookups are single visibility queries.
`hrops up` registers them on the embedded dev server; `ensure_registered` adds them elsewhere."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

REQUEST_ID = SearchAttributeKey.for_keyword("HrRequestId")
REQUEST_KIND = SearchAttributeKey.for_keyword("HrRequestKind")
EMPLOYEE = SearchAttributeKey.for_keyword("HrEmployee")
STAGE = SearchAttributeKey.for_keyword("HrStage")
PENDING_APPROVER = SearchAttributeKey.for_keyword_list("HrPendingApprover")
BATCH = SearchAttributeKey.for_keyword("HrBatch")  # the bulk request a row's request belongs to

ALL = (REQUEST_ID, REQUEST_KIND, EMPLOYEE, STAGE, PENDING_APPROVER, BATCH)

# How the dev server's --search-attribute flag spells each type.
CLI_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


def cli_flags() -> list[str]:
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={CLI_TYPES[key.indexed_value_type]}"]
    return flags


async def missing(client: Client, namespace: str) -> list[str]:
    resp = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return [key.name for key in ALL if key.name not in resp.custom_attributes]


async def ensure_registered(client: Client, namespace: str) -> list[str]:
    """Add whichever of our attributes the namespace lacks; returns the names added."""
    names = await missing(client, namespace)
    if names:
        by_name = {k.name: k for k in ALL}
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes={
                    n: IndexedValueType.ValueType(by_name[n].indexed_value_type) for n in names
                },
            )
        )
    return names
