"""Reading helpdesk exports: RFC 4180 CSV, JSON lines, .xlsx, label maps, errors with lines."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from classifiers.datasets import Dataset, read_dataset, read_examples
from classifiers.errors import DataError
from classifiers.exports import header_delimiter, open_export, parse_delimiter
from classifiers.label_map import load_label_map
from classifiers.synth import generate_tickets
from tests.classifier_cli import run


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def read(path: Path, **options: Any) -> Dataset:
    return read_dataset(path, ["subject", "body"], "queue", **options)


def rows(data: Dataset) -> list[tuple[int, str, str]]:
    return [(e.line, e.text, e.label) for e in data.examples]


# -- CSV ---------------------------------------------------------------------------------


def test_quoted_multi_line_fields_and_doubled_quotes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.csv",
        "subject,body,queue\n"
        'Refund,"Hello,\nI was charged twice; see ""invoice 12"", please.\n\nThanks",billing\n'
        '"He said ""hi""",plain body,other\n'
        '"","  only, the body",shipping\n',
    )
    data = read(path)
    assert rows(data) == [
        (2, 'Refund\nHello,\nI was charged twice; see "invoice 12", please.\n\nThanks', "billing"),
        (6, 'He said "hi"\nplain body', "other"),
        (7, "  only, the body", "shipping"),
    ]


def test_the_header_alone_picks_the_delimiter(tmp_path: Path) -> None:
    # Commas and quotes in the semicolon file's text, semicolons in the comma file's:
    # a guess from the data rows would pick the wrong one.
    semi = write(
        tmp_path,
        "semi.csv",
        "subject;body;queue\n"
        'Order, late;"Where is it, please? He wrote ""soon"", twice, thrice";shipping\n'
        "a, b, c, d, e, f;g, h, i;billing\n",
    )
    comma = write(
        tmp_path,
        "comma.csv",
        "subject,body,queue\n"
        'Login; again,"steps: 1; 2; 3; 4; 5; 6",account\n'
        "x;y;z;w,v;u;t;s,technical\n",
    )
    assert rows(read(semi)) == [
        (2, 'Order, late\nWhere is it, please? He wrote "soon", twice, thrice', "shipping"),
        (3, "a, b, c, d, e, f\ng, h, i", "billing"),
    ]
    assert rows(read(comma)) == [
        (2, "Login; again\nsteps: 1; 2; 3; 4; 5; 6", "account"),
        (3, "x;y;z;w\nv;u;t;s", "technical"),
    ]
    assert open_export(semi).delimiter == ";" and open_export(comma).delimiter == ","


def test_tab_files(tmp_path: Path) -> None:
    content = 'subject\tbody\tqueue\nA, b; c\t"two\tcells?\nno, one"\tother\n'
    for name in ("export.tsv", "export.csv"):
        assert rows(read(write(tmp_path, name, content))) == [
            (2, "A, b; c\ntwo\tcells?\nno, one", "other")
        ]


def test_header_delimiter_counts_outside_quotes_only() -> None:
    assert header_delimiter('"a;b;c;d",e,f') == ","
    assert header_delimiter('"x,y,z";"w"') == ";"
    assert header_delimiter("a\tb\tc,d") == "\t"
    assert header_delimiter("single") == ","


def test_explicit_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "pipes.csv", "subject|body|queue\nHi, there|x;y|other\n")
    assert rows(read(path, delimiter="|")) == [(2, "Hi, there\nx;y", "other")]
    assert [parse_delimiter(v) for v in ("tab", "\\t", "semicolon", "comma", "|")] == [
        "\t",
        "\t",
        ";",
        ",",
        "|",
    ]
    with pytest.raises(ValueError, match="one character"):
        parse_delimiter('"')
    with pytest.raises(ValueError, match="one character"):
        parse_delimiter(";;")


def test_bom_and_crlf(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "excel.csv",
        b'\xef\xbb\xbfsubject,body,queue\r\nHi,"line one\r\nline two",billing\r\n'
        b"Caf\xc3\xa9,ok,other\r\n",
    )
    assert open_export(path).header == ("subject", "body", "queue")
    assert rows(read(path)) == [
        (2, "Hi\nline one\r\nline two", "billing"),
        (4, "Café\nok", "other"),
    ]


def test_blank_lines_are_skipped_and_numbers_stay_physical(tmp_path: Path) -> None:
    path = write(tmp_path, "gaps.csv", "subject,body,queue\n\nA,b,c\n,,\n\nD,e,f\n")
    assert rows(read(path)) == [(3, "A\nb", "c"), (6, "D\ne", "f")]


