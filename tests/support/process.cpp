// posix_spawn with three pipes, and poll-based line reading with deadlines.
#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>

extern char** environ;

namespace relbot::test {

namespace {

void make_pipe(int fds[2]) {
    if (pipe2(fds, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
}

}  // namespace

std::map<std::string, std::string> current_environment() {
    std::map<std::string, std::string> out;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) {
            out[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
    }
    return out;
}

spawn_lists::spawn_lists(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env) {
    strings_.reserve(argv.size() + env.size());  // no reallocation: the pointers stay valid
    for (const auto& a : argv) {
        argv_.push_back(strings_.emplace_back(a).data());
    }
    argv_.push_back(nullptr);
    for (const auto& [k, v] : env) {
        envp_.push_back(strings_.emplace_back(k + "=" + v).data());
    }
    envp_.push_back(nullptr);
}

process::process(std::vector<std::string> argv,
                 std::map<std::string, std::string> env,
                 std::string cwd) {
    int in[2];
    int out[2];
    int err[2];
    make_pipe(in);
    make_pipe(out);
    make_pipe(err);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());

    spawn_lists lists(argv, env);
    int rc = posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, lists.argv(), lists.envp());
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        close(err[0]);
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    stdin_fd_ = in[1];
    out_fd_ = out[0];
    err_fd_ = err[0];
    out_reader_ = std::thread([this] { drain(out_fd_, true); });
    err_reader_ = std::thread([this] { drain(err_fd_, false); });
}

process::~process() {
    if (!exit_status_ && pid_ > 0) {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    close_stdin();
    // The child is gone, so both pipes reach EOF and the readers end.
    out_reader_.join();
    err_reader_.join();
    close(out_fd_);
    close(err_fd_);
}

void process::drain(int fd, bool is_stdout) {
    std::string pending;
    char buf[8192];
    for (;;) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        std::lock_guard lock(mutex_);
        if (n <= 0) {
            (is_stdout ? stdout_eof_ : stderr_eof_) = true;
            changed_.notify_all();
            return;
        }
        pending.append(buf, static_cast<std::size_t>(n));
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            auto line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (is_stdout) {
                stdout_lines_.push_back(std::move(line));
            } else {
                stderr_lines_.push_back(std::move(line));
            }
        }
        changed_.notify_all();
    }
}

void process::write_line(const std::string& line) {
    std::string data = line + "\n";
    std::size_t done = 0;
    while (done < data.size()) {
        auto n = ::write(stdin_fd_, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::runtime_error(std::string("write to child: ") + std::strerror(errno));
        }
        done += static_cast<std::size_t>(n);
    }
}

void process::close_stdin() {
    if (stdin_fd_ >= 0) {
        close(stdin_fd_);
        stdin_fd_ = -1;
    }
}

std::optional<std::string> process::read_stdout_line(deadline until) {
    std::unique_lock lock(mutex_);
    changed_.wait_until(lock, until, [this] { return !stdout_lines_.empty() || stdout_eof_; });
    if (stdout_lines_.empty()) {
        return std::nullopt;
    }
    auto line = std::move(stdout_lines_.front());
    stdout_lines_.pop_front();
    return line;
}

std::optional<std::string> process::read_stderr_line(deadline until) {
    // The next stderr line after those already returned by this function.
    std::unique_lock lock(mutex_);
    changed_.wait_until(lock, until,
                        [this] { return stderr_lines_.size() > stderr_read_ || stderr_eof_; });
    if (stderr_lines_.size() <= stderr_read_) {
        return std::nullopt;
    }
    return stderr_lines_[stderr_read_++];
}

std::vector<std::string> process::stderr_lines() const {
    std::lock_guard lock(mutex_);
    return stderr_lines_;
}

std::optional<std::string> process::wait_stderr(const std::string& needle, deadline until) {
    std::unique_lock lock(mutex_);
    std::optional<std::string> found;
    changed_.wait_until(lock, until, [&] {
        for (const auto& l : stderr_lines_) {
            if (l.find(needle) != std::string::npos) {
                found = l;
                return true;
            }
        }
        return stderr_eof_;
    });
    return found;
}

void process::signal(int sig) {
    if (!exit_status_ && pid_ > 0) {
        kill(pid_, sig);
    }
}

std::optional<int> process::wait_exit(deadline until) {
    if (exit_status_) {
        return exit_status_;
    }
    // Wait for the exit itself on a pidfd, bounded by the deadline.
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        until - std::chrono::steady_clock::now())
                        .count();
        pollfd p{pidfd, POLLIN, 0};
        poll(&p, 1, static_cast<int>(std::max<long long>(0, left)));
        close(pidfd);
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        // Let the stderr reader take in the last lines before anyone looks at them.
        std::unique_lock lock(mutex_);
        changed_.wait_until(lock, until, [this] { return stderr_eof_; });
    }
    return exit_status_;
}

temp_dir::temp_dir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (;;) {
        auto candidate = base / ("relbot-test-" + std::to_string(rd()));
        std::error_code ec;
        if (std::filesystem::create_directory(candidate, ec)) {
            path_ = candidate.string();
            return;
        }
    }
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);  // best effort: a leftover temp dir harms nothing
}

}  // namespace relbot::test
