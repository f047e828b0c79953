-- =====================================================
-- MIGRATION: Add status to leads
-- =====================================================
-- Purpose: Track where each lead is in the sales pipeline
-- Impact: Adds a nullable column with a constant default (no table rewrite on PG 11+)
-- Rollback: rollback/20251022_001_rollback.sql drops the column and its index
-- Testing: Ran against a copy of production data in staging
-- =====================================================

BEGIN;

ALTER TABLE leads ADD COLUMN IF NOT EXISTS status TEXT DEFAULT 'new';

UPDATE leads SET status = 'new' WHERE status IS NULL;

CREATE INDEX IF NOT EXISTS idx_leads_status ON leads (status);

SELECT column_name, data_type FROM information_schema.columns
WHERE table_name = 'leads' AND column_name = 'status';

COMMIT;