def test_empty_label_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.csv",
        'subject,body,queue\nA,"multi\nline\nbody",billing\nB,text,"  "\n',
    )
    with pytest.raises(DataError) as err:
        read(path)
    assert str(err.value) == f"{path}:5: no value in label column 'queue'"


def test_missing_text_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", "subject,body,queue\nA,b,c\n,,billing\n")
    with pytest.raises(DataError) as err:
        read(path)
    assert str(err.value) == f"{path}:3: no text in column(s) subject, body"


def test_wrong_field_count_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.csv",
        'subject,body,queue\nA,"two\nlines",billing\nB, unquoted, comma,billing\n',
    )
    with pytest.raises(DataError) as err:
        read(path)
    assert str(err.value).startswith(
        f"{path}:4: 4 fields, the header has 3 (delimiter comma; a field holding it"
    )
    short = write(tmp_path, "short.csv", "subject;body;queue\nA;b;c\nonly;two\n")
    with pytest.raises(
        DataError, match=r"short\.csv:3: 2 fields, the header has 3 \(delimiter semicolon"
    ):
        read(short)


def test_bad_quoting_names_the_line(tmp_path: Path) -> None:
    stray = write(tmp_path, "stray.csv", 'subject,body,queue\nA,b,c\nB,"quoted" then text,c\n')
    with pytest.raises(DataError, match=r"stray\.csv:3: ',' expected after '\"'"):
        read(stray)
    unclosed = write(tmp_path, "open.csv", 'subject,body,queue\nA,b,c\nB,"never closed\nx,y,z\n')
    with pytest.raises(DataError, match=r"open\.csv:3: unexpected end of data"):
        read(unclosed)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.csv", b"subject,body,queue\nA,b,c\nCaf\xe9,b,c\n")
    with pytest.raises(DataError, match=r"latin1\.csv:3: not UTF-8 text"):
        read(path)


def test_header_must_hold_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", "title,body,group\nA,b,c\n")
    with pytest.raises(DataError) as err:
        read(path)
    assert str(err.value) == (
        f"{path}: no column 'subject' in the header; it has 'title', 'body', 'group'"
    )
    twice = write(tmp_path, "twice.csv", "subject,body,queue,body\nA,b,c,d\n")
    with pytest.raises(DataError, match="the header has 2 columns named 'body'"):
        read(twice)
    with pytest.raises(DataError, match="is empty"):
        read(write(tmp_path, "empty.csv", b"\xef\xbb\xbf"))


def test_many_rows_every_one_read(tmp_path: Path) -> None:
    # Python's csv writer is RFC 4180: whatever it writes must come back unchanged.
    bodies = [f'Line {i}, "quoted"; part\n{"x" * i}\r\nend' for i in range(300)]
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(["subject", "body", "queue"])
    for i, body in enumerate(bodies):
        writer.writerow([f"s{i};", body, f"q{i % 3}"])
    path = write(tmp_path, "big.csv", buf.getvalue())
    data = read(path)
    assert [e.text for e in data.examples] == [f"s{i};\n{b}" for i, b in enumerate(bodies)]
    assert [e.line for e in data.examples[:3]] == [2, 5, 8]


def test_subject_and_body_kept_apart(tmp_path: Path) -> None:
    path = write(
        tmp_path, "export.csv", "title,text,queue\nLate,Where is it?,shipping\n,Only body,x\n"
    )
    data = read_dataset(path, label_column="queue", subject_column="title", body_column="text")
    assert [(e.subject, e.body, e.text) for e in data.examples] == [
        ("Late", "Where is it?", "Late\nWhere is it?"),
        ("", "Only body", "Only body"),
    ]
    joined = read_dataset(path, ["title", "text"], "queue")
    assert joined.texts == data.texts and joined.examples[0].subject is None
    with pytest.raises(DataError, match="not both"):
        read_dataset(path, ["text"], "queue", subject_column="title")


def test_read_examples_keeps_its_shape(tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", "subject,body,queue\nA,b,c\nD,e,f\n")
    texts, labels, digest = read_examples(path, ["subject", "body"], "queue")
    assert (texts, labels) == (["A\nb", "D\ne"], ["c", "f"])
    assert len(digest) == 64


# -- JSON lines --------------------------------------------------------------------------


def test_jsonl(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.ndjson",
        b'\xef\xbb\xbf{"subject": "A", "body": "b\\nc", "labels": {"queue": "x"}}\r\n'
        b"\r\n"
        b'{"subject": "", "body": "d, \\"e\\"; f", "labels": {"queue": "y"}}\n',
    )
    data = read_dataset(path, ["subject", "body"], "labels.queue")
    assert rows(data) == [(1, "A\nb\nc", "x"), (3, 'd, "e"; f', "y")]


def test_jsonl_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path, "export.jsonl", '{"body": "a", "queue": "x"}\n\n{"body": "b", \n')
    with pytest.raises(DataError, match=r"export\.jsonl:3: invalid JSON: "):
        read(path)
    array = write(tmp_path, "array.jsonl", '{"body": "a", "queue": "x"}\n[1]\n')
    with pytest.raises(DataError) as err:
        read(array)
    assert str(err.value) == f"{array}:2: expected a JSON object, got list"


