// The one seam through which the stores touch files (STYLE.md: "File access
// goes through one seam so tests can inject faults").
//
// Every LevelDB database of the node is opened with a leveldb::Env passed in
// StoreOptions. Production passes leveldb::Env::Default(); tests pass a
// FaultInjectionEnv, which forwards everything to a base Env while recording,
// per file, how much of it has been synced. It can then
//   - fail writes as a full disk does (Append returns an IOError and nothing
//     reaches the file), and
//   - "lose power": from a chosen moment every file operation fails, and after
//     the database is closed, drop_unsynced_data() puts the directory in the
//     state a power cut could leave: each file written through this env is cut
//     back to its last synced size (optionally keeping a random prefix of the
//     unsynced tail, as a torn write would), and files never synced are removed.
//
// Model and its limits: a file's directory entry is taken as durable from the
// file's first Sync (LevelDB syncs new files before it relies on them); renames
// and removals take effect at once. Files that existed before the env saw them
// are left alone. The model follows LevelDB's own fault_injection_test.
//
// Thread-safe: LevelDB calls it from its writer and background threads.
#pragma once

#include <leveldb/env.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "base/status.h"

namespace imi::ledger {

class FaultInjectionEnv : public leveldb::EnvWrapper {
 public:
  // `base` must outlive this env; it is not owned.
  explicit FaultInjectionEnv(leveldb::Env* base = leveldb::Env::Default());
  ~FaultInjectionEnv() override;

  // While `full`, every Append fails with IOError("No space left on device")
  // and writes nothing. Creating files, syncing and reading still work.
  void set_disk_full(bool full);

  // The power fails once `n` more Appends have succeeded: the (n+1)-th Append
  // and every later write, sync, create, rename or remove fail with an IOError
  // and change nothing on disk. n = 0 fails the next Append.
  void crash_after_appends(int64_t n);
  // The power fails now (same as above, from this call on).
  void crash_now();
  bool crashed() const;

  // After a crash_now()/crash_after_appends() and after every database using
  // this env has been closed: cuts each tracked file back to its last synced
  // size and removes files never synced. With `torn_seed` != 0, each file keeps
  // a pseudo-random prefix of its unsynced tail instead (chosen from the seed),
  // as a torn write could. Then the env works normally again (not crashed, disk
  // not full, counters kept). Returns an error only if a file cannot be cut.
  Status drop_unsynced_data(uint64_t torn_seed = 0);

  // Appends that succeeded since construction.
  int64_t appends() const;
  // Syncs that succeeded since construction.
  int64_t syncs() const;

  // leveldb::Env overrides.
  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& fname,
                                    leveldb::WritableFile** result) override;
  leveldb::Status RemoveFile(const std::string& fname) override;
  leveldb::Status RenameFile(const std::string& src, const std::string& target) override;

 private:
  friend class FaultWritableFile;

  struct FileState {
    uint64_t size = 0;         // bytes appended through this env (or found at open)
    uint64_t synced_size = 0;  // bytes covered by the last successful Sync
    bool ever_synced = false;  // directory entry durable
  };

  // Called by the file wrappers. Each returns the error to hand LevelDB, or ok.
  leveldb::Status before_append(size_t bytes);
  void after_append(const std::string& fname, size_t bytes);
  leveldb::Status before_other_write();
  void after_sync(const std::string& fname);

  mutable std::mutex mu_;
  // Guarded by mu_.
  std::map<std::string, FileState> files_;
  bool disk_full_ = false;
  bool crashed_ = false;
  int64_t appends_left_ = -1;  // -1: no crash scheduled
  int64_t appends_ = 0;
  int64_t syncs_ = 0;
};

}  // namespace imi::ledger
