#include "gateway/filter_lookup.h"

namespace portico::gateway {
namespace {

bool may_ask(const RequestContext& ctx, const MissLookup* lookup) {
  return lookup != nullptr && ctx.executor && !ctx.asked_control_plane;
}

// The session keeps the context alive while the filter is paused; `resume` holds it.
MissLookup::Done answer_to(RequestContext& ctx, const std::function<void()>& resume) {
  return [&ctx, resume](std::shared_ptr<const ApplicationRecord> record) {
    ctx.learned = std::move(record);
    resume();
  };
}

}  // namespace

const KeyMapping* find_client(const RequestContext& ctx, std::string_view client_id) {
  if (const KeyMapping* client = ctx.snapshot->clients.find(client_id)) return client;
  if (!ctx.learned) return nullptr;
  auto learned = ctx.learned->clients.find(client_id);
  return learned == ctx.learned->clients.end() ? nullptr : &learned->second;
}

const Application* find_application(const RequestContext& ctx, std::string_view application_id) {
  if (const Application* app = ctx.snapshot->applications.find(application_id)) return app;
  if (ctx.learned && ctx.learned->application.id == application_id)
    return &ctx.learned->application;
  return nullptr;
}

const Subscription* find_subscription(const RequestContext& ctx, std::string_view application_id,
                                      std::string_view api_id) {
  if (const Subscription* sub = ctx.snapshot->find_subscription(application_id, api_id)) return sub;
  if (!ctx.learned || ctx.learned->application.id != application_id) return nullptr;
  auto learned = ctx.learned->subscriptions.find(api_id);
  return learned == ctx.learned->subscriptions.end() ? nullptr : &learned->second;
}

bool ask_for_client(RequestContext& ctx, MissLookup* lookup, std::string_view client_id,
                    const std::function<void()>& resume) {
  if (!may_ask(ctx, lookup)) return false;
  ctx.asked_control_plane = true;
  return lookup->ask_for_client(client_id, ctx.executor, answer_to(ctx, resume));
}

bool ask_for_application(RequestContext& ctx, MissLookup* lookup, std::string_view application_id,
                         std::string_view api_id, const std::function<void()>& resume) {
  if (!may_ask(ctx, lookup)) return false;
  ctx.asked_control_plane = true;
  return lookup->ask_for_application(application_id, api_id, ctx.executor, answer_to(ctx, resume));
}

}  // namespace portico::gateway