# -- xlsx --------------------------------------------------------------------------------


def write_xlsx(path: Path, sheet: list[list[str | int | None]]) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    for number, values in enumerate(sheet, start=1):
        for col, value in enumerate(values, start=1):
            if value is not None:
                ws.cell(row=number, column=col, value=value)
    book.save(path)
    return path


def test_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "export.xlsx",
        [
            ["subject", "body", "queue"],
            ["Refund", 'two\nlines, "quoted"; ok', "billing"],
            [None, None, None],
            ["Level", 42, 2],
            [None, "no subject", "other"],
        ],
    )
    data = read(path)
    assert rows(data) == [
        (2, 'Refund\ntwo\nlines, "quoted"; ok', "billing"),
        (4, "Level\n42", "2"),
        (5, "no subject", "other"),
    ]


def test_xlsx_errors_name_the_row(tmp_path: Path) -> None:
    wide = write_xlsx(tmp_path / "wide.xlsx", [["subject", "body", "queue"], ["a", "b", "c", "d"]])
    with pytest.raises(DataError) as err:
        read(wide)
    assert str(err.value) == f"{wide}:2: a value in column D, past the header's 3 columns"
    empty = write_xlsx(tmp_path / "empty.xlsx", [["subject", "body", "queue"], ["a", "b", None]])
    with pytest.raises(DataError) as err:
        read(empty)
    assert str(err.value) == f"{empty}:2: no value in label column 'queue'"
    with pytest.raises(DataError, match=r"not an \.xlsx workbook"):
        read(write(tmp_path, "fake.xlsx", "subject,body,queue\n"))


def test_xlsx_without_openpyxl_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_xlsx(tmp_path / "export.xlsx", [["subject", "body", "queue"], ["a", "b", "c"]])
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl -> ImportError
    with pytest.raises(DataError) as err:
        read(path)
    assert str(err.value) == (
        f"{path}: reading .xlsx files needs openpyxl, the xlsx extra: "
        "pip install 'ticket-router[xlsx]'"
    )


# -- label maps --------------------------------------------------------------------------

GROUPS = (
    "subject,body,group\nA,a,Payments EU\nB,b,L2 Network\nC,c,Payments US\nD,d,Sales\nE,e,Sales\n"
)


def test_label_map_yaml_json_and_csv(tmp_path: Path) -> None:
    export = write(tmp_path, "export.csv", GROUPS)
    maps = [
        write(
            tmp_path,
            "map.yaml",
            "Payments EU: tier1\nPayments US: tier1\n'L2 Network': tier2\nSales: tier1\n",
        ),
        write(
            tmp_path,
            "map.json",
            json.dumps(
                {
                    "Payments EU": "tier1",
                    "Payments US": "tier1",
                    "L2 Network": "tier2",
                    "Sales": "tier1",
                }
            ),
        ),
        write(
            tmp_path,
            "map.csv",
            "group;label\nPayments EU;tier1\nPayments US;tier1\nL2 Network;tier2\nSales ; tier1\n",
        ),
    ]
    for path in maps:
        label_map = load_label_map(path)
        assert label_map.labels == ["tier1", "tier2"]
        data = read_dataset(export, ["body"], "group", label_map=label_map)
        assert data.labels == ["tier1", "tier2", "tier1", "tier1", "tier1"]
        assert not data.dropped


def test_label_map_unmapped_values(tmp_path: Path) -> None:
    export = write(tmp_path, "export.csv", GROUPS)
    label_map = load_label_map(
        write(tmp_path, "map.yaml", "Payments EU: tier1\nL2 Network: tier2\n")
    )
    with pytest.raises(DataError) as err:
        read_dataset(export, ["body"], "group", label_map=label_map)
    assert str(err.value) == (
        f"{export}: 3 row(s) have a 'group' value that the label map {label_map.path} does not "
        "map: 'Sales' (2 rows, first at line 5), 'Payments US' (1 row, line 4); "
        "add them to the map or pass --unmapped drop"
    )
    data = read_dataset(export, ["body"], "group", label_map=label_map, unmapped="drop")
    assert rows(data) == [(2, "a", "tier1"), (3, "b", "tier2")]
    assert dict(data.dropped) == {"Sales": 2, "Payments US": 1}
    only = load_label_map(write(tmp_path, "none.json", '{"Nothing": "tier1"}'))
    with pytest.raises(DataError, match=r"holds no examples \(5 dropped as unmapped\)"):
        read_dataset(export, ["body"], "group", label_map=only, unmapped="drop")


