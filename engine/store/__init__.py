"""The store: SQLAlchemy models (engine.store.models), the engine, migrations and sessions
(engine.store.db). Importing it creates no engine and opens no database."""
