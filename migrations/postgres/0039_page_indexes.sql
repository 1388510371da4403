-- The assessments list (/reviews) and pages of it in the order of waiting:
-- read in this order instead of sorting every assessment in review.
CREATE INDEX assessments_by_submission ON assessments(submitted_at, id);
-- The head of the review queue on the home pages: those waiting for an
-- assessor, longest waiting first, without sorting them all.
CREATE INDEX assessments_waiting ON assessments(submitted_at, id)
    WHERE state IN ('submitted', 'resubmitted', 'under_review');
-- Awards due for renewal: awarded assessments by the day they expire.
CREATE INDEX assessments_by_expiry ON assessments(state, expires_on, id);
