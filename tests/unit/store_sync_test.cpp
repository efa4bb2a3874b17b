// The fsyncs of the results file and its journal on the store's own thread
// (store/background_sync.hpp): which descriptors, in which order, on which thread, that the
// master does not wait for them, and what a failing one makes of the sweep. fsync(2) is
// replaced in this program (below) to record each call and to block or fail on demand: a
// disk's own failures (EIO from a write-back) cannot be caused here.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <gtest/gtest.h>
#include <mutex>
#include <string>
#include <sys/syscall.h>
#include <thread>
#include <vector>

#include "store/background_sync.hpp"
#include "store/journal_codec.hpp"
#include "store/journal_file.hpp"
#include "unit/store_support.hpp"

namespace {

struct Call {
    std::string path;
    std::thread::id thread;
};

std::mutex calls_mutex;
std::condition_variable calls_changed;
std::vector<Call> calls;
std::atomic<int> fail_errno{0};        // the errno of every fsync from now on (0: none)
std::atomic<bool> hold_others{false};  // fsyncs off the main thread wait for release()
std::thread::id main_thread = std::this_thread::get_id();
bool released = false;

std::string path_of(int fd) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char target[4096];
    const ssize_t n = ::readlink(link, target, sizeof target - 1);
    return n < 0 ? std::string("?") : std::string(target, static_cast<std::size_t>(n));
}

void release() {
    {
        std::lock_guard lock(calls_mutex);
        released = true;
    }
    calls_changed.notify_all();
}

std::vector<Call> calls_so_far() {
    std::lock_guard lock(calls_mutex);
    return calls;
}

}  // namespace

extern "C" int fsync(int fd) {
    const std::string path = path_of(fd);
    // The owner record's heartbeat (store/file_owner.hpp) is not what is tested here.
    if (path.size() > 6 && path.compare(path.size() - 6, 6, ".owner") == 0)
        return static_cast<int>(::syscall(SYS_fsync, fd));
    {
        std::unique_lock lock(calls_mutex);
        calls.push_back({path, std::this_thread::get_id()});
        calls_changed.notify_all();
        if (hold_others && std::this_thread::get_id() != main_thread)
            calls_changed.wait(lock, [] { return released; });
    }
    if (const int error = fail_errno.load()) {
        errno = error;
        return -1;
    }
    return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace mpisweep {
namespace {

using namespace store_test;

class SyncTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::lock_guard lock(calls_mutex);
        calls.clear();
        fail_errno = 0;
        hold_others = false;
        released = false;
    }
    void TearDown() override {
        fail_errno = 0;
        release();
    }
    TempDir dir;
};

int open_file(const std::string& path) {
    return ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
}

TEST_F(SyncTest, TheFileThenTheJournalOnAThreadOfItsOwn) {
    const int file = open_file(dir.file("r.h5")), journal = open_file(dir.file("r.h5.journal"));
    {
        store::BackgroundSync sync;
        EXPECT_TRUE(sync.start(file, journal));
        sync.wait();
        EXPECT_FALSE(sync.take_failure());
        // Not before the last one ended; long after it, yes.
        EXPECT_FALSE(sync.due_by_pace(store::BackgroundSync::Clock::time_point{}));
        EXPECT_TRUE(sync.due_by_pace(store::BackgroundSync::Clock::now() + std::chrono::hours(1)));
    }
    const std::vector<Call> seen = calls_so_far();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].path, dir.file("r.h5"));
    EXPECT_EQ(seen[1].path, dir.file("r.h5.journal"));
    EXPECT_NE(seen[0].thread, main_thread);
    ::close(file);
    ::close(journal);
}

TEST_F(SyncTest, OneUnderWayRefusesTheNextAndTheDestructorWaitsForIt) {
    const int file = open_file(dir.file("r.h5"));
    hold_others = true;
    std::thread releaser;
    {
        store::BackgroundSync sync;
        ASSERT_TRUE(sync.start(file, -1));
        {
            std::unique_lock lock(calls_mutex);
            calls_changed.wait(lock, [] { return !calls.empty(); });
        }
        EXPECT_FALSE(sync.start(file, -1));
        EXPECT_FALSE(sync.due_by_pace(store::BackgroundSync::Clock::now() + std::chrono::hours(1)));
        releaser = std::thread([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            release();
        });
    }  // waits for the held fsync: no use of a destroyed object on the thread (ASan, TSan)
    releaser.join();
    EXPECT_EQ(calls_so_far().size(), 1u);
    ::close(file);
}

