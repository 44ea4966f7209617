"""Policy documents in every supported format become the sections an answer cites: the anchors,
headings, heading trails and plain texts a person would quote, and clear errors for files that
cannot be imported. Fixture files are built here, in tmp_path."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from fpdf import FPDF
from PIL import Image

from tools.knowledge.models import KnowledgeImportError, ParsedSection, ReadResult
from tools.knowledge.read_pdf import _headings
from tools.knowledge.readers import read_file


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _by_anchor(result: ReadResult) -> dict[str, ParsedSection]:
    return {s.anchor: s for s in result.sections}


def _error(path: Path) -> KnowledgeImportError:
    with pytest.raises(KnowledgeImportError) as e:
        read_file(path)
    assert e.value.path == str(path)
    return e.value


# --- Markdown ---------------------------------------------------------------------------------

LEAVE_MD = """\
---
doc_id: leave.en
title: Leave policy
effective_from: 2026-01-01
scope: {countries: [CN], groups: []}
---
This policy applies to **all** employees. See [the HR portal](https://hr.example.com).

# Leave policy {#leave-policy}

## Annual leave entitlement {#annual-leave}

Employees in China get   *5 to 15 days*
depending on total working years.

#### How to compute the balance

- Apply in the HR system
- Your manager approves
  - within 3 working days

1. Open the leave page
2. Pick the dates

| Working years | Statutory days |
|---|---|
| 1 to 10 | 5 |
| 10 to 20 | 10 |
| 20 or more | |

### Carry-over (CN) & expiry!

Up to 5 days carry over.<br>They expire on 31 March.

## Sick leave

Tell your manager before 10:00.

## Sick leave

A second section with the same heading.
"""


def test_markdown_sections_anchors_paths_and_plain_text(tmp_path: Path) -> None:
    r = read_file(_write(tmp_path, "leave.en.md", LEAVE_MD))
    assert r.title == "Leave policy"
    assert r.front_matter == {
        "doc_id": "leave.en",
        "title": "Leave policy",
        "effective_from": date(2026, 1, 1),
        "scope": {"countries": ["CN"], "groups": []},
    }
    # The level-1 heading has no text of its own: no empty section for it.
    assert [s.anchor for s in r.sections] == [
        "intro", "annual-leave", "carry-over-cn-expiry", "sick-leave", "sick-leave-2",
    ]  # fmt: skip
    s = _by_anchor(r)
    assert s["intro"].text == "This policy applies to all employees. See the HR portal."
    assert s["intro"].path == []
    annual = s["annual-leave"]
    assert annual.heading == "Annual leave entitlement"  # the {#...} is not part of the heading
    assert annual.path == ["Leave policy", "Annual leave entitlement"]
    assert annual.text == (
        "Employees in China get 5 to 15 days depending on total working years.\n\n"
        "How to compute the balance\n\n"  # a level-4 heading stays inside, as a line
        "- Apply in the HR system\n- Your manager approves\n- within 3 working days\n\n"
        "1. Open the leave page\n2. Pick the dates\n\n"
        "Working years: 1 to 10; Statutory days: 5\n"
        "Working years: 10 to 20; Statutory days: 10\n"
        "Working years: 20 or more"
    )
    carry = s["carry-over-cn-expiry"]
    assert carry.path == ["Leave policy", "Annual leave entitlement", "Carry-over (CN) & expiry!"]
    assert carry.text == "Up to 5 days carry over.\nThey expire on 31 March."
    assert s["sick-leave-2"].text == "A second section with the same heading."
    for section in r.sections:
        assert not any(mark in section.text for mark in ("**", "](", "{#", "|", "<br>"))


LEAVE_ZH_MD = """\
---
doc_id: leave.zh
---
# 休假制度 {#leave-policy}

## 年假 {#annual-leave}

员工累计工作已满1年不满10年的，年休假5天；
已满10年不满20年的，年休假10天。

## 病假与医疗期

病假须提供二级以上医院的诊断证明（急诊除外）。

## 婚假 Marriage leave

婚假3天，须在领证后一年内休完。
"""


def test_markdown_chinese_headings_and_text_survive(tmp_path: Path) -> None:
    r = read_file(_write(tmp_path, "leave.zh.md", LEAVE_ZH_MD))
    assert r.title == "休假制度"
    s = _by_anchor(r)
    assert list(s) == ["annual-leave", "病假与医疗期", "婚假-marriage-leave"]
    assert s["annual-leave"].path == ["休假制度", "年假"]
    # A line break inside a Chinese paragraph is no space: the sentence reads as written.
    assert (
        s["annual-leave"].text == "员工累计工作已满1年不满10年的，年休假5天；已满10年不满20年的，年休假10天。"
    )
    assert s["病假与医疗期"].text == "病假须提供二级以上医院的诊断证明（急诊除外）。"
    assert s["婚假-marriage-leave"].heading == "婚假 Marriage leave"


def test_markdown_bad_front_matter_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.md", "---\ndoc_id: leave.en\ntitle: Leave: the policy\n---\n# Leave\ntext\n")
    e = _error(path)
    assert e.problem.startswith("the front matter is not valid YAML on line 3")
    assert "quote values that contain ': '" in e.fix


def test_markdown_unclosed_front_matter_and_repeated_anchor(tmp_path: Path) -> None:
    e = _error(_write(tmp_path, "open.md", "---\ndoc_id: leave.en\n# Leave\ntext\n"))
    assert "never closed" in e.problem and "'---'" in e.fix
    e = _error(_write(tmp_path, "twice.md", "# A {#same}\none\n\n## B {#same}\ntwo\n"))
    assert e.problem == "the headings 'A' (line 1) and 'B' (line 4) both use the anchor {#same}"
    assert "its own anchor" in e.fix


# --- HTML -------------------------------------------------------------------------------------

HANDBOOK_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Acme handbook</title>
<style>h2 { color: red }</style><script>var leave = "not policy";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/hr">HR</a></nav>
<h1>Attendance</h1>
<h2 id="working-hours">Working <b>hours</b></h2>
<p>Core hours are
   10:00 to 16:00.</p>
<h4>Exceptions</h4>
<p>Shift workers follow<br>their roster.</p>
<ul><li>Clock in on the app</li><li>Clock out before leaving</li></ul>
<table><tr><th>Location</th><th>Start</th></tr>
<tr><td>Shanghai</td><td>09:00</td></tr><tr><td>London</td><td></td></tr></table>
<h2>加班与调休</h2>
<p>加班须事先在系统中申请，<b>经</b>经理批准后方可计入调休。</p>
<h3 id="working-hours">Duplicate id</h3>
<p>Kept apart.</p>
</body></html>"""


def test_html_sections_ids_tables_and_ignored_chrome(tmp_path: Path) -> None:
    r = read_file(_write(tmp_path, "attendance.html", HANDBOOK_HTML))
    assert r.title == "Acme handbook"
    assert [s.anchor for s in r.sections] == ["working-hours", "加班与调休", "duplicate-id"]
    s = _by_anchor(r)
    assert s["working-hours"].heading == "Working hours"
    assert s["working-hours"].path == ["Attendance", "Working hours"]
    assert s["working-hours"].text == (
        "Core hours are 10:00 to 16:00.\n\nExceptions\n\nShift workers follow\ntheir roster.\n\n"
        "- Clock in on the app\n- Clock out before leaving\n\n"
        "Location: Shanghai; Start: 09:00\nLocation: London"
    )
    assert s["加班与调休"].text == "加班须事先在系统中申请，经经理批准后方可计入调休。"
    assert s["duplicate-id"].path == ["Attendance", "加班与调休", "Duplicate id"]
    everything = " ".join(x.text for x in r.sections)
    assert "not policy" not in everything and "color" not in everything and "Home" not in everything


# --- DOCX -------------------------------------------------------------------------------------


def test_docx_headings_title_lists_and_tables(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_heading("Expenses policy", level=0)  # the Title style
    d.add_paragraph("Keep every receipt.")
    d.add_heading("Business travel", level=1)
    d.add_heading("Hotels", level=2)
    d.add_paragraph("Book through the travel portal.")
    d.add_paragraph("Economy rooms only", style="List Bullet")
    d.add_paragraph("No minibar", style="List Bullet")
    d.add_heading("Receipts older than 90 days", level=4)
    table = d.add_table(rows=3, cols=2)
    for row, values in zip(
        table.rows, [("City", "Nightly cap"), ("上海", "CNY 800"), ("London", "")], strict=True
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    d.add_heading("差旅报销", level=2)
    d.add_paragraph("出差结束后10个工作日内提交报销申请。")
    path = tmp_path / "expenses.docx"
    d.save(path)

    r = read_file(path)
    assert r.title == "Expenses policy"
    assert [s.anchor for s in r.sections] == ["intro", "hotels", "差旅报销"]
    s = _by_anchor(r)
    assert s["intro"].text == "Keep every receipt."
    assert s["hotels"].path == ["Business travel", "Hotels"]
    assert s["hotels"].text == (
        "Book through the travel portal.\n\n- Economy rooms only\n- No minibar\n\n"
        "Receipts older than 90 days\n\nCity: 上海; Nightly cap: CNY 800\nCity: London"
    )
    assert s["差旅报销"].text == "出差结束后10个工作日内提交报销申请。"


def test_corrupt_docx_says_so_and_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "policy.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    e = _error(path)
    assert e.problem.startswith("is not a readable Word (.docx) document")
    assert "save it again as .docx" in e.fix


# --- PDF --------------------------------------------------------------------------------------


def _pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_pdf_numbered_headings_become_sections(tmp_path: Path) -> None:
    path = _pdf(
        tmp_path / "leave.pdf",
        [
            [
                "Leave Policy",
                "1. Scope",
                "This policy applies to all employees in Singapore.",
                "2. Annual leave",
                "Staff get 14 days a year.",
                "1. Ask your manager first",  # a numbered list item, not a heading
                "2.1 Carry-over",
                "Up to 7 days carry over to the next year.",
            ],
            ["2.2 Expiry", "Carried-over days expire on 31 March.", "3. Sick leave", "Up to 14 days."],
        ],
        title="Leave Policy (SG)",
    )
    r = read_file(path)
    assert r.title == "Leave Policy (SG)"
    assert [s.anchor for s in r.sections] == [
        "intro", "1-scope", "2-annual-leave", "2-1-carry-over", "2-2-expiry", "3-sick-leave",
    ]  # fmt: skip
    s = _by_anchor(r)
    assert s["intro"].text == "Leave Policy"  # metadata title differs from the first line: kept
    assert s["2-annual-leave"].text == "Staff get 14 days a year.\n1. Ask your manager first"
    assert s["2-1-carry-over"].path == ["2. Annual leave", "2.1 Carry-over"]
    assert s["2-2-expiry"].text == "Carried-over days expire on 31 March."  # across the page break
    assert s["3-sick-leave"].path == ["3. Sick leave"]


def test_pdf_without_numbered_headings_is_one_section_per_page(tmp_path: Path) -> None:
    path = _pdf(
        tmp_path / "memo.pdf", [["Office memo", "The office closes at 18:00."], ["Bring your badge."]]
    )
    r = read_file(path)
    assert r.title == "Office memo"
    assert [(s.anchor, s.heading, s.text) for s in r.sections] == [
        ("page-1", "Page 1", "Office memo\nThe office closes at 18:00."),
        ("page-2", "Page 2", "Bring your badge."),
    ]


def test_chinese_regulation_numbering_in_pdf_text() -> None:
    # Core PDF fonts have no Chinese glyphs, so the heading finder is fed the extracted lines directly.
    lines = [
        "员工休假管理办法",
        "第一章 总则",
        "第一条 为规范公司休假管理，根据国家有关规定，制定本办法。",
        "第二条 适用范围",
        "本办法适用于全体员工，依照第五条办理。",  # a cross-reference is no heading
        "第二章 年休假",
        "第一节 天数",
        "第三条 员工累计工作已满1年不满10年的，年休假5天。",
    ]
    found = {i: (h.level, h.heading, h.rest) for i, h in _headings(lines).items()}
    assert found == {
        1: (1, "第一章 总则", ""),
        2: (3, "第一条", "为规范公司休假管理，根据国家有关规定，制定本办法。"),  # the article is its text
        3: (3, "第二条 适用范围", ""),
        5: (1, "第二章 年休假", ""),
        6: (2, "第一节 天数", ""),
        7: (3, "第三条", "员工累计工作已满1年不满10年的，年休假5天。"),
    }


def test_scanned_pdf_asks_for_ocr(tmp_path: Path) -> None:
    scan = tmp_path / "scan.png"
    Image.new("RGB", (200, 100), "white").save(scan)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(scan), x=10, y=10, w=100)
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    e = _error(path)
    assert e.problem == "has no text layer (it looks like a scanned image)"
    assert "ocrmypdf in.pdf out.pdf" in e.fix and "original Word/Markdown file" in e.fix


# --- XLSX -------------------------------------------------------------------------------------


def test_xlsx_one_section_per_sheet_with_iso_dates(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Public holidays 2027"
    ws.append([])  # a blank first row: the header is the first non-empty one
    ws.append(["Date", "Holiday", "Country"])
    ws.append([date(2027, 1, 1), "New Year's Day", "SG"])
    ws.append([datetime(2027, 2, 6), "春节", None])
    ws.append([None, None, None])
    wb.create_sheet("Empty")
    rates = wb.create_sheet("公积金 rates")
    rates.append(["City", "Rate"])
    rates.append(["上海", 0.07])
    rates["B2"].number_format = "0%"
    path = tmp_path / "calendar.xlsx"
    wb.save(path)

    r = read_file(path)
    assert [(s.anchor, s.heading, s.path) for s in r.sections] == [
        ("public-holidays-2027", "Public holidays 2027", ["Public holidays 2027"]),
        ("公积金-rates", "公积金 rates", ["公积金 rates"]),
    ]
    s = _by_anchor(r)
    assert s["public-holidays-2027"].text == (
        "Date: 2027-01-01; Holiday: New Year's Day; Country: SG\nDate: 2027-02-06; Holiday: 春节"
    )
    assert s["公积金-rates"].text == "City: 上海; Rate: 7%"


# --- Errors any format can hit -----------------------------------------------------------------


def test_zero_byte_and_whitespace_only_files_are_empty(tmp_path: Path) -> None:
    zero = tmp_path / "zero.pdf"
    zero.write_bytes(b"")
    e = _error(zero)
    assert e.problem == "is empty (0 bytes)" and "save the document again" in e.fix
    e = _error(_write(tmp_path, "blank.md", " \n\t\n  "))
    assert e.problem == "contains only whitespace"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("headings.md", "# Leave\n\n## Annual leave {#annual-leave}\n"),
        ("front-matter-only.md", "---\ndoc_id: leave.en\n---\n"),
        ("scripts.html", "<html><body><script>x = 1</script><nav>Home</nav></body></html>"),
    ],
)
def test_a_file_without_text_is_refused(tmp_path: Path, name: str, content: str) -> None:
    e = _error(_write(tmp_path, name, content))
    assert e.problem.startswith("contains no text to import")


def test_empty_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    e = _error(path)
    assert e.problem.startswith("contains no text to import") and "first row" in e.fix


def test_unsupported_suffix_lists_the_supported_ones(tmp_path: Path) -> None:
    e = _error(_write(tmp_path, "policy.txt", "Leave: 15 days"))
    assert (
        e.problem
        == "'.txt' files are not supported (supported: .md, .markdown, .html, .htm, .pdf, .docx, .xlsx)"
    )
    assert "rename it to .md" in e.fix
    e = _error(_write(tmp_path, "old.doc", "x"))
    assert e.fix == "open it in Word or LibreOffice and save it as .docx"


def test_missing_file_and_wrong_encoding(tmp_path: Path) -> None:
    e = _error(tmp_path / "nowhere.md")
    assert e.problem == "does not exist" and "check the path" in e.fix
    gbk = tmp_path / "gbk.md"
    gbk.write_bytes("# 年假\n员工享有年假。\n".encode("gbk"))
    e = _error(gbk)
    assert e.problem.startswith("is not UTF-8 text") and "UTF-8" in e.fix
