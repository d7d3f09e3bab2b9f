// The composition of the running bot and the per-envelope flow: envelope → commands::shell
// (one transaction: decide, write, record) → ack payload → wake the notifier.
#include "bot/app.hpp"

#include <algorithm>
#include <ctime>
#include <deque>
#include <mutex>
#include <random>
#include <span>

#include "bot/backoff.hpp"
#include "bot/burst.hpp"
#include "bot/health.hpp"
#include "bot/home.hpp"
#include "bot/hooks.hpp"
#include "bot/idle_trim.hpp"
#include "bot/interactions.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "bot/notifier.hpp"
#include "bot/scheduler.hpp"
#include "bot/second_thread.hpp"
#include "bot/slack_answers.hpp"
#include "bot/socket_mode.hpp"
#include "bot/tls.hpp"
#include "bot/web_api.hpp"
#include "checklist/checkpoints.hpp"
#include "checklist/item_ref.hpp"
#include "checklist/mrkdwn.hpp"
#include "commands/apply.hpp"
#include "commands/parse.hpp"
#include "commands/render.hpp"
#include "commands/render/blocks.hpp"
#include "commands/router.hpp"
#include "slack/block_kit.hpp"
#include "storage/open.hpp"

namespace relbot::bot {
namespace {

// The store the configuration names.
storage::storage_options storage_of(const config& cfg) {
    storage::storage_options o;
    o.path = cfg.db_path;
    o.database_url = cfg.database_url;
    return o;
}

std::string text_reply(std::string_view text) {
    return commands::ack_payload_json(commands::render_text(text));
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

// Turns envelopes into their effects and acknowledgement payloads, on the database strand, in
// batches: the Socket Mode strand hands each envelope over (take) and
// goes on reading; the envelopes waiting when the database strand gets to them are applied in
// one transaction, each in its own savepoint (group commit), and their acks are handed back
// to the Socket Mode strand after the commit that holds their effects.
class dispatcher final : public envelope_handler, public signal_sink {
public:
    dispatcher(net::any_io_executor ioc,
               second_thread& helper,
               const config& cfg,
               const checklist::template_library& templates,
               storage::engine& store,
               notifier& notify,
               scheduler& schedule,
               slack_api& api)
        : ioc_(ioc),
          helper_(helper),
          store_(store),
          policy_{cfg.freezes, cfg.one_deploy_at_a_time},
          shell_(store, templates, cfg.admins, &policy_),
          checkpoint_offsets_(cfg.checkpoints),
          home_(ioc, store, api, real_clock()),
          interactions_(ioc, shell_, store, api, notify),
          notifier_(notify),
          scheduler_(schedule),
          wake_timer_(ioc),
          trim_(ioc),
          busy_reply_(text_reply(busy_text)) {}

    // The client whose envelopes these are (its answer() takes the acks).
    void attach(socket_mode_client& client) { client_ = &client; }

    // What `r`'s living status message shows besides the release (a freeze, another release
    // deploying), now. On the database strand.
    commands::deployment_outlook outlook(const checklist::release& r) {
        return shell_.outlook(r, real_clock().epoch_s());
    }

    // The file an outbox file row names, made now. On the database strand.
    std::optional<commands::upload_file> make_file(const storage::outbox_row& row) {
        return shell_.make_file(row.body, row.release_id, row.dedupe_key, real_clock().epoch_s());
    }

    // Another instance sharing the store may have committed something this one could do (a
    // message to post, a reminder due, a Home to refresh): the notifier, the scheduler and
    // App Home look again. Database strand.
    void look_again() {
        notifier_.wake();
        scheduler_.wake();
        home_.changed();
    }

    // Slack said the app lost its access ("tokens_revoked", "app_uninstalled"); empty if not.
    const std::string& access_revoked() const { return revoked_; }

    // The store has work for a moment when no envelope waits (use_quiet_moment). Any thread.
    void quiet_work_due() {
        net::post(ioc_, [this] { use_quiet_moment(); });
    }

    // Whether a burst is on (bot/burst.hpp), for the notifier. Any thread.
    bool in_burst() const {
        std::lock_guard lock(incoming_mutex_);
        return burst_.on(steady::now(), !incoming_.empty());
    }

    // Socket Mode strand: queue it; the database strand drains the queue.
    void take(job_ptr job) override {
        bool post = false;
        bool alone = false;
        {
            std::lock_guard lock(incoming_mutex_);
            auto received = job->received();
            alone = incoming_.empty() && !drain_posted_ && received - last_received_ > alone_after;
            burst_.arrived(received, alone);
            last_received_ = received;
            incoming_.push_back(std::move(job));
            post = !drain_posted_;
            drain_posted_ = true;
        }
        if (!alone) {
            helper_.wanted();  // a burst: one thread reads on while the other applies
        }
        if (post) {
            // Deferred: this thread takes the batch itself once it has finished reading (no
            // other thread is woken for a lone envelope, so it does not wait for a thread
            // switch), and the Socket Mode strand is free meanwhile (in a burst, or while the
            // database waits for a lock, the second thread reads and answers on).
            net::defer(ioc_, [this] { drain(); });
        }
    }

    // Socket Mode strand: the database strand did not get to the envelope in time, and never
    // will (the client has claimed it). Nothing was changed.
    std::optional<slack::json_text> late_answer(const frame& f) override {
        return failure_answer(f, failure::busy);
    }

private:
    // A batch holds at most this many envelopes (one transaction, one commit). On a database
    // several instances share, fewer: a batch holds the locks of the releases it writes until
    // it commits, and another instance's batch for the same release waits that long (at
    // about half a millisecond a write on PostgreSQL, 64 hold it some 30 ms; 1,024 held it
    // long enough for the others' envelopes to reach their deadline in a burst).
    static constexpr std::size_t max_batch = 1024;
    static constexpr std::size_t max_shared_batch = 64;
    // How long a batch waits for the write lock, from its oldest envelope's arrival: the
    // client answers an envelope nobody took by 2.5 s (socket_timing::answer_within).
    static constexpr std::chrono::milliseconds lock_wait_within{2'300};

    // Database strand: everything handed over so far, in batches, and what comes meanwhile.
    // In a burst the thread draining stays here (up to `stay_draining`, then the strand's
    // other work gets a turn) while the other thread reads the next envelopes and writes the
    // acks: each thread keeps to its own work instead of both taking turns at everything.
    void drain() {
        auto started = steady::now();
        bool alone = true;
        for (;;) {
            std::vector<job_ptr> jobs;
            {
                std::lock_guard lock(incoming_mutex_);
                if (incoming_.empty() || (!alone && steady::now() - started > stay_draining)) {
                    if (!incoming_.empty()) {
                        net::defer(ioc_, [this] { drain(); });  // still posted: behind the rest
                    } else {
                        drain_posted_ = false;
                    }
                    return;
                }
                jobs.swap(incoming_);
            }
            alone = alone && jobs.size() == 1 && !helper_.is_wanted();
            auto limit = store_.shared() ? max_shared_batch : max_batch;
            for (std::size_t at = 0; at < jobs.size(); at += limit) {
                process(std::span(jobs).subspan(at, std::min(limit, jobs.size() - at)), alone);
            }
            alone = false;
        }
    }

    // What one envelope of a batch came to.
    struct outcome {
        std::optional<slack::json_text> payload;
        std::optional<handled_note> note;
        std::string metric_label;  // "" when not counted as a command
        // Answered with `payload` only if the batch commits; otherwise it failed with the
        // others (failure_answer).
        bool wrote = false;
        // What the command logs and counts besides its ack line (a redelivery, a failure, a
        // limit met), done once the batch is final: a batch applied again does it once.
        std::vector<std::function<void()>> reports;
    };

    // Why an envelope's change may not have been kept (storage::failure_of).
    using failure = storage::failure;

    // The ack of such an envelope: a command's reply says which, a modal keeps its form open
    // with the sentence next to its first field; a click gets a bare ack, and the person is
    // told which through its response_url (interactions::tell_failed: an ack cannot carry a
    // message for a click). Also on the Socket Mode strand.
    std::optional<slack::json_text> failure_answer(const frame& f, failure why) {
        if (std::holds_alternative<slash_command_envelope>(f)) {
            return why == failure::busy     ? busy_reply_
                   : why == failure::broken ? failed_reply_
                                            : unknown_reply_;
        }
        if (const auto* i = std::get_if<interactive_envelope>(&f)) {
            auto in = commands::read_interaction(i->payload);
            if (const auto* sub = std::get_if<commands::submission>(&in)) {
                return why == failure::unknown
                           ? interactions::unknown_submission_ack(*sub)
                           : interactions::failed_submission_ack(*sub, why == failure::busy);
            }
            if (const auto* c = std::get_if<commands::click>(&in)) {
                interactions_.tell_failed(*c, why);
            }
        }
        return std::nullopt;
    }

    // Whether the envelope needs the write lock.
    static bool writes(const frame& f, const commands::command* parsed) {
        if (parsed != nullptr) {
            return commands::may_write(*parsed);
        }
        if (const auto* e = std::get_if<events_api_envelope>(&f)) {
            return !e->event_id.empty();
        }
        return std::holds_alternative<interactive_envelope>(f);
    }

    // Takes the jobs out of `jobs`: once answered, the last reference to each (and so to the
    // socket it came on) is the Socket Mode strand's, which its objects belong to.
    void process(std::span<job_ptr> jobs, bool alone) {
        std::vector<job_ptr> batch;
        for (auto& j : jobs) {
            if (j->take()) {
                batch.push_back(std::move(j));
            } else {
                j.reset();
            }
        }
        if (batch.empty()) {
            return;
        }
        auto give_up = batch.front()->received() + lock_wait_within;
        shell_.give_up_at(give_up);
        give_up_ = give_up;
        // Commands are parsed once, first: whether any envelope writes decides whether the
        // batch takes the write lock (a batch of reads never waits for it).
        std::vector<std::optional<commands::command>> parsed(batch.size());
        bool any_writes = false;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& f = batch[i]->envelope();
            if (const auto* s = std::get_if<slash_command_envelope>(&f)) {
                parsed[i] = commands::parse_command(s->text);
            }
            any_writes = any_writes || writes(f, parsed[i] ? &*parsed[i] : nullptr);
        }
        auto taken = steady::now();
        auto& m = process_metrics();
        m.batch_envelopes.observe(static_cast<double>(batch.size()));
        m.batch_wait_seconds.observe(
            std::chrono::duration<double>(taken - batch.front()->received()).count());
        std::vector<outcome> outcomes(batch.size());
        bool wake = false;
        // Writes in arrival order; commands that only read once the batch is committed: a
        // read sees every write that came before it (and may see later ones of the batch, all
        // committed before any ack goes out), and a burst's `status` replies of one channel
        // are rendered once per batch, not once per write between them.
        std::vector<std::size_t> reads;
        bool only_commands = true;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (parsed[i] && !commands::may_write(*parsed[i])) {
                reads.push_back(i);
            }
            only_commands = only_commands && parsed[i].has_value();
        }
        // How long BEGIN and COMMIT took, when the batch tried them.
        std::optional<steady::duration> began_in;
        std::optional<steady::duration> committed_in;
        {
            // A batch of slash commands (a burst of them) is applied without a savepoint per
            // command, each of which costs about an eighth of a write; in the rare batch where
            // one of them is undone after it wrote (it failed, or was a redelivery), nothing
            // of that try is kept and the batch is applied again, each command in its own
            // savepoint. Clicks and events record themselves and open modals as they go: their
            // batches always have savepoints.
            std::unique_ptr<storage::write_transaction> tx;
            if (any_writes) {
                auto started = steady::now();
                tx = begin_batch(give_up, batch.size(), only_commands);
                began_in = steady::now() - started;
                m.begin_seconds.observe(std::chrono::duration<double>(*began_in).count());
            }
            // Whether every writer was applied; false when `stop_if_spoiled` stopped it.
            auto apply_writes = [&](bool stop_if_spoiled) {
                std::size_t next_read = 0;
                for (std::size_t i = 0; i < batch.size(); ++i) {
                    if (next_read < reads.size() && reads[next_read] == i) {
                        ++next_read;
                        continue;
                    }
                    outcomes[i] = handle(*batch[i], parsed[i] ? &*parsed[i] : nullptr, wake);
                    if (stop_if_spoiled && tx && store_.work().spoiled()) {
                        return false;
                    }
                }
                return true;
            };
            if (!apply_writes(only_commands)) {
                log_info("batch.applied_again")
                    .kv("envelopes", static_cast<long long>(batch.size()))
                    .kv("reason", "a command was undone after it wrote");
                // Rolls the whole try back; what it would have logged is dropped, and what it
                // asked to be woken for (someone new seen) still holds.
                tx.reset();
                outcomes.assign(batch.size(), outcome{});
                auto started = steady::now();
                tx = begin_batch(give_up, batch.size(), false);
                *began_in += steady::now() - started;
                apply_writes(false);  // a failure now is answered as ever, at commit at the latest
            }
            if (tx) {
                auto started = steady::now();
                bool committed = commit_batch(*tx, batch, outcomes);
                committed_in = steady::now() - started;
                m.commit_seconds.observe(std::chrono::duration<double>(*committed_in).count());
                if (!committed) {
                    wake = false;
                    pending_home_.clear();
                }
            }
        }
        shell_.give_up_at(std::nullopt);
        give_up_.reset();
        for (auto i : reads) {
            outcomes[i] = handle(*batch[i], &*parsed[i], wake);
        }
        for (const auto& o : outcomes) {
            for (const auto& report : o.reports) {
                report();
            }
        }
        // The log line's account of where each ack's time went.
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (auto& note = outcomes[i].note) {
                note->wait_us = micros(taken - batch[i]->received());
                note->begin_us = began_in ? micros(*began_in) : -1;
                note->commit_us = committed_in ? micros(*committed_in) : -1;
            }
        }
        answer(batch, outcomes, alone);
        if (wake) {
            schedule_wake();
        }
        trim_.worked();
        if (!quiet_moment_posted_ && store_.quiet_moment_wanted()) {
            // Behind the acks just handed over: their writes go first.
            quiet_moment_posted_ = true;
            quiet_work_due();
        }
    }

