#!/bin/sh
# The program the fault tests sweep: `fault_task.sh MODE VALUE`. It keeps its own execution
# log, the witness of exactly-once that does not depend on mpisweep: one line when it starts
# and one when it has finished its work (result written), appended to $EXEC_LOG:
#   start|end TASK_ID ATTEMPT PID HOST
# and its pids (itself and its child) in $RUN_DIR/pid-TASK.ATTEMPT while it runs.
mode=$1
value=$2
host=$(hostname)
log() {
    [ -n "$EXEC_LOG" ] && echo "$1 $MPISWEEP_TASK_ID $MPISWEEP_ATTEMPT $$ $host" >> "$EXEC_LOG"
}
log start
case "$mode" in
    nap)
        # Sleeps VALUE seconds in a child, so that a test can see both processes.
        sleep "$value" &
        [ -n "$RUN_DIR" ] && echo "$$ $!" > "$RUN_DIR/pid-$MPISWEEP_TASK_ID.$MPISWEEP_ATTEMPT"
        wait $!
        ;;
    quick)
        ;;
    short)
        # 20-60 ms by task id: a sweep of short commands whose results come in a steady stream.
        sleep "0.0$((2 + MPISWEEP_TASK_ID % 5))"
        ;;
    staged|loud)
        # Task i waits until the test opens gate i / VALUE ($RUN_DIR/gate-K), then naps 0.1 s:
        # a sweep that cannot get past a stage before the test has done what it wanted there,
        # however fast or slow the machine is. `loud` first writes 20 KB to stdout (a sweep
        # whose task output fills a disk).
        [ "$mode" = loud ] && { head -c 20000 /dev/zero | tr '\0' x; echo; }
        stage=$((MPISWEEP_TASK_ID / value))
        [ -n "$RUN_DIR" ] && echo "$$" > "$RUN_DIR/pid-$MPISWEEP_TASK_ID.$MPISWEEP_ATTEMPT"
        while [ ! -e "$RUN_DIR/gate-$stage" ]; do sleep 0.02; done
        sleep 0.1
        ;;
    *)
        echo "fault_task.sh: unknown mode '$mode'" >&2
        exit 64
        ;;
esac
# $RUN_DIR/blob, when a test wrote it, holds a byte count: the result gets a string "blob"
# that long (results that fill the disk of the results file).
if [ -n "$RUN_DIR" ] && [ -s "$RUN_DIR/blob" ]; then
    blob=$(head -c "$(cat "$RUN_DIR/blob")" /dev/zero | tr '\0' b)
    printf '{"pid": %s, "value": %s, "blob": "%s"}\n' "$$" "$value" "$blob" > "$MPISWEEP_OUTPUT" || exit 70
else
    printf '{"pid": %s, "value": %s}\n' "$$" "$value" > "$MPISWEEP_OUTPUT" || exit 70
fi
log end
