// relbot-bench-soak: the real relbot (a child process, its own SQLite file) against
// relbot-sim's server in this process for hours: a steady mix of /release commands and clicks
// from many people in 20 channels, faults on a schedule (socket drops, refresh_requested, 429
// storms, 5xx bursts, slow answers, SIGKILL and restart), one line of resource figures a
// minute, and at the end the checks that nothing acknowledged was lost and that every message
// was posted exactly once. Never run by the tests or CI.
//
//   relbot-bench-soak [--minutes 120] [--rate 25] [--channels 20] [--chatter 0.8]
//                     [--kill-every 10] [--fault-every 60] [--sample-seconds 60] [--seed 18]
//                     [--relbot PATH] [--work DIR]
//
// Exit status: 0 when every check passes, 1 when one fails (or the run could not be made),
// 2 for bad options.
#include <SQLiteCpp/SQLiteCpp.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "bench/harness.hpp"
#include "bench/soak_script.hpp"
#include "bench/soak_slack.hpp"

namespace relbot::bench::soak {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

struct options {
    double minutes = 120;
    double rate = 25;  // envelopes a second, all channels together
    int channels = 20;
    // The share of a channel's envelopes that are talk around the release (notes, status, list,
    // report) rather than steps through it: what keeps relbot's messages (about 5 a second at
    // most, Slack's pace) below what it can send.
    double chatter = 0.8;
    double kill_every_min = 10;  // SIGKILL and restart; 0: never
    double fault_every_s = 60;   // one fault of the rotation; 0: none
    double sample_every_s = 60;
    unsigned seed = 18;
    std::string relbot;
    std::string work;
};

// --- relbot from outside: /proc, the WAL file, /metrics --------------------------------------

struct proc_figures {
    long rss_kib = -1;
    int threads = -1;
    int fds = -1;
    int sockets = -1;  // of the fds
};

proc_figures figures_of(pid_t pid) {
    proc_figures f;
    auto base = "/proc/" + std::to_string(pid);
    auto status = memory_of(pid);
    f.rss_kib = status.rss;
    f.threads = static_cast<int>(status.threads);
    if (DIR* d = ::opendir((base + "/fd").c_str())) {
        f.fds = 0;
        f.sockets = 0;
        while (const dirent* entry = ::readdir(d)) {
            if (entry->d_name[0] == '.') {
                continue;
            }
            ++f.fds;
            std::error_code ec;
            auto target = fs::read_symlink(base + "/fd/" + entry->d_name, ec);
            f.sockets += !ec && target.string().starts_with("socket:") ? 1 : 0;
        }
        ::closedir(d);
    }
    return f;
}

long file_size(const std::string& path) {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    return ec ? 0 : static_cast<long>(size);
}

// A port on 127.0.0.1 that was free a moment ago, for relbot's /metrics (the same one across
// restarts; relbot binds it with SO_REUSEADDR).
unsigned short free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        throw std::runtime_error("cannot find a free port for relbot's /metrics");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

// GET /metrics from relbot (blocking, at most 2 s); the value of the sample `name`, or -1 when
// relbot did not answer (it is down, between a kill and its restart).
double metric(unsigned short port, const std::string& name) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    timeval two_seconds{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &two_seconds, sizeof two_seconds);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string page;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        std::string request =
            "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
            char buf[16384];
            ssize_t n = 0;
            while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
                page.append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    ::close(fd);
    std::istringstream lines(page);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.starts_with(name + " ")) {
            return std::stod(line.substr(name.size() + 1));
        }
    }
    return -1;
}

// --- envelopes in flight ---------------------------------------------------------------------

// What the sandbox saw of one envelope, for the checks at the end.
struct envelope_record {
    std::string channel;
    via how = via::slash;
    std::string command;  // slash: the command; submission: "submit <modal>"
    std::string audit;    // the unique note or reason, if any
    std::string success;  // slash: the reply's start when it changed something
    bool acked = false;
    bool gave_up = false;  // never acknowledged after every delivery
    bool expect_change = false;
    int deliveries = 1;
    int acks = 0;
    std::string reply;
};

enum class stage { click_sent, ack, modal_wait, submit_sent, submit_ack };

struct flight {
    step what;
    std::string id;
    stage at = stage::ack;
    clock::time_point since;
};

// A channel: its script, and the step in flight in it (one at a time).
struct channel_run : channel_script {
    std::optional<flight> busy;
};

// --- figures ---------------------------------------------------------------------------------

struct minute_row {
    double at_min = 0;  // minutes since the start, at the end of the row's interval
    double age_s = -1;  // of the relbot process sampled
    long sent = 0;
    long acks = 0;
    double p50 = 0, p99 = 0, max = 0;
    double rss_mib = -1;
    int fds = -1;
    int sockets = -1;
    int threads = -1;
    double wal_mib = 0;
    double backlog = -1;
    long posts = 0;
    std::string faults;
};

struct timed_latency {
    float at_s;  // since the start
    float ms;
};

// --- the soak --------------------------------------------------------------------------------

