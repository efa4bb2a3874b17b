#include "platform/gpu_fake.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>

namespace mpisweep {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, sep)) parts.push_back(part);
    if (!text.empty() && text.back() == sep) parts.emplace_back();
    return parts;
}

// "16G", "4x16G"
void parse_gpu_item(const std::string& item, std::vector<Bytes>& totals) {
    const auto bad = [&] {
        return std::invalid_argument("MPISWEEP_FAKE_GPUS: '" + item +
                                     "' is not a GPU size such as 16G, or COUNTxSIZE such as 4x16G");
    };
    std::size_t count = 1;
    std::string size = item;
    const std::size_t x = item.find('x');
    if (x != std::string::npos) {
        const std::string n = item.substr(0, x);
        if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos) throw bad();
        count = std::stoul(n);
        size = item.substr(x + 1);
    }
    const std::optional<Bytes> bytes = parse_byte_size(size);
    if (!bytes || *bytes == 0) throw bad();
    totals.insert(totals.end(), count, *bytes);
}

// An open ledger file, locked for as long as it lives.
class LockedFile {
public:
    explicit LockedFile(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd_ < 0) throw std::runtime_error("fake GPU ledger " + path + ": " + std::strerror(errno));
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) throw std::runtime_error("flock " + path + ": " + std::strerror(errno));
        }
        path_ = path;
    }
    ~LockedFile() {
        if (fd_ >= 0) ::close(fd_);  // releases the lock
    }
    LockedFile(const LockedFile&) = delete;
    LockedFile& operator=(const LockedFile&) = delete;

    std::vector<std::pair<long, Bytes>> read_lines() const {
        std::string text;
        char buffer[4096];
        ::lseek(fd_, 0, SEEK_SET);
        for (ssize_t n; (n = ::read(fd_, buffer, sizeof buffer)) > 0;)
            text.append(buffer, static_cast<std::size_t>(n));
        std::vector<std::pair<long, Bytes>> lines;
        std::istringstream in(text);
        long pid = 0;
        Bytes bytes = 0;
        while (in >> pid >> bytes) lines.emplace_back(pid, bytes);
        return lines;
    }
    void write_lines(const std::vector<std::pair<long, Bytes>>& lines) const {
        std::string text;
        for (const auto& [pid, bytes] : lines)
            text += std::to_string(pid) + ' ' + std::to_string(bytes) + '\n';
        if (::ftruncate(fd_, 0) != 0 ||
            ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
            throw std::runtime_error("fake GPU ledger " + path_ + ": " + std::strerror(errno));
        }
    }

private:
    int fd_ = -1;
    std::string path_;
};

std::vector<std::pair<long, Bytes>> live(const std::vector<std::pair<long, Bytes>>& lines) {
    std::vector<std::pair<long, Bytes>> out;
    for (const auto& line : lines) {
        if (process_alive(line.first)) out.push_back(line);
    }
    return out;
}

}  // namespace

std::vector<FakeNodeGpus> parse_fake_gpus(const std::string& text) {
    if (text.empty())
        throw std::invalid_argument("MPISWEEP_FAKE_GPUS is empty; expected e.g. 16G,16G or n1=4x16G;n2=8G");
    std::vector<FakeNodeGpus> spec;
    for (const std::string& node : split(text, ';')) {
        FakeNodeGpus n;
        std::string gpus = node;
        const std::size_t eq = node.find('=');
        if (eq != std::string::npos) {
            n.host = node.substr(0, eq) == "*" ? "" : node.substr(0, eq);
            gpus = node.substr(eq + 1);
            if (node.substr(0, eq).empty()) {
                throw std::invalid_argument("MPISWEEP_FAKE_GPUS: '" + node + "' has no host name before '='");
            }
        } else if (gpus.empty()) {
            throw std::invalid_argument("MPISWEEP_FAKE_GPUS: an empty node in '" + text +
                                        "'; expected e.g. 16G,16G or n1=4x16G;n2=8G");
        }
        for (const std::string& item : gpus.empty() ? std::vector<std::string>{} : split(gpus, ',')) {
            parse_gpu_item(item, n.totals);
        }
        for (const FakeNodeGpus& seen : spec) {
            if (seen.host == n.host) {
                throw std::invalid_argument("MPISWEEP_FAKE_GPUS: node '" + (n.host.empty() ? "*" : n.host) +
                                            "' given twice");
            }
        }
        spec.push_back(std::move(n));
    }
    return spec;
}

