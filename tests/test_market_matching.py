"""Job matching: English and Chinese titles to SOC occupations with a rationale and a confidence;
seniority and internal levels; unknown titles ask the analyst to choose; the data files agree."""

from __future__ import annotations

import csv
import re

import pytest

from tests.conftest import REPO, SHARED_DATA
from tools.market import build_occupations, matching
from tools.market.matching import choose, load_occupations, load_titles, match
from tools.market.models import MATCH_THRESHOLD, Level, MarketError

AIJOBS = [
    SHARED_DATA / "aijobs_salaries" / "salaries.csv",
    REPO / "tools" / "market" / "data" / "aijobs_salaries" / "salaries.csv",
]
OEWS = SHARED_DATA / "bls_oews_national_2024" / "national_M2024_dl.csv"


@pytest.mark.parametrize(
    ("title", "soc"),
    [
        ("Data Scientist", "15-2051"),
        ("HR Generalist", "13-1071"),
        ("Human Resources Specialist", "13-1071"),
        ("Recruiter", "13-1071"),
        ("Software Developer", "15-1252"),
        ("Machine Learning Engineer", "15-2051"),
        ("Data Analyst", "15-2051"),
        ("Data Engineer", "15-1243"),
        ("HR Manager", "11-3121"),
        ("Compensation & Benefits Manager", "11-3111"),
        ("Training Specialist", "13-1151"),
        ("Financial Analyst", "13-2051"),
        ("DevOps Engineer", "15-1244"),
        ("QA Engineer", "15-1253"),
        ("UX/UI Designer", "15-1255"),
        ("Project Manager", "13-1082"),
        ("Lawyer", "23-1011"),
        ("Registered Nurse", "29-1141"),  # not in the dictionary: the SOC title itself
    ],
)
def test_english_titles_map_to_their_occupation(title: str, soc: str) -> None:
    m = match(title)
    assert (m.soc_code, m.needs_choice) == (soc, False)
    assert m.confidence >= MATCH_THRESHOLD and m.soc_title in m.rationale and soc in m.rationale


@pytest.mark.parametrize(
    ("title", "soc"),
    [
        ("数据科学家", "15-2051"),
        ("人力资源专员", "13-1071"),
        ("软件工程师", "15-1252"),
        ("开发工程师", "15-1252"),
        ("程序员", "15-1252"),
        ("机器学习工程师", "15-2051"),
        ("算法工程师", "15-2051"),
        ("数据分析师", "15-2051"),
        ("人力资源经理", "11-3121"),
        ("招聘专员", "13-1071"),
        ("培训专员", "13-1151"),
        ("薪酬专员", "13-1141"),
        ("财务分析师", "13-2051"),
        ("会计", "13-2011"),
        ("产品经理", "11-2021"),
        ("销售代表", "41-4012"),
        ("市场专员", "13-1161"),
        ("项目经理", "13-1082"),
        ("行政助理", "43-6014"),
        ("律师", "23-1011"),
        ("法务", "23-2011"),
        ("运维工程师", "15-1244"),
        ("测试工程师", "15-1253"),
        ("数据工程师", "15-1243"),
        ("UX设计师", "15-1255"),
        ("网络安全工程师", "15-1212"),
        ("Java开发工程师", "15-1252"),
    ],
)
def test_chinese_titles_map_to_their_occupation(title: str, soc: str) -> None:
    m = match(title)
    assert (m.soc_code, m.needs_choice) == (soc, False)
    assert f'"{title}" is in the title dictionary' in m.rationale


def test_the_rationale_reads_as_a_sentence() -> None:
    m = match("Senior Data Scientist")
    assert m.rationale == (
        'title "Senior Data Scientist": seniority "Senior" -> senior; '
        '"Data Scientist" is in the title dictionary as SOC 15-2051 Data Scientists'
    )
    assert (m.confidence, m.level, m.candidates[0].soc_code) == (1.0, Level.SENIOR, "15-2051")


def test_a_synonym_names_the_entry_and_an_approximate_entry_says_why() -> None:
    m = match("HR Generalist")
    assert 0.95 <= m.confidence < 1.0
    assert 'a synonym of "HR Specialist" (人力资源专员)' in m.rationale
    pm = match("产品经理")
    assert MATCH_THRESHOLD <= pm.confidence < 0.9  # the closest SOC, not an exact one
    assert "no SOC occupation of its own" in pm.rationale
    assert {c.soc_code for c in pm.candidates} >= {"11-2021", "11-3021"}  # the alternatives offered
    ml = match("Machine Learning Engineer")
    assert [c.soc_code for c in ml.candidates][:1] == ["15-2051"]
    assert {"15-1252", "15-1221"} <= {c.soc_code for c in ml.candidates[1:]}
    assert all(c.confidence < MATCH_THRESHOLD for c in ml.candidates[1:])


