"""Alembic trees: `core` (the tenant registry) and `tenant` (applied to every tenant)."""
