-- =====================================================
-- MIGRATION: Archive old leads
-- =====================================================
-- Purpose: Move leads untouched for two years out of the hot table
-- Impact: Deletes rows from leads; legacy_leads goes away
-- Rollback: Restore from the archive table
-- Testing: Dry run on staging
-- =====================================================

BEGIN;

CREATE TABLE IF NOT EXISTS leads_archive (LIKE leads INCLUDING ALL);

INSERT INTO leads_archive
SELECT * FROM leads WHERE updated_at < now() - interval '2 years';

DELETE FROM leads WHERE updated_at < now() - interval '2 years';

-- migcheck: ignore drop-table -- approved by DBA in review #482: legacy_leads unused since v3, backup 2025-10-24
DROP TABLE IF EXISTS legacy_leads;

DROP TABLE lead_imports_tmp;

COMMIT;