    // Database strand: the engine's work for a moment when no envelope waits (SQLite: the
    // write-ahead log started again after a checkpoint, a sync of its new header), so that it
    // is not done in the commit of a command. If envelopes came meanwhile, the end of their
    // batch asks again.
    void use_quiet_moment() {
        quiet_moment_posted_ = false;
        {
            std::lock_guard lock(incoming_mutex_);
            if (!incoming_.empty() || burst_.on(steady::now(), false)) {
                return;
            }
        }
        store_.use_quiet_moment();
    }

    // The batch's unit of work; null if the lock could not be had by `give_up` (each writer
    // then meets the same, at once, and says so).
    std::unique_ptr<storage::write_transaction> begin_batch(storage::lock_deadline give_up,
                                                            std::size_t envelopes,
                                                            bool without_savepoints) {
        try {
            return without_savepoints ? store_.work().begin_without_savepoints(give_up)
                                      : store_.work().begin_until(give_up);
        } catch (const std::exception& e) {
            if (dynamic_cast<const storage::busy_error*>(&e) != nullptr) {
                process_metrics().db_conflicts.add({"batch"});
            }
            log_warn("batch.lock_failed")
                .kv("envelopes", static_cast<long long>(envelopes))
                .kv("error", e.what());
            return nullptr;
        }
    }

