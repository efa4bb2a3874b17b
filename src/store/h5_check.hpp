#pragma once
// The one wrapper around the HDF5 C API: every call goes through H5_CHECK, which turns a
// negative return into an H5Error carrying the routine, the code and HDF5's own error
// stack; and RAII handles close every hid_t (never throwing from a destructor).
#include <hdf5.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <utility>

namespace mpisweep::h5 {

/// A failed HDF5 call. what(): "HDF5 H5Dwrite failed (returned -1): <HDF5's error stack>".
class H5Error : public std::runtime_error {
public:
    H5Error(std::string routine, long long code, std::string stack, int system_error = 0);
    const std::string& routine() const { return routine_; }
    long long code() const { return code_; }
    /// HDF5's own messages, outermost call first, joined by "; ".
    const std::string& stack() const { return stack_; }
    /// The errno of the system call that failed inside HDF5 (a full disk: ENOSPC), 0 when
    /// none did: see system_error_of().
    int system_error() const { return system_error_; }

private:
    std::string routine_;
    long long code_;
    std::string stack_;
    int system_error_ = 0;
};

/// The errno behind a failed HDF5 call: the "errno = N" its file driver wrote into its message
/// (sec2: "file write failed: ..., errno = 28, error message = 'No space left on device'"),
/// else `errno_after`, errno as the call left it (H5_CHECK sets it to 0 before the call, so
/// it is the call's own), 0 when neither says.
int system_error_of(const std::string& stack, int errno_after);

/// Collects the messages on HDF5's default error stack (then clears it).
std::string take_error_stack();

/// While it lives, HDF5 does not print its error stack to stderr by itself (errors reach the
/// user once, as an exception, instead of as a page of HDF5 trace); then the printing the
/// program had before is back, as HighFive's SilenceHDF5 does. Every entry point of the
/// store that calls HDF5 holds one: the library never changes the process's setting for good.
class SilenceErrors {
public:
    SilenceErrors();
    ~SilenceErrors();
    SilenceErrors(const SilenceErrors&) = delete;
    SilenceErrors& operator=(const SilenceErrors&) = delete;

private:
    H5E_auto2_t function_ = nullptr;
    void* data_ = nullptr;
    bool saved_ = false;
};

[[noreturn]] void throw_h5_error(const char* routine, long long code);

/// Returns `result` unless it is negative (HDF5's failure convention for herr_t, hid_t,
/// htri_t, hssize_t), in which case it throws H5Error.
template <class T>
T checked(T result, const char* routine) {
    if (result < 0) throw_h5_error(routine, static_cast<long long>(result));
    return result;
}

}  // namespace mpisweep::h5

/// H5_CHECK(H5Dwrite, dset, ...) calls H5Dwrite(dset, ...) and throws H5Error on failure.
/// errno is cleared first, so that an errno left after a failure is this call's.
#define H5_CHECK(routine, ...) ::mpisweep::h5::checked((errno = 0, routine(__VA_ARGS__)), #routine)

namespace mpisweep::h5 {

/// Owns one hid_t and closes it with `Close`. Move-only. The destructor ignores a failing
/// close: nothing useful can be done about it there, and it must not throw.
template <herr_t (*Close)(hid_t)>
class Handle {
public:
    Handle() = default;
    explicit Handle(hid_t id) : id_(id) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, H5I_INVALID_HID);
        }
        return *this;
    }
    ~Handle() { reset(); }

    hid_t get() const { return id_; }
    explicit operator bool() const { return id_ >= 0; }
    void reset() noexcept {
        if (id_ >= 0) (void)Close(id_);
        id_ = H5I_INVALID_HID;
    }
    /// Closes now and reports a failure (used where a failed close loses data: files).
    void close() {
        if (id_ < 0) return;
        hid_t id = std::exchange(id_, H5I_INVALID_HID);
        checked(Close(id), close_routine());
    }

private:
    static const char* close_routine() {
        if (Close == &H5Fclose) return "H5Fclose";
        if (Close == &H5Dclose) return "H5Dclose";
        if (Close == &H5Gclose) return "H5Gclose";
        return "H5Xclose";
    }
    hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using PropList = Handle<H5Pclose>;
using Attribute = Handle<H5Aclose>;

}  // namespace mpisweep::h5
