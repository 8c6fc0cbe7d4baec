-- sipstage schema for PostgreSQL: the tables [route] db_aliases and
-- db_allow read. Column names follow Kamailio's alias_db (dbaliases) and
-- permissions (address) modules, so an existing database serves as it is.
-- Created by "sipctl db init"; safe to run twice.

CREATE TABLE IF NOT EXISTS dbaliases (
    id SERIAL PRIMARY KEY,
    alias_username VARCHAR(64) NOT NULL DEFAULT '',
    alias_domain VARCHAR(64) NOT NULL DEFAULT '',
    username VARCHAR(64) NOT NULL DEFAULT '',
    domain VARCHAR(64) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS dbaliases_alias_idx
    ON dbaliases (alias_username, alias_domain);

-- ip_addr: an IPv4 or IPv6 address; mask: prefix length (32 or 128 for
-- one host); port: 0 = any source port. grp and tag are kept for
-- Kamailio compatibility; sipstage serves every group.
CREATE TABLE IF NOT EXISTS address (
    id SERIAL PRIMARY KEY,
    grp INTEGER NOT NULL DEFAULT 1,
    ip_addr VARCHAR(50) NOT NULL,
    mask INTEGER NOT NULL DEFAULT 32,
    port INTEGER NOT NULL DEFAULT 0,
    tag VARCHAR(64)
);
