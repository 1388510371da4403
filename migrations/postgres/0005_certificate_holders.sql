-- A certificate's holder is a real reference: a person for a training
-- certificate, an assessment for an award's. Until now both columns were
-- NOT NULL DEFAULT 0 with no foreign key, 0 meaning "none". From here "none"
-- is NULL, each column references its table, and a CHECK holds that exactly
-- one holder is set (matching the kind).

ALTER TABLE certificates ALTER COLUMN person_id DROP NOT NULL;
ALTER TABLE certificates ALTER COLUMN person_id DROP DEFAULT;
ALTER TABLE certificates ALTER COLUMN assessment_id DROP NOT NULL;
ALTER TABLE certificates ALTER COLUMN assessment_id DROP DEFAULT;

UPDATE certificates SET person_id = NULL WHERE person_id = 0;
UPDATE certificates SET assessment_id = NULL WHERE assessment_id = 0;

ALTER TABLE certificates
    ADD CONSTRAINT certificates_person_fk FOREIGN KEY (person_id) REFERENCES people(id),
    ADD CONSTRAINT certificates_assessment_fk FOREIGN KEY (assessment_id) REFERENCES assessments(id),
    ADD CONSTRAINT certificates_one_holder CHECK (
        (kind = 'training' AND person_id IS NOT NULL AND assessment_id IS NULL)
        OR (kind = 'award' AND assessment_id IS NOT NULL AND person_id IS NULL)
    );
