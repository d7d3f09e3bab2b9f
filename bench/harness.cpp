#include "bench/harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/process.hpp"

namespace relbot::bench {

namespace net = boost::asio;
using json = nlohmann::json;

// --- child ----------------------------------------------------------------------------------

child::child(const std::vector<std::string>& argv,
             const std::map<std::string, std::string>& env,
             const std::string& log_path) {
    test::spawn_lists lists(argv, env);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    // Nothing else of this process: Asio opens its sockets without close-on-exec, so the child
    // would inherit the sandbox's listener and connections (and keep them open, and count them
    // among its own file descriptors).
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    started_ = clock::now();
    int rc = posix_spawn(&pid_, argv.at(0).c_str(), &actions, nullptr, lists.argv(), lists.envp());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
}

child::~child() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

int child::stop(std::chrono::milliseconds within) {
    if (pid_ <= 0) {
        return -1;
    }
    ::kill(pid_, SIGTERM);
    auto until = clock::now() + within;
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            break;
        }
        if (clock::now() > until) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        // A benchmark may poll: nothing here is a test, and exit has no event to wait on.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::optional<int> child::poll() {
    if (pid_ <= 0) {
        return std::nullopt;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) {
        return std::nullopt;
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

memory_kib memory_of(pid_t pid) {
    memory_kib m;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key;
        long value = 0;
        fields >> key >> value;
        if (key == "VmRSS:") {
            m.rss = value;
        } else if (key == "VmHWM:") {
            m.hwm = value;
        } else if (key == "Threads:") {
            m.threads = value;
        }
    }
    return m;
}

double run_figures::acks_per_second() const {
    auto seconds = std::chrono::duration<double>(last_ack - first_sent).count();
    return seconds > 0 ? static_cast<double>(latency_us.size()) / seconds : 0;
}

// --- slack ----------------------------------------------------------------------------------

slack::slack(const std::string& work_dir) : ca_file_(work_dir + "/sim-ca.pem") {
    sim::server_options options;
    options.on_ack = [this](std::string_view id, clock::time_point sent, clock::time_point acked) {
        on_ack(id, sent, acked);
    };
    server_ = std::make_unique<sim::server>(ioc_, std::move(options),
                                            [this](const json& event) { on_event(event); });
    std::ofstream(ca_file_) << server_->ca_cert_pem();
    server_->start();
    thread_ = std::thread([this] {
        auto work = net::make_work_guard(ioc_);
        ioc_.run();
    });
}

slack::~slack() {
    ioc_.stop();
    thread_.join();
    // The server's coroutines are destroyed with the io_context, after the thread is gone.
}

std::map<std::string, std::string> slack::bot_environment() const {
    std::map<std::string, std::string> env;
    env["SLACK_APP_TOKEN"] = "xapp-bench-test-1";
    env["SLACK_BOT_TOKEN"] = "xoxb-bench-test-0";
    env["SLACK_API_URL"] = server_->api_url();
    env["SSL_CERT_FILE"] = ca_file_;
    env["RELBOT_CONNECTIONS"] = "1";
    if (const char* path = std::getenv("PATH")) {
        env["PATH"] = path;
    }
    return env;
}

void slack::on_event(const json& event) {
    auto name = event.value("event", "");
    std::lock_guard lock(mutex_);
    if (name == "hello_sent") {
        ++hellos_;
        last_hello_connection_ = event.value("connection", -1);
        last_hello_ = clock::now();
        changed_.notify_all();
    } else if (name == "api_call" || name == "response_url_post") {
        last_api_call_ = clock::now();
    }
}

void slack::on_ack(std::string_view envelope_id, clock::time_point sent, clock::time_point acked) {
    std::lock_guard lock(mutex_);
    auto& run = current_[!second_.empty() && second_.contains(std::string(envelope_id)) ? 1 : 0];
    if (run.latency_us.empty() || sent < run.first_sent) {
        run.first_sent = sent;
    }
    run.last_ack = std::max(run.last_ack, acked);
    run.latency_us.push_back(std::chrono::duration<double, std::micro>(acked - sent).count());
    if (++acked_ >= expected_) {
        changed_.notify_all();
    }
}

void slack::expect(std::size_t count, std::unordered_set<std::string> second) {
    std::lock_guard lock(mutex_);
    for (auto& run : current_) {
        run = {};
        run.latency_us.reserve(count);
    }
    second_ = std::move(second);
    acked_ = 0;
    expected_ = count;
}

bool slack::wait_acks(std::chrono::milliseconds within) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, within, [&] { return acked_ >= expected_; });
}

int slack::last_hello_connection() const {
    std::lock_guard lock(mutex_);
    return last_hello_connection_;
}

int slack::hellos() const {
    std::lock_guard lock(mutex_);
    return hellos_;
}

std::optional<clock::time_point> slack::wait_hello(int seen, std::chrono::milliseconds within) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, within, [&] { return hellos_ > seen; })) {
        return std::nullopt;
    }
    return last_hello_;
}

void slack::wait_api_quiet(std::chrono::milliseconds quiet, std::chrono::milliseconds within) {
    auto until = clock::now() + within;
    std::unique_lock lock(mutex_);
    while (clock::now() < until && clock::now() - last_api_call_ < quiet) {
        auto next = std::min(until, last_api_call_ + quiet);
        changed_.wait_until(lock, next);
    }
}

