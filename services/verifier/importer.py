"""`careline crm import FILE`: CSV or JSON Lines into the mirror (formats in docs/crm.md).

Every row is validated on its own and reported with its line number; references (a
contact's customer, a customer's account manager) must be in the file or already on file.
Nothing is written while any row is invalid, unless the caller skips invalid rows. The
upsert is idempotent: importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import CrmAccountManager, CrmContact, CrmCustomer, CrmDocument
from shared.errors import validation_problems

from .adapters import account_managers, customers
from .mirror import (
    CONTACT_KEPT_WHEN_OMITTED,
    CUSTOMER_KEPT_WHEN_OMITTED,
    MANAGER_KEPT_WHEN_OMITTED,
    CrmBatch,
    apply_batch,
    existing_ids,
)


class DocumentRow(CrmDocument):
    customer_id: str


RECORDS: dict[str, type[BaseModel]] = {
    "account_manager": CrmAccountManager,
    "customer": CrmCustomer,
    "contact": CrmContact,
    "document": DocumentRow,
}
LIST_COLUMNS = ("domains", "channels", "included")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class Parsed:
    rows: list[tuple[int, BaseModel]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _validate(line: int, raw: dict[str, Any], parsed: Parsed) -> None:
    kind = raw.pop("record", None)
    model = RECORDS.get(str(kind))
    if model is None:
        parsed.errors.append(
            RowError(line, f"record must be one of {', '.join(RECORDS)}; got {kind!r}")
        )
        return
    try:
        parsed.rows.append((line, model.model_validate(raw)))
    except ValidationError as exc:
        where = raw.get("id") or raw.get("number") or ""
        for problem in validation_problems(exc, whole=kind):
            parsed.errors.append(RowError(line, f"{kind} {where}: {problem}".replace("  ", " ")))


def parse_jsonl(text: str) -> Parsed:
    parsed = Parsed()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.errors.append(RowError(number, f"not JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(raw, dict):
            parsed.errors.append(RowError(number, "each line must be a JSON object"))
            continue
        _validate(number, raw, parsed)
    return parsed


def _channel(cell: str) -> dict[str, Any]:
    # "kind:address" or "kind:address:verified"; the address itself has no colon.
    parts = [p.strip() for p in cell.split(":")]
    if len(parts) == 3 and parts[2].lower() in ("verified", "unverified"):
        return {"kind": parts[0], "address": parts[1], "verified": parts[2].lower() == "verified"}
    if len(parts) == 2:
        return {"kind": parts[0], "address": parts[1]}
    return {"kind": "?", "address": cell}


def _included(cell: str) -> dict[str, Any]:
    # "service:quantity:period:free|paid"; trailing parts may be left out, an empty or
    # "unlimited" quantity is no limit. The service itself has no colon (use JSON Lines).
    parts = [p.strip() for p in cell.split(":")]
    if len(parts) > 4:
        raise ValueError(f"{cell!r}: use service:quantity:period:free|paid")
    item: dict[str, Any] = {"service": parts[0]}
    quantity, period, charge = [*parts[1:], "", "", ""][:3]
    if quantity and quantity.lower() != "unlimited":
        item["quantity"] = quantity
    if period:
        item["period"] = period
    if charge:
        item["free"] = {"free": True, "paid": False}.get(charge.lower(), charge)
    return item


def _csv_list(column: str, cell: str) -> list[Any]:
    items = [x.strip() for x in cell.split(";") if x.strip()]
    if column == "channels":
        return [_channel(x) for x in items]
    if column == "included":
        return [_included(x) for x in items]
    return items


# In CSV an empty cell is "not given" (it keeps what is on file); `null` in one of the
# optional fields an upsert keeps when left out clears it, as JSON Lines' null does (a
# customer whose account manager left, a time zone set by mistake).
CLEARABLE = frozenset(
    {*MANAGER_KEPT_WHEN_OMITTED, *CUSTOMER_KEPT_WHEN_OMITTED, *CONTACT_KEPT_WHEN_OMITTED}
)


def _cell(column: str, cell: str) -> Any:
    value = cell.strip()
    if column in CLEARABLE and value.lower() == "null":
        return "" if column == "role" else None  # a contact's role is text, cleared empty
    return value


def parse_csv(text: str) -> Parsed:
    parsed = Parsed()
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "record" not in reader.fieldnames:
        parsed.errors.append(RowError(1, "the header must have a 'record' column"))
        return parsed
    for row in reader:
        line = reader.line_num
        raw: dict[str, Any] = {k: _cell(k, v) for k, v in row.items() if k and v and v.strip()}
        if None in row:
            parsed.errors.append(RowError(line, "more cells than header columns"))
            continue
        try:
            for column in LIST_COLUMNS:
                if column in raw:
                    raw[column] = _csv_list(column, raw[column])
        except ValueError as exc:
            what = raw.get("id") or raw.get("number") or ""
            parsed.errors.append(RowError(line, f"{raw.get('record')} {what}: {column}: {exc}"))
            continue
        _validate(line, raw, parsed)
    return parsed


def parse_file(path: Path) -> Parsed:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return parse_csv(text)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return parse_jsonl(text)
    return Parsed(errors=[RowError(0, f"{path.name}: use .csv or .jsonl")])


async def check_references(session: AsyncSession, parsed: Parsed) -> list[RowError]:
    """Rows whose customer or account manager is neither in the file nor on file."""
    managers = {r.id for _, r in parsed.rows if isinstance(r, CrmAccountManager)}
    custs = {r.id for _, r in parsed.rows if isinstance(r, CrmCustomer)}
    wanted_managers = {
        r.account_manager_id
        for _, r in parsed.rows
        if isinstance(r, CrmCustomer) and r.account_manager_id
    }
    wanted_customers = {
        r.customer_id for _, r in parsed.rows if isinstance(r, CrmContact | DocumentRow)
    }
    managers |= await existing_ids(session, account_managers, wanted_managers - managers)
    custs |= await existing_ids(session, customers, wanted_customers - custs)
    errors = []
    for line, r in parsed.rows:
        if (
            isinstance(r, CrmCustomer)
            and r.account_manager_id
            and r.account_manager_id not in managers
        ):
            errors.append(
                RowError(line, f"customer {r.id}: unknown account manager {r.account_manager_id}")
            )
        if isinstance(r, CrmContact | DocumentRow) and r.customer_id not in custs:
            what = f"contact {r.id}" if isinstance(r, CrmContact) else f"document {r.number}"
            errors.append(RowError(line, f"{what}: unknown customer {r.customer_id}"))
    return errors


def batch_of(parsed: Parsed, skip_lines: set[int]) -> CrmBatch:
    batch = CrmBatch()
    for line, r in parsed.rows:
        if line in skip_lines:
            continue
        if isinstance(r, CrmAccountManager):
            batch.account_managers.append(r)
        elif isinstance(r, CrmCustomer):
            batch.customers.append(r)
        elif isinstance(r, DocumentRow):
            batch.documents.append((r.customer_id, CrmDocument.model_validate(r.model_dump())))
        elif isinstance(r, CrmContact):
            batch.contacts.append(r)
    return batch


@dataclass(frozen=True)
class ImportReport:
    applied: int
    errors: list[RowError]


async def import_records(
    session: AsyncSession, parsed: Parsed, at: datetime, skip_invalid: bool = False
) -> ImportReport:
    errors = [*parsed.errors, *await check_references(session, parsed)]
    if errors and not skip_invalid:
        return ImportReport(0, sorted(errors, key=lambda e: e.line))
    # A skipped customer takes its contacts and documents with it: check again without it.
    while True:
        kept = Parsed(rows=[(n, r) for n, r in parsed.rows if n not in {e.line for e in errors}])
        more = await check_references(session, kept)
        if not more:
            break
        errors += more
    batch = batch_of(parsed, {e.line for e in errors})
    errors.sort(key=lambda e: e.line)
    await apply_batch(session, batch, at)
    return ImportReport(len(batch), errors)