std::vector<Bytes> fake_gpus_of(const std::vector<FakeNodeGpus>& spec, const std::string& host) {
    const FakeNodeGpus* fallback = nullptr;
    for (const FakeNodeGpus& n : spec) {
        if (n.host == host) return n.totals;
        if (n.host.empty()) fallback = &n;
    }
    return fallback != nullptr ? fallback->totals : std::vector<Bytes>{};
}

bool process_alive(long pid) {
    if (pid <= 0) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) return false;
    const std::size_t paren = text.rfind(')');
    if (paren == std::string::npos || paren + 2 >= text.size()) return false;
    const char state = text[paren + 2];
    return state != 'Z' && state != 'X';
}

std::string FakeGpuLedger::path(std::size_t index) const {
    return dir_ + "/" + host_ + ".gpu" + std::to_string(index);
}

bool FakeGpuLedger::allocate(std::size_t index, Bytes total, long pid, Bytes bytes) const {
    LockedFile file(path(index));
    std::vector<std::pair<long, Bytes>> lines = live(file.read_lines());
    Bytes used = 0;
    for (const auto& line : lines) used += line.second;
    if (used > total || bytes > total - used) return false;
    lines.emplace_back(pid, bytes);
    file.write_lines(lines);
    return true;
}

void FakeGpuLedger::release(std::size_t index, long pid) const {
    LockedFile file(path(index));
    std::vector<std::pair<long, Bytes>> lines;
    for (const auto& line : live(file.read_lines())) {
        if (line.first != pid) lines.push_back(line);
    }
    file.write_lines(lines);
}

std::vector<std::pair<long, Bytes>> FakeGpuLedger::holders(std::size_t index) const {
    if (::access(path(index).c_str(), F_OK) != 0) return {};
    LockedFile file(path(index));
    return live(file.read_lines());
}

FakeGpuBackend::FakeGpuBackend(const std::vector<FakeNodeGpus>& spec, const std::string& host,
                               const std::optional<std::string>& visible_devices,
                               const std::optional<std::string>& dir) {
    std::vector<NodeGpu> node;
    for (Bytes total : fake_gpus_of(spec, host)) {
        node.push_back({"", "fake GPU", total});
    }
    for (const VisibleGpu& v : apply_visible_devices(node, visible_devices)) node_index_.push_back(v.index);
    devices_ = visible_gpu_devices(node, visible_devices);
    if (dir && !dir->empty()) ledger_.emplace(*dir, host);
}

std::vector<GpuDevice> FakeGpuBackend::devices() {
    const std::vector<Bytes> free = free_memory();
    for (std::size_t i = 0; i < devices_.size(); ++i) devices_[i].free = free[i];
    return devices_;
}

std::vector<Bytes> FakeGpuBackend::free_memory() {
    std::vector<Bytes> free;
    for (std::size_t i = 0; i < devices_.size(); ++i) {
        Bytes used = 0;
        if (ledger_) {
            for (const auto& holder : ledger_->holders(node_index_[i])) used += holder.second;
        }
        free.push_back(used >= devices_[i].total ? 0 : devices_[i].total - used);
    }
    return free;
}

std::optional<std::vector<GpuProcessMemory>> FakeGpuBackend::process_memory() {
    std::vector<GpuProcessMemory> out;
    if (!ledger_) return out;
    for (std::size_t i = 0; i < devices_.size(); ++i) {
        for (const auto& [pid, bytes] : ledger_->holders(node_index_[i])) {
            out.push_back({static_cast<int>(i), pid, bytes});
        }
    }
    return out;
}

bool FakeGpuBackend::allocate(int ordinal, long pid, Bytes bytes) {
    if (!ledger_)
        throw std::logic_error("fake GPUs: MPISWEEP_FAKE_GPU_DIR is not set, no memory can be held");
    if (ordinal < 0 || ordinal >= static_cast<int>(devices_.size())) {
        throw std::logic_error("fake GPUs: no GPU " + std::to_string(ordinal) + " here");
    }
    const auto i = static_cast<std::size_t>(ordinal);
    return ledger_->allocate(node_index_[i], devices_[i].total, pid, bytes);
}

std::string FakeGpuBackend::ledger_path(int ordinal) const {
    return ledger_ ? ledger_->path(node_index_.at(static_cast<std::size_t>(ordinal))) : "";
}

}  // namespace mpisweep
