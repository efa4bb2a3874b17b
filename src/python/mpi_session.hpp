#pragma once
// MPI in a Python process. The first mpisweep.run() initializes MPI unless someone did
// before (mpi4py imported first), and then finalizes it at interpreter exit (Python's
// atexit): whoever initializes MPI must finalize it, and run() must not, so that a second
// sweep, or mpi4py imported after, still has MPI. Works in either import order.

namespace mpisweep::python {

/// Initializes MPI (thread level MPI_THREAD_SERIALIZED) unless it is already; throws
/// std::runtime_error if it was finalized already. Call with the GIL held.
void ensure_mpi();

/// MPI_Finalize, if ensure_mpi() initialized MPI and nobody finalized it yet.
void finalize_mpi();

}  // namespace mpisweep::python
