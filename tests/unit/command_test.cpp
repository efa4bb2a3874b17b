// The command runner with real child processes: small shell scripts written by each test.
#include "mpisweep/command.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

#include "exec/command_capture.hpp"
#include "exec/command_env.hpp"
#include "exec/command_output.hpp"
#include "exec/task_log_reader.hpp"
#include "exec/template.hpp"
#include "platform/child_process.hpp"
#include "platform/guardian.hpp"

namespace fs = std::filesystem;
using namespace mpisweep;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// True while `pid` exists and is not a zombie (a killed grandchild may wait for its reaper).
bool process_alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

bool eventually_dead(pid_t pid) {
    for (int i = 0; i < 200; ++i) {
        if (!process_alive(pid)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// The pid a script wrote with `echo $! > file`; waits until the line is complete (the shell
// creates the file before it writes to it).
pid_t read_pid(const fs::path& path) {
    std::string text;
    for (int i = 0; i < 500; ++i) {
        text = fs::exists(path) ? read_text(path) : "";
        if (!text.empty() && text.back() == '\n') break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return static_cast<pid_t>(std::stol(text));
}

class CommandTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "mpisweep-command-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    // Writes an executable /bin/sh script and returns its path.
    std::string script(const std::string& name, const std::string& body) {
        const fs::path path = dir_ / name;
        std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
        fs::permissions(path, fs::perms::owner_all);
        return path.string();
    }

    CommandSpec spec(std::vector<std::string> argv) {
        CommandSpec s;
        s.argv = std::move(argv);
        s.log_dir = (dir_ / "logs").string();
        s.kill_grace_s = 0.3;
        return s;
    }

    // Runs one task of a command over a one-point grid {names} = {values}.
    TaskResult run_task(const CommandSpec& s, std::vector<std::string> names = {},
                        std::vector<Value> values = {}, std::function<bool()> cancel = {},
                        std::uint64_t task_id = 7, int attempt = 1) {
        auto shared_names = std::make_shared<const std::vector<std::string>>(names);
        Point point(shared_names, std::move(values));
        TaskFunction task = make_command_task(s, names);
        TaskContext ctx(TaskId(task_id), attempt, point, worker_, std::move(cancel));
        return task(ctx);
    }

    // The TaskFailure a task throws; fails the test if it throws nothing or something else.
    TaskFailure failure_of(const CommandSpec& s, std::vector<std::string> names = {},
                           std::vector<Value> values = {}) {
        try {
            run_task(s, std::move(names), std::move(values));
        } catch (const TaskFailure& f) {
            return f;
        } catch (const std::exception& e) {
            ADD_FAILURE() << "expected TaskFailure, got: " << e.what();
            return TaskFailure("", -9999);
        }
        ADD_FAILURE() << "expected TaskFailure, the task succeeded";
        return TaskFailure("", -9999);
    }

    fs::path dir_;
    WorkerInfo worker_;
};

// ---------------------------------------------------------------- results

TEST_F(CommandTest, JsonWrittenToOutputBecomesResultFields) {
    const auto prog = script("ok.sh", R"(cat > "$MPISWEEP_OUTPUT" <<'EOF'
{"loss": 0.25, "epochs": 3, "converged": true, "tag": "a b", "curve": [1, 2.5], "skipped": null}
EOF)");
    const TaskResult r = run_task(spec({prog}));
    EXPECT_EQ(std::get<double>(r.at("loss")), 0.25);
    // Integers are numbers like any other, so a column never flips between int and float.
    EXPECT_EQ(std::get<double>(r.at("epochs")), 3.0);
    EXPECT_EQ(std::get<bool>(r.at("converged")), true);  // a bool column
    EXPECT_EQ(std::get<std::string>(r.at("tag")), "a b");
    EXPECT_EQ(std::get<std::vector<double>>(r.at("curve")), (std::vector<double>{1, 2.5}));
    EXPECT_EQ(r.count("skipped"), 0u);
    EXPECT_EQ(r.size(), 5u);
    // The result file is not in the log folder (it is on node-local storage, read and
    // removed), and a success that printed nothing makes no log folder at all.
    EXPECT_FALSE(fs::exists(dir_ / "logs"));
}

// Output streams hold what tasks print and how failed attempts ended: a sweep of tasks that
// print nothing and succeed (or are cancelled) makes no stream file and no log folder.
TEST_F(CommandTest, OnlyOutputAndFailedEndsAreLogged) {
    const CommandSpec silent = spec({"true"});
    for (int i = 0; i < 3; ++i) run_task(silent, {}, {}, {}, 7 + i);
    EXPECT_FALSE(fs::exists(silent.log_dir)) << "three silent successes";
    const CommandSpec waits = spec({"sleep", "5"});
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(run_task(waits, {}, {}, [start] { return seconds_since(start) > 0.1; }), TaskCancelled);
    EXPECT_FALSE(fs::exists(waits.log_dir)) << "a silent cancelled copy";

    const CommandSpec failing = spec({script("fail.sh", "exit 3")});
    EXPECT_EQ(failure_of(failing).exit_code(), 3);
    const detail::TaskLog failed = detail::read_task_log(failing.log_dir, 7);
    ASSERT_EQ(failed.attempts.size(), 1u) << "a silent failure is recorded";
    ASSERT_TRUE(failed.attempts[0].end.has_value());
    EXPECT_EQ(failed.attempts[0].end->end, detail::AttemptEnd::Failed);
    EXPECT_EQ(failed.attempts[0].end->exit_code, 3);

    const CommandSpec loud = spec({script("loud.sh", "echo hello")});
    run_task(loud, {}, {}, {}, 11);
    const detail::TaskLog printed = detail::read_task_log(loud.log_dir, 11);
    ASSERT_EQ(printed.attempts.size(), 1u) << "a success that printed is recorded";
    ASSERT_TRUE(printed.attempts[0].end.has_value());
    EXPECT_EQ(printed.attempts[0].end->end, detail::AttemptEnd::Done);
    EXPECT_EQ(printed.attempts[0].bytes[0], 6u);
}

TEST_F(CommandTest, PythonStyleNanAndInfinityAreAccepted) {
    const auto prog = script(
        "nan.sh",
        R"(echo '{"loss": NaN, "best": -Infinity, "s": "NaN", "v": [Infinity, 1]}' > "$MPISWEEP_OUTPUT")");
    const TaskResult r = run_task(spec({prog}));
    EXPECT_TRUE(std::isnan(std::get<double>(r.at("loss"))));
    EXPECT_EQ(std::get<double>(r.at("best")), -INFINITY);
    EXPECT_EQ(std::get<std::string>(r.at("s")), "NaN");  // a string stays a string
    EXPECT_EQ(std::get<std::vector<double>>(r.at("v")), (std::vector<double>{INFINITY, 1}));
}

TEST_F(CommandTest, NoOutputFileAfterExitZeroIsDoneWithoutResults) {
    EXPECT_TRUE(run_task(spec({script("quiet.sh", "exit 0")})).empty());
}

TEST_F(CommandTest, ResultFileOfAnEarlierCallIsNotTaken) {
    // One runner, the same task and attempt twice: the second program writes nothing.
    const auto s = spec({script("once.sh", R"([ -e "$0.ran" ] && exit 0
touch "$0.ran"; echo '{"loss": 99}' > "$MPISWEEP_OUTPUT")")});
    auto names = std::make_shared<const std::vector<std::string>>();
    Point point(names, {});
    TaskFunction task = make_command_task(s, {});
    TaskContext ctx(TaskId(7), 1, point, worker_);
    EXPECT_EQ(task(ctx).size(), 1u);
    EXPECT_TRUE(task(ctx).empty());
}

TEST_F(CommandTest, MalformedJsonFailsNamingFileAndPosition) {
    const auto prog = script("bad.sh", R"(printf '{"loss": 0.5,\n "acc": }' > "$MPISWEEP_OUTPUT")");
    const TaskFailure f = failure_of(spec({prog}));
    EXPECT_EQ(f.exit_code(), 0);
    const std::string msg = f.what();
    EXPECT_NE(msg.find("task-7.attempt-1.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("malformed JSON"), std::string::npos) << msg;
    EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
}

TEST_F(CommandTest, NestedObjectFailsNamingTheField) {
    const auto prog = script("nested.sh", R"(echo '{"loss": 1, "extra": {"a": 1}}' > "$MPISWEEP_OUTPUT")");
    const std::string msg = failure_of(spec({prog})).what();
    EXPECT_NE(msg.find("field 'extra' is object"), std::string::npos) << msg;
}

TEST_F(CommandTest, ArrayOfNonNumbersFailsNamingFieldAndElement) {
    const auto prog = script("arr.sh", R"(echo '{"v": [1, "x"]}' > "$MPISWEEP_OUTPUT")");
    const std::string msg = failure_of(spec({prog})).what();
    EXPECT_NE(msg.find("field 'v': element 1 is string"), std::string::npos) << msg;
}

TEST_F(CommandTest, JsonThatIsNotAnObjectFails) {
    const auto prog = script("list.sh", R"(echo '[1, 2]' > "$MPISWEEP_OUTPUT")");
    const std::string msg = failure_of(spec({prog})).what();
    EXPECT_NE(msg.find("expected a JSON object"), std::string::npos) << msg;
    EXPECT_NE(msg.find("got array"), std::string::npos) << msg;
}

TEST_F(CommandTest, StdoutJsonTakesTheLastNonEmptyLine) {
    const auto prog = script("print.sh", R"(echo 'epoch 1 {"loss": 9}'
echo '{"loss": 1.5, "name": "final"}'
echo ''
echo '   ')");
    auto s = spec({prog});
    s.stdout_json = true;
    const TaskResult r = run_task(s);
    EXPECT_EQ(std::get<double>(r.at("loss")), 1.5);
    EXPECT_EQ(std::get<std::string>(r.at("name")), "final");
}

TEST_F(CommandTest, StdoutJsonWithoutJsonLastLineFails) {
    auto s = spec({script("text.sh", R"(echo '{"loss": 1}'; echo 'done.')")});
    s.stdout_json = true;
    const std::string msg = failure_of(s).what();
    EXPECT_NE(msg.find("last line of stdout"), std::string::npos) << msg;
    EXPECT_NE(msg.find("malformed JSON"), std::string::npos) << msg;

    s.argv = {script("silent.sh", "exit 0")};
    const std::string empty_msg = failure_of(s).what();
    EXPECT_NE(empty_msg.find("stdout is empty"), std::string::npos) << empty_msg;
}

// ---------------------------------------------------------------- failures

TEST_F(CommandTest, NonZeroExitFailsWithExitCodeAndStderrTail) {
    const auto prog = script("fail.sh", R"(i=1
while [ $i -le 30 ]; do echo "problem $i" >&2; i=$((i+1)); done
exit 3)");
    const TaskFailure f = failure_of(spec({prog}));
    EXPECT_EQ(f.exit_code(), 3);
    const std::string msg = f.what();
    EXPECT_EQ(msg.rfind("exit code 3", 0), 0u) << msg;
    EXPECT_NE(msg.find("problem 30"), std::string::npos) << msg;
    EXPECT_NE(msg.find("problem 11\n"), std::string::npos) << msg;  // the last 20 lines
    EXPECT_EQ(msg.find("problem 10\n"), std::string::npos) << msg;
}

TEST_F(CommandTest, StderrTailIsLimitedInBytes) {
    const auto prog = script("long.sh", R"(i=0
while [ $i -lt 200 ]; do echo "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx $i" >&2; i=$((i+1)); done
exit 1)");
    auto s = spec({prog});
    s.error_tail_lines = 1000;
    const std::string msg = failure_of(s).what();
    EXPECT_LE(msg.size(), s.error_tail_bytes + 300);
    EXPECT_NE(msg.find(" 199"), std::string::npos);
}

TEST_F(CommandTest, SegfaultIsMinusSignalNumber) {
    const TaskFailure f = failure_of(spec({script("segv.sh", "echo dying >&2; kill -SEGV $$")}));
    EXPECT_EQ(f.exit_code(), -SIGSEGV);
    const std::string msg = f.what();
    EXPECT_NE(msg.find("signal 11 (SIGSEGV)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dying"), std::string::npos) << msg;
}

TEST_F(CommandTest, MissingProgramFailsWith127) {
    const TaskFailure f = failure_of(spec({"mpisweep-no-such-program-xyz"}));
    EXPECT_EQ(f.exit_code(), 127);
    EXPECT_NE(std::string(f.what()).find("cannot run 'mpisweep-no-such-program-xyz'"), std::string::npos);
}

TEST_F(CommandTest, ProgramNameIsSearchedInPathLikeAShellWould) {
    // A program given by name runs from the first folder of PATH that has it, every time.
    fs::create_directories(dir_ / "bin");
    const fs::path tool = dir_ / "bin" / "mpisweep-test-tool";
    std::ofstream(tool) << "#!/bin/sh\nprintf '{\"arg\": %s}' \"$1\" > \"$MPISWEEP_OUTPUT\"\n";
    fs::permissions(tool, fs::perms::owner_all);
    const std::string old_path = std::getenv("PATH");
    ::setenv("PATH", ((dir_ / "bin").string() + ":" + old_path).c_str(), 1);
    const CommandSpec s = spec({"mpisweep-test-tool", "{x}"});
    const TaskResult first = run_task(s, {"x"}, {Value(std::int64_t{5})});
    const TaskResult second = run_task(s, {"x"}, {Value(std::int64_t{6})});
    ::setenv("PATH", old_path.c_str(), 1);
    EXPECT_EQ(std::get<double>(first.at("arg")), 5.0);
    EXPECT_EQ(std::get<double>(second.at("arg")), 6.0);
}

TEST_F(CommandTest, ProgramFoundInPathSeesItsNameAsTypedInArgv0) {
    // Multi-call programs (busybox) dispatch on argv[0]: it stays "sh", not "/usr/bin/sh".
    // \173 and \175 are the braces of the JSON object (braces are placeholders here).
    const TaskResult r = run_task(spec({"sh", "-c",
                                        "printf '\\173\"argv0_is_sh\": %s\\175' $([ \"$0\" = sh ] && echo 1 "
                                        "|| echo 0) > \"$MPISWEEP_OUTPUT\""}));
    EXPECT_EQ(std::get<double>(r.at("argv0_is_sh")), 1.0);
}

TEST_F(CommandTest, TimeoutKillsTheWholeProcessGroup) {
    const auto prog =
        script("hang.sh", "sleep 100 &\necho $! > " + (dir_ / "grandchild.pid").string() + "\nsleep 100");
    auto s = spec({prog});
    s.timeout_s = 0.3;
    const auto start = std::chrono::steady_clock::now();
    const TaskFailure f = failure_of(s);
    EXPECT_LT(seconds_since(start), 3.0);
    EXPECT_EQ(f.exit_code(), -SIGTERM);
    EXPECT_NE(std::string(f.what()).find("timed out after 0.3 s"), std::string::npos) << f.what();
    EXPECT_TRUE(eventually_dead(read_pid(dir_ / "grandchild.pid")));
}

TEST_F(CommandTest, TimeoutEscalatesToSigkillWhenTermIsIgnored) {
    auto s = spec({script("stubborn.sh", "trap '' TERM\nwhile :; do sleep 0.05; done")});
    s.timeout_s = 0.2;
    s.kill_grace_s = 0.2;
    const auto start = std::chrono::steady_clock::now();
    const TaskFailure f = failure_of(s);
    EXPECT_EQ(f.exit_code(), -SIGKILL);
    EXPECT_GE(seconds_since(start), 0.4);
    EXPECT_LT(seconds_since(start), 3.0);
}

TEST_F(CommandTest, CancelStopsTheGroupAndThrowsTaskCancelled) {
    const auto prog =
        script("long.sh", "sleep 100 &\necho $! > " + (dir_ / "grandchild.pid").string() + "\nsleep 100");
    const auto start = std::chrono::steady_clock::now();
    auto cancel = [start] { return seconds_since(start) > 0.2; };
    EXPECT_THROW(run_task(spec({prog}), {}, {}, cancel), TaskCancelled);
    EXPECT_LT(seconds_since(start), 3.0);
    EXPECT_TRUE(eventually_dead(read_pid(dir_ / "grandchild.pid")));
}

TEST_F(CommandTest, AlreadyCancelledTaskStartsNothing) {
    const auto marker = dir_ / "ran";
    const auto prog = script("mark.sh", "touch " + marker.string());
    EXPECT_THROW(run_task(spec({prog}), {}, {}, [] { return true; }), TaskCancelled);
    EXPECT_FALSE(fs::exists(marker));
}

TEST_F(CommandTest, BackgroundProcessLeftAfterExitIsKilled) {
    const auto prog = script("leak.sh", "sleep 100 &\necho $! > " + (dir_ / "grandchild.pid").string());
    EXPECT_TRUE(run_task(spec({prog})).empty());
    EXPECT_TRUE(eventually_dead(read_pid(dir_ / "grandchild.pid")));
}

// ---------------------------------------------------------------- arguments and environment

TEST_F(CommandTest, ValuesWithShellCharactersArriveAsSingleArguments) {
    const auto args_file = dir_ / "args.bin";
    const auto prog = script("args.sh", "printf '%s\\0' \"$@\" > " + args_file.string());
    const std::string m1 = (dir_ / "m1").string(), m2 = (dir_ / "m2").string(), m3 = (dir_ / "m3").string();
    const std::vector<std::string> names = {"a", "b", "c", "d"};
    const std::vector<Value> values = {std::string("x y; touch " + m1), std::string("$(touch " + m2 + ")"),
                                       std::string("`touch " + m3 + "`"),
                                       std::string("it's \"quoted\" | cat > /dev/null &")};
    run_task(spec({prog, "{a}", "--b={b}", "{c}", "{d}", "plain"}), names, values);
    const std::string got = read_text(args_file);
    const std::string expected =
        std::get<std::string>(values[0]) + '\0' + "--b=" + std::get<std::string>(values[1]) + '\0' +
        std::get<std::string>(values[2]) + '\0' + std::get<std::string>(values[3]) + '\0' + "plain" + '\0';
    EXPECT_EQ(got, expected);
    EXPECT_FALSE(fs::exists(m1));
    EXPECT_FALSE(fs::exists(m2));
    EXPECT_FALSE(fs::exists(m3));
}

TEST_F(CommandTest, ShellModeRunsAPipeline) {
    auto s = spec({"echo", "{word}", "|", "tr", "a-z", "A-Z", ">", (dir_ / "out.txt").string()});
    s.shell = true;
    run_task(s, {"word"}, {std::string("hello")});
    EXPECT_EQ(read_text(dir_ / "out.txt"), "HELLO\n");
}

TEST_F(CommandTest, BuiltinPlaceholdersAndTypedValues) {
    auto s = spec({script("p.sh", R"(printf '{"args": "%s"}' "$*" > "$MPISWEEP_OUTPUT")"), "{task_id}",
                   "{attempt}", "{device}", "{lr}", "{n}", "{flag}", "{{lit}}"});
    const TaskResult r = run_task(s, {"lr", "n", "flag"}, {0.1, std::int64_t{-3}, true}, {}, 42, 2);
    EXPECT_EQ(std::get<std::string>(r.at("args")), "42 2 -1 0.1 -3 true {lit}");
}

TEST_F(CommandTest, ChildEnvironmentHasTaskAndParameters) {
    const auto prog = script("env.sh", R"(cat > "$MPISWEEP_OUTPUT" <<EOF
{"id": "$MPISWEEP_TASK_ID", "attempt": "$MPISWEEP_ATTEMPT", "lr": "$MPISWEEP_PARAM_LEARNING_RATE",
 "name": "$MPISWEEP_PARAM_RUN_NAME", "device": "$MPISWEEP_DEVICE", "extra": "$MY_SETTING"}
EOF)");
    auto s = spec({prog});
    s.env = {{"MY_SETTING", "on"}};
    const TaskResult r = run_task(s, {"learning_rate", "run-name"}, {0.001, std::string("x")}, {}, 5, 3);
    EXPECT_EQ(std::get<std::string>(r.at("id")), "5");
    EXPECT_EQ(std::get<std::string>(r.at("attempt")), "3");
    EXPECT_EQ(std::get<std::string>(r.at("lr")), "0.001");
    EXPECT_EQ(std::get<std::string>(r.at("name")), "x");
    EXPECT_EQ(std::get<std::string>(r.at("device")), "-1");
    EXPECT_EQ(std::get<std::string>(r.at("extra")), "on");
}

TEST_F(CommandTest, OutputPathIsAbsoluteForAProgramThatChangesFolder) {
    const fs::path previous = fs::current_path();
    fs::current_path(dir_);
    CommandSpec s = spec({script("cd.sh", R"(cd / && echo hi && echo '{"ok": 1}' > "$MPISWEEP_OUTPUT")")});
    s.log_dir = "relative-logs";
    TaskResult r;
    EXPECT_NO_THROW(r = run_task(s));
    fs::current_path(previous);
    EXPECT_EQ(std::get<double>(r.at("ok")), 1.0);
    EXPECT_TRUE(fs::is_directory(dir_ / "relative-logs"));  // relative to where the runner was made
    EXPECT_FALSE(fs::exists(fs::path("/relative-logs")));
}

TEST(CommandEnvironment, CudaVisibleDevicesFollowsTheWorker) {
    auto names = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"x"});
    Point point(names, {std::int64_t{1}});
    auto find = [](const detail::EnvironmentOverrides& env, const std::string& key) -> const std::string* {
        const std::string* found = nullptr;
        for (const auto& kv : env)
            if (kv.first == key) found = &kv.second;  // the last one wins
        return found;
    };
    WorkerInfo gpu;
    gpu.device = 1;
    gpu.visible_device = "GPU-abc";
    gpu.devices = {1};
    gpu.visible_devices = {"GPU-abc"};
    gpu.node_gpus = 2;
    TaskContext on_gpu(TaskId(0), 1, point, gpu);
    ASSERT_NE(find(detail::task_environment(on_gpu, "o"), "CUDA_VISIBLE_DEVICES"), nullptr);
    EXPECT_EQ(*find(detail::task_environment(on_gpu, "o"), "CUDA_VISIBLE_DEVICES"), "GPU-abc");
    EXPECT_EQ(*find(detail::task_environment(on_gpu, "o"), "MPISWEEP_DEVICE"), "1");

    // A copy with two GPUs: both, in order, in CUDA_VISIBLE_DEVICES and MPISWEEP_DEVICE.
    WorkerInfo two = gpu;
    two.devices = {3, 1};
    two.visible_devices = {"3", "1"};
    TaskContext on_two(TaskId(0), 1, point, two);
    EXPECT_EQ(*find(detail::task_environment(on_two, "o"), "CUDA_VISIBLE_DEVICES"), "3,1");
    EXPECT_EQ(*find(detail::task_environment(on_two, "o"), "MPISWEEP_DEVICE"), "3,1");
    EXPECT_EQ(detail::device_list(two), "3,1");

    WorkerInfo cpu;
    cpu.node_gpus = 2;
    TaskContext on_cpu(TaskId(0), 1, point, cpu);
    // A copy on CPU on a GPU node hides the GPUs; on a node without GPUs nothing is changed.
    const auto with_gpus = detail::task_environment(on_cpu, "o");
    ASSERT_NE(find(with_gpus, "CUDA_VISIBLE_DEVICES"), nullptr);
    EXPECT_EQ(*find(with_gpus, "CUDA_VISIBLE_DEVICES"), "");
    EXPECT_EQ(*find(with_gpus, "MPISWEEP_DEVICE"), "-1");
    WorkerInfo no_gpus;
    no_gpus.node_gpus = 0;
    TaskContext on_plain(TaskId(0), 1, point, no_gpus);
    EXPECT_EQ(find(detail::task_environment(on_plain, "o"), "CUDA_VISIBLE_DEVICES"), nullptr);
    // A worker that did not say how many GPUs its node has: the probe answers.
    WorkerInfo unknown;
    TaskContext on_unknown(TaskId(0), 1, point, unknown);
    EXPECT_EQ(*find(detail::task_environment(on_unknown, "o", [] { return true; }), "CUDA_VISIBLE_DEVICES"),
              "");
    EXPECT_EQ(find(detail::task_environment(on_unknown, "o", [] { return false; }), "CUDA_VISIBLE_DEVICES"),
              nullptr);
    // The runner's variables win over a user's of the same name.
    const auto env = detail::task_environment(on_plain, "o", {}, {{"MPISWEEP_TASK_ID", "x"}});
    EXPECT_EQ(*find(env, "MPISWEEP_TASK_ID"), "0");
    EXPECT_EQ(*find(env, "MPISWEEP_PARAM_X"), "1");
}

TEST(CommandEnvironment, LauncherVariablesAreNotInherited) {
    // What mpirun and PMIx give a rank: an MPI program run as a task must not see it.
    for (const char* name : {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_MCA_orte_hnp_uri",
                             "OMPI_MCA_ess", "OMPI_MCA_ess_base_jobid", "OMPI_MCA_pmix", "OMPI_UNIVERSE_SIZE",
                             "PMIX_RANK", "PMIX_SERVER_URI41", "PMI_FD", "PMI_RANK"}) {
        EXPECT_TRUE(detail::is_launcher_variable(name)) << name;
    }
    // The user's own settings and everything else stay.
    for (const char* name :
         {"OMPI_MCA_btl_vader_single_copy_mechanism", "OMPI_MCA_plm", "OMPI_ALLOW_RUN_AS_ROOT",
          "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "PATH", "SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES", "PMIXED"}) {
        EXPECT_FALSE(detail::is_launcher_variable(name)) << name;
    }
}

TEST_F(CommandTest, DroppedVariablesDoNotReachTheChild) {
    ::setenv("OMPI_COMM_WORLD_RANK", "3", 1);
    ::setenv("MPISWEEP_TEST_KEPT", "yes", 1);
    const auto prog = script(
        "env.sh",
        R"(printf '{"rank": "%s", "kept": "%s"}' "${OMPI_COMM_WORLD_RANK-unset}" "$MPISWEEP_TEST_KEPT" > "$MPISWEEP_OUTPUT")");
    const TaskResult r = run_task(spec({prog}));
    ::unsetenv("OMPI_COMM_WORLD_RANK");
    ::unsetenv("MPISWEEP_TEST_KEPT");
    EXPECT_EQ(std::get<std::string>(r.at("rank")), "unset");
    EXPECT_EQ(std::get<std::string>(r.at("kept")), "yes");
}

// ---------------------------------------------------------------- templates and checks

std::string template_error(std::vector<std::string> argv, std::vector<std::string> names) {
    CommandSpec s;
    s.argv = std::move(argv);
    try {
        check_command_template(s, names);
    } catch (const CommandError& e) {
        return e.what();
    }
    return "";
}

TEST(CommandTemplate, UnknownPlaceholderIsRefusedBeforeAnyTaskRuns) {
    CommandSpec s;
    s.argv = {"train", "--lr={lrr}"};
    EXPECT_THROW(make_command_task(s, {"lr", "seed"}), CommandError);
    const std::string msg = template_error(s.argv, {"lr", "seed"});
    EXPECT_NE(msg.find("unknown placeholder {lrr}"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'--lr={lrr}'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("{lr}, {seed}, {task_id}, {attempt}, {device}"), std::string::npos) << msg;
}

// Issue 12, item 8: X and x would both be MPISWEEP_PARAM_X, one hiding the other.
TEST(CommandTemplate, ParametersWithTheSameVariableAreRefused) {
    CommandSpec s;
    s.argv = {"train"};
    try {
        check_command_template(s, {"lr", "X", "x"});
        FAIL() << "accepted X and x";
    } catch (const CommandError& e) {
        EXPECT_STREQ(e.what(),
                     "params 'X' and 'x' both become the variable MPISWEEP_PARAM_X of the task's "
                     "environment; rename one of them");
    }
    EXPECT_THROW(make_command_task(s, {"a_b", "a-b"}), CommandError);
    EXPECT_NO_THROW(check_command_template(s, {"x", "x2", "X_1"}));
}

TEST(CommandTemplate, BraceErrorsNameTheArgument) {
    EXPECT_NE(template_error({"p", "x{lr"}, {"lr"}).find("'{' without a closing '}'"), std::string::npos);
    EXPECT_NE(template_error({"p", "x}"}, {"lr"}).find("'}' without an opening '{'"), std::string::npos);
    EXPECT_NE(template_error({"p", "{}"}, {"lr"}).find("empty placeholder"), std::string::npos);
    EXPECT_NE(template_error({"p", "{attempt}"}, {"attempt"}).find("ambiguous"), std::string::npos);
    EXPECT_NE(template_error({}, {}).find("no command given"), std::string::npos);
    EXPECT_EQ(template_error({"p", "{{json}}", "{lr}{lr}", "{task_id}"}, {"lr"}), "");
}

TEST(CommandTemplate, ExpandsPiecesInPlace) {
    detail::CommandTemplate t({"{a}-{b}", "{{{a}}}", "x"}, {"a", "b"});
    EXPECT_EQ(t.expand({std::string("p q"), 2.5}, {}), (std::vector<std::string>{"p q-2.5", "{p q}", "x"}));
    EXPECT_TRUE(t.has_placeholder(0));
    EXPECT_FALSE(t.has_placeholder(2));
}

TEST_F(CommandTest, ProgramCheckSearchesPathLikePosixSpawnp) {
    CommandSpec s;
    s.argv = {"sh"};
    EXPECT_NE(check_command_program(s).find("/sh"), std::string::npos);
    s.argv = {"mpisweep-no-such-program-xyz"};
    try {
        check_command_program(s);
        ADD_FAILURE() << "a missing program passed the check";
    } catch (const CommandError& e) {
        EXPECT_NE(std::string(e.what()).find("'mpisweep-no-such-program-xyz' not found in PATH"),
                  std::string::npos);
    }
    std::ofstream(dir_ / "data.txt") << "not a program\n";
    s.argv = {(dir_ / "data.txt").string()};
    EXPECT_THROW(check_command_program(s), CommandError);
    s.argv = {(dir_ / "nothing").string()};
    EXPECT_THROW(check_command_program(s), CommandError);
    s.shell = true;  // the shell is what runs; its words are its business
    EXPECT_EQ(check_command_program(s), "/bin/sh");
}

// ---------------------------------------------------------------- pieces

TEST(CommandOutputTail, KeepsWholeLastLines) {
    const std::string text = "first line\nsecond\nthird\n\n";
    EXPECT_EQ(detail::last_lines(text, false, 2), "second\nthird");
    detail::StreamTail tail(10);
    tail.add(text.substr(0, 5));
    tail.add(text.substr(5));
    EXPECT_TRUE(tail.cut());
    EXPECT_EQ(detail::last_lines(tail.text(), tail.cut(), 20), "third");  // partial line dropped
    EXPECT_EQ(detail::last_lines("", false, 20), "");
    EXPECT_EQ(detail::last_nonempty_line(text), "third");
    detail::StreamTail whole(100);
    whole.add(text);
    EXPECT_FALSE(whole.cut());
    EXPECT_EQ(detail::last_lines(whole.text(), whole.cut(), 20), "first line\nsecond\nthird");
}

TEST_F(CommandTest, DestroyingARunningChildKillsItsGroup) {
    const auto prog =
        script("bg.sh", "sleep 100 &\necho $! > " + (dir_ / "grandchild.pid").string() + "\nsleep 100");
    pid_t leader = 0;
    {
        detail::SpawnRequest request;
        request.argv = {prog};
        auto child = detail::ChildProcess::spawn(request);
        leader = child.pid();
        EXPECT_TRUE(child.running());
        read_pid(dir_ / "grandchild.pid");
    }
    EXPECT_FALSE(process_alive(leader));
    EXPECT_TRUE(eventually_dead(read_pid(dir_ / "grandchild.pid")));
}

// A forked process that installs the termination handlers, runs `script` as a ChildProcess
// and waits for it; `before` runs first in the fork (to install a handler of its own).
pid_t fork_runner(const std::string& script, void (*before)() = nullptr) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (before) before();
        detail::stop_children_on_termination_signals();
        detail::SpawnRequest request;
        request.argv = {script};
        auto child = detail::ChildProcess::spawn(request);
        child.wait();
        ::_exit(0);
    }
    return pid;
}

TEST_F(CommandTest, TerminationSignalStopsRunningChildrenThenEndsTheProcess) {
    const auto prog = script("bg.sh", "sleep 100 &\necho $! > " + (dir_ / "grandchild.pid").string() +
                                          "\necho $$ > " + (dir_ / "leader.pid").string() + "\nwait");
    const pid_t runner = fork_runner(prog);
    ASSERT_GT(runner, 0);
    const pid_t grandchild = read_pid(dir_ / "grandchild.pid");
    const pid_t leader = read_pid(dir_ / "leader.pid");
    ::kill(runner, SIGTERM);
    int status = 0;
    ASSERT_EQ(::waitpid(runner, &status, 0), runner);
    // The signal still ends the process as it would have (mpirun and shells look at that).
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;
    EXPECT_TRUE(eventually_dead(leader));
    EXPECT_TRUE(eventually_dead(grandchild));
}

void exit_42_on_hangup() {
    struct sigaction action {};
    action.sa_handler = [](int) { ::_exit(42); };
    ::sigaction(SIGHUP, &action, nullptr);
}

TEST_F(CommandTest, TerminationSignalKeepsAHandlerInstalledBefore) {
    const auto prog =
        script("bg.sh", "sleep 100 &\necho $! > " + (dir_ / "grandchild.pid").string() + "\nwait");
    const pid_t runner = fork_runner(prog, exit_42_on_hangup);
    ASSERT_GT(runner, 0);
    const pid_t grandchild = read_pid(dir_ / "grandchild.pid");
    ::kill(runner, SIGHUP);
    int status = 0;
    ASSERT_EQ(::waitpid(runner, &status, 0), runner);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42) << "status " << status;
    EXPECT_TRUE(eventually_dead(grandchild));
}

// Issue 12, item 6: a log folder removed during the sweep is made again; one that cannot be
// made is not the task's failure (InfrastructureError: the attempt does not count).
TEST_F(CommandTest, RemovedLogFolderIsMadeAgain) {
    const CommandSpec s = spec({script("ok.sh", "echo hi; echo '{\"v\": 1}' > \"$MPISWEEP_OUTPUT\"")});
    EXPECT_EQ(std::get<double>(run_task(s).at("v")), 1.0);
    fs::remove_all(s.log_dir);
    EXPECT_EQ(std::get<double>(run_task(s, {}, {}, {}, 8).at("v")), 1.0);
    EXPECT_TRUE(fs::is_directory(s.log_dir));
}

TEST_F(CommandTest, LogFolderThatCannotBeMadeIsAnInfrastructureError) {
    // An attempt that failed and printed: its output and end cannot be kept, and the node,
    // not the task, is at fault. (A success's result is kept; the error comes at the rank's
    // next attempt.)
    const CommandSpec s = spec({script("fails.sh", "echo trying; exit 1")});
    std::ofstream(s.log_dir) << "a file where the folder should be\n";
    try {
        run_task(s);
        FAIL() << "ran without a log folder";
    } catch (const InfrastructureError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("cannot create log folder '" + s.log_dir + "'"), std::string::npos) << what;
        EXPECT_NE(what.find("(errno "), std::string::npos) << what;
    }
}

// Issue 12, item 3: a process that runs a task and is SIGKILLed (no handler, no destructor
// runs) leaves nothing behind: its guardian ends the task's whole group.
TEST_F(CommandTest, GuardianEndsTheGroupsOfAKilledProcess) {
    const auto prog = script("bg.sh", "sleep 100 &\necho $! > " + (dir_ / "grandchild.pid").string() +
                                          "\necho $$ > " + (dir_ / "leader.pid").string() + "\nwait");
    const pid_t runner = ::fork();
    if (runner == 0) {
        detail::SpawnRequest request;
        request.argv = {prog};
        auto child = detail::ChildProcess::spawn(request);
        ::pause();
        ::_exit(0);
    }
    ASSERT_GT(runner, 0);
    const pid_t grandchild = read_pid(dir_ / "grandchild.pid");
    const pid_t leader = read_pid(dir_ / "leader.pid");
    ::kill(runner, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(runner, &status, 0), runner);
    EXPECT_TRUE(eventually_dead(leader));
    EXPECT_TRUE(eventually_dead(grandchild));
}

// The guardian keeps nothing of the process it guards open (MPI sockets, the rank's stdout:
// a launcher waits for those to close) but its socket, and is out of the rank's session.
TEST_F(CommandTest, GuardianHoldsOnlyItsSocket) {
    detail::SpawnRequest request;
    request.argv = {"/bin/true"};
    detail::ChildProcess::spawn(request).wait();
    const pid_t guardian = detail::guardian_pid();
    ASSERT_GT(guardian, 0);
    // Once it has set itself up (it starts as a copy of this process, with all its files).
    std::vector<std::string> open;
    for (int i = 0; i < 500 && open.size() != 1; ++i) {
        if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        open.clear();
        for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(guardian) + "/fd"))
            open.push_back(entry.path().filename().string() + " -> " +
                           fs::read_symlink(entry.path()).string());
    }
    ASSERT_EQ(open.size(), 1u) << ::testing::PrintToString(open);
    EXPECT_NE(open[0].find("socket:"), std::string::npos) << open[0];
    EXPECT_EQ(::getsid(guardian), guardian);
}

// The spawning thread and the child sit on one CPU across the clone (spawn.cpp, CpuPin): the
// program must still run on every CPU the rank may use, and so must the rank afterwards.
TEST_F(CommandTest, TheProgramAndTheRankKeepEveryCpuOfTheRank) {
    const auto cpus_of = [](const std::string& status_file) {
        std::ifstream in(status_file);
        for (std::string line; std::getline(in, line);)
            if (line.rfind("Cpus_allowed_list:", 0) == 0) return line;
        return std::string("no Cpus_allowed_list in ") + status_file;
    };
    const std::string own = cpus_of("/proc/thread-self/status");
    const fs::path seen = dir_ / "cpus.txt";
    detail::SpawnRequest request;
    request.argv = {script("cpus.sh", "grep Cpus_allowed_list: /proc/$$/status > " + seen.string())};
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(detail::ChildProcess::spawn(request).wait().exit_code, 0);
        EXPECT_EQ(cpus_of(seen.string()), own) << "the program, run " << i;
        EXPECT_EQ(cpus_of("/proc/thread-self/status"), own) << "the rank after run " << i;
    }
}

