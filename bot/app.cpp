// The composition of the running bot and the per-envelope flow: envelope → commands::shell
// (one transaction: decide, write, record) → ack payload → wake the notifier.
#include "bot/app.hpp"

#include <algorithm>
#include <ctime>
#include <deque>
#include <random>

#include "bot/backoff.hpp"
#include "bot/health.hpp"
#include "bot/home.hpp"
#include "bot/interactions.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "bot/notifier.hpp"
#include "bot/scheduler.hpp"
#include "bot/socket_mode.hpp"
#include "bot/tls.hpp"
#include "bot/web_api.hpp"
#include "commands/apply.hpp"
#include "commands/parse.hpp"
#include "commands/render.hpp"
#include "storage/open.hpp"

namespace relbot::bot {
namespace {

checklist::epoch_seconds system_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string text_reply(std::string_view text) {
    return commands::dump_json(commands::to_ack_payload(commands::render_text(text)));
}

// The subcommand as metrics label it: its name when it is one of ours, else "unknown".
std::string command_label(std::string_view text) {
    auto w = commands::words(text);
    auto first = w.size() > 0 ? std::string(w[0]) : std::string("help");
    std::transform(first.begin(), first.end(), first.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const auto& e : commands::command_table()) {
        if (e.name == first) {
            return first;
        }
    }
    return "unknown";
}

template <class... Fs>
struct overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

// Turns each envelope into its effect and its acknowledgement payload.
class dispatcher final : public envelope_handler {
public:
    dispatcher(net::io_context& ioc,
               const config& cfg,
               const checklist::template_library& templates,
               storage::engine& store,
               notifier& notify,
               scheduler& schedule,
               slack_api& api)
        : store_(store),
          shell_(store, templates, cfg.admins),
          home_(ioc, store, api, real_clock()),
          interactions_(ioc, shell_, store, api, notify),
          notifier_(notify),
          scheduler_(schedule),
          wake_timer_(ioc) {}

    // Slack said the app lost its access ("tokens_revoked", "app_uninstalled"); empty if not.
    const std::string& access_revoked() const { return revoked_; }

    std::optional<slack::json_text> handle(const frame& f) override {
        return std::visit(
            overloaded{
                [&](const slash_command_envelope& s) -> std::optional<slack::json_text> {
                    return handle_command(s);
                },
                [&](const events_api_envelope& e) -> std::optional<slack::json_text> {
                    record_event(e);
                    return std::nullopt;
                },
                [&](const interactive_envelope& i) -> std::optional<slack::json_text> {
                    auto r = interactions_.handle(i.envelope_id, i.payload);
                    wake_after_ack_ = wake_after_ack_ || r.wake;
                    if (!r.home_user.empty()) {
                        home_.clicked(r.home_user);
                    }
                    return std::move(r.ack_payload);
                },
                [&](const other_envelope& o) -> std::optional<slack::json_text> {
                    log_info("envelope.ignored")
                        .kv("type", o.type)
                        .kv("envelope_id", o.envelope_id);
                    return std::nullopt;
                },
                [&](const malformed_frame& m) -> std::optional<slack::json_text> {
                    log_warn("envelope.malformed")
                        .kv("reason", m.reason)
                        .kv("envelope_id", m.envelope_id);
                    return std::nullopt;
                },
                [&](const auto&) -> std::optional<slack::json_text> { return std::nullopt; },
            },
            f);
    }

private:
    // The shell applies the command (one transaction: decide, write, record the envelope);
    // this adds what the bot does around it: wakes, logs, metrics, and replies to failures.
    slack::json_text handle_command(const slash_command_envelope& s) {
        auto started = std::chrono::steady_clock::now();
        try {
            auto out = shell_.apply_command({s.team_id, s.channel_id, s.user_id, s.text,
                                             system_now(), s.response_url, s.channel_name},
                                            "envelope:" + s.envelope_id);
            if (out.redelivered) {
                log_info("command.redelivered")
                    .kv("envelope_id", s.envelope_id)
                    .kv("retry_attempt", s.retry_attempt);
                return std::move(out.ack_json);
            }
            // Once the ack is out, the notifier and the scheduler look at a change to more than
            // the timeline, and the scheduler looks up someone new's name (users.info).
            bool new_person = scheduler_.person_seen(s.user_id);
            wake_after_ack_ = wake_after_ack_ || new_person || out.state_changed;
            // Logged and counted once the ack is out: not something the ack should wait for.
            bool bad_input = out.name == "bad_input";
            handled_.push_back({bad_input ? command_label(s.text) : out.name,
                                bad_input ? "bad_input" : (out.refused ? "refused" : "ok"),
                                std::move(out.name), out.refused, s.channel_id, s.user_id,
                                s.envelope_id,
                                std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - started)
                                    .count()});
            return std::move(out.ack_json);
        } catch (const storage::busy_error&) {
            process_metrics().commands.add({command_label(s.text), "busy"});
            log_warn("command.busy").kv("channel", s.channel_id).kv("envelope_id", s.envelope_id);
            return text_reply(
                ":hourglass: The database is busy right now and nothing was changed. "
                "Please try the command again in a moment.");
        } catch (const std::exception& e) {
            process_metrics().commands.add({command_label(s.text), "error"});
            log_error("command.failed")
                .kv("channel", s.channel_id)
                .kv("envelope_id", s.envelope_id)
                .kv("error", e.what());
            return text_reply(
                ":warning: Something went wrong and nothing was changed. Please try again; if it "
                "keeps failing, tell whoever runs relbot.");
        }
    }