def test_typos_and_extra_words_lower_the_confidence_and_say_so() -> None:
    typo = match("Data Scientst")
    assert typo.soc_code == "15-2051" and MATCH_THRESHOLD <= typo.confidence < 0.95
    assert 'reads like "Data Scientist"' in typo.rationale
    extra = match("Marketing Data Scientist")
    assert extra.soc_code == "15-2051" and MATCH_THRESHOLD <= extra.confidence < typo.confidence
    assert '"Marketing" is not understood and left out' in extra.rationale
    zh = match("数据科学")  # character by character against the Chinese names
    assert zh.soc_code == "15-2051" and not zh.needs_choice


@pytest.mark.parametrize(
    ("title", "level", "soc"),
    [
        ("Senior Software Engineer", Level.SENIOR, "15-1252"),
        ("Sr. Software Engineer", Level.SENIOR, "15-1252"),
        ("Lead Data Engineer", Level.SENIOR, "15-1243"),
        ("Principal Data Scientist", Level.SENIOR, "15-2051"),
        ("Staff Machine Learning Engineer", Level.SENIOR, "15-2051"),
        ("Junior Accountant", Level.ENTRY, "13-2011"),
        ("Data Analyst Intern", Level.ENTRY, "15-2051"),
        ("Software Engineer II", Level.MID, "15-1252"),
        ("Head of Data Science", Level.EXECUTIVE, "11-3021"),
        ("Chief Executive Officer", Level.EXECUTIVE, "11-1011"),
        ("高级数据科学家", Level.SENIOR, "15-2051"),
        ("资深算法工程师", Level.SENIOR, "15-2051"),
        ("首席数据科学家", Level.EXECUTIVE, "15-2051"),
        ("初级会计", Level.ENTRY, "13-2011"),
        ("数据分析实习生", Level.ENTRY, "15-2051"),
        ("人力资源总监", Level.EXECUTIVE, "11-3121"),
        ("法务主管", Level.SENIOR, "23-2011"),  # 主管 is not part of this job's name: a level
        ("HR Manager", None, "11-3121"),  # "Manager" names the job here, not a level
        ("人力资源经理", None, "11-3121"),
        ("产品经理", None, "11-2021"),
        ("Staff Accountant", None, "13-2011"),  # "staff" is a level for engineers only
    ],
)
def test_seniority_is_read_from_the_title_and_removed(title: str, level: Level | None, soc: str) -> None:
    m = match(title)
    assert (m.soc_code, m.level, m.needs_choice) == (soc, level, False)
    if level is not None:
        assert f"-> {level.value}" in m.rationale


@pytest.mark.parametrize(
    ("given", "level"),
    [
        ("L1", Level.ENTRY),
        ("L3", Level.ENTRY),
        ("L4", Level.MID),
        ("l5", Level.MID),
        ("L6", Level.SENIOR),
        ("L7", Level.SENIOR),
        ("L8", Level.EXECUTIVE),
        ("L9", Level.EXECUTIVE),
        ("senior", Level.SENIOR),
        ("Entry", Level.ENTRY),
    ],
)
def test_internal_levels_map_onto_levels(given: str, level: Level) -> None:
    m = match("Data Scientist", given)
    assert m.level == level and f'level "{given}" -> {level.value}' in m.rationale


def test_a_given_level_wins_over_the_title_and_the_rationale_says_so() -> None:
    m = match("Senior Data Scientist", "L2")
    assert m.level == Level.ENTRY
    assert (
        'level "L2" -> entry (given; it wins over the title\'s seniority "Senior" -> senior)' in m.rationale
    )
    agree = match("Senior Data Scientist", "L6")
    assert agree.level == Level.SENIOR and "the title agrees" in agree.rationale
    with pytest.raises(MarketError, match="L1-L9"):
        match("Data Scientist", "L10")


@pytest.mark.parametrize(
    "title", ["Chief Vibes Officer", "宇宙探索员", "Nurse", "Human Resources Data Analyst"]
)
def test_a_title_not_understood_asks_the_analyst_to_choose(title: str) -> None:
    m = match(title)
    assert m.needs_choice and m.confidence < MATCH_THRESHOLD
    assert 3 <= len(m.candidates) <= 5
    confidences = [c.confidence for c in m.candidates]
    assert confidences == sorted(confidences, reverse=True) and m.confidence == confidences[0]
    assert "not understood" in m.rationale and "choose one of" in m.rationale
    assert m.source_categories["aijobs"] == []  # nothing chosen for the sources on a guess


