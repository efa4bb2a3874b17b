// The owner record of a results file (issue 12, item 1): one sweep at a time per file, the
// rule for a stale owner, --break-lock, and files this user may not write left alone.
#include "store/file_owner.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <sys/wait.h>
#include <thread>

#include "mpisweep/grid.hpp"
#include "store/result_store.hpp"

namespace mpisweep {
namespace {

namespace fs = std::filesystem;
using store::FileOwner;
using store::OwnedElsewhere;
using store::OwnershipOptions;

class FileOwnerTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "file_owner_test.XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        results_ = (dir_ / "sweep.h5").string();
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    std::string owner_text() const {
        std::ifstream in(store::owner_path_of(results_));
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    // A record as another run would have written it.
    void write_record(store::OwnerRecord record) const {
        std::ofstream(store::owner_path_of(results_)) << record.to_text();
    }

    // This machine's identity, as this process would write it (another pid, another token).
    store::OwnerRecord this_machine(std::int64_t pid) const {
        auto owner = FileOwner::acquire(results_ + ".probe", {});
        std::ifstream in(store::owner_path_of(results_ + ".probe"));
        auto record = *store::OwnerRecord::from_text(
            std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
        owner->release();
        record.pid = pid;
        record.token = "0123456789abcdef";
        return record;
    }

    std::string refusal(const OwnershipOptions& options = {}) const {
        try {
            FileOwner::acquire(results_, options);
        } catch (const OwnedElsewhere& e) {
            return e.what();
        }
        return "(not refused)";
    }

    fs::path dir_;
    std::string results_;
};

TEST_F(FileOwnerTest, RecordNamesThisRunWhileHeldAndGoesOnRelease) {
    auto owner = FileOwner::acquire(results_, {});
    const auto record = store::OwnerRecord::from_text(owner_text());
    ASSERT_TRUE(record);
    EXPECT_EQ(record->pid, ::getpid());
    EXPECT_FALSE(record->boot_id.empty());
    EXPECT_FALSE(record->token.empty());
    owner->release();
    EXPECT_FALSE(fs::exists(store::owner_path_of(results_)));
}

TEST_F(FileOwnerTest, SecondOwnerIsRefusedNamingTheFirst) {
    auto owner = FileOwner::acquire(results_, {});
    const std::string why = refusal();
    EXPECT_NE(why.find("'" + results_ + "' is in use by the sweep of pid " + std::to_string(::getpid())),
              std::string::npos)
        << why;
    EXPECT_NE(why.find("--break-lock"), std::string::npos) << why;
    EXPECT_TRUE(fs::exists(store::owner_path_of(results_)));  // the first one's record stays
}

TEST_F(FileOwnerTest, RecordOfADeadProcessOnThisMachineIsTakenOver) {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    write_record(this_machine(child));
    auto owner = FileOwner::acquire(results_, {});
    EXPECT_EQ(store::OwnerRecord::from_text(owner_text())->pid, ::getpid());
}

TEST_F(FileOwnerTest, RecordOfAnotherHostIsHeldUntilItsHeartbeatIsOld) {
    store::OwnerRecord other;
    other.host = "elsewhere";
    other.pid = 1;
    other.token = "feedfeedfeedfeed";
    other.started = other.heartbeat =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    write_record(other);
    EXPECT_NE(refusal().find("pid 1 on host elsewhere"), std::string::npos);
    other.heartbeat -= 61;
    write_record(other);
    EXPECT_NO_THROW(FileOwner::acquire(results_, {}));
}

TEST_F(FileOwnerTest, BreakLockTakesALiveRecord) {
    auto first = FileOwner::acquire(results_, {});
    OwnershipOptions options;
    options.break_lock = true;
    auto second = FileOwner::acquire(results_, options);
    // The first run notices at its next heartbeat, or before its next write.
    EXPECT_NO_THROW(second->check());
    first->release();  // leaves the second one's record alone
    EXPECT_TRUE(fs::exists(store::owner_path_of(results_)));
}

TEST_F(FileOwnerTest, ARunWhoseRecordWasTakenStopsWriting) {
    OwnershipOptions options;
    options.heartbeat_interval = std::chrono::milliseconds(20);
    options.stale_after = std::chrono::milliseconds(100);
    auto owner = FileOwner::acquire(results_, options);
    store::OwnerRecord other;
    other.host = "elsewhere";
    other.pid = 1;
    other.token = "feedfeedfeedfeed";
    write_record(other);
    for (int i = 0; i < 200 && !owner->lost(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    try {
        owner->check();
        FAIL() << "a run whose file was taken over may still write";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("was taken over by pid 1 on host elsewhere"), std::string::npos)
            << e.what();
    }
    owner->release();
    EXPECT_NE(owner_text().find("feedfeedfeedfeed"), std::string::npos);  // not removed: not ours
}

Grid small_grid() {
    Grid grid;
    grid.add(Axis::range("x", 0, 4));
    return grid;
}

TEST_F(FileOwnerTest, ResultStoreHoldsItsFileUntilClosed) {
    StoreOptions options;
    options.path = results_;
    auto store = ResultStore::create(small_grid(), options);
    EXPECT_TRUE(fs::exists(store::owner_path_of(results_)));
    options.overwrite = true;
    EXPECT_THROW(ResultStore::create(small_grid(), options), OwnedElsewhere);
    EXPECT_THROW(ResultStore::open_for_resume(small_grid(), options), OwnedElsewhere);
    store.close();
    EXPECT_FALSE(fs::exists(store::owner_path_of(results_)));
}

TEST_F(FileOwnerTest, ReadOnlyFileIsNeitherResumedNorReplaced) {
    StoreOptions options;
    options.path = results_;
    ResultStore::create(small_grid(), options).close();
    fs::permissions(results_, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    const auto size = fs::file_size(results_);
    const auto modified = fs::last_write_time(results_);
    try {
        ResultStore::open_for_resume(small_grid(), options);
        FAIL() << "resumed a read-only file";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("it is read-only (mode 0444)"), std::string::npos) << e.what();
    }
    options.overwrite = true;
    EXPECT_THROW(ResultStore::create(small_grid(), options), StoreError);
    EXPECT_EQ(fs::file_size(results_), size);
    EXPECT_EQ(fs::last_write_time(results_), modified);
    EXPECT_FALSE(fs::exists(store::owner_path_of(results_)));
}

}  // namespace
}  // namespace mpisweep
