// The notifier: delivers outbox rows through the Web API and records the result.
// Woken after every committed change; otherwise sleeps until the next deferred row is due.
#pragma once

#include <functional>
#include <random>

#include "bot/net.hpp"
#include "bot/web_api.hpp"
#include "storage/store.hpp"

namespace relbot::bot {

class notifier {
public:
    using clock_fn = std::function<checklist::epoch_seconds()>;

    // `store` and `api` must outlive the notifier.
    notifier(storage::store& store, web_api& api, clock_fn now);

    // Delivers rows until stop(). Never throws for Slack or network trouble.
    net::awaitable<void> run();

    // New rows were committed: look again now.
    void wake();

    // Finish the call in progress, then return from run().
    void stop();

private:
    net::awaitable<void> deliver(storage::outbox_row row);

    storage::store& store_;
    web_api& api_;
    clock_fn now_;
    std::unique_ptr<net::steady_timer> timer_;
    bool woken_ = false;
    bool stopping_ = false;
    std::minstd_rand rng_;
};

}  // namespace relbot::bot
