"""The run's configuration: validation with messages that name the key, and typed access.

Snakemake loads config.yaml; the Snakefile hands it to ``validate_config`` before any
rule runs, so a misspelt key or a wrong value stops the run with a Swedish message
naming the key and what is allowed, never a traceback.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml


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
        return (
            f"okänd nyckel {', '.join(map(repr, extra))} under {key}; "
            f"tillåtna nycklar är: {', '.join(allowed)}"
        )
    if error.validator == "required":
        return f"nyckeln {error.message.split()[0]} saknas under {key}"
    if error.validator == "enum":
        return f"{key} = {error.instance!r} är inte tillåtet; välj ett av: {', '.join(map(str, error.validator_value))}"
    if error.validator == "pattern":
        return f"{key} = {error.instance!r} har fel form (väntat ÅÅÅÅ-MM-DD eller enligt schemat: {error.validator_value})"
    if error.validator == "type":
        return f"{key} = {error.instance!r} ska vara av typen {error.validator_value}"
    if error.validator in ("minimum", "minLength"):
        return f"{key} = {error.instance!r} är för litet (minst {error.validator_value})"
    description = error.schema.get("description", "")
    return f"{key}: {error.message}" + (f" ({description})" if description else "")


def validate_config(config: dict[str, Any], schema_path: Path) -> None:
    """Raise ConfigError listing every problem, each naming its key."""
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    problems = [_explain(e, schema) for e in errors]
    # Dates must also be real calendar dates in the right order.
    if not problems:
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
        raise ConfigError(
            "Fel i konfigurationen (config.yaml eller --config):\n  - " + "\n  - ".join(problems)
        )


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
    size_classes: tuple[dict[str, Any], ...]
    kolada: dict[str, Any]              # the kolada section (kvinnofrid.disclosure.kolada.settings_of reads it)
    kolada_population: Path | None      # SCB BE0101N1 export; None: the demo population (demo data only)
    demo_seed: int

    @classmethod
    def from_config(cls, config: dict[str, Any], project_dir: Path | None = None) -> "Settings":
        """Input paths (raw data, participants, register, population) that are relative are taken
        from the project directory, so a run in another working directory
        (`snakemake --directory`) reads the same inputs; outputs stay relative to the
        working directory."""

        def source(value: str) -> Path:
            path = Path(value)
            return path if path.is_absolute() or project_dir is None else Path(project_dir) / path

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
            size_classes=tuple(dict(c) for c in config["size_classes"]),
            kolada=dict(config["kolada"]),
            kolada_population=source(config["kolada"]["population"]) if config["kolada"]["population"] else None,
            demo_seed=int(config["demo"]["seed"]),
        )
