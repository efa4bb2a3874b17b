// The device layer without a GPU: sizes, CUDA_VISIBLE_DEVICES as CUDA applies it, the fake
// backend and its memory ledger, and the choice of backend.
#include "platform/gpu_backend.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "platform/gpu_fake.hpp"
#include "platform/gpu_usage.hpp"
#include "platform/gpu_watch.hpp"

using namespace mpisweep;

namespace {
constexpr Bytes GiB = Bytes{1} << 30;
constexpr Bytes MiB = Bytes{1} << 20;

std::string temp_dir() {
    std::string dir = (std::filesystem::temp_directory_path() / "mpisweep-gpu-test-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) throw std::runtime_error("mkdtemp");
    return dir;
}
}  // namespace

TEST(ByteSize, ParsesUnitsAsPowersOf1024) {
    EXPECT_EQ(parse_byte_size("6G"), 6 * GiB);
    EXPECT_EQ(parse_byte_size("6GB"), 6 * GiB);
    EXPECT_EQ(parse_byte_size("6GiB"), 6 * GiB);
    EXPECT_EQ(parse_byte_size("6g"), 6 * GiB);
    EXPECT_EQ(parse_byte_size("1.5G"), 3 * GiB / 2);
    EXPECT_EQ(parse_byte_size("512M"), 512 * MiB);
    EXPECT_EQ(parse_byte_size("2T"), 2048 * GiB);
    EXPECT_EQ(parse_byte_size("4096"), Bytes{4096});
    EXPECT_EQ(parse_byte_size("0"), Bytes{0});
    for (const char* bad : {"", "G", "-1G", "6X", "6 G", "1.2.3G", "6GG", "1e3", "99999999999T"}) {
        EXPECT_FALSE(parse_byte_size(bad)) << bad;
    }
    EXPECT_EQ(format_bytes(6 * GiB), "6 GiB");
    EXPECT_EQ(format_bytes(3 * GiB / 2), "1.5 GiB");
    EXPECT_EQ(format_bytes(1000), "1000 B");
}

TEST(VisibleDevices, AppliedAsCudaDoes) {
    const std::vector<NodeGpu> node{
        {"GPU-aaaa1111", "A", 16 * GiB}, {"GPU-bbbb2222", "B", 24 * GiB}, {"GPU-cccc3333", "C", 32 * GiB}};
    const auto indices = [&](const std::optional<std::string>& visible) {
        std::vector<std::size_t> out;
        for (const VisibleGpu& v : apply_visible_devices(node, visible)) out.push_back(v.index);
        return out;
    };
    EXPECT_EQ(indices(std::nullopt), (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(indices("2,0"), (std::vector<std::size_t>{2, 0}));
    EXPECT_EQ(indices(" 1 , 2 "), (std::vector<std::size_t>{1, 2}));
    EXPECT_EQ(indices("GPU-bbbb2222,cccc"), (std::vector<std::size_t>{1, 2}));  // UUIDs and prefixes
    EXPECT_EQ(indices("0,7,1"), (std::vector<std::size_t>{0}));                 // stops at the first invalid
    EXPECT_EQ(indices("1,1"), (std::vector<std::size_t>{1}));
    EXPECT_TRUE(indices("").empty());
    EXPECT_TRUE(indices("NoDevFiles").empty());
    EXPECT_TRUE(indices("GPU-").empty());  // a prefix of every UUID names none

    const std::vector<GpuDevice> devices = visible_gpu_devices(node, std::string("2,0"));
    ASSERT_EQ(devices.size(), 2u);
    EXPECT_EQ(devices[0].ordinal, 0);
    EXPECT_EQ(devices[0].visible_id, "2");  // the job's own entry
    EXPECT_EQ(devices[0].total, 32 * GiB);
    EXPECT_EQ(devices[1].visible_id, "0");
    // Unset: the UUID, unambiguous whatever CUDA_DEVICE_ORDER the task uses.
    EXPECT_EQ(visible_gpu_devices(node, std::nullopt)[1].visible_id, "GPU-bbbb2222");
}

TEST(FakeGpus, SpecPerHostAndDefault) {
    const auto spec = parse_fake_gpus("n1=4x16G;n2=8G,24G;*=");
    EXPECT_EQ(fake_gpus_of(spec, "n1"), std::vector<Bytes>(4, 16 * GiB));
    EXPECT_EQ(fake_gpus_of(spec, "n2"), (std::vector<Bytes>{8 * GiB, 24 * GiB}));
    EXPECT_TRUE(fake_gpus_of(spec, "n3").empty());
    EXPECT_EQ(fake_gpus_of(parse_fake_gpus("16G,16G"), "any"), (std::vector<Bytes>{16 * GiB, 16 * GiB}));
    EXPECT_EQ(fake_gpus_of(parse_fake_gpus("n1=2x1G;*=3G"), "other"), (std::vector<Bytes>{3 * GiB}));
    for (const char* bad : {"", "16Q", "x16G", "0G", "n1=16G;n1=8G", "=16G", "n1=16G,,16G", "99999x1G"}) {
        EXPECT_THROW(parse_fake_gpus(bad), std::invalid_argument) << bad;
    }
    try {
        parse_fake_gpus("n1=16Q");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("'16Q'"), std::string::npos) << e.what();
    }
}

TEST(FakeGpus, LedgerHoldsMemoryOfLiveProcessesOnly) {
    const std::string dir = temp_dir();
    FakeGpuLedger ledger(dir, "n1");
    EXPECT_TRUE(ledger.allocate(0, 16 * GiB, getpid(), 10 * GiB));
    EXPECT_FALSE(ledger.allocate(0, 16 * GiB, getpid(), 7 * GiB));  // 6 left
    EXPECT_TRUE(ledger.allocate(1, 16 * GiB, getpid(), 7 * GiB));   // another GPU
    // A process that ended holds nothing, zombie or reaped.
    const pid_t child = fork();
    if (child == 0) _exit(0);
    ASSERT_TRUE(ledger.allocate(0, 16 * GiB, child, 6 * GiB));
    for (int i = 0; i < 200 && process_alive(child); ++i) usleep(10000);  // a zombie until reaped
    EXPECT_FALSE(process_alive(child));
    EXPECT_EQ(ledger.holders(0).size(), 1u);
    waitpid(child, nullptr, 0);
    EXPECT_TRUE(ledger.allocate(0, 16 * GiB, getpid(), 6 * GiB));
    ledger.release(0, getpid());
    EXPECT_TRUE(ledger.holders(0).empty());
    EXPECT_EQ(ledger.holders(1).size(), 1u);
    std::filesystem::remove_all(dir);
}

TEST(FakeGpus, BackendReportsDeclaredGpusAndTheirLedger) {
    const std::string dir = temp_dir();
    GpuEnvironment env;
    env.fake_gpus = "n1=16G,24G;n2=8G";
    env.fake_dir = dir;
    env.host = "n1";
    auto backend = open_gpu_backend(env);
    EXPECT_EQ(backend->name(), "fake");
    EXPECT_FALSE(backend->initializes_cuda());
    std::vector<GpuDevice> devices = backend->devices();
    ASSERT_EQ(devices.size(), 2u);
    EXPECT_EQ(devices[1].total, 24 * GiB);
    EXPECT_EQ(devices[1].free, 24 * GiB);
    EXPECT_EQ(devices[1].visible_id, "1");
    FakeGpuLedger(dir, "n1").allocate(1, 24 * GiB, getpid(), 5 * GiB);
    EXPECT_EQ(backend->free_memory(), (std::vector<Bytes>{16 * GiB, 19 * GiB}));
    const auto processes = backend->process_memory();
    ASSERT_TRUE(processes);
    ASSERT_EQ(processes->size(), 1u);
    EXPECT_EQ((*processes)[0].ordinal, 1);
    EXPECT_EQ((*processes)[0].pid, getpid());
    EXPECT_EQ((*processes)[0].bytes, 5 * GiB);

    // The job's CUDA_VISIBLE_DEVICES applies to fake GPUs as to real ones.
    env.visible_devices = "1";
    devices = open_gpu_backend(env)->devices();
    ASSERT_EQ(devices.size(), 1u);
    EXPECT_EQ(devices[0].ordinal, 0);
    EXPECT_EQ(devices[0].visible_id, "1");
    EXPECT_EQ(devices[0].free, 19 * GiB);

    env.host = "n3";  // not declared: no GPU
    EXPECT_TRUE(open_gpu_backend(env)->devices().empty());
    env.fake_gpus = "n1=16Z";
    EXPECT_THROW(open_gpu_backend(env), std::invalid_argument);
    std::filesystem::remove_all(dir);
}

TEST(GpuBackendChoice, CpuOnlyAndNoDriverMeanNoGpu) {
    GpuEnvironment env;
    env.cpu_only = true;
    EXPECT_EQ(open_gpu_backend(env)->name(), "none");
    // This machine has the CUDA toolkit but no driver and no libnvidia-ml: no GPU, no error.
    env.cpu_only = false;
    auto backend = open_gpu_backend(env);
    if (backend->name() != "none") GTEST_SKIP() << "this machine has a GPU backend: " << backend->name();
    if (std::getenv("MPISWEEP_EXPECT_GPU") != nullptr) FAIL() << "a GPU was expected here";
    EXPECT_TRUE(backend->devices().empty());
    EXPECT_TRUE(backend->free_memory().empty());
    EXPECT_FALSE(open_nvml_backend(std::nullopt));
}

TEST(GpuUsage, TheSweepsShareAndEachCopysFromTheProcessTree) {
    // This process stands for a worker; a child for a copy, with a grandchild of its own;
    // another process (not below the worker) for another user.
    const std::string dir = temp_dir();
    GpuEnvironment env;
    env.fake_gpus = "2x16G";
    env.fake_dir = dir;
    env.host = "n1";
    auto backend = open_gpu_backend(env);
    FakeGpuLedger ledger(dir, "n1");
    // Every holder is a process of this test (the copy, its grandchild, the outsider): end
    // them however the test ends.
    struct EndHolders {
        const FakeGpuLedger& ledger;
        std::string dir;
        ~EndHolders() {
            for (std::size_t gpu : {0u, 1u}) {
                for (const auto& holder : ledger.holders(gpu))
                    kill(static_cast<pid_t>(holder.first), SIGKILL);
            }
            std::filesystem::remove_all(dir);
        }
    } end_holders{ledger, dir};
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t copy = fork();
    if (copy == 0) {
        const pid_t grandchild = fork();
        if (grandchild == 0) {
            ledger.allocate(1, 16 * GiB, getpid(), 2 * GiB);
            pause();
            _exit(0);
        }
        ledger.allocate(0, 16 * GiB, getpid(), 3 * GiB);
        while (ledger.holders(1).empty()) usleep(1000);
        (void)!write(ready[1], "x", 1);
        pause();
        _exit(0);
    }
    char byte;
    ASSERT_EQ(read(ready[0], &byte, 1), 1);
    // Another user: a process that is not below this one (its parent is init after the double fork).
    const pid_t outsider_parent = fork();
    if (outsider_parent == 0) {
        if (fork() == 0) {
            setsid();
            ledger.allocate(1, 16 * GiB, getpid(), 5 * GiB);
            (void)!write(ready[1], "y", 1);
            pause();
            _exit(0);
        }
        _exit(0);
    }
    waitpid(outsider_parent, nullptr, 0);
    ASSERT_EQ(read(ready[0], &byte, 1), 1);

    const GpuSnapshot s = read_gpus(*backend, 2, {getpid()}, {copy, getpid() + 0L});
    EXPECT_EQ(s.free, (std::vector<Bytes>{13 * GiB, 9 * GiB}));
    ASSERT_TRUE(s.ours && s.held);
    EXPECT_EQ(*s.ours, (std::vector<Bytes>{3 * GiB, 2 * GiB}));       // the outsider's 5 GiB is not ours
    EXPECT_EQ((*s.held)[0], (std::vector<Bytes>{3 * GiB, 2 * GiB}));  // the copy with its grandchild
    EXPECT_EQ((*s.held)[1], (std::vector<Bytes>{3 * GiB, 2 * GiB}));  // the worker's tree holds the same
    kill(copy, SIGKILL);
    waitpid(copy, nullptr, 0);
}

TEST(GpuWatch, ReadsACopySoonAfterItStartsThenEveryIntervalAndKeepsItsPeak) {
    const std::string dir = temp_dir();
    GpuEnvironment env;
    env.fake_gpus = "2x16G";
    env.fake_dir = dir;
    env.host = "n1";
    auto backend = open_gpu_backend(env);
    FakeGpuLedger ledger(dir, "n1");
    // This process is the worker (and its node's reader); the copy's memory is held in its name.
    GpuWatch watch(*backend, 2, {getpid()}, getpid(), true, 1.0);
    auto first = watch.poll(0.0);  // the reader's first reading: free memory, nothing of ours
    ASSERT_TRUE(first);
    EXPECT_EQ(first->free, (std::vector<Bytes>{16 * GiB, 16 * GiB}));
    EXPECT_EQ(*first->ours, (std::vector<Bytes>{0, 0}));
    EXPECT_FALSE(first->copy_use);
    EXPECT_DOUBLE_EQ(watch.next_due(), 1.0);
    EXPECT_FALSE(watch.poll(0.5));  // not due

    watch.copy_started({1}, 0.6);
    EXPECT_DOUBLE_EQ(watch.next_due(), 0.7);  // sooner than the reader's next (1.0)
    ledger.allocate(1, 16 * GiB, getpid(), 3 * GiB);
    auto early = watch.poll(0.7);
    ASSERT_TRUE(early && early->copy_use);
    EXPECT_EQ(*early->copy_use, 3 * GiB);
    EXPECT_EQ(*early->ours, (std::vector<Bytes>{0, 3 * GiB}));
    EXPECT_DOUBLE_EQ(watch.next_due(), 0.9);
    ledger.release(1, getpid());
    ledger.allocate(1, 16 * GiB, getpid(), 5 * GiB);
    EXPECT_EQ(*watch.poll(0.9)->copy_use, 5 * GiB);
    EXPECT_DOUBLE_EQ(watch.next_due(), 1.9);
    ledger.release(1, getpid());
    ledger.allocate(1, 16 * GiB, getpid(), 2 * GiB);
    watch.poll(1.9);
    EXPECT_EQ(watch.copy_ended(), 5 * GiB);  // the peak
    ledger.release(1, getpid());

    // A worker that is not the reader says something only while its copy's use grows.
    GpuWatch quiet(*backend, 2, {getpid()}, getpid(), false, 1.0);
    EXPECT_FALSE(quiet.poll(0.0));
    quiet.copy_started({0}, 1.0);
    ledger.allocate(0, 16 * GiB, getpid(), 1 * GiB);
    EXPECT_EQ(*quiet.poll(1.1)->copy_use, 1 * GiB);
    EXPECT_FALSE(quiet.poll(1.3));  // the same: nothing new
    EXPECT_TRUE(quiet.poll(1.3 + 1.0) == std::nullopt);
    EXPECT_EQ(quiet.copy_ended(), 1 * GiB);
    EXPECT_FALSE(quiet.poll(100.0));  // no copy, not the reader: nothing to read
    std::filesystem::remove_all(dir);
}
