#pragma once
// Appends the output of one worker process's tasks to its stream file (format:
// task_log_format.hpp). Created on the first write, so a worker whose tasks print nothing and
// succeed (or are cancelled) makes no file: AttemptCapture records no frame for them. Not
// thread-safe: one worker runs one task at a time.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exec/task_log_format.hpp"

namespace mpisweep::detail {

/// Bytes of one stream of one attempt, to be appended as one frame.
struct OutputChunk {
    EntryKind stream = EntryKind::Stdout;
    std::string_view data;
};

class TaskLogWriter {
public:
    /// File <dir>/<stem>.log, where stem is stream_stem(run name, rank); `header` is its
    /// first line. An empty header.run makes a name for this process alone.
    TaskLogWriter(std::string dir, StreamHeader header);
    ~TaskLogWriter();
    TaskLogWriter(const TaskLogWriter&) = delete;
    TaskLogWriter& operator=(const TaskLogWriter&) = delete;

    /// Before each attempt: throws the error that broke the stream, if one did; forgets a
    /// file that was removed meanwhile (the next append makes it again). Creates nothing.
    void check();

    /// Appends one frame per non-empty chunk and the end line when given, all in one writev
    /// (the stream header too, on the file's first append); creates the folder and the file
    /// first unless they are open. Throws std::runtime_error naming the folder or file and
    /// the system's reason; after a failed write the stream is not used again.
    void append(std::uint64_t task, int attempt, double start, const std::vector<OutputChunk>& chunks,
                const IndexEntry* end = nullptr);

    const std::string& path() const { return path_; }

private:
    /// Creates the folder and the file (O_EXCL).
    void open();

    std::string dir_;
    StreamHeader header_;
    std::string path_;
    int fd_ = -1;
    bool header_written_ = false;
    std::string broken_;  ///< why the stream stopped, after a failed write
};

}  // namespace mpisweep::detail
