"""Where things are, for every test: the repository, the frozen back-test files and the
reference facts (one place, so a test's depth in tests/ does not matter)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
EXPECTED = TESTS / "expected"
REFERENCE = TESTS / "reference"
TINY_CONFIG = ROOT / ".test" / "config.yaml"
