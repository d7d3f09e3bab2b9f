// relbot-bench-soak's load: a script per channel. Who does what next in each channel (start a
// release, assign, note, block, check, click, move on, finish), learnt from relbot's replies;
// and talk around it. Pure: it sends nothing and waits for nothing (bench/soak.cpp does).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace relbot::bench::soak {

using clock = std::chrono::steady_clock;

// Each channel's release manager is its own person and an admin (RELBOT_ADMINS), so that their
// modals never collide. P00–P29 own items (and may act on their own); P30–P39 never do, so
// what they try on items is refused.
inline constexpr int people_count = 40;
inline constexpr int owner_count = 30;
std::string channel_id(int k);  // C0SOAK00…
std::string manager_of(int k);  // U0SOAKM00…, the manager of channel k's releases
std::string person(int k);      // U0SOAKP00…

// The `soak` template (RELBOT_TEMPLATES_DIR/soak.md): phase windows of seconds.
extern const char* const soak_template;

// Items per phase, and the monitoring phase (1-based), of a template the soak starts.
struct template_shape {
    std::string name;
    std::vector<int> items;
    int monitoring = 0;
};

enum class via { slash, click, modal, home };

// One thing a person does.
struct step {
    via how = via::slash;
    std::string user;
    std::string text;   // slash: the command; modal: what is typed into its one input
    std::string label;  // click, modal: the control's visible text
    nlohmann::json where = nlohmann::json::object();  // click, modal: in, channel_id, match, option
    std::string modal;     // modal: its callback_id ("note", "block", "skip")
    std::string field;     // modal: the input's block_id
    std::string fallback;  // click, modal: the command typed instead when it cannot be
    bool audited = false;  // `text` holds a unique "soak …" note or reason, for the timeline check
    bool learn = false;    // start, next, finish, abort: the reply says where the release is
    bool may_force = false;  // Next phase: a force modal may open; it is answered
};

// `/release <text>` typed by `user`.
step typed(const std::string& user, std::string text, bool learn = false);
// A click on the control labelled `label` where `where` says; `fallback` is typed instead when
// there is no such control.
step clicked(const std::string& user,
             std::string label,
             nlohmann::json where,
             std::string fallback = {});

// The reply's start that means the command changed something ("" for reads).
std::string success_prefix(const std::string& command);

// What the soak believes of one channel's release (from the replies it got).
struct channel_script {
    int index = 0;
    std::string id;
    std::string manager;
    bool active = false;
    int releases = 0;
    const template_shape* shape = nullptr;
    int phase = 0;
    int phases = 0;
    int refusals = 0;  // of `next` or `finish` in this phase
    clock::time_point started{};
    std::deque<step> plan;
};

// Writes the channels' scripts. One per soak; not thread-safe.
class script {
public:
    // `status_posted(channel, since)`: whether the living status message of a release started
    // at `since` is in the channel (a modal opened on it acts on that release).
    script(unsigned seed,
           std::function<bool(const std::string& channel, clock::time_point since)> status_posted);

    // The channel's next step: with probability `chatter` (while a release is active) talk
    // around it, else the next step of its plan (planning more when it is empty).
    step next(channel_script& c, double chatter);
    // What the reply to a `learn` step says about the channel's release: its plan follows it.
    void learn(channel_script& c, const step& s, const std::string& reply);
    // "soak <what> <n>", unique in this soak: a note or reason the timeline can be checked for.
    std::string unique(const std::string& what);

private:
    step chatter(channel_script& c);
    void refill(channel_script& c);
    void plan_phase(channel_script& c);
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

    std::mt19937 rng_;
    std::function<bool(const std::string&, clock::time_point)> status_posted_;
    long next_text_ = 1;
};

}  // namespace relbot::bench::soak
