// Clicks and modal submissions as the running bot takes them: read the payload, apply it
// through the shell (one transaction, committed before the ack), open the modal a click asks
// for at once with its trigger_id (Slack lets a trigger live 3 s: never through the paced
// outbox), and answer a submission's validation errors in its ack. Loop thread only.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bot/net.hpp"
#include "bot/notifier.hpp"
#include "bot/slack_port.hpp"
#include "commands/apply.hpp"
#include "storage/ports.hpp"

namespace relbot::storage {
class engine;
}  // namespace relbot::storage

namespace relbot::bot {

class interactions {
public:
    // What one interactive envelope came to, for the dispatcher's wake-ups, logs and metrics.
    struct result {
        std::optional<slack::json_text> ack_payload;  // nullopt: an ack without payload
        std::string name;                             // "check", "skip", "stale", "unusable", …
        bool refused = false;
        bool wake = false;      // something was committed or queued: the notifier should look
        std::string home_user;  // a click in this person's App Home: publish it again
        // Whether the envelope's effect rides on the batch's commit: if that fails, the person
        // is told (interactions::tell_failed, a submission's form error). Not for a click that
        // failed on its own (told already), a redelivery (its first delivery was kept), or a
        // click that only opened a modal (the modal is open whatever the commit does).
        bool at_stake = true;
    };

    // None is owned; all must outlive this.
    interactions(net::any_io_executor ioc,
                 commands::shell& shell,
                 storage::engine& store,
                 slack_api& api,
                 notifier& notify);

    // A `block_actions` or `view_submission` payload of envelope `envelope_id`.
    result handle(const std::string& envelope_id, const nlohmann::json& payload);

    // The ack of a submission that changed nothing because the database was busy (or broke):
    // the modal stays open with the sentence next to its first field. Pure.
    static slack::json_text failed_submission_ack(const commands::submission& s, bool busy);
    // The same when the database stopped answering while the submission was being saved:
    // nobody can tell yet whether it was.
    static slack::json_text unknown_submission_ack(const commands::submission& s);
    // A click whose batch failed at its commit, or that the client answered late (`why`): the
    // person is told which through its response_url, since a click's ack carries no message.
    // From App Home (no response_url) nothing is said: a DM would need a write, on a database
    // that is failing or behind. Safe from any thread: the telling runs on the database strand.
    void tell_failed(const commands::click& c, storage::failure why);

private:
    result handle_click(const commands::click& c, const std::string& envelope_id);
    result handle_submission(const commands::submission& s, const std::string& envelope_id);
    // views.open now; on failure the person is told to try again.
    net::awaitable<void> open_view(std::string trigger_id,
                                   nlohmann::json view,
                                   std::string response_url,
                                   std::string user);
    // "Try again" to someone whose click could not be answered: through the response_url, or,
    // without one (App Home), by DM through the outbox.
    net::awaitable<void> tell_try_again(std::string response_url,
                                        std::string user,
                                        std::string why);

    net::any_io_executor ioc_;  // the database strand
    commands::shell& shell_;
    storage::engine& store_;
    slack_api& api_;
    notifier& notify_;
};

}  // namespace relbot::bot
