"""The case key stays stable across versions: a fixed pseudonym key, unit, client and
opening date give this exact digest. Every compiled case_id, and so every join of a
case between rounds and reruns, depends on it; a change here must be deliberate (and
means the earlier rounds' keys no longer match)."""

import datetime as dt

import polars as pl

from kvinnofrid.stages.compile import case_id_expr
from kvinnofrid.stages.pseudonym import pseudonymise

KEY = b"test-key-not-secret"
CLIENT_KEY = "b504c88a23f1460276886d636086119caec4c7ff7a736b987b72c0f16c455952"
CASE_ID = "76b91d8fc19cf7f858ccb5c9daa1994209359467b1e36553599bd0a38a68eb36"


def test_the_client_key_of_a_fixed_key_and_client_is_pinned():
    assert pseudonymise(pl.Series(["K0001"]), KEY).to_list() == [CLIENT_KEY]


def test_the_case_id_of_a_fixed_unit_client_and_date_is_pinned():
    frame = pl.DataFrame(
        {
            "unit_slug": ["arboga"],
            "client_key": pseudonymise(pl.Series(["K0001"]), KEY),
            "opened": [dt.date(2022, 3, 14)],
        }
    )
    got = frame.select(case_id_expr(pl.col("unit_slug"), pl.col("client_key"), pl.col("opened"))).item()
    assert got == CASE_ID