    // One log line per envelope, written after its ack: what it was, what the command did,
    // and how long the ack took.
    void acknowledged(const ack_report& r) override {
        auto h = std::find_if(handled_.begin(), handled_.end(), [&](const handled_command& c) {
            return c.envelope_id == r.envelope_id;
        });
        if (h == handled_.end()) {
            log_ack(r);
        } else {
            process_metrics().commands.add({h->label, h->outcome});
            log_info("envelope")
                .kv("type", r.type)
                .kv("envelope_id", r.envelope_id)
                .kv("retry_attempt", r.retry_attempt)
                .kv("session", r.session)
                .kv("command", h->name)
                .kv("outcome", h->refused ? "refused" : "ok")
                .kv("channel", h->channel)
                .kv("user", h->user)
                .kv("us", h->us)
                .kv("ack_us", r.ack_us)
                .kv("acked", r.written);
            handled_.erase(h);
        }
        if (wake_after_ack_ && !wake_scheduled_) {
            // One look for all the changes of the next few milliseconds: in a burst of
            // commands the notifier and the scheduler run once per batch, not once per
            // envelope, and never between an envelope and its ack.
            wake_after_ack_ = false;
            wake_scheduled_ = true;
            wake_timer_.expires_after(wake_batch);
            wake_timer_.async_wait([this](const error_code& ec) {
                if (ec == net::error::operation_aborted) {
                    return;  // the app is going away
                }
                wake_scheduled_ = false;
                notifier_.wake();
                scheduler_.wake();
                home_.changed();
            });
        }
    }

    void record_event(const events_api_envelope& e) {
        if (e.event_id.empty()) {
            return;
        }
        try {
            auto tx = store_.work().begin();
            auto key = "event:" + e.event_id;
            if (store_.applied().record_applied(key, "{}", system_now())) {
                if (e.event_type == "app_home_opened") {
                    home_opened(e);
                } else if (e.event_type == "tokens_revoked" || e.event_type == "app_uninstalled") {
                    revoked_ = e.event_type;
                    log_error("slack.access_revoked")
                        .kv("event", e.event_type)
                        .kv("hint",
                            "reinstall the app and put the new tokens in the "
                            "configuration; /healthz reports this until relbot restarts");
                } else {
                    log_info("event.ignored").kv("type", e.event_type).kv("event_id", e.event_id);
                }
            }
            tx->commit();
        } catch (const std::exception& ex) {
            log_error("event.failed").kv("event_id", e.event_id).kv("error", ex.what());
        }
    }

    // app_home_opened on the Home tab (not the Messages tab): publish that person's Home.
    void home_opened(const events_api_envelope& e) {
        const auto& ev = e.payload.value("event", nlohmann::json::object());
        auto user = ev.value("user", std::string());
        if (ev.value("tab", std::string("home")) == "home" && !user.empty()) {
            home_.opened(user);
        }
    }

