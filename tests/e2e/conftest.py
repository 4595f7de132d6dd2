"""Every test in this folder runs the workflow, a browser or a renderer: it is ``e2e``
(deselected by the quick tier, ``pytest -m "not e2e"``)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)
