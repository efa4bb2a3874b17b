// StderrObserver, the default observer and the one the mpisweep command installs: the lines
// it prints for messages and progress, in a log and on a terminal.
#include <gtest/gtest.h>
#include <sstream>

#include "mpisweep/observer.hpp"

using namespace mpisweep;

namespace {

SweepCounts counts(std::uint64_t total, std::uint64_t done, std::uint64_t failed, std::uint64_t running) {
    SweepCounts c;
    c.total = total;
    c.done = done;
    c.failed = failed;
    c.pending = total - done - failed;
    c.running = running;
    return c;
}

}  // namespace

TEST(StderrObserver, MessagesAreOneLineEachWithThePrefix) {
    std::ostringstream out;
    StderrObserver observer(out, false);
    observer.on_message(MessageLevel::Warning, "rank 3 on node7 gets no more tasks");
    observer.on_message(MessageLevel::Error, "interrupted by SIGTERM");
    EXPECT_EQ(out.str(), "mpisweep: rank 3 on node7 gets no more tasks\nmpisweep: interrupted by SIGTERM\n");
}

TEST(StderrObserver, ProgressInALogIsOneLinePerCallWithRateAndEtaOfThisRun) {
    std::ostringstream out;
    StderrObserver observer(out, false);
    observer.on_start(counts(40, 10, 0, 0));  // 10 found done in the file
    observer.on_progress(counts(40, 10, 0, 4), 1.0);
    observer.on_progress(counts(40, 20, 1, 4), 10.0);  // 11 settled in 10 s: 1.1/s, 19 left
    observer.on_end(counts(40, 20, 1, 0), 75);
    EXPECT_EQ(out.str(),
              "mpisweep: [10/40] failed 0, running 4, ETA ?\n"
              "mpisweep: [20/40] failed 1, running 4, 1.1 tasks/s, ETA 17s\n");
}

TEST(StderrObserver, ProgressOnATerminalIsRewrittenInPlaceAndEndedBeforeAMessage) {
    std::ostringstream out;
    StderrObserver observer(out, true);
    SweepCounts c = counts(4, 1, 0, 2);
    c.retired = 1;
    observer.on_start(counts(4, 0, 0, 0));
    observer.on_progress(c, 2.0);
    observer.on_progress(counts(4, 4, 0, 0), 4.0);
    observer.on_message(MessageLevel::Notice, "done");
    observer.on_end(counts(4, 4, 0, 0), 0);
    const std::string first = "[1/4] failed 0, running 2, 0.5 tasks/s, ETA 6s, retired workers 1";
    const std::string last = "[4/4] failed 0, running 0, 1 tasks/s, ETA 0s";
    EXPECT_EQ(out.str(), "\r" + first + "\r" + last + std::string(first.size() - last.size(), ' ') +
                             "\nmpisweep: done\n");
}

TEST(StderrObserver, TheLastInPlaceLineEndsAtTheEnd) {
    std::ostringstream out;
    StderrObserver observer(out, true);
    observer.on_start(counts(2, 0, 0, 0));
    observer.on_progress(counts(2, 2, 0, 0), 1.0);
    observer.on_end(counts(2, 2, 0, 0), 0);
    EXPECT_EQ(out.str(), "\r[2/2] failed 0, running 0, 2 tasks/s, ETA 0s\n");
}

TEST(StderrObserver, DurationsRead) {
    EXPECT_EQ(StderrObserver::format_duration(45.4), "45s");
    EXPECT_EQ(StderrObserver::format_duration(187), "3m07s");
    EXPECT_EQ(StderrObserver::format_duration(7500), "2h05m");
    EXPECT_EQ(StderrObserver::format_duration(-1), "?");
    EXPECT_EQ(StderrObserver::format_duration(1.0 / 0.0), "?");
}