// One soak: relbot as a child process, the sandbox, the channels' scripts, the envelopes in
// flight, the faults and the figures. Single-threaded (the sandbox's events come through a
// queue); run() once.
class soak_run {
public:
    explicit soak_run(const options& opt)
        : opt_(opt),
          work_(opt.work),
          sim_(work_),
          script_(opt.seed,
                  [this](const std::string& channel, clock::time_point since) {
                      return sim_.status_posted_since(channel, since);
                  }),
          db_path_(work_ + "/relbot.db"),
          log_path_(work_ + "/relbot.log"),
          health_port_(free_port()) {
        fs::create_directories(work_ + "/templates");
        std::ofstream(work_ + "/templates/soak.md") << soak_template;
        for (int k = 0; k < opt.channels; ++k) {
            channel_run c;
            c.index = k;
            c.id = channel_id(k);
            c.manager = manager_of(k);
            channels_.push_back(std::move(c));
        }
    }

    int run();

private:
    // relbot
    void start_bot();
    void kill_and_restart();
    void watch_bot();
    // the load
    void tick(clock::time_point now);
    void send_step(channel_run& c, step s, clock::time_point now);
    void handle(const sim_event& e, clock::time_point now);
    void on_acked(channel_run& c, const sim_event& e, clock::time_point now);
    void check_flights(clock::time_point now);
    void redeliver(channel_run& c, clock::time_point now);
    void done_with(channel_run& c);
    // faults, housekeeping, figures
    void inject_fault();
    void sample(clock::time_point now);
    bool drain(std::chrono::seconds within);
    // the end
    bool check_database(const std::unordered_map<std::string, int>& posted);
    void summarize();

    double since_start_s(clock::time_point t) const {
        return std::chrono::duration<double>(t - begin_).count();
    }

    const options& opt_;
    std::string work_;
    soak_slack sim_;
    script script_;
    std::string db_path_;
    std::string log_path_;
    unsigned short health_port_;

    std::unique_ptr<child> bot_;
    int starts_ = 0;
    int kills_ = 0;
    int hellos_ = 0;
    std::vector<std::string> unexpected_exits_;
    std::vector<double> rss_before_kill_;

    std::vector<channel_run> channels_;
    std::size_t turn_ = 0;
    std::unordered_map<std::string, envelope_record> envelopes_;
    std::unordered_map<std::string, int> channel_of_flight_;
    long next_envelope_ = 1;
    long skipped_ticks_ = 0;
    long refused_ = 0;
    long click_misses_ = 0;
    long modal_misses_ = 0;
    std::map<std::string, long> op_errors_;

    clock::time_point begin_{};
    clock::time_point end_{};
    std::vector<double> minute_latency_;
    std::vector<timed_latency> latencies_;
    long minute_sent_ = 0;
    long minute_acks_ = 0;
    long posts_at_last_sample_ = 0;
    std::string minute_faults_;
    int fault_turn_ = 0;
    std::map<std::string, int> faults_;
    std::vector<minute_row> rows_;
};

// --- relbot ----------------------------------------------------------------------------------

void soak_run::start_bot() {
    auto env = sim_.bot_environment();
    std::string admins;
    for (const auto& c : channels_) {
        admins += (admins.empty() ? "" : ",") + c.manager;
    }
    env["RELBOT_ADMINS"] = admins;
    env["RELBOT_DB"] = db_path_;
    env["RELBOT_TEMPLATES_DIR"] = work_ + "/templates";
    env["RELBOT_HEALTH_ADDR"] = "127.0.0.1:" + std::to_string(health_port_);
    // Reminders every minute once an item is overdue (due times are 30–150 s), the manager
    // told after two, no quiet hours, and checkpoints 20 s and 90 s after the deployment phase.
    env["RELBOT_REMINDER_INTERVAL"] = "60s";
    env["RELBOT_ESCALATE_AFTER"] = "2";
    env["RELBOT_QUIET_HOURS"] = "0-0";
    env["RELBOT_CHECKPOINTS"] = "20s,90s";
    env["RELBOT_LOG_LEVEL"] = "info";
    bot_ = std::make_unique<child>(std::vector<std::string>{opt_.relbot}, env, log_path_);
    ++starts_;
}

void soak_run::kill_and_restart() {
    if (bot_) {
        rss_before_kill_.push_back(static_cast<double>(figures_of(bot_->pid()).rss_kib) / 1024.0);
    }
    bot_.reset();  // SIGKILL, and reaped
    ++kills_;
    ++faults_["SIGKILL and restart"];
    minute_faults_ += "K";
    start_bot();
}

void soak_run::watch_bot() {
    if (!bot_) {
        return;
    }
    if (auto status = bot_->poll()) {
        auto what = "relbot exited on its own with status " + std::to_string(*status) + " at " +
                    fixed(since_start_s(clock::now()) / 60.0, 1) + " min";
        std::fprintf(stderr, "relbot-bench-soak: %s; restarting (see %s)\n", what.c_str(),
                     log_path_.c_str());
        unexpected_exits_.push_back(what);
        start_bot();
    }
}

// --- the load --------------------------------------------------------------------------------

// The next idle channel (round robin) takes its next step; none idle: the tick is skipped.
void soak_run::tick(clock::time_point now) {
    for (std::size_t n = 0; n < channels_.size(); ++n) {
        auto& c = channels_[turn_++ % channels_.size()];
        if (c.busy) {
            continue;
        }
        send_step(c, script_.next(c, opt_.chatter), now);
        return;
    }
    ++skipped_ticks_;
}

