"""The assistant finds the person a chat message means, and never guesses between two."""

from __future__ import annotations

from agents.assistant.people import find
from tests.conftest import TODAY
from tools.store.db import session_scope
from tools.store.models import Employee


def test_names_in_either_order_chinese_names_and_ids_find_one_person(company: str) -> None:
    with session_scope(company) as s:
        for said in ("王芳", "Wang Fang", "fang  wang", "WangFang", "e1003"):
            found = find(s, said, TODAY)
            assert found.person and found.person.employee_id == "E1003", said
            assert found.person.unit == "ENG-PLAT"
        gone = find(s, "Tom Baker", TODAY)  # left more than a year ago
        assert gone.person is None and "try their employee id" in gone.problem


def test_two_people_with_one_name_are_a_question_not_a_guess(company: str) -> None:
    with session_scope(company, write=True) as s:
        twin = s.get(Employee, "E1003")
        s.add(
            Employee(
                id="E1006",
                given_name="Fang",
                family_name="Wang",
                display_name="王芳",
                hire_date=twin.hire_date,
                status="active",
                created_at=twin.created_at,
            )
        )
    with session_scope(company) as s:
        found = find(s, "王芳", TODAY)
    assert found.person is None and [p.employee_id for p in found.choices] == ["E1003", "E1006"]
    assert found.problem == '2 people are called "王芳"'
