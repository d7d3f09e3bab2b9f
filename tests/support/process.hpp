// Test support: a child process with pipes, and line reads that wait on an event with a
// deadline, never on a sleep. stdout and stderr are drained continuously by reader threads,
// so a chatty child never blocks on a full pipe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace relbot::test {

using deadline = std::chrono::steady_clock::time_point;

inline deadline after(std::chrono::milliseconds d) {
    return std::chrono::steady_clock::now() + d;
}

// The argument and environment lists posix_spawn takes, built from owned strings: each is an
// array of pointers into them, ending in nullptr. Keep it alive until the call returns.
class spawn_lists {
public:
    spawn_lists(const std::vector<std::string>& argv,
                const std::map<std::string, std::string>& env);
    spawn_lists(const spawn_lists&) = delete;
    spawn_lists& operator=(const spawn_lists&) = delete;
    char* const* argv() const { return argv_.data(); }
    char* const* envp() const { return envp_.data(); }

private:
    std::vector<std::string> strings_;
    std::vector<char*> argv_;
    std::vector<char*> envp_;
};

class process {
public:
    // Starts `argv[0]` with exactly `env` as its environment, in `cwd`. stdin, stdout and
    // stderr are pipes. Throws std::runtime_error if it cannot be started.
    process(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string cwd);
    ~process();  // kills the process if it is still running
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    void write_line(const std::string& line);
    void close_stdin();

    // The next line of stdout / stderr, or nullopt at EOF or when the deadline passes.
    std::optional<std::string> read_stdout_line(deadline until);
    std::optional<std::string> read_stderr_line(deadline until);

    // Every stderr line received so far.
    std::vector<std::string> stderr_lines() const;

    // Reads stderr until a line contains `needle`; the line, or nullopt at the deadline.
    std::optional<std::string> wait_stderr(const std::string& needle, deadline until);

    void signal(int sig);
    // The exit status (or 128 + signal), or nullopt if it has not exited by the deadline.
    std::optional<int> wait_exit(deadline until);

    pid_t pid() const { return pid_; }

private:
    void drain(int fd, bool is_stdout);

    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::string> stdout_lines_;   // not yet read
    std::vector<std::string> stderr_lines_;  // all of them
    std::size_t stderr_read_ = 0;            // lines returned by read_stderr_line
    bool stdout_eof_ = false;
    bool stderr_eof_ = false;
    std::thread out_reader_;
    std::thread err_reader_;
    std::optional<int> exit_status_;
};

// The current process's environment as a map.
std::map<std::string, std::string> current_environment();

// A fresh, empty directory under the system temp directory, removed on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

}  // namespace relbot::test
