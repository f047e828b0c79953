-- Rollback of 20251024_003_add_lead_notes.sql
BEGIN;
DROP INDEX IF EXISTS idx_lead_notes_lead_id;
DROP TABLE IF EXISTS lead_notes;
COMMIT;
