// The notifier's other conversations with Slack: DM channels (conversations.open), finding a
// message already posted by an attempt whose outcome is unknown (a row claimed unfinished:
// conversations.history metadata), and the living status message (chat.update, the link in
// briefings, the post rendered when it goes out). Also who the notifier claims as, and the
// ports it is built from.
#include <unistd.h>

#include <array>
#include <cstdio>

#include "bot/log.hpp"
#include "bot/notifier.hpp"
#include "bot/slack_answers.hpp"
#include "commands/render.hpp"

namespace relbot::bot {

using checklist::destination;
using checklist::message_kind;

namespace {

// Slack errors after which the status message must be posted again.
bool status_message_gone(std::string_view error) {
    return error == "message_not_found" || error == "cant_update_message" ||
           error == "edit_window_closed";
}

}  // namespace

notifier_ports notifier_ports::of(storage::engine& e) {
    return {e.outbox(), e.status(), e.people(), e.releases(), e.work()};
}

claimer claimer::this_process() {
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
        std::snprintf(host.data(), host.size(), "localhost");  // only names the claimer
    }
    std::array<char, 32> run{};
    std::snprintf(run.data(), run.size(), "%ld-%08x", static_cast<long>(getpid()),
                  static_cast<unsigned>(std::random_device{}()));
    claimer c;
    c.instance = "relbot@" + std::string(host.data()) + "/";
    c.owner = c.instance + run.data();
    return c;
}

net::awaitable<std::optional<std::string>> notifier::resolve_channel(checklist::destination to) {
    if (to.to != checklist::destination::type::direct) {
        co_return to.id;
    }
    auto user = to.id;
    if (auto cached = ports_.people.dm_channel(user)) {
        co_return cached;
    }
    nlohmann::json args = {{"users", user}};
    auto r = co_await api_.call("conversations.open", std::move(args), token_kind::bot);
    if (!r.ok()) {
        co_return std::nullopt;
    }
    auto id = opened_channel(r.body);
    if (id.empty()) {
        co_return std::nullopt;
    }
    ports_.people.remember_dm_channel(user, id);
    co_return id;
}

notifier::lookup notifier::lookup_failed(const api_result& r, const std::string& method) {
    if (r.outcome == api_outcome::rate_limited) {
        method_blocked_until_[method] =
            clock_.steady_now() + std::max(std::chrono::seconds(1), r.retry_after);
    }
    // A passing trouble (429, 5xx, the network): ask again later. Slack refusing the question
    // itself (a missing scope, not in the channel): it will not answer later either, and
    // sending again is the lesser harm than never sending.
    bool passing = r.outcome != api_outcome::slack_error || is_transient_slack_error(r.error);
    return {passing ? lookup::cannot_tell : lookup::absent, r.retry_after};
}

net::awaitable<notifier::lookup> notifier::already_posted(storage::outbox_row row,
                                                          std::string channel) {
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
        std::map<std::string, std::string> form = {{"channel", channel},
                                                   {"oldest", std::to_string(row.created_at - 120)},
                                                   {"include_all_metadata", "true"},
                                                   {"limit", "200"}};
        if (!cursor.empty()) {
            form["cursor"] = cursor;
        }
        auto r = co_await api_.call_form("conversations.history", form, token_kind::bot);
        if (!r.ok()) {
            log_warn("outbox.history_failed").kv("channel", channel).kv("error", r.error);
            co_return lookup_failed(r, "conversations.history");
        }
        auto found = read_history(std::move(r.body));
        for (const auto& m : found.messages) {
            if (carries_key(m, row.dedupe_key)) {
                auto ts = text_at(m, "ts");
                auto now = clock_.epoch_s();
                auto tx = ports_.work.begin();
                if (!ports_.outbox.mark_sent(row.id, who_.owner, ts, now)) {
                    lease_lost(row, "recovered");
                    co_return lookup{lookup::found};  // its new claimer looks for it too
                }
                // A status message also becomes the release's, pinned, as if answered.
                record_status_posted(row, channel, ts, now);
                tx->commit();
                ++stats_.recovered;
                log_info("outbox.recovered").kv("key", row.dedupe_key).kv("channel", channel);
                co_return lookup{lookup::found};
            }
        }
        cursor = std::move(found.next_cursor);
        if (cursor.empty()) {
            break;
        }
    }
    co_return lookup{lookup::absent};
}

