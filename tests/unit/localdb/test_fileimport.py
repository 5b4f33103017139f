"""Importing a CSV or Excel file: valid rows as canonical rows, and a report of the others."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from core.errors import InvalidRequest
from core.localdb.fileimport import ImportProblem, parse_file

PRODUCTS_CSV = """Article;Name;Price;Stock
A-1;Apple;1,50;10
B-2; Bread ;2.00;  7
C-3;Cheese;12;abc
;Nameless;1;1
A-1;Apple again;1.5;1e30
"""
COLUMNS = {"sku": "Article", "name": "Name", "price": "Price", "stock_quantity": "Stock"}


def test_csv_rows_and_the_validation_report(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text(PRODUCTS_CSV, encoding="utf-8")
    valid, report = parse_file(path, "products", columns=COLUMNS)
    assert valid.to_dicts() == [
        {
            "external_id": "B-2",
            "sku": "B-2",
            "name": "Bread",
            "price": "2.00",
            "regular_price": None,
            "sale_price": None,
            "stock_quantity": 7,
            "status": None,
            "type": None,
            "parent_id": None,
        }
    ]
    assert report.problems == (
        ImportProblem(2, "Price", "'1,50' is not an amount (price)"),
        ImportProblem(4, "Stock", "'abc' is not a whole number (stock_quantity)"),
        ImportProblem(5, "Article", "no SKU: the row cannot be matched"),
        ImportProblem(6, "Article", "'A-1' is also on row 2: a key may be on one row only"),
        ImportProblem(6, "Stock", "'1e30' is not a whole number (stock_quantity)"),
    )
    assert (report.rows, report.valid, report.invalid_rows, report.ok) == (5, 1, 4, False)
    assert report.summary() == (
        "products.csv: 4 of 5 rows cannot be imported (1 can); see the rows and columns listed."
    )
    assert report.to_dict()["problems"][0] == {
        "row": 2,
        "column": "Price",
        "reason": "'1,50' is not an amount (price)",
    }


def test_xlsx_with_columns_named_like_the_fields(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([])  # a blank first row: the header is the first row with a value
    sheet.append(["external_id", "number", "total", "created_at", "Notes"])
    sheet.append([9001, "S-1", 12.5, datetime(2024, 5, 1, 10, 0), "first"])
    sheet.append([9002, "S-2", "4", "not a date", None])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    valid, report = parse_file(path, "orders")
    assert dict(report.columns) == {
        "external_id": "external_id",
        "number": "number",
        "total": "total",
        "created_at": "created_at",
    }
    assert [
        (r["external_id"], r["number"], r["total"], r["created_at"]) for r in valid.to_dicts()
    ] == [("9001", "S-1", "12.50", "2024-05-01T10:00:00Z")]
    assert report.problems == (
        ImportProblem(4, "created_at", "'not a date' is not a date and time (created_at)"),
    )


def test_a_customer_file_matches_by_e_mail(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Mail,Town\n ANN@x.org ,Paris\nann@x.org,Lyon\n", encoding="utf-8")
    valid, report = parse_file(path, "customers", columns={"email": "Mail", "city": "Town"})
    assert [r["external_id"] for r in valid.to_dicts()] == ["ann@x.org"]
    assert report.problems == (
        ImportProblem(3, "Mail", "'ann@x.org' is also on row 2: a key may be on one row only"),
    )


@pytest.mark.parametrize(
    ("content", "columns", "message"),
    [
        (
            b"a,b\n1,2\n",
            {"sku": "Article"},
            "The file has no column 'Article'; its columns are: a, b",
        ),
        (b"a,b\n1,2\n", {"colour": "a"}, "colour: not a field of products"),
        (b"name\nx\n", None, "Map a column to external_id"),
        (b"sku\n\xff\xfe\n", None, "is not UTF-8 text"),
        (b"", None, "is empty"),
    ],
)
def test_files_that_cannot_be_read_say_why(
    content: bytes, columns: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_file(content, "products", columns=columns, file_name="upload.csv")
