// The post-release report: for Slack, and as markdown (`/release report markdown`, `relbot
// export`) that parses back as a template. Its facts also feed the handoff briefing and the
// announcement that a release ended.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "checklist/records.hpp"
#include "checklist/release.hpp"
#include "commands/render/blocks.hpp"

namespace relbot::commands {

// What the audit trail tells about a release, one line each, worded for Slack.
struct report_facts {
    std::vector<std::string> blockers;
    std::vector<std::string> skips;
    std::vector<std::string> forced;
    std::vector<std::string> rollbacks;
    std::vector<std::string> evidence;
    // Items under a release policy (checked by CI, signed off): how each was verified.
    std::vector<std::string> verification = {};
    std::vector<std::string> notes;
    std::vector<std::string> timeline;
};

// Whether collect_facts writes `timeline`, a line per audit row: only the report shows it, and
// a long release has thousands of rows.
enum class timeline_rows : bool { left_out, written };

// The facts of `audit` for Slack: mrkdwn, user text escaped, people as mentions.
report_facts collect_facts(const checklist::release& r,
                           const std::vector<checklist::audit_entry>& audit,
                           timeline_rows rows = timeline_rows::left_out);

// The post-release report, split into as many messages as Block Kit needs (at most
// `max_pages`; beyond that it is cut with a note saying so).
std::vector<message> render_report(const checklist::release& r,
                                   const std::vector<checklist::audit_entry>& audit,
                                   std::size_t max_pages);

// People's display names by Slack user ID (users.info, cached in the database), for text read
// outside Slack, where a mention does not render.
using user_names = std::unordered_map<std::string, std::string>;

// `user`'s display name on one line, or the ID itself when no name is known.
std::string display_name(std::string_view user, const user_names* names);

// The release as a checklist in the template's own format, followed by its blockers, skips,
// forced moves, rollback decisions, notes and timeline: what `/release report markdown` pages
// and `relbot export` prints. People are shown by name (`@name`, from `names`, else the ID).
// Whatever people typed, it parses back as a template with the release's phases and items:
// user text is folded onto one line and never starts one, and never opens a comment that
// could read as an annotation. Each item keeps its annotation, and `freezes` (the template's
// Freeze section) follow the checklist, so `relbot check-template` accepts what it writes.
std::string report_markdown(const checklist::release& r,
                            const std::vector<checklist::audit_entry>& audit,
                            const user_names& names = {},
                            const std::vector<checklist::freeze_window>& freezes = {});

// The markdown report as messages of complete code blocks, each ending between two phases
// (a phase is split only when it alone is too long for one block), at most `max_pages`.
std::vector<message> render_report_markdown(
    const checklist::release& r,
    const std::vector<checklist::audit_entry>& audit,
    std::size_t max_pages,
    const user_names& names = {},
    const std::vector<checklist::freeze_window>& freezes = {});

}  // namespace relbot::commands
