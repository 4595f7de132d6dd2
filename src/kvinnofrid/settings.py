"""The run's configuration: validation with messages that name the key, and typed access.

Snakemake loads config.yaml; the Snakefile hands it to ``load_settings`` before any
rule runs, so a misspelt key or a wrong value stops the run with a Swedish message
naming the key and what is allowed, never a traceback. Optional keys take their
``default`` from the schema (the one place defaults live), so a configfile with only
the required keys runs; the rules read every value through ``Settings``, never
``config`` itself.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.spec.names import DEMO_MARKER
from kvinnofrid.statistics.trend import trend_settings

DEFAULT_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The configuration breaks its schema; the message names the key."""


def _where(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "(översta nivån)"


def _explain(error: jsonschema.ValidationError, schema: dict[str, Any]) -> str:
    key = _where(error)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"okänd nyckel {', '.join(map(repr, extra))} under {key}; tillåtna nycklar är: {', '.join(allowed)}"
    if error.validator == "required":
        return f"nyckeln {error.message.split()[0]} saknas under {key}"
    if error.validator == "enum":
        return f"{key} = {error.instance!r} är inte tillåtet; välj ett av: {', '.join(map(str, error.validator_value))}"
    if error.validator == "pattern":
        return (
            f"{key} = {error.instance!r} har fel form (väntat ÅÅÅÅ-MM-DD eller enligt schemat: {error.validator_value})"
        )
    if error.validator == "type":
        return f"{key} = {error.instance!r} ska vara av typen {error.validator_value}"
    if error.validator in ("minimum", "minLength"):
        return f"{key} = {error.instance!r} är för litet (minst {error.validator_value})"
    description = error.schema.get("description", "")
    return f"{key}: {error.message}" + (f" ({description})" if description else "")


def with_defaults(config: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with every absent key that has a schema ``default`` filled in,
    also inside sections (an absent section gets its default, then its keys' defaults)."""
    if not isinstance(config, dict):
        return config
    filled = copy.deepcopy(config)
    for key, spec in schema.get("properties", {}).items():
        if key not in filled and "default" in spec:
            filled[key] = copy.deepcopy(spec["default"])
        if key in filled and "properties" in spec:
            filled[key] = with_defaults(filled[key], spec)
    return filled


def _load_schema(schema_path: Path | None) -> dict[str, Any]:
    return copy.deepcopy(_parsed_schema(str(schema_path or DEFAULT_SCHEMA)))


@lru_cache(maxsize=4)
def _parsed_schema(path: str) -> dict[str, Any]:
    # libyaml's loader when installed: the pure-Python one took a tenth of a second here
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _diagram_problems(config: dict[str, Any]) -> list[str]:
    """Diagram numbers are checked against the registry, not a bound in the schema:
    adding a diagram is one registry entry."""
    numbers = set(load_registry().numbers)
    named = [("unit_reports.diagrams", n) for n in config.get("unit_reports", {}).get("diagrams", [])]
    named += [
        (f"trend.measures.{i}.diagram", m.get("diagram"))
        for i, m in enumerate(config.get("trend", {}).get("measures") or [])
    ]
    return [
        f"{key} = {n!r}: diagrammet finns inte i diagramregistret (diagram {min(numbers)}–{max(numbers)})"
        for key, n in named
        if n not in numbers
    ]


def validate_config(config: dict[str, Any], schema_path: Path | None = None) -> None:
    """Raise ConfigError listing every problem, each naming its key (absent optional
    keys are fine: they take the schema's default)."""
    schema = _load_schema(schema_path)
    config = with_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    problems = [_explain(e, schema) for e in errors]
    # Dates must also be real calendar dates in the right order.
    if not problems:
        problems += _diagram_problems(config)
        try:
            start, end = (dt.date.fromisoformat(config["period"][k]) for k in ("start", "end"))
            dt.date.fromisoformat(config["cutoff"])
        except ValueError as bad:
            problems.append(f"ett datum i period/cutoff är inte ett giltigt datum: {bad}")
        else:
            if start > end:
                problems.append(f"period.start ({start}) ligger efter period.end ({end})")
            bounds = [c["from"] for c in config["size_classes"]]
            if bounds != sorted(set(bounds)):
                problems.append(f"size_classes: gränserna (from) ska vara stigande och olika, inte {bounds}")
    if problems:
        raise ConfigError("Fel i konfigurationen (config.yaml eller --config):\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class Settings:
    data_raw: Path
    interim: Path
    results: Path
    period_start: dt.date
    period_end: dt.date
    cutoff: dt.date
    on_unreadable_file: str
    pseudonym_key_env: str
    suppression_threshold: int
    honour_interventions_min: int
    participants: Path
    municipality_register: Path | None
    districts: dict[str, str]
    unit_aliases: Path | None  # CSV stavning,enhet: spellings of a unit in the exports
    size_classes: tuple[dict[str, Any], ...]
    comparison_groups: Path | None  # kommunkod → group file; None: the size classes
    groups_with_size_classes: bool  # both the groups and the size classes
    kolada: dict[str, Any]  # the kolada section (kvinnofrid.disclosure.kolada.settings_of reads it)
    kolada_population: Path | None  # SCB BE0101N1 export; None: the demo population (demo data only)
    unit_report_diagrams: tuple[int, ...]
    national_bundle: Path | None  # self-service: results/nationellt of a national run
    map_boundaries: Path | None  # municipal boundaries for Figure 1 (kvinnofrid.reporting.figure_map)
    trend: dict[str, Any]  # measures, previous, previous_label (kvinnofrid.statistics.trend)
    demo_seed: int

    @classmethod
    def from_config(
        cls, config: dict[str, Any], project_dir: Path | None = None, schema_path: Path | None = None
    ) -> Settings:
        """The typed settings of a valid ``config`` (absent optional keys: the schema's defaults).

        Input paths (raw data, participants, register, population) that are relative are taken
        from the project directory, so a run in another working directory
        (`snakemake --directory`) reads the same inputs; outputs stay relative to the
        working directory."""

        def source(value: str) -> Path:
            path = Path(value)
            return path if path.is_absolute() or project_dir is None else Path(project_dir) / path

        config = with_defaults(config, _load_schema(schema_path))
        try:
            trend = trend_settings(config.get("trend"))
        except ValueError as problem:  # the message names the key
            raise ConfigError(f"Fel i konfigurationen (config.yaml eller --config): {problem}") from None
        return cls(
            data_raw=source(config["data_raw"]),
            interim=Path(config["interim"]),
            results=Path(config["results"]),
            period_start=dt.date.fromisoformat(config["period"]["start"]),
            period_end=dt.date.fromisoformat(config["period"]["end"]),
            cutoff=dt.date.fromisoformat(config["cutoff"]),
            on_unreadable_file=config["on_unreadable_file"],
            pseudonym_key_env=config["pseudonym_key_env"],
            suppression_threshold=int(config["suppression_threshold"]),
            honour_interventions_min=int(config["honour_interventions_min"]),
            participants=source(config["participants"]),
            municipality_register=source(config["municipality_register"]) if config["municipality_register"] else None,
            districts=dict(config["districts"]),
            unit_aliases=source(config["unit_aliases"]) if config["unit_aliases"] else None,
            size_classes=tuple(dict(c) for c in config["size_classes"]),
            comparison_groups=source(config["comparison_groups"]["file"])
            if config["comparison_groups"].get("file")
            else None,
            groups_with_size_classes=bool(config["comparison_groups"].get("with_size_classes", False)),
            kolada=dict(config["kolada"]),
            kolada_population=source(config["kolada"]["population"]) if config["kolada"]["population"] else None,
            unit_report_diagrams=tuple(int(n) for n in config["unit_reports"]["diagrams"]),
            national_bundle=Path(config["national_bundle"]).resolve() if config["national_bundle"] else None,
            map_boundaries=source(config["map"]["boundaries"]) if config["map"]["boundaries"] else None,
            trend=trend,
            demo_seed=int(config["demo"]["seed"]),
        )

    def national_report_settings(self) -> dict[str, Any]:
        """The values the national report depends on, as plain JSON values (its colophon
        prints their digest). Output folders, the Kolada, unit-report and demo settings
        are left out, so changing them does not rerun the report; so are the paths of
        its input files (participants, register): their content is an input, and the
        digest stays the same in another checkout folder."""
        return {
            "period": [self.period_start.isoformat(), self.period_end.isoformat()],
            "cutoff": self.cutoff.isoformat(),
            "on_unreadable_file": self.on_unreadable_file,
            "honour_interventions_min": self.honour_interventions_min,
            "districts": dict(self.districts),
            "size_classes": [dict(c) for c in self.size_classes],
            "trend": self.trend,
            # the results by municipality size show protected tables
            "suppression_threshold": self.suppression_threshold,
        }

    @property
    def is_demo_data(self) -> bool:
        """The raw folder holds the demo marker (kvinnofrid.spec.names.DEMO_MARKER)."""
        return (self.data_raw / DEMO_MARKER).is_file()

    @property
    def population_source(self) -> str | None:
        """Where the Kolada key figures' population comes from: ``scb`` (config
        kolada.population), ``demo`` (the packaged made-up population, demo data only),
        or None: no population, so the key figures are not built."""
        if self.kolada_population is not None:
            return "scb"
        return "demo" if self.is_demo_data else None


def load_settings(config: dict[str, Any], schema_path: Path | None = None, project_dir: Path | None = None) -> Settings:
    """Validate ``config`` (ConfigError naming every wrong key) and return its Settings."""
    validate_config(config, schema_path)
    return Settings.from_config(config, project_dir=project_dir, schema_path=schema_path)
