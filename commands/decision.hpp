// What a change decides, as values: the request it answers, the read-only things it may look
// at (the channel's release and the `lookups`), and the `decision` it returns (the new state,
// its timeline rows, the messages it causes, the reply). No storage, no clock, no network:
// commands/apply.cpp writes a decision; the decide functions (commands/decide_*.cpp) make one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "checklist/outbound.hpp"
#include "checklist/records.hpp"
#include "checklist/release.hpp"
#include "checklist/rules.hpp"
#include "checklist/template.hpp"
#include "commands/refusals.hpp"
#include "commands/render/blocks.hpp"
#include "commands/render/status.hpp"
#include "slack/json_text.hpp"

namespace relbot::commands {

// One `/release` invocation as Slack delivered it.
struct request {
    std::string team;
    std::string channel;
    std::string user;
    std::string text;  // everything after `/release `
    checklist::epoch_seconds now = 0;
    std::string response_url;      // where replies beyond the acknowledgement may go
    std::string channel_name;      // the channel's name as Slack sent it (without `#`), if any
    way_in way = way_in::command;  // typed, or clicked (a button, a modal): refusals say so
};

// The channel's active release as committed (shared, never changed in place); null if none.
using snapshot = std::shared_ptr<const checklist::release>;

// What a decision may read beyond the snapshot. Read-only; the shell's implementation reads
// the store inside the input's transaction, a test's reads memory. May throw what the store
// throws.
// The release policy an operator sets for every template (RELBOT_FREEZE,
// RELBOT_ONE_DEPLOY_AT_A_TIME), beside what each template says.
struct policy_settings {
    std::vector<checklist::freeze_window> freezes;  // zones read
    bool one_deploy_at_a_time = false;
};

class lookups {
public:
    virtual ~lookups() = default;
    virtual const checklist::template_library& templates() const = 0;
    // Whether `user` is in RELBOT_ADMINS.
    virtual bool is_admin(std::string_view user) const = 0;
    // The channel's most recent release of `version` (active or ended), if any.
    virtual std::optional<checklist::release> release_by_version(
        std::string_view channel, std::string_view version) const = 0;
    // The channel's most recent release (active or ended), if any.
    virtual std::optional<checklist::release> latest_release(std::string_view channel) const = 0;
    // The release with this id (any channel, active or ended), if any.
    virtual std::optional<checklist::release> release(std::int64_t id) const = 0;
    // The release's timeline as written so far, oldest first.
    virtual std::vector<checklist::audit_entry> timeline(std::int64_t release_id) const = 0;
    // The channel's releases, newest first, at most `limit`.
    virtual std::vector<checklist::release_summary> list_releases(std::string_view channel,
                                                                  int limit) const = 0;
    // Every known display name by user ID.
    virtual std::unordered_map<std::string, std::string> user_names() const = 0;
    // The person's offset from UTC in seconds, if known (users.info's tz_offset).
    virtual std::optional<int> time_zone_offset(std::string_view user) const = 0;
    // When each item of the release was first reminded (item id -> time); none by default.
    virtual std::map<std::int64_t, checklist::epoch_seconds> first_reminders(
        std::int64_t /*release_id*/) const {
        return {};
    }
    // RELBOT_FREEZE and RELBOT_ONE_DEPLOY_AT_A_TIME; none by default.
    virtual const policy_settings& settings() const {
        static const policy_settings none;
        return none;
    }
    // Another channel's active release in its deployment phase: (version, channel).
    virtual std::optional<std::pair<std::string, std::string>> deploying_elsewhere(
        std::string_view) const {
        return std::nullopt;
    }
};

// The answer to the person who asked, and what it came to.
struct outcome {
    message reply;
    bool in_channel = false;
    bool changed = false;  // the decision writes something: the shell commits and records it
    std::string name;      // the subcommand, for logs and metrics ("start", "bad_input")
    bool refused = false;  // bad input or not allowed
    // The acknowledgement's payload as JSON text, when the decision already has it (a
    // remembered status, a modal's errors, "{}" for an ack without payload); otherwise the
    // shell serializes `reply` once.
    slack::json_text ack_json;
    // A modal to open with the click's trigger_id, at once (not through the outbox); null: none.
    nlohmann::json open_view;
    bool queued = false;  // set by the shell: the decision queued messages
    // Set by the shell: `ack_json` is ack_payload_json(reply, in_channel), serialized by it.
    bool ack_of_reply = false;
    // A limit the answer met ("report_messages": a report cut short), for the shell's metric.
    std::string limit_hit;
};

// Which id completes a message's dedupe key. Some ids exist only once the shell has written
// the decision: the decision never invents them, it says which one the key takes.
enum class key_id {
    none,        // the key is complete as planned: "release-ended:42"
    release,     // + the id of the release written: "release-started:<id>"
    last_audit,  // + the id of the last timeline row written: "item-blocked:<id>"
};

// A message a decision causes, before the shell knows the ids it writes.
struct planned_message {
    std::string key_prefix;  // the whole key when `completed_by` is none
    key_id completed_by = key_id::none;
    std::string key_suffix;  // after the id (":U123")
    // The message with an empty dedupe_key. An empty release_id means the release the decision
    // writes (the one it inserts, for `start`).
    checklist::outbound_message message;

    // The outbox row, given the ids the shell got when it wrote the decision.
    checklist::outbound_message complete(std::int64_t release_id, std::int64_t last_audit_id) const;
};

// What one change comes to. The shell writes it in one transaction, in this order: `insert`
// (then `log` against it) or `state` with `log`; then `messages`, in order; then the record
// of the applied input.
struct decision {
    outcome answer;
    // The release after the change, saved with `log` (the snapshot itself when only the
    // timeline grows). Null: nothing to save.
    std::shared_ptr<const checklist::release> state;
    // A new release (ids 0): stored, ids filled in, then `log` is saved against it.
    std::optional<checklist::release> insert;
    // What changed and the timeline rows to append (by the request's user, at its time).
    checklist::change_log log;
    std::vector<planned_message> messages;
};

class status_memo;

// What every decision reads.
struct situation {
    const request& req;
    const snapshot& active;  // null when there is no active release or it was not loaded
    const lookups& look;
    status_memo* statuses = nullptr;  // optional cache for `status`: renders every time when null
};

// Remembers the last status message rendered for each release: render_status() is a pure
// function of the release and its outlook, so an unchanged release is not rendered (or serialized)
// again.
class status_memo {
public:
    // The status acknowledgement payload (JSON text) for `r`. The same release object as
    // last time is known unchanged at once (the store never changes one in place); another
    // object is compared by value.
    // Shared, not copied: every `status` reply of an unchanged release is the same bytes.
    const slack::json_text& ack_json(const std::shared_ptr<const checklist::release>& r,
                                     const deployment_outlook& outlook = {});

private:
    struct entry {
        std::shared_ptr<const checklist::release> release;
        deployment_outlook outlook;
        slack::json_text ack_json;
    };
    static constexpr std::size_t max_entries = 256;
    // Active releases' replies; an ended release's is kept alone (`ended_`), not for the life
    // of the process.
    std::unordered_map<std::int64_t, entry> entries_;
    entry ended_;

public:
    // Releases whose reply is kept (the tests).
    std::size_t size() const { return entries_.size() + (ended_.release ? 1 : 0); }
};

}  // namespace relbot::commands