// Sends `s` as the channel's one envelope in flight (a click first waits for the sandbox to
// find its control), and records the envelope for the checks.
void soak_run::send_step(channel_run& c, step s, clock::time_point now) {
    if (s.how == via::modal && !sim_.status_posted_since(c.id, c.started)) {
        // The status message of this release is not in the channel yet (the outbox may be
        // held up by a fault): the modal would open on the previous release's. Type it.
        s = typed(c.manager, s.fallback);
        s.audited = true;
    }
    auto id = "soak-" + std::to_string(next_envelope_++);
    envelope_record rec;
    rec.channel = c.id;
    rec.how = s.how;
    json op;
    stage at = stage::ack;
    switch (s.how) {
        case via::slash:
            rec.command = s.text;
            rec.success = success_prefix(s.text);
            if (s.audited) {
                rec.audit = s.text.substr(s.text.find("soak "));
            }
            op = {{"op", "slash_command"},
                  {"text", s.text},
                  {"channel_id", c.id},
                  {"user_id", s.user}};
            break;
        case via::click:
        case via::modal:
            rec.command = "click " + s.label;
            op = {{"op", "click"}, {"user_id", s.user}, {"label", s.label}};
            op.update(s.where);
            at = stage::click_sent;
            break;
        case via::home:
            rec.command = "home_opened";
            op = {{"op", "home_opened"}, {"user_id", s.user}};
            break;
    }
    op["envelope_id"] = id;
    envelopes_[id] = std::move(rec);
    channel_of_flight_[id] = c.index;
    c.busy = flight{std::move(s), id, at, now};
    sim_.send(std::move(op));
    ++minute_sent_;
}

void soak_run::done_with(channel_run& c) {
    if (c.busy) {
        channel_of_flight_.erase(c.busy->id);
    }
    c.busy.reset();
}

void soak_run::handle(const sim_event& e, clock::time_point now) {
    using kind = sim_event::kind;
    if (e.what == kind::hello) {
        ++hellos_;
        return;
    }
    if (e.what == kind::view_opened) {
        for (auto& c : channels_) {
            // relbot may open the modal before it acknowledges the click.
            if (!c.busy || c.busy->what.user != e.user ||
                (c.busy->at != stage::modal_wait && c.busy->at != stage::ack &&
                 c.busy->at != stage::click_sent) ||
                (c.busy->what.how != via::modal && !c.busy->what.may_force)) {
                continue;
            }
            auto& f = *c.busy;
            bool wanted = f.what.may_force ? e.text == "next_force" : e.text == f.what.modal;
            if (!wanted) {
                continue;
            }
            // Typed into the modal and submitted: a second envelope, recorded on its own.
            auto text = f.what.may_force ? script_.unique("force") : f.what.text;
            auto id = "soak-" + std::to_string(next_envelope_++);
            envelope_record rec;
            rec.channel = c.id;
            rec.how = via::modal;
            rec.command = "submit " + e.text;
            rec.audit = f.what.audited ? text : "";
            envelopes_[id] = std::move(rec);
            channel_of_flight_.erase(f.id);
            channel_of_flight_[id] = c.index;
            f.id = id;
            f.at = stage::submit_sent;
            f.since = now;
            sim_.send({{"op", "submit"},
                       {"envelope_id", id},
                       {"user_id", e.user},
                       {"values", {{f.what.may_force ? "reason" : f.what.field, text}}}});
            ++minute_sent_;
            return;
        }
        return;
    }
    auto which = channel_of_flight_.find(e.id);
    auto* rec = envelopes_.contains(e.id) ? &envelopes_[e.id] : nullptr;
    if (e.what == kind::ack) {
        if (rec == nullptr) {
            return;
        }
        if (e.latency_ms >= 0) {
            minute_latency_.push_back(e.latency_ms);
            latencies_.push_back(
                {static_cast<float>(since_start_s(now)), static_cast<float>(e.latency_ms)});
        }
        ++minute_acks_;
        if (rec->acks++ == 0) {
            rec->acked = true;
            rec->reply = e.text.substr(0, 80);
        }
        if (which != channel_of_flight_.end()) {
            on_acked(channels_[static_cast<std::size_t>(which->second)], e, now);
        }
        return;
    }
    if (which == channel_of_flight_.end()) {
        return;
    }
    auto& c = channels_[static_cast<std::size_t>(which->second)];
    if (!c.busy || c.busy->id != e.id) {
        return;
    }
    auto& f = *c.busy;
    if (e.what == kind::click_sent && f.at == stage::click_sent) {
        f.at = stage::ack;
        f.since = now;
    } else if (e.what == kind::submit_sent && f.at == stage::submit_sent) {
        f.at = stage::submit_ack;
        f.since = now;
    } else if (e.what == kind::op_error) {
        // "click: no control \"Done\" for …" → "click: no control \"Done\"".
        auto quote = e.text.find('"', e.text.find('"') + 1);
        ++op_errors_[e.text.substr(0, quote == std::string::npos ? 40 : quote + 1)];
        if (f.at == stage::ack || f.at == stage::submit_ack) {
            // A redelivery the sandbox could not make (the modal is closed): Slack gives up.
            envelopes_[e.id].gave_up = true;
            done_with(c);
            return;
        }
        // The click found no such control (its message is not posted yet, or is gone), or the
        // modal is no longer open: no envelope was sent. Type it instead, if it can be.
        ++click_misses_;
        envelopes_.erase(e.id);
        auto s = std::move(f.what);
        done_with(c);
        if (!s.fallback.empty()) {
            auto instead = typed(s.how == via::modal ? c.manager : s.user, s.fallback);
            instead.audited = s.audited;
            c.plan.push_front(std::move(instead));
        }
    }
}

