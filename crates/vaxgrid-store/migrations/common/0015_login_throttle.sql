-- Sign-in throttling by user name and source address (vaxgrid_core::throttle),
-- replacing the per-name lock of login_failures, which let anyone lock any
-- account. One row per (user name, address) that failed, and one per user
-- name with the address '*' counting failures from addresses that never
-- signed in as that name. Names known or not, so a delay says nothing about
-- who exists. blocked_until is when the row's current wait ends (0: none).
CREATE TABLE login_throttle (
    username      TEXT NOT NULL,
    address       TEXT NOT NULL,
    failures      BIGINT NOT NULL,
    last_failure  BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    PRIMARY KEY (username, address)
);
CREATE INDEX login_throttle_last_failure ON login_throttle(last_failure);
-- Addresses that signed in successfully as a user name: the name-wide limit
-- does not hold them back.
CREATE TABLE login_known_addresses (
    username     TEXT NOT NULL,
    address      TEXT NOT NULL,
    last_success BIGINT NOT NULL,
    PRIMARY KEY (username, address)
);
DROP TABLE login_failures;
