// Interactive envelopes: clicks and modal submissions (see interactions.hpp).
#include "bot/interactions.hpp"

#include <boost/asio/detached.hpp>
#include <chrono>

#include "bot/clock.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "commands/render.hpp"
#include "storage/open.hpp"

namespace relbot::bot {
namespace {

constexpr const char* busy_text =
    ":hourglass: The database is busy right now and nothing was changed. Please try again in a "
    "moment.";
constexpr const char* failed_text =
    ":warning: Something went wrong and nothing was changed. Please try again; if it keeps "
    "failing, tell whoever runs relbot.";
constexpr const char* unknown_text =
    ":warning: The database stopped answering while saving your click, so relbot cannot tell "
    "whether it was saved. Look at the message again in a minute before you click again.";

const char* failure_text(storage::failure why) {
    switch (why) {
        case storage::failure::busy:
            return busy_text;
        case storage::failure::unknown:
            return unknown_text;
        case storage::failure::broken:
            break;
    }
    return failed_text;
}

const char* failure_outcome(storage::failure why) {
    return why == storage::failure::busy      ? "busy"
           : why == storage::failure::unknown ? "unknown"
                                              : "error";
}

}  // namespace

interactions::interactions(net::any_io_executor ioc,
                           commands::shell& shell,
                           storage::engine& store,
                           slack_api& api,
                           notifier& notify)
    : ioc_(ioc), shell_(shell), store_(store), api_(api), notify_(notify) {}

interactions::result interactions::handle(const std::string& envelope_id,
                                          const nlohmann::json& payload) {
    auto in = commands::read_interaction(payload);
    if (auto* c = std::get_if<commands::click>(&in)) {
        return handle_click(*c, envelope_id);
    }
    if (auto* s = std::get_if<commands::submission>(&in)) {
        return handle_submission(*s, envelope_id);
    }
    const auto& unusable = std::get<commands::unusable_interaction>(in);
    if (!unusable.limit.empty()) {
        process_metrics().limits_hit.add({unusable.limit});
    }
    log_info("interaction.ignored").kv("envelope_id", envelope_id).kv("reason", unusable.reason);
    return {std::nullopt, "unusable", true, false, {}, false};
}

interactions::result interactions::handle_click(const commands::click& c,
                                                const std::string& envelope_id) {
    auto action = std::string(commands::controls::to_string(c.act));
    try {
        auto out = shell_.apply_click(c, envelope_id, real_clock().epoch_s());
        bool opens_modal = !out.open_view.is_null();
        if (opens_modal) {
            net::co_spawn(ioc_,
                          open_view(c.trigger_id, std::move(out.open_view), c.response_url, c.user),
                          net::detached);
        }
        log_info("click")
            .kv("envelope_id", envelope_id)
            .kv("action", action)
            .kv("user", c.user)
            .kv("outcome", out.redelivered ? "redelivered"
                           : out.refused   ? "refused"
                                           : "ok")
            .kv("decision", out.name);
        process_metrics().commands.add({"click:" + action, out.refused ? "refused" : "ok"});
        return {std::nullopt,
                out.name,
                out.refused,
                !out.redelivered && (out.queued || out.state_changed),
                c.where == commands::surface::home ? c.user : std::string(),
                !out.redelivered && !opens_modal};
    } catch (const std::exception& e) {
        auto why = storage::failure_of(e);
        if (why == storage::failure::busy) {
            process_metrics().db_conflicts.add({"click"});
        }
        log_warn(why == storage::failure::busy ? "click.busy" : "click.failed")
            .kv("envelope_id", envelope_id)
            .kv("action", action)
            .kv("error", e.what());
        process_metrics().commands.add({"click:" + action, failure_outcome(why)});
        net::co_spawn(ioc_, tell_try_again(c.response_url, c.user, failure_text(why)),
                      net::detached);
        return {std::nullopt, "failed", true, false, {}, false};
    }
}

void interactions::tell_failed(const commands::click& c, storage::failure why) {
    if (c.response_url.empty()) {
        return;
    }
    net::co_spawn(ioc_, tell_try_again(c.response_url, c.user, failure_text(why)), net::detached);
}

interactions::result interactions::handle_submission(const commands::submission& s,
                                                     const std::string& envelope_id) {
    auto kind = std::string(commands::controls::to_string(s.kind));
    try {
        auto out = shell_.apply_submission(s, envelope_id, real_clock().epoch_s());
        log_info("submission")
            .kv("envelope_id", envelope_id)
            .kv("modal", kind)
            .kv("user", s.user)
            .kv("outcome", out.redelivered ? "redelivered"
                           : out.refused   ? "refused"
                                           : "ok");
        process_metrics().commands.add({"modal:" + kind, out.refused ? "refused" : "ok"});
        std::optional<slack::json_text> ack;
        if (out.ack_json != "{}") {
            ack = std::move(out.ack_json);
        }
        return {std::move(ack),
                out.name,
                out.refused,
                !out.redelivered && (out.queued || out.state_changed),
                {},
                !out.redelivered};
    } catch (const std::exception& e) {
        auto why = storage::failure_of(e);
        if (why == storage::failure::busy) {
            process_metrics().db_conflicts.add({"submission"});
        }
        log_warn(why == storage::failure::busy ? "submission.busy" : "submission.failed")
            .kv("envelope_id", envelope_id)
            .kv("modal", kind)
            .kv("error", e.what());
        process_metrics().commands.add({"modal:" + kind, failure_outcome(why)});
        return {why == storage::failure::unknown
                    ? unknown_submission_ack(s)
                    : failed_submission_ack(s, why == storage::failure::busy),
                "failed",
                true,
                false,
                {},
                false};
    }
}

namespace {

// The field a modal's failure is shown next to: its first.
const char* first_field(const commands::submission& s) {
    return s.kind == commands::controls::modal::start ? "version"
           : s.kind == commands::controls::modal::note || s.kind == commands::controls::modal::check
               ? "note"
           : s.kind == commands::controls::modal::assign ? "owner"
                                                         : "reason";
}

slack::json_text form_error(const commands::submission& s, const char* sentence) {
    nlohmann::json errors = {{"response_action", "errors"},
                             {"errors", {{first_field(s), sentence}}}};
    return commands::dump_json(errors);
}

}  // namespace

slack::json_text interactions::failed_submission_ack(const commands::submission& s, bool busy) {
    return form_error(s, busy ? "The database is busy; nothing was changed. Please submit again."
                              : "Something went wrong; nothing was changed. Please submit again.");
}

slack::json_text interactions::unknown_submission_ack(const commands::submission& s) {
    return form_error(s,
                      "The database stopped answering; this may or may not have been saved. "
                      "Close this and look before you submit again.");
}

net::awaitable<void> interactions::open_view(std::string trigger_id,
                                             nlohmann::json view,
                                             std::string response_url,
                                             std::string user) {
    nlohmann::json args = nlohmann::json::object();
    args["trigger_id"] = trigger_id;
    args["view"] = view;
    auto r = co_await api_.call("views.open", std::move(args), token_kind::bot);
    if (r.ok()) {
        log_info("modal.opened").kv("callback_id", view.value("callback_id", "")).kv("user", user);
        co_return;
    }
    log_warn("modal.open_failed").kv("error", r.error).kv("user", user);
    co_await tell_try_again(std::move(response_url), std::move(user),
                            ":hourglass: That took too long and the form could not open (Slack "
                            "said `" +
                                r.error + "`). Please click again.");
}

net::awaitable<void> interactions::tell_try_again(std::string response_url,
                                                  std::string user,
                                                  std::string why) {
    auto body = commands::to_ack_payload(commands::render_text(why));
    if (!response_url.empty()) {
        body["replace_original"] = false;
        auto r = co_await api_.post_response_url(std::move(response_url), std::move(body));
        if (!r.ok()) {
            log_warn("click.reply_failed").kv("error", r.error).kv("user", user);
        }
        co_return;
    }
    try {
        auto tx = store_.work().begin();
        auto now = real_clock().epoch_s();
        auto key = "try-again:" + user + ":" + std::to_string(now);
        store_.outbox().enqueue(
            {key, std::nullopt, checklist::destination::direct(user), "chat.postMessage",
             commands::post_body_json(commands::render_text(why)), checklist::message_kind::dm},
            now);
        tx->commit();
        notify_.wake();
    } catch (const std::exception& e) {
        log_warn("click.reply_failed").kv("error", e.what()).kv("user", user);
    }
}

}  // namespace relbot::bot
