// GPU placement policy: packing by declared memory, caps, other users, learning, multi-GPU
// copies, out-of-memory retries and bound workers, with the invariants checked after every event.
#include "schedule/gpu_placement.hpp"

#include <gtest/gtest.h>
#include <map>
#include <random>

using namespace mpisweep;

namespace {

constexpr Bytes GiB = Bytes{1} << 30;

std::vector<PlacementGpu> gpus(int n, Bytes total, int cap = 0) {
    return std::vector<PlacementGpu>(static_cast<std::size_t>(n), PlacementGpu{total, total, cap});
}

// A node with `workers` workers numbered from `first`.
int node_with_workers(GpuPlacement& p, const std::vector<PlacementGpu>& g, int first, int workers) {
    const int node = p.add_node(g);
    for (int w = first; w < first + workers; ++w) p.add_worker(WorkerId(w), node);
    return node;
}

// Places one copy of `task` on `worker` if anything qualifies; returns its GPUs.
std::optional<std::vector<int>> place(GpuPlacement& p, int worker, std::uint64_t task,
                                      std::optional<Bytes> declared, Seconds now = 0) {
    const auto chosen = p.choose(WorkerId(worker), TaskId(task), declared);
    if (chosen) p.start(WorkerId(worker), TaskId(task), *chosen, declared, now);
    p.check_invariants();
    return chosen;
}

}  // namespace

TEST(GpuPlacement, PacksByDeclaredMemoryAndSpreadsOverTheGpus) {
    // 4 GPUs of 16 GiB, 3 GiB tasks: 5 fit on each, the sixth nowhere.
    GpuPlacement p({});
    node_with_workers(p, gpus(4, 16 * GiB), 1, 24);
    std::map<int, int> per_gpu;
    for (int w = 1; w <= 20; ++w) {
        const auto chosen = place(p, w, static_cast<std::uint64_t>(w), 3 * GiB);
        ASSERT_TRUE(chosen) << "worker " << w;
        ++per_gpu[chosen->at(0)];
        // Most memory left wins: the first four go to four different GPUs.
        if (w <= 4) {
            EXPECT_EQ(per_gpu.size(), static_cast<std::size_t>(w));
        }
    }
    for (int g = 0; g < 4; ++g) {
        EXPECT_EQ(per_gpu[g], 5);
        EXPECT_EQ(p.available(0, g), 1 * GiB);
    }
    EXPECT_FALSE(p.choose(WorkerId(21), TaskId(21), 3 * GiB));
    EXPECT_TRUE(p.choose(WorkerId(21), TaskId(21), 1 * GiB));  // a smaller one still fits
    p.finish(WorkerId(3), TaskId(3), CopyEnd::Done);
    p.check_invariants();
    EXPECT_TRUE(p.choose(WorkerId(21), TaskId(21), 3 * GiB));  // its memory is free again
}

TEST(GpuPlacement, UnequalCapsWithoutMemoryDeclared) {
    // --gpu-slots 0:1,1:3: GPU 0 runs one copy at a time, GPU 1 three.
    GpuPlacement p({});
    node_with_workers(p, {{16 * GiB, 16 * GiB, 1}, {16 * GiB, 16 * GiB, 3}}, 1, 6);
    std::map<int, int> per_gpu;
    for (int w = 1; w <= 6; ++w) {
        if (const auto chosen = place(p, w, static_cast<std::uint64_t>(w), std::nullopt))
            ++per_gpu[chosen->at(0)];
    }
    EXPECT_EQ(per_gpu[0], 1);
    EXPECT_EQ(per_gpu[1], 3);
    EXPECT_EQ(p.running(0, 0) + p.running(0, 1), 4);
}

