-- =====================================================
-- ROLLBACK: {version} Migration tracking schema
-- =====================================================
-- Undoes: {migration}
-- Drops the _migrations schema and every object the migration created, with the tracking
-- history they hold. DROP SCHEMA without CASCADE: it fails if someone added other objects
-- to _migrations, rather than dropping them unseen.
-- =====================================================

BEGIN;

DROP PROCEDURE IF EXISTS _migrations.log_migration_complete(text, bigint, text);
DROP PROCEDURE IF EXISTS _migrations.log_migration_start(text, text, integer);
DROP FUNCTION IF EXISTS _migrations.get_migration_stats();
DROP FUNCTION IF EXISTS _migrations.get_next_batch();
DROP VIEW IF EXISTS _migrations.v_migration_status;
DROP VIEW IF EXISTS _migrations.v_applied_migrations;
DROP TABLE IF EXISTS _migrations.migration_dependencies;
DROP TABLE IF EXISTS _migrations.migration_errors;
DROP TABLE IF EXISTS _migrations.schema_migrations;
DROP SCHEMA IF EXISTS _migrations;

COMMIT;