    // Commits the batch; if that fails, nothing of it was kept and every writer is told so.
    bool commit_batch(storage::write_transaction& tx,
                      const std::vector<job_ptr>& batch,
                      std::vector<outcome>& outcomes) {
        try {
            tx.commit();
            return true;
        } catch (const std::exception& e) {
            auto why = storage::failure_of(e);
            if (why == failure::busy) {
                process_metrics().db_conflicts.add({"batch"});
            }
            log_error("batch.commit_failed")
                .kv("envelopes", static_cast<long long>(batch.size()))
                .kv("error", e.what());
            for (std::size_t i = 0; i < batch.size(); ++i) {
                auto& o = outcomes[i];
                if (o.wrote) {
                    o.payload = failure_answer(batch[i]->envelope(), why);
                    if (o.note) {
                        o.note->outcome = why == failure::busy     ? "busy"
                                          : why == failure::broken ? "error"
                                                                   : "unknown";
                    }
                }
            }
            return false;
        }
    }

    // Hands the acks to the Socket Mode strand, then counts and publishes what the batch did.
    void answer(std::vector<job_ptr>& batch, std::vector<outcome>& outcomes, bool alone) {
        std::vector<envelope_answer> answers;
        answers.reserve(batch.size());
        std::vector<std::vector<std::string>> counted;  // command, outcome
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto& o = outcomes[i];
            if (!o.metric_label.empty() && o.note) {
                counted.push_back({std::move(o.metric_label), o.note->outcome});
            }
            answers.push_back({std::move(batch[i]), std::move(o.payload), std::move(o.note)});
        }
        // Several envelopes, not `!alone`: on PostgreSQL every batch waits for the server and
        // so wants the second thread, which does not make it a burst.
        if (batch.size() > 1) {
            // The other thread writes these acks while this one goes on: it stays, and the
            // notifier holds its messages (in_burst) while they are written.
            helper_.wanted();
        }
        {
            std::lock_guard lock(incoming_mutex_);
            burst_.answered(steady::now(), batch.size());
        }
        client_->answer(std::move(answers), alone);
        for (const auto& labels : counted) {
            process_metrics().commands.add(labels);
        }
        for (auto& user : pending_home_) {
            home_.clicked(user);
        }
        pending_home_.clear();
    }