TEST(GpuPlacement, OtherUsersMemoryCountsAndTheGpuWithMostFreeWins) {
    GpuPlacement p({});
    // GPU 0 has 10 GiB held by someone else; GPU 1 is empty.
    node_with_workers(p, {{16 * GiB, 6 * GiB, 0}, {16 * GiB, 16 * GiB, 0}}, 1, 8);
    EXPECT_EQ(*place(p, 1, 1, 4 * GiB), std::vector<int>{1});  // 16 left vs 6
    EXPECT_EQ(*place(p, 2, 2, 4 * GiB), std::vector<int>{1});  // 12 vs 6
    EXPECT_EQ(*place(p, 3, 3, 4 * GiB), std::vector<int>{1});  // 8 vs 6
    EXPECT_EQ(*place(p, 4, 4, 4 * GiB), std::vector<int>{0});  // 4 vs 6
    EXPECT_EQ(*place(p, 5, 5, 4 * GiB), std::vector<int>{1});  // 4 vs 2
    EXPECT_FALSE(place(p, 6, 6, 4 * GiB));                     // 0 vs 2
    // The other user leaves GPU 0 (measured while our copy ran there, with our share known).
    p.report_free(0, {12 * GiB, 0}, std::vector<Bytes>{4 * GiB, 16 * GiB}, 1.0);
    EXPECT_EQ(p.available(0, 0), 12 * GiB);
    EXPECT_EQ(*place(p, 6, 6, 4 * GiB), std::vector<int>{0});
}

TEST(GpuPlacement, WithoutPerProcessMemoryOtherUsersAreMeasuredOnlyOnIdleGpus) {
    GpuPlacement p({});
    node_with_workers(p, gpus(2, 16 * GiB), 1, 4);
    ASSERT_EQ(*place(p, 1, 1, 4 * GiB, 10.0), std::vector<int>{0});
    // At t=11 GPU 0 shows 6 GiB used (our copy's 4 and 2 of someone else's) and GPU 1 3 GiB.
    p.report_free(0, {10 * GiB, 13 * GiB}, std::nullopt, 11.0);
    EXPECT_EQ(p.available(0, 0), 12 * GiB);  // GPU 0 ran our copy: its others are unknown, kept
    EXPECT_EQ(p.available(0, 1), 13 * GiB);  // GPU 1 ran none: 3 GiB are someone else's
    // A report measured before our copy started counts all used memory as other users'.
    ASSERT_EQ(*place(p, 2, 2, 4 * GiB, 20.0), std::vector<int>{1});
    p.report_free(0, {10 * GiB, 13 * GiB}, std::nullopt, 19.0);
    EXPECT_EQ(p.available(0, 1), 9 * GiB);
    EXPECT_EQ(p.available(0, 0), 12 * GiB);
}

TEST(GpuPlacement, MultiGpuCopiesTakeDistinctGpusOfTheirNode) {
    GpuPlacement p({2});
    node_with_workers(p, gpus(4, 16 * GiB), 1, 3);
    node_with_workers(p, gpus(2, 16 * GiB), 11, 2);
    const auto a = place(p, 1, 1, 10 * GiB);
    const auto b = place(p, 2, 2, 10 * GiB);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 2u);
    std::set<int> all(a->begin(), a->end());
    all.insert(b->begin(), b->end());
    EXPECT_EQ(all.size(), 4u);  // the four GPUs, two each
    EXPECT_FALSE(place(p, 3, 3, 10 * GiB));
    EXPECT_TRUE(place(p, 3, 3, 6 * GiB));  // 6 left on each
    // The other node has its own two.
    EXPECT_EQ(*place(p, 11, 4, 16 * GiB), (std::vector<int>{0, 1}));
    EXPECT_FALSE(place(p, 12, 5, 1));
    EXPECT_THROW(p.start(WorkerId(12), TaskId(5), {0}, Bytes{0}, 0), std::logic_error);  // one GPU, not two
    GpuPlacement one_gpu_node({2});
    node_with_workers(one_gpu_node, gpus(1, 16 * GiB), 1, 1);
    EXPECT_FALSE(one_gpu_node.choose(WorkerId(1), TaskId(0), Bytes{0}));
    EXPECT_FALSE(one_gpu_node.fits_anywhere(0));
}