void soak_run::on_acked(channel_run& c, const sim_event& e, clock::time_point now) {
    if (!c.busy || c.busy->id != e.id) {
        return;
    }
    auto& f = *c.busy;
    auto& rec = envelopes_[e.id];
    if (f.at == stage::submit_ack || f.at == stage::submit_sent) {
        // A submission that is not answered with errors closes the modal and applies.
        rec.expect_change = !e.errors;
        done_with(c);
        return;
    }
    if (f.at != stage::ack && f.at != stage::click_sent) {
        return;
    }
    if (f.what.how == via::slash) {
        rec.expect_change = !rec.success.empty() && e.text.starts_with(rec.success);
        if (!rec.success.empty() && !rec.expect_change) {
            ++refused_;
        }
        auto s = std::move(f.what);
        done_with(c);
        if (s.learn) {
            script_.learn(c, s, e.text);
        }
        return;
    }
    if (f.what.how == via::modal || f.what.may_force) {
        f.at = stage::modal_wait;
        f.since = now;
        return;
    }
    done_with(c);
}

// Redelivers what was not acknowledged within 6 s (as Slack does, up to 3 more times), and
// gives up on modals that did not open and clicks the sandbox did not answer.
void soak_run::check_flights(clock::time_point now) {
    for (auto& c : channels_) {
        if (!c.busy) {
            continue;
        }
        auto& f = *c.busy;
        auto waited = now - f.since;
        switch (f.at) {
            case stage::click_sent:
            case stage::submit_sent:
                if (waited > 10s) {
                    envelopes_.erase(f.id);
                    done_with(c);
                }
                break;
            case stage::modal_wait:
                if (f.what.may_force && waited > 1500ms) {
                    done_with(c);  // no modal: the click moved the release on (or was refused)
                } else if (waited > 5s) {
                    ++modal_misses_;
                    sim_.send({{"op", "close_view"}, {"user_id", f.what.user}});
                    done_with(c);
                }
                break;
            case stage::ack:
            case stage::submit_ack:
                if (waited > 6s) {
                    redeliver(c, now);
                }
                break;
        }
    }
}

void soak_run::redeliver(channel_run& c, clock::time_point now) {
    auto& f = *c.busy;
    auto& rec = envelopes_[f.id];
    if (rec.deliveries >= 4) {
        rec.gave_up = true;
        auto s = std::move(f.what);
        done_with(c);
        if (s.learn) {
            c.plan.clear();  // the next refill asks again
        }
        return;
    }
    ++rec.deliveries;
    f.since = now;
    json op;
    if (f.at == stage::submit_ack) {
        op = {{"op", "submit"},
              {"user_id", f.what.user},
              {"values", {{f.what.may_force ? "reason" : f.what.field, f.what.text}}}};
    } else if (f.what.how == via::slash) {
        op = {{"op", "slash_command"},
              {"text", f.what.text},
              {"channel_id", c.id},
              {"user_id", f.what.user},
              {"retry_attempt", rec.deliveries - 1},
              {"retry_reason", "timeout"}};
    } else if (f.what.how == via::home) {
        op = {{"op", "home_opened"}, {"user_id", f.what.user}};
    } else {
        op = {{"op", "click"}, {"retry_attempt", rec.deliveries - 1}};
    }
    op["envelope_id"] = f.id;
    sim_.send(std::move(op));
}

// --- faults and figures ----------------------------------------------------------------------

// The rotation: a refresh_requested disconnect, a 429 storm, a TCP drop, slow answers (every
// other time one past relbot's 15 s Web API timeout, so the outcome of a post is unknown to
// it), a 5xx burst.
void soak_run::inject_fault() {
    auto fail = [&](const char* method, unsigned status, int times, int delay_ms = 0) {
        sim_.send({{"op", "fail"},
                   {"method", method},
                   {"status", status},
                   {"retry_after", 1},
                   {"delay_ms", delay_ms},
                   {"times", times}});
    };
    switch (fault_turn_++ % 5) {
        case 0:
            sim_.send({{"op", "disconnect"}, {"reason", "refresh_requested"}});
            ++faults_["refresh_requested"];
            minute_faults_ += "R";
            break;
        case 1:
            fail("chat.postMessage", 429, 6);
            fail("chat.update", 429, 6);
            ++faults_["429 storm"];
            minute_faults_ += "4";
            break;
        case 2:
            sim_.send({{"op", "drop"}});
            ++faults_["TCP drop"];
            minute_faults_ += "D";
            break;
        case 3:
            fail("chat.postMessage", 200, 3, 2500);
            fail("chat.update", 200, 3, 1500);
            if (fault_turn_ % 2 == 0) {
                fail("chat.postMessage", 200, 1, 16000);
                ++faults_["answer past the 15 s timeout"];
            }
            ++faults_["slow answers"];
            minute_faults_ += "S";
            break;
        default:
            fail("chat.postMessage", 500, 4);
            fail("chat.postMessage", 503, 2);
            fail("chat.update", 502, 4);
            ++faults_["5xx burst"];
            minute_faults_ += "5";
            break;
    }
}

