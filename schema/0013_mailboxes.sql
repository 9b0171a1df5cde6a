-- labcm schema 13: message waiting (issue 21). A mailbox per directory number: the counts an
-- admin (or a voicemail system through the API) sets; every phone with a line on the number
-- gets a message-summary NOTIFY when they change and when it registers.
CREATE TABLE mailboxes (
    dn           TEXT PRIMARY KEY CHECK (dn <> ''),
    new_messages INTEGER NOT NULL CHECK (new_messages >= 0),
    old_messages INTEGER NOT NULL DEFAULT 0 CHECK (old_messages >= 0),
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