    storage::engine& store_;
    commands::shell shell_;
    home_publisher home_;
    interactions interactions_;
    notifier& notifier_;
    scheduler& scheduler_;
    static constexpr std::chrono::milliseconds wake_batch{10};
    bool wake_after_ack_ = false;
    bool wake_scheduled_ = false;
    net::steady_timer wake_timer_;
    std::string revoked_;  // tokens_revoked or app_uninstalled, once Slack has said so

    // A command handled whose ack is not written yet, for its log line.
    struct handled_command {
        std::string label;    // for the commands metric
        const char* outcome;  // ok, refused or bad_input
        std::string name;
        bool refused = false;
        std::string channel;
        std::string user;
        std::string envelope_id;
        long long us = 0;
    };
    std::deque<handled_command> handled_;  // in the order their acks are written
};

// "2026-11-26T08:30:00Z"
std::string iso_utc(std::chrono::system_clock::time_point t) {
    auto seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

// What /healthz and /metrics report, read on the loop thread when asked.
class operator_view final : public health_source {
public:
    operator_view(storage::engine& store, socket_mode_client& client, const dispatcher& handler)
        : store_(store), client_(client), handler_(handler) {}

    health_report health() override {
        health_report r;
        r.connections = client_.live_connections();
        try {
            r.outbox_pending = store_.outbox().count_outbox(storage::outbox_state::pending);
            r.db_ok = true;
        } catch (const std::exception& e) {
            r.db_error = e.what();
        }
        if (auto at = client_.last_hello()) {
            r.last_hello = iso_utc(*at);
        }
        if (client_.disabled()) {
            r.reason = "Socket Mode is turned off for the app (link_disabled)";
        } else if (!handler_.access_revoked().empty()) {
            r.reason = "Slack says " + handler_.access_revoked();
        } else if (!r.db_ok) {
            r.reason = "the database does not answer";
        } else if (r.connections == 0) {
            r.reason = "no Socket Mode connection";
        }
        r.healthy = r.reason.empty();
        return r;
    }

    std::string metrics_page() override {
        metrics_snapshot now;
        now.connections_open = client_.live_connections();
        try {
            now.outbox_pending = store_.outbox().count_outbox(storage::outbox_state::pending);
            now.outbox_failed = store_.outbox().count_outbox(storage::outbox_state::failed);
            now.releases_active = store_.releases().count_active_releases();
        } catch (const std::exception& e) {
            log_warn("metrics.db_failed").kv("error", e.what());
        }
        auto log = store_.housekeeping();
        now.wal_frames = std::max(0, log.log_frames);
        now.checkpoints_ok = log.rounds - log.failures;
        now.checkpoints_failed = log.failures;
        return render_prometheus(process_metrics(), now);
    }

private:
    storage::engine& store_;
    socket_mode_client& client_;
    const dispatcher& handler_;
};

https_endpoint endpoint_of(const config& cfg) {
    auto e = parse_https_url(cfg.api_url);
    if (!e) {
        // config.cpp accepts only https URLs, so this is a broken invariant.
        throw std::logic_error("SLACK_API_URL is not an https URL");
    }
    return *e;
}

}  // namespace

struct app::impl {
    impl(net::io_context& ioc_, const config& cfg_, const checklist::template_library& templates)
        : ioc(ioc_),
          cfg(cfg_),
          tls(make_tls_context()),
          engine(storage::open({cfg.db_path})),
          store(*engine),
          api(tls, endpoint_of(cfg), cfg.bot_token, cfg.app_token),
          notify(notifier_ports::of(store), api, real_clock()),
          schedule(scheduler_ports::of(store),
                   notify,
                   api,
                   checklist::reminder_rules{cfg.reminder_interval, cfg.escalate_after,
                                             cfg.quiet_from_hour, cfg.quiet_to_hour},
                   real_clock(),
                   cfg.checkpoints),
          handler(ioc, cfg, templates, store, notify, schedule, api),
          client(tls, api, handler, cfg.connections),
          sleep_timer(ioc),
          notifier_done_timer(ioc),
          rng(std::random_device{}()) {
        store.start_housekeeping();
        if (cfg.health_host) {
            view = std::make_unique<operator_view>(store, client, handler);
            health = std::make_unique<health_server>(ioc, *cfg.health_host, cfg.health_port, *view);
        }
    }

