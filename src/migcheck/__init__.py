"""migcheck: a pre-deploy linter and static checker for PostgreSQL migration files."""

__version__ = "0.1.0"
