-- Rollback of 20251022_001_add_lead_status.sql
BEGIN;
DROP INDEX IF EXISTS idx_leads_status;
ALTER TABLE leads DROP COLUMN IF EXISTS status;
COMMIT;
