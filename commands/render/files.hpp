// The files relbot uploads (contract: "Pictures and files"): what an outbox row for a file
// holds, and the file made from it when the notifier sends it (so that drawing and writing
// happen in the notifier's work, never before an acknowledgement).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checklist/freeze.hpp"
#include "checklist/records.hpp"
#include "checklist/release.hpp"
#include "commands/render/report.hpp"

namespace relbot::commands {

// The outbox method of a file row: delivered as Slack's upload flow
// (files.getUploadURLExternal, the bytes to its upload_url, files.completeUploadExternal).
inline constexpr std::string_view upload_method = "files.completeUploadExternal";

// The kinds of file, as a file row's body names them: {"file": "<kind>", "release_id": N}.
inline constexpr std::string_view file_timeline = "timeline";  // the timeline PNG
inline constexpr std::string_view file_report = "report";      // the full report, markdown

// A file row's body (JSON text).
std::string file_row_body(std::string_view kind, std::int64_t release_id);

struct upload_file {
    std::string name;   // "relbot-v1.2-timeline.png"
    std::string title;  // what Slack shows; ends with the outbox key
    std::string bytes;
    std::string alt_text;  // images only
    std::string comment;   // the one line it is shared with
};

// The file of kind `kind` for `r`, made now; nullopt for a kind this relbot does not make.
// `key` (the outbox key) goes into the title, so that after a crash the file can be found.
std::optional<upload_file> make_upload_file(std::string_view kind,
                                            const checklist::release& r,
                                            const std::vector<checklist::audit_entry>& audit,
                                            const user_names& names,
                                            const std::vector<checklist::freeze_window>& freezes,
                                            const std::string& channel_name,
                                            checklist::epoch_seconds now,
                                            const std::string& key);

// "relbot-<version>-report.md", the version made safe for a file name.
std::string report_file_name(const std::string& version);

}  // namespace relbot::commands
