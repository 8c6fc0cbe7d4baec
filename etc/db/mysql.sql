-- sipstage schema for MySQL and MariaDB: the tables [route] db_aliases
-- and db_allow read, the same as postgres.sql. Column names follow
-- Kamailio's alias_db (dbaliases) and permissions (address) modules.
-- Created by "sipctl db init"; safe to run twice (IF NOT EXISTS, and the
-- index is part of CREATE TABLE: MySQL has no CREATE INDEX IF NOT
-- EXISTS).
--
-- The user and domain columns are VARBINARY: they compare byte for
-- byte, as SIP user parts must ("Alice" is not "alice"), and trailing
-- spaces count ("alice " is not "alice"). A _bin collation would not do:
-- utf8mb4_bin is PAD SPACE (it ignores trailing spaces), and the NO PAD
-- binary collations have different names on MariaDB (utf8mb4_nopad_bin)
-- and MySQL 8 (utf8mb4_0900_bin), so one file could not serve both.
-- 256 bytes hold 64 characters of UTF-8 however wide. The values are
-- the UTF-8 bytes sipd sends; the server does not check them.

CREATE TABLE IF NOT EXISTS dbaliases (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    alias_username VARBINARY(256) NOT NULL DEFAULT '',
    alias_domain VARBINARY(256) NOT NULL DEFAULT '',
    username VARBINARY(256) NOT NULL DEFAULT '',
    domain VARBINARY(256) NOT NULL DEFAULT '',
    KEY dbaliases_alias_idx (alias_username, alias_domain)
) ENGINE = InnoDB DEFAULT CHARACTER SET = utf8mb4;

-- ip_addr: an IPv4 or IPv6 address; mask: prefix length (32 or 128 for
-- one host); port: 0 = any source port. grp and tag are kept for
-- Kamailio compatibility; sipstage serves every group.
CREATE TABLE IF NOT EXISTS address (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    grp INT NOT NULL DEFAULT 1,
    ip_addr VARCHAR(50) NOT NULL,
    mask INT NOT NULL DEFAULT 32,
    port INT NOT NULL DEFAULT 0,
    tag VARCHAR(64)
) ENGINE = InnoDB DEFAULT CHARACTER SET = utf8mb4;
