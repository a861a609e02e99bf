"""Alembic's entry point. The app runs migrations through :func:`tutor.db.migrate`, which hands
over its own connection; the `alembic` command (alembic.ini at the project root) uses
TUTOR_DATABASE_URL / TUTOR_HOME like the app."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tutor.schema import metadata

config = context.config


def _run(connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from tutor.settings import get_settings

    engine = create_engine(get_settings().database)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
