#pragma once
#include <cstdint>

namespace examples {

/// Explicit 1-D heat equation: `cells` cells, diffusion number `alpha`, `steps` steps, from a
/// unit spike in the middle. Returns the peak value at the end. Runs on the current CUDA
/// device when `on_gpu`, else on the CPU (same arithmetic).
double heat_peak(int cells, double alpha, int steps, bool on_gpu);

}  // namespace examples
