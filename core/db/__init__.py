"""Persistence: SQLAlchemy models, migrations, org-scoped repositories, the credentials vault."""
