#include "tests/support/fault_fs.hpp"

#include <string_view>
#include <utility>

namespace huddle::testing {
namespace {

// 0 for files the fault never touches (LOG, OPTIONS, CURRENT, IDENTITY, LOCK, temp files).
unsigned kind_of(std::string_view fname) {
  const auto slash = fname.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? fname : fname.substr(slash + 1);
  if (base.ends_with(".log") && base != "LOG") {
    return FaultInjectionFs::kWal;
  }
  if (base.ends_with(".sst")) {
    return FaultInjectionFs::kSst;
  }
  if (base.starts_with("MANIFEST-")) {
    return FaultInjectionFs::kManifest;
  }
  return 0;
}

class FaultyFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyFile(std::unique_ptr<rocksdb::FSWritableFile> file, FaultInjectionFs* fs, unsigned kind)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), kind_(kind) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    auto st = fs_->check(FaultInjectionFs::kAppend, kind_);
    return st.ok() ? FSWritableFileOwnerWrapper::Append(data, options, dbg) : st;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    auto st = fs_->check(FaultInjectionFs::kAppend, kind_);
    return st.ok() ? FSWritableFileOwnerWrapper::Append(data, options, info, dbg) : st;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, std::uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    auto st = fs_->check(FaultInjectionFs::kAppend, kind_);
    return st.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg) : st;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, std::uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    auto st = fs_->check(FaultInjectionFs::kAppend, kind_);
    return st.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, info, dbg)
                   : st;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    auto st = fs_->check(FaultInjectionFs::kSync, kind_);
    return st.ok() ? FSWritableFileOwnerWrapper::Sync(options, dbg) : st;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    auto st = fs_->check(FaultInjectionFs::kSync, kind_);
    return st.ok() ? FSWritableFileOwnerWrapper::Fsync(options, dbg) : st;
  }
  rocksdb::IOStatus RangeSync(std::uint64_t offset, std::uint64_t nbytes,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    auto st = fs_->check(FaultInjectionFs::kSync, kind_);
    return st.ok() ? FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg) : st;
  }

 private:
  FaultInjectionFs* fs_;
  unsigned kind_;
};

}  // namespace

FaultInjectionFs::FaultInjectionFs(const std::shared_ptr<rocksdb::FileSystem>& base)
    : FileSystemWrapper(base) {}

void FaultInjectionFs::arm(std::uint64_t nth, unsigned ops, unsigned files, bool sticky) {
  armed_.store(false);
  seen_.store(0);
  failures_.store(0);
  first_failed_file_.store(0);
  nth_.store(nth == 0 ? 1 : nth);
  ops_.store(ops);
  files_.store(files);
  sticky_.store(sticky);
  armed_.store(true);
}

void FaultInjectionFs::clear() {
  armed_.store(false);
}

rocksdb::IOStatus FaultInjectionFs::check(Op op, unsigned file_kind) {
  if (!armed_.load() || (ops_.load() & op) == 0 || (files_.load() & file_kind) == 0) {
    return rocksdb::IOStatus::OK();
  }
  const std::uint64_t n = seen_.fetch_add(1) + 1;
  const std::uint64_t nth = nth_.load();
  if (n == nth || (n > nth && sticky_.load())) {
    if (failures_.fetch_add(1) == 0) {
      first_failed_file_.store(file_kind);
    }
    return rocksdb::IOStatus::IOError("huddle fault injection", op == kAppend ? "append" : "sync");
  }
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus FaultInjectionFs::wrap(const std::string& fname, rocksdb::IOStatus st,
                                         std::unique_ptr<rocksdb::FSWritableFile>* result) {
  const unsigned kind = kind_of(fname);
  if (st.ok() && kind != 0) {
    *result = std::make_unique<FaultyFile>(std::move(*result), this, kind);
  }
  return st;
}

rocksdb::IOStatus FaultInjectionFs::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  return wrap(fname, target()->NewWritableFile(fname, opts, result, dbg), result);
}

rocksdb::IOStatus FaultInjectionFs::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  return wrap(fname, target()->ReopenWritableFile(fname, opts, result, dbg), result);
}

rocksdb::IOStatus FaultInjectionFs::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname, const rocksdb::FileOptions& opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  return wrap(fname, target()->ReuseWritableFile(fname, old_fname, opts, result, dbg), result);
}

}  // namespace huddle::testing
