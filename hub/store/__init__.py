"""The store: SQLAlchemy 2 models, the engine, migrations and the repositories."""
