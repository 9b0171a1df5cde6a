-- labcm schema 8: the web admin's login. One row per admin user (today only 'admin'); the
-- password is kept as a libsodium argon2id string (salted, slow), never in clear.
CREATE TABLE admin_users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
