-- Reports (src/reports/): when each follow-up referral was assigned, first contacted and closed, so
-- a town can show time to first contact against the due time; and the indexes the report queries
-- use (a period over every jurisdiction; calls of one person or one address, by their keyed hash).
ALTER TABLE referrals
  ADD COLUMN assigned_at timestamptz,
  ADD COLUMN contacted_at timestamptz,
  ADD COLUMN closed_at timestamptz;
UPDATE referrals SET assigned_at = updated_at WHERE status = 'assigned';
UPDATE referrals SET contacted_at = updated_at WHERE status = 'contacted';
UPDATE referrals SET closed_at = updated_at WHERE status = 'closed';

CREATE INDEX decisions_decided_at ON decisions (decided_at);
CREATE INDEX decisions_phone_hash ON decisions ((call->'caller'->>'phoneHash'), decided_at)
  WHERE call->'caller' ? 'phoneHash';
CREATE INDEX decisions_address_hash ON decisions ((call->'location'->>'addressHash'), decided_at)
  WHERE call->'location' ? 'addressHash';
CREATE INDEX referrals_created ON referrals (created_at);
