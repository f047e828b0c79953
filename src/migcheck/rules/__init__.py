"""One module per rule (or per tight family of rules). Every module here is imported by
``migcheck.registry.load()`` and registers its rules with ``@rule``."""
