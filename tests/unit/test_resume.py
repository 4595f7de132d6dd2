"""Every run gets the workflow profile profiles/default/ (Snakemake's own mechanism):
the plain rerun finishes an interrupted run (rerun-incomplete), whatever folder the
command is typed in. The end-to-end interruptions are in tests/e2e/test_resume_e2e.py."""

from __future__ import annotations

import pytest
import yaml
from support.paths import ROOT

PROFILE = ROOT / "profiles" / "default" / "config.yaml"


def parse_args(argv: list[str]):
    """Snakemake's own command-line parser. Imported here, not at the top: importing
    snakemake.cli takes about a second, which every xdist worker would pay while
    collecting, whether or not it runs these tests."""
    from snakemake.cli import parse_args as snakemake_parse_args

    return snakemake_parse_args(argv)


@pytest.mark.parametrize("where", ["project", "elsewhere"])
def test_snakemake_reads_the_workflow_profile_from_wherever_it_is_started(tmp_path, monkeypatch, where):
    monkeypatch.chdir(ROOT if where == "project" else tmp_path)
    _, args = parse_args(["--snakefile", str(ROOT / "Snakefile"), "--cores", "1", "-n"])
    assert args.rerun_incomplete is True
    assert args.scheduler == "greedy"
    _, plain = parse_args(["--snakefile", str(ROOT / "Snakefile"), "--cores", "1", "-n", "--workflow-profile", "none"])
    assert plain.rerun_incomplete is False  # the setting comes from the profile, not a default


def test_the_profile_holds_only_options_snakemake_knows():
    settings = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    assert settings["rerun-incomplete"] is True
    known = {action.dest for action in parse_args(["--cores", "1"])[0]._actions}
    assert {key.replace("-", "_") for key in settings} <= known


def test_nothing_in_the_product_reads_snakemakes_private_folder():
    # .snakemake/ is Snakemake's state (incomplete markers, locks, metadata, its scripts):
    # the workflow and the package use Snakemake's options and the files they declare
    # themselves, never that folder. (Tests may look into .snakemake/log/ to check that
    # no personal data reaches Snakemake's own logs.)
    code = [*(ROOT / "src").rglob("*.py"), *(ROOT / "scripts").glob("*.py"), ROOT / "Snakefile"]
    code += [*(ROOT / "workflow").rglob("*.smk"), *(ROOT / "profiles").rglob("*.yaml")]
    readers = [p.relative_to(ROOT).as_posix() for p in code if ".snakemake" in p.read_text(encoding="utf-8")]
    assert readers == []
