"""Each service's migrations form one line of history: a deploy upgrades to one head."""

import pytest
from alembic.script import ScriptDirectory

from shared.migrations import alembic_config
from shared.platform import SERVICES
from tests.harness import ROOT


@pytest.mark.parametrize("name", SERVICES)
def test_migrations_have_a_single_head(name):
    config = alembic_config(ROOT / "services" / name, "postgresql+asyncpg://unused/none")
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
