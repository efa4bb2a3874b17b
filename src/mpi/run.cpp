// Placeholder until the MPI transport lands.
#include "mpisweep/mpisweep.hpp"
