"""The CSV exports (roster, gradebook) write text that a spreadsheet would run as a formula
as plain text."""

from __future__ import annotations

import csv
import io

from web.roster import csv_lines


def cells(line: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(line.decode())))


def test_text_starting_a_formula_is_written_as_text():
    line = csv_lines([['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tTAB", "plain"]])

    expected = ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tTAB", "plain"]
    assert cells(line) == expected


def test_numbers_and_ordinary_text_are_written_as_they_are():
    assert csv_lines([["Ada Lovelace", 92.5, -1, "", "a=b"]]) == b"Ada Lovelace,92.5,-1,,a=b\r\n"
