// App Home: publishes a person's Home tab (views.publish) when they open it and after they
// click in it (at once, or 1 s after the last publish), and again when one of their items
// changes within 30 minutes of their last visit (at most once every 10 s per person: a change
// during the pause is published when it ends, or sooner if they open or click meanwhile). Who
// opened their Home when is kept in the database (status_board::home_opened, written by the
// app with the event): every instance sharing it follows everyone who did (read again each
// time it looks), so the person is followed on even if the instance that got the event stops,
// and a restarted relbot follows on where it was. Each new view is claimed in the database
// first (status_board::claim_home_view): several instances following one person publish it
// once. The
// view is a pure function of the active releases (commands/render/views); this is the timing
// and the call. Loop thread only.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bot/clock.hpp"
#include "bot/net.hpp"
#include "bot/slack_port.hpp"
#include "checklist/template.hpp"
#include "commands/render/views.hpp"

namespace relbot::storage {
class engine;
}  // namespace relbot::storage

namespace relbot::bot {

class home_publisher {
public:
    static constexpr std::chrono::seconds min_gap{10};        // per person, for a change
    static constexpr std::chrono::seconds min_direct_gap{1};  // for their own open or click
    static constexpr std::chrono::minutes follow_for{30};     // after app_home_opened

    // How long a publish waits after the last one (`published_at`) at `now`: `direct` for what
    // the person did (opened the tab, clicked in it), which they are looking at.
    static steady_time::duration pause_before(std::optional<steady_time> published_at,
                                              steady_time now,
                                              bool direct);

    // None is owned; all must outlive the publisher.
    home_publisher(net::any_io_executor ioc, storage::engine& store, slack_api& api, clock& time);
    ~home_publisher();

    // app_home_opened: publish now (or when the 10 s pause ends) and follow their items.
    void opened(const std::string& user);
    // They clicked in their Home: publish again.
    void clicked(const std::string& user);
    // Something was committed: every followed person whose view changed is published again.
    // With a shared database (at most once a second; on SQLite once after a start) the people
    // followed are first read from it.
    void changed();

private:
    struct viewer {
        std::chrono::system_clock::time_point opened_at;
        std::optional<steady_time> published_at;
        std::string last_view;  // the JSON last published, to publish only what changed
        bool pending = false;   // waiting for the pause to end
        bool in_flight = false;
        // What the publish waiting (pending) is for: publish even an unchanged view (opened,
        // clicked); after the person's own open or click (the shorter pause).
        bool even_if_same = false;
        bool direct = false;
        std::shared_ptr<net::steady_timer> timer;  // the pause, while pending and not in flight
    };
    void publish_soon(const std::string& user, bool even_if_same, bool direct);
    // Follows everyone the database says opened their Home within follow_for.
    void adopt_followers();
    // Waits out `user`'s pending pause, then publishes.
    void wait_then_publish(const std::string& user);
    net::awaitable<void> publish(std::string user, bool even_if_same);
    // Whether this instance publishes `view` (claimed in the database: with several
    // instances following one person, one publishes each new view).
    bool claimed(const std::string& user, const std::string& view, bool even_if_same);
    // A publish failed: the view is nobody's again.
    void forget_claim(const std::string& user);
    // The view for `user` from the active releases, as JSON text. The releases are read once
    // after each change, open or click (`active_`), not once per person followed.
    std::string view_for(const std::string& user);

    net::any_io_executor ioc_;  // the database strand
    storage::engine& store_;
    slack_api& api_;
    clock& clock_;
    std::map<std::string, viewer> viewers_;
    static constexpr std::chrono::seconds adopt_every{1};
    std::optional<steady_time> adopted_at_;                  // when the followers were last read
    std::optional<std::vector<checklist::release>> active_;  // as read since the last change
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// What the Home tab shows `viewer`: their unsettled items in `active` releases (any phase), the
// releases they manage, and every active release.
commands::home_data home_data_of(const std::string& viewer,
                                 const std::vector<checklist::release>& active,
                                 checklist::epoch_seconds now);

}  // namespace relbot::bot
