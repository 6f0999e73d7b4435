"""Reading exports: encodings, headers, column overrides and every malformed-file error."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from hub.errors import ConfigError, ImportFileError
from plugins.seventeen.columns import FileKind
from plugins.seventeen.importer import export_files, read_export

HEAD = "订单号,下单时间,订单状态,货号,数量,单价,颜色,尺码,备注"
ROW = "1726110100001,2026-11-01 10:00:00,已发货,A8821,1,58.00,黑色,M,淘宝 4000000000000001"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    f = read_export(write(tmp_path, "a.csv", f"{HEAD}\n{ROW}\n", encoding), {})
    assert f.kind is FileKind.PURCHASE
    assert f.rows[0].values["status"] == "已发货"
    assert f.rows[0].values["remark"] == "淘宝 4000000000000001"
    assert f.encoding == {"gbk": "gb18030"}.get(encoding, encoding)


def test_undecodable_bytes_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(HEAD.encode("utf-8") + b"\n\xff\xfe\xff\x80,\n")
    with pytest.raises(ImportFileError, match=r"bad\.csv, line 2: not readable as UTF-8 or GBK/GB18030"):
        read_export(path, {})


def test_utf16_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "u16.csv", f"{HEAD}\n{ROW}\n", "utf-16")
    with pytest.raises(ImportFileError, match="UTF-16"):
        read_export(path, {})


def test_missing_column_names_it_and_the_header_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "订单号,下单时间,订单状态,货号,数量\n1,2026-11-01 10:00:00,已发货,A1,1\n")
    with pytest.raises(ImportFileError) as err:
        read_export(path, {})
    assert err.value.line == 1 and err.value.column == "单价"
    assert "missing column '单价'" in str(err.value)


def test_unknown_column_is_refused_unless_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", f"{HEAD},买家旺旺\n{ROW},tb_abc\n")
    with pytest.raises(ImportFileError, match="unknown column '买家旺旺'") as err:
        read_export(path, {})
    assert err.value.column == "买家旺旺" and err.value.line == 1
    assert read_export(path, {"ignore_columns": "买家旺旺"}).rows[0].values["order_id"] == "1726110100001"
    assert read_export(path, {"ignore_columns": "*"}).rows


def test_column_override_by_json_and_by_column_setting(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", HEAD.replace("备注", "留言") + "\n" + ROW + "\n")
    assert (
        read_export(path, {"columns": '{"purchase.remark": "留言"}'})
        .rows[0]
        .values["remark"]
        .startswith("淘宝")
    )
    assert read_export(path, {"column.remark": "留言"}).rows[0].values["remark"].startswith("淘宝")
    with pytest.raises(ConfigError, match="unknown field"):
        read_export(path, {"columns": '{"nonsense": "留言"}'})
    with pytest.raises(ConfigError, match="not JSON"):
        read_export(path, {"columns": "{"})


def test_override_replaces_the_default_header(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", f"{HEAD}\n{ROW}\n")
    with pytest.raises(ImportFileError, match="needs a column '旺旺备注'"):
        read_export(path, {"column.order_id": "旺旺备注"})


@pytest.mark.parametrize(
    ("cell", "column", "message"),
    [
        ("2026-02-30 10:00:00", "下单时间", "bad date"),
        ("yesterday", "下单时间", "bad date"),
        ("58.001", "单价", "bad amount"),
        ("five", "单价", "bad amount"),
        ("1.5", "数量", "bad number"),
    ],
)
def test_bad_values_fail_the_file_with_line_and_column(
    tmp_path: Path, cell: str, column: str, message: str
) -> None:
    values = dict(zip(HEAD.split(","), ROW.split(","), strict=True))
    values[column] = cell
    path = write(tmp_path, "a.csv", f"{HEAD}\n{ROW}\n" + ",".join(values.values()) + "\n")
    with pytest.raises(ImportFileError, match=message) as err:
        read_export(path, {})
    assert err.value.line == 3 and err.value.column == column


def test_amount_forms(tmp_path: Path) -> None:
    row = ROW.replace("58.00", '"¥1,058.5元"')
    assert (
        read_export(write(tmp_path, "a.csv", f"{HEAD}\n{row}\n"), {}).rows[0].values["unit_price"]
        == "1058.50"
    )


def test_excel_lost_digits_in_an_id_is_refused(tmp_path: Path) -> None:
    row = ROW.replace("1726110100001", "1.72611E+12")
    with pytest.raises(ImportFileError, match="scientific notation"):
        read_export(write(tmp_path, "a.csv", f"{HEAD}\n{row}\n"), {})
    row = ROW.replace("1726110100001", '="1726110100001"')
    assert (
        read_export(write(tmp_path, "b.csv", f"{HEAD}\n{row}\n"), {}).rows[0].values["order_id"]
        == "1726110100001"
    )


def test_row_without_the_key_fails_the_file(tmp_path: Path) -> None:
    row = ROW.replace("1726110100001", "")
    with pytest.raises(ImportFileError, match="row without '订单号'") as err:
        read_export(write(tmp_path, "a.csv", f"{HEAD}\n{row}\n"), {})
    assert err.value.line == 2


def test_no_header_at_all(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no header row"):
        read_export(write(tmp_path, "a.csv", "hello,world\n1,2\n"), {})


def test_return_export_is_recognised(tmp_path: Path) -> None:
    text = "退货单号,订单号,申请时间,退货状态\nTH1,1726110100001,2026/11/2 9:05,待审核\n"
    f = read_export(write(tmp_path, "r.csv", text), {})
    assert f.kind is FileKind.RETURN
    assert f.rows[0].values["applied_at"] == "2026-11-02 09:05:00"


def test_tab_separated_text_is_read(tmp_path: Path) -> None:
    text = HEAD.replace(",", "\t") + "\n" + ROW.replace(",", "\t") + "\n"
    assert read_export(write(tmp_path, "a.csv", text), {}).rows[0].values["style_no"] == "A8821"


def test_xlsx_with_title_line_dates_and_floats(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["17网 数据导出"])
    sheet.append(HEAD.split(","))
    sheet.append(
        [1726110100001, datetime(2026, 11, 1, 10, 0), "已发货", "A8821", 2.0, 58.5, "黑色", "M", None]
    )
    path = tmp_path / "a.xlsx"
    book.save(path)
    f = read_export(path, {})
    values = f.rows[0].values
    assert f.rows[0].line == 3
    assert values["order_id"] == "1726110100001" and values["quantity"] == "2"
    assert values["unit_price"] == "58.50" and values["created_at"] == "2026-11-01 10:00:00"


def test_xlsx_float_id_that_lost_digits_is_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEAD.split(","))
    sheet.append([1.2345678901234568e19, "2026-11-01 10:00:00", "已发货", "A8821", 1, 58, "黑色", "M", ""])
    path = tmp_path / "a.xlsx"
    book.save(path)
    with pytest.raises(ImportFileError, match="lost digits"):
        read_export(path, {})


def test_broken_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ImportFileError, match="not a readable XLSX"):
        read_export(path, {})


def test_partial_downloads_and_lock_files_are_not_exports(tmp_path: Path) -> None:
    for name in ("a.csv", "b.xlsx", "c.csv.crdownload", "~$b.xlsx", "notes.txt", ".hidden.csv", "d.csv.part"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in export_files(tmp_path)] == ["a.csv", "b.xlsx"]
    assert export_files(tmp_path / "missing") == []


def test_unmatched_quote_is_an_error_naming_its_line(tmp_path: Path) -> None:
    rows = [ROW.replace("A8821", f"A88{i}") for i in range(5)]
    rows[1] = rows[1].replace("黑色", '"黑色')  # a quote opened and never closed on line 3
    text = "\n".join([HEAD, *rows, ROW.replace("淘宝", '"淘宝, 备注"')]) + "\n"
    with pytest.raises(ImportFileError, match="unmatched quote") as err:
        read_export(write(tmp_path, "q.csv", text), {})
    assert err.value.line == 3 and "q.csv" in str(err.value)


def test_quote_open_to_the_end_of_the_file_is_an_error(tmp_path: Path) -> None:
    text = f"{HEAD}\n{ROW}\n{ROW.replace('黑色', chr(34) + '黑色')}\n{ROW}\n"
    with pytest.raises(ImportFileError, match="never closed") as err:
        read_export(write(tmp_path, "q.csv", text), {})
    assert err.value.line == 3


def test_a_quoted_multiline_remark_is_fine(tmp_path: Path) -> None:
    remark = '"第一行\n第二行"'
    text = f"{HEAD}\n{ROW.replace('淘宝 4000000000000001', remark)}\n{ROW}\n"
    f = read_export(write(tmp_path, "m.csv", text), {})
    assert [r.values["remark"] for r in f.rows] == ["第一行\n第二行", "淘宝 4000000000000001"]
    assert [r.line for r in f.rows] == [2, 4]


def test_row_and_size_caps_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", HEAD + "\n" + "\n".join([ROW] * 30) + "\n")
    with pytest.raises(ImportFileError, match=r"big\.csv.*more than 25 rows.*import_max_rows"):
        read_export(path, {"import_max_rows": "25"})
    assert len(read_export(path, {"import_max_rows": "30"}).rows) == 30
    with pytest.raises(ImportFileError, match=r"big\.csv.*over the 1 MB cap.*import_max_mb"):
        read_export(
            write(tmp_path, "big.csv", HEAD + "\n" + "\n".join([ROW] * 20_000) + "\n"), {"import_max_mb": "1"}
        )
    with pytest.raises(ImportFileError, match="import_max_rows must be a positive whole number"):
        read_export(path, {"import_max_rows": "many"})


def test_xlsx_expanding_past_the_row_cap_stops_early(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEAD.split(","))
    for i in range(300):
        sheet.append([f"17261101{i:05d}", "2026-11-01 10:00:00", "已发货", "A8821", 1, 58.0, "黑色", "M", ""])
    path = tmp_path / "wide.xlsx"
    book.save(path)
    with pytest.raises(ImportFileError, match=r"wide\.xlsx.*more than 100 rows") as err:
        read_export(path, {"import_max_rows": "100"})
    assert err.value.line == 102


def test_rows_stream_again_and_a_changed_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", f"{HEAD}\n{ROW}\n{ROW.replace('A8821', 'B1')}\n")
    f = read_export(path, {})
    assert len(f.rows) == 2 and [r.values["style_no"] for r in f.rows] == ["A8821", "B1"]
    assert [r.values["style_no"] for r in f.rows] == ["A8821", "B1"]  # iterable again
    assert f.rows[-1].values["style_no"] == "B1"
    path.write_text(f"{HEAD}\n{ROW}\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="changed while it was being imported"):
        list(f.rows)
