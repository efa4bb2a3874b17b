#pragma once
// The one checked wrapper around raw MPI calls (Boost.MPI checks its own): a failure throws
// MpiError carrying the routine, the code and MPI's own message.
#include <mpi.h>

#include <stdexcept>
#include <string>

namespace mpisweep {

class MpiError : public std::runtime_error {
public:
    MpiError(const char* routine, int code)
        : std::runtime_error(std::string(routine) + " failed with MPI error " + std::to_string(code) + ": " +
                             error_string(code)),
          code_(code) {}
    int code() const { return code_; }

private:
    static std::string error_string(int code) {
        char text[MPI_MAX_ERROR_STRING];
        int length = 0;
        if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "(no message)";
        return std::string(text, static_cast<std::size_t>(length));
    }
    int code_;
};

}  // namespace mpisweep

#define MPISWEEP_MPI_CHECK(call)                                     \
    do {                                                             \
        const int mpisweep_mpi_status_ = (call);                     \
        if (mpisweep_mpi_status_ != MPI_SUCCESS) {                   \
            throw ::mpisweep::MpiError(#call, mpisweep_mpi_status_); \
        }                                                            \
    } while (0)
