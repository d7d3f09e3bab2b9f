// The commands that read: help, status, list and report (whose later pages are queued).
#include <functional>

#include "checklist/mrkdwn.hpp"
#include "commands/decide.hpp"
#include "commands/router.hpp"

namespace relbot::commands::decisions {

using checklist::destination;
using checklist::escape_mrkdwn;
using checklist::message_kind;

namespace {

constexpr int list_limit = 10;

}  // namespace

decision decide(const help_command&, const situation&) {
    return done("help", render_help(), false);
}

decision decide(const status_command&, const situation& s) {
    if (!s.active) {
        return no_active("status");
    }
    auto outlook = outlook_for(*s.active, s.look, s.req.now);
    if (s.statuses != nullptr) {
        decision d;
        d.answer.name = "status";
        d.answer.ack_json = s.statuses->ack_json(s.active, outlook);
        return d;
    }
    return done("status", render_status(*s.active, outlook), false);
}

decision decide(const list_command&, const situation& s) {
    return done("list", render_list(s.look.list_releases(s.req.channel, list_limit)), false);
}

decision decide(const report_command& c, const situation& s) {
    // The active release, else the latest ended one.
    std::optional<checklist::release> latest;
    const checklist::release* r = s.active.get();
    if (r == nullptr) {
        latest = s.look.latest_release(s.req.channel);
        r = latest ? &*latest : nullptr;
    }
    if (r == nullptr) {
        return refuse("report", "There are no releases in this channel to report on.");
    }
    if (c.form == report_form::chart || c.form == report_form::file) {
        // Made and uploaded by the notifier, to the asker's DM.
        bool chart = c.form == report_form::chart;
        auto d = done("report",
                      render_text(std::string(chart ? ":frame_with_picture: I'm drawing the "
                                                      "timeline of release *"
                                                    : ":page_facing_up: I'm writing the whole "
                                                      "report of release *") +
                                  escape_mrkdwn(r->version) + "* " +
                                  (chart ? "" : "(`" + report_file_name(r->version) + "`) ") +
                                  "and sending it to your DM."),
                      true);
        d.messages.push_back(upload(*r, destination::direct(s.req.user), message_kind::dm,
                                    chart ? file_timeline : file_report,
                                    std::string(chart ? "report-chart:" : "report-file:") +
                                        std::to_string(r->id) + ":" + s.req.user + ":" +
                                        std::to_string(s.req.now)));
        return d;
    }
    auto audit = s.look.timeline(r->id);
    std::vector<checklist::freeze_window> freezes;  // the template's Freeze section goes along
    if (const auto* t = s.look.templates().find(r->template_name);
        t && c.form == report_form::markdown) {
        freezes = t->freezes;
    }
    auto pages =
        c.form == report_form::markdown
            ? render_report_markdown(*r, audit, max_reply_messages, s.look.user_names(), freezes)
            : render_report(*r, audit, max_reply_messages);
    // The first page is the acknowledgement; the rest follow through response_url, in order.
    std::vector<planned_message> later;
    if (pages.size() > 1 && !s.req.response_url.empty()) {
        // The key must not hold the URL itself (it is a credential, and keys are logged).
        auto url_id = std::to_string(std::hash<std::string>{}(s.req.response_url));
        for (std::size_t i = 1; i < pages.size(); ++i) {
            planned_message p;
            p.key_prefix = "report-page:" + url_id + ":" + std::to_string(i);
            p.message = {"",
                         r->id,
                         destination::reply(s.req.response_url),
                         "response_url",
                         dump_json(to_ack_payload(pages[i])),
                         message_kind::reply_page};
            later.push_back(std::move(p));
        }
    }
    bool cut_short = pages.back().cut_short;
    if (cut_short && !later.empty()) {
        // The last page says the report continues in the file: it goes to the asker's DM.
        // (Its own key prefix: a `report file` in the same second is another file.)
        later.push_back(upload(*r, destination::direct(s.req.user), message_kind::dm, file_report,
                               "report-continued:" + std::to_string(r->id) + ":" + s.req.user +
                                   ":" + std::to_string(s.req.now)));
    }
    bool changed = !later.empty();
    auto d = done("report", std::move(pages.front()), changed);
    d.messages = std::move(later);
    if (cut_short) {
        d.answer.limit_hit = "report_messages";
    }
    return d;
}

decision decide(const stats_command& c, const situation& s) {
    if (c.count < 2) {
        return done("stats",
                    render_text(":bar_chart: Trends compare at least two finished releases: "
                                "`/release stats 2` (or more) compares the last ones, and "
                                "`/release report` describes one."),
                    false);
    }
    // The chart and the figures hold at most the last `max_stats_releases`.
    auto count = std::min(c.count, max_stats_releases);
    auto histories = finished_histories(s.look, s.req.channel, count);
    auto trends = checklist::build_trends(histories);
    auto d = done("stats", render_trends(trends, s.req.channel, count), false);
    if (trends.releases.size() >= 2) {
        // The chart is drawn by the notifier, to the asker's DM.
        d.messages.push_back(
            upload(destination::direct(s.req.user), message_kind::dm,
                   trends_row_body(s.req.channel, count),
                   "stats:" + s.req.channel + ":" + s.req.user + ":" + std::to_string(s.req.now)));
        d.answer.changed = true;
    }
    return d;
}

}  // namespace relbot::commands::decisions
