"""Employee import from spreadsheets (validated, transactional, audited) and formatted export.

    mapping = load_mapping("examples/ibm_attrition/mapping.yaml")
    report = import_employees(url, "people.csv", mapping, as_of=date(2026, 1, 1), actor="amy.hughes")
    export_employees(url, "people.xlsx", as_of=date(2026, 1, 1), actor="amy.hughes", include=set(), org_code=None)

The CLI (`hrops import employees`, `hrops export employees`), the web console and the chat
assistant all call these functions.
"""

from tools.employee_io.errors import EmployeeIOError, ExportError, ImportFileError, MappingError
from tools.employee_io.exporter import ExportReport, export_employees
from tools.employee_io.importer import ImportReport, RowError, import_employees, previous_as_of
from tools.employee_io.mapping import EmployeeMapping, load_mapping
from tools.employee_io.targets import TARGETS

__all__ = [
    "TARGETS",
    "EmployeeIOError",
    "EmployeeMapping",
    "ExportError",
    "ExportReport",
    "ImportFileError",
    "ImportReport",
    "MappingError",
    "RowError",
    "export_employees",
    "import_employees",
    "load_mapping",
    "previous_as_of",
]
