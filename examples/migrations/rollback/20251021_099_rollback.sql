-- Rollback of a migration that was renamed long ago
BEGIN;
DROP TABLE IF EXISTS tmp_import;
COMMIT;
