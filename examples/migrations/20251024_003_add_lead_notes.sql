-- =====================================================
-- MIGRATION: Lead notes
-- =====================================================
-- Purpose: Let sales reps attach free-text notes to a lead
-- Impact: New table; no change to existing tables
-- Rollback: [How to rollback if needed]
-- Testing: Created notes through the API in dev
-- =====================================================

BEGIN;

CREATE TABLE IF NOT EXISTS lead_notes (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  lead_id UUID NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
  note TEXT NOT NULL,
  created_by UUID REFERENCES user_profiles(id),
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Add indexes
CREATE INDEX idx_lead_notes_lead_id ON lead_notes(lead_id);
CREATE INDEX idx_lead_notes_created_by ON lead_notes(created_by);

COMMIT;
