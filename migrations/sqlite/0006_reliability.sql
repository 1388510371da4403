-- Throttles as counters in the database, so parallel requests and several
-- app servers share them and every attempt is counted by one atomic
-- statement. A key names what is counted: a log-in email, an email and
-- address pair, an address, or an address looking up certificate codes.
CREATE TABLE throttle_counters (
    key TEXT PRIMARY KEY,
    hits INTEGER NOT NULL,
    window_started_at TEXT NOT NULL
);
CREATE INDEX throttle_counters_by_window ON throttle_counters(window_started_at);

-- Addresses a user has signed in from with the right password: failures
-- from elsewhere never lock the user out from these.
CREATE TABLE login_known_addresses (
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    last_success_at TEXT NOT NULL,
    PRIMARY KEY (email, address)
);

DROP TABLE login_throttle;

-- Never holds a row: a write transaction starts by deleting nothing from it,
-- which takes SQLite's write lock up front (see db::begin_write).
CREATE TABLE write_lock (id INTEGER PRIMARY KEY);
