import hashlib
import hmac
import logging

import polars as pl
import pytest
from polars.testing import assert_series_equal

from kvinnofrid.spec.names import DEMO_MARKER
from kvinnofrid.stages.pseudonym import (
    DEMO_KEY,
    PseudonymKeyError,
    pseudonym,
    pseudonym_key,
    pseudonymise,
)

ENV = "KVINNOFRID_TEST_PSEUDONYM_KEY"


def test_pseudonym_is_hmac_sha256_hex_of_the_stripped_identifier():
    expected = hmac.new(b"nyckel", "Klient-Åsa 7".encode(), hashlib.sha256).hexdigest()
    assert pseudonym("  Klient-Åsa 7 ", b"nyckel") == expected
    assert len(expected) == 64


@pytest.mark.parametrize("key", [b"", b"k", b"x" * 63, b"y" * 64, b"z" * 65, bytes(range(256)) * 2])
@pytest.mark.parametrize("identifier", ["K-1", "Klient-Åsa 7", "x" * 200])
def test_pseudonym_is_the_standard_hmac_for_every_key_length(key, identifier):
    # keys shorter than, as long as and longer than SHA-256's block (hashed first)
    assert pseudonym(identifier, key) == hmac.new(key, identifier.encode(), hashlib.sha256).hexdigest()
    series = pl.Series("client_key", [identifier, None], dtype=pl.String)
    assert pseudonymise(series, key).to_list() == [pseudonym(identifier, key), None]


def test_pseudonym_is_stable_and_depends_on_the_key():
    assert pseudonym("K-1", b"a") == pseudonym("K-1", b"a")
    assert pseudonym("K-1", b"a") != pseudonym("K-1", b"b")
    assert pseudonym("K-1", b"a") != pseudonym("K-2", b"a")


def test_missing_identifiers_stay_missing():
    assert pseudonym(None, b"a") is None
    assert pseudonym("   ", b"a") is None


def test_pseudonymise_series_keeps_name_length_and_nulls():
    series = pl.Series("client_key", ["K-1", None, " K-1", "K-2", ""], dtype=pl.String)
    expected = pl.Series(
        "client_key",
        [pseudonym("K-1", b"k"), None, pseudonym("K-1", b"k"), pseudonym("K-2", b"k"), None],
        dtype=pl.String,
    )
    assert_series_equal(pseudonymise(series, b"k"), expected)
    assert_series_equal(
        pseudonymise(pl.Series("x", [None, None], dtype=pl.String), b"k"),
        pl.Series("x", [None, None], dtype=pl.String),
    )


def test_key_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, "hemlig-nyckel")
    (tmp_path / DEMO_MARKER).write_text("demo: true\n")
    assert pseudonym_key(ENV, tmp_path) == b"hemlig-nyckel"  # the variable wins over the marker


def test_demo_key_only_with_the_marker(monkeypatch, tmp_path, caplog):
    monkeypatch.delenv(ENV, raising=False)
    (tmp_path / DEMO_MARKER).write_text("demo: true\n")
    with caplog.at_level(logging.WARNING, logger="kvinnofrid.stages.pseudonym"):
        assert pseudonym_key(ENV, tmp_path) == DEMO_KEY
    assert "demonyckeln" in caplog.text and ENV in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kvinnofrid.stages.pseudonym"):
        assert pseudonym_key(ENV, tmp_path, notice=False) == DEMO_KEY  # a job: the run said it once
    assert not caplog.text


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_key_without_marker_is_a_clear_swedish_error(monkeypatch, tmp_path, value):
    if value is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, value)
    with pytest.raises(PseudonymKeyError) as error:
        pseudonym_key(ENV, tmp_path)
    message = str(error.value)
    assert ENV in message
    assert "Nyckel för pseudonymisering saknas" in message
    assert "Sätt variabeln" in message
    with pytest.raises(PseudonymKeyError):
        pseudonym_key(ENV)
