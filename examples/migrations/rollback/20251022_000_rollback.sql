-- Rollback of 20251022_000_migration_tracking_schema.sql
BEGIN;
DROP VIEW IF EXISTS _migrations.v_applied_migrations;
DROP TABLE IF EXISTS _migrations.schema_migrations;
DROP SCHEMA IF EXISTS _migrations;
COMMIT;
