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
#include "checklist/timeline.hpp"
#include "commands/render/blocks.hpp"
#include "commands/render/report.hpp"

namespace relbot::commands {

// The outbox method of a file row: delivered as Slack's upload flow
// (files.getUploadURLExternal, the bytes to its upload_url, files.completeUploadExternal).
inline constexpr std::string_view upload_method = "files.completeUploadExternal";

// The kinds of file, as a file row's body names them: {"file": "<kind>", "release_id": N}.
inline constexpr std::string_view file_timeline = "timeline";  // the timeline PNG
inline constexpr std::string_view file_report = "report";      // the full report, markdown
inline constexpr std::string_view file_trends = "trends";      // a channel's trends PNG

// A file row's body (JSON text); with `thread_of`, the file is shared in the thread of the
// message sent under that outbox key (when it was sent).
std::string file_row_body(std::string_view kind,
                          std::int64_t release_id,
                          const std::string& thread_of = {});
// The trends file row's body: {"file": "trends", "channel": C, "count": n}.
std::string trends_row_body(const std::string& channel, int count);

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

// The trends picture of `t` (the channel's name, when known, names the file).
upload_file make_trends_file(const checklist::trend_model& t,
                             const std::string& channel_name,
                             const std::string& key);

// `/release stats`' answer: the numbers beside the chart (`t` of `asked` releases at most), or,
// with fewer than two finished releases, the sentence that says so.
message render_trends(const checklist::trend_model& t, const std::string& channel, int asked);

// "relbot-<version>-report.md", the version made safe for a file name.
std::string report_file_name(const std::string& version);

}  // namespace relbot::commands
