// --deadline values: every accepted form, and bad ones rejected with the accepted forms named.
#include "mpisweep/deadline.hpp"

#include <stdlib.h>

#include <gtest/gtest.h>

namespace mpisweep {
namespace {

double unix_of(WallTime t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

const WallTime kNow = WallTime(std::chrono::seconds(1'750'000'000));

TEST(Deadline, DurationsCountFromNow) {
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("+90s", kNow)), 1'750'000'090.0);
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("+45m", kNow)), 1'750'000'000.0 + 45 * 60);
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("+2h", kNow)), 1'750'000'000.0 + 7200);
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("+1.5h", kNow)), 1'750'000'000.0 + 5400);
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("+1d", kNow)), 1'750'000'000.0 + 86400);
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("+300", kNow)), 1'750'000'300.0);
}

TEST(Deadline, AbsoluteTimes) {
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("1760000000", kNow)), 1'760'000'000.0);
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("2025-06-15T14:40:00Z", kNow)), 1'749'998'400.0);
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("2025-06-15 16:40+02:00", kNow)), 1'749'998'400.0);
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("2025-06-15T14:40:30.5Z", kNow)), 1'749'998'430.5);
    // No offset: local time.
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    EXPECT_DOUBLE_EQ(unix_of(*parse_deadline("2025-06-15T14:40", kNow)), 1'749'998'400.0);
}

TEST(Deadline, AutoIsLeftToJobEndTime) {
    EXPECT_FALSE(parse_deadline("auto", kNow).has_value());
}

TEST(Deadline, BadValuesNameTheOptionAndTheAcceptedForms) {
    for (const char* bad : {"", "tomorrow", "+", "+5x", "+-5s", "2025-13-01T00:00", "2025-06-01", "12:30",
                            "2025-06-01T10:00+5", "1e400"}) {
        try {
            parse_deadline(bad, kNow);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const DeadlineError& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find("--deadline '" + std::string(bad) + "'"), std::string::npos) << what;
            EXPECT_NE(what.find("+2h"), std::string::npos) << what;
        }
    }
}

TEST(Deadline, JobEndFromSlurmEnvironment) {
    ::setenv("SLURM_JOB_END_TIME", "1750003600", 1);
    const std::optional<JobEnd> end = job_end_time();
    ::unsetenv("SLURM_JOB_END_TIME");
    ASSERT_TRUE(end.has_value());
    EXPECT_DOUBLE_EQ(unix_of(end->at), 1'750'003'600.0);
}

TEST(Deadline, NoJobSaysWhatWasLookedAt) {
    ::unsetenv("SLURM_JOB_END_TIME");
    ::unsetenv("SLURM_JOB_ID");
    ::unsetenv("PBS_WALLTIME");
    std::string why;
    EXPECT_FALSE(job_end_time(&why).has_value());
    EXPECT_NE(why.find("SLURM_JOB_ID is not set"), std::string::npos) << why;
}

}  // namespace
}  // namespace mpisweep
