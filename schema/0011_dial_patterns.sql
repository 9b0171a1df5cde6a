-- labcm schema 11: dial patterns an admin adds to the phones' dial plan (issue 20), after the
-- ones labcm derives from the DNs in use. route: where the calls issue sends a match ('' = the
-- phones' own DNs).
CREATE TABLE dial_patterns (
    pattern    TEXT PRIMARY KEY,     -- Cisco dial template MATCH: digits . * # + ,
    timeout    INTEGER NOT NULL,     -- seconds the phone waits for more digits (0-60)
    route      TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);
