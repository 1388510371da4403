-- Session evaluations (issue 14): each session has one public link to its
-- evaluation form, made when staff first open the session's evaluation, and
-- the anonymous answers given through it (or imported from another survey
-- tool).
--
-- A response holds only which session it is about, the day it was given
-- (never the time) and the answers: no account, address, cookie or browser
-- is recorded, so no answer can be traced to whoever gave it. `answers` is
-- a JSON object of question id to the answer chosen, as the programme's
-- form worded it; `comment` is the free text ('' when left blank).

CREATE TABLE evaluation_links (
    session_id INTEGER PRIMARY KEY REFERENCES training_sessions(id) ON DELETE CASCADE,
    token TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE evaluation_responses (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES training_sessions(id) ON DELETE CASCADE,
    answered_on TEXT NOT NULL,
    answers TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX evaluation_responses_by_session ON evaluation_responses(session_id);