void soak_run::sample(clock::time_point now) {
    minute_row row;
    row.at_min = since_start_s(now) / 60.0;
    row.sent = minute_sent_;
    row.acks = minute_acks_;
    row.p50 = quantile(minute_latency_, 0.5);
    row.p99 = quantile(minute_latency_, 0.99);
    row.max = quantile(minute_latency_, 1.0);
    if (bot_) {
        auto f = figures_of(bot_->pid());
        row.age_s = std::chrono::duration<double>(now - bot_->started()).count();
        row.rss_mib = f.rss_kib < 0 ? -1 : static_cast<double>(f.rss_kib) / 1024.0;
        row.fds = f.fds;
        row.sockets = f.sockets;
        row.threads = f.threads;
    }
    row.wal_mib = static_cast<double>(file_size(db_path_ + "-wal")) / (1024.0 * 1024.0);
    row.backlog = metric(health_port_, "relbot_outbox_pending");
    auto posts = sim_.posts_ok();
    row.posts = posts - posts_at_last_sample_;
    posts_at_last_sample_ = posts;
    row.faults = minute_faults_.empty() ? "-" : minute_faults_;
    if (rows_.empty()) {
        std::printf(
            "| min | relbot age (s) | sent | acks | ack p50 (ms) | ack p99 (ms) | ack max (ms) | "
            "RSS (MiB) | fds (sockets) | threads | WAL (MiB) | outbox backlog | posts | faults |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    }
    std::printf("| %s | %s | %ld | %ld | %s | %s | %s | %s | %d (%d) | %d | %s | %s | %ld | %s |\n",
                fixed(row.at_min, 1).c_str(), fixed(row.age_s, 0).c_str(), row.sent, row.acks,
                fixed(row.p50, 2).c_str(), fixed(row.p99, 2).c_str(), fixed(row.max, 1).c_str(),
                fixed(row.rss_mib, 1).c_str(), row.fds, row.sockets, row.threads,
                fixed(row.wal_mib, 2).c_str(),
                row.backlog < 0 ? "-" : fixed(row.backlog, 0).c_str(), row.posts,
                row.faults.c_str());
    std::fflush(stdout);
    rows_.push_back(std::move(row));
    minute_latency_.clear();
    minute_sent_ = 0;
    minute_acks_ = 0;
    minute_faults_.clear();
}

// Waits until relbot has nothing left to send (its outbox backlog 0, read from /metrics
// whenever the sandbox has seen a Web API call, or every second) and the Web API has been
// quiet for 5 s. Whether that happened within `within`.
bool soak_run::drain(std::chrono::seconds within) {
    auto until = clock::now() + within;
    std::vector<sim_event> events;
    while (clock::now() < until) {
        watch_bot();
        bool quiet = clock::now() - sim_.last_call() > 5s;
        if (quiet && metric(health_port_, "relbot_outbox_pending") == 0) {
            return true;
        }
        events.clear();
        sim_.take(events, std::min(until, clock::now() + 1s));
        for (const auto& e : events) {
            handle(e, clock::now());
        }
    }
    return false;
}

int soak_run::run() {
    std::printf(
        "relbot-bench-soak: %s min, %s envelopes/s over %d channels, SIGKILL every %s min, "
        "a fault every %s s; work folder %s\n\n",
        fixed(opt_.minutes, 1).c_str(), fixed(opt_.rate, 1).c_str(), opt_.channels,
        fixed(opt_.kill_every_min, 1).c_str(), fixed(opt_.fault_every_s, 0).c_str(), work_.c_str());
    std::fflush(stdout);
    start_bot();
    {
        std::vector<sim_event> events;
        auto until = clock::now() + 15s;
        while (hellos_ == 0 && clock::now() < until) {
            events.clear();
            sim_.take(events, until);
            for (const auto& e : events) {
                handle(e, clock::now());
            }
        }
        if (hellos_ == 0) {
            std::fprintf(stderr, "relbot-bench-soak: relbot did not connect within 15 s; see %s\n",
                         log_path_.c_str());
            return 1;
        }
    }
    begin_ = clock::now();
    end_ = begin_ + std::chrono::duration_cast<clock::duration>(
                        std::chrono::duration<double, std::ratio<60>>(opt_.minutes));
    auto every = [](double seconds) {
        return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    };
    auto never = clock::time_point::max();
    auto tick_period = every(1.0 / opt_.rate);
    auto next_tick = begin_;
    auto next_sample = begin_ + every(opt_.sample_every_s);
    auto next_fault = opt_.fault_every_s > 0 ? begin_ + every(opt_.fault_every_s) : never;
    // Kills half a sample period after the minute, so that no sample lands on a restart.
    auto next_kill = opt_.kill_every_min > 0
                         ? begin_ + every(opt_.kill_every_min * 60 + opt_.sample_every_s / 2)
                         : never;
    auto next_trim = begin_ + 60s;
    std::vector<sim_event> events;
    for (auto now = clock::now(); now < end_; now = clock::now()) {
        auto wake =
            std::min({next_tick, next_sample, next_fault, next_kill, next_trim, end_, now + 200ms});
        events.clear();
        sim_.take(events, wake);
        now = clock::now();
        for (const auto& e : events) {
            handle(e, now);
        }
        if (now >= next_tick) {
            tick(now);
            next_tick += tick_period;
            next_tick = std::max(next_tick, now - 1s);  // behind by more: let it go
        }
        check_flights(now);
        watch_bot();
        if (now >= next_fault && next_fault < end_ - 30s) {
            inject_fault();
            next_fault += every(opt_.fault_every_s);
        }
        if (now >= next_kill && next_kill < end_ - 30s) {
            kill_and_restart();
            next_kill += every(opt_.kill_every_min * 60);
        }
        if (now >= next_trim) {
            // Five minutes of messages are enough to click in; the status messages are pinned.
            sim_.send({{"op", "trim"}, {"keep_s", 300}});
            next_trim += 60s;
        }
        if (now >= next_sample) {
            sample(now);
            next_sample += every(opt_.sample_every_s);
        }
    }
    if (rows_.empty() || rows_.back().at_min < opt_.minutes - 0.05) {
        sample(clock::now());
    }
    // The end: what is in flight is acknowledged (or redelivered until given up), every
    // release still active is aborted (so that no reminder falls due any more), relbot sends
    // what it owes, then stops cleanly.
    auto wind_down = clock::now();
    auto settle = [&](clock::time_point until) {
        while (clock::now() < until && std::any_of(channels_.begin(), channels_.end(),
                                                   [](const auto& c) { return c.busy; })) {
            events.clear();
            sim_.take(events, clock::now() + 200ms);
            for (const auto& e : events) {
                handle(e, clock::now());
            }
            check_flights(clock::now());
            watch_bot();
        }
    };
    settle(clock::now() + 40s);
    for (auto& c : channels_) {
        if (c.active && !c.busy) {
            send_step(c, typed(c.manager, "abort soak: the soak is over", true), clock::now());
        }
    }
    settle(clock::now() + 40s);
    bool drained = drain(300s);
    auto drain_s = std::chrono::duration<double>(clock::now() - wind_down).count();
    if (!drained) {
        std::printf("\nrelbot still had messages to send after 5 minutes of waiting\n");
    }
    int stopped = bot_ ? bot_->stop() : -1;
    bot_.reset();
    std::printf(
        "\nwound down in %s s (releases aborted, outbox drained); relbot stopped with "
        "exit status %d\n",
        fixed(drain_s, 1).c_str(), stopped);
    summarize();
    bool ok = check_database(sim_.posted());
    if (stopped != 0) {
        std::printf("FAIL  relbot's clean stop: exit status %d, not 0\n", stopped);
        ok = false;
    }
    if (!unexpected_exits_.empty()) {
        std::printf("FAIL  relbot ended on its own %zu time(s): %s\n", unexpected_exits_.size(),
                    unexpected_exits_.front().c_str());
        ok = false;
    }
    std::printf("\n%s (work folder %s)\n", ok ? "PASS" : "FAIL", work_.c_str());
    return ok ? 0 : 1;
}

// --- the end checks --------------------------------------------------------------------------

bool soak_run::check_database(const std::unordered_map<std::string, int>& posted) {
    SQLite::Database db(db_path_, SQLite::OPEN_READONLY);
    std::set<std::string> applied;
    {
        SQLite::Statement q(db, "SELECT key FROM applied_envelopes");
        while (q.executeStep()) {
            applied.insert(q.getColumn(0).getString());
        }
    }
    std::unordered_map<std::string, int> in_timeline;  // note or reason → rows
    {
        SQLite::Statement q(db,
                            "SELECT note FROM audit WHERE action IN ('item.noted', 'item.blocked', "
                            "'item.skipped') AND note LIKE 'soak %'");
        while (q.executeStep()) {
            ++in_timeline[q.getColumn(0).getString()];
        }
    }
    struct outbox_row {
        std::string state;
        std::string error;
    };
    std::unordered_map<std::string, outbox_row> outbox;
    std::map<std::string, long> by_kind;
    {
        SQLite::Statement q(
            db, "SELECT dedupe_key, state, error FROM outbox WHERE method = 'chat.postMessage'");
        while (q.executeStep()) {
            auto key = q.getColumn(0).getString();
            by_kind[key.substr(0, key.find(':'))]++;
            outbox[key] = {q.getColumn(1).getString(), q.getColumn(2).getString()};
        }
    }

    // Acknowledged commands.
    long acked = 0, changes = 0, lost = 0, twice = 0, audited = 0, never_acked = 0;
    long clicks_acked = 0, clicks_recorded = 0, redelivered = 0;
    // Up to a few examples per check, printed under its line.
    std::map<std::string, std::vector<std::string>> examples;
    auto example = [&](const std::string& check, std::string text) {
        auto& list = examples[check];
        if (list.size() < 8) {
            list.push_back(std::move(text));
        }
    };
    for (const auto& [id, rec] : envelopes_) {
        redelivered += rec.deliveries > 1 ? 1 : 0;
        if (rec.gave_up && !rec.acked) {
            ++never_acked;
            example("never", id + " (" + rec.command + ") in " + rec.channel);
        }
        if (!rec.acked) {
            continue;
        }
        ++acked;
        bool recorded = applied.contains("envelope:" + id);
        if (rec.how == via::click) {
            ++clicks_acked;
            clicks_recorded += recorded ? 1 : 0;
        }
        int rows = rec.audit.empty() ? 0 : in_timeline[rec.audit];
        if (!rec.audit.empty()) {
            ++audited;
            if (rows > 1) {
                ++twice;
                example("twice",
                        id + " (" + rec.command + "): " + std::to_string(rows) + " timeline rows");
            }
        }
        if (!rec.expect_change) {
            continue;
        }
        ++changes;
        if (!recorded || (!rec.audit.empty() && rows != 1)) {
            ++lost;
            example(
                "lost",
                id + " (" + rec.command + ") acked \"" + rec.reply.substr(0, 60) + "\" but " +
                    (recorded ? "its text is not in the timeline" : "has no redelivery record"));
        }
    }

    // Messages: the outbox's against what the sandbox accepted.
    long sent = 0, duplicated = 0, missing = 0, unsent = 0, failed = 0, stray = 0;
    for (const auto& [key, row] : outbox) {
        auto seen = posted.find(key);
        int n = seen == posted.end() ? 0 : seen->second;
        if (row.state == "sent") {
            ++sent;
            if (n == 0) {
                ++missing;
                example("owed", key + " is marked sent; Slack never accepted it");
            }
        } else if (row.state == "failed") {
            ++failed;
            example("owed", key + " failed: " + row.error);
        } else {
            ++unsent;
            example("owed", key + " is still " + row.state);
        }
        if (n > 1) {
            ++duplicated;
            example("dup", key + " was posted " + std::to_string(n) + " times");
        }
    }
    for (const auto& [key, n] : posted) {
        if (!outbox.contains(key)) {
            ++stray;
            example("stray", key + " (" + std::to_string(n) + "×) has no outbox row");
        }
    }

    std::printf("\nchecks\n");
    bool ok = true;
    auto line = [&](bool pass, const std::string& text, const std::string& check) {
        std::printf("%s  %s\n", pass ? "PASS" : "FAIL", text.c_str());
        for (const auto& e : examples[check]) {
            std::printf("        %s\n", e.c_str());
        }
        ok = ok && pass;
    };
    line(lost == 0,
         std::to_string(lost) + " of " + std::to_string(changes) +
             " acknowledged changes missing from the database (" + std::to_string(acked) +
             " envelopes acknowledged, " + std::to_string(audited) +
             " with a unique note or reason looked up in the timeline)",
         "lost");
    line(twice == 0,
         std::to_string(twice) + " notes or reasons applied more than once (" +
             std::to_string(redelivered) + " envelopes delivered again)",
         "twice");
    line(never_acked == 0,
         std::to_string(never_acked) + " envelopes never acknowledged after 4 deliveries", "never");
    line(duplicated == 0,
         std::to_string(duplicated) + " of " + std::to_string(outbox.size()) +
             " chat.postMessage outbox rows posted more than once",
         "dup");
    line(missing + unsent + failed == 0,
         std::to_string(missing + unsent + failed) + " owed messages not posted (" +
             std::to_string(missing) + " marked sent but never accepted, " +
             std::to_string(unsent) + " still unsent, " + std::to_string(failed) + " failed); " +
             std::to_string(sent) + " sent",
         "owed");
    line(stray == 0,
         std::to_string(stray) + " posts that no outbox row owed (" +
             std::to_string(sim_.posted_without_key()) + " without a key)",
         "stray");
    std::printf("      clicks acknowledged: %ld, of which changed something: %ld\n", clicks_acked,
                clicks_recorded);
    std::string kinds;
    for (const auto& [kind, n] : by_kind) {
        kinds += (kinds.empty() ? "" : ", ") + kind + " " + std::to_string(n);
    }
    std::printf("      messages owed, by kind: %s\n", kinds.c_str());
    return ok;
}

// First half against second half (after the first 10 minutes), and the first 10 minutes'
// ack p99 against the rest's (for a short run: its first quarter).
void soak_run::summarize() {
    double total_min = opt_.minutes;
    double warm = std::min(10.0, total_min / 4);
    double half = total_min / 2;
    struct halves {
        std::vector<double> a, b;
    };
    auto split = [&](auto get) {
        halves h;
        for (const auto& r : rows_) {
            double v = get(r);
            if (v < 0 || r.at_min <= warm || r.at_min > total_min + 0.01) {
                continue;
            }
            (r.at_min <= half ? h.a : h.b).push_back(v);
        }
        return h;
    };
    auto mean = [](const std::vector<double>& v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return v.empty() ? -1 : s / static_cast<double>(v.size());
    };
    auto latency = [&](double from_min, double to_min) {
        std::vector<double> v;
        for (const auto& l : latencies_) {
            double m = l.at_s / 60.0;
            if (m > from_min && m <= to_min) {
                v.push_back(l.ms);
            }
        }
        return v;
    };
    std::printf(
        "\nsummary: %s min; the halves are %s–%s and %s–%s min (the first %s min left "
        "out)\n",
        fixed(total_min, 1).c_str(), fixed(warm, 1).c_str(), fixed(half, 1).c_str(),
        fixed(half, 1).c_str(), fixed(total_min, 1).c_str(), fixed(warm, 1).c_str());
    std::printf("| figure | first half | second half | change | target |\n|---|---|---|---|---|\n");
    auto growth_row = [&](const char* name, auto get, int decimals, const char* target,
                          double limit) {
        auto h = split(get);
        double a = mean(h.a);
        double b = mean(h.b);
        double change = a > 0 ? (b - a) / a * 100 : 0;
        bool judged = a >= 0 && b >= 0 && limit > 0;
        std::printf("| %s | %s | %s | %s%% | %s%s |\n", name, fixed(a, decimals).c_str(),
                    fixed(b, decimals).c_str(), fixed(change, 1).c_str(), target,
                    !judged          ? ""
                    : change < limit ? " (met)"
                                     : " (MISSED)");
    };
    growth_row(
        "RSS, mean of the samples (MiB)", [](const minute_row& r) { return r.rss_mib; }, 1,
        "< +10 %", 10);
    growth_row(
        "open fds, mean", [](const minute_row& r) { return double(r.fds); }, 1, "< +10 %", 10);
    growth_row(
        "threads, mean", [](const minute_row& r) { return double(r.threads); }, 1, "", 0);
    growth_row(
        "WAL file (MiB), mean", [](const minute_row& r) { return r.wal_mib; }, 2, "", 0);
    growth_row(
        "outbox backlog, mean", [](const minute_row& r) { return r.backlog; }, 1, "", 0);
    auto pa = quantile(latency(warm, half), 0.99);
    auto pb = quantile(latency(half, total_min + 1), 0.99);
    std::printf("| ack p99 (ms) | %s | %s | %s%% | |\n", fixed(pa, 2).c_str(), fixed(pb, 2).c_str(),
                fixed(pa > 0 ? (pb - pa) / pa * 100 : 0, 1).c_str());
    auto first = quantile(latency(-1, warm), 0.99);
    auto rest = quantile(latency(warm, total_min + 1), 0.99);
    std::printf("\nack p99: first %s min %s ms, the rest %s ms (%s×; target <= 2×%s)\n",
                fixed(warm, 1).c_str(), fixed(first, 2).c_str(), fixed(rest, 2).c_str(),
                fixed(first > 0 ? rest / first : 0, 2).c_str(),
                first > 0 && rest <= 2 * first ? ", met" : ", MISSED");
    std::string before_kill;
    for (double r : rss_before_kill_) {
        before_kill += (before_kill.empty() ? "" : ", ") + fixed(r, 1);
    }
    std::printf("RSS just before each SIGKILL (MiB): %s\n",
                before_kill.empty() ? "none" : before_kill.c_str());
    std::string faults;
    for (const auto& [what, n] : faults_) {
        faults += (faults.empty() ? "" : ", ") + what + " " + std::to_string(n);
    }
    std::printf("the soak's own RSS (the sandbox in it, trimmed every minute): %s MiB\n",
                fixed(static_cast<double>(memory_of(::getpid()).rss) / 1024.0, 1).c_str());
    std::printf("faults: %s; relbot started %d times, %d hellos\n",
                faults.empty() ? "none" : faults.c_str(), starts_, hellos_);
    std::string answers;
    for (const auto& [what, n] : sim_.answers()) {
        if (what.find(" ok") == std::string::npos || what.starts_with("chat.")) {
            answers += (answers.empty() ? "" : ", ") + what + " " + std::to_string(n);
        }
    }
    std::printf("Web API answers: %s\n", answers.c_str());
    std::printf(
        "ticks skipped (every channel busy): %ld; commands refused (bad input, not "
        "allowed, not yet): %ld; clicks with no such control: %ld; modals that did not "
        "open: %ld\n",
        skipped_ticks_, refused_, click_misses_, modal_misses_);
    for (const auto& [what, n] : op_errors_) {
        std::printf("      sandbox op errors %s: %ld\n", what.c_str(), n);
    }
}

options parse_args(int argc, char** argv) {
    options o;
    auto number = [](double& to) { return [&to](const std::string& v) { to = std::stod(v); }; };
    read_options(
        argc, argv,
        {{"--minutes", number(o.minutes)},
         {"--rate", number(o.rate)},
         {"--channels", [&](const std::string& v) { o.channels = std::stoi(v); }},
         {"--chatter", number(o.chatter)},
         {"--kill-every", number(o.kill_every_min)},
         {"--fault-every", number(o.fault_every_s)},
         {"--sample-seconds", number(o.sample_every_s)},
         {"--seed", [&](const std::string& v) { o.seed = static_cast<unsigned>(std::stoul(v)); }},
         {"--relbot", [&](const std::string& v) { o.relbot = v; }},
         {"--work", [&](const std::string& v) { o.work = v; }}});
    if (o.minutes <= 0 || o.rate <= 0 || o.channels < 1 || o.channels > 99 || o.chatter < 0 ||
        o.chatter > 0.95 || o.kill_every_min < 0 || o.fault_every_s < 0 || o.sample_every_s < 1) {
        throw std::invalid_argument(
            "--minutes and --rate must be > 0, --channels 1 to 99, --chatter 0 to 0.95, "
            "--sample-seconds >= 1, --kill-every and --fault-every >= 0");
    }
    if (o.relbot.empty()) {
        o.relbot = executable_dir() + "/relbot";
    }
    if (o.work.empty()) {
        std::string pattern = (fs::temp_directory_path() / "relbot-soak-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("cannot create a work folder under " +
                                     fs::temp_directory_path().string());
        }
        o.work = pattern;
    } else {
        fs::create_directories(o.work);
        if (fs::exists(fs::path(o.work) / "relbot.db")) {
            throw std::invalid_argument("--work " + o.work + " already holds a relbot.db");
        }
    }
    return o;
}

}  // namespace
}  // namespace relbot::bench::soak

int main(int argc, char** argv) {
    auto parsed = relbot::bench::parse_or_usage(
        "relbot-bench-soak",
        "relbot-bench-soak [--minutes 120] [--rate 25] [--channels 20] [--chatter 0.8] "
        "[--kill-every MIN] [--fault-every S] [--sample-seconds 60] [--seed N] [--relbot PATH] "
        "[--work DIR]",
        relbot::bench::soak::parse_args, argc, argv);
    if (!parsed) {
        return 2;
    }
    try {
        relbot::bench::soak::soak_run s(*parsed);
        return s.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "relbot-bench-soak: %s\n", e.what());
        return 1;
    }
}