def test_an_unknown_title_says_what_was_not_understood() -> None:
    m = match("Chief Vibes Officer")
    assert m.level == Level.EXECUTIVE
    assert 'seniority "Chief" -> executive; "Vibes Officer" is not understood' in m.rationale
    nurse = match("Nurse")  # several nurse occupations read alike: none is picked
    assert {c.soc_code for c in nurse.candidates} >= {"29-1141", "29-1171"}


@pytest.mark.parametrize("title", ["", "   ", "Senior", "实习生", "!!!", "x" * 201])
def test_a_title_without_a_job_is_refused(title: str) -> None:
    with pytest.raises(MarketError, match="title"):
        match(title)


def test_source_categories_name_each_sources_own_categories() -> None:
    m = match("Senior Data Scientist")
    assert "Data Scientist" in m.source_categories["aijobs"]
    assert "Machine Learning Engineer" not in m.source_categories["aijobs"]
    internal = m.source_categories["internal"]
    assert internal[0] == "Data Scientist" and "数据科学家" in internal
    hr = match("人力资源专员")
    assert hr.source_categories["aijobs"] == []  # ai-jobs covers data and AI roles only
    assert {"人力资源专员", "HR Specialist", "HR generalist"} <= set(hr.source_categories["internal"])


def test_choose_takes_the_analysts_occupation() -> None:
    m = choose("Machine Learning Engineer", "15-1252", "L7")
    assert (m.soc_code, m.soc_title, m.confidence, m.level) == (
        "15-1252",
        "Software Developers",
        1.0,
        Level.SENIOR,
    )
    assert "chosen by the analyst" in m.rationale and not m.needs_choice
    assert [c.rationale for c in m.candidates] == ["chosen by the analyst"]
    assert "Machine Learning Engineer" in m.source_categories["aijobs"]  # an alternative of the entry
    vibes = choose("Chief Vibes Officer", "11-1011")
    assert vibes.level == Level.EXECUTIVE and vibes.source_categories == {
        "aijobs": [],
        "internal": ["Vibes Officer"],
    }


@pytest.mark.parametrize("code", ["15-9999", "data scientist", ""])
def test_choose_refuses_an_unknown_soc_code(code: str) -> None:
    with pytest.raises(MarketError, match=f'SOC code "{re.escape(code)}" is not a detailed occupation'):
        choose("Data Scientist", code)


def test_matches_are_independent_objects() -> None:
    first = match("Data Scientist")
    first.source_categories["aijobs"].clear()
    first.candidates.clear()
    again = match("Data Scientist")
    assert again.source_categories["aijobs"] and again.candidates


# -- the data files -----------------------------------------------------------------------------------


def test_every_soc_code_in_the_title_dictionary_is_an_occupation() -> None:
    occupations = load_occupations()
    for e in load_titles():
        for code in [e.soc, *e.alternatives]:
            assert code in occupations, f"{e.en}: {code}"


def test_the_title_dictionary_has_at_least_60_entries_in_both_languages() -> None:
    entries = load_titles()
    assert len(entries) >= 60
    for e in entries:
        assert re.search(r"[A-Za-z]", e.en) and not re.search(r"[\u4e00-\u9fff]", e.en), e.en
        assert re.search(r"[\u4e00-\u9fff]", e.zh), e.zh
    # every name and synonym leads to its own entry: none is claimed twice
    assert matching._data().exact


def test_every_aijobs_title_in_the_dictionary_is_in_the_salaries_file() -> None:
    path = next((p for p in AIJOBS if p.exists()), None)
    if path is None:
        pytest.skip(f"the ai-jobs salaries file is not here ({AIJOBS[0]}): the titles cannot be checked")
    with path.open(encoding="utf-8", newline="") as f:
        present = {row["job_title"] for row in csv.DictReader(f)}
    listed = [t for e in load_titles() for t in e.aijobs]
    assert listed and not set(listed) - present
    assert len(listed) == len(set(listed)), "an ai-jobs title belongs to one entry"


def test_the_occupation_list_is_the_oews_detailed_occupations() -> None:
    occupations = load_occupations()
    assert len(occupations) > 800 and occupations["15-2051"] == "Data Scientists"
    if not OEWS.exists():
        pytest.skip(f"the OEWS national file is not here ({OEWS}): the list cannot be rebuilt")
    rebuilt = build_occupations.render(build_occupations.occupations(OEWS), OEWS)
    assert rebuilt == matching.OCCUPATIONS.read_text(encoding="utf-8")
