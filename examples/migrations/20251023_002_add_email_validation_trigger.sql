-- =====================================================
-- MIGRATION: Email uniqueness per company
-- =====================================================
-- Purpose: Reject a lead whose email already exists in the same company
-- Impact: Inserts and updates on leads run one indexed lookup more; no downtime
-- Rollback: rollback/20251023_002_rollback.sql drops the trigger and its function
-- Testing: Inserted duplicate and distinct emails in dev; duplicate raised as expected
-- =====================================================

BEGIN;

CREATE OR REPLACE FUNCTION validate_lead_email_unique()
RETURNS TRIGGER AS $$
BEGIN
  IF NEW.email IS NOT NULL THEN
    IF EXISTS (
      SELECT 1 FROM leads
      WHERE LOWER(email) = LOWER(NEW.email)
      AND company_id = NEW.company_id
      AND id != NEW.id
    ) THEN
      RAISE EXCEPTION 'Email already exists in this company';
    END IF;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS check_lead_email_unique ON leads;
CREATE TRIGGER check_lead_email_unique
  BEFORE INSERT OR UPDATE ON leads
  FOR EACH ROW
  EXECUTE FUNCTION validate_lead_email_unique();

COMMIT;
