#include "commands/render/files.hpp"

#include <nlohmann/json.hpp>

#include "checklist/mrkdwn.hpp"
#include "checklist/timeline.hpp"
#include "commands/render/picture.hpp"
#include "commands/render/wording.hpp"

namespace relbot::commands {
namespace {

// Letters, digits, '.', '-', '_' and '+' kept (a version's build mark, `v1.2+b7`, as the
// contract names the file: relbot-<version>-report.md); anything else (a '/') becomes '-'.
std::string file_safe(const std::string& text) {
    std::string out;
    for (char c : text) {
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == '+';
        out.push_back(keep ? c : '-');
    }
    return out.substr(0, 80);
}

}  // namespace

std::string file_row_body(std::string_view kind,
                          std::int64_t release_id,
                          const std::string& thread_of) {
    nlohmann::json body = {{"file", std::string(kind)}, {"release_id", release_id}};
    if (!thread_of.empty()) {
        body["thread_of"] = thread_of;
    }
    return body.dump();
}

std::string trends_row_body(const std::string& channel, int count) {
    return nlohmann::json{
        {"file", std::string(file_trends)}, {"channel", channel}, {"count", count}}
        .dump();
}

upload_file make_trends_file(const checklist::trend_model& t,
                             const std::string& channel_name,
                             const std::string& key) {
    auto p = draw_trends(t);
    upload_file f;
    f.name = "relbot-trends-" + file_safe(channel_name.empty() ? t.channel : channel_name) + ".png";
    f.bytes = std::move(p.png);
    f.alt_text = std::move(p.alt_text);
    f.comment = trends_caption(t);
    f.title = f.name + " (" + key + ")";
    return f;
}

message render_trends(const checklist::trend_model& t, const std::string& channel, int asked) {
    auto n = t.releases.size();
    if (n < 2) {
        return render_text(
            ":bar_chart: Trends need at least two finished releases, and <#" + channel + "> has " +
            (n == 0 ? std::string("none yet") : std::string("only one so far")) +
            " (aborted releases are not counted). `/release report` describes one release.");
    }
    auto ratio = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", v);
        return std::string(buf);
    };
    auto reasons = [](const std::vector<checklist::reason_count>& rs) {
        std::string out;
        for (const auto& r : rs) {
            out += (out.empty() ? " (most often: _" : ", _") +
                   checklist::escape_mrkdwn(checklist::truncate_utf8(r.reason, 80)) + "_ ×" +
                   std::to_string(r.count);
        }
        return out.empty() ? out : out + ")";
    };
    std::vector<std::string> lines;
    lines.push_back(":bar_chart: *Trends over the last " +
                    checklist::plural(n, "finished release") + " in <#" + channel + ">*" +
                    (static_cast<int>(n) < asked ? " (all there are)" : "") +
                    "; the chart is on its way to your DM.");
    std::string medians;
    for (std::size_t p = 0; p < t.median_phase_seconds.size() && p < t.phase_titles.size(); ++p) {
        medians += (medians.empty() ? "" : " · ") + std::to_string(p + 1) + ". " +
                   checklist::escape_mrkdwn(t.phase_titles[p]) + " " +
                   (t.median_phase_seconds[p] < 0 ? std::string("not reached")
                                                  : human_duration(t.median_phase_seconds[p]));
    }
    lines.push_back("*Median time per phase:* " + medians);
    lines.push_back("*Skips per release:* " + ratio(t.skips_per_release) + reasons(t.skip_reasons));
    lines.push_back("*Forced moves per release:* " + ratio(t.forced_per_release) +
                    reasons(t.forced_reasons));
    lines.push_back("*From a reminder to done (median):* " +
                    (t.median_reminder_to_done ? human_duration(*t.median_reminder_to_done)
                                               : std::string("no item was reminded")));
    lines.push_back("*Checkpoint answers:* " + std::to_string(t.healthy) + " healthy, " +
                    std::to_string(t.investigating) + " investigating, " +
                    std::to_string(t.rolled_back) + " rolled back, " +
                    std::to_string(t.unanswered) + " unanswered");
    message m;
    m.text = "Trends over the last " + checklist::plural(n, "finished release");
    append_lines(m.blocks, lines, 0);
    for (const auto& l : lines) {
        m.text += "\n" + l;
    }
    m.text = checklist::truncate_utf8(m.text, max_fallback_text);
    return m;
}

std::string report_file_name(const std::string& version) {
    return "relbot-" + file_safe(version) + "-report.md";
}

std::optional<upload_file> make_upload_file(std::string_view kind,
                                            const checklist::release& r,
                                            const std::vector<checklist::audit_entry>& audit,
                                            const user_names& names,
                                            const std::vector<checklist::freeze_window>& freezes,
                                            const std::string& channel_name,
                                            checklist::epoch_seconds now,
                                            const std::string& key) {
    upload_file f;
    if (kind == file_timeline) {
        auto model = checklist::build_timeline(r, audit, now, channel_name);
        auto p = draw_timeline(model);
        f.name = "relbot-" + file_safe(r.version) + "-timeline.png";
        f.bytes = std::move(p.png);
        f.alt_text = std::move(p.alt_text);
        f.comment = timeline_caption(model);
    } else if (kind == file_report) {
        f.name = report_file_name(r.version);
        f.bytes = report_markdown(r, audit, names, freezes);
        f.comment = "The full report of release " + r.version + " (" +
                    checklist::plural(audit.size(), "timeline entry", "timeline entries") +
                    "), as markdown";
    } else {
        return std::nullopt;
    }
    f.title = f.name + " (" + key + ")";
    return f;
}

}  // namespace relbot::commands
