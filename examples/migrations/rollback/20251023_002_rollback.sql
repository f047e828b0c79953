-- Rollback of 20251023_002_add_email_validation_trigger.sql
BEGIN;
DROP TRIGGER IF EXISTS check_lead_email_unique ON leads;
COMMIT;
