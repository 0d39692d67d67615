// The NATS bus's reader of a JetStream data stream: a pull consumer read by
// hand over core NATS (nats_pull_subscription.cpp).
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>

#include "tickflow/bus/bus.hpp"

namespace tickflow::bus::detail {

// The durable consumer every data stream has, which its one reader pulls from.
inline constexpr const char* kConsumer = "reader";

// Reads the consumer kConsumer of `stream` (the frames of `channel`): pull
// requests go to `api`.CONSUMER.MSG.NEXT on `nc`, the frames arrive on the
// subscription `inbox` (subject `inbox_subject`), `batch` frames a request.
// Takes `inbox`.
std::unique_ptr<Subscription> MakePullSubscription(natsConnection* nc, natsSubscription* inbox,
                                                   std::string inbox_subject, jsCtx* js, std::string stream,
                                                   std::string channel, const std::string& api, int batch);

}  // namespace tickflow::bus::detail
