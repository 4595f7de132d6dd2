"""Fixtures of the report tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from support.report_inputs import book_kwargs, report_inputs

from kvinnofrid.reporting.book import build_book


@pytest.fixture(scope="session")
def demo_book(tmp_path_factory) -> SimpleNamespace:
    """The book of the demo inputs with every default (``book_kwargs``), built once:
    ``folder`` and ``paths`` (what build_book returns). Many tests read this book; none
    may write to it (a test that changes an input builds its own)."""
    folder = tmp_path_factory.mktemp("demo-book")
    return SimpleNamespace(folder=folder, paths=build_book(folder, **book_kwargs(report_inputs())))
