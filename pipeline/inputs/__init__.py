"""Tenant inputs (ENGINE.md §2): validated import from CSV or JSON, and lossless export.

The read/write API the CLI and the HTTP layer share:
- `KINDS`: the input kinds, in load order;
- `import_kind(engine, tenant_id, kind, data, fmt=, filename=)` and `import_many(engine,
  tenant_id, {kind: (data, fmt, filename)})`: validate everything, then replace whole kinds in one
  transaction; any problem raises `InputValidationError` (a list of `InputError`) and changes
  nothing;
- `export_kind_csv` / `export_kind_json`: the stored rows in the import format.
"""

from pipeline.inputs.errors import InputError, InputValidationError
from pipeline.inputs.exporter import export_kind_csv, export_kind_json
from pipeline.inputs.importer import ImportResult, import_kind, import_many
from pipeline.inputs.kinds import KINDS, get_kind

__all__ = [
    "KINDS",
    "ImportResult",
    "InputError",
    "InputValidationError",
    "export_kind_csv",
    "export_kind_json",
    "get_kind",
    "import_kind",
    "import_many",
]
