"""Pseudonymisation of the personal identifiers Klient (4) and Handläggare (3).

An identifier becomes ``HMAC-SHA256(key, identifier.strip())`` as lower-case hex. The
key is a secret held outside the repository, in an environment variable (default
``KVINNOFRID_PSEUDONYM_KEY``; configurable as ``pseudonym_key_env``). The same key
gives the same pseudonym in every round, so a case can be followed between a unit's
submissions; without the key a pseudonym cannot be turned back into the identifier by
trying likely identifiers.

Only the shipped, simulated demo data may be processed without a key: when the
variable is unset and the raw-data folder holds the marker file ``demodata.yaml``, the
fixed, public :data:`DEMO_KEY` is used and a notice is logged. The demo key offers no
protection at all and must never be used for real exports.

No function here puts an identifier into a log line or an exception message.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

import polars as pl

from kvinnofrid.errors import UserFacingError
from kvinnofrid.spec.names import DEMO_MARKER

log = logging.getLogger(__name__)

DEFAULT_ENV_VAR = "KVINNOFRID_PSEUDONYM_KEY"

#: The fixed, documented key for the simulated demo data. It is public (it is in the
#: source code), so pseudonyms made with it protect nothing: demo data only.
DEMO_KEY = b"kvinnofrid-demodata-nyckel-ej-hemlig"


class PseudonymKeyError(UserFacingError):
    """No key for pseudonymisation is available (message in Swedish for the user)."""


def pseudonym_key(env_var: str = DEFAULT_ENV_VAR, raw_folder: str | Path | None = None, notice: bool = True) -> bytes:
    """The secret key: the environment variable's value (UTF-8 bytes).

    If the variable is unset or empty and ``raw_folder`` holds the demo marker file, the
    public demo key is returned and, with ``notice``, a notice is logged (the workflow
    gives it once, when it is parsed; its jobs ask with ``notice=False``). Otherwise
    PseudonymKeyError tells the user how to set the variable.
    """
    value = os.environ.get(env_var, "")
    if value.strip():
        return value.encode("utf-8")
    if raw_folder is not None and (Path(raw_folder) / DEMO_MARKER).is_file():
        if not notice:
            return DEMO_KEY
        log.warning(
            "Miljövariabeln %s är inte satt; mappen %s är märkt som demodata (%s), så den "
            "publika demonyckeln används. Använd aldrig demonyckeln för riktiga exporter.",
            env_var,
            raw_folder,
            DEMO_MARKER,
        )
        return DEMO_KEY
    where = f" (mappen {raw_folder} är inte märkt som demodata med filen {DEMO_MARKER})" if raw_folder else ""
    raise PseudonymKeyError(
        f"Nyckel för pseudonymisering saknas: miljövariabeln {env_var} är inte satt{where}. "
        f"Klient- och handläggaridentiteter ersätts med en nycklad kontrollsumma (HMAC-SHA256) "
        f"och nyckeln måste vara hemlig och densamma vid varje körning. Sätt variabeln innan "
        f"körningen, till exempel: export {env_var}='<en lång hemlig slumpsträng>' "
        f"(förvara nyckeln säkert utanför projektmappen; samma nyckel ger samma pseudonymer)."
    )


def pseudonym(identifier: str | None, key: bytes) -> str | None:
    """HMAC-SHA256 hex of the stripped identifier; None when it is missing or blank."""
    return _Hmac(key).hex(identifier)


class _Hmac:
    """HMAC-SHA256 under one key, the key set up once (``hmac.HMAC.copy``): a national
    batch hashes some 200 000 distinct identifiers, and ``hmac.digest`` sets the key up
    again for each."""

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def hex(self, identifier: str | None) -> str | None:
        text = None if identifier is None else str(identifier).strip()
        if not text:
            return None
        keyed = self._keyed.copy()
        keyed.update(text.encode("utf-8"))
        return keyed.hexdigest()


def pseudonymise(identifiers: pl.Series, key: bytes) -> pl.Series:
    """Replace every identifier of a String series by its pseudonym (null stays null).

    Hashes each distinct value once; the result keeps the series' name and length."""
    values = identifiers.cast(pl.String)
    distinct = values.drop_nulls().unique().to_list()
    keyed = _Hmac(key)
    mapping = dict(zip(distinct, map(keyed.hex, distinct), strict=True))
    return values.replace_strict(mapping, default=None, return_dtype=pl.String).alias(identifiers.name)
