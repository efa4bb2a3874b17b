#!/bin/sh
# The program the end-to-end tests sweep: `sweep_task.sh MODE VALUE [ARGS...]`.
# Every invocation appends its attempt number to $COUNT_DIR/task-<id> when COUNT_DIR is set,
# so a test can count how often each task really ran.
mode=$1
value=$2
if [ -n "$COUNT_DIR" ]; then
    echo "$MPISWEEP_ATTEMPT" >> "$COUNT_DIR/task-$MPISWEEP_TASK_ID"
fi
case "$mode" in
    ok)
        echo "ok $value"
        ;;
    json)
        # Numbers (an integer too), a string and an array of numbers.
        printf '{"value": %s, "twice": %s, "label": "v%s", "pair": [%s, 1.5]}\n' \
            "$value" "$((value * 2))" "$value" "$value" > "$MPISWEEP_OUTPUT"
        ;;
    sleep)
        sleep "$value"
        printf '{"slept": %s}\n' "$value" > "$MPISWEEP_OUTPUT"
        # A task counts as finished (for tests that watch a running sweep) from here on.
        if [ -n "$DONE_DIR" ]; then : > "$DONE_DIR/task-$MPISWEEP_TASK_ID"; fi
        ;;
    crash)
        echo "about to crash on $value" >&2
        kill -SEGV $$
        ;;
    fail)
        # Which invocation of this task this is (1, 2, ... across runs), for `mpisweep log`.
        if [ -n "$COUNT_DIR" ]; then echo "invocation $(wc -l < "$COUNT_DIR/task-$MPISWEEP_TASK_ID")"; fi
        echo "first line of stderr" >&2
        echo "something went wrong with $value" >&2
        exit 3
        ;;
    hang)
        echo "hanging" >&2
        sleep 1000 &
        echo $! > "$COUNT_DIR/grandchild-$MPISWEEP_TASK_ID"
        sleep 1000
        ;;
    loss)
        # loss = (x - 2)^2 + y; x = 4 and y = 1.5 fails, so a sweep has one failure.
        if [ "$value" = 4 ] && [ "$3" = 1.5 ]; then
            echo "refusing x=4, y=1.5" >&2
            exit 3
        fi
        loss=$(awk -v x="$value" -v y="$3" 'BEGIN { printf "%.17g", (x - 2) * (x - 2) + y }')
        printf '{"loss": %s, "tag": "t%s"}\n' "$loss" "$value" > "$MPISWEEP_OUTPUT"
        ;;
    slowfirst)
        # The first attempt hangs (until it is killed); a later copy is quick.
        if [ "$MPISWEEP_ATTEMPT" = 1 ]; then
            echo $$ > "$COUNT_DIR/slow-$MPISWEEP_TASK_ID"
            sleep 1000 &
            echo $! > "$COUNT_DIR/grandchild-$MPISWEEP_TASK_ID"
            wait
        fi
        printf '{"value": %s}\n' "$value" > "$MPISWEEP_OUTPUT"
        ;;
    wait)
        # Runs until it is killed, with a background child: both pids recorded.
        sleep 1000 &
        echo "$$ $!" > "$COUNT_DIR/running-$MPISWEEP_TASK_ID"
        wait
        ;;
    nap)
        # Sleeps VALUE seconds (NAP_SECONDS if set: a resumed sweep must give the same
        # command) in a child, both pids in pid-<task>.<attempt>; then a result.
        value=${NAP_SECONDS:-$value}
        sleep "$value" &
        echo "$$ $!" > "$COUNT_DIR/pid-$MPISWEEP_TASK_ID.$MPISWEEP_ATTEMPT"
        wait $!
        printf '{"slept": %s}\n' "$value" > "$MPISWEEP_OUTPUT"
        ;;
    stubborn)
        # Like nap, but SIGTERM is ignored (by its child too): only SIGKILL ends it.
        trap '' TERM
        value=${NAP_SECONDS:-$value}
        sleep "$value" &
        echo "$$ $!" > "$COUNT_DIR/pid-$MPISWEEP_TASK_ID.$MPISWEEP_ATTEMPT"
        wait $!
        ;;
    curve)
        # A training curve that stops early: VALUE = x, $3 = seed; length 1 + (7x + 13 seed) % 8,
        # element k = (k - x)^2 + seed / 2 (lowest at k = x when it gets there); loss = the last
        # element; converged = the curve reached 5 points (a bool).
        awk -v x="$value" -v seed="$3" 'BEGIN {
            n = 1 + (7 * x + 13 * seed) % 8
            printf "{\"curve\": ["
            for (k = 0; k < n; k++) { v = (k - x) * (k - x) + seed / 2; printf "%s%.17g", (k ? ", " : ""), v }
            printf "], \"loss\": %.17g, \"converged\": %s}\n", v, (n >= 5 ? "true" : "false")
        }' > "$MPISWEEP_OUTPUT"
        ;;
    badjson)
        printf '{"value": %s,\n "oops": }\n' "$value" > "$MPISWEEP_OUTPUT"
        ;;
    args)
        # Every argument after MODE, separated by a unit separator, as a JSON string field.
        shift
        /usr/bin/python3 -c 'import json, os, sys; json.dump({"args": "\x1f".join(sys.argv[1:]), "env_value": os.environ.get("MPISWEEP_PARAM_VALUE", "")}, open(os.environ["MPISWEEP_OUTPUT"], "w"))' "$@"
        ;;
    *)
        echo "sweep_task.sh: unknown mode '$mode'" >&2
        exit 64
        ;;
esac