    outcome handle(const envelope_job& job, const commands::command* parsed, bool& wake) {
        const auto& f = job.envelope();
        if (const auto* s = std::get_if<slash_command_envelope>(&f)) {
            return handle_command(*s, *parsed, wake);
        }
        if (const auto* e = std::get_if<events_api_envelope>(&f)) {
            record_event(*e);
            return {};
        }
        if (const auto* i = std::get_if<interactive_envelope>(&f)) {
            auto started = std::chrono::steady_clock::now();
            auto r = interactions_.handle(i->envelope_id, i->payload);
            wake = wake || r.wake;
            if (!r.home_user.empty()) {
                pending_home_.push_back(r.home_user);
            }
            outcome o;
            o.payload = std::move(r.ack_payload);
            o.note =
                handled_note{r.name, r.refused ? "refused" : "ok", {}, {}, micros_since(started)};
            o.wrote = r.at_stake;
            return o;
        }
        if (const auto* o = std::get_if<other_envelope>(&f)) {
            log_info("envelope.ignored").kv("type", o->type).kv("envelope_id", o->envelope_id);
        } else if (const auto* m = std::get_if<malformed_frame>(&f)) {
            log_warn("envelope.malformed")
                .kv("reason", m->reason)
                .kv("envelope_id", m->envelope_id);
        }
        return {};
    }

    static long long micros(steady::duration d) {
        return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    }
    static long long micros_since(steady::time_point started) {
        return micros(steady::now() - started);
    }

    // The shell applies the command (decide, write, record the envelope, in the batch's
    // transaction); this adds what the bot does around it: wakes, the log line's note,
    // metrics, and replies to failures.
    outcome handle_command(const slash_command_envelope& s,
                           const commands::command& parsed,
                           bool& wake) {
        auto started = std::chrono::steady_clock::now();
        outcome o;
        try {
            auto out =
                shell_.apply_command(parsed,
                                     {s.team_id, s.channel_id, s.user_id, s.text,
                                      real_clock().epoch_s(), s.response_url, s.channel_name},
                                     "envelope:" + s.envelope_id);
            if (out.redelivered) {
                o.reports.emplace_back([id = s.envelope_id, attempt = s.retry_attempt] {
                    log_info("command.redelivered")
                        .kv("envelope_id", id)
                        .kv("retry_attempt", attempt);
                });
                o.payload = std::move(out.ack_json);
                return o;
            }
            // Once the batch is committed, the notifier and the scheduler look at a change to
            // more than the timeline, and the scheduler looks up someone new's name.
            bool new_person = scheduler_.person_seen(s.user_id);
            wake = wake || new_person || out.state_changed;
            if (!out.limit_hit.empty()) {
                o.reports.emplace_back(
                    [limit = out.limit_hit, command = out.name, channel = s.channel_id] {
                        process_metrics().limits_hit.add({limit});
                        log_info("command.limit_hit")
                            .kv("limit", limit)
                            .kv("command", command)
                            .kv("channel", channel);
                    });
            }
            bool bad_input = out.name == "bad_input";
            o.metric_label = bad_input ? command_label(s.text) : out.name;
            o.note = handled_note{std::move(out.name),
                                  bad_input ? "bad_input" : (out.refused ? "refused" : "ok"),
                                  s.channel_id, s.user_id, micros_since(started)};
            o.payload = std::move(out.ack_json);
            o.wrote = out.changed;
            return o;
        } catch (const storage::busy_error&) {
            o.metric_label = command_label(s.text);
            // The log line names the command, as the metric does; the outcome says what failed.
            o.note = handled_note{o.metric_label, "busy", s.channel_id, s.user_id,
                                  micros_since(started)};
            o.reports.emplace_back([channel = s.channel_id, id = s.envelope_id] {
                process_metrics().db_conflicts.add({"command"});
                log_warn("command.busy").kv("channel", channel).kv("envelope_id", id);
            });
            o.payload = busy_reply_;
            return o;
        } catch (const std::exception& e) {
            o.metric_label = command_label(s.text);
            o.note = handled_note{o.metric_label, "error", s.channel_id, s.user_id,
                                  micros_since(started)};
            o.reports.emplace_back(
                [channel = s.channel_id, id = s.envelope_id, error = std::string(e.what())] {
                    log_error("command.failed")
                        .kv("channel", channel)
                        .kv("envelope_id", id)
                        .kv("error", error);
                });
            o.payload = failed_reply_;
            return o;
        }
    }

