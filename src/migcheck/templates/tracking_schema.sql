-- =====================================================
-- MIGRATION: Migration tracking schema
-- =====================================================
-- Purpose: Create the _migrations schema that records every migration: the tables schema_migrations, migration_errors and migration_dependencies, the views v_applied_migrations and v_migration_status, the functions get_migration_stats() and get_next_batch(), and the procedures log_migration_start and log_migration_complete.
-- Impact: Adds the new schema _migrations only; no existing table is changed or locked, no downtime. Safe to re-run: every statement uses IF NOT EXISTS or OR REPLACE.
-- Rollback: {rollback} drops the _migrations schema and the tracking history it holds.
-- Testing: Applied twice, exercised (each function and procedure called) and rolled back on a throwaway PostgreSQL 15 by migcheck's test suite (tests/test_authoring.py).
-- =====================================================

BEGIN;

-- Creating new objects only: fail fast instead of queueing behind a long transaction.
SET LOCAL lock_timeout = '5s';

-- =====================================================
-- CHANGES
-- =====================================================

-- Step 1: The schema
CREATE SCHEMA IF NOT EXISTS _migrations;

-- Step 2: The core tracking table: one row per migration version
CREATE TABLE IF NOT EXISTS _migrations.schema_migrations (
  version           text PRIMARY KEY,
  description       text NOT NULL DEFAULT '',
  batch             integer NOT NULL DEFAULT 1,
  installed_on      timestamptz NOT NULL DEFAULT now(),
  installed_by      text NOT NULL DEFAULT current_user,
  execution_time_ms bigint,
  success           boolean NOT NULL DEFAULT false,
  error_message     text,
  error_detail      text,
  reverted_at       timestamptz,
  reverted_by       text,
  checksum          text
);

CREATE INDEX IF NOT EXISTS schema_migrations_batch_idx
  ON _migrations.schema_migrations (batch);

-- Step 3: Detailed error log: one row per failed attempt
CREATE TABLE IF NOT EXISTS _migrations.migration_errors (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version       text NOT NULL REFERENCES _migrations.schema_migrations (version) ON DELETE CASCADE,
  attempted_at  timestamptz NOT NULL DEFAULT now(),
  attempted_by  text NOT NULL DEFAULT current_user,
  error_message text NOT NULL,
  error_detail  text
);

CREATE INDEX IF NOT EXISTS migration_errors_version_idx
  ON _migrations.migration_errors (version, attempted_at);

-- Step 4: Dependencies between migrations (documentation: which version needs which)
CREATE TABLE IF NOT EXISTS _migrations.migration_dependencies (
  version    text NOT NULL,
  depends_on text NOT NULL,
  note       text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (version, depends_on),
  CHECK (version <> depends_on)
);

-- Step 5: Views
CREATE OR REPLACE VIEW _migrations.v_applied_migrations AS
  SELECT version, description, batch, installed_on, installed_by, execution_time_ms, checksum
  FROM _migrations.schema_migrations
  WHERE success AND reverted_at IS NULL
  ORDER BY version;

CREATE OR REPLACE VIEW _migrations.v_migration_status AS
  SELECT
    count(*) AS total_migrations,
    count(*) FILTER (WHERE success AND reverted_at IS NULL) AS applied,
    count(*) FILTER (WHERE NOT success AND error_message IS NOT NULL) AS failed,
    count(*) FILTER (WHERE NOT success AND error_message IS NULL AND reverted_at IS NULL) AS in_progress,
    count(*) FILTER (WHERE reverted_at IS NOT NULL) AS reverted,
    max(batch) AS last_batch,
    max(version) FILTER (WHERE success AND reverted_at IS NULL) AS last_applied_version,
    max(installed_on) AS last_installed_on
  FROM _migrations.schema_migrations;

-- Step 6: Functions
CREATE OR REPLACE FUNCTION _migrations.get_next_batch()
RETURNS integer
LANGUAGE sql
STABLE
AS $$
  SELECT coalesce(max(batch), 0) + 1 FROM _migrations.schema_migrations;
$$;

