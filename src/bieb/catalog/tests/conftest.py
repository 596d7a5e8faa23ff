from __future__ import annotations

import pytest

from bieb.catalog import search
from bieb.catalog.search.engine import backend


@pytest.fixture
def search_index(db):
    """An empty search index and a helper that indexes editions (objects or ids).

    The index tables are not Django models, so a ``transaction=True`` test elsewhere can leave
    rows behind; emptying them first keeps every search test to its own editions. Tests that
    create editions through factories must index them: ``search_index(edition, ...)``.
    """
    backend().clear()

    def index(*editions) -> None:
        search.index_editions([getattr(e, "pk", e) for e in editions])

    return index
