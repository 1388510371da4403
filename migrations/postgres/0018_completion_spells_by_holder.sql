-- Whether a person held a completion on a day is asked for each of an
-- organisation's or programme's people (the IRIS and Safe & Together pages,
-- the board report): looked up by the person and completion, not by
-- scanning every spell of the completion. The person-only index is a prefix
-- of this one.
CREATE INDEX completion_spells_by_holder ON completion_spells(person_id, programme_id, completion_id);
DROP INDEX completion_spells_by_person;
