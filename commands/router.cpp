// The handlers: one function per command, dispatched from the parsed variant.
#include "commands/router.hpp"

#include "checklist/mrkdwn.hpp"
#include "commands/parse.hpp"

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;

outcome refuse(std::string name, std::string_view text) {
    outcome o;
    o.reply = render_text(text);
    o.name = std::move(name);
    o.refused = true;
    return o;
}

std::string template_names(const checklist::template_library& templates) {
    std::string out;
    for (const auto& n : templates.names()) {
        out += (out.empty() ? "`" : ", `") + escape_mrkdwn(n) + "`";
    }
    return out;
}

outcome handle(const help_command&, const request&, context&) {
    return {render_help(), false, false, "help", false};
}

outcome handle(const status_command&, const request& req, context& ctx) {
    auto active = ctx.store.active_release(req.channel);
    if (!active) {
        return refuse("status",
                      "There is no active release in this channel. Start one with "
                      "`/release start <version>`.");
    }
    return {render_status(*active), false, false, "status", false};
}

outcome handle(const start_command& c, const request& req, context& ctx) {
    const auto* tpl = ctx.templates.find(c.template_name);
    if (tpl == nullptr) {
        return refuse("start", "There is no template called `" + escape_mrkdwn(c.template_name) +
                                   "`. Templates: " + template_names(ctx.templates) + ".");
    }
    if (auto active = ctx.store.active_release(req.channel)) {
        return refuse("start", "Release *" + escape_mrkdwn(active->version) +
                                   "* is already active in this channel (release manager <@" +
                                   active->manager +
                                   ">). One release runs per channel at a time; see it with "
                                   "`/release status`.");
    }
    auto r = checklist::make_release(*tpl, req.channel, c.version, req.user, req.now);
    ctx.store.insert_release(r);
    ctx.store.append_audit({r.id, req.now, req.user, "release.started", std::nullopt, "", "active",
                            "template " + r.template_name});
    ctx.store.append_audit(
        {r.id, req.now, req.user, "phase.entered", std::nullopt, "", r.phases.front().title, ""});
    ctx.store.enqueue({"release-started:" + std::to_string(r.id), r.id, r.channel,
                       "chat.postMessage", dump_json(to_post_body(render_release_started(r)))},
                      req.now);

    auto reply = render_text(
        ":white_check_mark: Started release *" + escape_mrkdwn(r.version) + "* with the `" +
        escape_mrkdwn(r.template_name) + "` template: " + std::to_string(r.phases.size()) +
        " phases, " + std::to_string(r.item_count()) +
        " items. You are the release manager. I've announced it in the channel; "
        "`/release status` shows the checklist.");
    return {std::move(reply), false, true, "start", false};
}

outcome handle(const usage_error& e, const request&, context&) {
    return refuse("bad_input", e.message);
}

}  // namespace

outcome route(const request& req, context& ctx) {
    auto parsed = parse_command(req.text);
    return std::visit([&](const auto& c) { return handle(c, req, ctx); }, parsed);
}

}  // namespace relbot::commands