    // A signal from CI (bot/hooks), believed: applied through the shell like a command (its
    // own unit of work, the same decide functions and rules, the timeline and announcements),
    // as the actor "ci:<source>" (shown "CI (source)"), with the text and link as the note.
    // The answer is recorded with the change under "signal:<id>": a repeat gets it back.
    hook_answer apply(const signal_request& s) override {
        auto started = std::chrono::steady_clock::now();
        auto actor = commands::signal_actor(s.source);
        // Without an id, a key of its own that no later signal can give: applied as sent.
        auto key = s.id.empty() ? "signal-unnamed:" + unnamed_signal_key() : "signal:" + s.id;
        auto now = real_clock().epoch_s();
        std::string note = s.text;
        if (!s.url.empty()) {
            note += (note.empty() ? "" : " ") + s.url;
        }
        commands::input in;
        in.channel = s.channel;
        in.actor = actor;
        in.now = now;
        in.applied_key = key;
        in.record_refusals = true;  // contract: a repeated id gets the first answer, whatever
        std::string outcome = "done";
        auto decide = [&](const commands::snapshot& active,
                          const commands::lookups& look) -> commands::decision {
            return decide_signal(s, actor, note, now, active, look, outcome);
        };
        hook_answer answer;
        try {
            auto out = shell_.apply(in, decide);
            if (out.redelivered) {
                outcome = "repeated";
                process_metrics().signal_refusals.add({"replay"});  // answered, not applied
            } else if (out.state_changed || out.queued) {
                schedule_wake();
            }
            answer = unwrap_signal_answer(out.ack_json.str());
        } catch (const storage::busy_error&) {
            process_metrics().db_conflicts.add({"signal"});
            outcome = "busy";
            answer = {503, signal_error_json("the database is busy; nothing was changed, send the "
                                             "signal again")};
        } catch (const storage::outcome_unknown&) {
            // Sending it again is safe: a repeated id gets the first answer if it was kept.
            outcome = "unknown";
            answer = {503, signal_error_json(
                               "the database stopped answering while saving this signal, so "
                               "whether it was applied is unknown; send it again with the same "
                               "id")};
        }
        process_metrics().signals.add({std::string(to_string(s.action)), outcome});
        log_info("signal")
            .kv("action", to_string(s.action))
            .kv("channel", s.channel)
            .kv("item", s.item)
            .kv("source", s.source)
            .kv("id", s.id)
            .kv("outcome", outcome)
            .kv("status", static_cast<long long>(answer.status))
            .kv("us", micros_since(started));
        return answer;
    }

    // The signal's decision: the channel's release as named, then the item, then the same
    // decide function a typed command of that verb has (as a signal: it may change any item,
    // and nothing but items), or the deployment. Its acknowledgement is the HTTP answer.
    commands::decision decide_signal(const signal_request& s,
                                     const std::string& actor,
                                     const std::string& note,
                                     checklist::epoch_seconds now,
                                     const commands::snapshot& active,
                                     const commands::lookups& look,
                                     std::string& outcome) const {
        commands::decision d;
        d.answer.name = "signal";
        auto answer_with = [&](unsigned status, const std::string& body) {
            d.answer.ack_json =
                slack::json_text(nlohmann::json{{"status", status}, {"body", body}}.dump(
                    -1, ' ', false, nlohmann::json::error_handler_t::replace));
        };
        auto refuse = [&](unsigned status, const std::string& message, const char* why) {
            outcome = why;
            d.answer.refused = true;
            answer_with(status, signal_error_json(message));
            return d;
        };
        bool named_other = active && !s.release.empty() && active->version != s.release;
        if (!active || named_other) {
            if (!s.release.empty() && look.release_by_version(s.channel, s.release).has_value()) {
                return refuse(409, "release " + s.release + " has ended in this channel",
                              "refused");
            }
            return refuse(404,
                          s.release.empty() ? "the channel has no active release"
                                            : "the channel has no release " + s.release,
                          "not_found");
        }
        if (s.action == signal_action::deployed) {
            auto r = *active;
            checklist::change_log log;
            if (auto no = checklist::record_deployment(r, checkpoint_offsets_, now, note, log)) {
                return refuse(409, "the release has ended", "refused");
            }
            d.state = std::make_shared<const checklist::release>(std::move(r));
            d.log = std::move(log);
            d.answer.changed = true;
            answer_with(200, signal_ok_json("", "deployed"));
            return d;
        }
        auto found = checklist::resolve_item(*active, s.item);
        const auto* at = std::get_if<checklist::ref_found>(&found);
        if (at == nullptr) {
            return refuse(404,
                          std::holds_alternative<checklist::ref_ambiguous>(found)
                              ? "\"" + s.item + "\" names more than one item of " +
                                    active->version + "; send its position (2.4) or whole slug"
                              : "no item \"" + s.item + "\" in " + active->version,
                          "not_found");
        }
        const auto& item = active->phases.at(at->pos.phase).items.at(at->pos.index);
        std::string verb(to_string(s.action));
        // Applied as the command it stands for, whose whole text has 3,000 characters: what the
        // action and the item leave for the note, said in the signal's own words.
        auto head = verb + " " + item.ref() + " ";
        auto room = commands::max_text_chars - slack::code_points(head);
        if (slack::code_points(note) > room) {
            return refuse(400,
                          "\"text\" and \"url\" together may be at most " + std::to_string(room) +
                              " characters for item " + item.ref(),
                          "bad_input");
        }
        auto text = note.empty() ? verb + " " + item.ref() : head + note;
        commands::request req{"", s.channel, actor, text, now, "", "", commands::way_in::signal};
        auto parsed = commands::parse_command(text);
        if (const auto* bad = std::get_if<commands::usage_error>(&parsed)) {
            // What the signal's fields could not say (read_signal checks them first): bad input.
            return refuse(400, bad->message, "bad_input");
        }
        d = commands::decide(parsed, commands::situation{req, active, look, nullptr});
        if (d.answer.refused) {
            outcome = "refused";
            // Read in a CI log, not Slack: the refusal's words without mrkdwn.
            answer_with(409, signal_error_json(checklist::plain_text(d.answer.reply.text)));
            return d;
        }
        const auto& now_state = d.state ? *d.state : *active;
        const auto& after = now_state.phases.at(at->pos.phase).items.at(at->pos.index);
        answer_with(200, signal_ok_json(after.ref(), checklist::to_string(after.state)));
        return d;
    }

