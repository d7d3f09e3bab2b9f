// Test support for end-to-end tests: relbot-sim and relbot as real processes, and waiting on
// what the sandbox reports (acks, Web API calls) with deadlines.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace relbot::test {

using json = nlohmann::json;

inline const char* app_token = "xapp-e2e-test-1";
inline const char* bot_token = "xoxb-e2e-test-0";

// A running relbot-sim in control mode.
class sandbox {
public:
    explicit sandbox(const temp_dir& dir, std::vector<std::string> extra_args = {});

    const std::string& api_url() const { return api_url_; }
    const std::string& ca_file() const { return ca_file_; }

    // Sends one control op.
    void send(const json& op);

    // The first event not matched before that satisfies `match` (earlier events read while
    // waiting for something else count), reading more as needed; nullopt at the deadline.
    // Every event read is kept in events().
    std::optional<json> wait_for(const std::function<bool(const json&)>& match, deadline until);
    std::optional<json> wait_event(const std::string& name, deadline until);
    // Reads the sandbox's events (kept, none marked as matched) until `check()` holds or the
    // deadline passes; whether it holds. For state the sandbox or the database hold, which
    // changes only when something happens.
    bool wait_until(const std::function<bool()>& check, deadline until);

    // Injects a slash command; returns its envelope ID.
    std::string slash_command(const std::string& text,
                              const std::string& channel = "C0E2E",
                              const std::string& user = "U0MANAGER",
                              const json& extra = json::object());
    // Waits for the ack of an envelope (Slack's 3-second deadline by default).
    std::optional<json> wait_ack(const std::string& envelope_id,
                                 std::chrono::milliseconds within = std::chrono::seconds(3));
    // The recorded Web API calls of `method`, asked of the sandbox now.
    std::vector<json> calls(const std::string& method);

    const std::vector<json>& events() const { return events_; }

    // --- a person's clicks, modals and App Home (relbot-sim's click, submit, home_opened ops)
    // Clicks the control labelled `label` (a button's text, an overflow option's text, or a
    // select's placeholder with where["option"]) as `user`, in the latest message that has it;
    // `where` may also give "in" (channel, dm, ephemeral, home, modal), "channel_id" and
    // "match" (text of the item's line, e.g. "`2.3`"). Returns the envelope id (wait_ack it);
    // throws std::runtime_error naming the labels the sandbox saw when there is no such control.
    std::string click(const std::string& user,
                      const std::string& label,
                      const json& where = json::object());
    // Sends a click's envelope again, as Slack retries one (retry_attempt `attempt`).
    void redeliver(const std::string& envelope_id, int attempt = 1);
    // Submits `user`'s open modal with {block_id: value}; the envelope id. Throws when the user
    // has no modal open or a value does not fit its input.
    std::string submit(const std::string& user, const json& values);
    // The user opens the App Home tab; the envelope id.
    std::string home_opened(const std::string& user);
    // Every trigger_id handed out so far becomes older than Slack's 3 s (with `from_now`, also
    // every one handed out later).
    void expire_triggers(bool from_now = false);
    // The next `response_action: errors` for `user`'s modal: {block_id: message}.
    std::optional<json> wait_view_errors(
        const std::string& user, std::chrono::milliseconds within = std::chrono::seconds(5));
    // The next modal relbot opens for `user` (views.open accepted), as the sandbox holds it.
    std::optional<json> wait_modal(const std::string& user,
                                   std::chrono::milliseconds within = std::chrono::seconds(5));
    // The next Home view relbot publishes for `user`.
    std::optional<json> wait_home(const std::string& user,
                                  std::chrono::milliseconds within = std::chrono::seconds(10));
    // The modal open for `user` now, or null.
    json open_view(const std::string& user);
    // `user`'s Home view now, or null.
    json home_view(const std::string& user);
    // The messages `user` sees, oldest first, as the sandbox holds them now (after every
    // chat.update and response_url replacement): their DM with relbot, their ephemeral ones.
    std::vector<json> dm_messages(const std::string& user);
    std::vector<json> ephemeral_messages(const std::string& user);
    // The newest ephemeral message `user` sees, if any.
    std::optional<json> last_ephemeral(const std::string& user);

    // The chat.postMessage calls that were announcements (not the living status message),
    // told apart by the outbox key relbot puts in each message's metadata.
    std::vector<json> announcements();

private:
    // Sends `op` and waits for the event `done` about its envelope_id, or an error of the op.
    std::string send_and_wait(json op, const std::string& done);
    json ask(const json& op, const std::string& answer);

    process proc_;
    std::string api_url_;
    std::string ca_file_;
    std::vector<json> events_;
    std::vector<bool> matched_;  // per event: already returned by wait_for
    int next_envelope_ = 1;
};

// A running relbot process pointed at a sandbox, with its own database in `dir`.
class bot {
public:
    bot(const temp_dir& dir, const sandbox& sim, std::map<std::string, std::string> overrides = {});

    process& proc() { return proc_; }

    // SIGTERM, then the exit status (nullopt if it did not exit within 10 s).
    std::optional<int> stop();

private:
    process proc_;
};

// The environment relbot gets in these tests: no inherited SLACK_/RELBOT_ variables, the
// sandbox's URL and CA, test tokens and a database in `dir`.
std::map<std::string, std::string> bot_environment(const temp_dir& dir, const sandbox& sim);

// One run of the relbot command line (`relbot ARGS…`, not the bot) in `dir` with exactly
// `env`: its stdout, its exit status in `status`, and its stderr lines in `err` when given.
// Throws std::runtime_error if it has not exited within 30 s.
std::string run_relbot(const std::vector<std::string>& args,
                       const temp_dir& dir,
                       std::map<std::string, std::string> env,
                       int& status,
                       std::string* err = nullptr);

// Whether `haystack` holds `needle`.
inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The outbox key relbot put in a recorded chat.postMessage call's metadata ("" if none).
std::string outbox_key(const json& call);

// The text of an ack's payload or a message body: `text` plus every block's text.
std::string message_text(const json& body);

}  // namespace relbot::test
