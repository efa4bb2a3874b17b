#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cuda_kernel.hpp"

namespace {

__global__ void heat_step(const double* u, double* next, int cells, double alpha) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= 0 || i >= cells - 1) {
        if (i == 0 || i == cells - 1) next[i] = 0.0;
        return;
    }
    next[i] = u[i] + alpha * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
}

void check(cudaError_t status, const char* what) {
    if (status != cudaSuccess) {
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
    }
}

double heat_peak_cpu(int cells, double alpha, int steps) {
    std::vector<double> u(static_cast<size_t>(cells), 0.0), next(u.size(), 0.0);
    u[static_cast<size_t>(cells / 2)] = 1.0;
    for (int s = 0; s < steps; ++s) {
        for (int i = 1; i < cells - 1; ++i) next[i] = u[i] + alpha * (u[i - 1] - 2 * u[i] + u[i + 1]);
        std::swap(u, next);
    }
    double peak = 0;
    for (double v : u) peak = v > peak ? v : peak;
    return peak;
}

}  // namespace

namespace examples {

double heat_peak(int cells, double alpha, int steps, bool on_gpu) {
    if (!on_gpu) return heat_peak_cpu(cells, alpha, steps);
    std::vector<double> host(static_cast<size_t>(cells), 0.0);
    host[static_cast<size_t>(cells / 2)] = 1.0;
    double *u = nullptr, *next = nullptr;
    const size_t bytes = host.size() * sizeof(double);
    check(cudaMalloc(&u, bytes), "cudaMalloc");
    check(cudaMalloc(&next, bytes), "cudaMalloc");
    check(cudaMemcpy(u, host.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemset(next, 0, bytes), "cudaMemset");
    const int threads = 256, blocks = (cells + threads - 1) / threads;
    for (int s = 0; s < steps; ++s) {
        heat_step<<<blocks, threads>>>(u, next, cells, alpha);
        std::swap(u, next);
    }
    check(cudaGetLastError(), "heat_step");
    check(cudaMemcpy(host.data(), u, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
    cudaFree(u);
    cudaFree(next);
    double peak = 0;
    for (double v : host) peak = v > peak ? v : peak;
    return peak;
}

}  // namespace examples