    // A signal's first answer, if one was kept under "signal:<id>" (asked before its body is
    // read: a repeat gets the first answer whatever its body). On any trouble, nothing: `apply`
    // looks again in its own unit.
    std::optional<hook_answer> answered_before(const std::string& id,
                                               const std::string& action) override {
        try {
            auto recorded = store_.applied().applied_reply("signal:" + id);
            if (!recorded) {
                return std::nullopt;
            }
            // Counted under the body's action when it names one (a label of a known few).
            auto known = read_signal_action(action);
            auto label = known ? std::string(to_string(*known)) : std::string("other");
            process_metrics().signal_refusals.add({"replay"});  // answered, not applied
            process_metrics().signals.add({label, "repeated"});
            log_info("signal").kv("id", id).kv("action", label).kv("outcome", "repeated");
            return unwrap_signal_answer(*recorded);
        } catch (const std::exception& e) {
            log_warn("signal.lookup_failed").kv("id", id).kv("error", e.what());
            return std::nullopt;
        }
    }

    // Unique across instances and restarts: the clock, this process's count and a random tag.
    std::string unnamed_signal_key() {
        static const auto tag = std::random_device{}();
        return std::to_string(real_clock().epoch_ms()) + "-" + std::to_string(tag) + "-" +
               std::to_string(++unnamed_signals_);
    }

    // The HTTP answer recorded in a signal's acknowledgement.
    static hook_answer unwrap_signal_answer(const std::string& recorded) {
        auto j = nlohmann::json::parse(recorded, nullptr, false);
        if (!j.is_object() || !j.contains("status") || !j.contains("body")) {
            return {500, signal_error_json("relbot could not read its own answer")};
        }
        return {j["status"].get<unsigned>(), j["body"].get<std::string>()};
    }

