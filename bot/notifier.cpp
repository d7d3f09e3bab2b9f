// Outbox delivery: pending → sending → sent (or failed, or deferred with backoff).
#include "bot/notifier.hpp"

#include "bot/backoff.hpp"
#include "bot/log.hpp"

namespace relbot::bot {

notifier::notifier(storage::store& store, web_api& api, clock_fn now)
    : store_(store), api_(api), now_(std::move(now)), rng_(std::random_device{}()) {}

void notifier::wake() {
    woken_ = true;
    if (timer_) {
        timer_->cancel();
    }
}

void notifier::stop() {
    stopping_ = true;
    wake();
}

net::awaitable<void> notifier::run() {
    timer_ = std::make_unique<net::steady_timer>(co_await net::this_coro::executor);
    while (!stopping_) {
        woken_ = false;
        std::vector<storage::outbox_row> rows;
        try {
            rows = store_.due_outbox(now_(), 20);
        } catch (const std::exception& e) {
            log_error("outbox.read_failed").kv("error", e.what());
        }
        for (auto& row : rows) {
            if (stopping_) {
                break;
            }
            try {
                co_await deliver(std::move(row));
            } catch (const std::exception& e) {
                // A database error must not end delivery for good; the row stays unsent.
                log_error("outbox.deliver_failed").kv("error", e.what());
            }
        }
        if (!rows.empty() || woken_) {
            continue;
        }
        // Nothing due: sleep until the earliest deferred row, or until woken.
        std::optional<checklist::epoch_seconds> next;
        try {
            next = store_.next_outbox_due();
        } catch (const std::exception& e) {
            log_error("outbox.read_failed").kv("error", e.what());
            next = now_() + 5;
        }
        if (next) {
            timer_->expires_after(
                std::chrono::seconds(std::max<checklist::epoch_seconds>(1, *next - now_())));
        } else {
            timer_->expires_at(net::steady_timer::time_point::max());
        }
        auto [ec] = co_await timer_->async_wait(use_nothrow_awaitable);
        (void)ec;  // cancelled by wake() or stop(): the loop looks again
    }
}

net::awaitable<void> notifier::deliver(storage::outbox_row row) {
    auto args = nlohmann::json::parse(row.body, nullptr, false);
    if (args.is_discarded() || !args.is_object()) {
        log_error("outbox.bad_row").kv("id", row.id).kv("key", row.dedupe_key);
        store_.mark_failed(row.id, "stored body is not a JSON object");
        co_return;
    }
    store_.mark_sending(row.id);
    api_result result;
    if (row.method == "response_url") {
        // The row's "channel" is the response_url; the body is the message as is.
        result = co_await api_.post_response_url(row.channel, std::move(args));
    } else {
        args["channel"] = row.channel;
        result = co_await api_.call(row.method, std::move(args), token_kind::bot);
    }
    auto now = now_();
    switch (result.outcome) {
        case api_outcome::ok: {
            auto ts = result.body.find("ts");
            store_.mark_sent(
                row.id, ts != result.body.end() && ts->is_string() ? ts->get<std::string>() : "",
                now);
            // A response_url is a credential: it is never logged.
            log_info("outbox.sent")
                .kv("key", row.dedupe_key)
                .kv("method", row.method)
                .kv("channel", row.method == "response_url" ? "response_url" : row.channel);
            co_return;
        }
        case api_outcome::rate_limited:
            store_.defer(row.id, now + std::max<long long>(1, result.retry_after.count()),
                         result.error);
            co_return;
        case api_outcome::slack_error:
            if (!is_transient_slack_error(result.error)) {
                store_.mark_failed(row.id, result.error);
                log_error("outbox.failed")
                    .kv("key", row.dedupe_key)
                    .kv("method", row.method)
                    .kv("channel", row.channel)
                    .kv("error", result.error);
                co_return;
            }
            break;
        case api_outcome::server_error:
        case api_outcome::network_error:
            break;
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto delay = std::chrono::duration_cast<std::chrono::seconds>(backoff_delay(
        row.attempts + 1, unit(rng_), std::chrono::seconds(2), std::chrono::minutes(5)));
    store_.defer(row.id, now + std::max<long long>(1, delay.count()), result.error);
    log_warn("outbox.retry")
        .kv("key", row.dedupe_key)
        .kv("error", result.error)
        .kv("retry_in_s", std::max<long long>(1, delay.count()));
}

}  // namespace relbot::bot
