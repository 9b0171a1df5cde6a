-- labcm schema 5: digest authentication per device (CUCM: the phone security profile's
-- "Enable Digest Authentication"). Off by default, as in CUCM's default profiles.
ALTER TABLE devices ADD COLUMN digest_auth INTEGER NOT NULL DEFAULT 0 CHECK (digest_auth IN (0, 1));
