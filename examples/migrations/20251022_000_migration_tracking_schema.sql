-- =====================================================
-- MIGRATION: Migration tracking schema
-- =====================================================
-- Purpose: Create the _migrations schema that records every applied migration
-- Impact: New schema only; no existing table is touched, no downtime
-- Rollback: rollback/20251022_000_rollback.sql drops the schema
-- Testing: Applied and rolled back on a local Supabase stack
-- =====================================================

BEGIN;

CREATE SCHEMA IF NOT EXISTS _migrations;

CREATE TABLE IF NOT EXISTS _migrations.schema_migrations (
  version           TEXT PRIMARY KEY,
  description       TEXT NOT NULL,
  batch             INTEGER NOT NULL,
  installed_on      TIMESTAMPTZ NOT NULL DEFAULT now(),
  execution_time_ms INTEGER,
  success           BOOLEAN NOT NULL DEFAULT false,
  error_message     TEXT,
  reverted_at       TIMESTAMPTZ,
  reverted_by       TEXT
);

CREATE OR REPLACE VIEW _migrations.v_applied_migrations AS
  SELECT version, description, batch, installed_on
  FROM _migrations.schema_migrations
  WHERE success AND reverted_at IS NULL;

-- =====================================================
-- VERIFICATION
-- =====================================================
SELECT table_name FROM information_schema.tables WHERE table_schema = '_migrations';

COMMIT;