TEST(GpuPlacement, LearnsThePeakAndPacksByItWithTheMargin) {
    GpuPlacement p({1, true, 0.1});
    node_with_workers(p, gpus(2, 16 * GiB), 1, 8);
    EXPECT_FALSE(p.need(std::nullopt));  // nothing learned: a copy takes a GPU alone
    ASSERT_EQ(*place(p, 1, 1, std::nullopt), std::vector<int>{0});
    ASSERT_EQ(*place(p, 2, 2, std::nullopt), std::vector<int>{1});
    EXPECT_FALSE(place(p, 3, 3, std::nullopt));
    // Copy 1 is seen holding 4 GiB: need = 4.4 GiB; copies 1 and 2 now reserve that each.
    p.report_use(WorkerId(1), TaskId(1), 4 * GiB);
    p.check_invariants();
    const Bytes need = *p.need(std::nullopt);
    EXPECT_EQ(need, static_cast<Bytes>(4.4 * static_cast<double>(GiB)) + 1);
    int placed = 0;
    for (int w = 3; w <= 8; ++w) placed += place(p, w, static_cast<std::uint64_t>(w), std::nullopt) ? 1 : 0;
    EXPECT_EQ(placed, 4);  // 16 GiB hold three copies of 4.4 GiB: two more on each GPU
    // A larger peak at the end of a copy raises the need for the next ones.
    p.finish(WorkerId(2), TaskId(2), CopyEnd::Done, 6 * GiB);
    EXPECT_EQ(*p.largest_peak(), 6 * GiB);
    EXPECT_GT(*p.need(std::nullopt), 6 * GiB);
    // A copy that ran out of memory or was cancelled teaches nothing.
    p.finish(WorkerId(3), TaskId(3), CopyEnd::OutOfMemory, 12 * GiB);
    p.finish(WorkerId(4), TaskId(4), CopyEnd::Cancelled, 12 * GiB);
    EXPECT_EQ(*p.largest_peak(), 6 * GiB);
    p.check_invariants();
}

TEST(GpuPlacement, UseAboveTheDeclarationGrowsTheReservation) {
    GpuPlacement p({});
    node_with_workers(p, gpus(1, 16 * GiB), 1, 4);
    ASSERT_TRUE(place(p, 1, 1, 2 * GiB));
    p.report_use(WorkerId(1), TaskId(1), 9 * GiB);
    EXPECT_EQ(p.available(0, 0), 7 * GiB);
    EXPECT_FALSE(place(p, 2, 2, 8 * GiB));
    p.report_use(WorkerId(9), TaskId(9), 1 * GiB);  // a copy that ended meanwhile: ignored
    p.check_invariants();
}

TEST(GpuPlacement, OutOfMemoryPutsThatGpuLastForTheTasksNextCopy) {
    GpuPlacement p({});
    node_with_workers(p, gpus(2, 16 * GiB), 1, 2);
    ASSERT_EQ(*place(p, 1, 7, 4 * GiB), std::vector<int>{0});
    p.finish(WorkerId(1), TaskId(7), CopyEnd::OutOfMemory);
    EXPECT_EQ(*place(p, 1, 7, 4 * GiB), std::vector<int>{1});  // retried elsewhere
    p.finish(WorkerId(1), TaskId(7), CopyEnd::OutOfMemory);
    // Out of memory on both: the one with the most memory left again.
    EXPECT_EQ(*place(p, 2, 7, 4 * GiB), std::vector<int>{0});
    p.finish(WorkerId(2), TaskId(7), CopyEnd::Done);
    p.forget(TaskId(7));
    EXPECT_EQ(*place(p, 1, 8, 4 * GiB), std::vector<int>{0});  // other tasks are not affected
}

