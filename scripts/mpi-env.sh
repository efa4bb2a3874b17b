# Sourced by the scripts: lets Open MPI run as root, oversubscribed, on one machine without
# ssh (the settings the ctest MPI tests use too).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
if [ -z "${SLURM_JOB_ID:-}" ]; then export OMPI_MCA_plm=isolated; fi
