"""Every context's ORM models, imported in one place, for alembic and for test schema set-up.

Add a context's ``models`` module here when it gains tables.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from common.orm import Base

MODEL_MODULES: tuple[str, ...] = (
    "common.events",
    "common.audit",
    "common.steps",
    "oss.resource_inventory.models",
    "oss.number_pool.models",
    "oss.number_pool.porting_models",
    "oss.reservation.models",
    "oss.cpe.models",
    "oss.site.models",
    "oss.ip_pool.models",
    "bss.catalog.models",
    "server.auth.models",
    "server.idempotency.models",
)


def load_all_models() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
