-- Indexes that let the paginated pages read only what they show.
-- A programme's sessions newest first (its page walks them to find the
-- people who trained most recently, and stops once the page is full).
CREATE INDEX training_sessions_by_programme ON training_sessions(programme_id, session_date, id);
-- The organisations list, in name order, one page at a time.
CREATE INDEX organisations_by_name ON organisations(name, id);
-- A cohort's sessions (the cohort grid and the cohort counts on a programme's page).
CREATE INDEX training_sessions_by_cohort ON training_sessions(cohort_id);
