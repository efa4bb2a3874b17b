// The naps of a waiting rank (platform/backoff.hpp), on simulated time: how late a message
// can be, how often a rank that waits long wakes up, and when it spins first.
#include "platform/backoff.hpp"

#include <chrono>
#include <gtest/gtest.h>

namespace mpisweep {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;

struct Wait {
    int naps = 0;
    microseconds longest{0};
    bool late_beyond_bound = false;  ///< a nap longer than max(max_sleep, waited / 64)
};

/// Naps back to back until `total` has passed.
Wait simulate(microseconds max_sleep, nanoseconds total) {
    NapSchedule schedule(max_sleep);
    Wait w;
    nanoseconds waited{0};
    while (waited < total) {
        const microseconds nap = schedule.next(waited);
        const nanoseconds bound = std::max<nanoseconds>(max_sleep, waited / NapSchedule::kLatencyShare);
        if (nap > bound) w.late_beyond_bound = true;
        w.longest = std::max(w.longest, nap);
        waited += nap;
        ++w.naps;
    }
    return w;
}

TEST(NapSchedule, TheFirstNapsDoubleFromTenMicrosecondsUpToTheLongest) {
    NapSchedule schedule(microseconds(200));
    nanoseconds waited{0};
    for (int expected : {10, 20, 40, 80, 160, 200, 200, 200}) {
        const microseconds nap = schedule.next(waited);
        EXPECT_EQ(nap.count(), expected);
        waited += nap;
    }
}

TEST(NapSchedule, AResetStartsAgainFromTheShortestNap) {
    NapSchedule schedule(microseconds(200));
    for (int i = 0; i < 8; ++i) schedule.next(std::chrono::seconds(1));
    EXPECT_GT(schedule.next(std::chrono::seconds(1)).count(), 200);
    schedule.reset();
    EXPECT_EQ(schedule.next(std::chrono::seconds(1)).count(), 10);
}

TEST(NapSchedule, NoMessageIsLateByMoreThanASixtyFourthOfItsWait) {
    for (microseconds max_sleep : {microseconds(200), microseconds(1000)}) {
        const Wait w = simulate(max_sleep, std::chrono::seconds(600));
        EXPECT_FALSE(w.late_beyond_bound) << "max_sleep " << max_sleep.count() << " us";
    }
}

// The case: two workers run `sleep 4` and the master can only wait. At 200 us per
// nap it woke 20,000 times, ~20-30 us of CPU each: 15 % of a core. The bench row `idle CPU`
// measures the rank itself (bench/idle_cpu.py).
TEST(NapSchedule, AFourSecondWaitTakesAFewHundredNapsNotTwentyThousand) {
    const Wait master = simulate(microseconds(200), std::chrono::seconds(4));
    EXPECT_LT(master.naps, 450);
    EXPECT_GE(master.longest, microseconds(4000000 / NapSchedule::kLatencyShare - 1000));
    const Wait worker = simulate(microseconds(1000), std::chrono::seconds(4));
    EXPECT_LT(worker.naps, 350);
}

TEST(NapSchedule, ShortWaitsNapAsBefore) {
    // Below 64 x max_sleep the naps are those of a plain doubling back-off capped at
    // max_sleep: round trips of short tasks do not change.
    const Wait w = simulate(microseconds(200), microseconds(12800));
    EXPECT_EQ(w.longest, microseconds(200));
}

TEST(WaitPredictor, ARankWithACoreOfItsOwnAlwaysSpins) {
    WaitPredictor predictor(false, microseconds(200));
    predictor.waited(std::chrono::seconds(1));
    EXPECT_TRUE(predictor.spin());
}

// Oversubscribed, the master's reports of `true` tasks come every few hundred microseconds:
// a 200 us spin catches none of them and takes the core from a worker.
TEST(WaitPredictor, OversubscribedItSpinsOnlyWhileTheLastWaitWasShorterThanTheSpin) {
    WaitPredictor predictor(true, microseconds(200));
    EXPECT_TRUE(predictor.spin()) << "the first wait spins";
    predictor.waited(microseconds(500));
    EXPECT_FALSE(predictor.spin());
    predictor.waited(microseconds(199));
    EXPECT_TRUE(predictor.spin());
    predictor.waited(microseconds(200));
    EXPECT_FALSE(predictor.spin());
}

TEST(WaitPredictor, AWaitThatDoesNotSpinNapsAQuarterOfTheLastWaitFirst) {
    WaitPredictor predictor(true, microseconds(200));
    predictor.waited(microseconds(800));
    EXPECT_EQ(predictor.first_nap(), microseconds(200));
    NapSchedule naps(microseconds(200));
    naps.reset(predictor.first_nap());
    EXPECT_EQ(naps.next(microseconds(0)), microseconds(200));
    naps.reset(microseconds(1));
    EXPECT_EQ(naps.next(microseconds(0)), NapSchedule::kFirstNap) << "never shorter than the first nap";
}

}  // namespace
}  // namespace mpisweep
