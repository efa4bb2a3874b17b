/* An MPI program swept as a task: it must start as an MPI job of its own (a singleton), not
 * try to join the sweep's job. Writes {"size": ..., "rank": ...} to $MPISWEEP_OUTPUT. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int size = 0, rank = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const char* path = getenv("MPISWEEP_OUTPUT");
    FILE* out = path ? fopen(path, "w") : NULL;
    if (out == NULL) {
        fprintf(stderr, "mpi_task: cannot write $MPISWEEP_OUTPUT\n");
        MPI_Finalize();
        return 1;
    }
    fprintf(out, "{\"size\": %d, \"rank\": %d}\n", size, rank);
    fclose(out);
    MPI_Finalize();
    return 0;
}
