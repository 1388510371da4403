-- The report counts, for each programme, the people holding each completion
-- at the end of a period and those who completed it within the period, by
-- organisation. With the organisation (and, for holders, the end of the
-- spell and the person) in the index, both counts read the index alone
-- instead of a table row for each of the large data set's 250,000 holders.
-- Each index keeps its name and its leading columns, so every query that
-- used it still can.
DROP INDEX completion_spells_by_completion;
CREATE INDEX completion_spells_by_completion
    ON completion_spells(programme_id, completion_id, held_from, held_until, organisation_id, person_id);
DROP INDEX person_completions_by_completed;
CREATE INDEX person_completions_by_completed
    ON person_completions(programme_id, completion_id, completed_on, organisation_id);
