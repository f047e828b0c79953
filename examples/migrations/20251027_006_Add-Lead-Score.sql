-- Add a score to leads (quick fix)

ALTER TABLE leads ADD COLUMN score INTEGER;

UPDATE leads SET score = 0;

CREATE INDEX CONCURRENTLY idx_leads_score ON leads (score);
