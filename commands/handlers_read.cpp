// The handlers that read: help, status, list and report.
#include <functional>

#include "commands/handlers.hpp"

namespace relbot::commands::handlers {

using checklist::destination;
using checklist::message_kind;

namespace {

constexpr int list_limit = 10;

}  // namespace

outcome handle(const help_command&, const request&, context&) {
    return done("help", render_help(), false);
}

outcome handle(const status_command&, const request& req, context& ctx) {
    auto r = ctx.store.active_release_view(req.channel);
    if (!r) {
        return no_active("status");
    }
    if (ctx.statuses != nullptr) {
        outcome o;
        o.name = "status";
        o.ack_json = ctx.statuses->ack_json(r);
        return o;
    }
    return done("status", render_status(*r), false);
}

outcome handle(const list_command&, const request& req, context& ctx) {
    return done("list", render_list(ctx.store.list_releases(req.channel, list_limit)), false);
}

outcome handle(const report_command& c, const request& req, context& ctx) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        r = ctx.store.latest_release(req.channel);
    }
    if (!r) {
        return refuse("report", "There are no releases in this channel to report on.");
    }
    auto audit = ctx.store.audit_for(r->id);
    auto pages = c.markdown
                     ? render_report_markdown(*r, audit, max_reply_messages, ctx.store.user_names())
                     : render_report(*r, audit, max_reply_messages);
    // The first page is the acknowledgement; the rest follow through response_url, in order.
    bool changed = false;
    if (pages.size() > 1 && !req.response_url.empty()) {
        for (std::size_t i = 1; i < pages.size(); ++i) {
            auto body = to_ack_payload(pages[i]);
            // The key must not hold the URL itself (it is a credential, and keys are logged).
            auto url_id = std::to_string(std::hash<std::string>{}(req.response_url));
            ctx.store.enqueue({"report-page:" + url_id + ":" + std::to_string(i), r->id,
                               destination::reply(req.response_url), "response_url",
                               dump_json(body), message_kind::reply_page},
                              req.now);
        }
        changed = true;
    }
    return done("report", std::move(pages.front()), changed);
}

}  // namespace relbot::commands::handlers
