// A GPU task on fake GPUs (MPISWEEP_FAKE_GPUS, MPISWEEP_FAKE_GPU_DIR): it takes its GPUs from
// CUDA_VISIBLE_DEVICES as a CUDA program would, holds --mem on each of them in the fake
// ledger (failing as cudaMalloc does when that much is not free), keeps it for --seconds,
// and appends one line to --log: what it held where, and when. The tests check placement
// from these lines, written by the tasks themselves.
//
//   fake_gpu_task --mem 3G [--seconds 0.5] [--log FILE] [--first-wait-used SIZE]
//
// --first-wait-used SIZE: on the first attempt, wait until other processes hold SIZE on the
// GPU before allocating (someone else allocated between the placement and this cudaMalloc).
// Log line: HOST GPU[+GPU...] BYTES START END PID TASK ATTEMPT ("cpu" when no GPU is visible).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "platform/clock.hpp"
#include "platform/gpu_backend.hpp"
#include "platform/gpu_fake.hpp"

using namespace mpisweep;

namespace {

struct Args {
    Bytes mem = 0;
    double seconds = 0;
    std::string log;
    Bytes first_wait_used = 0;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        const auto size = [&] {
            const auto b = parse_byte_size(value);
            if (!b) throw std::invalid_argument(key + ": not a size: " + value);
            return *b;
        };
        if (key == "--mem")
            a.mem = size();
        else if (key == "--seconds")
            a.seconds = std::stod(value);
        else if (key == "--log")
            a.log = value;
        else if (key == "--first-wait-used")
            a.first_wait_used = size();
        else
            throw std::invalid_argument("unknown option " + key);
    }
    return a;
}

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v != nullptr ? v : fallback;
}

void append_line(const std::string& path, const std::string& line) {
    if (path.empty()) return;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        std::perror(("fake_gpu_task: " + path).c_str());
        std::exit(4);
    }
    ::close(fd);
}

// Waits until processes other than this one hold `bytes` on GPU `ordinal` (at most 60 s).
void wait_for_others(FakeGpuBackend& gpus, int ordinal, Bytes bytes) {
    for (int i = 0; i < 6000; ++i) {
        const auto use = gpus.process_memory();
        Bytes others = 0;
        for (const GpuProcessMemory& u : *use)
            others += u.ordinal == ordinal && u.pid != getpid() ? u.bytes : 0;
        if (others >= bytes) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

int main(int argc, char** argv) try {
    const Args args = parse(argc, argv);
    const GpuEnvironment env = GpuEnvironment::from_process(false);
    if (!env.fake_gpus) throw std::invalid_argument("MPISWEEP_FAKE_GPUS is not set");
    FakeGpuBackend gpus(parse_fake_gpus(*env.fake_gpus), env.host, env.visible_devices, env.fake_dir);
    const std::vector<GpuDevice> devices = gpus.devices();
    const std::string attempt = env_or("MPISWEEP_ATTEMPT", "1");
    std::string names;
    for (const GpuDevice& d : devices) {
        if (args.first_wait_used > 0 && attempt == "1")
            wait_for_others(gpus, d.ordinal, args.first_wait_used);
        if (!gpus.allocate(d.ordinal, getpid(), args.mem)) {
            std::cerr << "CUDA error 2: out of memory (fake GPU " << d.visible_id << " on " << env.host
                      << ": " << format_bytes(gpus.free_memory()[static_cast<std::size_t>(d.ordinal)])
                      << " free of " << format_bytes(d.total) << ", " << format_bytes(args.mem)
                      << " asked)\n";
            return 1;  // what it held is freed with the process, as on a real GPU
        }
        names += (names.empty() ? "" : "+") + d.visible_id;
    }
    const double start = unix_seconds();
    std::this_thread::sleep_for(std::chrono::duration<double>(args.seconds));
    const double end = unix_seconds();
    char line[512];
    std::snprintf(line, sizeof line, "%s %s %llu %.6f %.6f %ld %s %s\n", env.host.c_str(),
                  names.empty() ? "cpu" : names.c_str(), static_cast<unsigned long long>(args.mem), start,
                  end, static_cast<long>(getpid()), env_or("MPISWEEP_TASK_ID", "-").c_str(), attempt.c_str());
    append_line(args.log, line);
    const std::string output = env_or("MPISWEEP_OUTPUT", "");
    if (!output.empty()) {
        std::ofstream(output) << "{\"host\": \"" << env.host << "\", \"gpus\": \"" << names
                              << "\", \"device\": \"" << env_or("MPISWEEP_DEVICE", "") << "\"}\n";
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "fake_gpu_task: " << e.what() << '\n';
    return 3;
}
