#include "mpisweep/deadline.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

namespace mpisweep {
namespace {

constexpr const char* kForms =
    "expected auto, an ISO 8601 time (2025-06-01T18:30[:00][Z|+02:00]), unix seconds, or a "
    "duration from now (+90s, +45m, +2h, +1d)";

[[noreturn]] void reject(const std::string& text, const std::string& why = "") {
    throw DeadlineError("--deadline '" + text + "': " + (why.empty() ? "" : why + "; ") + kForms);
}

WallTime from_unix(double seconds) {
    return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(seconds)));
}

bool all_digits(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

// A non-negative decimal number, all of `s`.
std::optional<double> number(const std::string& s) {
    if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<double> duration_seconds(const std::string& body) {
    if (body.empty()) return std::nullopt;
    double unit = 1;
    std::string digits = body;
    switch (body.back()) {
        case 's':
            unit = 1;
            digits.pop_back();
            break;
        case 'm':
            unit = 60;
            digits.pop_back();
            break;
        case 'h':
            unit = 3600;
            digits.pop_back();
            break;
        case 'd':
            unit = 86400;
            digits.pop_back();
            break;
        default:
            break;
    }
    const std::optional<double> v = number(digits);
    if (!v) return std::nullopt;
    return *v * unit;
}

std::optional<WallTime> iso_time(const std::string& text) {
    std::tm tm{};
    int consumed = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0;
    char sep = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d%n", &year, &month, &day, &sep, &hour, &minute,
                    &consumed) != 6 ||
        (sep != 'T' && sep != ' ')) {
        return std::nullopt;
    }
    std::string rest = text.substr(static_cast<std::size_t>(consumed));
    double second = 0;
    if (!rest.empty() && rest[0] == ':') {
        std::size_t i = 1;
        while (i < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[i])) || rest[i] == '.')) ++i;
        const std::optional<double> s = number(rest.substr(1, i - 1));
        if (!s || *s >= 61) return std::nullopt;
        second = *s;
        rest = rest.substr(i);
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return std::nullopt;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    std::time_t base = 0;
    if (rest.empty()) {
        base = std::mktime(&tm);  // local time
    } else {
        int offset = 0;
        if (rest == "Z") {
            offset = 0;
        } else {
            int oh = 0, om = 0, n = 0;
            const char sign = rest[0];
            if ((sign != '+' && sign != '-') ||
                std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &oh, &om, &n) != 2 ||
                static_cast<std::size_t>(n + 1) != rest.size() || oh > 23 || om > 59) {
                return std::nullopt;
            }
            offset = (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        }
        base = timegm(&tm) - offset;
    }
    if (base == static_cast<std::time_t>(-1)) return std::nullopt;
    return from_unix(static_cast<double>(base) + second);
}

std::string run_and_read(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
    if (!pipe) return "";
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe.get()) != nullptr) out += buf;
    return out;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

// Job ids go into a shell command: only the characters schedulers use.
bool safe_job_id(const std::string& id) {
    if (id.empty()) return false;
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-' && c != '[' &&
            c != ']') {
            return false;
        }
    }
    return true;
}

std::optional<double> walltime_seconds(const std::string& text) {
    if (all_digits(text)) return std::stod(text);
    int h = 0, m = 0, s = 0, n = 0;
    if (std::sscanf(text.c_str(), "%d:%d:%d%n", &h, &m, &s, &n) == 3 &&
        static_cast<std::size_t>(n) == text.size()) {
        return h * 3600.0 + m * 60.0 + s;
    }
    if (std::sscanf(text.c_str(), "%d:%d%n", &m, &s, &n) == 2 && static_cast<std::size_t>(n) == text.size()) {
        return m * 60.0 + s;
    }
    return std::nullopt;
}

}  // namespace

std::optional<WallTime> parse_deadline(const std::string& text, WallTime now) {
    if (text == "auto") return std::nullopt;
    if (text.empty()) reject(text);
    if (text[0] == '+') {
        const std::optional<double> s = duration_seconds(text.substr(1));
        if (!s) reject(text);
        return now + std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(*s));
    }
    if (const std::optional<double> unix_s = number(text)) return from_unix(*unix_s);
    if (const std::optional<WallTime> t = iso_time(text)) return t;
    reject(text);
}

std::optional<JobEnd> job_end_time(std::string* why) {
    std::string looked;
    if (const char* end = std::getenv("SLURM_JOB_END_TIME")) {
        if (const std::optional<double> v = number(end)) return JobEnd{from_unix(*v), "SLURM_JOB_END_TIME"};
        looked += "SLURM_JOB_END_TIME='" + std::string(end) + "' is not unix seconds; ";
    }
    if (const char* id = std::getenv("SLURM_JOB_ID")) {
        if (safe_job_id(id)) {
            const std::string end =
                trim(run_and_read("squeue -h -j '" + std::string(id) + "' -o %e 2>/dev/null"));
            if (const std::optional<WallTime> t = iso_time(end)) {
                return JobEnd{*t, "Slurm job " + std::string(id) + " (squeue)"};
            }
            looked += "squeue gave no end time for Slurm job " + std::string(id) +
                      (end.empty() ? "" : " ('" + end + "')") + "; ";
        }
    } else {
        looked += "SLURM_JOB_ID is not set; ";
    }
    const char* walltime = std::getenv("PBS_WALLTIME");
    const char* pbs_id = std::getenv("PBS_JOBID");
    if (walltime != nullptr && pbs_id != nullptr && safe_job_id(pbs_id)) {
        const std::optional<double> limit = walltime_seconds(walltime);
        const std::string info = run_and_read("qstat -f '" + std::string(pbs_id) + "' 2>/dev/null");
        for (const char* key : {"start_time = ", "stime = "}) {
            const std::size_t at = info.find(key);
            if (at == std::string::npos || !limit) continue;
            const std::string value = trim(info.substr(at + std::string(key).size(),
                                                       info.find('\n', at) - at - std::string(key).size()));
            std::tm tm{};
            tm.tm_isdst = -1;
            if (strptime(value.c_str(), "%a %b %d %H:%M:%S %Y", &tm) != nullptr) {
                const std::time_t start = std::mktime(&tm);
                return JobEnd{from_unix(static_cast<double>(start) + *limit),
                              "PBS job " + std::string(pbs_id) + " (PBS_WALLTIME and qstat)"};
            }
        }
        looked += "PBS_WALLTIME is set but qstat -f gave no start time for " + std::string(pbs_id) + "; ";
    } else {
        looked += "PBS_WALLTIME and PBS_JOBID are not both set; ";
    }
    if (why != nullptr) {
        *why = looked.empty() ? looked : looked.substr(0, looked.size() - 2);
    }
    return std::nullopt;
}

}  // namespace mpisweep