def test_bad_label_maps(tmp_path: Path) -> None:
    cases = {
        "bool.yaml": ("no: tier1\n", "key False is False, not text; put it in quotes"),
        "list.yaml": ("- a\n- b\n", "expected a mapping {source_value: label}, got list"),
        "empty.json": ("{}", "is empty"),
        "clash.csv": (
            "g,l\nA,tier1\nA,tier2\n",
            "'A' maps to 'tier1' (line 2) and to 'tier2' (line 3)",
        ),
        "three.csv": ("a,b,c\n1,2,3\n", "expected two columns"),
        "blank.csv": ("g,l\nA,\n", "blank.csv:2: empty label"),
        "map.txt": ("A: b\n", "use a .yaml, .yml, .json or .csv file"),
        "bad.json": ("{", "not valid JSON"),
    }
    for name, (content, message) in cases.items():
        with pytest.raises(DataError) as err:
            load_label_map(write(tmp_path, name, content))
        assert message in str(err.value), name


# -- train and evaluate through the command line -----------------------------------------

CATEGORY_GROUP = {
    "billing": "Payments EU",
    "account": "Accounts",
    "technical": "L2 Network",
    "shipping": "Logistics; Returns",
    "feedback": "Voice of customer",
    "other": "Front desk",
}


def tricky_export(path: Path, n: int, seed: int) -> int:
    """Tickets as a real export has them; returns how many are in group "Front desk".

    Quoted multi-line bodies with ``""`` only inside the text, and commas and
    semicolons around them: on this file csv.Sniffer guesses ``doublequote=False``,
    splits each row in two and leaves every other one without a group.
    """
    tickets = generate_tickets(n, seed=seed)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["id", "subject", "body", "group"])
        for t in tickets:
            body = (
                f'Hi team,\n{t["body"]}\nThe app says "error; code {t["id"]}" again, '
                'see "Settings; Billing".\nRegards'
            )
            writer.writerow([t["id"], t["subject"], body, CATEGORY_GROUP[t["labels"]["category"]]])
    return sum(t["labels"]["category"] == "other" for t in tickets)


def test_train_and_evaluate_a_tricky_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, held = tmp_path / "train.csv", tmp_path / "held.csv"
    other, held_other = tricky_export(train, 240, seed=51), tricky_export(held, 80, seed=52)
    assert 0 < other < 240 and 0 < held_other < 80
    label_map = write(
        tmp_path,
        "groups.yaml",
        "".join(f"'{g}': {c}\n" for c, g in CATEGORY_GROUP.items() if c != "other"),
    )
    common = ["--subject-column", "subject", "--body-column", "body", "--label-column", "group"]
    out = tmp_path / "model"
    train_args = ["train", "--data", str(train), *common, "--task", "category", "--out", str(out)]
    train_args += ["--base", str(tmp_path / "no-base"), "--label-map", str(label_map)]
    assert run(*train_args) == 2
    err = capsys.readouterr().err
    assert f"error: {train}: {other} row(s) have a 'group' value that the label map" in err
    assert "does not map: 'Front desk' (" in err and "pass --unmapped drop" in err
    assert run(*train_args, "--unmapped", "drop") == 0
    err = capsys.readouterr().err
    assert f"dropped {other} row(s) whose 'group' value is not in {label_map}: 'Front desk'" in err
    assert f"read {240 - other} examples, 5 labels from {train}" in err
    evaluate = ["evaluate", "--data", str(held), *common, "--task", "category", "--model", str(out)]
    assert run(*evaluate, "--label-map", str(label_map), "--unmapped", "drop") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 80 - held_other
    assert result["label_map"] == {"file": str(label_map), "dropped": held_other}
    assert set(result["per_class"]) == {"billing", "account", "technical", "shipping", "feedback"}
    assert result["accuracy"] > 0.8
    # Without the map the truth is the export's group names, which the head never predicts.
    assert run(*evaluate) == 0
    unmapped = json.loads(capsys.readouterr().out)
    assert unmapped["n"] == 80 and unmapped["accuracy"] == 0.0 and "label_map" not in unmapped
