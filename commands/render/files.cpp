#include "commands/render/files.hpp"

#include <nlohmann/json.hpp>

#include "checklist/mrkdwn.hpp"
#include "checklist/timeline.hpp"
#include "commands/render/picture.hpp"

namespace relbot::commands {
namespace {

// Letters, digits, '.', '-' and '_' kept; anything else becomes '-'.
std::string file_safe(const std::string& text) {
    std::string out;
    for (char c : text) {
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
        out.push_back(keep ? c : '-');
    }
    return out.substr(0, 80);
}

}  // namespace

std::string file_row_body(std::string_view kind, std::int64_t release_id) {
    return nlohmann::json{{"file", std::string(kind)}, {"release_id", release_id}}.dump();
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
