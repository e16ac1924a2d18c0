"""The domain: tables, schemas and operations, one package per domain. Imports no entrance."""
