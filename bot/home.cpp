// App Home publishing (see home.hpp).
#include "bot/home.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bot/digest.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "commands/render/blocks.hpp"
#include "commands/render/views.hpp"
#include "storage/open.hpp"

namespace relbot::bot {

home_publisher::home_publisher(net::any_io_executor ioc,
                               storage::engine& store,
                               slack_api& api,
                               clock& time)
    : ioc_(ioc), store_(store), api_(api), clock_(time) {}

home_publisher::~home_publisher() {
    *alive_ = false;
}

void home_publisher::opened(const std::string& user) {
    active_.reset();
    auto& v = viewers_[user];
    v.opened_at = clock_.system_now();
    publish_soon(user, true, true);
}

void home_publisher::clicked(const std::string& user) {
    active_.reset();
    if (!viewers_.contains(user)) {
        viewers_[user].opened_at = clock_.system_now();
    }
    publish_soon(user, true, true);
}

void home_publisher::adopt_followers() {
    try {
        auto since = clock_.epoch_ms() -
                     std::chrono::duration_cast<std::chrono::milliseconds>(follow_for).count();
        for (const auto& [user, opened_ms] : store_.status().home_followers(since)) {
            auto opened =
                std::chrono::system_clock::time_point(std::chrono::milliseconds(opened_ms));
            auto [it, fresh] = viewers_.try_emplace(user);
            if (fresh || it->second.opened_at < opened) {
                it->second.opened_at = opened;
            }
        }
        adopted_at_ = clock_.steady_now();
    } catch (const std::exception& e) {
        // Those followed here still are; the others wait for the next look.
        log_warn("home.followers_failed").kv("error", e.what());
    }
}

void home_publisher::changed() {
    active_.reset();  // something was committed: read again, once for everyone followed
    // Read at most once a second (a shared store is looked at every second, and after every
    // batch), and on SQLite once after a start: no query per batch of commands.
    if (!adopted_at_ || (store_.shared() && clock_.steady_now() - *adopted_at_ >= adopt_every)) {
        adopt_followers();
    }
    auto now = clock_.system_now();
    for (auto it = viewers_.begin(); it != viewers_.end();) {
        if (now - it->second.opened_at > follow_for && !it->second.in_flight &&
            !it->second.pending) {
            it = viewers_.erase(it);  // not looking any more
            continue;
        }
        publish_soon(it->first, false, false);
        ++it;
    }
}

steady_time::duration home_publisher::pause_before(std::optional<steady_time> published_at,
                                                   steady_time now,
                                                   bool direct) {
    auto gap = direct ? steady_time::duration(min_direct_gap) : steady_time::duration(min_gap);
    if (!published_at || now - *published_at >= gap) {
        return steady_time::duration::zero();
    }
    return gap - (now - *published_at);
}

void home_publisher::publish_soon(const std::string& user, bool even_if_same, bool direct) {
    auto& v = viewers_[user];
    v.even_if_same = v.even_if_same || even_if_same;
    v.direct = v.direct || direct;
    if (v.in_flight) {
        v.pending = true;  // published again once the one in hand is done
        return;
    }
    auto wait = pause_before(v.published_at, clock_.steady_now(), v.direct);
    if (v.pending && v.timer) {
        // A change is waiting out the long pause and the person opened or clicked: sooner.
        if (v.timer->expiry() - std::chrono::steady_clock::now() > wait) {
            v.timer->expires_after(wait);  // the wait under way ends (aborted)
            wait_then_publish(user);
        }
        return;
    }
    v.pending = true;
    v.timer = std::make_shared<net::steady_timer>(ioc_);
    v.timer->expires_after(wait);
    wait_then_publish(user);
}

void home_publisher::wait_then_publish(const std::string& user) {
    auto timer = viewers_[user].timer;
    timer->async_wait([this, timer, user, alive = alive_](const error_code& ec) {
        if (ec || !*alive) {
            return;  // aborted: re-armed sooner (a new wait is under way), or shutting down
        }
        auto& viewer = viewers_[user];
        if (viewer.timer != timer) {
            return;
        }
        bool even_if_same = viewer.even_if_same;
        viewer.pending = false;
        viewer.even_if_same = false;
        viewer.direct = false;
        viewer.timer.reset();
        viewer.in_flight = true;
        net::co_spawn(ioc_, publish(user, even_if_same), net::detached);
    });
}

net::awaitable<void> home_publisher::publish(std::string user, bool even_if_same) {
    auto alive = alive_;
    std::string view;
    try {
        view = view_for(user);
    } catch (const std::exception& e) {
        log_warn("home.read_failed").kv("user", user).kv("error", e.what());
    }
    auto& v = viewers_[user];
    if (!view.empty() && (even_if_same || view != v.last_view) &&
        claimed(user, view, even_if_same)) {
        nlohmann::json args = nlohmann::json::object();
        args["user_id"] = user;
        args["view"] = nlohmann::json::parse(view);
        auto r = co_await api_.call("views.publish", std::move(args), token_kind::bot);
        if (!*alive) {
            co_return;
        }
        auto& after = viewers_[user];
        after.published_at = clock_.steady_now();
        if (r.ok()) {
            after.last_view = view;
            log_info("home.published").kv("user", user);
        } else {
            log_warn("home.publish_failed").kv("user", user).kv("error", r.error);
            forget_claim(user);  // whoever looks next publishes it
        }
    }
    auto& done = viewers_[user];
    done.in_flight = false;
    if (done.pending) {
        done.pending = false;
        publish_soon(user, false, false);  // keeps what the waiting publish is for
    }
}

bool home_publisher::claimed(const std::string& user, const std::string& view, bool even_if_same) {
    try {
        if (store_.status().claim_home_view(user, sha256_hex(view), even_if_same,
                                            clock_.epoch_ms())) {
            process_metrics().claims.add({"home", "claimed"});
            return true;
        }
        // Another instance following this person published this very view.
        viewers_[user].last_view = view;
        process_metrics().claims.add({"home", "lost"});
        return false;
    } catch (const std::exception& e) {
        // Publishing twice replaces the tab with the same view; not publishing leaves it stale.
        log_warn("home.claim_failed").kv("user", user).kv("error", e.what());
        return true;
    }
}

void home_publisher::forget_claim(const std::string& user) {
    try {
        store_.status().claim_home_view(user, "", true, clock_.epoch_ms());
    } catch (const std::exception& e) {
        log_warn("home.claim_failed").kv("user", user).kv("error", e.what());
    }
}

std::string home_publisher::view_for(const std::string& user) {
    if (!active_) {
        std::vector<checklist::release> active;
        for (auto id : store_.releases().active_release_ids()) {
            if (auto r = store_.releases().load_release(id)) {
                active.push_back(std::move(*r));
            }
        }
        active_ = std::move(active);
    }
    return commands::dump_json(commands::home_view(home_data_of(user, *active_, clock_.epoch_s())));
}

commands::home_data home_data_of(const std::string& viewer,
                                 const std::vector<checklist::release>& active,
                                 checklist::epoch_seconds now) {
    commands::home_data d;
    d.viewer = viewer;
    d.now = now;
    for (const auto& r : active) {
        if (r.status != checklist::release_status::active) {
            continue;
        }
        commands::home_release listed{r.id,
                                      r.version,
                                      r.channel,
                                      r.manager,
                                      r.current_phase,
                                      static_cast<int>(r.phases.size()),
                                      r.current().title};
        d.active.push_back(listed);
        if (r.manager == viewer) {
            d.managed.push_back(listed);
        }
        for (const auto& p : r.phases) {
            for (const auto& i : p.items) {
                bool unsettled = i.state == checklist::item_state::open ||
                                 i.state == checklist::item_state::blocked;
                if (i.owner == viewer && unsettled) {
                    d.open_items.push_back({r.id, r.version, r.channel, p.title, i.id, i.ref(),
                                            i.title, i.due_at, i.state});
                }
            }
        }
    }
    return d;
}

}  // namespace relbot::bot
