#include "ledger/db_env.h"

#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

namespace imi::ledger {

// Forwards to the base env's file and reports every Append and Sync to the
// env, which decides whether it may happen.
class FaultWritableFile : public leveldb::WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string fname,
                    std::unique_ptr<leveldb::WritableFile> target)
      : env_(env), fname_(std::move(fname)), target_(std::move(target)) {}

  leveldb::Status Append(const leveldb::Slice& data) override {
    leveldb::Status s = env_->before_append(data.size());
    if (!s.ok()) return s;
    s = target_->Append(data);
    if (s.ok()) env_->after_append(fname_, data.size());
    return s;
  }
  leveldb::Status Close() override {
    // Closing flushes the base file's buffer; whatever was not synced is still
    // cut away by drop_unsynced_data(), so closing needs no gate.
    return target_->Close();
  }
  leveldb::Status Flush() override {
    leveldb::Status s = env_->before_other_write();
    if (!s.ok()) return s;
    return target_->Flush();
  }
  leveldb::Status Sync() override {
    leveldb::Status s = env_->before_other_write();
    if (!s.ok()) return s;
    s = target_->Sync();
    if (s.ok()) env_->after_sync(fname_);
    return s;
  }

 private:
  FaultInjectionEnv* const env_;
  const std::string fname_;
  const std::unique_ptr<leveldb::WritableFile> target_;
};

namespace {

leveldb::Status power_failure() { return leveldb::Status::IOError("simulated power failure"); }

// splitmix64: a small deterministic generator for torn-write lengths.
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(leveldb::Env* base) : leveldb::EnvWrapper(base) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::set_disk_full(bool full) {
  std::lock_guard<std::mutex> lock(mu_);
  disk_full_ = full;
}

void FaultInjectionEnv::crash_after_appends(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (n <= 0) {
    crashed_ = true;
    appends_left_ = -1;
  } else {
    appends_left_ = n;
  }
}

void FaultInjectionEnv::crash_now() { crash_after_appends(0); }

bool FaultInjectionEnv::crashed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crashed_;
}

int64_t FaultInjectionEnv::appends() const {
  std::lock_guard<std::mutex> lock(mu_);
  return appends_;
}

int64_t FaultInjectionEnv::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

leveldb::Status FaultInjectionEnv::before_append(size_t) {
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) return power_failure();
  if (disk_full_) return leveldb::Status::IOError("No space left on device (simulated)");
  if (appends_left_ == 0) {
    crashed_ = true;
    appends_left_ = -1;
    return power_failure();
  }
  if (appends_left_ > 0) --appends_left_;
  return leveldb::Status::OK();
}

void FaultInjectionEnv::after_append(const std::string& fname, size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  ++appends_;
  files_[fname].size += bytes;
}

leveldb::Status FaultInjectionEnv::before_other_write() {
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) return power_failure();
  return leveldb::Status::OK();
}

void FaultInjectionEnv::after_sync(const std::string& fname) {
  std::lock_guard<std::mutex> lock(mu_);
  ++syncs_;
  FileState& f = files_[fname];
  f.synced_size = f.size;
  f.ever_synced = true;
}

leveldb::Status FaultInjectionEnv::NewWritableFile(const std::string& fname,
                                                   leveldb::WritableFile** result) {
  *result = nullptr;
  if (leveldb::Status s = before_other_write(); !s.ok()) return s;
  leveldb::WritableFile* raw = nullptr;
  leveldb::Status s = target()->NewWritableFile(fname, &raw);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_[fname] = FileState{};  // created (or truncated) empty, not yet durable
  }
  *result = new FaultWritableFile(this, fname, std::unique_ptr<leveldb::WritableFile>(raw));
  return s;
}

leveldb::Status FaultInjectionEnv::NewAppendableFile(const std::string& fname,
                                                     leveldb::WritableFile** result) {
  *result = nullptr;
  if (leveldb::Status s = before_other_write(); !s.ok()) return s;
  bool existed = target()->FileExists(fname);
  uint64_t size = 0;
  if (existed && !target()->GetFileSize(fname, &size).ok()) size = 0;
  leveldb::WritableFile* raw = nullptr;
  leveldb::Status s = target()->NewAppendableFile(fname, &raw);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(fname);
    if (it == files_.end()) {
      // What is already on disk counts as synced: it survived until now.
      files_[fname] = FileState{size, size, existed};
    }
  }
  *result = new FaultWritableFile(this, fname, std::unique_ptr<leveldb::WritableFile>(raw));
  return s;
}

leveldb::Status FaultInjectionEnv::RemoveFile(const std::string& fname) {
  if (leveldb::Status s = before_other_write(); !s.ok()) return s;
  leveldb::Status s = target()->RemoveFile(fname);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(fname);
  }
  return s;
}

leveldb::Status FaultInjectionEnv::RenameFile(const std::string& src,
                                              const std::string& target_name) {
  if (leveldb::Status s = before_other_write(); !s.ok()) return s;
  leveldb::Status s = target()->RenameFile(src, target_name);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(src);
    if (it != files_.end()) {
      FileState state = it->second;
      files_.erase(it);
      files_[target_name] = state;
    } else {
      files_.erase(target_name);  // an untracked file now sits there; leave it alone
    }
  }
  return s;
}

Status FaultInjectionEnv::drop_unsynced_data(uint64_t torn_seed) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t rng = torn_seed;
  std::vector<std::string> removed;
  for (auto& [name, f] : files_) {
    std::error_code ec;
    if (!f.ever_synced) {
      std::filesystem::remove(name, ec);
      if (ec)
        return Status::error("env.drop_failed", "cannot remove " + name + ": " + ec.message());
      removed.push_back(name);
      continue;
    }
    uint64_t on_disk = std::filesystem::file_size(name, ec);
    if (ec) continue;  // gone already: nothing to cut
    uint64_t keep = f.synced_size;
    if (torn_seed != 0 && on_disk > keep) keep += next_random(rng) % (on_disk - keep + 1);
    if (keep < on_disk) {
      std::filesystem::resize_file(name, keep, ec);
      if (ec)
        return Status::error("env.drop_failed", "cannot truncate " + name + ": " + ec.message());
    }
    f.size = keep;
    f.synced_size = keep;
  }
  for (const auto& name : removed) files_.erase(name);
  crashed_ = false;
  disk_full_ = false;
  appends_left_ = -1;
  return Status::ok();
}

}  // namespace imi::ledger
