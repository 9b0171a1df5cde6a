-- labcm schema 12: phone settings (issue 20) for the whole lab, per model and per phone; a
-- phone gets its own value, else its model's, else the lab's, else the default
-- (core/phone_settings.cpp lists the keys). A phone's rows go with the phone.
CREATE TABLE phone_settings (
    scope      TEXT NOT NULL CHECK (scope IN ('lab', 'model', 'device')),
    target     TEXT NOT NULL DEFAULT '',  -- '' for the lab, the model's name, or the device's MAC
    device_id  INTEGER REFERENCES devices(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, target, key)
);
