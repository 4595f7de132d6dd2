"""Ingest and clean in batches: a few jobs per round instead of one process per file.

At national scale (553 exports) one Snakemake job per file spent ~7 of 7.3 minutes
starting Python and polars; reading every file took 5.5 s. So rule ``clean`` runs one
job per *batch*: the files of one round, split into ``BATCHES_PER_ROUND`` parts by a
hash of their file id (deterministic, and stable when other units' files come or go).
A batch job ingests and cleans its files in one process and writes one set of files for
the batch (the cleaned rows, risk assessments, set-aside rows and issues of all its
files, each row still naming its file, and the list of the files' JSON reports).
Compile and quality read them back per file (:func:`read_batch`): per-file accounting,
issues and quality pages are unchanged.

So that a rerun of a batch (one unit sent a new export) does not redo its unchanged
files, each file's result is cached under ``<cache>/<round>/batch-<part>/<entry>/`` in
exactly the form rule ``clean`` wrote per file before (pseudonymised cleaned rows,
issues with described values; never raw text). The entry is named by a digest of the
file's content, its name in the reports, the code that cleans it (every module this
one imports and the codebook, found from the imports by kvinnofrid.sources; polars'
and fastexcel's versions) and the settings that change the result (period,
on_unreadable_file, the unit texts the run knows, a digest of the pseudonymisation
key, never the key). An entry is written to a temporary folder and
renamed when whole; its manifest holds a SHA-256 per file, so a partial or corrupt
entry is redone, never trusted. After a batch succeeds, entries it no longer uses are
removed: the cache holds one entry per current file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import shutil
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import polars as pl

from kvinnofrid import sources
from kvinnofrid.spec.municipalities import KnownUnits
from kvinnofrid.stages.clean import CleanResult
from kvinnofrid.stages.rawfiles import RawFile

log = logging.getLogger("kvinnofrid")

# 4 parts per round: at national scale (≈ 280 files a round) a batch's ~1.5 s of
# imports is small against its cleaning, both cores stay busy, and a changed export
# reruns one job of ~70 files, of which only the changed one is cleaned (the cache).
BATCHES_PER_ROUND = 4

_LIBRARIES = ("polars", "fastexcel")
# Arrow IPC, not Parquet: an entry is written by every first run and read back whole;
# IPC costs a fifth of Parquet's CPU to write (no encoding or compression) at national scale.
_PARTS = {"used": "cases.arrow", "risk": "risk.arrow", "excluded": "rejected.arrow", "issues": "issues.arrow"}
_MANIFEST = "manifest.json"


# ------------------------------------------------------------------- which batch


def part_of(file_id: str, parts: int = BATCHES_PER_ROUND) -> int:
    """The batch part of a file within its round (CRC-32 of its id: same on every run)."""
    return zlib.crc32(file_id.encode("utf-8")) % parts


def plan(raw_files: Iterable[RawFile], parts: int = BATCHES_PER_ROUND) -> dict[tuple[str, str], list[RawFile]]:
    """{(round, part): the files of the batch, in survey order}; only non-empty batches."""
    planned: dict[tuple[str, str], list[RawFile]] = {}
    for f in raw_files:
        planned.setdefault((f.round, str(part_of(f.file_id, parts))), []).append(f)
    return dict(sorted(planned.items()))


# ---------------------------------------------------------------------- the cache


@dataclass(frozen=True)
class CleanSettings:
    """What, besides a file's content and the code, decides its cleaned result."""

    period: tuple[dt.date, dt.date]
    on_unreadable: str
    key: bytes
    # the unit texts the run knows (register, districts, aliases): ingest tells a unit
    # from a person's name typed into Kommun/stadsdel by them; None: the register
    units: KnownUnits | None = None

    def fingerprint(self) -> str:
        # The key enters as an HMAC of a fixed text: the cache name says whether the key
        # changed, never anything about the key itself.
        key_digest = hmac.new(self.key, b"kvinnofrid clean cache", hashlib.sha256).hexdigest()
        fields = [self.period[0].isoformat(), self.period[1].isoformat(), self.on_unreadable, key_digest]
        if self.units is not None:
            fields.append(hashlib.sha256(repr(self.units).encode("utf-8")).hexdigest())
        return json.dumps(fields)


def code_version() -> str:
    """Digest of the code that cleans a file and the reader libraries' versions. The code
    is this module's closure (kvinnofrid/sources.py: every module it imports, at any
    depth, and the codebook and other data they read), the same derivation that makes
    rule ``clean`` rerun when one of them changes."""
    digest = hashlib.sha256(sources.digest(sources.closure([__name__])).encode())
    for library in _LIBRARIES:
        digest.update(f"\0{library}={metadata.version(library)}".encode())
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def entry_name(raw: RawFile, settings: CleanSettings, code: str) -> str:
    """The cache entry of one raw file: its content, its name, the code and the settings."""
    parts = [_sha256_file(raw.path), raw.shown, raw.round, code, settings.fingerprint()]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


