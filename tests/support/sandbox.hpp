// Test support for end-to-end tests: relbot-sim and relbot as real processes, and waiting on
// what the sandbox reports (acks, Web API calls) with deadlines.
#pragma once

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

    // The chat.postMessage calls that were announcements (not the living status message),
    // told apart by the outbox key relbot puts in each message's metadata.
    std::vector<json> announcements();

private:
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

// Whether `haystack` holds `needle`.
inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The outbox key relbot put in a recorded chat.postMessage call's metadata ("" if none).
std::string outbox_key(const json& call);

// The text of an ack's payload or a message body: `text` plus every block's text.
std::string message_text(const json& body);

}  // namespace relbot::test
