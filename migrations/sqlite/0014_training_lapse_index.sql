-- The training lead's home lists the people whose training lapses in the
-- next 60 days: a range read on lapses_on, soonest first.
CREATE INDEX person_completions_by_lapse ON person_completions(lapses_on);
