#pragma once
// The SQLite event store's schema, as the ordered list of migrations that
// build it. A file at user_version v gets every migration above v, each in
// the opening transaction, recorded in schema_migrations. A new schema version
// appends a migration here and raises sqlite_store::schema_version; never edit
// a migration that has shipped.

#include <array>

namespace civicperf::detail {

struct sqlite_migration {
  int version;
  const char* description;
  const char* sql;
};

inline constexpr std::array<sqlite_migration, 1> sqlite_migrations{{
    {1, "events in batches, interned names, workflow definitions",
     R"sql(
CREATE TABLE schema_migrations(
  version     INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at  INTEGER NOT NULL             -- microseconds since the Unix epoch
);
CREATE TABLE workflows(
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE steps(
  id       INTEGER PRIMARY KEY,
  workflow INTEGER NOT NULL,               -- workflows.id
  name     TEXT NOT NULL,
  UNIQUE(workflow, name)
);
CREATE TABLE instances(
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE strings(                      -- errors, executed_by, environments, versions
  id   INTEGER PRIMARY KEY,
  text TEXT NOT NULL UNIQUE
);
CREATE TABLE batches(
  id          INTEGER PRIMARY KEY,
  first_seq   INTEGER NOT NULL UNIQUE,
  count       INTEGER NOT NULL,
  appended_at INTEGER NOT NULL              -- microseconds since the Unix epoch
);
CREATE TABLE events(
  seq           INTEGER PRIMARY KEY,        -- consecutive from 1; a batch is a range
  step          INTEGER NOT NULL,           -- steps.id (implies the workflow)
  instance      INTEGER,                    -- instances.id; NULL: no instance
  status        INTEGER NOT NULL,           -- step_status
  flags         INTEGER NOT NULL,           -- 1 approval known, 2 approval, 4 external known,
                                            -- 8 external, 16 memory is NaN
  queued_at     INTEGER,                    -- microseconds since the Unix epoch
  started_at    INTEGER,
  completed_at  INTEGER,
  execution_us  INTEGER,                    -- explicit durations only
  queue_us      INTEGER,
  validation_us INTEGER,
  retry_count   INTEGER NOT NULL,
  memory_mb     REAL,
  error         INTEGER,                    -- strings.id; NULL: no error
  executed_by   INTEGER,                    -- strings.id; NULL: empty
  environment   INTEGER,                    -- strings.id; NULL: empty
  step_version  INTEGER,                    -- strings.id; NULL: empty
  blocking      TEXT,                       -- JSON array; NULL: none
  outputs       TEXT                        -- JSON; NULL: null
);
CREATE TABLE definitions(
  id          INTEGER PRIMARY KEY,          -- order of first storage
  workflow_id TEXT NOT NULL UNIQUE,
  json        TEXT NOT NULL,                -- the definition file format
  stored_at   INTEGER NOT NULL
);
)sql"},
}};

}  // namespace civicperf::detail
