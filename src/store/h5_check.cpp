#include "store/h5_check.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string_view>

namespace mpisweep::h5 {

namespace {

std::string message_text(hid_t message_id) {
    if (message_id < 0) return {};
    char text[256] = {};
    H5E_type_t type{};
    if (H5Eget_msg(message_id, &type, text, sizeof text) < 0) return {};
    return text;
}

herr_t append_frame(unsigned /*depth*/, const H5E_error2_t* frame, void* out) {
    auto& stack = *static_cast<std::string*>(out);
    if (!stack.empty()) stack += "; ";
    stack += frame->func_name ? frame->func_name : "?";
    stack += "(): ";
    std::string description = frame->desc && *frame->desc ? frame->desc : message_text(frame->min_num);
    // Some descriptions embed ctime() output with its newline: keep the message on one line.
    description.erase(std::remove(description.begin(), description.end(), '\n'), description.end());
    stack += description;
    return 0;
}

}  // namespace

H5Error::H5Error(std::string routine, long long code, std::string stack, int system_error)
    : std::runtime_error("HDF5 " + routine + " failed (returned " + std::to_string(code) + ")" +
                         (stack.empty() ? std::string() : ": " + stack)),
      routine_(std::move(routine)),
      code_(code),
      stack_(std::move(stack)),
      system_error_(system_error) {}

int system_error_of(const std::string& stack, int errno_after) {
    // The driver's own report is the one to trust: it names the call that failed. errno
    // after the call is a fallback (a driver that does not say), read before anything else.
    static constexpr std::string_view kKey = "errno = ";
    const std::size_t at = stack.find(kKey);
    if (at != std::string::npos) {
        const char* first = stack.data() + at + kKey.size();
        int value = 0;
        const auto [end, error] = std::from_chars(first, stack.data() + stack.size(), value);
        if (error == std::errc() && value > 0) return value;
    }
    return errno_after;
}

std::string take_error_stack() {
    std::string stack;
    // Outermost call first: the API routine the caller made, then where inside HDF5 it broke.
    (void)H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, &append_frame, &stack);
    (void)H5Eclear2(H5E_DEFAULT);
    return stack;
}

SilenceErrors::SilenceErrors() {
    saved_ = H5Eget_auto2(H5E_DEFAULT, &function_, &data_) >= 0;
    (void)H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

SilenceErrors::~SilenceErrors() {
    if (saved_) (void)H5Eset_auto2(H5E_DEFAULT, function_, data_);
}

void throw_h5_error(const char* routine, long long code) {
    const int errno_after = errno;  // before the walk of the error stack can change it
    std::string stack = take_error_stack();
    const int system_error = system_error_of(stack, errno_after);
    throw H5Error(routine, code, std::move(stack), system_error);
}

}  // namespace mpisweep::h5
