"""Citizen ID rules in Python and in the pool's SQL, which must agree."""

import datetime as dt

import duckdb
import pytest

from cunxin.datapool import sqlfuncs
from cunxin.datapool.engine.duckdb import DuckDBEngine
from cunxin.lib import idnumber

VALID = [
    "11010519491231002X",  # the textbook example (Beijing, 1949-12-31, female)
    "320723198001010037",
    "440524198801010011",
]


@pytest.mark.parametrize("number", VALID)
def test_it_accepts_valid_numbers(number):
    parsed = idnumber.parse(number, today=dt.date(2026, 11, 28))
    assert parsed.valid, parsed.reason
    assert parsed.id18 == number


def test_it_computes_the_check_character():
    assert idnumber.check_char("11010519491231002") == "X"
    assert idnumber.check_char("32072319800101003") == "7"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        (None, "empty"),
        ("32072319800101003", "bad_shape"),  # 17 digits
        ("3207231980010100377", "bad_shape"),
        ("32072319800101003A", "bad_shape"),
        ("990723198001010037", "bad_region"),
        ("320723198002300033", "bad_birth_date"),  # 30 February
        ("320723203001010037", "bad_birth_date"),  # in the future
        ("320723198001010038", "bad_check_digit"),
        ("320723198001011037", "bad_check_digit"),  # one digit typo'd
    ],
)
def test_it_rejects_invalid_numbers_with_a_reason(raw, reason):
    parsed = idnumber.parse(raw, today=dt.date(2026, 11, 28))
    assert not parsed.valid
    assert parsed.reason == reason


def test_it_upgrades_15_digit_numbers():
    assert idnumber.upgrade15("320723800101003") == "320723198001010037"
    assert idnumber.parse("320723800101003").id18 == "320723198001010037"


def test_it_normalises_full_width_digits_spaces_and_lowercase_x():
    assert idnumber.parse(" １１０１０５１９４９１２３１００２x ").id18 == "11010519491231002X"


def test_it_reads_gender_and_birth_date():
    assert idnumber.gender("320723198001010037") == "M"
    assert idnumber.gender("11010519491231002X") == "F"
    assert idnumber.birth_date("11010519491231002X") == dt.date(1949, 12, 31)


CASES = [
    "11010519491231002X",
    "11010519491231002x",
    "320723198001010037",
    "320723800101003",
    "320723198001010038",
    "320723198002300033",
    "990723198001010037",
    "３２０７２３１９８００１０１００３７",
    "abc",
    "",
    "320723203001010037",
    "32072319000229003X",  # 1900 was not a leap year
    "320723200002290034",  # 2000 was
]


def test_the_sql_rules_agree_with_python():
    con = duckdb.connect()
    e = DuckDBEngine(name="duckdb", con=con)
    con.execute("CREATE TABLE t (raw VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[c] for c in CASES])
    cleaned = sqlfuncs.id_clean(e, "raw")
    up = sqlfuncs.id_upgraded(e, f"({cleaned})")
    rows = con.execute(f"SELECT raw, {sqlfuncs.id_reason(e, f'({up})')}, {up} FROM t").fetchall()
    for raw, reason, upgraded in rows:
        parsed = idnumber.parse(raw, today=dt.date(2026, 11, 28))
        assert reason == parsed.reason, raw
        if parsed.valid:
            assert upgraded == parsed.id18