class CleanCache:
    """One batch's folder of cached per-file results (see the module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def get(self, name: str) -> tuple[dict, CleanResult] | None:
        """The cached (meta, result), or None when absent, partial or corrupt."""
        entry = self.folder / name
        if not entry.is_dir():
            return None
        try:
            manifest = json.loads((entry / _MANIFEST).read_text(encoding="utf-8"))
            if set(manifest["sha256"]) != set(_PARTS.values()):
                raise ValueError("the manifest does not list the entry's parts")
            frames = {}
            for field, part in _PARTS.items():
                # the bytes checked are the bytes read (into memory: keep_only may remove the entry)
                data = (entry / part).read_bytes()
                if hashlib.sha256(data).hexdigest() != manifest["sha256"][part]:
                    raise ValueError(f"{part} does not match its manifest")
                frames[field] = pl.read_ipc(data)
            return CleanResult.from_report(manifest["report"], **frames)
        except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError) as problem:
            log.warning("Cachad rensning %s ignoreras och görs om (%s).", name, type(problem).__name__)
            shutil.rmtree(entry, ignore_errors=True)
            return None

    def put(self, name: str, meta: dict, result: CleanResult) -> None:
        """Write the entry to a temporary folder, then rename it: whole or not at all."""
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{name}.tmp-{os.getpid()}"
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir()
        for field, part in _PARTS.items():
            getattr(result, field).write_ipc(temporary / part)
        manifest = {
            "report": result.report(meta),
            "sha256": {part: _sha256_file(temporary / part) for part in _PARTS.values()},
        }
        (temporary / _MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, default=str), encoding="utf-8")
        shutil.rmtree(self.folder / name, ignore_errors=True)
        os.replace(temporary, self.folder / name)

    def keep_only(self, names: Iterable[str]) -> None:
        """Remove every entry (and left-over temporary folder) not in ``names``."""
        keep = set(names)
        if self.folder.is_dir():
            for entry in self.folder.iterdir():
                if entry.name not in keep:
                    shutil.rmtree(entry, ignore_errors=True)


# -------------------------------------------------------------------- one batch


def clean_batch(files: Sequence[RawFile], settings: CleanSettings, cache: CleanCache) -> list[tuple[dict, CleanResult]]:
    """(meta, result) per file, in order: from the cache, or read and cleaned (and cached).
    An unreadable file raises IngestError (naming it) unless ``on_unreadable == "skip"``."""
    from kvinnofrid.stages import pooled

    code = code_version()
    names = [entry_name(raw_file, settings, code) for raw_file in files]
    cleaned = [cache.get(name) for name in names]
    redo = [i for i, hit in enumerate(cleaned) if hit is None]
    # the files not in the cache, cleaned together in one columnar pass (stages/pooled.py)
    for i, (meta, result) in zip(redo, pooled.clean_files([files[i] for i in redo], settings)):
        cache.put(names[i], meta, result)
        cleaned[i] = (meta, result)
    cache.keep_only(names)
    log.info("%d filer: %d rensade, %d från cachen.", len(files), len(redo), len(files) - len(redo))
    return cleaned


# ----------------------------------------------------------- the batch's files


def write_batch(
    cleaned: Sequence[tuple[dict, CleanResult]],
    *,
    cases: str | Path,
    risk: str | Path,
    rejected: str | Path,
    issues: str | Path,
    reports: str | Path,
) -> None:
    """One file per kind for the whole batch; every row keeps its ``file`` (the risk
    table gets one for the batch: :func:`read_batch` drops it again)."""
    for path in (cases, risk, rejected, issues, reports):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    results = [result for _, result in cleaned]
    _concat([r.used for r in results]).write_parquet(cases)
    _concat([r.risk.with_columns(pl.lit(r.file, pl.String).alias("file")) for r in results]).write_parquet(risk)
    _concat([r.excluded for r in results]).write_parquet(rejected)
    _concat([r.issues for r in results]).write_parquet(issues)
    Path(reports).write_text(
        json.dumps([result.report(meta) for meta, result in cleaned], ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
    )


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(frames, how="vertical", rechunk=False)


def read_batch(
    *,
    reports: str | Path,
    cases: str | Path | None = None,
    risk: str | Path | None = None,
    rejected: str | Path | None = None,
    issues: str | Path | None = None,
) -> list[tuple[dict, CleanResult]]:
    """(meta, result) per file of a batch, as :meth:`CleanResult.read` gives for one
    file; a frame whose path is None is left empty."""
    infos = json.loads(Path(reports).read_text(encoding="utf-8"))
    split = {
        field: _by_file(path, drop_file=field == "risk")
        for field, path in (("used", cases), ("risk", risk), ("excluded", rejected), ("issues", issues))
        if path is not None
    }
    files = {info["file"] for info in infos}
    for field, (by_file, _) in split.items():
        if not set(by_file) <= files:  # a row of no file reported: it would be lost
            raise ValueError(f"{Path(reports).name}: rows in {field} of a file the batch does not report")
    out = []
    for info in infos:
        frames = {field: by_file.get(info["file"], empty) for field, (by_file, empty) in split.items()}
        out.append(CleanResult.from_report(info, **frames))
    return out


def _by_file(path: str | Path, drop_file: bool) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    frame = pl.read_parquet(path)
    parts = {key[0]: part for key, part in frame.partition_by("file", as_dict=True, maintain_order=True).items()}
    if drop_file:
        parts = {file: part.drop("file") for file, part in parts.items()}
        frame = frame.drop("file")
    return parts, frame.clear()


def read_batches(reports: Sequence[str], **frames: Sequence[str]) -> list[tuple[dict, CleanResult]]:
    """:func:`read_batch` over several batches (the lists of paths in the same order)."""
    out: list[tuple[dict, CleanResult]] = []
    for i, report in enumerate(reports):
        out += read_batch(reports=report, **{field: paths[i] for field, paths in frames.items()})
    return out
