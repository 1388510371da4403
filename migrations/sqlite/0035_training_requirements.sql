-- Training that counts as evidence (issue 14, part 1).
--
-- A person may have a staff category ("frontline", "clinician", "dva lead"),
-- stored normalised (trimmed, single-spaced, lower-case); NULL when none is
-- recorded. A framework criterion's training requirement may count only the
-- staff of one category.
ALTER TABLE people ADD COLUMN staff_category TEXT;

-- What each training requirement stood at when an assessment was sent for
-- review, one row per criterion with a requirement and submission, written
-- in the submit transaction and never changed: the assessor reviews what was
-- true then, whatever training is recorded later. `names` is the JSON of
-- the judgement (figures, who was and was not trained, the day it was
-- judged on).
CREATE TABLE training_snapshots (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments(id),
    submission INTEGER NOT NULL,
    criterion_id TEXT NOT NULL,
    met INTEGER NOT NULL CHECK (met IN (0, 1)),
    figures TEXT NOT NULL,
    names TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    UNIQUE (assessment_id, submission, criterion_id)
);
