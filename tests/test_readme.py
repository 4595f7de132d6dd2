"""The README stays a page a newcomer reads: at most 12 KB, and a quick start of exactly
two commands (one installs and builds the report from the demo data, one runs the
tests), which .ci/run reads from it and runs as they stand."""

from __future__ import annotations

import re
import subprocess

from conftest import ROOT

README = ROOT / "README.md"
MAX_BYTES = 12 * 1024


def _quick_start() -> list[str]:
    """The quick-start commands exactly as .ci/run reads them (its sed and grep)."""
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    reader = re.search(r"mapfile -t steps < <\((.*?)\)\n", run, flags=re.S)
    assert reader, ".ci/run no longer reads the quick start with mapfile: update this test"
    done = subprocess.run(["bash", "-c", reader.group(1)], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_the_readme_is_at_most_12_kb():
    size = len(README.read_bytes())
    assert size <= MAX_BYTES, f"README.md is {size} bytes; move detail to docs/ (at most {MAX_BYTES})"


def test_the_quick_start_is_two_commands_build_then_test():
    install_and_build, tests = _quick_start()
    assert "pip install" in install_and_build and "-c requirements.lock" in install_and_build
    assert install_and_build.rstrip().endswith("snakemake --cores all")
    assert re.fullmatch(r"\.venv/bin/pytest\b.*", tests)


def test_the_readme_links_resolve():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert local, "the README links to the guides in docs/"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"
    for guide in ("docs/anvandarguide.md", "docs/developers.md"):
        assert guide in local