namespace {

struct paced_frame {
    std::string id;
    std::string text;
    std::optional<int> connection;
};

// Sends frames[i] at start + i × period, on the server's thread.
struct pacer : std::enable_shared_from_this<pacer> {
    pacer(net::io_context& ioc,
          sim::server& server,
          std::vector<paced_frame> frames,
          std::chrono::duration<double> period)
        : timer(ioc), server(server), frames(std::move(frames)), period(period) {}

    void start() {
        begin = clock::now();
        next();
    }

    void next() {
        if (index == frames.size()) {
            return;
        }
        timer.expires_at(begin + std::chrono::duration_cast<clock::duration>(
                                     period * static_cast<double>(index)));
        timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec) {
                return;
            }
            auto& f = self->frames[self->index++];
            self->server.inject(std::move(f.id), std::move(f.text), f.connection);
            self->next();
        });
    }

    net::steady_timer timer;
    sim::server& server;
    std::vector<paced_frame> frames;
    std::chrono::duration<double> period;
    std::size_t index = 0;
    clock::time_point begin;
};

}  // namespace

std::optional<run_figures> slack::play(const frame_list& frames,
                                       double per_second,
                                       std::chrono::milliseconds within,
                                       std::optional<int> connection) {
    expect(frames.size(), {});
    if (per_second > 0) {
        std::vector<paced_frame> paced;
        paced.reserve(frames.size());
        for (const auto& [id, text] : frames) {
            paced.push_back({id, text, connection});
        }
        auto p = std::make_shared<pacer>(ioc_, *server_, std::move(paced),
                                         std::chrono::duration<double>(1.0 / per_second));
        net::post(ioc_, [p] { p->start(); });
    } else {
        // The server's thread owns its copy: if the acks time out, play() returns while the
        // frames may still be being written.
        auto all = std::make_shared<const frame_list>(frames);
        net::post(ioc_, [this, all, connection] {
            for (const auto& [id, text] : *all) {
                server_->inject(id, text, connection);
            }
        });
    }
    if (!wait_acks(within)) {
        return std::nullopt;
    }
    std::lock_guard lock(mutex_);
    return current_[0];
}

std::optional<run_figures> slack::play_spread(const frame_list& frames,
                                              const std::vector<int>& connections,
                                              std::chrono::milliseconds within) {
    if (connections.empty()) {
        throw std::invalid_argument("play_spread needs at least one connection");
    }
    expect(frames.size(), {});
    auto all = std::make_shared<const frame_list>(frames);
    net::post(ioc_, [this, all, connections] {
        for (std::size_t i = 0; i < all->size(); ++i) {
            const auto& [id, text] = (*all)[i];
            server_->inject(id, text, connections[i % connections.size()]);
        }
    });
    if (!wait_acks(within)) {
        return std::nullopt;
    }
    std::lock_guard lock(mutex_);
    return current_[0];
}

std::optional<std::pair<run_figures, run_figures>> slack::play_alternating(
    const frame_list& a,
    int connection_a,
    const frame_list& b,
    int connection_b,
    double per_second,
    std::chrono::milliseconds within) {
    std::unordered_set<std::string> second;
    std::vector<paced_frame> paced;
    paced.reserve(a.size() + b.size());
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        if (i < a.size()) {
            paced.push_back({a[i].first, a[i].second, connection_a});
        }
        if (i < b.size()) {
            paced.push_back({b[i].first, b[i].second, connection_b});
            second.insert(b[i].first);
        }
    }
    expect(paced.size(), std::move(second));
    auto p = std::make_shared<pacer>(ioc_, *server_, std::move(paced),
                                     std::chrono::duration<double>(0.5 / per_second));
    net::post(ioc_, [p] { p->start(); });
    if (!wait_acks(within)) {
        return std::nullopt;
    }
    std::lock_guard lock(mutex_);
    return std::pair{current_[0], current_[1]};
}

std::pair<std::string, std::string> slash_frame(const slack& s,
                                                const std::string& envelope_id,
                                                const std::string& text,
                                                const std::string& channel,
                                                const std::string& user) {
    json op = {{"text", text}, {"channel_id", channel}, {"user_id", user}};
    return {envelope_id, sim::slash_command_envelope(envelope_id, op, s.base_url()).dump()};
}

// --- arithmetic -----------------------------------------------------------------------------

double quantile(std::vector<double> sample, double q) {
    if (sample.empty()) {
        return 0;
    }
    std::sort(sample.begin(), sample.end());
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sample.size())));
    return sample[std::clamp<std::size_t>(rank, 1, sample.size()) - 1];
}

double median(std::vector<double> sample) {
    return quantile(std::move(sample), 0.5);
}

void read_options(int argc, char** argv, const option_setters& setters) {
    for (int i = 1; i < argc; ++i) {
        std::string name = argv[i];
        auto setter = setters.find(name);
        if (setter == setters.end()) {
            throw std::invalid_argument("unknown argument " + name);
        }
        if (i + 1 >= argc) {
            throw std::invalid_argument(name + " needs a value");
        }
        try {
            setter->second(argv[++i]);
        } catch (const std::logic_error&) {  // std::stoi and friends, and the setters' own
            throw std::invalid_argument(name + " does not take " + argv[i]);
        }
    }
}

std::string executable_dir() {
    return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

std::string fixed(double value, int decimals) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(decimals);
    out << value;
    return out.str();
}

}  // namespace relbot::bench
