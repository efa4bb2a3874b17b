#include "python/mpi_session.hpp"

#include <mpi.h>

#include <pybind11/pybind11.h>
#include <stdexcept>

#include "transport/mpi_check.hpp"

namespace mpisweep::python {
namespace {
bool initialized_here = false;
}  // namespace

void ensure_mpi() {
    namespace py = pybind11;
    int initialized = 0;
    int finalized = 0;
    MPISWEEP_MPI_CHECK(MPI_Initialized(&initialized));
    MPISWEEP_MPI_CHECK(MPI_Finalized(&finalized));
    if (finalized) {
        throw std::runtime_error(
            "MPI was finalized before mpisweep.run() (by mpi4py's MPI.Finalize()?); run the sweeps "
            "first");
    }
    if (initialized) return;
    int provided = 0;
    {
        py::gil_scoped_release release;  // a launcher may take a while to answer
        MPISWEEP_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided));
    }
    initialized_here = true;
    py::module_::import("atexit").attr("register")(py::cpp_function(&finalize_mpi));
}

void finalize_mpi() {
    if (!initialized_here) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
    initialized_here = false;
}

}  // namespace mpisweep::python
