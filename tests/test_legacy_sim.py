"""The stand-in legacy system at the HTTP level: its awkward rules are what the engine must cope with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.legacy_hris import SimConfig, create_app


def _csrf(html: str) -> str:
    return re.search(r"name='_csrf' value='([^']+)'", html).group(1)  # type: ignore[union-attr]


@pytest.fixture
def http(tmp_path: Path) -> TestClient:
    return TestClient(create_app(SimConfig(db_path=tmp_path / "sim.db", seed=1)), follow_redirects=False)


def _login(http: TestClient) -> None:
    page = http.get("/login")
    r = http.post(
        "/login", data={"_csrf": _csrf(page.text), "username": "rpa.bot", "password": "Legacy#2003"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/menu"


PERSONAL = {
    "empno": "001234",
    "surname": "O'Brien",
    "given": "王芳",
    "dob": "03/02/1990",
    "sex": "F",
    "natid": "X1",
}
JOB = {
    "dept": "D100",
    "pos": "D100-03",
    "start_dt": "01/12/2026",
    "emptype": "FT",
    "loc": "SHA",
    "ot_flag": "Y",
}
PAY = {"grade": "G04", "salary": "250000", "ccy": "CNY"}


def _wizard(http: TestClient) -> str:
    for path, data in (("/newhire/personal", PERSONAL), ("/newhire/job", JOB), ("/newhire/pay/frame", PAY)):
        token = _csrf(http.get(path).text)
        r = http.post(path, data={"_csrf": token, **data})
        assert r.status_code in (200, 303), r.text
    token = _csrf(http.get("/newhire/confirm").text)
    return http.post("/newhire/confirm", data={"_csrf": token}).text


def test_login_needs_the_csrf_token_and_the_right_password(http: TestClient) -> None:
    page = http.get("/login")
    assert http.post("/login", data={"username": "rpa.bot", "password": "Legacy#2003"}).status_code == 403
    wrong = http.post("/login", data={"_csrf": _csrf(page.text), "username": "rpa.bot", "password": "x"})
    assert "User ID: invalid user ID or password" in wrong.text
    assert http.get("/menu").status_code == 303  # not signed in


def test_wizard_stores_values_as_entered_and_refuses_a_duplicate(http: TestClient) -> None:
    _login(http)
    done = _wizard(http)
    ref = re.search(r"HR-\d{6}", done).group(0)  # type: ignore[union-attr]
    row = http.get("/_sim/employees").json()[0]
    assert (row["ref"], row["empno"], row["surname"], row["given"], row["salary"]) == (
        ref,
        "001234",
        "O'Brien",
        "王芳",
        "250000.00",
    )
    assert "O&#x27;Brien" in http.get(f"/employees/{ref}").text  # escaped on the page
    again = _wizard(http)
    assert f"Employee no.: duplicate record, already exists as {ref}" in again
    assert http.get("/_sim/stats").json()["duplicate_rejected"] == 1


def test_validation_messages_use_the_layouts_labels(http: TestClient) -> None:
    _login(http)
    bad = {**PERSONAL, "dob": "1990-02-03", "surname": "x" * 41}
    r = http.post("/newhire/personal", data={"_csrf": _csrf(http.get("/newhire/personal").text), **bad})
    assert (
        "Family name: at most 40 characters" in r.text
        and "Date of birth (DD/MM/YYYY): use DD/MM/YYYY" in r.text
    )
    http.put("/_sim/config", json={"layout": "v2"})
    page = http.get("/newhire/personal").text
    assert "Last name" in page and "name='lname'" in page and "Family name" not in page


def test_sessions_expire_and_a_lost_answer_still_saved(http: TestClient) -> None:
    _login(http)
    http.put("/_sim/config", json={"session_ttl": 0.001})
    import time

    time.sleep(0.01)
    r = http.get("/newhire/personal")
    assert r.status_code == 303 and r.headers["location"] == "/login?expired=1"
    http.put("/_sim/config", json={"session_ttl": 900})
    _login(http)
    token = _csrf(http.get("/newhire/personal").text)
    http.put("/_sim/config", json={"fault_500_rate": 1.0, "seed": 3})
    statuses = {
        http.post("/newhire/personal", data={"_csrf": token, **PERSONAL}).status_code for _ in range(6)
    }
    stats = http.get("/_sim/stats").json()
    assert statuses == {500} and stats["fault_500_after"] + stats["fault_500_before"] == 6
    assert stats["fault_500_after"] >= 1  # the handler ran, only the answer was lost
