-- What diesel has made before it runs the first migration: its tracking table (diesel_migrations'
-- setup_migration_table.sql). Migrations may refer to it (a trigger on it, a SELECT from it).
CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
    version VARCHAR(50) PRIMARY KEY NOT NULL,
    run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