TEST(GpuPlacement, BoundWorkersSpreadWithinCapsAndUseOnlyTheirGpus) {
    GpuPlacement p({});
    // In-process tasks: GPU 0 takes one worker, GPU 1 three; the fifth worker gets none.
    node_with_workers(p, {{16 * GiB, 16 * GiB, 1}, {24 * GiB, 24 * GiB, 3}}, 1, 5);
    std::map<int, int> bound;
    for (int w = 1; w <= 5; ++w) {
        const std::vector<int> g = p.bind(WorkerId(w));
        ++bound[g.empty() ? -1 : g[0]];
    }
    EXPECT_EQ(bound[0], 1);
    EXPECT_EQ(bound[1], 3);
    EXPECT_EQ(bound[-1], 1);
    EXPECT_THROW(p.bind(WorkerId(1)), std::logic_error);
    // Memory is still checked per copy on a bound GPU: 3 workers on GPU 1, 24 GiB, 10 GiB each.
    int on_gpu1 = 0;
    for (int w = 1; w <= 5; ++w) {
        if (p.bound(WorkerId(w)) == std::vector<int>{1})
            on_gpu1 += place(p, w, static_cast<std::uint64_t>(w), 10 * GiB) ? 1 : 0;
    }
    EXPECT_EQ(on_gpu1, 2);
    for (int w = 1; w <= 5; ++w) {
        if (p.bound(WorkerId(w)).empty()) {
            EXPECT_FALSE(p.choose(WorkerId(w), TaskId(99), Bytes{0}));
        }
    }
}

TEST(GpuPlacement, TasksLargerThanEveryGpuNeverFit) {
    GpuPlacement p({});
    node_with_workers(p, {{16 * GiB, 1 * GiB, 0}}, 1, 1);
    EXPECT_TRUE(p.fits_anywhere(16 * GiB));  // other users come and go; the total decides
    EXPECT_FALSE(p.fits_anywhere(16 * GiB + 1));
    EXPECT_EQ(p.largest_gpu(), 16 * GiB);
}

TEST(GpuPlacement, RejectsBadInput) {
    EXPECT_THROW(GpuPlacement({0}), std::invalid_argument);
    EXPECT_THROW(GpuPlacement({1, true, -0.5}), std::invalid_argument);
    GpuPlacement p({});
    EXPECT_THROW(p.add_node({{1 * GiB, 2 * GiB, 0}}), std::invalid_argument);
    EXPECT_THROW(p.add_node({{1 * GiB, 1 * GiB, -1}}), std::invalid_argument);
    const int node = p.add_node(gpus(1, 16 * GiB));
    p.add_worker(WorkerId(1), node);
    EXPECT_THROW(p.add_worker(WorkerId(1), node), std::invalid_argument);
    EXPECT_THROW(p.add_worker(WorkerId(2), 5), std::invalid_argument);
    EXPECT_THROW(p.report_free(node, {1, 2}, std::nullopt, 0), std::invalid_argument);
    EXPECT_THROW(p.finish(WorkerId(1), TaskId(1), CopyEnd::Done), std::logic_error);
    p.start(WorkerId(1), TaskId(1), {0}, 12 * GiB, 0);
    EXPECT_THROW(p.start(WorkerId(1), TaskId(1), {0}, 1, 0), std::logic_error);  // twice
    p.add_worker(WorkerId(2), node);
    EXPECT_THROW(p.start(WorkerId(2), TaskId(2), {0}, 8 * GiB, 0), std::logic_error);  // does not fit
    EXPECT_THROW(p.start(WorkerId(2), TaskId(2), {1}, 1, 0), std::logic_error);        // no GPU 1
}

