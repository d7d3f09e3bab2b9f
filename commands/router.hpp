// From a parsed `/release` request to its effect and its reply. Runs inside the caller's
// store transaction; never touches the network or the clock (time comes in the request).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "checklist/release.hpp"
#include "checklist/template.hpp"
#include "commands/parse.hpp"
#include "commands/render.hpp"
#include "storage/store.hpp"

namespace relbot::commands {

// One `/release` invocation as Slack delivered it.
struct request {
    std::string team;
    std::string channel;
    std::string user;
    std::string text;  // everything after `/release `
    checklist::epoch_seconds now = 0;
    std::string response_url;  // where replies beyond the acknowledgement may go
    std::string channel_name;  // the channel's name as Slack sent it (without `#`), if any
};

class status_memo;

// What the router needs besides the request. Not owned.
struct context {
    storage::store& store;
    const checklist::template_library& templates;
    const std::vector<std::string>& admins;
    status_memo* statuses = nullptr;  // optional: renders every status when absent
};

// The reply to the person who typed the command (and whether anything changed).
struct outcome {
    message reply;
    bool in_channel = false;
    bool changed = false;  // state was written: the caller commits and wakes the notifier
    std::string name;      // the subcommand, for logs and metrics ("start", "bad_input")
    bool refused = false;  // bad input or not allowed
    // The acknowledgement's payload as JSON text: `reply` (ephemeral or in channel),
    // serialized once by route().
    std::string ack_json;
};

// Remembers the last status message rendered for each release: render_status() is a pure
// function of the release, so an unchanged release is not rendered (or serialized) again.
class status_memo {
public:
    // The status acknowledgement payload (JSON text) for `r`. The same release object as
    // last time is known unchanged at once (the store never changes one in place); another
    // object is compared by value.
    const std::string& ack_json(const std::shared_ptr<const checklist::release>& r);

private:
    struct entry {
        std::shared_ptr<const checklist::release> release;
        std::string ack_json;
    };
    static constexpr std::size_t max_entries = 256;
    std::unordered_map<std::int64_t, entry> entries_;
};

// A report has at most this many messages: the acknowledgement and Slack's five
// response_url posts.
inline constexpr std::size_t max_reply_messages = 6;

// Parses and applies one request. May throw what the store throws; the caller's transaction
// then rolls everything back.
outcome route(const request& req, context& ctx);
// The same, for a command already parsed from req.text.
outcome route(const command& parsed, const request& req, context& ctx);

// Whether the command may write (everything but help, status, list and bad input): the
// caller picks a write or a read transaction by this.
bool may_write(const command& parsed);

}  // namespace relbot::commands
