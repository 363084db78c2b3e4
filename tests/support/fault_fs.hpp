// FaultInjectionFs: a RocksDB FileSystem for tests that fails the Nth write (Append) or sync
// (Sync/Fsync/RangeSync) of the store's WAL, SST or MANIFEST files with an IOError, until
// cleared. Hand it to RocksDbOptions::file_system (or app::ServerOptions::store_file_system).
//
// The one place of the tree that injects storage faults into RocksDB. Test-only: it includes
// <rocksdb/file_system.h>, which the server's headers never do.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <rocksdb/file_system.h>

namespace huddle::testing {

class FaultInjectionFs final : public rocksdb::FileSystemWrapper {
 public:
  // What to count, as bit masks.
  enum Op : unsigned { kAppend = 1U, kSync = 2U, kAnyOp = 3U };
  enum File : unsigned { kWal = 1U, kSst = 2U, kManifest = 4U, kAnyFile = 7U };

  explicit FaultInjectionFs(
      const std::shared_ptr<rocksdb::FileSystem>& base = rocksdb::FileSystem::Default());

  static std::shared_ptr<FaultInjectionFs> make() { return std::make_shared<FaultInjectionFs>(); }

  // From now on, counts the operations in `ops` on files in `files`; the nth of them (1 = the
  // next one) fails with IOError, and so does every matching one after it while `sticky` (a disk
  // that stays broken) until clear(). Not sticky: only the nth fails.
  void arm(std::uint64_t nth, unsigned ops = kAnyOp, unsigned files = kAnyFile, bool sticky = true);
  // No more faults (the disk is healthy again). Counting stops.
  void clear();
  // Whether an armed fault has failed an operation since arm().
  [[nodiscard]] bool fired() const { return failures_.load() > 0; }
  [[nodiscard]] std::uint64_t failures() const { return failures_.load(); }
  // The kind of file (kWal, kSst, kManifest) of the first failed operation since arm(); 0 if none.
  [[nodiscard]] unsigned first_failed_file() const { return first_failed_file_.load(); }
  // Matching operations seen since arm() (including the failed ones).
  [[nodiscard]] std::uint64_t seen() const { return seen_.load(); }

  static const char* kClassName() { return "HuddleFaultInjectionFs"; }
  [[nodiscard]] const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;

  // Called by the wrapped files: an error if this operation is to fail.
  [[nodiscard]] rocksdb::IOStatus check(Op op, unsigned file_kind);

 private:
  rocksdb::IOStatus wrap(const std::string& fname, rocksdb::IOStatus st,
                         std::unique_ptr<rocksdb::FSWritableFile>* result);

  std::atomic<bool> armed_{false};
  std::atomic<bool> sticky_{true};
  std::atomic<unsigned> ops_{0};
  std::atomic<unsigned> files_{0};
  std::atomic<std::uint64_t> nth_{0};
  std::atomic<std::uint64_t> seen_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<unsigned> first_failed_file_{0};
};

}  // namespace huddle::testing
