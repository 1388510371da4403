-- The certificates list pages through everyone's certificates in name order
-- (hundreds of thousands on a large partnership): this index gives each
-- page without sorting them all.
CREATE INDEX certificates_by_holder ON certificates(holder_name, id);