// Kernels before 5.3 have no pidfd: the fallback (a thread blocked in waitid) must behave the same.
TEST_F(CommandTest, WaiterThreadFallbackReportsExitAndKillsGroupOnTimeout) {
    detail::SpawnRequest request;
    request.use_pidfd = false;
    request.argv = {script("three.sh", "exit 3")};
    EXPECT_EQ(detail::ChildProcess::spawn(request).wait().exit_code, 3);

    request.argv = {
        script("hang.sh", "sleep 100 &\necho $! > " + (dir_ / "grandchild.pid").string() + "\nsleep 100")};
    detail::WaitOptions options;
    options.timeout_s = 0.2;
    const auto result = detail::ChildProcess::spawn(request).wait(options);
    EXPECT_TRUE(result.timed_out);
    EXPECT_EQ(result.exit_code, -SIGTERM);
    EXPECT_LT(result.wall_s, 2.0);
    EXPECT_TRUE(eventually_dead(read_pid(dir_ / "grandchild.pid")));

    // Short programs one after another. The rate is printed, not asserted: under load (TSan
    // beside a build) it fell to 16 runs/s; the pidfd path's is bench/run.py's `true` rows.
    request.argv = {"/bin/true"};
    constexpr int kRuns = 50;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRuns; ++i) {
        const auto run = detail::ChildProcess::spawn(request).wait();
        EXPECT_EQ(run.exit_code, 0) << "run " << i;
        EXPECT_FALSE(run.timed_out) << "run " << i;
    }
    std::printf("waitid-thread fallback: %.0f runs/s\n", kRuns / seconds_since(start));
}

}  // namespace
