-- =====================================================
-- MIGRATION: Backfill lead source
-- =====================================================
-- Purpose: Fill leads.source for rows imported before the column existed
-- Impact: Updates about 40k rows in one transaction; a few seconds of row locks
-- Rollback: none needed (data-only; old value was NULL)
-- Testing: Ran on staging, compared counts per source before and after
-- =====================================================

BEGIN;

UPDATE leads SET source = 'import' WHERE source IS NULL AND created_at < '2025-06-01';

SELECT source, count(*) FROM leads GROUP BY source;

COMMIT