net::awaitable<void> notifier::recover(storage::outbox_row row) {
    // Claimed unfinished: an earlier attempt (of a run that stopped, or one whose lease ran out)
    // may have posted it. A posted message carries its outbox key in its metadata, so look for
    // it before posting again.
    auto channel = co_await resolve_channel(row.to);
    if (channel) {
        // (Two statements: GCC 12 has had bugs with co_await inside a conditional expression.)
        lookup seen;
        if (row.method == commands::upload_method) {
            seen = co_await already_uploaded(row, *channel);
        } else {
            seen = co_await already_posted(row, *channel);
        }
        if (seen.answer == lookup::found) {
            unsure_lookups_.erase(row.id);
            co_return;
        }
        int looked = seen.answer == lookup::cannot_tell ? ++unsure_lookups_[row.id] : 0;
        if (seen.answer == lookup::cannot_tell && looked <= max_unsure_lookups) {
            // Posting now could post it twice (after a restore from a backup, every queued
            // message is looked for): it stays unfinished and is looked for again later.
            auto backoff = std::min<long long>(300, 5LL << (looked - 1));
            auto wait = std::max<long long>(backoff, seen.retry_after.count());
            if (!ports_.outbox.defer_unsure(row.id, who_.owner, clock_.epoch_s() + wait,
                                            "its channel's history could not be read")) {
                lease_lost(row, "deferred");
            }
            log_info("outbox.lookup_later").kv("key", row.dedupe_key).kv("in_s", wait);
            co_return;
        }
    }
    // Not there (or the history could not be read, again and again: sending twice is judged
    // the lesser harm than never sending): delivered like any other row, at its pace, still
    // under this lease.
    unsure_lookups_.erase(row.id);
    log_info("outbox.resend").kv("key", row.dedupe_key).kv("method", row.method);
    row.unfinished = false;
    held_.emplace(row.id, std::move(row));
}

void notifier::render_status_post(std::int64_t release_id, nlohmann::json& args) {
    // The living status message shows the release as it is when it is posted, not as it was
    // when the post was queued (a repost after the message was deleted can wait behind the
    // channel's pace while the release moves on, or ends).
    if (auto r = ports_.releases.load_release(release_id)) {
        auto m =
            commands::render_status(*r, outlook_ ? outlook_(*r) : commands::deployment_outlook{});
        args["text"] = m.text;
        args["blocks"] = m.blocks;
    }
}

net::awaitable<void> notifier::add_status_link(std::int64_t release_id, nlohmann::json& args) {
    auto r = ports_.releases.load_release(release_id);
    if (!r) {
        co_return;
    }
    auto ts = ports_.status.status_ts(release_id);
    if (ts.empty()) {
        co_return;
    }
    std::map<std::string, std::string> form = {{"channel", r->channel}, {"message_ts", ts}};
    auto link = co_await api_.call_form("chat.getPermalink", std::move(form), token_kind::bot);
    auto url = link.ok() ? text_at(link.body, "permalink") : std::string();
    if (url.empty() || !args.contains("blocks") || !args["blocks"].is_array() ||
        args["blocks"].size() >= commands::max_blocks) {
        co_return;  // the briefing goes out without the link rather than not at all
    }
    args["blocks"].push_back(commands::context_block("<" + url + "|The living status message>"));
}

net::awaitable<void> notifier::update_status(storage::status_job job) {
    auto r = ports_.releases.load_release(job.release_id);
    if (!r) {
        co_return;
    }
    auto m = commands::render_status(*r, outlook_ ? outlook_(*r) : commands::deployment_outlook{});
    nlohmann::json args = {
        {"channel", job.channel}, {"ts", job.ts}, {"text", m.text}, {"blocks", m.blocks}};
    auto result = co_await api_.call("chat.update", std::move(args), token_kind::bot);
    if (result.ok()) {
        auto tx = ports_.work.begin();
        ports_.status.status_sent(job.release_id, job.ts, job.version, clock_.epoch_ms());
        if (r->status != checklist::release_status::active) {
            // The release has ended and its message says so: it gives up its place among the
            // channel's pins (Slack keeps 100), which are the releases under way. Keyed by the
            // message, so a later update of the same ended release queues nothing more.
            ports_.outbox.enqueue({"unpin:" + std::to_string(job.release_id) + ":" + job.ts,
                                   job.release_id, destination::channel(job.channel), "pins.remove",
                                   commands::dump_json({{"timestamp", job.ts}}), message_kind::pin},
                                  clock_.epoch_s());
        }
        tx->commit();
        log_debug("status.updated").kv("release", job.release_id).kv("version", job.version);
        co_return;
    }
    if (result.outcome == api_outcome::rate_limited) {
        method_blocked_until_["chat.update"] =
            clock_.steady_now() + std::max(std::chrono::seconds(1), result.retry_after);
        // Ends this run's claim on the update; tried again once the method is unblocked.
        ports_.status.status_sent(job.release_id, job.ts, 0, clock_.epoch_ms());
        co_return;
    }
    if (result.outcome == api_outcome::slack_error && status_message_gone(result.error)) {
        log_info("status.reposting").kv("release", job.release_id).kv("error", result.error);
        ports_.status.status_lost(
            job.release_id,
            {"status-repost:" + std::to_string(job.release_id) + ":" + std::to_string(job.version),
             job.release_id, destination::channel(job.channel), "chat.postMessage",
             commands::post_body_json(m), message_kind::status},
            clock_.epoch_s());
        co_return;
    }
    if (result.outcome == api_outcome::slack_error && !is_transient_slack_error(result.error)) {
        log_error("status.update_failed").kv("release", job.release_id).kv("error", result.error);
        // Give this version up.
        ports_.status.status_sent(job.release_id, job.ts, job.version, clock_.epoch_ms());
        co_return;
    }
    // Transient: try again after the fold interval.
    ports_.status.status_sent(job.release_id, job.ts, 0, clock_.epoch_ms());
}

}  // namespace relbot::bot
