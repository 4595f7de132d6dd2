"""Finding the raw exports: which files exist, in which submission round.

The folder name under the raw-data folder is the round (its submission date); every
file in it is one unit's export. Each file gets a stable, ASCII id (``file_id``) for
the interim file names, because real export names contain spaces, å/ä/ö and dates.
The file name is otherwise not trusted: the unit is read from the file's content.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROUND_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Files in the raw-data folder that are documentation, not exports.
IGNORED_NAMES = {"README.md", "readme.md", "demodata.yaml", ".gitkeep", ".DS_Store"}


@dataclass(frozen=True)
class RawFile:
    round: str  # YYYY-MM-DD
    file_id: str
    path: Path

    @property
    def round_date(self) -> dt.date:
        return dt.date.fromisoformat(self.round)


def slugify(text: str) -> str:
    """ASCII, lowercase, words joined by '-': 'SUreg export Årsta.xlsx' -> 'sureg-export-arsta-xlsx'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "fil"


def discover(data_raw: Path, cutoff: dt.date | None = None) -> list[RawFile]:
    """Every export under ``data_raw/<YYYY-MM-DD>/`` (rounds after ``cutoff`` left out),
    sorted by round and name. Sub-folders that are not dates are a located error, not
    silently skipped: a misnamed round would otherwise lose a whole submission."""
    data_raw = Path(data_raw)
    if not data_raw.is_dir():
        raise FileNotFoundError(f"Mappen med rådata finns inte: {data_raw}")
    found: list[RawFile] = []
    for folder in sorted(p for p in data_raw.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not ROUND_PATTERN.match(folder.name):
            raise ValueError(
                f"{folder}: mappnamnet ska vara inskickningsdatumet ÅÅÅÅ-MM-DD (t.ex. 2023-10-10)"
            )
        round_date = dt.date.fromisoformat(folder.name)
        if cutoff is not None and round_date > cutoff:
            continue
        used: set[str] = set()
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            if path.name in IGNORED_NAMES or path.name.startswith((".", "~$")):
                continue
            base = slugify(path.name)
            file_id, n = base, 2
            while file_id in used:  # two names that slugify alike
                file_id, n = f"{base}-{n}", n + 1
            used.add(file_id)
            found.append(RawFile(folder.name, file_id, path))
    return found
