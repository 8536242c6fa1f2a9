"""Universe list text: parse and format round trip."""

from __future__ import annotations

import pytest

from core.output.base import OutputError
from core.output.universes import format_universe_list, parse_universe_list


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("  ", []),
    ("all", []),
    ("7", [7]),
    ("1-4, 7", [1, 2, 3, 4, 7]),
    ("1 - 4 ,7", [1, 2, 3, 4, 7]),
    ("7 3 1..2", [1, 2, 3, 7]),
    ("4-4; 2", [2, 4]),
    ("1-3, 2-5", [1, 2, 3, 4, 5]),
    ("63999", [63999]),
])
def test_parse(text, expected):
    assert parse_universe_list(text) == expected


@pytest.mark.parametrize("text, words", [
    ("0", "outside"),
    ("64000", "outside"),
    ("4-1", "backwards"),
    ("a", "not a number"),
    ("1-", "not a number"),
    ("1-2-3", "not a number"),
    ("1-9000", "more than"),
])
def test_parse_errors_say_what_is_wrong(text, words):
    with pytest.raises(OutputError, match=words):
        parse_universe_list(text)


@pytest.mark.parametrize("values, text", [
    ([], ""),
    ([7], "7"),
    ([1, 2, 3, 4, 7], "1-4, 7"),
    ([7, 1, 3, 2, 4, 4], "1-4, 7"),
    ([1, 2], "1, 2"),
    ([1, 3, 5, 6, 7, 9], "1, 3, 5-7, 9"),
])
def test_format(values, text):
    assert format_universe_list(values) == text


@pytest.mark.parametrize("values", [[], [1], [1, 2], [1, 2, 3, 10, 12, 13, 14, 100], list(range(5, 40, 3))])
def test_round_trip(values):
    assert parse_universe_list(format_universe_list(values)) == sorted(values)