    // One look for all the changes of the next few milliseconds: in a burst of commands the
    // notifier and the scheduler run once per batch, not once per envelope.
    void schedule_wake() {
        if (wake_scheduled_) {
            return;
        }
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

    void record_event(const events_api_envelope& e) {
        if (e.event_id.empty()) {
            return;
        }
        try {
            auto tx = give_up_ ? store_.work().begin_until(*give_up_) : store_.work().begin();
            auto key = "event:" + e.event_id;
            if (store_.applied().record_applied(key, "{}", real_clock().epoch_s())) {
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
            // Kept with the event, in its unit: every instance (and this one after a restart)
            // follows them from now on. If it cannot be written, this instance still does. (On
            // SQLite a failure shows here. On PostgreSQL the write is deferred with the unit's
            // next statement, so a failure shows at the batch's savepoint release or commit
            // instead, and takes the event's record with it; the event is acknowledged anyway,
            // and this instance follows them still.)
            try {
                store_.status().home_opened(user, real_clock().epoch_ms());
            } catch (const std::exception& e) {
                log_warn("home.follow_not_kept").kv("user", user).kv("error", e.what());
            }
        }
    }

    static constexpr const char* busy_text =
        ":hourglass: The database is busy right now and nothing was changed. "
        "Please try the command again in a moment.";

    net::any_io_executor ioc_;          // the database strand
    bool quiet_moment_posted_ = false;  // use_quiet_moment is posted and has not run yet
    second_thread& helper_;
    storage::engine& store_;
    commands::policy_settings policy_;  // RELBOT_FREEZE, RELBOT_ONE_DEPLOY_AT_A_TIME
    commands::shell shell_;
    std::vector<std::chrono::seconds> checkpoint_offsets_;  // RELBOT_CHECKPOINTS
    home_publisher home_;
    interactions interactions_;
    notifier& notifier_;
    scheduler& scheduler_;
    socket_mode_client* client_ = nullptr;
    static constexpr std::chrono::milliseconds wake_batch{10};
    bool wake_scheduled_ = false;
    net::steady_timer wake_timer_;
    idle_trim trim_;       // the heap trimmed once the batches stop
    std::string revoked_;  // tokens_revoked or app_uninstalled, once Slack has said so
    std::vector<std::string> pending_home_;          // clicked in Home: published after the commit
    std::optional<storage::lock_deadline> give_up_;  // the batch's, while it runs
    std::uint64_t unnamed_signals_ = 0;              // signals without an id, this run
    const slack::json_text busy_reply_;
    const slack::json_text failed_reply_ = text_reply(
        ":warning: Something went wrong and nothing was changed. Please try again; if it "
        "keeps failing, tell whoever runs relbot.");
    const slack::json_text unknown_reply_ = text_reply(
        ":warning: The database stopped answering while saving this, so relbot cannot tell "
        "whether it was saved. Check with `/release status` in a minute before you run it "
        "again.");

    // Handed over by the Socket Mode strand, not yet drained.
    mutable std::mutex incoming_mutex_;
    std::vector<job_ptr> incoming_;
    bool drain_posted_ = false;
    steady::time_point last_received_{};
    static constexpr std::chrono::microseconds alone_after{1000};
    burst_watch burst_;
    // How long one drain may keep the database strand while envelopes keep coming.
    static constexpr std::chrono::milliseconds stay_draining{20};
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

// How long /healthz waits for the write lock before it says the database does not take
// writes: longer than another process's commit takes, and short, since the database strand
// (and every command) waits with it.
constexpr std::chrono::milliseconds health_lock_probe{50};
constexpr std::chrono::seconds health_probe_every{1};

// What /healthz and /metrics report, read on the database strand when asked.
class operator_view final : public health_source {
public:
    operator_view(storage::engine& store,
                  socket_mode_client& client,
                  const dispatcher& handler,
                  std::string database,
                  std::string engine,
                  std::string instance)
        : store_(store),
          client_(client),
          handler_(handler),
          database_(std::move(database)),
          engine_(std::move(engine)),
          instance_(std::move(instance)) {}

    health_report health() override {
        health_report r;
        r.connections = client_.live_connections();
        r.database = database_;
        r.engine = engine_;
        r.instance = instance_;
        r.clock_offset_ms = clock_offset();
        try {
            r.outbox_pending = store_.outbox().count_outbox(storage::outbox_state::pending);
            r.db_ok = true;
        } catch (const std::exception& e) {
            r.db_error = e.what();
        }
        if (r.db_ok && writes_busy()) {
            r.db_ok = false;
            r.db_busy = true;
            r.db_error = storage::busy_error().what();
        }
        if (auto at = client_.last_hello()) {
            r.last_hello = iso_utc(*at);
        }
        if (client_.disabled()) {
            r.reason = "Socket Mode is turned off for the app (link_disabled)";
        } else if (!handler_.access_revoked().empty()) {
            r.reason = "Slack says " + handler_.access_revoked();
        } else if (r.db_busy) {
            r.reason =
                "the database does not take writes (another process holds its write lock): "
                "commands are answered \"try again\" until it lets go";
        } else if (!r.db_ok) {
            r.reason = "the database does not answer";
        } else if (r.connections == 0) {
            r.reason = "no Socket Mode connection";
        }
        r.healthy = r.reason.empty();
        return r;
    }

    // Whether another process holds SQLite's write lock: reads go on under it and commands do
    // not, so the lock is tried (and let go at once), at most once a second (a look holds the
    // database strand up to health_lock_probe, and the endpoint may be asked often). A
    // shared store (PostgreSQL) has no such lock: a slow server shows in the reads above.
    bool writes_busy() {
        if (store_.shared()) {
            return false;
        }
        auto now = steady::now();
        if (probed_at_ && now - *probed_at_ < health_probe_every) {
            return probe_busy_;
        }
        probed_at_ = now;
        try {
            store_.work().begin_until(now + health_lock_probe);
            probe_busy_ = false;
        } catch (const storage::busy_error&) {
            probe_busy_ = true;
        } catch (const std::exception&) {
            probe_busy_ = false;  // not a lock: the next read says what it is
        }
        return probe_busy_;
    }

    std::string metrics_page() override {
        metrics_snapshot now;
        now.connections_open = client_.live_connections();
        now.clock_offset_ms = clock_offset();
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
    std::string database_;
    std::string engine_;
    std::string instance_;
    std::optional<steady::time_point> probed_at_;  // writes_busy()'s last look, and its answer
    bool probe_busy_ = false;

    std::optional<long long> clock_offset() const {
        if (!store_.shared()) {
            return std::nullopt;
        }
        return static_cast<long long>(wall_offset().count());
    }
};

// A completion handler for a background coroutine that should never end by an exception:
// logs `event` with the error if it did.
auto log_if_crashed(const char* event) {
    return [event](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log_error(event).kv("error", ex.what());
            }
        }
    };
}

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
        : ioc(net::make_strand(ioc_)),
          socket_strand(net::make_strand(ioc_)),
          cfg(cfg_),
          tls(make_tls_context()),
          engine(storage::open(storage_of(cfg))),
          store(*engine),
          api(tls, endpoint_of(cfg), cfg.bot_token, cfg.app_token),
          notify(notifier_ports::of(store),
                 api,
                 real_clock(),
                 store.shared() ? notifier_timing::shared_store() : notifier_timing{}),
          schedule(scheduler_ports::of(store),
                   notify,
                   api,
                   checklist::reminder_rules{cfg.reminder_interval, cfg.escalate_after,
                                             cfg.quiet_from_hour, cfg.quiet_to_hour},
                   real_clock(),
                   cfg.checkpoints),
          helper(ioc_),
          handler(ioc, helper, cfg, templates, store, notify, schedule, api),
          socket_api(tls, endpoint_of(cfg), cfg.bot_token, cfg.app_token),
          client(socket_strand, tls, socket_api, handler, cfg.connections),
          sleep_timer(ioc),
          look_timer(ioc),
          notifier_done_timer(ioc),
          rng(std::random_device{}()) {
        handler.attach(client);
        notify.show_outlook([this](const checklist::release& r) { return handler.outlook(r); });
        notify.make_files_with(
            [this](const storage::outbox_row& row) { return handler.make_file(row); });
        notify.hold_while([this] { return handler.in_burst(); });
        std::vector<const checklist::freeze_window*> freezes;
        for (const auto& name : templates.names()) {
            for (const auto& w : templates.find(name)->freezes) {
                freezes.push_back(&w);
            }
        }
        for (const auto& w : cfg.freezes) {
            freezes.push_back(&w);
        }
        schedule.watch_freezes(std::move(freezes));
        if (store.shared()) {
            // Before anything is stored or compared with stored times; and before the hook
            // below: the second thread must not join the io_context before it has work (an
            // io_context that runs out of work stops).
            follow_database_clock();
        }
        // A database server that stops answering costs a command its "try again", not the
        // acks of everything behind it. (Before the hook below: it sets the session up, and
        // the second thread must not be woken before there is work.)
        store.bound_waits();
        // While the database strand waits for a lock, the Socket Mode strand still answers.
        store.on_lock_wait([this] { helper.wanted(); });
        if (cfg.health_host) {
            view = std::make_unique<operator_view>(
                store, client, handler, storage::describe_database(storage_of(cfg)),
                cfg.database_url.empty() ? "sqlite" : "postgresql", notify.who().owner);
            health = std::make_unique<health_server>(ioc, *cfg.health_host, cfg.health_port, *view);
        }
        if (cfg.hooks_host) {
            hooks = std::make_unique<hooks_server>(ioc, *cfg.hooks_host, cfg.hooks_port,
                                                   cfg.hooks_secret, handler);
        }
        // Last: nothing after it throws, so a checkpointer never outlives a half-built app
        // (its thread calls back into the dispatcher).
        store.on_quiet_work([this] { handler.quiet_work_due(); });
        store.start_housekeeping();
    }

    // Two strands of the process's io_context, which two threads run: the database strand
    // (storage, commands, the notifier, the scheduler, App Home, health) and the Socket Mode
    // strand (reading, parsing and acknowledging envelopes). Neither waits for the other.
    net::any_io_executor ioc;
    net::any_io_executor socket_strand;
    config cfg;
    ssl::context tls;
    std::unique_ptr<storage::engine> engine;
    storage::engine& store;
    web_api api;
    notifier notify;
    scheduler schedule;
    second_thread helper;  // while a burst lasts or the database waits for a lock
    dispatcher handler;
    // The Socket Mode strand's own Web API client (apps.connections.open): a client's pooled
    // connections belong to one strand.
    web_api socket_api;
    socket_mode_client client;
    net::steady_timer sleep_timer;
    net::steady_timer look_timer;  // follow_shared_store's
    net::steady_timer notifier_done_timer;
    bool notifier_done = false;
    bool stopping = false;
    std::minstd_rand rng;
    // Last, so that they go first: they look at the client and the store.
    std::unique_ptr<operator_view> view;
    std::unique_ptr<health_server> health;
    std::unique_ptr<hooks_server> hooks;

    // auth.test until Slack answers: nullopt to go on, or the exit status (stopped, or the
    // bot token refused).
    net::awaitable<std::optional<int>> authenticate();
    // The notifier and the scheduler, each with a completion handler that logs a crash.
    void start_background();
    // A shared store (several instances): once a second, look for what other instances
    // committed (dispatcher::look_again); every clock_every, follow the database's clock.
    net::awaitable<void> follow_shared_store();
    // Sets the real clock's wall offset to the database's clock minus this host's.
    void follow_database_clock();
    static constexpr std::chrono::seconds look_every{1};
    static constexpr std::chrono::seconds clock_every{30};
};

void app::impl::follow_database_clock() {
    using namespace std::chrono;
    try {
        auto before = system_clock::now();
        auto database = store.clock_ms();
        auto after = system_clock::now();
        if (!database) {
            return;
        }
        auto here = duration_cast<milliseconds>((before + (after - before) / 2).time_since_epoch());
        auto offset = milliseconds(*database) - here;
        auto change = offset - wall_offset();
        if (change > seconds(1) || change < -seconds(1)) {
            log_info("clock.offset")
                .kv("offset_ms", static_cast<long long>(offset.count()))
                .kv("hint",
                    "this host's clock differs from the database's; relbot keeps the "
                    "database's time (due times, leases) so that every instance agrees");
        }
        set_wall_offset(offset);
    } catch (const std::exception& e) {
        log_warn("clock.read_failed").kv("error", e.what());
    }
}

net::awaitable<void> app::impl::follow_shared_store() {
    auto& timer = look_timer;
    auto next_clock = std::chrono::steady_clock::now() + clock_every;
    while (!stopping) {
        timer.expires_after(look_every);
        auto [ec] = co_await timer.async_wait(use_nothrow_awaitable);
        (void)ec;
        if (stopping) {
            break;
        }
        if (std::chrono::steady_clock::now() >= next_clock) {
            next_clock = std::chrono::steady_clock::now() + clock_every;
            follow_database_clock();
        }
        handler.look_again();
    }
}

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
                .kv("team", text_at(r.body, "team_id"))
                .kv("bot_user", text_at(r.body, "user_id"));
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
        log_if_crashed("notifier.crashed")(e);
        notifier_done = true;
        notifier_done_timer.cancel();
    });

    if (store.shared()) {
        net::co_spawn(ioc, follow_shared_store(), log_if_crashed("shared_store.follow_crashed"));
    }
    net::co_spawn(ioc, schedule.run(), log_if_crashed("scheduler.crashed"));
}

