"""Finding the raw exports: which files exist, in which submission round.

The folder name under the raw-data folder is the round (its submission date); every
file in it is one unit's export. Each file gets a stable, ASCII id (``file_id``) for
the interim file names, because real export names contain spaces, å/ä/ö and dates.
The file name is otherwise not trusted: the unit is read from the file's content.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from kvinnofrid.spec.names import slug

ROUND_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Files an export is saved as: beside the round folders such a file is an export whose
# round is unknown, and stops the run (its cases would be lost without a word).
EXPORT_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".txt", ".tsv")
# What operating systems and Office leave beside the exports: never an export, never
# an error. Recognised by kind (see not_an_export), these by name.
SYSTEM_FILE_NAMES = {"thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", ".ds_store", "icon\r", ".apdisk"}
SYSTEM_FOLDER_NAMES = {
    "__macosx",
    ".git",
    ".svn",
    "$recycle.bin",
    "system volume information",
    ".spotlight-v100",
    ".fseventsd",
    ".trashes",
    ".temporaryitems",
    "@eadir",
    "#recycle",
}
# Files the pipeline itself keeps beside the round folders (the demo marker, a README).
DATA_FOLDER_FILES = {
    "demodata.yaml": "markerar demodata (inte en export)",
    "readme.md": "beskrivning av datamappen (inte en export)",
    "readme.txt": "beskrivning av datamappen (inte en export)",
}
_OFFICE_TEMP = re.compile(r"^(?:.*\.tmp|[0-9A-F]{8})$", re.I)  # ~WRL0001.tmp, ~DF3A.tmp, 8B4F2A00
_BACKUP = re.compile(r"(?:\.bak|\.old|\.orig|\.xlk|\.wbk|~)$", re.I)
_PARTIAL = re.compile(r"\.(?:crdownload|part|partial|download|opdownload)$", re.I)


@dataclass(frozen=True)
class RawFile:
    round: str  # YYYY-MM-DD
    file_id: str
    path: Path

    @property
    def round_date(self) -> dt.date:
        return dt.date.fromisoformat(self.round)

    @property
    def shown(self) -> str:
        """``<round>/<path inside the round folder>``, as reports and quality pages name it."""
        folder = round_folder_of(self.path)
        inside = self.path.relative_to(folder).as_posix() if folder is not None else self.path.name
        return f"{self.round}/{inside}"


def round_folder_of(path: Path) -> Path | None:
    """The round folder (named by its date) that holds ``path``, sub-folders allowed."""
    return next((p for p in Path(path).parents if ROUND_PATTERN.match(p.name)), None)


@dataclass(frozen=True)
class SkippedFile:
    """A file under the raw-data folder that is not read (listed in not_exports.csv)."""

    round: str  # the round folder; "" for a file beside the round folders
    file: str  # path relative to the round folder (to the raw-data folder when round is "")
    reason: str  # Swedish, why it is not read


def not_an_export(path: Path) -> str | None:
    """Why ``path`` is no export, by its kind (system file, Office's lock and temporary
    files, a macOS resource fork, a Windows alternate data stream, a backup, an
    unfinished download, a shortcut, a hidden file), or None."""
    name = path.name
    lower = name.lower()
    if ":" in name or lower.endswith("zone.identifier"):
        return "alternativ dataström från Windows (t.ex. :Zone.Identifier), inte en export"
    if lower in SYSTEM_FILE_NAMES:
        return "systemfil (skapas av Windows eller macOS), inte en export"
    if name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#")):
        return "låsfil (skapas när filen är öppen i Excel eller LibreOffice), inte en export"
    if name.startswith("._"):
        return "macOS-metadatafil (resursgren), inte en export"
    if _OFFICE_TEMP.match(name):
        return "tillfällig fil från Office, inte en export"
    if _PARTIAL.search(name):
        return "ofullständig nedladdning, inte en export: ladda ned filen igen"
    if _BACKUP.search(name):
        return "säkerhetskopia, inte en export"
    if lower.endswith((".lnk", ".url", ".webloc")):
        return "genväg, inte en export"
    if name.startswith("."):
        return "dold fil, inte en export"
    return None


def _round_files(folder: Path) -> tuple[list[Path], list[SkippedFile]]:
    """Every file under a round folder, sub-folders included (an unzipped download puts
    the exports one level down), split into candidate exports and skipped files."""
    exports: list[Path] = []
    skipped: list[SkippedFile] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        folders = relative.parts[:-1]
        if any(part.lower() in SYSTEM_FOLDER_NAMES or part.startswith(".") for part in folders):
            if path.is_file():
                skipped.append(SkippedFile(folder.name, relative.as_posix(), "fil i en systemmapp, inte en export"))
            continue
        if not path.is_file():
            continue
        reason = not_an_export(path)
        if reason:
            skipped.append(SkippedFile(folder.name, relative.as_posix(), reason))
        else:
            exports.append(path)
    return exports, skipped


def _outside_rounds(data_raw: Path) -> list[SkippedFile]:
    """The files directly in the raw-data folder, beside the round folders: skipped and
    listed, except an export, which stops the run (its round is unknown)."""
    skipped = []
    for path in sorted(p for p in data_raw.iterdir() if p.is_file()):
        reason = not_an_export(path) or DATA_FOLDER_FILES.get(path.name.lower())
        if reason is None and path.suffix.lower() in EXPORT_SUFFIXES:
            raise ValueError(
                f"{path}: filen ligger direkt i datamappen, utanför omgångsmapparna, så dess omgång är okänd och "
                f"dess ärenden skulle inte räknas. Flytta den till mappen för sin omgång ({data_raw}/ÅÅÅÅ-MM-DD/) "
                "och kör igen, eller flytta den ur datamappen om den inte är en export."
            )
        skipped.append(SkippedFile("", path.name, reason or "fil utanför omgångsmapparna, inte en export"))
    return skipped


def _round_folders(data_raw: Path, cutoff: dt.date | None) -> list[Path]:
    """The round folders up to ``cutoff``. A sub-folder that is not a date is a located
    error, not silently skipped: a misnamed round would otherwise lose a whole submission."""
    if not data_raw.is_dir():
        raise FileNotFoundError(f"Mappen med rådata finns inte: {data_raw}")
    folders = []
    for folder in sorted(p for p in data_raw.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name.lower() in SYSTEM_FOLDER_NAMES:
            continue  # listed by survey
        if not ROUND_PATTERN.match(folder.name):
            raise ValueError(f"{folder}: mappnamnet ska vara inskickningsdatumet ÅÅÅÅ-MM-DD (t.ex. 2023-10-10)")
        if cutoff is None or dt.date.fromisoformat(folder.name) <= cutoff:
            folders.append(folder)
    return folders


def survey(data_raw: Path, cutoff: dt.date | None = None) -> tuple[list[RawFile], list[SkippedFile]]:
    """Every export under ``data_raw/<YYYY-MM-DD>/`` (sub-folders included; rounds after
    ``cutoff`` left out), sorted by round and path, and the files that are not exports."""
    found: list[RawFile] = []
    skipped = _outside_rounds(Path(data_raw)) + _system_folders(Path(data_raw)) + _after_cutoff(Path(data_raw), cutoff)
    for folder in _round_folders(Path(data_raw), cutoff):
        exports, not_exports = _round_files(folder)
        skipped.extend(not_exports)
        used: set[str] = set()
        for path in exports:
            base = slug(path.relative_to(folder).as_posix()) or "fil"
            file_id, n = base, 2
            while file_id in used:  # two names with one slug
                file_id, n = f"{base}-{n}", n + 1
            used.add(file_id)
            found.append(RawFile(folder.name, file_id, path))
    return found, skipped


def _system_folders(data_raw: Path) -> list[SkippedFile]:
    """The files of the system folders beside the round folders (``.git``, ``$RECYCLE.BIN``)."""
    skipped = []
    for folder in sorted(p for p in data_raw.iterdir() if p.is_dir()):
        if folder.name.lower() in SYSTEM_FOLDER_NAMES or folder.name.startswith("."):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                relative = path.relative_to(data_raw).as_posix()
                skipped.append(SkippedFile("", relative, "fil i en systemmapp, inte en export"))
    return skipped


def _after_cutoff(data_raw: Path, cutoff: dt.date | None) -> list[SkippedFile]:
    """The files of the rounds after the cut-off: not read, and said so."""
    if cutoff is None:
        return []
    skipped = []
    for folder in sorted(p for p in data_raw.iterdir() if p.is_dir() and ROUND_PATTERN.match(p.name)):
        if dt.date.fromisoformat(folder.name) > cutoff:
            reason = f"omgången ligger efter brytdatumet (cutoff {cutoff.isoformat()}) och läses inte"
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                skipped.append(SkippedFile(folder.name, path.relative_to(folder).as_posix(), reason))
    return skipped


def discover(data_raw: Path, cutoff: dt.date | None = None) -> list[RawFile]:
    """The exports of ``survey`` (the files that are not exports left out)."""
    return survey(data_raw, cutoff)[0]
