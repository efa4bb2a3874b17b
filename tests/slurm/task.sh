#!/bin/sh
# The task the Slurm tests sweep. It takes its parameters from the environment
# (MPISWEEP_PARAM_X, MPISWEEP_PARAM_Y), so the same task runs from the PBS script, which passes
# no arguments. Each start appends "JOB ATTEMPT" to $MARKS/task-<id> and each finish "JOB done",
# so a test can count how often, and in which job, each task started and finished.
# TASK_SLEEP seconds of work make a sweep last.
echo "${SLURM_JOB_ID:-none} $MPISWEEP_ATTEMPT" >> "$MARKS/task-$MPISWEEP_TASK_ID"
[ -z "$TASK_SLEEP" ] || sleep "$TASK_SLEEP"
x=$MPISWEEP_PARAM_X
y=$MPISWEEP_PARAM_Y
printf '{"x2": %d, "sum": %s, "job": "%s", "cuda": "%s"}\n' "$((x * x))" \
    "$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.17g", x + y }')" "${SLURM_JOB_ID:-none}" \
    "${CUDA_VISIBLE_DEVICES-unset}" > "$MPISWEEP_OUTPUT"
echo "${SLURM_JOB_ID:-none} done" >> "$MARKS/task-$MPISWEEP_TASK_ID"