    net::io_context& ioc;
    config cfg;
    ssl::context tls;
    std::unique_ptr<storage::engine> engine;
    storage::engine& store;
    web_api api;
    notifier notify;
    scheduler schedule;
    dispatcher handler;
    socket_mode_client client;
    net::steady_timer sleep_timer;
    net::steady_timer notifier_done_timer;
    bool notifier_done = false;
    bool stopping = false;
    std::minstd_rand rng;
    // Last, so that they go first: they look at the client and the store.
    std::unique_ptr<operator_view> view;
    std::unique_ptr<health_server> health;

    // auth.test until Slack answers: nullopt to go on, or the exit status (stopped, or the
    // bot token refused).
    net::awaitable<std::optional<int>> authenticate();
    // The notifier and the scheduler, each with a completion handler that logs a crash.
    void start_background();
};

net::awaitable<std::optional<int>> app::impl::authenticate() {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    // A wrong bot token is fatal, anything else is retried.
    for (int failures = 0;;) {
        if (stopping) {
            co_return 0;
        }
        auto r = co_await api.call("auth.test", nlohmann::json::object(), token_kind::bot);
        if (r.ok()) {
            log_info("slack.auth_ok")
                .kv("team", r.body.value("team_id", ""))
                .kv("bot_user", r.body.value("user_id", ""));
            co_return std::nullopt;
        }
        if (r.outcome == api_outcome::slack_error && is_fatal_auth_error(r.error)) {
            log_error("slack.auth_failed")
                .kv("variable", "SLACK_BOT_TOKEN")
                .kv("error", r.error)
                .kv("hint",
                    "auth.test refused the bot token; copy the xoxb- token from the "
                    "app's OAuth & Permissions page");
            co_return 1;
        }
        ++failures;
        auto delay = r.outcome == api_outcome::rate_limited
                         ? std::chrono::milliseconds(r.retry_after)
                         : backoff_delay(failures, unit(rng));
        log_warn("slack.auth_retry").kv("error", r.error).kv("retry_in_ms", delay.count());
        sleep_timer.expires_after(delay);
        auto [ec] = co_await sleep_timer.async_wait(use_nothrow_awaitable);
        (void)ec;  // cancelled by request_stop(): the loop checks `stopping`
    }
}

void app::impl::start_background() {
    net::co_spawn(ioc, notify.run(), [this](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log_error("notifier.crashed").kv("error", ex.what());
            }
        }
        notifier_done = true;
        notifier_done_timer.cancel();
    });

    net::co_spawn(ioc, schedule.run(), [](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log_error("scheduler.crashed").kv("error", ex.what());
            }
        }
    });
}

app::app(net::io_context& ioc, const config& cfg, const checklist::template_library& templates)
    : impl_(std::make_unique<impl>(ioc, cfg, templates)) {}

app::~app() = default;

void app::request_stop() {
    auto& m = *impl_;
    if (m.stopping) {
        return;
    }
    m.stopping = true;
    log_info("shutdown.requested");
    if (m.health) {
        m.health->stop();
    }
    m.sleep_timer.cancel();
    m.client.stop();
    m.notify.stop();
    m.schedule.stop();
}

bool app::drained() const {
    return impl_->notifier_done;
}

void app::close_database() {
    auto& m = *impl_;
    // The main connection last: SQLite removes the files when the last one closes cleanly.
    m.store.close();  // the checkpointer first, then the main connection
    log_info("database.closed");
}

net::awaitable<int> app::run() {
    auto& m = *impl_;
    if (m.health) {
        m.health->start();
        log_info("health.listening")
            .kv("host", *m.cfg.health_host)
            .kv("port", static_cast<int>(m.health->port()));
    }
    // auth.test: learn who we are.
    auto refused = co_await m.authenticate();
    if (refused) {
        co_return *refused;
    }
    m.start_background();

    auto end = co_await m.client.run();
    m.schedule.stop();

    // Give the notifier up to 5 s to finish the message it is sending.
    m.notify.stop();
    if (!m.notifier_done) {
        m.notifier_done_timer.expires_after(std::chrono::seconds(5));
        auto [ec] = co_await m.notifier_done_timer.async_wait(use_nothrow_awaitable);
        (void)ec;  // cancelled when the notifier finished, or expired: either way we go on
    }
    log_info("shutdown.complete");
    co_return end == client_end::fatal ? 1 : 0;
}

}  // namespace relbot::bot