app::app(net::io_context& ioc, const config& cfg, const checklist::template_library& templates)
    : impl_(std::make_unique<impl>(ioc, cfg, templates)) {}

app::~app() = default;

net::any_io_executor app::executor() const {
    return impl_->ioc;
}

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
    if (m.hooks) {
        m.hooks->stop();
    }
    m.sleep_timer.cancel();
    m.look_timer.cancel();
    net::dispatch(m.socket_strand, [&m] { m.client.stop(); });
    m.notify.stop();
    m.schedule.stop();
}

bool app::drained() const {
    return impl_->notifier_done;
}

void app::close_database() {
    auto& m = *impl_;
    // ioc.run() returns on this thread as soon as this thread is done, but after a stop() the
    // second thread may still be running database-strand handlers: wait for it first.
    m.helper.leave();
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
    if (m.hooks) {
        m.hooks->start();
        log_info("hooks.listening")
            .kv("host", *m.cfg.hooks_host)
            .kv("port", static_cast<int>(m.hooks->port()));
    }
    // auth.test: learn who we are.
    auto refused = co_await m.authenticate();
    if (refused) {
        co_return *refused;
    }
    m.start_background();

    // The client runs on its own strand until stopped; the database strand waits for its end.
    auto end = co_await net::co_spawn(m.socket_strand, m.client.run(), net::use_awaitable);
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