TEST_F(SyncTest, AFailureIsKeptUntilTakenAndTheJournalIsNotSyncedAfterAFailedFile) {
    const int file = open_file(dir.file("r.h5")), journal = open_file(dir.file("r.h5.journal"));
    store::BackgroundSync sync;
    fail_errno = EIO;
    ASSERT_TRUE(sync.start(file, journal));
    sync.wait();
    const auto failure = sync.take_failure();
    ASSERT_TRUE(failure);
    EXPECT_FALSE(failure->journal);
    EXPECT_EQ(failure->error, EIO);
    EXPECT_FALSE(sync.take_failure());
    EXPECT_EQ(calls_so_far().size(), 1u);
    ::close(file);
    ::close(journal);
}

// ---- the store ---------------------------------------------------------------------------

std::vector<std::uint64_t> journaled_ids(const std::string& journal) {
    const std::string bytes = file_bytes(journal);  // the scan's views point into it
    const store::JournalScan scan = store::scan_journal(bytes);
    std::vector<TaskRecord> records;
    for (const store::FrameInfo& frame : scan.frames)
        if (frame.kind == store::FrameKind::Records) store::decode_records(frame, records);
    std::vector<std::uint64_t> ids;
    for (const TaskRecord& record : records) ids.push_back(record.id.value());
    return ids;
}

TEST_F(SyncTest, AFlushDoesNotWaitForItsFsyncAndTheCloseDoes) {
    const std::string path = dir.file("r.h5");
    StoreOptions options = options_for(path);
    auto s = ResultStore::create(small_grid(), options);
    hold_others = true;
    s.record(done(0));
    s.flush();  // returns with the fsync held on the store's thread
    {
        std::unique_lock lock(calls_mutex);
        calls_changed.wait(lock, [] { return !calls.empty(); });
    }
    s.record(done(1));
    s.flush();  // the held one still under way: none started
    EXPECT_EQ(calls_so_far().size(), 1u);
    std::thread releaser([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        release();
    });
    s.close();
    releaser.join();
    const std::vector<Call> seen = calls_so_far();
    ASSERT_GE(seen.size(), 4u);
    EXPECT_EQ(seen[0].path, path);
    EXPECT_NE(seen[0].thread, main_thread);
    EXPECT_EQ(seen[1].path, path + ".journal");
    // The close: the file (on the caller's thread), then the journal that stays.
    EXPECT_EQ(seen[seen.size() - 2].path, path);
    EXPECT_EQ(seen.back().path, path + ".journal");
    EXPECT_EQ(seen.back().thread, main_thread);
    EXPECT_EQ(on_disk(path, dir).statuses()[1], TaskStatus::Done);
}

TEST_F(SyncTest, TheJournalOfAFinishedSweepIsRemovedWithoutAnFsync) {
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        for (std::uint64_t id = 0; id < small_grid().size(); ++id) s.record(done(id));
        s.close();
    }
    const std::vector<Call> seen = calls_so_far();
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().path, path);
    EXPECT_FALSE(fs::exists(path + ".journal"));
}

TEST_F(SyncTest, AFsyncFailingWithADiskErrorStopsTheSweepWithEveryRecordJournaled) {
    const std::string path = dir.file("r.h5");
    auto s = ResultStore::create(small_grid(), options_for(path));
    s.record(done(0));
    fail_errno = EIO;
    s.flush();  // its fsync fails on the store's thread
    s.record(done(1));
    s.record(done(2));
    s.close();
    ASSERT_NE(s.write_failure(), nullptr);
    const std::string what = s.write_failure()->what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("errno 5"), std::string::npos) << what;
    EXPECT_EQ(s.unjournaled(), 0u);
    fail_errno = 0;
    const std::vector<std::uint64_t> ids = journaled_ids(path + ".journal");
    for (std::uint64_t id : {0, 1, 2})
        EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << "task " << id << " not in the journal";
}

TEST_F(SyncTest, AFsyncFailingForAnotherReasonIsAnError) {
    const std::string path = dir.file("r.h5");
    auto s = ResultStore::create(small_grid(), options_for(path));
    s.record(done(0));
    fail_errno = EINVAL;
    s.flush();
    try {
        s.close();
        FAIL() << "the close did not throw";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("results file '" + path + "': cannot fsync: Invalid argument"),
                  std::string::npos)
            << e.what();
    }
    fail_errno = 0;
}

}  // namespace
}  // namespace mpisweep