TEST(GpuPlacement, RandomEventsNeverOversubscribeAGpu) {
    // A model of the real memory: other users' (changing, reported) plus what each running
    // copy declared. Whatever the order of events, a copy goes only where what the copies
    // there declared plus what others held at the last report fits, and counts never
    // exceed caps.
    std::mt19937_64 rng(12345);
    for (int round = 0; round < 40; ++round) {
        const int k = 1 + static_cast<int>(rng() % 2);
        GpuPlacement p({k});
        std::vector<std::vector<Bytes>> other;
        std::vector<std::vector<PlacementGpu>> layout;
        int next_worker = 1;
        for (int n = 0; n < 3; ++n) {
            std::vector<PlacementGpu> g;
            for (int i = 0; i < 2 + static_cast<int>(rng() % 3); ++i) {
                g.push_back({(8 + rng() % 17) * GiB, 0, static_cast<int>(rng() % 4)});
                g.back().free = g.back().total;
            }
            layout.push_back(g);
            other.emplace_back(g.size(), 0);
            node_with_workers(p, g, next_worker, 6);
            next_worker += 6;
        }
        std::map<std::pair<int, std::uint64_t>, std::pair<std::vector<int>, Bytes>> running;
        std::uint64_t task = 0;
        for (int step = 0; step < 400; ++step) {
            const int w = 1 + static_cast<int>(rng() % 18);
            const int node = p.node_of(WorkerId(w));
            const auto r = rng() % 10;
            if (r < 5) {
                bool busy = false;
                for (const auto& [key, _] : running) busy = busy || key.first == w;
                if (busy) continue;
                const Bytes declared = (1 + rng() % 8) * GiB;
                const auto g = place(p, w, ++task, declared, step);
                if (!g) continue;
                running[{w, task}] = {*g, declared};
                // Where it went, what others held at the last report and what our copies
                // declared fit the GPU.
                for (int i : *g) {
                    Bytes declared_here = 0;
                    for (const auto& [key, copy] : running) {
                        if (p.node_of(WorkerId(key.first)) != node) continue;
                        for (int c : copy.first) declared_here += c == i ? copy.second : 0;
                    }
                    ASSERT_LE(
                        other[static_cast<std::size_t>(node)][static_cast<std::size_t>(i)] + declared_here,
                        layout[static_cast<std::size_t>(node)][static_cast<std::size_t>(i)].total);
                }
            } else if (r < 8 && !running.empty()) {
                auto it = running.begin();
                std::advance(it, static_cast<long>(rng() % running.size()));
                p.finish(WorkerId(it->first.first), TaskId(it->first.second), CopyEnd::Done);
                running.erase(it);
            } else {
                // Another user takes (what is free) or frees memory; the node reports it with
                // our share.
                auto& o = other[static_cast<std::size_t>(node)];
                const auto& totals = layout[static_cast<std::size_t>(node)];
                std::vector<Bytes> free, ours(o.size(), 0);
                for (const auto& [key, copy] : running) {
                    if (p.node_of(WorkerId(key.first)) != node) continue;
                    for (int i : copy.first) ours[static_cast<std::size_t>(i)] += copy.second;
                }
                const auto g = static_cast<std::size_t>(rng() % o.size());
                o[g] = std::min<Bytes>((rng() % 4) * GiB, totals[g].total - ours[g]);
                for (std::size_t i = 0; i < o.size(); ++i) free.push_back(totals[i].total - o[i] - ours[i]);
                p.report_free(node, free, ours, step);
            }
            p.check_invariants();
            // A copy placed after the last report fits beside what others held at that report.
            for (int n = 0; n < 3; ++n) {
                for (int i = 0; i < p.gpus(n); ++i) {
                    Bytes declared = 0;
                    int copies = 0;
                    for (const auto& [key, copy] : running) {
                        if (p.node_of(WorkerId(key.first)) != n) continue;
                        for (int g : copy.first) {
                            if (g == i) declared += copy.second, ++copies;
                        }
                    }
                    const PlacementGpu& spec =
                        layout[static_cast<std::size_t>(n)][static_cast<std::size_t>(i)];
                    ASSERT_LE(declared, spec.total);
                    if (spec.cap > 0) {
                        ASSERT_LE(copies, spec.cap);
                    }
                    ASSERT_EQ(copies, p.running(n, i));
                }
            }
        }
    }
}