CREATE OR REPLACE FUNCTION _migrations.get_migration_stats()
RETURNS TABLE (
  batch                   integer,
  migrations              bigint,
  applied                 bigint,
  failed                  bigint,
  reverted                bigint,
  first_installed_on      timestamptz,
  last_installed_on       timestamptz,
  total_execution_time_ms bigint,
  avg_execution_time_ms   numeric
)
LANGUAGE sql
STABLE
AS $$
  SELECT
    m.batch,
    count(*),
    count(*) FILTER (WHERE m.success AND m.reverted_at IS NULL),
    count(*) FILTER (WHERE NOT m.success AND m.error_message IS NOT NULL),
    count(*) FILTER (WHERE m.reverted_at IS NOT NULL),
    min(m.installed_on),
    max(m.installed_on),
    sum(m.execution_time_ms)::bigint,
    round(avg(m.execution_time_ms), 1)
  FROM _migrations.schema_migrations AS m
  GROUP BY m.batch
  ORDER BY m.batch;
$$;

-- Step 7: Procedures the guidelines call around each migration
CREATE OR REPLACE PROCEDURE _migrations.log_migration_start(
  p_version     text,
  p_description text,
  p_batch       integer DEFAULT NULL
)
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO _migrations.schema_migrations AS m (version, description, batch)
  VALUES (p_version, coalesce(p_description, ''), coalesce(p_batch, _migrations.get_next_batch()))
  ON CONFLICT (version) DO UPDATE
    SET description = excluded.description,
        batch = excluded.batch,
        installed_on = now(),
        installed_by = current_user,
        execution_time_ms = NULL,
        success = false,
        error_message = NULL,
        error_detail = NULL,
        reverted_at = NULL,
        reverted_by = NULL;
END;
$$;

CREATE OR REPLACE PROCEDURE _migrations.log_migration_complete(
  p_version           text,
  p_execution_time_ms bigint DEFAULT NULL,
  p_error_message     text DEFAULT NULL
)
LANGUAGE plpgsql
AS $$
BEGIN
  -- a migration logged as complete without log_migration_start still gets its row
  INSERT INTO _migrations.schema_migrations AS m (version, batch)
  VALUES (p_version, _migrations.get_next_batch())
  ON CONFLICT (version) DO NOTHING;

  UPDATE _migrations.schema_migrations
     SET execution_time_ms = p_execution_time_ms,
         success = (p_error_message IS NULL),
         error_message = p_error_message
   WHERE version = p_version;

  IF p_error_message IS NOT NULL THEN
    INSERT INTO _migrations.migration_errors (version, error_message)
    VALUES (p_version, p_error_message);
  END IF;
END;
$$;

COMMENT ON SCHEMA _migrations IS 'Migration tracking (see the migration guidelines): which migrations ran, when, and how.';
COMMENT ON TABLE _migrations.schema_migrations IS 'One row per migration version: started, succeeded or failed, reverted.';
COMMENT ON COLUMN _migrations.schema_migrations.checksum IS 'sha256 (64 hex digits) of the migration file as UTF-8 without BOM, line endings as LF: what migcheck lock and migcheck status compare.';

-- Step 8: Record this migration itself
INSERT INTO _migrations.schema_migrations (version, description, batch, execution_time_ms, success)
VALUES ('{version}', 'Migration tracking schema', 1, 0, true)
ON CONFLICT (version) DO NOTHING;

-- =====================================================
-- VERIFICATION
-- =====================================================

-- Verify changes
SELECT to_regclass('_migrations.schema_migrations') AS schema_migrations,
       to_regclass('_migrations.migration_errors') AS migration_errors,
       to_regclass('_migrations.migration_dependencies') AS migration_dependencies,
       to_regclass('_migrations.v_applied_migrations') AS v_applied_migrations,
       to_regclass('_migrations.v_migration_status') AS v_migration_status;
SELECT * FROM _migrations.get_migration_stats();

COMMIT;

-- =====================================================
-- QUERIES TO VERIFY AFTER EXECUTION
-- =====================================================
--
-- SELECT * FROM _migrations.v_migration_status;
-- SELECT * FROM _migrations.v_applied_migrations ORDER BY installed_on DESC LIMIT 5;
-- SELECT * FROM _migrations.get_migration_stats();
-- SELECT _migrations.get_next_batch();
--
-- =====================================================
